"""The policy module: one visibility rule in two forms, `can()`, and every route's access rule."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import g, render_template_string

from flaskr import policy
from flaskr.blog.tables import post
from flaskr.db import connection, transaction

PW = "a long enough pw"
NOW = datetime(2026, 6, 1, 12, 0, 0)
#: Every combination a stored row can hold: statuses (including ones plain SQL
#: could write) and publish times around the moment the rule is asked about.
STATUSES = ("published", "draft", "Published", "")
TIMES = (
    None,
    NOW - timedelta(days=1),
    NOW - timedelta(microseconds=1),
    NOW,
    NOW + timedelta(seconds=1),
)


# --- who may read a post: the SQL and Python forms are the same rule ------------


def test_the_sql_and_python_visibility_rules_agree_on_every_row(app, make_user):
    author = make_user("alice", PW)
    cases = list(itertools.product(STATUSES, TIMES))
    with app.app_context():
        with transaction() as conn:
            for status, when in cases:
                post_id = conn.execute(
                    sa.insert(post)
                    .values(author_id=author, title="t", body="b", status=status, published_at=when)
                    .returning(post.c.id)
                ).scalar_one()
                # An insert trigger fills a missing publish time; plain SQL can still clear it.
                conn.execute(sa.update(post).where(post.c.id == post_id).values(published_at=when))
        rows = connection().execute(sa.select(post.c.id, post.c.status, post.c.published_at))
        rows = list(rows.mappings())
        in_sql = set(
            connection()
            .execute(sa.select(post.c.id).where(policy.public_posts(post, NOW)))
            .scalars()
        )
    in_python = {row["id"] for row in rows if policy.post_is_public(row, NOW)}
    assert len(rows) == len(cases)
    assert in_sql == in_python
    # The rule is not trivially empty or full: exactly the published, due rows.
    assert len(in_python) == 3


@pytest.mark.parametrize(
    ("status", "when", "state"),
    [
        ("draft", NOW - timedelta(days=1), "draft"),
        ("draft", None, "draft"),
        ("published", NOW + timedelta(seconds=1), "scheduled"),
        ("published", NOW, "published"),
        ("published", None, "scheduled"),
    ],
)
def test_the_state_an_author_sees_follows_the_visibility_rule(status, when, state):
    assert policy.post_state({"status": status, "published_at": when}, NOW) == state


# --- can() ------------------------------------------------------------------

ALICE = {"id": 1, "username": "alice", "role": "author"}
BOB = {"id": 2, "username": "bob", "role": "author"}
RITA = {"id": 3, "username": "rita", "role": "reader"}
ED = {"id": 4, "username": "ed", "role": "editor"}
ADA = {"id": 5, "username": "ada", "role": "admin"}
#: Alice, made a reader after she wrote (or a row whose role is not one flaskr knows).
ALICE_READER = {**ALICE, "role": "reader"}
ALICE_UNKNOWN = {**ALICE, "role": "superuser"}
RITA_BANNED = {**RITA, "comments_banned": True}
PUBLISHED = {"id": 7, "author_id": 1, "status": "published", "published_at": NOW - timedelta(1)}
DRAFT = {"id": 8, "author_id": 1, "status": "draft", "published_at": None}
SCHEDULED = {"id": 9, "author_id": 1, "status": "published", "published_at": NOW + timedelta(1)}
PICTURE = {"id": 3, "owner_id": 1}


@pytest.mark.parametrize(
    ("user", "action", "resource", "allowed"),
    [
        (None, "post:read", PUBLISHED, True),
        (None, "post:read", DRAFT, False),
        (None, "post:read", SCHEDULED, False),
        (BOB, "post:read", DRAFT, False),
        (BOB, "post:read", SCHEDULED, False),
        (ALICE, "post:read", DRAFT, True),
        (ALICE, "post:read", SCHEDULED, True),
        (None, "post:read", None, False),
        (None, "post:create", None, False),
        (BOB, "post:create", None, True),
        (None, "post:update", PUBLISHED, False),
        (BOB, "post:update", PUBLISHED, False),
        (ALICE, "post:update", PUBLISHED, True),
        (ALICE, "post:update", None, False),
        (None, "post:delete", DRAFT, False),
        (BOB, "post:delete", DRAFT, False),
        (ALICE, "post:delete", DRAFT, True),
        # Roles: readers write nothing; editors and admins read, edit and delete anyone's.
        (RITA, "post:create", None, False),
        (RITA, "post:read", DRAFT, False),
        (RITA, "post:update", PUBLISHED, False),
        (ALICE_READER, "post:create", None, False),
        (ALICE_READER, "post:update", DRAFT, False),  # no longer writes, even her own
        (ALICE_READER, "post:read", DRAFT, True),
        (ALICE_READER, "post:delete", DRAFT, True),  # but may still delete it
        (ALICE_UNKNOWN, "post:create", None, False),  # an unknown role: a reader's rights
        (ALICE_UNKNOWN, "post:update", DRAFT, False),
        (ED, "post:create", None, True),
        (ED, "post:read", DRAFT, True),
        (ED, "post:read", SCHEDULED, True),
        (ED, "post:update", DRAFT, True),
        (ED, "post:delete", PUBLISHED, True),
        (ED, "post:update", None, False),
        (ED, "post:delete", None, False),
        (ADA, "post:read", DRAFT, True),
        (ADA, "post:update", PUBLISHED, True),
        (ADA, "post:delete", DRAFT, True),
        # The trash: its author's alone, whatever anyone else's role.
        (ALICE, "trash:manage", DRAFT, True),
        (ALICE_READER, "trash:manage", DRAFT, True),
        (BOB, "trash:manage", DRAFT, False),
        (ED, "trash:manage", DRAFT, False),
        (ADA, "trash:manage", DRAFT, False),
        (None, "trash:manage", DRAFT, False),
        # Pictures: authors and up upload; a picture is its owner's (whatever their
        # role now) and any admin's to delete; only admins list everyone's.
        (None, "media:upload", None, False),
        (RITA, "media:upload", None, False),
        (ALICE_READER, "media:upload", None, False),
        (ALICE, "media:upload", None, True),
        (ED, "media:upload", None, True),
        (ALICE, "media:manage", PICTURE, True),
        (ALICE_READER, "media:manage", PICTURE, True),
        (BOB, "media:manage", PICTURE, False),
        (ED, "media:manage", PICTURE, False),
        (ADA, "media:manage", PICTURE, True),
        (ADA, "media:manage", None, False),
        (None, "media:manage", PICTURE, False),
        (ED, "media:everyone", None, False),
        (ADA, "media:everyone", None, True),
        # Likes: anyone signed in, whatever their role, on what readers see; nobody on
        # a draft or a scheduled post (its author neither), nor on nothing.
        (None, "post:like", PUBLISHED, False),
        (RITA, "post:like", PUBLISHED, True),
        (ALICE_UNKNOWN, "post:like", PUBLISHED, True),
        (BOB, "post:like", PUBLISHED, True),
        (ALICE, "post:like", DRAFT, False),
        (ALICE, "post:like", SCHEDULED, False),
        (ADA, "post:like", DRAFT, False),
        (RITA, "post:like", None, False),
    ],
)
def test_can_answers_for_each_user_action_and_post(monkeypatch, user, action, resource, allowed):
    monkeypatch.setattr(policy, "utcnow", lambda: NOW)
    assert policy.can(user, action, resource) is allowed


OPEN = {**PUBLISHED, "comments_closed": False}
CLOSED = {**PUBLISHED, "comments_closed": True}
OLD = {**OPEN, "published_at": NOW - timedelta(days=31)}
DRAFT_OPEN = {**DRAFT, "comments_closed": False}
#: Rita's comment under Alice's post, a minute old, in each state.
COMMENT = {
    "id": 1,
    "author_id": 3,
    "post_author_id": 1,
    "parent_id": None,
    "status": "published",
    "created_at": NOW - timedelta(minutes=1),
}
HELD = {**COMMENT, "status": "held"}
HIDDEN = {**COMMENT, "status": "hidden"}
SPAM = {**COMMENT, "status": "spam"}
GONE = {**COMMENT, "status": "deleted", "author_id": None}
STALE = {**COMMENT, "created_at": NOW - timedelta(minutes=16)}
#: Rita's reply, under a comment of Bob's that a moderator hid (or one that is published).
UNDER_HIDDEN = {**COMMENT, "parent_id": 2, "parent_status": "hidden", "parent_author_id": 2}
UNDER_SHOWN = {**UNDER_HIDDEN, "parent_status": "published"}


@pytest.mark.parametrize(
    ("user", "action", "resource", "allowed"),
    [
        # Writing: anyone signed in, on a post readers see that is still open.
        (None, "comment:create", OPEN, False),
        (RITA, "comment:create", OPEN, True),
        (ALICE_UNKNOWN, "comment:create", OPEN, True),
        (RITA, "comment:create", CLOSED, False),
        (ALICE, "comment:create", CLOSED, False),
        (RITA, "comment:create", OLD, False),  # COMMENTS_CLOSE_AFTER_DAYS=30
        (ALICE, "comment:create", DRAFT_OPEN, False),
        (RITA, "comment:create", None, False),
        # Reading: readers see published ones and "[deleted]"; held ones their author and
        # moderators; hidden ones moderators only; spam nobody on the page.
        (None, "comment:read", COMMENT, True),
        (None, "comment:read", GONE, True),
        (None, "comment:read", HELD, False),
        (BOB, "comment:read", HELD, False),
        (RITA, "comment:read", HELD, True),
        (ALICE, "comment:read", HELD, True),
        (ED, "comment:read", HELD, True),
        (RITA, "comment:read", HIDDEN, False),
        (ALICE, "comment:read", HIDDEN, True),
        (ALICE, "comment:read", SPAM, False),
        (ADA, "comment:read", SPAM, False),
        (RITA, "comment:read", None, False),
        (None, "comment:read", UNDER_SHOWN, True),
        (None, "comment:read", UNDER_HIDDEN, False),
        (RITA, "comment:read", UNDER_HIDDEN, False),
        (ALICE, "comment:read", UNDER_HIDDEN, True),
        # Editing: its author, within COMMENTS_EDIT_MINUTES (15), not after nor once removed.
        (RITA, "comment:update", COMMENT, True),
        (RITA, "comment:update", HELD, True),
        (RITA, "comment:update", STALE, False),
        (RITA, "comment:update", HIDDEN, False),
        (ALICE, "comment:update", COMMENT, False),
        (ADA, "comment:update", COMMENT, False),
        (None, "comment:update", COMMENT, False),
        # Deleting: its author, the post's author, editors and admins; "[deleted]" nobody.
        (RITA, "comment:delete", STALE, True),
        (ALICE, "comment:delete", COMMENT, True),
        (ALICE_READER, "comment:delete", COMMENT, True),
        (BOB, "comment:delete", COMMENT, False),
        (ED, "comment:delete", COMMENT, True),
        (ADA, "comment:delete", GONE, False),
        (None, "comment:delete", COMMENT, False),
        # Moderating a post's comments: its author (whatever their role), editors, admins.
        (ALICE, "comment:moderate", OPEN, True),
        (ALICE_READER, "comment:moderate", OPEN, True),
        (BOB, "comment:moderate", OPEN, False),
        (RITA, "comment:moderate", OPEN, False),
        (ED, "comment:moderate", OPEN, True),
        (None, "comment:moderate", OPEN, False),
        (ADA, "comment:moderate", None, False),
        (RITA, "comments:queue", None, False),
        (ALICE, "comments:queue", None, True),
        (None, "comments:queue", None, False),
        # A banned account writes and edits no comment; it may still delete its own.
        (RITA_BANNED, "comment:create", OPEN, False),
        (RITA_BANNED, "comment:update", COMMENT, False),
        (RITA_BANNED, "comment:delete", COMMENT, True),
        # Banning: editors and admins, of an account with a lesser role, never their own.
        (ED, "comment:ban", RITA, True),
        (ED, "comment:ban", ALICE, True),
        (ADA, "comment:ban", ED, True),
        (ED, "comment:ban", ADA, False),
        (ED, "comment:ban", {**ED, "id": 6}, False),
        (ED, "comment:ban", ED, False),
        (ADA, "comment:ban", ADA, False),
        (ALICE, "comment:ban", RITA, False),
        (RITA, "comment:ban", BOB, False),
        (None, "comment:ban", RITA, False),
        (ED, "comment:ban", None, False),
    ],
)
def test_can_answers_for_comments(app, monkeypatch, user, action, resource, allowed):
    monkeypatch.setattr(policy, "utcnow", lambda: NOW)
    app.config["COMMENTS_CLOSE_AFTER_DAYS"] = 30
    with app.app_context():
        assert policy.can(user, action, resource) is allowed


def test_the_sql_and_python_comment_visibility_rules_agree(app, make_user, make_post):
    from flaskr.comments.tables import STATUSES, comment

    alice = make_user("alice", PW)
    rita = make_user("rita", PW, role="reader")
    post_id = make_post(alice, "Post", "b")
    with app.app_context():
        with transaction() as conn:
            for status, author in itertools.product((*STATUSES, "odd"), (alice, rita, None)):
                conn.execute(
                    sa.insert(comment).values(
                        post_id=post_id,
                        author_id=author,
                        body=status,
                        body_html="",
                        status=status,
                        created_at=NOW,
                    )
                )
        rows = list(connection().execute(sa.select(comment)).mappings())
        for viewer, moderator in itertools.product((None, {"id": rita}, {"id": alice}), (0, 1)):
            condition = policy.visible_comments(comment, viewer, bool(moderator))
            in_sql = set(connection().execute(sa.select(comment.c.id).where(condition)).scalars())
            in_python = {
                row["id"] for row in rows if policy.comment_is_visible(row, viewer, bool(moderator))
            }
            assert in_sql == in_python, (viewer, moderator)
            assert 0 < len(in_sql) < len(rows)


def test_an_unknown_action_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown action"):
        policy.can(ALICE, "post:publish-everything", PUBLISHED)


def test_an_unknown_access_rule_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown access rule"):
        policy.declare("admins-and-friends")


# --- every route declares who may reach it -----------------------------------

#: Values for URL parts when a test builds every route's address.
URL_VALUES = {
    "post_id": 1,
    "media_id": 1,
    "user_id": 2,
    "invite_id": 1,
    "version": 1,
    "slug": "published",
    "name": "shared",
    "username": "alice",
    "kind": "atom",
    "chunk": 0,
    "filename": "style.css",
    "token": "made-up",
    "message_id": 1,
    "comment_id": 1,
    # The archive's month of the posts the tests write (now).
    "year": datetime.now(UTC).year,
    "month": datetime.now(UTC).month,
}


def _routes(app):
    """(rule, endpoint, view) for every route; view is None for a URL-only alias."""
    for rule in app.url_map.iter_rules():
        yield rule, rule.endpoint, app.view_functions.get(rule.endpoint)


def _url(rule) -> str:
    return rule.build({name: URL_VALUES[name] for name in rule.arguments})[1]


@pytest.mark.parametrize("limits", [False, True])
def test_every_route_declares_who_may_reach_it(make_app, limits):
    # With rate limits on, views are wrapped by the limiter: the declaration must survive.
    app = make_app(RATELIMIT_ENABLED=limits)
    undeclared = [
        endpoint
        for _rule, endpoint, view in _routes(app)
        if view is not None and policy.access_rule(view) not in policy.RULES
    ]
    assert undeclared == []


def test_a_route_without_a_view_is_only_an_alias_of_a_declared_one(app):
    # The tutorial's url_for("index") names "/", which the blog's index serves.
    for rule, endpoint, view in _routes(app):
        if view is None:
            adapter = app.url_map.bind("localhost")
            served_by, _ = adapter.match(_url(rule))
            assert served_by != endpoint
            assert policy.access_rule(app.view_functions[served_by]) in policy.RULES


@pytest.fixture
def site(app, make_user, make_post) -> dict[str, int]:
    """Alice's published post 1 (tagged 'shared', with a revision) and draft post 2."""
    alice = make_user("alice", PW)
    make_user("bob", PW)
    published = make_post(alice, title="Published", body="b", tags="shared")
    draft = make_post(alice, title="Draft", body="d", status="draft")
    from flaskr.blog import services

    with app.app_context():
        services.revise_post(
            published, services.Draft(title="Published", body="b2", tags="shared"), base_version=1
        )
        from flaskr.comments import queries as comment_queries

        with transaction():
            comment_queries.insert(
                post_id=published,
                author_id=alice,
                body="c",
                body_html="<p>c</p>",
                status="published",
                created_at=NOW,
            )
    return {"published": published, "draft": draft}


