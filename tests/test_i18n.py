"""Languages: pages in the reader's language, posts that say theirs, dates as readers read them."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from flaskr.config import ConfigError
from flaskr.i18n import negotiate


def html_lang(page: bytes) -> str:
    found = re.search(rb'<html lang="([^"]+)"', page)
    assert found, page[:200]
    return found.group(1).decode()


# --- which language -------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("", "en"),
        ("de", "de"),
        ("de-AT,de;q=0.9,en;q=0.8", "de"),
        ("fr-FR,fr;q=0.9", "en"),  # not translated: the site's language
        ("fr,de;q=0.5,en;q=0.4", "de"),
        ("en;q=0.9,de", "de"),
        ("de;q=0,en", "en"),  # q=0: "not this one"
        ("*", "en"),
        ("x" * 300, "en"),  # too long to remember, still answered
        ("de," + "x" * 300, "de"),
    ],
)
def test_the_browser_s_language_is_matched_to_a_translation(header, expected):
    assert negotiate(header, "en") == expected


def test_anonymous_readers_get_the_language_their_browser_asks_for(client):
    english = client.get("/", headers={"Accept-Language": "en-US,en;q=0.9"})
    german = client.get("/", headers={"Accept-Language": "de-DE,de;q=0.9"})
    assert html_lang(english.data) == "en" and b"No posts yet." in english.data
    assert html_lang(german.data) == "de" and "Noch keine Beiträge." in german.text
    assert "Accept-Language" in german.headers["Vary"]
    assert ">Anmelden</a>" in german.text and ">Log In</a>" in english.text


def test_the_site_language_is_what_a_browser_without_a_match_gets(make_app):
    app = make_app(LANGUAGE="de")
    client = app.test_client()
    assert html_lang(client.get("/").data) == "de"
    assert html_lang(client.get("/", headers={"Accept-Language": "fr"}).data) == "de"
    assert html_lang(client.get("/", headers={"Accept-Language": "en"}).data) == "en"


@pytest.mark.parametrize("setting", [{"LANGUAGE": "fr"}, {"TIMEZONE": "Mars/Olympus"}])
def test_a_site_language_or_zone_flaskr_cannot_show_stops_the_start(make_app, setting):
    with pytest.raises(ConfigError):
        make_app(**setting)


def test_a_signed_in_reader_s_own_language_wins_over_the_browser(client, auth):
    auth.register()
    auth.login()
    page = client.get("/auth/account", headers={"Accept-Language": "de"})
    assert "Dein Konto" in page.text  # no choice yet: the browser's
    response = client.post(
        "/auth/account/profile",
        data={"bio": "", "timezone": "UTC", "language": "de"},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 302
    page = client.get("/", headers={"Accept-Language": "en"})
    assert html_lang(page.data) == "de" and "Neuer Beitrag" not in page.text
    assert ">Abmelden</button>" in page.text
    client.post("/auth/account/profile", data={"bio": "", "timezone": "UTC", "language": ""})
    assert html_lang(client.get("/", headers={"Accept-Language": "en"}).data) == "en"


@pytest.mark.parametrize("language", ["fr", "xx", "de-DE", "<b>"])
def test_a_language_not_on_the_list_is_refused_and_nothing_is_saved(client, auth, app, language):
    auth.register()
    auth.login()
    response = client.post(
        "/auth/account/profile", data={"bio": "new bio", "timezone": "UTC", "language": language}
    )
    assert response.status_code == 400
    assert b"Choose a language from the list." in response.data
    from flaskr.auth import queries

    with app.app_context():
        user = queries.find_user_by_name("test")
        assert user["language"] == "" and user["bio"] == ""


def test_the_tutorial_s_messages_stay_exactly_as_they_are_in_english(client):
    response = client.post("/auth/register", data={"username": "", "password": ""})
    assert b"Username is required." in response.data
    response = client.post(
        "/auth/register",
        data={"username": "", "password": ""},
        headers={"Accept-Language": "de"},
    )
    assert "Benutzername ist erforderlich." in response.text


def test_messages_made_of_parts_are_translated_whole(client, auth):
    auth.register()
    auth.login()
    response = client.post(
        "/create", data={"title": "", "body": "x"}, headers={"Accept-Language": "de"}
    )
    assert "Titel ist erforderlich." in response.text
    response = client.post("/create", data={"title": "", "body": "x"})
    assert b"Title is required." in response.data


# --- templates compiled per language -------------------------------------------


def test_each_language_keeps_its_own_compiled_pages_whichever_came_first(client):
    # Constant messages are written into a template when it compiles: a copy
    # compiled for one language must never serve another.
    for header, words in [("de", "Anmelden"), ("en", "Log In"), ("de", "Anmelden")] * 2:
        page = client.get("/auth/login", headers={"Accept-Language": header})
        assert f">{words}</" in page.text, header
        assert html_lang(page.data) == header


def test_compiled_pages_are_found_by_language_and_reloaded_when_reloading_is_on(app):
    env = app.jinja_env
    with app.test_request_context(headers={"Accept-Language": "de"}):
        german = env.get_template("base.html")
        assert env.get_template("base.html") is german
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert env.get_template("base.html") is not german
    # TEMPLATES_AUTO_RELOAD: a template whose file changed is compiled again.
    env.auto_reload = True
    with app.test_request_context(headers={"Accept-Language": "de"}):
        german = env.get_template("base.html")
        german._uptodate = lambda: False  # as Jinja's loader says of an edited file
        assert env.get_template("base.html") is not german


def test_constant_messages_cost_no_call_and_messages_with_values_still_do(app):
    calls = []

    def counting(message, **values):
        calls.append(message)
        return message % values if values else message

    source = (
        '{{ _("Log In") }}|{{ gettext("Search") }}|{{ _("Page %(number)d", number=2) }}'
        '|{{ other._("Search") }}|{{ _("Search", x=1) }}|{{ _("Log In") if flag else "-" }}'
    )

    class Other:
        _ = staticmethod(counting)

    with app.test_request_context(headers={"Accept-Language": "de"}):
        template = app.jinja_env.from_string(source)
        out = template.render(_=counting, gettext=counting, other=Other(), flag=True)
    assert out.split("|") == ["Anmelden", "Suche", "Page 2", "Search", "Search", "Anmelden"]
    # Only the message with a value, the attribute call and the one with an argument ran.
    assert calls == ["Page %(number)d", "Search", "Search"]


def test_a_constant_message_is_markup_as_gettext_returns_it(app):
    # The same as the call gave: trusted (not escaped again) where the template
    # autoescapes, plain text where it does not.
    with app.test_request_context():
        escaped = app.jinja_env.from_string('{{ _("A & B") }}').render()
        plain = app.jinja_env.overlay(autoescape=False).from_string('{{ _("A & B") }}').render()
    assert escaped == "A & B" and plain == "A & B"


@pytest.mark.parametrize(
    ("language", "count", "expected"),
    [
        ("en", 1, "1 comment"),
        ("en", 2, "2 comments"),
        ("de", 1, "1 Kommentar"),
        ("de", 2, "2 Kommentare"),
    ],
)
def test_counts_on_readers_pages_are_said_in_the_reader_s_language(app, language, count, expected):
    from flaskr.comments.services import count_text
    from flaskr.i18n import speaking

    with app.test_request_context("/", headers={"Accept-Language": language}):
        assert count_text(count) == expected
    with app.app_context(), speaking(language):  # mail and feeds: the language they are in
        assert count_text(count) == expected


def test_error_pages_speak_the_reader_s_language(client):
    page = client.get("/no/such/page", headers={"Accept-Language": "de"})
    assert page.status_code == 404
    assert "<h1>404 Nicht gefunden</h1>" in page.text
    assert "Unter dieser Adresse gibt es nichts." in page.text
    assert "<h1>404 Not Found</h1>" in client.get("/no/such/page").text


def test_the_plain_error_page_names_its_language(make_app):
    app = make_app(TRUSTED_HOSTS=["blog.example"])
    page = app.test_client().get("/", headers={"Host": "evil.example", "Accept-Language": "de"})
    assert page.status_code == 400
    assert html_lang(page.data) == "de" and "Ungültige Anfrage" in page.text


# --- the page cache keeps each language apart -----------------------------------------


def test_kept_pages_are_kept_per_language(client, make_user, make_post):
    make_post(make_user("ann"), title="Hello")
    seen: dict[str, set[str]] = {}
    for _ in range(3):  # made, kept, then answered before Flask runs
        for header in ("en", "de", "de-CH", "fr", ""):
            page = client.get("/", headers={"Accept-Language": header})
            seen.setdefault(header, set()).add(html_lang(page.data))
    assert seen == {"en": {"en"}, "de": {"de"}, "de-CH": {"de"}, "fr": {"en"}, "": {"en"}}


def test_a_page_kept_in_one_language_is_never_sent_in_another_before_flask_runs(
    app, make_post, make_user
):
    from werkzeug.test import EnvironBuilder, run_wsgi_app

    make_post(make_user("ann"), title="Hello")

    def get(accept_language: str) -> str:
        environ = EnvironBuilder(
            path="/", headers={"Accept-Language": accept_language}
        ).get_environ()
        body, _status, _headers = run_wsgi_app(app, environ)
        return html_lang(b"".join(body))

    for _ in range(3):
        assert get("de") == "de"
        assert get("en") == "en"


# --- posts declare their language -----------------------------------------------------


def _post_page(client, post_id: int, **headers: str) -> str:
    return client.get(f"/{post_id}/", headers=headers, follow_redirects=True).text


def test_a_post_in_another_language_says_so_in_lang_dir_and_hreflang(client, auth, app):
    auth.register()
    auth.login()
    client.post("/create", data={"title": "مرحبا", "body": "نص", "language": "ar"})
    client.post("/create", data={"title": "Plain", "body": "Text"})
    index = client.get("/", headers={"Accept-Language": "en"}).text
    assert '<h2 lang="ar" dir="rtl"><a href="/1/' in index and 'hreflang="ar"' in index
    assert '<div class="body" lang="ar" dir="rtl">' in index
    # A post in the page's own language needs no lang of its own.
    assert '<h2><a href="/2/plain">Plain</a></h2>' in index
    page = _post_page(client, 1)
    assert '<h1 lang="ar" dir="rtl">' in page


def test_every_link_titled_by_a_post_in_another_language_says_so(make_app, make_user):
    # Lists, search results, the next/previous links, My posts and the admin's list.
    app = make_app()
    make_user("ada", "a long enough pw", role="admin")
    client = app.test_client()
    client.post("/auth/login", data={"username": "ada", "password": "a long enough pw"})
    client.post("/create", data={"title": "Hallo Welt", "body": "Wort", "language": "de"})
    client.post("/create", data={"title": "Hello world", "body": "Wort"})
    en = {"Accept-Language": "en"}
    german = 'href="/1/hallo-welt" lang="de" dir="ltr" hreflang="de">'
    found = client.get("/search?q=Wort", headers=en).text
    assert f"{german}Hallo" in found
    assert '<p lang="de" dir="ltr"><mark>Wort</mark></p>' in found  # the passage found
    assert found.count(german) == 2  # the title and "Continue reading"
    assert '<a href="/2/hello-world">Hello' in found  # the page's own language: nothing
    assert german in _post_page(client, 2, **en)  # "older" from the English post
    assert '<a rel="next" href="/2/hello-world">' in _post_page(client, 1, **en)
    for path in ("/me/posts", "/admin/posts"):
        listed = client.get(path, headers=en).text
        assert german in listed and '<a href="/2/hello-world">' in listed, path


def test_a_post_without_a_language_is_in_the_site_s(make_app, make_user, make_post):
    app = make_app(LANGUAGE="de")
    make_post(make_user("ann"), title="Hallo")
    page = app.test_client().get("/", headers={"Accept-Language": "en"}).text
    assert html_lang(page.encode()) == "en"
    assert '<h2 lang="de" dir="ltr"><a href="/1/hallo" hreflang="de">' in page


@pytest.mark.parametrize("language", ["xx", "english", "de-DE", "<script>"])
def test_a_post_language_not_on_the_list_is_refused(client, auth, app, language):
    auth.register()
    auth.login()
    response = client.post("/create", data={"title": "T", "body": "B", "language": language})
    assert response.status_code == 200  # the editor again, with the message
    assert b"Choose the post&#39;s language from the list." in response.data
    from flaskr.blog import queries

    with app.app_context():
        assert queries.find_post(1) is None


def test_the_editor_keeps_the_post_s_language_and_a_form_without_the_field_leaves_it(
    client, auth, app
):
    auth.register()
    auth.login()
    client.post("/create", data={"title": "T", "body": "B", "language": "fr"})
    editor = client.get("/1/update").text
    assert '<option value="fr" selected>français</option>' in editor
    # The tutorial's two-field form: the language stays.
    client.post("/1/update", data={"title": "T2", "body": "B2", "version": "1"})
    from flaskr.blog import queries

    with app.app_context():
        assert queries.find_post(1)["language"] == "fr"
    client.post("/1/update", data={"title": "T3", "body": "B", "version": "2", "language": ""})
    with app.app_context():
        assert queries.find_post(1)["language"] is None


def test_feeds_name_the_site_s_language_and_each_post_s_own(client, auth):
    auth.register()
    auth.login()
    client.post("/create", data={"title": "Bonjour", "body": "Texte", "language": "fr"})
    client.post("/create", data={"title": "Hello", "body": "Text"})
    atom = client.get("/feed.atom").text
    assert 'xml:lang="en"' in atom.split("<entry", 1)[0]
    assert atom.count('<entry xml:lang="fr">') == 1 and atom.count("<entry>") == 1
    rss = client.get("/feed.rss").text
    assert "<language>en</language>" in rss
    feed = client.get("/feed.json").get_json()
    assert feed["language"] == "en"
    assert [item.get("language") for item in feed["items"]] == [None, "fr"]


def test_a_feed_is_written_in_the_site_s_language_whoever_asks(make_app, make_user, make_post):
    app = make_app(LANGUAGE="de")
    make_post(make_user("ann"), title="Hallo", tags="reise")
    client = app.test_client()
    for header in ("en", "de"):
        feed = client.get("/tag/reise/feed.json", headers={"Accept-Language": header}).get_json()
        assert feed["description"] == "Beiträge mit dem Schlagwort reise"
        assert feed["language"] == "de"


# --- dates ----------------------------------------------------------------------------------


def _set_published(app, post_id: int, when: datetime) -> None:
    from flaskr.blog.tables import post
    from flaskr.db import transaction

    with app.app_context(), transaction() as conn:
        conn.execute(post.update().where(post.c.id == post_id).values(published_at=when))


def test_dates_are_shown_in_the_signed_in_reader_s_zone(client, auth, app, make_user, make_post):
    post_id = make_post(make_user("ann"), title="Late")
    _set_published(app, post_id, datetime(2026, 1, 1, 20, 30))
    assert "by ann on 2026-01-01" in client.get("/").text
    auth.register()
    auth.login()
    client.post("/auth/account/profile", data={"bio": "", "timezone": "Pacific/Auckland"})
    # 20:30 UTC is 09:30 the next morning in Auckland.
    assert "by ann on 2026-01-02" in client.get("/").text
    assert "von ann am 02.01.2026" in client.get("/", headers={"Accept-Language": "de"}).text


def test_anonymous_readers_see_dates_in_the_site_s_zone(make_app, make_user, make_post):
    app = make_app(TIMEZONE="America/New_York")
    post_id = make_post(make_user("ann"), title="Early")
    _set_published(app, post_id, datetime(2026, 3, 1, 2, 0))
    assert "by ann on 2026-02-28" in app.test_client().get("/").text


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("en", ("2026-11-30", "2026-11-30 18:05", "18:05", "March")),
        ("de", ("30.11.2026", "30.11.2026, 18:05", "18:05", "März")),
    ],
)
def test_english_keeps_iso_dates_and_german_writes_its_own(app, header, expected):
    from flaskr.i18n import dates

    when = datetime(2026, 11, 30, 18, 5)
    with app.test_request_context(headers={"Accept-Language": header}):
        written = (dates.day(when), dates.moment(when), dates.clock(when), dates.month_name(3))
    assert written == expected


@pytest.mark.parametrize(
    ("seconds", "german"),
    [
        (5, "gerade eben"),
        (60, "vor 1 Minute"),
        (150, "vor 2 Minuten"),
        (3600, "vor 1 Stunde"),
        (7300, "vor 2 Stunden"),
        (86400, "vor 1 Tag"),
        (3 * 86400, "vor 3 Tagen"),
        (9 * 86400, "01.01.2026"),
    ],
)
def test_how_long_ago_is_said_in_german(app, seconds, german):
    # English: tests/test_history.py.
    from datetime import timedelta

    from flaskr.i18n.dates import ago

    saved = datetime(2026, 1, 1, 12, 0)
    with app.test_request_context(headers={"Accept-Language": "de"}):
        assert ago(saved, now=saved + timedelta(seconds=seconds)) == german


def test_the_archive_names_months_in_the_reader_s_language(client, app, make_user, make_post):
    post_id = make_post(make_user("ann"), title="March")
    _set_published(app, post_id, datetime(2026, 3, 15, 12, 0))
    assert "März 2026" in client.get("/archive/", headers={"Accept-Language": "de"}).text
    assert "March 2026" in client.get("/archive/").text
    month = client.get("/archive/2026/3/", headers={"Accept-Language": "de"}).text
    assert "<h1>Beiträge vom März 2026</h1>" in month


def test_the_autosave_answer_says_when_in_the_author_s_language(client, auth, app):
    auth.register()
    auth.login()
    client.post("/create", data={"title": "T", "body": "B", "action": "draft"})
    answer = client.post(
        "/1/autosave",
        data={"title": "T", "body": "B2", "version": "1"},
        headers={"Accept-Language": "de"},
    ).get_json()
    assert re.fullmatch(r"Entwurf um \d\d:\d\d gespeichert\.", answer["message"])
