"""The anonymous page cache: fast repeat views that never show stale or private content."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import Response, flash, make_response, redirect, render_template_string, request, session
from flask_wtf.csrf import generate_csrf

from flaskr import pagecache
from flaskr.db import get_db, utcnow
from flaskr.pagecache import cached_page
from flaskr.policy import public
from flaskr.security import CSP
from tests.test_notified import wait_until_vouched


@pytest.fixture
def statements(app):
    """SQL statements the app runs, recorded as they go."""
    seen: list[str] = []
    engine = app.extensions["flaskr.engine"]

    def record(conn, cursor, statement, params, context, executemany):
        seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    yield seen
    sa.event.remove(engine, "before_cursor_execute", record)


@pytest.fixture
def author(make_user):
    return make_user("ann")


def test_repeat_anonymous_view_runs_only_the_version_check(
    client, app, db_kind, author, make_post, statements
):
    make_post(author, title="First post")
    assert b"First post" in client.get("/").data
    if db_kind == "postgresql":
        wait_until_vouched(app)
    statements.clear()
    response = client.get("/")
    assert b"First post" in response.data
    queries = [s for s in statements if s != "BEGIN"]
    if db_kind == "postgresql":
        # The listener knows the version: a hit asks the database nothing.
        assert queries == []
    else:
        assert len(queries) == 1 and "content_version" in queries[0]


def test_with_listening_off_every_hit_asks_for_the_version(make_app, author, make_post):
    make_post(author, title="First post")
    app = make_app(DATABASE_LISTEN=False)
    seen: list[str] = []
    sa.event.listen(
        app.extensions["flaskr.engine"],
        "before_cursor_execute",
        lambda *args: seen.append(args[2]),
    )
    client = app.test_client()
    assert b"First post" in client.get("/").data
    for _ in range(3):
        time.sleep(0.05)
        seen.clear()
        assert b"First post" in client.get("/").data
        queries = [s for s in seen if s != "BEGIN"]
        assert len(queries) == 1 and "content_version" in queries[0]


@pytest.mark.parametrize(
    "path",
    ["/", "/1/first-post", "/tag/cats", "/tags", "/u/ann", "/search?q=first", "/feed.atom"],
)
def test_every_cached_page_shows_an_edit_at_once(client, app, author, make_post, path):
    make_post(author, title="First post", body="first words", tags="cats")
    before = client.get(path)
    assert before.status_code == 200
    with app.app_context():
        from flaskr.blog import services

        services.revise_post(
            1, services.Draft(title="First post", body="first words changed", tags="cats, dogs")
        )
    after = client.get(path)
    assert after.status_code == 200
    if path == "/tags":
        assert b"dogs" in after.data and b"dogs" not in before.data
    else:
        assert b"changed" in after.data and b"changed" not in before.data


def test_plain_sql_insert_invalidates_the_cache(client, app, author):
    assert b"Raw title" not in client.get("/").data
    with app.app_context():
        db = get_db()
        db.execute(
            "INSERT INTO post (title, body, author_id, created) VALUES "
            f"('Raw title', 'raw body', {int(author)}, '2020-01-01 00:00:00')"
        )
        db.commit()
    assert b"Raw title" in client.get("/").data


def test_scheduled_post_appears_on_time_despite_the_cache(client, app, author, make_post):
    make_post(author, title="Already out")
    soon = utcnow() + timedelta(seconds=2)
    make_post(author, title="Coming soon", publish_at=soon)
    assert b"Coming soon" not in client.get("/").data
    assert b"Coming soon" not in client.get("/").data  # served from the cache
    time.sleep(max(0.0, (soon - utcnow()).total_seconds()) + 0.3)
    assert b"Coming soon" in client.get("/").data


def test_signed_in_users_never_get_a_cached_page(client, auth, make_user, make_post):
    make_user("test", "test")
    post_id = make_post(1, title="Mine")
    assert b"/update" not in client.get("/").data  # anonymous view, now cached
    auth.login()
    assert f'href="/{post_id}/update"'.encode() in client.get("/").data
    auth.logout()
    assert b"/update" not in client.get("/").data


def test_a_page_with_a_flash_message_is_not_cached(client, auth, make_user, make_post):
    make_user("test", "test")
    make_post(1, title="Mine")
    auth.login()
    client.post("/1/delete")
    auth.logout()  # flashes "Logged out." for the next page
    first = client.get("/")
    second = client.get("/")
    assert b"Logged out." in first.data
    assert b"Logged out." not in second.data
    assert first.status_code == second.status_code == 200


def test_page_cache_can_be_turned_off(make_app, make_user, make_post, statements):
    app = make_app(PAGE_CACHE_SECONDS=0)
    client = app.test_client()
    client.get("/")
    client.get("/")
    assert not any("content_version" in s for s in statements)


def test_entries_expire_after_their_lifetime(make_app, app, author, make_post):
    short = make_app(PAGE_CACHE_SECONDS=1)
    client = short.test_client()
    make_post(author, title="Kept")
    client.get("/")
    store = short.extensions["flaskr.pagecache"]
    assert len(store.entries) == 1
    (entry,) = store.entries.values()
    assert entry.expires - time.time() <= 1.0


def test_conditional_feed_requests_bypass_the_cache(client, author, make_post):
    make_post(author, title="Feed me")
    first = client.get("/feed.atom")
    again = client.get("/feed.atom", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_the_cache_keeps_within_its_byte_budget(app, monkeypatch):
    from flaskr import pagecache

    monkeypatch.setattr(pagecache, "MAX_BYTES", 250)
    store = pagecache._Store()
    for n in range(5):
        store.put(("http", "h", f"/{n}"), pagecache._Entry(1, time.time() + 60, [], b"x" * 100))
    assert list(store.entries) == [("http", "h", "/3"), ("http", "h", "/4")]
    assert store.size == 200
    store.put(("http", "h", "/4"), pagecache._Entry(1, time.time() + 60, [], b"y" * 10))
    assert store.size == 110


def test_http_and_https_pages_are_cached_apart(client, author, make_post):
    make_post(author, title="Schemes")
    plain = client.get("/1/schemes", base_url="http://blog.example")
    secure = client.get("/1/schemes", base_url="https://blog.example")
    assert b'href="http://blog.example/1/schemes"' in plain.data
    assert b'href="https://blog.example/1/schemes"' in secure.data


# --- what may be kept: each guard on its own, through test-only cached views -----------------

#: The header the probe views answer to: each test visitor names itself in it.
VISITOR = "X-Visitor"


def _probe_views() -> dict[str, tuple[str, object, tuple[str, ...]]]:
    """endpoint -> (rule, view, methods): pages for the visitor named in X-Visitor.

    `plain` is a page the cache keeps; each other one differs from it in one way only,
    in the response it makes or in the requests it answers.
    """

    def visitor() -> str:
        return request.headers[VISITOR]

    def plain():
        response = make_response(f"page for {visitor()}")
        response.headers["X-For"] = visitor()
        return response

    def status(code: int):
        return f"page for {visitor()}", code

    def redirected():
        return redirect(f"/welcome/{visitor()}")

    def form():
        # A form's CSRF token lives in the visitor's session: rendering one changes it.
        return f"form for {visitor()}: {generate_csrf()}"

    def cookie():
        response = make_response(f"page for {visitor()}")
        response.set_cookie("visitor", visitor())
        return response

    def streamed():
        return Response(iter(["page for ", visitor()]))

    def sized(size: int):
        return f"page for {visitor()}".ljust(size, ".")

    def conditional():
        response = make_response(f"page for {visitor()}")
        response.set_etag("same for all")
        response.last_modified = datetime(2020, 1, 1)
        return response.make_conditional(request)

    def methods():
        return f"{request.method} for {visitor()}"

    def noted():
        flash(f"a note for {visitor()}")
        return render_template_string(
            "{% for note in get_flashed_messages() %}{{ note }}{% endfor %}"
        )

    return {
        "plain": ("/probe/plain", plain, ("GET",)),
        "status": ("/probe/status/<int:code>", status, ("GET",)),
        "redirected": ("/probe/redirect", redirected, ("GET",)),
        "form": ("/probe/form", form, ("GET",)),
        "cookie": ("/probe/cookie", cookie, ("GET",)),
        "streamed": ("/probe/streamed", streamed, ("GET",)),
        "sized": ("/probe/sized/<int:size>", sized, ("GET",)),
        "conditional": ("/probe/conditional", conditional, ("GET",)),
        "methods": ("/probe/methods", methods, ("GET", "POST", "PUT", "DELETE")),
        "noted": ("/probe/noted", noted, ("GET",)),
    }


@pytest.fixture
def probes(make_app):
    """The app with the probe views behind the production page cache."""
    return _probe_app(make_app())


def _probe_app(app):
    """Add the probe views to an app (before its first request), each behind cached_page."""
    for endpoint, (rule, view, methods) in _probe_views().items():
        app.add_url_rule(rule, endpoint, public(cached_page(view)), methods=methods)
    return app


def visit(app, name: str, path: str, method: str = "GET", **headers: str):
    """One request from a visitor of its own (a fresh client: no cookies shared)."""
    return app.test_client().open(path, method=method, headers={VISITOR: name, **headers})


def test_a_plain_page_is_kept_and_served_to_the_next_visitor(probes):
    """The probes can tell: every guard below fails this way when it lets a page through."""
    assert visit(probes, "ann", "/probe/plain").data == b"page for ann"
    again = visit(probes, "bob", "/probe/plain")
    assert again.status_code == 200
    assert again.data == b"page for ann"
    assert again.headers["X-For"] == "ann"


@pytest.mark.parametrize("code", [201, 203, 404, 500])
def test_a_page_with_another_status_than_200_is_never_kept(probes, code):
    assert visit(probes, "ann", f"/probe/status/{code}").status_code == code
    again = visit(probes, "bob", f"/probe/status/{code}")
    assert again.status_code == code
    assert again.data == b"page for bob"


def test_a_redirect_is_never_kept(probes):
    assert visit(probes, "ann", "/probe/redirect").location == "/welcome/ann"
    again = visit(probes, "bob", "/probe/redirect")
    assert again.status_code == 302
    assert again.location == "/welcome/bob"


def test_a_page_that_changes_the_visitors_session_is_never_kept(probes):
    """A form's CSRF token is one visitor's: served to another, their form would fail."""
    first = visit(probes, "ann", "/probe/form")
    again = visit(probes, "bob", "/probe/form")
    assert again.data.startswith(b"form for bob: ")
    assert again.data.split(b": ")[1] != first.data.split(b": ")[1]
    assert "session=" in again.headers["Set-Cookie"]


def test_a_page_that_sets_a_cookie_is_never_kept(probes):
    assert "visitor=ann" in visit(probes, "ann", "/probe/cookie").headers["Set-Cookie"]
    again = visit(probes, "bob", "/probe/cookie")
    assert again.data == b"page for bob"
    assert again.headers.getlist("Set-Cookie") == [again.headers["Set-Cookie"]]
    assert "visitor=bob" in again.headers["Set-Cookie"]


def test_a_streamed_page_is_never_kept(probes):
    assert visit(probes, "ann", "/probe/streamed").data == b"page for ann"
    assert visit(probes, "bob", "/probe/streamed").data == b"page for bob"


def test_a_page_over_the_size_limit_is_never_kept_and_one_at_the_limit_is(probes):
    at_limit, over = f"/probe/sized/{pagecache.MAX_BODY}", f"/probe/sized/{pagecache.MAX_BODY + 1}"
    assert len(visit(probes, "ann", over).data) == pagecache.MAX_BODY + 1
    assert visit(probes, "bob", over).data.startswith(b"page for bob.")
    assert len(visit(probes, "ann", at_limit).data) == pagecache.MAX_BODY
    assert visit(probes, "bob", at_limit).data.startswith(b"page for ann.")


def test_a_head_request_is_answered_from_the_cache_like_a_get(probes):
    visit(probes, "ann", "/probe/plain")
    again = visit(probes, "bob", "/probe/plain", method="HEAD")
    assert again.status_code == 200
    assert again.headers["X-For"] == "ann"


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_a_request_that_is_not_a_get_neither_gets_nor_leaves_a_kept_page(probes, method):
    assert visit(probes, "ann", "/probe/methods").data == b"GET for ann"
    assert visit(probes, "bob", "/probe/methods", method).data == f"{method} for bob".encode()
    assert visit(probes, "cat", "/probe/methods").data == b"GET for ann"
    probes.extensions["flaskr.pagecache"].entries.clear()
    visit(probes, "ann", "/probe/methods", method)
    assert visit(probes, "bob", "/probe/methods").data == b"GET for bob"


@pytest.mark.parametrize(
    "header",
    [
        {"If-None-Match": '"same for all"'},
        {"If-Modified-Since": "Wed, 01 Jan 2020 00:00:00 GMT"},
    ],
)
def test_a_conditional_request_is_answered_by_the_view_not_the_cache(probes, header):
    assert visit(probes, "ann", "/probe/conditional").status_code == 200
    again = visit(probes, "bob", "/probe/conditional", **header)
    assert again.status_code == 304
    assert again.data == b""


def test_a_signed_in_users_page_is_never_kept_for_visitors(client, auth, make_user, make_post):
    make_user("test", "test")
    post_id = make_post(1, title="Mine")
    auth.login()
    assert f'href="/{post_id}/update"'.encode() in client.get("/").data
    auth.logout()
    assert b"/update" not in client.get("/").data


def test_a_visitor_with_a_flash_pending_gets_a_page_that_shows_it(app, author, make_post):
    """Even when the page is already kept for others: the note is for this visitor only."""
    make_post(author, title="First post")
    assert b"First post" in app.test_client().get("/").data  # now kept
    ann = app.test_client()
    with ann.session_transaction() as ann_session:
        ann_session["_flashes"] = [("message", "A note for ann")]
    assert b"A note for ann" in ann.get("/").data
    assert b"A note for ann" not in app.test_client().get("/").data
    assert b"A note for ann" not in ann.get("/").data  # shown once


def test_a_page_that_shows_a_flash_it_made_is_never_kept(probes):
    assert visit(probes, "ann", "/probe/noted").data == b"a note for ann"
    assert visit(probes, "bob", "/probe/noted").data == b"a note for bob"


def _response(shape: str) -> Response:
    """A response of one shape, made inside a request (as a view makes it)."""
    response = Response("page")
    if shape == "302":
        response = redirect("/elsewhere")
    elif shape == "404":
        response.status_code = 404
    elif shape == "session changed":
        session["seen"] = True
    elif shape == "cookie set":
        response.set_cookie("seen", "yes")
    elif shape == "streamed":
        response = Response(iter([b"page"]))
    elif shape.startswith("bytes "):
        response.set_data(b"x" * int(shape.split()[1]))
    return response


@pytest.mark.parametrize(
    ("shape", "keepable"),
    [
        ("200", True),
        ("302", False),
        ("404", False),
        ("session changed", False),
        ("cookie set", False),
        ("streamed", False),
        (f"bytes {pagecache.MAX_BODY}", True),
        (f"bytes {pagecache.MAX_BODY + 1}", False),
    ],
)
def test_which_responses_may_be_kept(app, shape, keepable):
    with app.test_request_context("/"):
        assert pagecache._keepable(_response(shape)) is keepable


@pytest.mark.parametrize(
    ("method", "headers", "in_session", "cacheable"),
    [
        ("GET", {}, {}, True),
        ("HEAD", {}, {}, True),
        ("POST", {}, {}, False),
        ("PUT", {}, {}, False),
        ("OPTIONS", {}, {}, False),
        ("GET", {"If-None-Match": '"x"'}, {}, False),
        ("GET", {"If-Modified-Since": "Wed, 01 Jan 2020 00:00:00 GMT"}, {}, False),
        ("GET", {}, {"_flashes": [("message", "hi")]}, False),
        ("GET", {}, {"other": 1}, True),
    ],
)
def test_which_requests_may_use_the_cache(app, method, headers, in_session, cacheable):
    with app.test_request_context("/", method=method, headers=headers):
        session.update(in_session)
        assert pagecache._cacheable() is cacheable


def test_a_signed_in_request_may_not_use_the_cache(app):
    with app.test_request_context("/"):
        from flask import g

        g.user = {"id": 1, "username": "ann"}
        assert pagecache._cacheable() is False


@pytest.mark.parametrize(("seconds", "cacheable"), [(0, False), (1, True)])
def test_the_cache_is_used_only_with_a_lifetime(make_app, seconds, cacheable):
    app = make_app(PAGE_CACHE_SECONDS=seconds)
    with app.test_request_context("/"):
        assert pagecache._cacheable() is cacheable


def test_a_kept_page_is_served_for_page_cache_seconds_and_no_longer(make_app):
    probes = _probe_app(make_app(PAGE_CACHE_SECONDS=1))
    visit(probes, "ann", "/probe/plain")
    assert visit(probes, "bob", "/probe/plain").data == b"page for ann"
    time.sleep(1.05)
    assert visit(probes, "bob", "/probe/plain").data == b"page for bob"


def test_a_kept_page_expires_page_cache_seconds_after_it_was_made(make_app):
    probes = _probe_app(make_app(PAGE_CACHE_SECONDS=30))
    before = time.time()
    visit(probes, "ann", "/probe/plain")
    after = time.time()
    (entry,) = probes.extensions["flaskr.pagecache"].entries.values()
    assert before + 30 <= entry.expires <= after + 30


def test_a_different_host_gets_its_own_page(client, author, make_post):
    make_post(author, title="Hosts")
    one = client.get("/1/hosts", base_url="http://one.example")
    other = client.get("/1/hosts", base_url="http://other.example")
    assert b'href="http://one.example/1/hosts"' in one.data
    assert b'href="http://other.example/1/hosts"' in other.data


def test_a_different_query_string_gets_its_own_page(client, author, make_post):
    make_post(author, title="Sparrows")
    make_post(author, title="Robins")
    sparrows = client.get("/search?q=sparrows").data
    robins = client.get("/search?q=robins").data
    assert b"Sparrows" in sparrows and b"Robins" not in sparrows
    assert b"Robins" in robins and b"Sparrows" not in robins


def test_without_the_content_counter_nothing_is_kept(client, app, author, make_post):
    """A hand-emptied content_version: the cache cannot tell a page is current."""
    make_post(author, title="First post")
    with app.app_context():
        db = get_db()
        db.execute("DELETE FROM content_version")
        db.commit()
    assert b"First post" in client.get("/").data
    with app.app_context():
        db = get_db()
        db.execute("UPDATE post SET title = 'Renamed'")
        db.commit()
    assert b"Renamed" in client.get("/").data
    assert not app.extensions["flaskr.pagecache"].entries


# --- scheduled posts ----------------------------------------------------------------------


def test_a_sooner_scheduled_post_added_after_a_later_one_appears_on_time(client, author, make_post):
    """The store remembers the next scheduled post per content version; a new one counts."""
    make_post(author, title="Already out")
    make_post(author, title="Much later", publish_at=utcnow() + timedelta(hours=1))
    assert b"Much later" not in client.get("/").data  # remembers: nothing due for an hour
    soon = utcnow() + timedelta(seconds=1.5)
    make_post(author, title="Coming soon", publish_at=soon)
    assert b"Coming soon" not in client.get("/").data
    assert b"Coming soon" not in client.get("/").data  # served from the cache
    time.sleep(max(0.0, (soon - utcnow()).total_seconds()) + 0.3)
    page = client.get("/").data
    assert b"Coming soon" in page and b"Much later" not in page


def only_the_version_check(statements: list[str], db_kind: str) -> bool:
    """True if the page came from the cache: nothing ran but the version check (on
    PostgreSQL not even that, once the listener vouches for the version)."""
    queries = [s for s in statements if s != "BEGIN"]
    if db_kind == "postgresql" and not queries:
        return True
    return len(queries) == 1 and "content_version" in queries[0]


def test_a_post_scheduled_far_ahead_does_not_stop_caching(
    client, author, make_post, statements, db_kind
):
    make_post(author, title="Already out")
    make_post(author, title="Much later", publish_at=utcnow() + timedelta(hours=1))
    client.get("/")
    statements.clear()
    assert b"Already out" in client.get("/").data
    assert only_the_version_check(statements, db_kind)


def test_pages_are_kept_again_once_a_scheduled_post_has_appeared(
    client, author, make_post, statements, db_kind
):
    make_post(author, title="Already out")
    soon = utcnow() + timedelta(seconds=1)
    make_post(author, title="Coming soon", publish_at=soon)
    client.get("/")
    time.sleep(max(0.0, (soon - utcnow()).total_seconds()) + 0.2)
    assert b"Coming soon" in client.get("/").data
    statements.clear()
    assert b"Coming soon" in client.get("/").data
    assert only_the_version_check(statements, db_kind)


class Clock:
    """pagecache's two clocks, stopped: epoch seconds and naive UTC move only when told."""

    def __init__(self) -> None:
        self.epoch = 2_000_000_000.0
        self.utc = datetime(2033, 5, 18, 3, 33, 20)

    def time(self) -> float:
        return self.epoch

    def utcnow(self) -> datetime:
        return self.utc

    def advance(self, seconds: float) -> None:
        self.epoch += seconds
        self.utc += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    stopped = Clock()
    monkeypatch.setattr(pagecache, "time", stopped)
    monkeypatch.setattr(pagecache, "utcnow", stopped.utcnow)
    return stopped


