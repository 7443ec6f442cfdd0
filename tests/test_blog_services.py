"""The post rules called directly, as a script or a future API would: messages, bounds, versions."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from flaskr.blog import services
from flaskr.blog.tables import post, post_revision
from flaskr.db import connection, transaction, utcnow

PW = "a long enough pw"
CONFLICT = (
    "Someone else saved this post while you were editing it. Your text is below, "
    "with theirs beside it: merge them and save again."
)
BAD_VERSION = (
    "This save does not say which version of the post it was made from, so it "
    "could overwrite changes you have not seen. Nothing was saved: reload the "
    "editor and make your change again."
)


def stored(app, post_id: int) -> dict:
    """The post's row as stored."""
    with app.app_context():
        return dict(
            connection().execute(sa.select(post).where(post.c.id == post_id)).mappings().one()
        )


def revisions(app, post_id: int) -> list[dict]:
    """The post's stored earlier versions, oldest first."""
    with app.app_context():
        query = (
            sa.select(post_revision)
            .where(post_revision.c.post_id == post_id)
            .order_by(post_revision.c.version)
        )
        return [dict(row) for row in connection().execute(query).mappings()]


@pytest.fixture
def alice(make_user) -> int:
    """An author."""
    return make_user("alice", PW)


# --- new posts --------------------------------------------------------------------------


def test_a_post_is_stamped_with_the_moment_it_was_made(app, alice):
    """To the microsecond, in UTC: the feeds' entry ids and the first version's time use it."""
    with app.app_context():
        before = utcnow()
        post_id = services.create_post(alice, services.Draft(title="Now", body="b"))
        after = utcnow()
    row = stored(app, post_id)
    assert before <= row["created"] <= after
    assert row["published_at"] == row["created"]


def test_a_status_other_than_draft_or_published_is_refused_with_the_choices(app, alice):
    with app.app_context(), pytest.raises(services.ValidationError) as refused:
        services.create_post(alice, services.Draft(title="T", body="b", status="hidden"))
    assert str(refused.value) == "Status must be draft or published."


# --- versions -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "version"),
    [
        (None, 1),
        (1, 1),
        ("1", 1),
        ("0000000001", 1),  # ten digits
        ("2147483647", services.VERSION_MAX),
        (services.VERSION_MAX, services.VERSION_MAX),
    ],
)
def test_a_version_is_any_number_from_1_to_the_largest_the_column_holds(value, version):
    assert services.parse_version(value) == version


@pytest.mark.parametrize(
    "value",
    ["00000000001", "02147483647", "2147483648", services.VERSION_MAX + 1, 0, "0", True, 1.0],
)
def test_a_version_of_more_than_ten_digits_or_out_of_range_is_refused(value):
    with pytest.raises(services.BadVersionError) as refused:
        services.parse_version(value)
    assert str(refused.value) == BAD_VERSION


def test_a_save_over_a_newer_version_is_a_conflict_that_says_what_to_do(app, alice, make_post):
    post_id = make_post(alice, title="First")
    with app.app_context():
        services.revise_post(post_id, services.Draft(title="Second", body="b"), base_version=1)
        with pytest.raises(services.ConflictError) as conflict:
            services.revise_post(post_id, services.Draft(title="Mine", body="b"), base_version=1)
    assert str(conflict.value) == CONFLICT
    assert conflict.value.current["title"] == "Second"
    assert conflict.value.current["version"] == 2
    assert stored(app, post_id)["title"] == "Second"


def test_saving_a_deleted_post_says_it_no_longer_exists(app, alice, make_post):
    post_id = make_post(alice)
    with app.app_context():
        services.delete_post(post_id)
        with pytest.raises(services.ValidationError) as refused:
            services.revise_post(post_id, services.Draft(title="T", body="b"))
    assert str(refused.value) == "This post no longer exists."


def test_the_kept_version_keeps_its_tags_as_the_editor_field_shows_them(app, alice, make_post):
    post_id = make_post(alice, title="Tagged", tags="gamma, Alpha, beta")
    with app.app_context():
        services.revise_post(post_id, services.Draft(title="Untagged", body="b"))
    assert [(row["version"], row["tags"]) for row in revisions(app, post_id)] == [
        (1, "alpha, beta, gamma")
    ]


def test_an_edit_sending_back_the_shown_minute_keeps_the_exact_publish_time(app, alice, make_post):
    """The editor shows the publish time to the minute; sending it back unchanged must not
    move the post to the start of that minute, below posts published later in it."""
    post_id = make_post(alice, title="Exact")
    published = stored(app, post_id)["published_at"].replace(second=42, microsecond=123456)
    with app.app_context():
        with transaction() as conn:
            conn.execute(sa.update(post).where(post.c.id == post_id).values(published_at=published))
        shown = published.replace(second=0, microsecond=0)
        services.revise_post(post_id, services.Draft(title="Edited", body="b", publish_at=shown))
    assert stored(app, post_id)["published_at"] == published


def test_an_edit_with_a_new_publish_time_moves_the_post_to_it(app, alice, make_post):
    post_id = make_post(alice, title="Moved")
    published = stored(app, post_id)["published_at"].replace(second=42, microsecond=0)
    with app.app_context():
        with transaction() as conn:
            conn.execute(sa.update(post).where(post.c.id == post_id).values(published_at=published))
        earlier = published.replace(second=0) - timedelta(minutes=1)
        services.revise_post(post_id, services.Draft(title="Edited", body="b", publish_at=earlier))
    assert stored(app, post_id)["published_at"] == earlier
