"""What a search result shows of the text it found: the words searched for marked,
in a whole title or in a short snippet of a post or comment around them.

Made here, in Python, for both databases. FTS5's snippet() and PostgreSQL's
ts_headline() tokenize the whole text for every result: ts_headline took 47
microseconds for a 470-character post and 2.5 ms for a 20,000-character one,
so a page of long posts spent 25 ms on its snippets. Here a regular
expression finds the first few matches, and only the words around the chosen
one are split out and marked, whatever the text's length.

A word matches when it has the stem of a searched word, stemmed as the
database's index stems it (SQLite's FTS5: Porter; PostgreSQL's "english"
configuration: Snowball's English), so "foxes" is marked for "fox".
"""

from __future__ import annotations

import re
import threading
import unicodedata
from functools import cache, lru_cache
from typing import Any

import snowballstemmer

from flaskr.search import terms

#: Highlight markers put around matched words; turned into <mark> after escaping.
START, STOP = "\x02", "\x03"
#: Words in a snippet, as FTS5's snippet() was asked for.
SNIPPET_WORDS = 24
#: Words shown before the first match, so it is read in context.
LEAD_WORDS = 4
#: How far around the first match words are looked for (characters).
LEAD_CHARS, SNIPPET_CHARS = 60, 240
#: Matches looked at to choose where a snippet of several searched words goes.
MATCHES_LOOKED_AT = 16
ELLIPSIS = "\u2026"
_TEXT = re.compile(r"\S")


@lru_cache(maxsize=20_000)
def _stem(algorithm: str, word: str) -> str:
    # Pure-Python Snowball costs 13-20 microseconds a word; a blog's vocabulary
    # repeats, so each word is stemmed once per process.
    stemmer = _stemmer(algorithm)
    word = word.lower()
    if algorithm == FOLDING:
        word = word.translate(_FOLDED)
    with _STEMMING:  # a stemmer keeps its word in itself while it works
        return str(stemmer.stemWord(word))


#: The stemming whose index folds diacritics, FTS5's unicode61 tokenizer: "cafe"
#: finds "café" (PostgreSQL's "english" configuration keeps them).
FOLDING = "porter"
#: Latin letters with a diacritic -> their base letter, one character for one, so
#: that places in a folded text are places in the text.
_FOLDED = {
    code: base
    for code in range(0xC0, 0x250)
    if (base := unicodedata.normalize("NFKD", chr(code))[0]) != chr(code) and base.isascii()
}

_STEMMING = threading.Lock()


@cache
def _stemmer(algorithm: str) -> Any:
    return snowballstemmer.stemmer(algorithm)


@lru_cache(maxsize=256)
def highlighter(query: str, algorithm: str) -> Highlighter:
    """The Highlighter of a search, kept for the searches made most recently (a
    popular search, or its next page, finds its words' stems ready)."""
    return Highlighter(query, algorithm)


