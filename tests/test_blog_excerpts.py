"""Lists show a post's opening: up to the author's <!--more-->, else about 60 words."""

from __future__ import annotations

import pytest

from flaskr import markup
from flaskr.blog.excerpts import EXCERPT_WORDS, reading

LONG = " ".join(f"w{i}" for i in range(100))


def test_a_short_post_is_shown_whole_with_nothing_more():
    body = markup.render("Short &amp; *sweet*.")
    result = reading(body)
    assert result.excerpt == body and result.more is False and result.minutes == 1


def test_a_long_post_is_cut_after_the_limits_last_word_its_elements_closed():
    result = reading(markup.render(f"*{LONG}* tail\n\nsecond paragraph"))
    words = " ".join(f"w{i}" for i in range(EXCERPT_WORDS))
    assert result.excerpt == f"<p><em>{words}\u2026</em></p>"
    assert result.more is True


def test_exactly_the_limit_is_whole():
    body = markup.render(" ".join(["word"] * EXCERPT_WORDS))
    assert reading(body).more is False


def test_a_cut_inside_a_list_closes_the_item_and_the_list():
    body = markup.render("Intro\n\n- a\n- " + " ".join(["b"] * 80) + "\n\nafter")
    excerpt = reading(body).excerpt
    assert excerpt.endswith("b\u2026</li></ul>") and "after" not in excerpt


def test_the_authors_more_marker_ends_the_excerpt_wherever_it_is():
    body = markup.render("One.\n\n<!-- more -->\n\n" + LONG)
    result = reading(body)
    assert result.excerpt == "<p>One.</p>\n" and result.more is True


@pytest.mark.parametrize(
    "source",
    [
        "A sentence with <!--more--> inside it.",
        "```\n<!--more-->\n```",
        "> <!--more-->",
    ],
    ids=["inline", "code", "quote"],
)
def test_the_marker_counts_only_as_a_paragraph_of_its_own(source):
    rendered = markup.render(source)
    assert markup.MORE not in rendered and "&lt;!--more--&gt;" in rendered


def test_the_marker_is_not_shown_to_readers_of_the_whole_post():
    rendered = markup.render("One.\n\n<!--more-->\n\nTwo.")
    assert rendered == "<p>One.</p>\n<!--more--><p>Two.</p>\n"


@pytest.mark.parametrize(("words", "minutes"), [(1, 1), (230, 1), (231, 2), (700, 4)])
def test_reading_time_rounds_up_to_whole_minutes(words, minutes):
    assert reading(markup.render(" ".join(["word"] * words))).minutes == minutes


def test_lists_show_the_excerpt_and_the_posts_page_the_whole(client, make_user, make_post):
    make_post(make_user("ann"), title="Long one", body=f"{LONG}\n\nThe very end.", tags="t")
    make_post(1, title="Brief", body="All of it.")
    index = client.get("/").get_data(as_text=True)
    assert "The very end." not in index and "w59\u2026" in index
    assert index.count("Continue reading") == 1
    assert '<a href="/1/long-one">Continue reading<span class="visually-hidden">' in index
    assert "All of it." in index and "1 min read" in index
    for path in ("/tag/t", "/u/ann"):
        listed = client.get(path).get_data(as_text=True)
        assert "w59\u2026" in listed and "The very end." not in listed
    # Search results show where the words were found instead of the opening, and
    # the same link on.
    found = client.get("/search?q=w80").get_data(as_text=True)
    assert "<mark>w80</mark>" in found and "The very end." not in found
    assert "by ann on" in found
    assert '<a href="/1/long-one">Continue reading<span class="visually-hidden">' in found
    whole = client.get("/1/long-one").get_data(as_text=True)
    assert "The very end." in whole and "Continue reading" not in whole


def test_feeds_carry_the_whole_post(client, make_user, make_post):
    make_post(make_user("ann"), title="Long one", body=f"{LONG}\n\n<!--more-->\n\nThe very end.")
    assert "The very end." in client.get("/feed.atom").get_data(as_text=True)
