"""Drafts save themselves while the author types; a run of autosaves is one version."""

from __future__ import annotations

import re

import sqlalchemy as sa

from flaskr.blog.tables import post, post_revision
from flaskr.db import connection

PW = "a long enough pw"


def setup_draft(client, make_user) -> None:
    make_user("alice", PW)
    client.post("/auth/login", data={"username": "alice", "password": PW})
    client.post("/create", data={"title": "Draft", "body": "v1", "action": "draft"})


def autosave(client, body: str, version: int, **extra):
    form = {"title": "Draft", "body": body, "version": str(version), **extra}
    return client.post("/1/autosave", data=form)


def history(app) -> list[tuple[int, str]]:
    with app.app_context():
        rows = connection().execute(
            sa.select(post_revision.c.version, post_revision.c.body).order_by(
                post_revision.c.version
            )
        )
        return [tuple(row) for row in rows]


def current(app):
    with app.app_context():
        return connection().execute(sa.select(post).where(post.c.id == 1)).mappings().one()


def test_a_run_of_autosaves_keeps_one_version_in_the_history(app, client, make_user):
    setup_draft(client, make_user)
    for n, body in enumerate(["v2 typing", "v2 typing more", "v2 typing done"], start=1):
        response = autosave(client, body, version=n)
        assert response.status_code == 200
        answer = response.get_json()
        assert answer["version"] == n + 1
        assert re.fullmatch(r"Draft saved at \d\d:\d\d\.", answer["message"])
    assert current(app)["body"] == "v2 typing done"
    assert current(app)["status"] == "draft"
    # Only the text before the first autosave went into the history.
    assert history(app) == [(1, "v1")]
    # The author's own save keeps the last autosaved text as a version of its own.
    form = {"title": "Draft", "body": "final", "version": "4", "action": "draft"}
    assert client.post("/1/update", data=form).status_code == 302
    assert history(app) == [(1, "v1"), (4, "v2 typing done")]
    assert current(app)["autosaved_at"] is None
    # And the next autosave starts a new run.
    autosave(client, "after", version=5)
    autosave(client, "after more", version=6)
    assert history(app) == [(1, "v1"), (4, "v2 typing done"), (5, "final")]


def test_a_published_post_is_never_autosaved(app, client, make_user):
    make_user("alice", PW)
    client.post("/auth/login", data={"username": "alice", "password": PW})
    client.post("/create", data={"title": "Out", "body": "live", "action": "publish"})
    response = autosave(client, "half-typed", version=1)
    assert response.status_code == 409
    assert "Only drafts are saved automatically" in response.get_json()["error"]
    assert current(app)["body"] == "live" and history(app) == []


def test_an_autosave_over_a_newer_save_is_refused(app, client, make_user):
    setup_draft(client, make_user)
    autosave(client, "mine", version=1)
    response = autosave(client, "stale tab", version=1)
    assert response.status_code == 409
    assert "Someone else saved this post" in response.get_json()["error"]
    assert current(app)["body"] == "mine"


def test_a_bad_autosave_says_why_and_changes_nothing(app, client, make_user):
    setup_draft(client, make_user)
    response = client.post("/1/autosave", data={"title": " ", "body": "x", "version": "1"})
    assert response.status_code == 400
    assert "Title" in response.get_json()["error"]
    response = client.post("/1/autosave", data={"title": "T", "body": "x", "version": "abc"})
    assert response.status_code == 400
    assert current(app)["body"] == "v1" and current(app)["version"] == 1


def test_someone_else_cannot_autosave_your_draft(app, client, make_user):
    setup_draft(client, make_user)
    client.post("/auth/logout")
    make_user("bob", PW)
    client.post("/auth/login", data={"username": "bob", "password": PW})
    assert autosave(client, "bob's", version=1).status_code == 403
    assert current(app)["body"] == "v1"


def test_the_editor_offers_autosave_only_for_drafts(client, make_user, make_app):
    setup_draft(client, make_user)
    assert 'data-autosave="/1/autosave"' in client.get("/1/update").get_data(as_text=True)
    assert "data-autosave" not in client.get("/create").get_data(as_text=True)
    client.post(
        "/1/update", data={"title": "Draft", "body": "v1", "version": "1", "action": "publish"}
    )
    assert "data-autosave" not in client.get("/1/update").get_data(as_text=True)


def test_autosave_can_be_turned_off(make_app, make_user):
    app = make_app(AUTOSAVE_SECONDS=0)
    client = app.test_client()
    setup_draft(client, make_user)
    assert "data-autosave" not in client.get("/1/update").get_data(as_text=True)