@pytest.fixture
def schedule(app, clock) -> dict[str, list]:
    """The app's page cache asking a list of scheduled times (naive UTC), not the database."""
    state: dict[str, list] = {"posts": [], "asked": []}

    def next_publication(now: datetime) -> datetime | None:
        state["asked"].append(now)
        return min((at for at in state["posts"] if at > now), default=None)

    pagecache.init_app(app, pagecache.Freshness(lambda: 1, next_publication))
    return state


def test_the_next_scheduled_post_is_looked_up_once_per_content_version(app, clock, schedule):
    schedule["posts"].append(clock.utc + timedelta(hours=1))
    with app.app_context():
        assert pagecache._next_scheduled(7) == clock.epoch + 3600
        clock.advance(60)
        assert pagecache._next_scheduled(7) == clock.epoch + 3540
    assert schedule["asked"] == [clock.utc - timedelta(seconds=60)]


def test_a_new_content_version_looks_the_next_scheduled_post_up_again(app, clock, schedule):
    schedule["posts"].append(clock.utc + timedelta(hours=1))
    with app.app_context():
        assert pagecache._next_scheduled(7) == clock.epoch + 3600
        schedule["posts"].append(clock.utc + timedelta(seconds=2))
        assert pagecache._next_scheduled(8) == clock.epoch + 2
        assert pagecache._next_scheduled(7) == clock.epoch + 2  # an old version: asked again
    assert len(schedule["asked"]) == 3


