"""The media library: deleting, replacing, the trash, accounts, rebuild and gc, and
whose pictures a post may hold on to."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from media_client import (
    login,
    original,
    picture,
    post_page,
    public_names,
    replace,
    rows,
    stored,
    trash,
    upload,
)

from flaskr.db import utcnow
from flaskr.media import queries, services
from flaskr.media.tables import media_file, media_use

# --- deleting ------------------------------------------------------------------


def test_a_picture_in_use_is_not_deleted_and_the_posts_are_named(app, author):
    shown = upload(author, picture(), json=True).json
    author.post("/create", data={"title": "Holiday", "body": shown["markdown"]})
    response = author.post(f"/media/{shown['id']}/delete", follow_redirects=True)
    assert "still shown in: “Holiday”" in response.get_data(as_text=True)
    assert len(rows(app)) == 1 and len(stored(app)) == 7
    author.post("/1/update", data={"title": "Holiday", "body": "no picture now"})
    response = author.post(f"/media/{shown['id']}/delete", follow_redirects=True)
    assert "Picture deleted." in response.get_data(as_text=True)
    assert rows(app) == [] and rows(app, media_file) == [] and stored(app) == set()


def test_only_the_owner_or_an_admin_deletes_a_picture(app, author, make_user, auth):
    shown = upload(author, picture(), json=True).json
    make_user("bob", role="author")
    make_user("ada", role="admin")
    author.post("/auth/logout")
    auth.login("bob", "a long enough pw")
    assert author.post(f"/media/{shown['id']}/delete").status_code == 403
    assert "A red square" not in author.get("/media/").get_data(as_text=True)
    author.post("/auth/logout")
    auth.login("ada", "a long enough pw")
    assert "A red square" in author.get("/media/?everyone=1").get_data(as_text=True)
    assert author.post(f"/media/{shown['id']}/delete").status_code == 302
    assert rows(app) == []


def test_deleting_an_account_deletes_its_pictures_files(app, author, client):
    upload(author, picture())
    assert stored(app)
    author.post("/auth/account/delete", data={"password": "test"})
    assert rows(app) == [] and stored(app) == set()


def test_gc_removes_files_no_upload_names_and_keeps_the_rest(app, author, runner):
    upload(author, picture())
    kept = stored(app)
    with app.app_context():
        services.store().put("B" * 22 + "-480.webp", b"orphan", "image/webp", public=True)
        services.store().put("C" * 22 + ".jpg", b"orphan", "image/jpeg", public=False)
    result = runner.invoke(args=["media", "gc", "--grace", "0"])
    assert result.exit_code == 0 and "Deleted 2 orphaned files." in result.output
    assert stored(app) == kept


def test_rebuild_makes_the_widths_the_settings_now_ask_for(app, author, make_app):
    markdown = upload(author, picture(size=(1200, 600)), json=True).json["markdown"]
    author.post("/create", data={"title": "Pics", "body": markdown})
    assert " 960w" in post_page(author, 1)
    rebuilt = make_app(MEDIA_WIDTHS=(300,))
    result = rebuilt.test_cli_runner().invoke(args=["media", "rebuild"])
    assert result.exit_code == 0, result.output
    assert "Rebuilt 1 pictures." in result.output
    names = public_names(rebuilt)
    widths = sorted({int(n.rsplit("-", 1)[1].split(".")[0]) for n in names})
    assert widths == [300, 1200]
    assert stored(rebuilt) == set(names) | {original(rebuilt)}
    assert rows(rebuilt)[0]["bytes"] == sum(f["bytes"] for f in rows(rebuilt, media_file))
    # Posts list the new widths (their stored HTML is rendered again).
    reader = rebuilt.test_client()
    page = post_page(reader, 1)
    assert " 300w" in page and " 960w" not in page


# --- pictures and the trash ------------------------------------------------------


def test_a_picture_only_a_trashed_post_shows_is_kept_for_it(app, author):
    shown = upload(author, picture(), json=True).json
    author.post("/create", data={"title": "Holiday", "body": shown["markdown"]})
    trash(author, 1)
    assert rows(app, media_use) == []  # no live post shows it...
    response = author.post(f"/media/{shown['id']}/delete", follow_redirects=True)
    assert "still shown in: “Holiday”" in response.get_data(as_text=True)  # ...but one may again
    assert len(rows(app)) == 1
    author.post("/me/trash/1/restore")
    assert [(u["media_id"], u["post_id"]) for u in rows(app, media_use)] == [(shown["id"], 1)]


def test_a_post_deleted_for_good_takes_the_pictures_only_it_showed(app, author):
    alone = upload(author, picture(), json=True).json
    shared = upload(author, picture(), json=True).json
    author.post("/create", data={"title": "Gone", "body": alone["markdown"] + shared["markdown"]})
    author.post("/create", data={"title": "Stays", "body": shared["markdown"]})
    trash(author, 1)
    assert len(rows(app)) == 2  # in the trash, it may come back
    author.post("/me/trash/1/delete")
    assert [r["id"] for r in rows(app)] == [shared["id"]]
    assert len(stored(app)) == 7  # the shared picture's files alone


def test_without_a_trash_deleting_a_post_deletes_its_unused_pictures(app, author, make_app):
    no_trash = make_app(TRASH_DAYS=0)
    client = no_trash.test_client()
    client.post("/auth/login", data={"username": "test", "password": "test"})
    shown = upload(client, picture(), json=True).json
    client.post("/create", data={"title": "Gone", "body": shown["markdown"]})
    trash(client, 1)
    assert rows(app) == [] and stored(app) == set()


# --- replacing -------------------------------------------------------------------


def test_replacing_a_picture_shows_the_new_one_in_every_post_as_a_new_version(
    app, author, make_user, auth
):
    old = upload(author, picture(size=(1200, 800)), alt="The old one", json=True).json
    author.post("/create", data={"title": "One", "body": f"a {old['markdown']}"})
    author.post("/create", data={"title": "Two", "body": "b", "cover": old["markdown"]})
    old_files = stored(app)
    response = replace(author, old["id"], picture("PNG", (600, 300)))
    assert response.status_code == 302
    (row,) = rows(app)
    assert row["id"] == old["id"] and row["alt"] == "The old one"
    assert row["key"] != old["key"] and row["key"].endswith("-600x300.png")
    # The old files are gone, the new ones kept under new names (the old are cached).
    assert stored(app).isdisjoint(old_files) and len(stored(app)) == 5
    with app.app_context():
        from flaskr.blog import queries as blog_queries
        from flaskr.history import queries as history_queries

        one, two = blog_queries.find_post(1), blog_queries.find_post(2)
        assert one["body"] == f"a ![The old one](/media/{row['key']})"
        assert two["cover"] == f"![The old one](/media/{row['key']})"
        assert one["version"] == 2 and one["saved_by"] == 1
        assert history_queries.count_revisions(1) == 1  # the old text is in the history
    assert sorted(u["post_id"] for u in rows(app, media_use)) == [1, 2]
    assert 'width="600" height="300"' in post_page(author, 1)


def test_a_replacement_that_is_no_picture_changes_nothing(app, author):
    old = upload(author, picture(), json=True).json
    author.post("/create", data={"title": "One", "body": old["markdown"]})
    before = stored(app)
    response = replace(author, old["id"], b"<svg onload=alert(1)>")
    assert response.status_code == 400
    assert "web page or script" in response.get_data(as_text=True)
    assert rows(app)[0]["key"] == old["key"] and stored(app) == before


def test_only_the_owner_or_an_admin_replaces_a_picture(app, author, make_user, auth):
    old = upload(author, picture(), json=True).json
    make_user("bob", role="editor")
    author.post("/auth/logout")
    auth.login("bob", "a long enough pw")
    assert replace(author, old["id"], picture("PNG")).status_code == 403
    assert rows(app)[0]["key"] == old["key"]


def test_a_picture_a_trashed_post_shows_is_not_replaced(app, author):
    old = upload(author, picture(), json=True).json
    author.post("/create", data={"title": "One", "body": old["markdown"]})
    trash(author, 1)
    response = replace(author, old["id"], picture("PNG"))
    assert response.status_code == 400
    assert "A post in the trash shows this picture" in response.get_data(as_text=True)
    assert rows(app)[0]["key"] == old["key"]


# --- whose pictures a post may hold on to ---------------------------------------------


def test_another_authors_post_never_holds_or_takes_ones_picture(app, author, make_user):
    alices = upload(author, picture(), json=True).json  # "test" is alice here
    make_user("bob", role="author")
    login(author, "bob")
    author.post("/create", data={"title": "Bob's", "body": alices["markdown"]})
    assert rows(app, media_use) == []  # shown, but not hers in use
    trash(author, 1)
    author.post("/me/trash/1/delete")  # gone for good: her picture is not his to take
    assert [r["id"] for r in rows(app)] == [alices["id"]]
    # And while his post shows it, she still decides: she may delete it.
    login(author, "bob")
    author.post("/create", data={"title": "Bob's again", "body": alices["markdown"]})
    login(author, "test", "test")
    assert author.post(f"/media/{alices['id']}/delete").status_code == 302
    assert rows(app) == []


def test_an_admin_giving_away_an_accounts_posts_gives_its_pictures_too(app, author, make_user):
    shown = upload(author, picture(), json=True).json
    author.post("/create", data={"title": "Kept", "body": shown["markdown"]})
    make_user("ada", role="admin")
    make_user("heir", role="author")
    login(author, "ada")
    response = author.post("/admin/users/1/delete", data={"posts": "reassign", "heir": "heir"})
    assert response.status_code == 302
    (row,) = rows(app)
    assert row["owner_id"] == 3 and len(stored(app)) == 7


def test_the_trash_emptied_after_trash_days_takes_its_pictures(app, author):
    shown = upload(author, picture(), json=True).json
    author.post("/create", data={"title": "Old", "body": shown["markdown"]})
    trash(author, 1)
    with app.app_context():
        from flaskr.db import transaction
        from flaskr.trash import services as trash_services
        from flaskr.trash.tables import post_trash

        with transaction() as conn:
            conn.execute(sa.update(post_trash).values(deleted_at=utcnow() - timedelta(days=31)))
        assert trash_services.purge_expired() == 1
    assert rows(app) == [] and stored(app) == set()


def test_a_replacement_by_an_admin_is_saved_in_the_posts_by_the_admin(app, author, make_user):
    old = upload(author, picture(), json=True).json
    author.post("/create", data={"title": "One", "body": old["markdown"]})
    ada = make_user("ada", role="admin")
    login(author, "ada")
    assert replace(author, old["id"], picture("PNG", (300, 200))).status_code == 302
    with app.app_context():
        from flaskr.blog import queries as blog_queries

        assert blog_queries.find_post(1)["saved_by"] == ada


def test_a_rebuild_that_cannot_remake_one_picture_goes_on_and_says_so(app, author, make_app):
    large = upload(author, picture(size=(1200, 600)), json=True).json
    upload(author, picture(size=(100, 100)))
    author.post("/create", data={"title": "Pics", "body": large["markdown"]})
    before = {f["name"] for f in rows(app, media_file) if f["media_id"] == large["id"]}
    rebuilt = make_app(MEDIA_MAX_PIXELS=100_000, MEDIA_WIDTHS=(50,))
    result = rebuilt.test_cli_runner().invoke(args=["media", "rebuild"])
    assert result.exit_code == 1
    assert f"Picture {large['id']}: This picture is 1200 x 600 pixels" in result.output
    assert "Rebuilt 1 pictures." in result.output
    # The one not remade keeps every file; the post's page still finds them.
    assert before <= stored(app)
    assert " 960w" in post_page(rebuilt.test_client(), 1)


def test_a_replace_that_read_the_picture_before_another_replace_changes_nothing(
    app, author, monkeypatch
):
    old = upload(author, picture(), json=True).json
    author.post("/create", data={"title": "One", "body": old["markdown"]})
    with app.app_context():
        stale = queries.find_media(old["id"])  # read before the first replace lands
    assert replace(author, old["id"], picture("PNG", (300, 200))).status_code == 302
    after_first = stored(app)
    real = queries.find_media

    def stale_first(media_id: int, *, for_update: bool = False) -> Any:
        return real(media_id, for_update=True) if for_update else stale

    monkeypatch.setattr(queries, "find_media", stale_first)
    response = replace(author, old["id"], picture("PNG", (200, 100)))
    assert response.status_code == 400
    assert "The picture was changed meanwhile" in response.get_data(as_text=True)
    assert stored(app) == after_first  # the second one's files went again
    assert "-300x200.png" in rows(app)[0]["key"]
    assert 'width="300" height="200"' in post_page(author, 1)
