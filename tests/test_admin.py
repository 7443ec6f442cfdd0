"""The admin area: the dashboard, accounts and their roles, the audit log."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from flaskr.admin.tables import audit_log
from flaskr.auth.tables import user
from flaskr.db import connection, utcnow

PW = "a long enough pw"


@pytest.fixture
def admin(app, client, auth, make_user):
    """Ada, an admin, signed in; bob, an author; rita, a reader. Their ids."""
    ids = {
        "ada": make_user("ada", PW, role="admin"),
        "bob": make_user("bob", PW),
        "rita": make_user("rita", PW, role="reader"),
    }
    auth.login("ada", PW)
    return ids


def _users(app) -> dict[str, tuple[str, bool]]:
    with app.app_context():
        rows = connection().execute(sa.select(user.c.username, user.c.role, user.c.disabled))
        return {name: (role, bool(disabled)) for name, role, disabled in rows}


def _audit(app) -> list[tuple]:
    with app.app_context():
        query = sa.select(
            audit_log.c.event, audit_log.c.actor_id, audit_log.c.target_id, audit_log.c.details
        ).order_by(audit_log.c.id)
        return [tuple(row) for row in connection().execute(query)]


# --- the dashboard ------------------------------------------------------------------


def test_the_dashboard_counts_accounts_posts_and_failed_logins(
    app, client, admin, make_user, make_post
):
    make_post(admin["bob"], title="Out")
    make_post(admin["bob"], title="Later", publish_at=utcnow() + timedelta(days=2))
    make_post(admin["bob"], title="Half", status="draft")
    make_post(admin["bob"], title="Half 2", status="draft")
    app.test_client().post("/auth/login", data={"username": "bob", "password": "wrong pw!"})
    page = client.get("/admin/")
    assert page.status_code == 200
    text = " ".join(page.text.split())
    for row in ("<td>Reader</td><td>1</td>", "<td>Author</td><td>1</td>",
                "<td>Editor</td><td>0</td>", "<td>Administrator</td><td>1</td>",
                "<td>Disabled</td><td>0</td>", "<td>Published</td><td>1</td>",
                "<td>Scheduled</td><td>1</td>", "<td>Draft</td><td>2</td>"):  # fmt: skip
        assert row in text.replace("> <", "><"), row
    assert "1 failed login in the last day." in text
    assert page.headers["Cache-Control"] == "no-store"
    # The newest audit entries, named as the audit log names them.
    recent = text.split("Recent audit entries", 1)[1].split("The whole audit log", 1)[0]
    assert "Failed login" in recent


def test_the_dashboard_s_nav_link_is_shown_to_admins_only(client, auth, admin):
    assert b'href="/admin/"' in client.get("/").data
    auth.logout()
    auth.login("bob", PW)
    assert b'href="/admin/"' not in client.get("/").data


def test_a_visitor_is_sent_to_log_in_and_the_answer_is_never_stored(app):
    response = app.test_client().get("/admin/users")
    assert response.status_code == 302 and response.headers["Location"] == "/auth/login"
    assert response.headers["Cache-Control"] == "no-store"


# --- accounts -------------------------------------------------------------------------


def test_the_user_list_finds_by_the_start_of_the_name_and_pages(app, client, admin, make_user):
    for n in range(25):
        make_user(f"writer{n:02d}", PW)
    first = client.get("/admin/users")
    assert first.status_code == 200
    assert 'href="/u/ada">ada</a>' in first.text and 'rel="next"' in first.text
    found = client.get("/admin/users?q=writer1")
    names = [f"writer1{n}" for n in range(10)]
    assert all(f">{name}</a>" in found.text for name in names)
    assert ">writer20</a>" not in found.text and 'href="/u/ada"' not in found.text
    assert client.get("/admin/users?page=9").status_code == 404
    assert "No users found." in client.get("/admin/users?q=zzz").text


def test_changing_a_role_applies_at_once_and_is_audited(app, client, admin):
    bob = app.test_client()
    bob.post("/auth/login", data={"username": "bob", "password": PW})
    assert bob.get("/create").status_code == 200
    response = client.post(f"/admin/users/{admin['bob']}/role", data={"role": "reader"})
    assert response.status_code == 302
    assert client.get(response.headers["Location"]).text.count("bob is now Reader.") == 1
    assert _users(app)["bob"] == ("reader", False)
    assert bob.get("/create").status_code == 403
    assert _audit(app) == [("role-changed", admin["ada"], admin["bob"], "old=author new=reader")]
    # The same role again changes nothing and records nothing.
    client.post(f"/admin/users/{admin['bob']}/role", data={"role": "reader"})
    assert len(_audit(app)) == 1


@pytest.mark.parametrize("role", ["owner", "", "ADMIN"])
def test_a_role_not_on_the_list_is_refused_and_nothing_changes(app, client, admin, role):
    response = client.post(f"/admin/users/{admin['bob']}/role", data={"role": role})
    assert response.status_code == 400
    assert "Choose a role from the list." in response.text
    assert _users(app)["bob"] == ("author", False) and _audit(app) == []


@pytest.mark.parametrize("action", ["role", "disable", "enable"])
def test_an_admin_cannot_change_their_own_account_here(app, client, admin, action):
    # An admin who demoted or disabled themselves could leave the site without one.
    response = client.post(f"/admin/users/{admin['ada']}/{action}", data={"role": "reader"})
    assert response.status_code == 400
    assert "You cannot change your own account here" in response.text
    assert _users(app)["ada"] == ("admin", False) and _audit(app) == []


@pytest.mark.parametrize("action", ["role", "disable", "enable"])
def test_a_missing_account_is_a_404(app, client, admin, action):
    response = client.post(f"/admin/users/99999/{action}", data={"role": "reader"})
    assert response.status_code == 404


def test_disabling_ends_every_session_at_once_and_enabling_lets_the_account_back(
    app, client, admin
):
    bob = app.test_client()
    bob.post("/auth/login", data={"username": "bob", "password": PW})
    assert bob.get("/auth/account").status_code == 200
    response = client.post(f"/admin/users/{admin['bob']}/disable", data={"q": "b", "page": "1"})
    assert response.headers["Location"] == "/admin/users?q=b&page=1"
    assert "bob is disabled and was signed out everywhere." in client.get("/admin/users").text
    assert bob.get("/auth/account").status_code == 302  # signed out, there and then
    assert _users(app)["bob"] == ("author", True)
    again = bob.post("/auth/login", data={"username": "bob", "password": PW})
    assert b"This account is disabled." in again.data
    client.post(f"/admin/users/{admin['bob']}/enable")
    assert _users(app)["bob"] == ("author", False)
    bob.post("/auth/login", data={"username": "bob", "password": PW})
    assert bob.get("/auth/account").status_code == 200
    events = [(event, target) for event, _actor, target, _details in _audit(app)]
    assert events == [
        ("user-disabled", admin["bob"]),
        ("login-failed", None),  # the attempt while disabled
        ("user-enabled", admin["bob"]),
    ]


def test_admin_actions_are_rate_limited_per_admin(make_app, make_user):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_ADMIN="2 per minute")
    make_user("ada", PW, role="admin")
    bob = make_user("bob", PW)
    client = app.test_client()
    client.post("/auth/login", data={"username": "ada", "password": PW})
    statuses = [
        client.post(f"/admin/users/{bob}/role", data={"role": role}).status_code
        for role in ("reader", "author", "editor")
    ]
    assert statuses == [302, 302, 429]
    assert _users(app)["bob"] == ("author", False)


# --- the audit log ------------------------------------------------------------------


def test_the_audit_log_shows_who_did_what_to_whom_and_filters_by_kind(app, client, admin):
    client.post(f"/admin/users/{admin['bob']}/role", data={"role": "editor"})
    app.test_client().post(
        "/auth/login", data={"username": "rita", "password": "wrong pw!"},
        environ_base={"REMOTE_ADDR": "203.0.113.7"},
    )  # fmt: skip
    page = client.get("/admin/audit").text
    assert "Role changed" in page and "Failed login" in page
    assert "<td>ada</td>" in page and "<td>bob</td>" in page and "203.0.113.7" in page
    only = client.get("/admin/audit?event=login-failed").text
    assert "Failed login" in only and "<td>Role changed</td>" not in only
    assert client.get("/admin/audit?event=anything-else").status_code == 404
    assert client.get("/admin/audit?page=2").status_code == 404


def test_audit_entries_from_the_command_line_name_no_actor(app, admin):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["set-role", "rita", "author"]).exit_code == 0
    assert _audit(app) == [("role-changed", None, admin["rita"], "old=reader new=author via=cli")]


def test_an_audit_log_that_cannot_be_written_never_fails_the_action(
    app, client, admin, monkeypatch, caplog
):
    # The line is logged either way; the database entry is the extra.
    from flaskr.admin import queries

    def broken(**_values):
        raise sa.exc.OperationalError("INSERT", {}, Exception("disk full"))

    monkeypatch.setattr(queries, "insert_audit", broken)
    response = client.post(f"/admin/users/{admin['bob']}/role", data={"role": "editor"})
    assert response.status_code == 302
    assert _users(app)["bob"] == ("editor", False)
    messages = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("security role-changed") for m in messages)
    assert any(m.startswith("security audit-not-stored event=role-changed") for m in messages)


def _fail(app, username="rita", ip="203.0.113.7"):
    app.test_client().post(
        "/auth/login", data={"username": username, "password": "wrong pw!"},
        environ_base={"REMOTE_ADDR": ip},
    )  # fmt: skip


def _bursts(app) -> list[tuple]:
    with app.app_context():
        query = (
            sa.select(audit_log.c.ip, audit_log.c.details, audit_log.c.times)
            .where(audit_log.c.event == "login-failed")
            .order_by(audit_log.c.id)
        )
        return [tuple(row) for row in connection().execute(query)]


def test_a_burst_of_failed_logins_is_one_entry_that_counts_them(app, client, admin, caplog):
    for _ in range(4):
        _fail(app)
    _fail(app, ip="198.51.100.2")  # another address: another entry
    _fail(app, username="bob")  # another account: another entry
    wrong = 'username=rita reason="Incorrect password."'
    assert _bursts(app) == [
        ("203.0.113.7", wrong, 4),
        ("198.51.100.2", wrong, 1),
        ("203.0.113.7", wrong.replace("rita", "bob"), 1),
    ]
    # The log file keeps a line for every attempt.
    assert sum("security login-failed" in r.getMessage() for r in caplog.records) == 6
    page = " ".join(client.get("/admin/audit").text.split())
    assert "Failed login<br> 4 times in a row, the last" in page
    assert page.count("times in a row") == 1
    assert "6 failed logins in the last day." in client.get("/admin/").text


def test_a_burst_ends_after_a_quiet_spell_and_after_an_hour(app, admin):
    _fail(app)
    _fail(app)
    with app.app_context(), connection().begin():
        quiet = utcnow() - timedelta(minutes=16)  # the last failure, 16 minutes ago
        connection().execute(sa.update(audit_log).values(at=quiet, last_at=quiet))
    _fail(app)
    _fail(app)
    assert [times for _ip, _details, times in _bursts(app)] == [2, 2]
    with app.app_context(), connection().begin():
        # The second burst began over an hour ago, though its last failure is recent.
        connection().execute(
            sa.update(audit_log)
            .where(audit_log.c.times == 2, audit_log.c.at > quiet)
            .values(at=utcnow() - timedelta(minutes=61), last_at=utcnow())
        )
    _fail(app)
    assert [times for _ip, _details, times in _bursts(app)] == [2, 2, 1]


def test_the_dashboard_counts_failures_of_the_last_day_bursts_still_going_whole(app, admin):
    for _ in range(3):
        _fail(app)
    _fail(app, ip="198.51.100.2")
    with app.app_context(), connection().begin():
        old = utcnow() - timedelta(days=1, minutes=5)
        # A burst of 3 that began a day ago and went on into the last day ...
        connection().execute(
            sa.update(audit_log)
            .where(audit_log.c.times == 3)
            .values(at=old, last_at=utcnow() - timedelta(hours=23))
        )
        # ... and a lone failure older than a day.
        connection().execute(
            sa.update(audit_log).where(audit_log.c.times == 1).values(at=old, last_at=None)
        )
    from flaskr.admin import services

    with app.test_request_context():
        assert services.dashboard().failed_logins_today == 3


def test_only_failures_come_in_bursts_every_admin_action_is_its_own_entry(app, client, admin):
    for role in ("editor", "author", "editor", "author"):
        client.post(f"/admin/users/{admin['bob']}/role", data={"role": role})
    with app.app_context():
        times = connection().execute(sa.select(audit_log.c.times)).scalars().all()
    assert times == [1, 1, 1, 1]


# --- every post, for editors and admins ---------------------------------------------


@pytest.fixture
def editor(app, client, auth, make_user, make_post):
    """Ed, an editor, signed in; bob's posts in each state. Their ids."""
    bob = make_user("bob", PW)
    ids = {
        "ed": make_user("ed", PW, role="editor"),
        "bob": bob,
        "out": make_post(bob, title="Out now", tags="boats"),
        "later": make_post(bob, title="Later on", publish_at=utcnow() + timedelta(days=2)),
        "draft": make_post(bob, title="Half done", status="draft", tags="boats"),
    }
    auth.login("ed", PW)
    return ids