def test_signed_in_routes_send_visitors_to_the_login_page_for_every_method(app, client, site):
    checked = 0
    for rule, endpoint, view in _routes(app):
        if view is None or policy.access_rule(view) != policy.SIGNED_IN:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            response = client.open(_url(rule), method=method)
            assert response.status_code == 302, (endpoint, method)
            assert response.headers["Location"] == "/auth/login", (endpoint, method)
            checked += 1
    assert checked >= 10


_MAILED_LINKS = {"recovery.confirm_email", "recovery.reset_password", "twofactor.second_step"}


def test_public_routes_never_ask_visitors_to_sign_in(app, client, site):
    app.config["COMMENTS_GUESTS"] = True  # the guest's comment form is public then
    checked = 0
    for rule, endpoint, view in _routes(app):
        if view is None or policy.access_rule(view) != policy.PUBLIC or "GET" not in rule.methods:
            continue
        with client.get(_url(rule)) as response:  # static files stream: close them
            # A mailed link's page refuses the made-up token, and the code step of
            # two-factor login a visitor who gave no password first: each says so.
            # A picture's file by a made-up name is not there (test_media.py fetches real ones).
            if endpoint in _MAILED_LINKS:
                expected: tuple[int, ...] = (400,)
            elif endpoint == "media.file":
                expected = (404,)
            elif endpoint == "comments.permalink":
                expected = (303,)  # to the comment on its post's page
            elif endpoint in ("comments.confirm", "notifications.unsubscribe"):
                expected = (404,)  # a made-up signed link names no comment, no account
            else:
                expected = (200, 301, 302)
            assert response.status_code in expected, endpoint
            assert "/auth/login" not in response.headers.get("Location", ""), endpoint
        checked += 1
    assert checked >= 15


