"""What changed between two texts, word by word, as people read a marked-up draft.

Lines are compared first (so a long post costs little); where lines were
replaced, their words are compared, so "line 2" against "line two" marks one
word, not two whole lines. Unchanged stretches keep CONTEXT lines on each side
and the rest is left out.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

#: Unchanged lines shown around each change.
CONTEXT = 3
#: Replaced blocks longer than this (in words, spaces and marks) are shown as
#: removed then added whole: comparing them word by word would cost too much.
MAX_WORD_TOKENS = 1000

_TOKEN = re.compile(r"\w+|\s+|[^\w\s]", re.UNICODE)


@dataclass
class Diff:
    """Changes as hunks; each hunk a list of (kind, text), kind 'same', 'add' or 'del'."""

    hunks: list[list[tuple[str, str]]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """True when anything was added or removed."""
        return any(kind != "same" for hunk in self.hunks for kind, _ in hunk)


def _lines(kind: str, lines: list[str]) -> list[tuple[str, str]]:
    return [(kind, "".join(line + "\n" for line in lines))] if lines else []


def _words(old: list[str], new: list[str]) -> list[tuple[str, str]]:
    """A replaced block, word by word."""
    a = _TOKEN.findall("\n".join(old) + "\n")
    b = _TOKEN.findall("\n".join(new) + "\n")
    if len(a) + len(b) > MAX_WORD_TOKENS:
        return _lines("del", old) + _lines("add", new)
    # autojunk (difflib's default, as unified_diff uses): without it, repetitive
    # text costs the matcher about the cube of its length (2,000 tokens: seconds).
    matcher = difflib.SequenceMatcher(None, a, b)
    runs = [
        (tag == "equal", "".join(a[i1:i2]), "".join(b[j1:j2]))
        for tag, i1, i2, j1, j2 in matcher.get_opcodes()
    ]
    segments: list[tuple[str, str]] = []
    pending: list[str] = ["", ""]  # the removed and added text of the change being built
    for index, (equal, old_text, new_text) in enumerate(runs):
        # A space between two changes belongs to them: "one two" -> "1 2" reads as
        # one replacement, not two with a kept space between. (Opcodes alternate:
        # an equal run inside the list has a change on each side.)
        between = 0 < index < len(runs) - 1
        if equal and not (between and old_text.isspace() and any(pending)):
            segments += _change(pending) + [("same", old_text)]
            pending = ["", ""]
        else:
            pending = [pending[0] + old_text, pending[1] + new_text]
    return segments + _change(pending)


def _change(pending: list[str]) -> list[tuple[str, str]]:
    removed, added = pending
    return ([("del", removed)] if removed else []) + ([("add", added)] if added else [])


def _merged(segments: list[tuple[str, str]]) -> list[tuple[str, str]]:
    # Neighbours of one kind (an added line after added words) are one segment.
    merged: list[tuple[str, str]] = []
    for kind, text in segments:
        if merged and merged[-1][0] == kind:
            merged[-1] = (kind, merged[-1][1] + text)
        else:
            merged.append((kind, text))
    return merged


def word_diff(old: str, new: str) -> Diff:
    """The changes from old to new, word by word, with CONTEXT unchanged lines around each."""
    a, b = old.splitlines(), new.splitlines()
    diff = Diff()
    # autojunk, as above: 2,000 identical lines took the matcher minutes without it.
    matcher = difflib.SequenceMatcher(None, a, b)
    for group in matcher.get_grouped_opcodes(CONTEXT):
        hunk: list[tuple[str, str]] = []
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                hunk += _lines("same", a[i1:i2])
            elif tag == "delete":
                hunk += _lines("del", a[i1:i2])
            elif tag == "insert":
                hunk += _lines("add", b[j1:j2])
            else:
                hunk += _words(a[i1:i2], b[j1:j2])
        diff.hunks.append(_merged(hunk))
    return diff