def _titles(page) -> list[str]:
    import re

    return re.findall(r'<td><a href="/\d+/[^"]*">([^<]+)</a></td>', page.text)


@pytest.mark.parametrize(
    ("query", "titles"),
    [
        ("", ["Half done", "Later on", "Out now"]),
        ("?state=draft", ["Half done"]),
        ("?state=scheduled", ["Later on"]),
        ("?state=published", ["Out now"]),
        ("?author=bob", ["Half done", "Later on", "Out now"]),
        ("?author=nobody", []),
        ("?tag=boats", ["Half done", "Out now"]),
        ("?tag=boats&state=draft", ["Half done"]),
        ("?tag=nothing", []),
    ],
)
def test_editors_see_every_post_in_every_state_by_author_state_and_tag(
    client, editor, query, titles
):
    page = client.get(f"/admin/posts{query}")
    assert page.status_code == 200
    assert _titles(page) == titles
    if not titles:
        assert "No posts found." in page.text


def test_a_state_that_is_not_one_is_a_404(client, editor):
    assert client.get("/admin/posts?state=deleted").status_code == 404


def test_editors_reach_the_posts_page_from_the_header_and_see_only_it(client, editor):
    assert b'href="/admin/posts"' in client.get("/").data
    page = client.get("/admin/posts").text
    assert 'href="/admin/users"' not in page and 'href="/admin/audit"' not in page


