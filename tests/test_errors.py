"""Error pages in the site's layout, and paging through the index."""

from __future__ import annotations

import re

import pytest

PW = "a long enough pw"


def _error_page(response, code: int) -> str:
    assert response.status_code == code
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert 'class="site-nav"' in page, page  # the site's layout, with its navigation
    assert re.search(rf"<h1>{code} [A-Z]", page), page
    assert "Traceback" not in page and "werkzeug" not in page.lower()
    return page


def test_400_page(client):
    page = _error_page(client.get("/?page=1%00"), 400)
    assert "not allowed" in page


def test_403_page(client, auth, make_user, make_post):
    alice = make_user("alice", PW)
    make_user("bob", PW)
    make_post(alice)
    auth.login("bob", PW)
    page = _error_page(client.get("/1/update"), 403)
    assert "permission" in page
    assert "bob" in page  # still signed in on the error page


def test_404_page(client):
    page = _error_page(client.get("/no/such/page"), 404)
    assert "nothing at this address" in page


def test_404_for_a_missing_post(client, auth, make_user):
    make_user("alice", PW)
    auth.login("alice", PW)
    _error_page(client.get("/999/"), 404)
    _error_page(client.get("/999/update"), 404)


def test_405_page(client):
    _error_page(client.get("/auth/account/password"), 405)


def test_413_page(make_app):
    client = make_app(MAX_CONTENT_LENGTH=1000).test_client()
    page = _error_page(client.post("/auth/register", data={"bio": "x" * 2000}), 413)
    assert "too large" in page


def test_429_page(make_app):
    client = make_app(RATELIMIT_ENABLED=True, RATELIMIT_LOGIN="1 per minute").test_client()
    client.post("/auth/login", data={"username": "a", "password": "b"})
    response = client.post("/auth/login", data={"username": "a", "password": "b"})
    page = _error_page(response, 429)
    assert "Too many attempts" in page
    assert int(response.headers["Retry-After"]) > 0


def test_500_page_shows_no_traceback(make_app):
    app = make_app(PROPAGATE_EXCEPTIONS=False)

    def broken():
        raise RuntimeError("secret internals")

    app.add_url_rule("/broken", "broken", broken)
    page = _error_page(app.test_client().get("/broken"), 500)
    assert "secret internals" not in page


# --- paging -----------------------------------------------------------------------


@pytest.fixture
def paged(make_app, make_user, make_post):
    """A client of an app showing 3 posts a page, with posts 1..7 (7 the newest)."""
    author = make_user("alice", PW)
    for number in range(1, 8):
        make_post(author, title=f"Post number {number}")
    return make_app(POSTS_PER_PAGE=3).test_client()


def _titles(response) -> list[int]:
    return [int(n) for n in re.findall(r"Post number (\d+)", response.get_data(as_text=True))]


def _link(response, rel: str) -> str | None:
    match = re.search(rf'<a rel="{rel}" href="([^"]+)"', response.get_data(as_text=True))
    return match.group(1) if match else None


def test_index_pages_newest_first_with_newer_and_older_links(paged):
    first = paged.get("/")
    assert _titles(first) == [7, 6, 5]
    assert _link(first, "prev") is None
    assert _link(first, "next") == "/?page=2"
    second = paged.get("/?page=2")
    assert _titles(second) == [4, 3, 2]
    assert _link(second, "prev") == "/"
    assert _link(second, "next") == "/?page=3"
    third = paged.get(_link(second, "next"))
    assert _titles(third) == [1]
    assert _link(third, "prev") == "/?page=2"
    assert _link(third, "next") is None


@pytest.mark.parametrize("page", ["0", "-1", "abc", "99999", "1.5", "", "٣", "4", "9" * 30])
def test_bad_page_number_is_a_404(paged, page):
    response = paged.get(f"/?page={page}")
    assert response.status_code == 404


def test_empty_index_is_a_page_not_an_error(client):
    response = client.get("/")
    assert response.status_code == 200
    assert _link(response, "next") is None
    assert client.get("/?page=2").status_code == 404


def test_default_page_size_is_ten(client, make_user, make_post):
    author = make_user("alice", PW)
    for number in range(1, 12):
        make_post(author, title=f"Post number {number}")
    assert len(_titles(client.get("/"))) == 10
    assert _titles(client.get("/?page=2")) == [1]
