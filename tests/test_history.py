"""Post history: every save keeps the previous version; diffs, restores, and edit conflicts."""

from __future__ import annotations

import re
import threading
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from flaskr.blog.tables import post, post_revision
from flaskr.db import connection, transaction, utcnow

PW = "a long enough pw"
_VERSION = re.compile(r'name="version" value="(\d+)"')


def flashed(client) -> list[str]:
    """The messages waiting in the client's session."""
    with client.session_transaction() as session:
        return [message for _, message in session.get("_flashes", [])]


def current(app, post_id: int = 1) -> dict:
    """The post's title, body and version as stored."""
    with app.app_context():
        query = sa.select(post.c.title, post.c.body, post.c.version).where(post.c.id == post_id)
        return dict(connection().execute(query).mappings().one())


def history(app, post_id: int = 1) -> list[tuple]:
    """The stored earlier versions: (version, title, body, tags), oldest first."""
    with app.app_context():
        query = (
            sa.select(
                post_revision.c.version,
                post_revision.c.title,
                post_revision.c.body,
                post_revision.c.tags,
            )
            .where(post_revision.c.post_id == post_id)
            .order_by(post_revision.c.version)
        )
        return [tuple(row) for row in connection().execute(query)]


def edit(client, post_id: int, title: str, body: str, tags: str = "", version=None):
    """Submit the editor; version is the one the form was opened at (read from it if None)."""
    if version is None:
        version = _VERSION.search(client.get(f"/{post_id}/update").get_data(as_text=True))[1]
    form = {"title": title, "body": body, "tags": tags, "version": str(version)}
    return client.post(f"/{post_id}/update", data=form)


@pytest.fixture
def alice_post(app, make_user, make_post, auth) -> int:
    """Alice's post (version 1), with alice signed in on `client`; bob exists too."""
    alice = make_user("alice", PW)
    make_user("bob", PW)
    post_id = make_post(alice, title="First title", body="line one\nline two", tags="alpha")
    auth.login("alice", PW)
    return post_id


def test_each_save_keeps_the_previous_version(app, client, alice_post):
    assert edit(client, alice_post, "Second title", "line one\nline 2", "beta").status_code == 302
    assert edit(client, alice_post, "Third title", "only line", "beta, gamma").status_code == 302
    assert current(app) == {"title": "Third title", "body": "only line", "version": 3}
    assert history(app) == [
        (1, "First title", "line one\nline two", "alpha"),
        (2, "Second title", "line one\nline 2", "beta"),
    ]


def test_a_preview_or_a_refused_save_keeps_no_version(app, client, alice_post):
    form = {"title": "", "body": "x", "version": "1"}
    response = client.post(f"/{alice_post}/update", data=form)
    assert response.status_code == 200
    assert "Title is required." in response.get_data(as_text=True)
    preview = {"title": "T", "body": "x", "version": "1", "action": "preview"}
    assert client.post(f"/{alice_post}/update", data=preview).status_code == 200
    assert history(app) == []
    assert current(app)["version"] == 1


def test_the_history_page_lists_earlier_versions(client, alice_post):
    edit(client, alice_post, "Second title", "b")
    edit(client, alice_post, "Third title", "c")
    response = client.get(f"/{alice_post}/revisions")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Now at version 3, saved by alice." in page
    assert page.index("<td>Second title</td>") < page.index("<td>First title</td>")
    assert page.count("by alice</span>") == 2  # who saved each earlier version
    assert f'href="/{alice_post}/revisions/1"' in page
    assert f'href="/{alice_post}/revisions/2"' in page


def test_the_history_names_who_saved_each_version(app, client, alice_post, make_user, auth):
    make_user("ed", PW, role="editor")
    edit(client, alice_post, "Alice's second", "b")  # alice saves version 2
    auth.login("ed", PW)
    edit(client, alice_post, "Ed's third", "c")  # an editor saves version 3
    with app.app_context(), transaction() as conn:
        # Version 1 as flaskr stored it before it recorded who saved a version.
        conn.execute(
            sa.update(post_revision).where(post_revision.c.version == 1).values(saved_by=None)
        )
    auth.login("alice", PW)
    edit(client, alice_post, "Alice's fourth", "d")
    page = " ".join(client.get(f"/{alice_post}/revisions").text.split())
    assert "Now at version 4, saved by alice." in page
    rows = re.findall(
        r"<td>Version (\d)</td>.*?</time> <span class=\"saved-by\">by ([^<]+)</span>", page
    )
    assert rows == [("3", "ed"), ("2", "alice"), ("1", "unknown")]
    one = " ".join(client.get(f"/{alice_post}/revisions/3").text.split())
    assert "Saved just now by ed." in one
    assert "Saved just now." in client.get(f"/{alice_post}/revisions/1").text