def test_unpublishing_takes_a_post_off_the_blog_at_once_and_is_audited(app, client, editor):
    reader = app.test_client()
    assert "Out now" in reader.get("/").text  # now in the page cache too
    response = client.post(f"/admin/posts/{editor['out']}/unpublish", data={"state": "published"})
    assert response.headers["Location"] == "/admin/posts?state=published"
    assert "&#34;Out now&#34; is a draft again." in client.get("/admin/posts").text
    assert "Out now" not in reader.get("/").text
    assert reader.get(f"/{editor['out']}/out-now").status_code == 404
    with app.app_context():
        version, status = (
            connection()
            .execute(
                sa.text("SELECT version, status FROM post WHERE id = :id"), {"id": editor["out"]}
            )
            .one()
        )
    assert (version, status) == (2, "draft")  # a new version: the history keeps the old one
    assert _audit(app) == [
        (
            "post-unpublished",
            editor["ed"],
            None,
            f"post_id={editor['out']} author_id={editor['bob']}",
        )
    ]


def test_unpublishing_a_draft_changes_nothing(app, client, editor):
    client.post(f"/admin/posts/{editor['draft']}/unpublish")
    with app.app_context():
        version = (
            connection()
            .execute(sa.text("SELECT version FROM post WHERE id = :id"), {"id": editor["draft"]})
            .scalar()
        )
    assert version == 1 and _audit(app) == []


