"""The trash: a deleted post leaves the blog, waits TRASH_DAYS, and comes back whole."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from flaskr.blog import services
from flaskr.blog.tables import post, post_revision
from flaskr.db import connection, transaction, utcnow
from flaskr.trash import services as trash
from flaskr.trash.tables import post_trash

PW = "a long enough pw"


@pytest.fixture
def alice(make_user):
    return make_user("alice", PW)


@pytest.fixture
def written(app, alice, make_post):
    """Alice's post 1, tagged, published a while ago, edited once (two versions)."""
    post_id = make_post(alice, title="Harbour notes", body="Boats", tags="sea, boats")
    with app.app_context():
        services.revise_post(post_id, services.Draft("Harbour notes", "Boats and gulls", "sea"))
    return post_id


def rows(app, table) -> list[dict]:
    with app.app_context():
        return [dict(r) for r in connection().execute(sa.select(table)).mappings()]


def login(client, name="alice"):
    client.post("/auth/login", data={"username": name, "password": PW})


def test_deleting_moves_the_post_out_of_the_blog_and_into_the_trash(app, client, written):
    before = rows(app, post)
    login(client)
    response = client.post(f"/{written}/delete")
    assert response.status_code == 302
    assert rows(app, post) == [] and rows(app, post_revision) == []
    assert client.get("/1/harbour-notes").status_code == 404
    page = client.get("/me/trash/").get_data(as_text=True)
    assert "Harbour notes" in page and "Restore" in page
    kept = rows(app, post_trash)
    assert [(r["post_id"], r["title"]) for r in kept] == [(written, "Harbour notes")]
    assert before[0]["title"] == "Harbour notes"


def test_restoring_brings_back_the_same_post_address_history_and_tags(app, client, written):
    login(client)
    address = "/1/harbour-notes"
    before_post = rows(app, post)
    before_history = [(r["version"], r["body"], r["tags"]) for r in rows(app, post_revision)]
    page_before = client.get(address).get_data(as_text=True)
    client.post(f"/{written}/delete")
    response = client.post(f"/me/trash/{written}/restore")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/{written}/update"
    assert rows(app, post) == before_post  # every column, the id and dates included
    assert [(r["version"], r["body"], r["tags"]) for r in rows(app, post_revision)] == (
        before_history
    )
    assert rows(app, post_trash) == []
    assert client.get(address).get_data(as_text=True).count("Boats and gulls") == page_before.count(
        "Boats and gulls"
    )
    with app.app_context():
        assert services.tag_names(written) == ["sea"]
    client.post("/auth/logout")
    # Readers see it again at once: the page cache and the search index too.
    assert "Harbour notes" in client.get("/").get_data(as_text=True)
    assert "Harbour notes" in client.get("/search?q=gulls").get_data(as_text=True)
    assert "Harbour notes" in client.get("/tag/sea").get_data(as_text=True)


def test_a_restored_post_keeps_its_history_when_other_posts_took_its_history_ids(
    app, client, alice, written, make_post
):
    login(client)
    client.post(f"/{written}/delete")
    # Another post's history may get the row ids the trashed history had.
    other = make_post(alice, title="Other", body="one")
    with app.app_context():
        services.revise_post(other, services.Draft("Other", "two"), base_version=1)
        services.revise_post(other, services.Draft("Other", "three"), base_version=2)
    assert client.post(f"/me/trash/{written}/restore").status_code == 302
    history = sorted((r["post_id"], r["version"]) for r in rows(app, post_revision))
    assert history == [(written, 1), (other, 1), (other, 2)]


def test_deleting_for_good_empties_the_trash_and_cannot_be_restored(app, client, written):
    login(client)
    client.post(f"/{written}/delete")
    assert client.post(f"/me/trash/{written}/delete").status_code == 302
    assert rows(app, post_trash) == []
    assert client.post(f"/me/trash/{written}/restore").status_code == 404
    assert client.post(f"/me/trash/{written}/delete").status_code == 404


def test_a_post_past_the_trash_days_is_gone(app, client, written):
    login(client)
    client.post(f"/{written}/delete")
    with app.app_context(), transaction() as conn:
        conn.execute(
            sa.update(post_trash).values(deleted_at=utcnow() - timedelta(days=30, seconds=5))
        )
    assert "Harbour notes" not in client.get("/me/trash/").get_data(as_text=True)
    assert client.post(f"/me/trash/{written}/restore").status_code == 404
    # Still stored until something purges: the next deletion, or purge_expired().
    assert len(rows(app, post_trash)) == 1
    with app.app_context():
        assert trash.purge_expired() == 1
    assert rows(app, post_trash) == []


def test_one_day_inside_the_limit_is_still_restorable(app, client, written):
    login(client)
    client.post(f"/{written}/delete")
    with app.app_context(), transaction() as conn:
        conn.execute(sa.update(post_trash).values(deleted_at=utcnow() - timedelta(days=29)))
    assert client.post(f"/me/trash/{written}/restore").status_code == 302


