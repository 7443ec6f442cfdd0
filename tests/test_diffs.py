"""Word diffs: what changed is marked, word by word, with a little context."""

from __future__ import annotations

import pytest

from flaskr.history.diffs import CONTEXT, MAX_WORD_TOKENS, word_diff

# What these tests check is the same on every database: CI runs them once, on SQLite.
pytestmark = pytest.mark.db_independent


def rendered(old: str, new: str) -> str:
    """The diff as text: [-removed-] and {+added+}, hunks joined by '...'."""
    parts = []
    for hunk in word_diff(old, new).hunks:
        text = ""
        for kind, chunk in hunk:
            text += {"same": "{}", "del": "[-{}-]", "add": "{{+{}+}}"}[kind].format(chunk)
        parts.append(text)
    return "...".join(parts)


def test_identical_texts_have_no_changes():
    diff = word_diff("one\ntwo", "one\ntwo")
    assert diff.hunks == [] and not diff.changed


def test_one_changed_word_marks_only_that_word():
    assert rendered("the quick fox", "the slow fox") == "the [-quick-]{+slow+} fox\n"


def test_adjacent_changed_words_read_as_one_change():
    assert rendered("one two three", "one 2 3") == "one [-two three-]{+2 3+}\n"


def test_punctuation_is_its_own_token():
    assert rendered("Hello, world.", "Hello; world.") == "Hello[-,-]{+;+} world.\n"


def test_added_and_removed_lines_are_whole():
    assert rendered("a\nb", "a\nb\nc") == "a\nb\n{+c\n+}"
    assert rendered("a\nb\nc", "a\nc") == "a\n[-b\n-]c\n"


def test_far_apart_changes_are_separate_hunks_with_context():
    old = "\n".join(f"line {n}" for n in range(20))
    new = old.replace("line 1\n", "line one\n").replace("line 18", "line eighteen")
    diff = word_diff(old, new)
    assert len(diff.hunks) == 2
    first = "".join(text for _, text in diff.hunks[0])
    assert first.count("\n") == 2 + CONTEXT  # line 0, line 1, then CONTEXT unchanged
    assert "line 10" not in rendered(old, new)


def test_unicode_words_are_words():
    assert rendered("καλή μέρα", "καλή νύχτα") == "καλή [-μέρα-]{+νύχτα+}\n"


def test_a_huge_replaced_block_is_shown_whole_not_compared_word_by_word():
    old = " ".join(["a"] * MAX_WORD_TOKENS)
    new = " ".join(["b"] * MAX_WORD_TOKENS)
    assert word_diff(old, new).hunks == [[("del", old + "\n"), ("add", new + "\n")]]
    # Just under the limit, words are compared.
    small_old, small_new = "a b c", "a x c"
    assert rendered(small_old, small_new) == "a [-b-]{+x+} c\n"


def test_repetitive_text_costs_little(tmp_path):
    # Without difflib's autojunk the matcher's cost grows with about the cube of
    # the length: these took 132 s (lines) and 6 s (words). A generous bound, so
    # only that kind of blow-up fails it, never a slow machine.
    import time

    started = time.perf_counter()
    lines = word_diff("a\n" * 2000, "a\nb\n" * 1000)
    words = word_diff(" ".join(["a"] * 500), " ".join(["a", "b"] * 250))
    assert time.perf_counter() - started < 5
    assert lines.changed and words.changed


def test_two_changes_around_one_space_are_one_change():
    assert rendered("a b", "x y") == "[-a b-]{+x y+}\n"


def test_a_replaced_block_of_several_lines_keeps_its_line_breaks():
    assert rendered("one\ntwo\nsame", "1\n2\nsame") == "[-one\ntwo-]{+1\n2+}\nsame\n"


def test_neighbours_of_one_kind_are_one_segment():
    for old, new in [("a\nb", "x\ny\nz"), ("a b c", "a x y c"), ("p\nq\nr", "p\nr\ns")]:
        for hunk in word_diff(old, new).hunks:
            kinds = [kind for kind, _ in hunk]
            assert all(x != y for x, y in zip(kinds, kinds[1:], strict=False)), (old, new)


def test_the_word_limit_counts_both_sides():
    from flaskr.history.diffs import _TOKEN

    # Exactly MAX_WORD_TOKENS tokens on the two sides together: still word by word.
    n = (MAX_WORD_TOKENS - 4) // 4
    old, new = "w " * n + "x", "w " * n + "y"
    total = len(_TOKEN.findall(old + "\n")) + len(_TOKEN.findall(new + "\n"))
    assert total == MAX_WORD_TOKENS
    assert word_diff(old, new).hunks[0][-1] == ("same", "\n")  # words compared: a shared end
    assert word_diff("w " + old, "w " + new).hunks[0][0][0] == "del"  # two more: whole


def test_a_long_unchanged_line_is_context_not_a_change():
    long_line = " ".join(["word"] * MAX_WORD_TOKENS)
    diff = word_diff(f"{long_line}\nold", f"{long_line}\nnew")
    assert diff.hunks[0][0] == ("same", long_line + "\n")