def test_a_post_never_edited_has_no_history_yet(client, alice_post):
    page = client.get(f"/{alice_post}/revisions").get_data(as_text=True)
    assert "No earlier versions yet." in page


def test_the_history_is_paged(make_app, make_user, make_post):
    app = make_app(POSTS_PER_PAGE=2)  # four versions a page
    make_user("alice", PW)
    client = app.test_client()
    client.post("/auth/login", data={"username": "alice", "password": PW})
    with app.app_context():
        from flaskr.blog import services

        post_id = services.create_post(1, services.Draft(title="v1", body="b"))
    for number in range(2, 7):
        assert edit(client, post_id, f"v{number}", "b").status_code == 302
    first = client.get(f"/{post_id}/revisions").get_data(as_text=True)
    assert "<td>v5</td>" in first and "<td>v2</td>" in first and "<td>v1</td>" not in first
    assert f'href="/{post_id}/revisions?page=2"' in first
    assert "Page 1 of 2" in first  # five earlier versions, four a page: counted cheaply
    second = client.get(f"/{post_id}/revisions?page=2").get_data(as_text=True)
    assert "Page 2 of 2" in second
    assert "<td>v1</td>" in second and "<td>v2</td>" not in second
    assert client.get(f"/{post_id}/revisions?page=3").status_code == 404


def test_the_diff_shows_removed_and_added_words(client, alice_post):
    edit(client, alice_post, "Better title", "line one\nline 2\n<script>x</script>", "alpha, beta")
    response = client.get(f"/{alice_post}/revisions/1")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    # Word by word: only what changed is marked.
    assert "# <del>First</del><ins>Better</ins> title" in page
    assert "line <del>two\n</del><ins>2\n&lt;script&gt;x&lt;/script&gt;\n</ins>" in page
    assert "Tags: alpha<ins>, beta</ins>" in page
    assert "\nline one\n" in page  # unchanged context, unmarked
    assert "<script>x" not in page  # the author's text is text
    assert "Restore version 1" in page


def test_restoring_brings_back_the_old_text_as_a_new_version(app, client, alice_post):
    edit(client, alice_post, "Second title", "changed body", "beta")
    response = client.post(f"/{alice_post}/revisions/1/restore")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/{alice_post}/revisions"
    assert flashed(client)[-1] == "Version 1 restored as version 3."
    assert current(app) == {"title": "First title", "body": "line one\nline two", "version": 3}
    assert history(app)[-1] == (2, "Second title", "changed body", "beta")
    page = client.get(f"/{alice_post}/first-title").get_data(as_text=True)
    assert '<a href="/tag/alpha">alpha</a>' in page and "/tag/beta" not in page


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/1/revisions"),
        ("get", "/1/revisions/1"),
        ("post", "/1/revisions/1/restore"),
    ],
)
def test_only_the_author_sees_or_restores_the_history(app, client, auth, alice_post, method, path):
    edit(client, alice_post, "Second title", "b")
    auth.logout()
    anonymous = getattr(client, method)(path)
    assert anonymous.status_code == 302
    assert anonymous.headers["Location"] == "/auth/login"
    auth.login("bob", PW)
    assert getattr(client, method)(path).status_code == 403
    assert current(app)["version"] == 2


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/99/revisions"),
        ("get", "/99/revisions/1"),
        ("post", "/99/revisions/1/restore"),
        ("get", "/1/revisions/7"),
        ("post", "/1/revisions/7/restore"),
        ("get", "/1/revisions/1"),  # version 1 is current: no revision is stored for it
    ],
)
def test_missing_posts_and_versions_are_404(app, client, alice_post, method, path):
    assert getattr(client, method)(path).status_code == 404
    assert current(app)["version"] == 1


