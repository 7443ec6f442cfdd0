"""What a search result shows of its text: search.snippets, on its own."""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from flaskr.search.snippets import (
    ELLIPSIS,
    LEAD_WORDS,
    SNIPPET_WORDS,
    START,
    STOP,
    Highlighter,
)

ALGORITHMS = ("porter", "english")


def marked_words(text: str) -> list[str]:
    return re.findall(f"{START}(.*?){STOP}", text)


def plain(text: str) -> str:
    return text.replace(START, "").replace(STOP, "").strip(ELLIPSIS)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_words_with_the_stem_of_a_searched_word_are_marked(algorithm):
    words = Highlighter("fox", algorithm)
    shown = words.whole("Foxes and a fox; the FOX's den, foxglove and firefox")
    assert marked_words(shown) == ["Foxes", "fox", "FOX"]


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_a_stem_that_is_not_a_prefix_of_its_word_still_finds_it(algorithm):
    # "pony" stems to "poni" and "hoping" to "hope": neither is where the word starts.
    words = Highlighter('ponies "hoping"', algorithm)
    shown = words.whole("A pony, two ponies; hope and hoping; pond, hop")
    assert marked_words(shown) == ["pony", "ponies", "hope", "hoping"]


def test_nothing_is_marked_for_a_query_without_words():
    words = Highlighter('"" ---', "porter")
    assert words.whole("a <b> text") == "a <b> text"
    assert words.snippet("a <b> text") == "a <b> text"


def test_marker_characters_in_a_text_never_forge_a_mark():
    words = Highlighter("owl", "porter")
    forged = f"{START}fake{STOP} and an owl"
    assert marked_words(words.whole(forged)) == ["owl"]
    assert marked_words(words.snippet(forged)) == ["owl"]


def test_a_snippet_shows_the_words_around_the_first_match_far_into_a_text():
    text = " ".join(f"w{n}" for n in range(5_000)) + " the heron stood " + "z " * 5_000
    shown = Highlighter("heron", "porter").snippet(text)
    assert shown.startswith(ELLIPSIS) and shown.endswith(ELLIPSIS)
    words = plain(shown).split()
    assert words[: LEAD_WORDS + 1] == ["w4997", "w4998", "w4999", "the", "heron"]
    assert len(words) == SNIPPET_WORDS
    assert marked_words(shown) == ["heron"]


def test_a_text_without_a_match_shows_its_start():
    text = "First words of the post. " * 20
    shown = Highlighter("heron", "porter").snippet(text)
    assert not shown.startswith(ELLIPSIS) and shown.endswith(ELLIPSIS)
    assert plain(shown).split() == text.split()[:SNIPPET_WORDS]


def test_a_short_text_is_shown_whole_without_ellipses():
    assert Highlighter("heron", "porter").snippet("A heron.\n\nThe end.") == (
        f"A {START}heron{STOP}. The end."
    )


def test_the_snippet_goes_where_the_searched_words_are_together():
    lone, together = "a lone moth ", "an owl and a moth here "
    text = "owl " + "x " * 300 + lone + "y " * 300 + together + "z " * 300
    shown = Highlighter("owl moth", "porter").snippet(text)
    assert marked_words(shown) == ["owl", "moth"]
    assert "an" in plain(shown).split()


@given(
    st.lists(
        st.sampled_from(["fox", "foxes", "Fox.", "box", "(fox)", "a", "the", "foxglove", "x" * 30]),
        max_size=400,
    ),
    st.sampled_from([" ", "\n", "  \t"]),
)
@example(["a", "(fox)", "b"], " ")  # a match inside a word as written
@example(["fox"] + ["x" * 30] * 20, " ")  # long words: the slice ends inside one
@example(["x" * 30] * 5 + ["fox"], " ")  # the slice before the match begins inside one
def test_a_snippet_is_whole_words_of_the_text_in_order(words, space):
    text = space.join(words)
    shown = Highlighter("fox", "porter").snippet(text)
    found = plain(shown).split()
    assert len(found) <= SNIPPET_WORDS
    everything = text.split()
    # A run of the text's own words: none cut, none skipped.
    assert any(everything[n : n + len(found)] == found for n in range(len(everything) + 1))
    assert shown.count(START) == shown.count(STOP)
    assert shown.startswith(ELLIPSIS) == (bool(found) and everything[: len(found)] != found)


def test_an_ellipsis_ends_a_snippet_whose_text_goes_on():
    # The words looked at end exactly between two words: what follows still shows.
    text = "fox " + "y" * 235 + "  more words"
    shown = Highlighter("fox", "porter").snippet(text)
    assert shown == f"{START}fox{STOP} {'y' * 235}{ELLIPSIS}"


def test_accents_are_folded_where_the_index_folds_them():
    # SQLite's FTS5 (unicode61) finds "café" for "cafe"; PostgreSQL's "english" does not.
    text = "Un café à Zürich, a cafe"
    assert marked_words(Highlighter("cafe zurich", "porter").whole(text)) == [
        "café",
        "Zürich",
        "cafe",
    ]
    assert marked_words(Highlighter("cafe zurich", "english").whole(text)) == ["cafe"]
    # And the other way round: what is searched for is folded too.
    assert marked_words(Highlighter("Café", "porter").whole(text)) == ["café", "cafe"]