# Every route for every kind of user (visitor, each role, a disabled user): test_roles.py.


# --- refusals: the status, and one audit line naming what was refused --------------------


def _refusal(app, caplog, call, user, path: str = "/1/update"):
    """The HTTP error call() raises in a request from user, and the security lines logged."""
    from werkzeug.exceptions import HTTPException

    caplog.clear()
    with app.test_request_context(path, environ_base={"REMOTE_ADDR": "203.0.113.9"}):
        g.user = user
        with pytest.raises(HTTPException) as refused:
            call()
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("security ")]
    return refused.value.code, lines


def test_authorize_refuses_another_users_action_with_a_403_and_logs_it(app, caplog):
    code, lines = _refusal(app, caplog, lambda: policy.authorize("post:update", PUBLISHED), BOB)
    assert code == 403
    assert lines == [
        "security forbidden action=post:update path=/1/update post_id=7 user_id=2 ip=203.0.113.9"
    ]


def test_authorize_hides_a_post_with_a_404_and_logs_nothing(app, caplog):
    code, lines = _refusal(
        app, caplog, lambda: policy.authorize("post:read", DRAFT, hide=True), BOB, "/8/draft"
    )
    assert (code, lines) == (404, [])


def test_authorize_answers_404_for_a_missing_post(app, caplog):
    code, lines = _refusal(app, caplog, lambda: policy.authorize("post:update", None), ALICE)
    assert (code, lines) == (404, [])