def test_at_the_moment_the_remembered_post_appears_the_next_one_is_looked_up(app, clock, schedule):
    """Published at `now` is visible at `now`: a page made then must not wait for it."""
    start = clock.epoch
    schedule["posts"] += [clock.utc + timedelta(seconds=10), clock.utc + timedelta(seconds=20)]
    with app.app_context():
        assert pagecache._next_scheduled(7) == start + 10
        clock.advance(10)
        assert pagecache._next_scheduled(7) == start + 20
        clock.advance(10)
        assert pagecache._next_scheduled(7) == float("inf")


def test_with_nothing_scheduled_only_the_lifetime_limits_a_page(app, clock, schedule):
    with app.app_context():
        assert pagecache._next_scheduled(7) == float("inf")


def test_a_page_kept_before_a_scheduled_post_expires_when_it_appears(app, clock, schedule):
    probes = _probe_app(app)
    schedule["posts"].append(clock.utc + timedelta(seconds=5))
    visit(probes, "ann", "/probe/plain")
    (entry,) = probes.extensions["flaskr.pagecache"].entries.values()
    assert entry.expires == clock.epoch + 5
    clock.advance(4.5)
    assert visit(probes, "bob", "/probe/plain").data == b"page for ann"
    clock.advance(0.5)
    assert visit(probes, "bob", "/probe/plain").data == b"page for bob"