class Highlighter:
    """The words of one search, ready to be marked in the texts it found."""

    def __init__(self, query: str, algorithm: str) -> None:
        self.algorithm = algorithm
        words = {word for phrase in terms.phrases(query) for word in phrase.split()}
        self.stems = frozenset(_stem(algorithm, word) for word in words)
        # Where a word with one of the stems may start. A stem is not always a
        # prefix of the words that have it ("pony" -> "poni", "hoping" -> "hope"):
        # two letters fewer always are, and each candidate is checked by its stem.
        starts = {stem[: max(2, len(stem) - 2)] for stem in self.stems}
        pattern = "|".join(sorted(map(re.escape, starts), key=len, reverse=True))
        # Looked for in the lowercased text, with no \b: a case-sensitive literal
        # start lets the regular expression engine skip ahead to it, three times
        # faster than IGNORECASE and \b. Where a word starts is checked after.
        self._candidates = re.compile(f"(?:{pattern})\\w*") if starts else None
        #: candidate word -> its stem if it is one searched for, else None.
        self._seen: dict[str, str | None] = {}

    def _matches(self, text: str, limit: int = 0) -> list[tuple[int, int, str]]:
        """(start, end, stem) of the words in text with a searched stem, the first
        `limit` of them if limit is set."""
        found: list[tuple[int, int, str]] = []
        if self._candidates is None:
            return found
        lower = text.lower()
        if len(lower) != len(text):
            # A letter whose lowercase is longer ("İ"): places in `lower` are not
            # places in text. Rare enough to go letter by letter.
            lower = "".join(letter.lower()[0] for letter in text)
        if self.algorithm == FOLDING and not lower.isascii():
            lower = lower.translate(_FOLDED)
        seen = self._seen
        for candidate in self._candidates.finditer(lower):
            start, end = candidate.span()
            if start and (lower[start - 1].isalnum() or lower[start - 1] == "_"):
                continue  # inside a word, not at its start
            word = lower[start:end]
            if word not in seen:
                stemmed = _stem(self.algorithm, word)
                seen[word] = stemmed if stemmed in self.stems else None
            stem = seen[word]
            if stem is not None:
                found.append((start, end, stem))
                if len(found) == limit:
                    break
        return found

    def _marked(self, text: str) -> str:
        """text with each word that has a searched stem between the markers."""
        parts: list[str] = []
        last = 0
        for start, end, _ in self._matches(text):
            parts += (text[last:start], START, text[start:end], STOP)
            last = end
        parts.append(text[last:])
        return "".join(parts)

    def whole(self, text: str | None) -> str:
        """All of text, each matching word between the START and STOP markers."""
        clean = _unmarked(text or "")
        return self._marked(clean)

    def snippet(self, text: str | None) -> str:
        """About SNIPPET_WORDS words of text where the most searched words are close
        together (its start if none is in it), matches marked, cuts shown by an
        ellipsis. Runs of spaces and line breaks show as one space."""
        clean = _unmarked(text or "")
        # One word searched: its first match is the best place.
        matches = self._matches(clean, 1 if len(self.stems) == 1 else MATCHES_LOOKED_AT)
        anchor = _best_anchor(matches)
        # From the start of the match's word as written: "(fox)" is one word.
        begun = max(0, anchor - LEAD_CHARS)
        while anchor > begun and not clean[anchor - 1].isspace():
            anchor -= 1
        # Only the characters near the anchor are split into words, never the whole
        # text; a snippet of long words (addresses, code) has fewer of them.
        low = max(0, anchor - LEAD_CHARS)
        before = clean[low:anchor].split()
        if low > 0 and before and not clean[low - 1].isspace():
            before = before[1:]  # the slice began inside a word
        lead = before[-LEAD_WORDS:]
        reach = anchor + SNIPPET_CHARS
        found = clean[anchor:reach].split()
        wanted = SNIPPET_WORDS - len(lead)
        if len(found) > wanted:
            rest = found[:wanted]
        elif found and 0 < reach < len(clean) and not clean[reach].isspace():
            rest = found[:-1]  # the slice may have cut its last word
        else:
            rest = found
        more = len(rest) < len(found) or _TEXT.search(clean, reach) is not None
        shown = " ".join(lead + rest)
        shown = self._marked(shown)
        cut_before = len(lead) < len(before) or _TEXT.search(clean, 0, low) is not None
        return (ELLIPSIS if cut_before else "") + shown + (ELLIPSIS if more else "")


def _unmarked(text: str) -> str:
    """text without the markers, should it hold them: they would forge a <mark>."""
    if START in text or STOP in text:
        return text.replace(START, "").replace(STOP, "")
    return text


def _best_anchor(matches: list[tuple[int, int, str]]) -> int:
    """Where the snippet centres: the match followed by the most different searched
    words within a snippet's reach (the first such), or the start of the text."""
    if not matches:
        return 0
    reach = 8 * SNIPPET_WORDS  # characters: about a snippet's worth of words
    best, best_count = matches[0][0], 0
    within: dict[str, int] = {}  # stems of the matches in reach of the i-th, counted
    following = 0
    for start, _, stem in matches:
        while following < len(matches) and matches[following][0] < start + reach:
            ahead = matches[following][2]
            within[ahead] = within.get(ahead, 0) + 1
            following += 1
        if len(within) > best_count:
            best, best_count = start, len(within)
        within[stem] -= 1
        if not within[stem]:
            del within[stem]
    return best