def test_authorize_returns_the_post_the_user_may_act_on(app, caplog):
    with app.test_request_context("/7/update"):
        g.user = ALICE
        assert policy.authorize("post:update", PUBLISHED) is PUBLISHED


def test_require_refuses_a_visitor_with_a_403_and_logs_it(app, caplog):
    code, lines = _refusal(app, caplog, lambda: policy.require("post:create"), None, "/create")
    assert code == 403
    assert lines == ["security forbidden action=post:create path=/create user_id=- ip=203.0.113.9"]


def test_require_lets_a_signed_in_user_create(app, caplog):
    with app.test_request_context("/create"):
        g.user = BOB
        assert policy.require("post:create") is None
    assert not [r for r in caplog.records if r.getMessage().startswith("security ")]


def test_templates_ask_can_for_the_signed_in_user(app, monkeypatch):
    monkeypatch.setattr(policy, "utcnow", lambda: NOW)
    template = (
        "{{ can('post:update', post) }} {{ can('post:read', post) }} {{ can('post:create') }}"
    )
    for user, expected in ((ALICE, "True True True"), (BOB, "False False True")):
        with app.test_request_context("/"):
            g.user = user
            assert render_template_string(template, post=SCHEDULED) == expected
    with app.test_request_context("/"):
        g.user = None
        assert render_template_string(template, post=SCHEDULED) == "False False False"


def test_a_declared_view_keeps_its_rule_and_an_undeclared_one_has_none():
    def view() -> str:
        return ""

    assert policy.access_rule(view) is None
    assert policy.declare(policy.SIGNED_IN)(view) is view
    assert policy.access_rule(view) == policy.SIGNED_IN
    assert policy.access_rule(policy.declare(policy.PUBLIC)(lambda: "")) == policy.PUBLIC


def test_flasks_static_route_is_public(app):
    assert policy.access_rule(app.view_functions["static"]) == policy.PUBLIC