# --- the store: versions, expiry, least recently used, byte budget -------------------------


def _entry(expires: float, size: int = 100, version: int = 1) -> pagecache._Entry:
    return pagecache._Entry(version, expires, [], b"x" * size)


def test_an_entry_is_gone_at_the_moment_it_expires(clock):
    store = pagecache._Store()
    store.put("page", _entry(clock.epoch + 5))
    clock.advance(4.999)
    assert store.get("page", 1) is not None
    clock.advance(0.001)
    assert store.get("page", 1) is None
    assert store.entries == {} and store.size == 0


def test_an_entry_of_another_content_version_is_dropped(clock):
    store = pagecache._Store()
    store.put("page", _entry(clock.epoch + 5, version=1))
    assert store.get("page", 2) is None
    assert store.entries == {} and store.size == 0
    assert store.get("other", 1) is None


def test_a_page_read_is_the_last_to_be_evicted(clock, monkeypatch):
    monkeypatch.setattr(pagecache, "MAX_BYTES", 300)
    store = pagecache._Store()
    for key in ("a", "b", "c"):
        store.put(key, _entry(clock.epoch + 60))
    assert store.get("a", 1) is not None
    store.put("d", _entry(clock.epoch + 60))
    assert list(store.entries) == ["c", "a", "d"]
    assert store.size == 300