# --- deleting an account ------------------------------------------------------------


def _posts_by_author(app) -> dict[str, list[str]]:
    with app.app_context():
        rows = connection().execute(
            sa.text('SELECT u.username, p.title FROM post p JOIN "user" u ON u.id = p.author_id')
        )
        found: dict[str, list[str]] = {}
        for name, title in rows:
            found.setdefault(name, []).append(title)
        return {name: sorted(titles) for name, titles in found.items()}


@pytest.fixture
def bobs_posts(app, admin, make_post):
    """Bob's published post, draft, and a post in his trash."""
    from flaskr.blog import services as blog_services

    make_post(admin["bob"], title="Harbour")
    make_post(admin["bob"], title="Notes", status="draft")
    gone = make_post(admin["bob"], title="Gone")
    with app.app_context():
        blog_services.delete_post(gone)
    return gone


def test_the_delete_page_asks_what_happens_to_the_posts_and_gives_them_away_by_default(
    client, admin, bobs_posts
):
    page = client.get(f"/admin/users/{admin['bob']}/delete")
    assert page.status_code == 200
    assert "It has 3 posts (drafts and the trash included)." in page.text
    assert 'value="reassign" id="posts-reassign" checked' in page.text
    assert 'name="heir" id="heir" value="ada"' in page.text


