"""Paging through the front page of a blog seeded with `flaskr demo-data`."""

from __future__ import annotations

import re

import pytest
from livesite import SEEDED_POSTS
from playwright.sync_api import expect


@pytest.fixture
def live_server(seeded_server):
    """The seeded blog, so other tests' posts don't change the page counts."""
    return seeded_server


def post_ids(page) -> list[int]:
    """The ids of the posts on the page, top to bottom, from their title links."""
    hrefs = page.get_by_role("article").get_by_role("heading").get_by_role("link")
    return [int(re.match(r"/(\d+)/", href).group(1)) for href in _hrefs(hrefs)]


def _hrefs(links) -> list[str]:
    return [links.nth(i).get_attribute("href") for i in range(links.count())]


def test_reader_pages_through_the_index_with_older_and_newer(page):
    """Older walks back through every post once, newest first; Newer walks forward again."""
    page.goto("/")
    pages = [post_ids(page)]
    expect(page.get_by_role("link", name="Newer")).to_have_count(0)
    page.get_by_role("link", name="Older").click()
    expect(page).to_have_url(re.compile(r"\?page=2$"))
    pages.append(post_ids(page))
    page.get_by_role("link", name="Older").click()
    expect(page).to_have_url(re.compile(r"\?page=3$"))
    pages.append(post_ids(page))
    expect(page.get_by_role("link", name="Older")).to_have_count(0)

    assert [len(ids) for ids in pages] == [10, 10, 5]
    walked = [post_id for ids in pages for post_id in ids]
    assert walked == sorted(walked, reverse=True)
    assert len(set(walked)) == SEEDED_POSTS

    page.get_by_role("link", name="Newer").click()
    expect(page).to_have_url(re.compile(r"\?page=2$"))
    assert post_ids(page) == pages[1]
    page.get_by_role("link", name="Newer").click()
    # The first page has one address, without ?page=1.
    expect(page).to_have_url(re.compile(r"/$"))
    assert post_ids(page) == pages[0]


def test_page_past_the_end_is_not_found(page):
    """A page number beyond the last page is a 404 page in the site's layout."""
    response = page.goto("/?page=99")
    assert response.status == 404
    expect(page.get_by_role("link", name="Flaskr")).to_be_visible()