def test_pages_that_fill_the_byte_budget_exactly_are_all_kept(clock, monkeypatch):
    monkeypatch.setattr(pagecache, "MAX_BYTES", 300)
    store = pagecache._Store()
    for key in ("a", "b", "c"):
        store.put(key, _entry(clock.epoch + 60))
    assert list(store.entries) == ["a", "b", "c"]
    store.put("d", _entry(clock.epoch + 60, size=1))
    assert list(store.entries) == ["b", "c", "d"]
    assert store.size == 201


# --- Hits: kept pages answered before Flask for readers without a session cookie ----


@pytest.fixture
def dispatches(app):
    """How many requests reached Flask's dispatch (Hits answers before it)."""
    count = [0]

    def seen() -> None:
        count[0] += 1

    app.before_request(seen)
    return count


def _hits(app) -> pagecache.Hits:
    """The app's Hits middleware, wherever it sits in the WSGI stack."""
    hits = app.wsgi_app
    while not isinstance(hits, pagecache.Hits):
        hits = hits.wsgi_app
    return hits


def _fresh_get(app, path="/", **kwargs):
    """A GET from a new browser: no cookies."""
    return app.test_client().get(path, **kwargs)


def test_a_kept_page_reaches_a_cookieless_reader_without_flask_and_identical(
    app, author, make_post, dispatches
):
    make_post(author, title="First post")
    first = _fresh_get(app)  # made and kept by Flask: Hits learns how it was sent
    assert dispatches[0] == 1
    hit = _fresh_get(app)
    assert dispatches[0] == 1
    assert hit.status == first.status == "200 OK"
    assert hit.data == first.data
    assert list(hit.headers.items()) == list(first.headers.items())
    for name in ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options"):
        assert hit.headers[name]
    assert "Cookie" in hit.headers["Vary"]