def test_a_second_editor_gets_a_conflict_and_loses_nothing(app, make_app, alice_post):
    """Two tabs open version 1; the first saves; the second is told, keeps both texts."""
    first, second = app.test_client(), make_app().test_client()
    for client in (first, second):
        client.post("/auth/login", data={"username": "alice", "password": PW})
    for client in (first, second):
        assert 'name="version" value="1"' in client.get(f"/{alice_post}/update").get_data(
            as_text=True
        )

    assert (
        edit(first, alice_post, "Theirs", "text of the first editor", version=1).status_code == 302
    )
    response = edit(second, alice_post, "Mine", "text of the second editor", version=1)
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Someone else saved this post while you were editing it." in page
    assert "text of the first editor" in page  # theirs, to merge from
    assert "text of the second editor" in page  # mine, still in the editor
    assert current(app) == {"title": "Theirs", "body": "text of the first editor", "version": 2}
    # The form now carries their version: saving again deliberately replaces it.
    assert _VERSION.search(page)[1] == "2"
    response = edit(second, alice_post, "Merged", "both texts", version=2)
    assert response.status_code == 302
    assert current(app) == {"title": "Merged", "body": "both texts", "version": 3}
    assert [row[:3] for row in history(app)] == [
        (1, "First title", "line one\nline two"),
        (2, "Theirs", "text of the first editor"),
    ]


def test_a_stale_restore_target_still_conflicts_with_an_open_editor(app, client, alice_post):
    """A restore is a save like any other: an editor opened before it gets the conflict."""
    edit(client, alice_post, "Second title", "b")
    client.post(f"/{alice_post}/revisions/1/restore")
    response = edit(client, alice_post, "From an old tab", "x", version=2)
    assert response.status_code == 409
    assert current(app)["title"] == "First title"