def test_deleting_an_account_can_give_its_posts_and_trash_to_another(
    app, client, admin, bobs_posts
):
    bob = app.test_client()
    bob.post("/auth/login", data={"username": "bob", "password": PW})
    response = client.post(
        f"/admin/users/{admin['bob']}/delete", data={"posts": "reassign", "heir": "ada"}
    )
    assert response.headers["Location"] == "/admin/users"
    assert "bob is deleted; their posts now belong to ada." in client.get("/admin/users").text
    assert "bob" not in _users(app)
    assert _posts_by_author(app) == {"ada": ["Harbour", "Notes"]}
    assert bob.get("/auth/account").status_code == 302  # signed out with the account
    # The search index and the pages name the new author.
    found = app.test_client().get("/search?q=harbour&author=ada").text
    assert "by ada on" in found and "Harbour" in found
    # The trashed post is ada's to restore now, and comes back as hers.
    assert client.post(f"/me/trash/{bobs_posts}/restore").status_code == 302
    assert _posts_by_author(app) == {"ada": ["Gone", "Harbour", "Notes"]}
    ((event, actor, target, details),) = _audit(app)
    assert (event, actor, target) == ("user-deleted", admin["ada"], admin["bob"])
    assert details == f"username=bob posts_to={admin['ada']}"


def test_deleting_an_account_can_delete_its_posts(app, client, admin, bobs_posts):
    client.post(f"/admin/users/{admin['bob']}/delete", data={"posts": "delete"})
    assert "bob" not in _users(app) and _posts_by_author(app) == {}
    assert "Harbour" not in app.test_client().get("/").text
    assert client.post(f"/me/trash/{bobs_posts}/restore").status_code == 404


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"posts": "keep"}, "Choose what happens to their posts."),
        ({"posts": "reassign", "heir": "nobody"}, "Name an enabled account"),
        ({"posts": "reassign", "heir": "bob"}, "Name an enabled account"),
        ({"posts": "reassign", "heir": "rita"}, "rita may not write posts"),
    ],
)
def test_a_bad_delete_form_is_refused_and_nothing_is_lost(
    app, client, admin, bobs_posts, form, message
):
    response = client.post(f"/admin/users/{admin['bob']}/delete", data=form)
    assert response.status_code == 400 and message in response.text
    assert "bob" in _users(app)
    assert _posts_by_author(app) == {"bob": ["Harbour", "Notes"]}


def test_posts_are_never_given_to_a_disabled_account(app, client, admin, bobs_posts, make_user):
    dora = make_user("dora", PW)
    client.post(f"/admin/users/{dora}/disable")
    response = client.post(
        f"/admin/users/{admin['bob']}/delete", data={"posts": "reassign", "heir": "dora"}
    )
    assert response.status_code == 400 and "bob" in _users(app)


def test_an_admin_cannot_delete_their_own_account_here_and_a_missing_one_is_a_404(
    app, client, admin
):
    response = client.post(f"/admin/users/{admin['ada']}/delete", data={"posts": "delete"})
    assert response.status_code == 400 and "ada" in _users(app)
    assert client.get("/admin/users/99999/delete").status_code == 404