def test_a_hit_carries_the_security_headers_and_one_vary_line(app, author, make_post, dispatches):
    make_post(author, title="First post")
    for base_url in ("http://localhost", "https://localhost"):
        _fresh_get(app, base_url=base_url)  # kept by Flask
        hit = _fresh_get(app, base_url=base_url)
        assert hit.headers["Content-Security-Policy"] == CSP
        assert hit.headers["X-Frame-Options"] == "DENY"
        assert hit.headers.getlist("Vary") == ["Cookie, Accept-Language"]
        assert ("Strict-Transport-Security" in hit.headers) is (base_url.startswith("https"))
    assert dispatches[0] == 2  # each scheme's second view came from Hits


def test_a_hit_never_changes_the_header_list_hits_replays(app, author, make_post, dispatches):
    """Headers are added to a copy: the kept list stays as Flask sent it, hit after hit."""
    make_post(author, title="First post")
    _fresh_get(app)
    store = _hits(app).store
    (entry,) = [entry for entry in store.entries.values() if entry.wire is not None]
    kept = list(entry.wire[1])
    for base_url in ("http://localhost", "https://localhost", "http://localhost"):
        _fresh_get(app, base_url=base_url)
    assert entry.wire[1] == kept
    assert "Content-Security-Policy" not in dict(kept)


