"""The reader's theme: chosen with a plain form, kept in a cookie, named on every page."""

from __future__ import annotations

import re

import pytest


def html_theme(page: bytes) -> str | None:
    found = re.search(rb'<html lang="en"(?: data-theme="(\w+)")?>', page)
    assert found is not None
    return found.group(1).decode() if found.group(1) else None


def pressed(page: bytes) -> list[str]:
    return [m.decode() for m in re.findall(rb'value="(\w+)" aria-pressed="true"', page)]


def test_pages_follow_the_device_until_a_reader_chooses(client):
    page = client.get("/").data
    assert html_theme(page) is None
    assert pressed(page) == ["system"]


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_choosing_a_theme_keeps_it_in_a_cookie_and_goes_back(client, theme):
    response = client.post("/theme", data={"theme": theme, "next": "/tags?x=1"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/tags?x=1"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"theme={theme};")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Max-Age=31536000" in cookie
    page = client.get("/tags").data
    assert html_theme(page) == theme
    assert pressed(page) == [theme]


def test_choosing_system_forgets_the_choice(client):
    client.post("/theme", data={"theme": "dark", "next": "/"})
    response = client.post("/theme", data={"theme": "system", "next": "/"})
    assert "theme=;" in response.headers["Set-Cookie"]
    assert html_theme(client.get("/").data) is None


def test_works_with_csrf_on_and_without_a_session(make_app):
    # The form is on pages kept for every reader: no token, and no session made.
    client = make_app(WTF_CSRF_ENABLED=True).test_client()
    response = client.post("/theme", data={"theme": "dark", "next": "/"})
    assert response.status_code == 303
    assert "session=" not in response.headers.get("Set-Cookie", "")


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site"},
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "cors"},
    ],
)
def test_a_request_from_another_site_is_refused(client, headers):
    response = client.post("/theme", data={"theme": "dark"}, headers=headers)
    assert response.status_code == 403
    assert "Set-Cookie" not in response.headers


def test_this_site_s_own_form_is_accepted(client):
    headers = {
        "Origin": "http://localhost",
        "Sec-Fetch-Site": "same-origin",
        "Sec-Fetch-Mode": "navigate",
        "Sec-Fetch-Dest": "document",
    }
    assert client.post("/theme", data={"theme": "dark"}, headers=headers).status_code == 303


@pytest.mark.parametrize("value", ["", "blue", "dark ", "DARK"])
def test_an_unknown_theme_is_a_400_that_says_what_to_choose(client, value):
    response = client.post("/theme", data={"theme": value})
    assert response.status_code == 400
    assert b"Choose a theme: system, light or dark." in response.data
    assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil", ""])
def test_never_an_open_redirect(client, target):
    response = client.post("/theme", data={"theme": "dark", "next": target})
    assert response.headers["Location"] == "/"


def test_a_forged_cookie_value_is_the_device_s_theme(client):
    client.set_cookie("theme", "<script>")
    page = client.get("/").data
    assert html_theme(page) is None and b"<script>" not in page


def test_kept_pages_are_kept_per_theme(client, make_user, make_post):
    make_post(make_user("ann"), title="Hello")
    seen = {}
    for _ in range(3):  # made, kept, then answered before Flask runs
        for theme in (None, "light", "dark", "blue"):
            if theme is None:
                client.delete_cookie("theme")
            else:
                client.set_cookie("theme", theme)
            page = client.get("/").data
            seen.setdefault(theme, set()).add(html_theme(page))
    assert seen == {None: {None}, "light": {"light"}, "dark": {"dark"}, "blue": {None}}


def _raw_get(app, cookie: str | None) -> bytes:
    """GET / with this Cookie header as sent (the test client rewrites Cookie headers)."""
    from werkzeug.test import EnvironBuilder, run_wsgi_app

    environ = EnvironBuilder(path="/").get_environ()
    if cookie is not None:
        environ["HTTP_COOKIE"] = cookie
    body, _status, _headers = run_wsgi_app(app, environ)
    return b"".join(body)


def test_a_cookie_werkzeug_reads_with_spaces_is_kept_as_that_theme(app, make_user, make_post):
    # "theme =dark" is the dark theme to Flask; the page cache must read it alike,
    # or the dark page would be answered to every reader without a cookie.
    make_post(make_user("ann"), title="Hello")
    for _ in range(3):
        assert html_theme(_raw_get(app, "theme =dark")) == "dark"
        assert html_theme(_raw_get(app, None)) is None


def test_the_raw_header_is_read_as_flask_reads_it():
    from flaskr.appearance.themes import theme_of_header

    assert theme_of_header("theme =dark") == "dark"
    assert theme_of_header("a=1; theme=light") == "light"
    assert theme_of_header("a=1") is None and theme_of_header("") is None
    assert theme_of_header("theme=blue") is None


def test_the_page_cache_never_answers_a_page_kept_for_another_theme(
    app, make_user, make_post, monkeypatch
):
    # Should the two readings of the cookie ever disagree again, a page kept for
    # a chosen theme is still never answered to readers who chose none.
    from flaskr.appearance import themes

    monkeypatch.setattr(themes, "theme_of_header", lambda header: None)
    make_post(make_user("ann"), title="Hello")
    for _ in range(3):
        _raw_get(app, "theme =dark")
        assert html_theme(_raw_get(app, None)) is None