def test_the_next_deletion_purges_what_expired(app, client, alice, written, make_post):
    login(client)
    client.post(f"/{written}/delete")
    with app.app_context(), transaction() as conn:
        conn.execute(sa.update(post_trash).values(deleted_at=utcnow() - timedelta(days=31)))
    second = make_post(alice, title="Second")
    client.post(f"/{second}/delete")
    assert [r["post_id"] for r in rows(app, post_trash)] == [second]


def test_with_no_trash_days_a_deletion_is_final(make_app, alice, make_post):
    app = make_app(TRASH_DAYS=0)
    post_id = make_post(alice, title="Gone")
    client = app.test_client()
    login(client)
    client.post(f"/{post_id}/delete")
    assert rows(app, post_trash) == [] and rows(app, post) == []
    with client.session_transaction() as session:
        assert [m for _, m in session["_flashes"]] == ["The post was deleted."]


def test_only_the_author_sees_restores_or_purges_a_trashed_post(app, client, make_user, written):
    login(client)
    client.post(f"/{written}/delete")
    client.post("/auth/logout")
    make_user("bob", PW)
    login(client, "bob")
    assert "Harbour notes" not in client.get("/me/trash/").get_data(as_text=True)
    assert client.post(f"/me/trash/{written}/restore").status_code == 404
    assert client.post(f"/me/trash/{written}/delete").status_code == 404
    assert len(rows(app, post_trash)) == 1
    client.post("/auth/logout")
    for path in ("/me/trash/", f"/me/trash/{written}/restore", f"/me/trash/{written}/delete"):
        response = client.open(path, method="GET" if path.endswith("/") else "POST")
        assert response.headers["Location"] == "/auth/login"


def test_deleting_the_account_empties_its_trash(app, client, written):
    login(client)
    client.post(f"/{written}/delete")
    assert client.post("/auth/account/delete", data={"password": PW}).status_code == 302
    assert rows(app, post_trash) == []


def test_an_unknown_post_id_is_a_404(client, alice):
    login(client)
    assert client.post("/me/trash/999/restore").status_code == 404
    assert client.post("/me/trash/999/delete").status_code == 404


def test_the_trash_page_is_paged(app, client, alice, make_post):
    login(client)
    for n in range(12):
        post_id = make_post(alice, title=f"Post {n:02d}")
        client.post(f"/{post_id}/delete")
    first = client.get("/me/trash/").get_data(as_text=True)
    second = client.get("/me/trash/?page=2").get_data(as_text=True)
    assert first.count("<tr>") == 11 and second.count("<tr>") == 3  # + the heading row
    assert "Post 11" in first and "Post 00" in second
    assert client.get("/me/trash/?page=3").status_code == 404


def test_an_empty_trash_says_so(client, alice):
    login(client)
    assert "The trash is empty." in client.get("/me/trash/").get_data(as_text=True)


def test_purge_trash_command_says_what_it_purged(app, runner, client, written):
    login(client)
    client.post(f"/{written}/delete")
    assert "Purged 0 posts deleted over 30 days ago." in runner.invoke(args=["purge-trash"]).output
    with app.app_context(), transaction() as conn:
        conn.execute(sa.update(post_trash).values(deleted_at=utcnow() - timedelta(days=31)))
    result = runner.invoke(args=["purge-trash"])
    assert result.exit_code == 0
    assert "Purged 1 post deleted over 30 days ago." in result.output
    assert rows(app, post_trash) == []


def test_a_restore_that_lost_the_race_says_so(client, written, monkeypatch):
    login(client)
    client.post(f"/{written}/delete")
    # Restored (or purged) by another request between the check and the restore.
    monkeypatch.setattr(trash, "restore", lambda post_id: False)
    response = client.post(f"/me/trash/{written}/restore")
    assert response.headers["Location"] == "/me/trash/"
    with client.session_transaction() as session:
        assert [m for _, m in session["_flashes"]][-1] == "That post is no longer in the trash."


def test_the_trash_services_say_whether_anything_happened(app, written, make_user, make_post):
    with app.app_context():
        assert trash.move_to_trash(999) is False
        assert trash.move_to_trash(written) is True
        assert trash.restore(999) is False
        assert trash.delete_forever(999) is False
        assert trash.delete_forever(written) is True
        assert trash.delete_forever(written) is False


def test_a_one_day_trash_still_keeps_posts(make_app, alice, make_post):
    app = make_app(TRASH_DAYS=1)
    post_id = make_post(alice, title="Kept a day")
    with app.app_context():
        assert trash.move_to_trash(post_id)
    assert [r["post_id"] for r in rows(app, post_trash)] == [post_id]