def test_a_change_is_seen_at_once_by_hits(app, author, make_post, dispatches):
    make_post(author, title="First post")
    for _ in range(3):
        _fresh_get(app)
    assert dispatches[0] == 1
    make_post(author, title="Second post")
    response = _fresh_get(app)
    assert b"Second post" in response.data
    assert dispatches[0] == 2


@pytest.mark.parametrize(
    "request_kwargs",
    [
        {"cookie": "anything"},
        {"headers": {"If-None-Match": '"x"'}},
        {"headers": {"If-Modified-Since": "Sat, 01 Jan 2000 00:00:00 GMT"}},
        {"method": "HEAD"},
        {"query_string": {"other": "1"}},
    ],
)
def test_what_hits_may_not_answer_goes_to_flask(app, author, make_post, dispatches, request_kwargs):
    make_post(author, title="First post")
    for _ in range(2):
        _fresh_get(app)
    assert dispatches[0] == 1
    request_kwargs = dict(request_kwargs)  # the parameter is shared between runs
    method = request_kwargs.pop("method", "GET")
    client = app.test_client()
    if "cookie" in request_kwargs:
        client.set_cookie("session", request_kwargs.pop("cookie"))
    client.open("/", method=method, **request_kwargs)
    assert dispatches[0] == 2


def test_hits_stop_when_the_page_cache_is_turned_off(app, author, make_post, dispatches):
    make_post(author, title="First post")
    for _ in range(2):
        _fresh_get(app)
    app.config["PAGE_CACHE_SECONDS"] = 0
    _fresh_get(app)
    assert dispatches[0] == 2