def _together(app, action) -> list[str]:
    """Run action(number) in two threads started at the same instant; what each one got."""
    from flaskr.blog import services

    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def run(number: int) -> None:
        with app.app_context():
            barrier.wait()
            try:
                action(number)
            except services.ConflictError:
                outcomes.append("conflict")
            except Exception as error:  # noqa: BLE001 - the test reports any other failure
                outcomes.append(type(error).__name__)
            else:
                outcomes.append("saved")

    threads = [threading.Thread(target=run, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(outcomes)


def _save_together(app, post_id: int, base_version: int) -> list[str]:
    """Two saves of one post from the same version at the same instant."""
    from flaskr.blog import services

    def save(number: int) -> None:
        draft = services.Draft(title=f"Editor {number}", body="b")
        services.revise_post(post_id, draft, base_version=base_version)

    return _together(app, save)


def test_simultaneous_saves_of_one_version_give_one_save_and_one_conflict(
    app, make_user, make_post
):
    alice = make_user("alice", PW)
    for _ in range(8):
        post_id = make_post(alice, title="Contested")
        assert _save_together(app, post_id, base_version=1) == ["conflict", "saved"]
        assert current(app, post_id)["version"] == 2
        assert [row[0] for row in history(app, post_id)] == [1]


def test_simultaneous_restores_both_keep_their_history(app, make_user, make_post):
    """A restore checks no version (the author picked it from the history), yet two at
    once still queue: each keeps the version it replaced. (This test used to make two
    saves without a base version; such a save now conflicts instead.)"""
    from flaskr.blog import services
    from flaskr.history.services import restore_revision

    alice = make_user("alice", PW)
    for _ in range(8):
        post_id = make_post(alice, title="Contested")
        with app.app_context():
            services.revise_post(post_id, services.Draft(title="Second", body="b"), base_version=1)
        outcomes = _together(app, lambda _number: restore_revision(post_id, 1))
        assert outcomes == ["saved", "saved"]
        assert current(app, post_id)["version"] == 4
        assert [row[0] for row in history(app, post_id)] == [1, 2, 3]


# --- edits that name no valid version (no client may skip the conflict check) ----------

MALFORMED_VERSIONS = ["", "abc", "-1", "0", "1.0", " 1", "+1", "١", "2147483648", "9" * 40]


@pytest.mark.parametrize("version", MALFORMED_VERSIONS)
def test_an_edit_with_a_malformed_version_is_a_400_and_saves_nothing(
    app, client, alice_post, version
):
    edit(client, alice_post, "Second title", "second body")  # now at version 2
    form = {"title": "Blind", "body": "overwrite", "version": version}
    response = client.post(f"/{alice_post}/update", data=form)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "This save does not say which version of the post it was made from" in page
    assert "overwrite" in page  # their text, still in the editor
    assert "second body" in page  # the current text, beside it
    assert current(app) == {"title": "Second title", "body": "second body", "version": 2}
    assert [row[0] for row in history(app)] == [1]


@pytest.mark.parametrize("action", ["save", "preview"])
def test_an_edit_without_a_version_conflicts_once_anyone_has_edited_the_post(
    app, client, alice_post, action
):
    """A form without the field is read as made from the post as first written."""
    edit(client, alice_post, "Second title", "second body")
    form = {"title": "Blind", "body": "overwrite", "action": action}
    response = client.post(f"/{alice_post}/update", data=form)
    if action == "save":
        assert response.status_code == 409
        assert "Someone else saved this post while you were editing it." in response.get_data(
            as_text=True
        )
    else:
        assert _VERSION.search(response.get_data(as_text=True))[1] == "1"
    assert current(app) == {"title": "Second title", "body": "second body", "version": 2}
    assert [row[0] for row in history(app)] == [1]


def test_an_edit_without_a_version_saves_a_post_nobody_has_edited(app, client, alice_post):
    """The Flask tutorial's own test posts just a title and a body."""
    response = client.post(f"/{alice_post}/update", data={"title": "updated", "body": ""})
    assert response.status_code == 302
    assert current(app) == {"title": "updated", "body": "", "version": 2}


def test_a_preview_or_a_refused_save_keeps_the_version_the_editor_was_opened_at(
    app, make_app, client, alice_post
):
    """Otherwise the form would quietly move to the newest version, and the next save
    would overwrite a save it never saw."""
    other = make_app().test_client()
    other.post("/auth/login", data={"username": "alice", "password": PW})
    assert edit(other, alice_post, "From the other tab", "theirs").status_code == 302
    preview = {"title": "Mine", "body": "mine", "version": "1", "action": "preview"}
    response = client.post(f"/{alice_post}/update", data=preview)
    assert _VERSION.search(response.get_data(as_text=True))[1] == "1"
    refused = {"title": "", "body": "mine", "version": "1"}
    response = client.post(f"/{alice_post}/update", data=refused)
    assert "Title is required." in response.get_data(as_text=True)
    assert _VERSION.search(response.get_data(as_text=True))[1] == "1"
    assert edit(client, alice_post, "Mine", "mine", version=1).status_code == 409
    assert current(app)["title"] == "From the other tab"


@pytest.mark.parametrize("version", ["", "abc", -1, 0, True, 2**31, "2147483648", 1.0, [1]])
def test_the_service_refuses_a_malformed_version_for_every_client(
    app, make_user, make_post, version
):
    """The rule lives in the service, so a future JSON API obeys it too."""
    from flaskr.blog import services

    post_id = make_post(make_user("alice", PW), title="Kept")
    with app.app_context(), pytest.raises(services.BadVersionError):
        services.revise_post(post_id, services.Draft(title="T", body="b"), base_version=version)
    assert current(app, post_id)["title"] == "Kept"
    assert history(app, post_id) == []


def test_the_service_refuses_to_revise_a_deleted_post_or_restore_a_missing_version(
    app, make_user, make_post
):
    """What the HTTP guards already stop, the rules stop too (for other callers)."""
    from flaskr.blog import services
    from flaskr.history.services import restore_revision
    from flaskr.validation import ValidationError

    post_id = make_post(make_user("alice", PW))
    with app.app_context():
        with pytest.raises(ValidationError, match="That version does not exist."):
            restore_revision(post_id, 1)
        services.delete_post(post_id)
        with pytest.raises(ValidationError, match="This post no longer exists."):
            services.revise_post(post_id, services.Draft(title="T", body="b"))
        with pytest.raises(ValidationError, match="That version does not exist."):
            restore_revision(post_id, 1)


# --- one post's history never reaches another's -------------------------------------------


@pytest.fixture
def two_histories(app, client, make_post, alice_post) -> dict[str, int]:
    """Alice's post A (versions 1-2 kept, now at 3) and bob's post B (versions 1-4 kept).

    Bob's post was saved first, so each of his revisions precedes hers in storage.
    """
    from flaskr.blog import services

    bob_post = make_post(2, title="Bob first", body="bob secret body one")
    with app.app_context():
        for number in range(2, 6):
            draft = services.Draft(title=f"Bob v{number}", body=f"bob secret body {number}")
            services.revise_post(bob_post, draft, base_version=number - 1)
    edit(client, alice_post, "Alice second", "alice body two")
    edit(client, alice_post, "Alice third", "alice body three")
    return {"alice": alice_post, "bob": bob_post}


def test_the_history_page_lists_only_this_posts_versions(client, two_histories):
    page = client.get(f"/{two_histories['alice']}/revisions").get_data(as_text=True)
    assert "<td>Alice second</td>" in page and "<td>First title</td>" in page
    assert "Bob" not in page
    assert f'href="/{two_histories["alice"]}/revisions/3"' not in page


@pytest.mark.parametrize("version", [1, 2, 3, 4])
def test_another_posts_version_is_never_shown_through_this_posts_address(
    client, two_histories, version
):
    """Bob's versions 1-4 exist; through alice's post only her own 1 and 2 do."""
    response = client.get(f"/{two_histories['alice']}/revisions/{version}")
    if version <= 2:
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        if version == 1:
            assert "# <del>First title</del><ins>Alice third</ins>" in page
        else:
            assert "# Alice <del>second</del><ins>third</ins>" in page
    else:
        assert response.status_code == 404
        page = response.get_data(as_text=True)
    assert "bob secret" not in page and "Bob" not in page


@pytest.mark.parametrize("version", [3, 4])
def test_another_posts_version_is_never_restored_through_this_posts_address(
    app, client, two_histories, version
):
    alice, bob = two_histories["alice"], two_histories["bob"]
    assert client.post(f"/{alice}/revisions/{version}/restore").status_code == 404
    assert current(app, alice) == {"title": "Alice third", "body": "alice body three", "version": 3}
    assert current(app, bob)["version"] == 5
    assert [row[0] for row in history(app, alice)] == [1, 2]


def test_the_history_queries_answer_for_one_post_only(app, two_histories):
    """The reads on their own: a version number names a version of one post."""
    from flaskr.history import queries
    from flaskr.history.services import restore_revision
    from flaskr.validation import ValidationError

    alice, bob = two_histories["alice"], two_histories["bob"]
    with app.app_context():
        assert queries.find_revision(alice, 3) is None
        assert queries.find_revision(alice, 1)["title"] == "First title"
        assert queries.find_revision(bob, 1)["title"] == "Bob first"
        assert queries.find_revision(bob, 4)["post_id"] == bob
        listed = queries.list_revisions(alice, page=1, per_page=10)
        assert [(row["version"], row["title"]) for row in listed] == [
            (2, "Alice second"),
            (1, "First title"),
        ]
        with pytest.raises(ValidationError) as refused:
            restore_revision(alice, 4)
    assert str(refused.value) == "That version does not exist."
    assert current(app, alice)["version"] == 3


def test_the_history_query_pages_newest_first_with_one_row_to_tell_more_exist(app, two_histories):
    from flaskr.history import queries

    bob = two_histories["bob"]
    with app.app_context():

        def versions(page: int, per_page: int) -> list[int]:
            rows = queries.list_revisions(bob, page=page, per_page=per_page)
            return [row["version"] for row in rows]

        assert versions(1, 2) == [4, 3, 2]
        assert versions(2, 2) == [2, 1]
        assert versions(3, 2) == []
        assert versions(1, 4) == [4, 3, 2, 1]
        assert versions(2, 3) == [1]
        saved = queries.list_revisions(bob, page=1, per_page=1)[0]
    assert set(saved.keys()) == {"version", "title", "saved_at", "saved_by_name"}
    assert saved["title"] == "Bob v4"


# --- restoring keeps the post's status and publish time -------------------------------------


def _status(app, post_id: int) -> tuple:
    with app.app_context():
        query = sa.select(post.c.status, post.c.published_at).where(post.c.id == post_id)
        return tuple(connection().execute(query).one())


def test_restoring_a_drafts_version_keeps_it_a_draft(app, client, auth, make_user, make_post):
    alice = make_user("alice", PW)
    post_id = make_post(alice, title="Secret plan", body="first words", status="draft")
    before = _status(app, post_id)
    auth.login("alice", PW)
    form = {"title": "Secret plan", "body": "second words", "status": "draft", "version": "1"}
    assert client.post(f"/{post_id}/update", data=form).status_code == 302
    response = client.post(f"/{post_id}/revisions/1/restore")
    assert response.status_code == 302
    assert flashed(client)[-1] == "Version 1 restored as version 3."
    assert current(app, post_id) == {"title": "Secret plan", "body": "first words", "version": 3}
    assert _status(app, post_id) == before
    assert before[0] == "draft"
    auth.logout()
    assert client.get(f"/{post_id}/secret-plan").status_code == 404
    assert "Secret plan" not in client.get("/").get_data(as_text=True)


def test_the_restore_service_keeps_a_drafts_status_and_a_scheduled_posts_time(
    app, make_user, make_post
):
    """The rule lives in the service: no other caller can publish a draft by restoring it."""
    from flaskr.blog import services
    from flaskr.history.services import restore_revision

    alice = make_user("alice", PW)
    later = utcnow().replace(microsecond=0) + timedelta(days=3)
    draft_id = make_post(alice, title="Draft", body="one", status="draft")
    scheduled_id = make_post(alice, title="Scheduled", body="one", publish_at=later)
    kept = {post_id: _status(app, post_id) for post_id in (draft_id, scheduled_id)}
    with app.app_context():
        services.revise_post(
            draft_id, services.Draft(title="Draft", body="two", status="draft"), base_version=1
        )
        services.revise_post(
            scheduled_id,
            services.Draft(title="Scheduled", body="two", publish_at=later),
            base_version=1,
        )
        assert restore_revision(draft_id, 1) == 3
        assert restore_revision(scheduled_id, 1) == 3
    assert {post_id: _status(app, post_id) for post_id in kept} == kept
    assert kept[draft_id][0] == "draft"
    assert kept[scheduled_id] == ("published", later)
    assert current(app, draft_id)["body"] == current(app, scheduled_id)["body"] == "one"


def test_restoring_a_backdated_posts_version_keeps_its_publish_time(app, client, alice_post):
    """A restore is not a new publication: the post keeps its place in every list."""
    with app.app_context(), transaction() as conn:
        conn.execute(
            sa.update(post).where(post.c.id == alice_post).values(published_at=datetime(2020, 2, 2))
        )
    edit(client, alice_post, "Second title", "b")
    assert client.post(f"/{alice_post}/revisions/1/restore").status_code == 302
    assert _status(app, alice_post) == ("published", datetime(2020, 2, 2))


# --- the diff's header lines and an unchanged version ----------------------------------------


def test_the_diff_names_both_versions_and_says_when_nothing_changed(client, alice_post):
    edit(client, alice_post, "Second title", "line one\nline two", "alpha")
    page = client.get(f"/{alice_post}/revisions/1").get_data(as_text=True)
    assert "Changes from version 1 to the post now (version 2)" in page
    assert "No differences." not in page
    # Version 1 again, as version 3: nothing differs from version 1 any more.
    client.post(f"/{alice_post}/revisions/1/restore")
    page = client.get(f"/{alice_post}/revisions/1").get_data(as_text=True)
    assert '<p class="diff">No differences.</p>' in page
    assert "<ins>" not in page and "<del>" not in page


# --- history in people's words ------------------------------------------------------


def test_the_history_says_how_long_ago_each_version_was_saved(client, alice_post):
    edit(client, alice_post, "Second title", "b")
    page = client.get(f"/{alice_post}/revisions").get_data(as_text=True)
    assert "<td>Version 1</td>" in page and ">just now</time>" in page


def test_an_identical_version_offers_no_restore(client, alice_post):
    edit(client, alice_post, "Second title", "b")
    edit(client, alice_post, "First title", "line one\nline two", tags="alpha")
    same = client.get(f"/{alice_post}/revisions/1").get_data(as_text=True)
    assert "Restore version 1" not in same
    assert "Version 1 is the same as the post now: there is nothing to restore." in same
    different = client.get(f"/{alice_post}/revisions/2").get_data(as_text=True)
    assert "Restore version 2" in different and "nothing to restore" not in different


@pytest.mark.parametrize(
    ("seconds", "said"),
    [
        (0, "just now"),
        (59, "just now"),
        (60, "1 minute ago"),
        (119, "1 minute ago"),
        (120, "2 minutes ago"),
        (3600, "1 hour ago"),
        (7200 + 59, "2 hours ago"),
        (86400, "1 day ago"),
        (7 * 86400, "7 days ago"),
        (8 * 86400, "2026-01-02"),
    ],
)
def test_ago_says_the_largest_whole_unit_then_the_date(app, seconds, said):
    from datetime import datetime, timedelta

    from flaskr.i18n.dates import ago

    saved = datetime(2026, 1, 2, 3, 4, 5)
    with app.test_request_context():
        assert ago(saved, now=saved + timedelta(seconds=seconds)) == said