def test_an_app_wide_rate_limit_counts_kept_pages_too(make_app, author, make_post):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_DEFAULT="3 per minute")
    make_post(author, title="First post")
    statuses = [_fresh_get(app).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_hits_leave_an_outage_to_flask(app, author, make_post, dispatches):
    make_post(author, title="First post")
    for _ in range(2):
        _fresh_get(app)
    hits = _hits(app)

    def down() -> int:
        raise sa.exc.OperationalError("SELECT", {}, Exception("server closed the connection"))

    hits.freshness = pagecache.Freshness(content_version=down, next_publication=lambda now: None)
    assert _fresh_get(app).status_code == 200
    assert dispatches[0] == 2


def test_hits_index_is_bounded(app, author, make_post, monkeypatch):
    monkeypatch.setattr(pagecache, "MAX_WIRE_KEYS", 2)
    make_post(author, title="First post")
    store = app.extensions["flaskr.pagecache"]
    for path in ("/", "/tags", "/u/ann"):
        for _ in range(2):
            _fresh_get(app, path)
    assert 1 <= len(store.wire) <= 2


def test_a_page_a_visitor_with_a_session_made_is_not_learned_for_others(
    app, author, make_post, dispatches
):
    make_post(author, title="First post")
    client = app.test_client()
    client.get("/auth/login")  # a session cookie now (CSRF token)
    client.get("/")
    client.get("/")
    store = app.extensions["flaskr.pagecache"]
    assert not store.wire


def test_hits_serve_nothing_once_the_version_row_is_gone(app, author, make_post, dispatches):
    make_post(author, title="First post")
    for _ in range(2):
        _fresh_get(app)
    assert dispatches[0] == 1
    with app.app_context():
        db = get_db()
        db.execute("DELETE FROM content_version")
        db.commit()
    assert b"First post" in _fresh_get(app).data
    assert dispatches[0] == 2


def test_a_reader_with_a_session_cookie_gets_the_whole_kept_page_from_flask(app, author, make_post):
    make_post(author, title="First post")
    first = _fresh_get(app)
    client = app.test_client()
    client.get("/auth/login")  # now with a session cookie (a CSRF token)
    kept = client.get("/")
    assert kept.status_code == 200
    assert kept.data == first.data and b"First post" in kept.data


def test_hits_learn_a_page_that_a_reader_with_a_session_kept(app, author, make_post, dispatches):
    make_post(author, title="First post")
    client = app.test_client()
    client.get("/auth/login")
    client.get("/")  # kept by Flask for a reader Hits may not answer
    before = dispatches[0]
    _fresh_get(app)  # a cookieless reader: a hit through Flask, which Hits learns
    assert dispatches[0] == before + 1
    assert b"First post" in _fresh_get(app).data  # now answered before Flask
    assert dispatches[0] == before + 1


def _wsgi_get(app, path="/"):
    """A cookieless GET straight through the WSGI interface: (status line, headers, body)."""
    from werkzeug.test import EnvironBuilder

    sent = []
    environ = EnvironBuilder(path=path).get_environ()
    body = b"".join(app.wsgi_app(environ, lambda status, headers, *exc: sent.append(status)))
    return sent[0], body


def test_hits_send_the_status_line_flask_sent(app, author, make_post, dispatches):
    """Through WSGI itself: the test client would read a missing status as 200."""
    make_post(author, title="First post")
    assert _wsgi_get(app)[0] == "200 OK"
    status, body = _wsgi_get(app)
    assert dispatches[0] == 1  # the second came from Hits
    assert status == "200 OK" and b"First post" in body


def test_hits_answer_with_a_page_cache_of_one_second(make_app, make_user, make_post):
    app = make_app(PAGE_CACHE_SECONDS=1)
    make_post(make_user("ann"), title="First post")
    count = [0]
    app.before_request(lambda: count.__setitem__(0, count[0] + 1))
    for _ in range(3):
        _fresh_get(app)
    assert count[0] == 1


def test_hits_pass_flasks_exc_info_on_to_the_server(app):
    """PEP 3333: a start_response call that carries exc_info must reach the server with it."""
    store = app.extensions["flaskr.pagecache"]
    freshness = app.extensions["flaskr.pagecache.freshness"]
    error = (ValueError, ValueError("late"), None)

    def failing(environ, start_response):
        start_response("500 INTERNAL SERVER ERROR", [], error)
        return [b"failed"]

    hits = pagecache.Hits(app, failing, store, freshness)
    from werkzeug.test import EnvironBuilder

    received = []
    body = hits(EnvironBuilder(path="/").get_environ(), lambda *args: received.append(args))
    assert list(body) == [b"failed"]
    assert received == [("500 INTERNAL SERVER ERROR", [], error)]


@pytest.mark.parametrize("first", ["", "/blog"])
def test_a_page_kept_under_one_script_root_is_never_served_under_another(
    app, author, make_post, first
):
    """A proxy may mount the blog under a prefix (SCRIPT_NAME) per request: links differ."""
    make_post(author, title="First post")
    other = "/blog" if first == "" else ""
    for _ in range(2):  # kept by Flask, then learned by Hits
        _fresh_get(app, base_url=f"http://localhost{first}")
    page = _fresh_get(app, base_url=f"http://localhost{other}").get_data(as_text=True)
    assert f'href="{other}/1/first-post"' in page
    assert f'href="{first}/1/first-post"' not in page
