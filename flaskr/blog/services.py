"""Post rules: validation, drafts and schedules, revisions, and current rendered HTML."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import gettext

from flaskr import markup
from flaskr.blog import page_starts, queries, slugs
from flaskr.blog.tables import BODY_MAX, EXCERPT_MAX, TITLE_MAX
from flaskr.db import transaction, utcnow
from flaskr.db.prepared import Row
from flaskr.i18n.languages import check_post_language
from flaskr.media import services as media_services
from flaskr.paging import Page, make_page
from flaskr.tags import queries as tag_queries
from flaskr.tags import services as tag_services
from flaskr.trash import services as trash_services
from flaskr.validation import ValidationError, require_text

STATUSES = ("draft", "published")
#: The highest version a post can reach: the column is a 32-bit integer on PostgreSQL.
VERSION_MAX = 2**31 - 1


class ConflictError(ValidationError):
    """Someone saved the post after the editor was opened; nothing was overwritten."""

    def __init__(self, current: Row) -> None:
        super().__init__(
            gettext(
                "Someone else saved this post while you were editing it. Your text is below, "
                "with theirs beside it: merge them and save again."
            )
        )
        self.current = current


class NotADraftError(ValidationError):
    """An autosave of a post that is not a draft: published text changes only by hand."""

    def __init__(self) -> None:
        super().__init__(
            gettext(
                "Only drafts are saved automatically. This post is published or scheduled: "
                "save your changes with Update."
            )
        )


class BadVersionError(ValidationError):
    """An edit that names no valid version of the post; nothing was saved."""

    def __init__(self) -> None:
        super().__init__(
            gettext(
                "This save does not say which version of the post it was made from, so it "
                "could overwrite changes you have not seen. Nothing was saved: reload the "
                "editor and make your change again."
            )
        )


@dataclass
class Draft:
    """What an author submits from the editor, before the rules are applied."""

    title: str
    body: str
    tags: str = ""
    status: str = "published"
    publish_at: datetime | None = None  # UTC; None means now
    #: The author's own address words and list excerpt; empty: made for them.
    slug: str = ""
    excerpt: str = ""
    #: The language the post is written in (a code from i18n.POST_LANGUAGES); empty: the site's.
    language: str = ""
    #: The cover picture: its Markdown or address (empty: none; None: as the post has it).
    cover: str | None = None

    def address_slug(self) -> str:
        """The slug this draft's post is found at once saved."""
        return slugs.post_slug({"slug": slugs.clean_slug(self.slug), "title": self.title})


def _clean(draft: Draft) -> dict[str, Any]:
    title = require_text(draft.title, gettext("Title"), max_len=TITLE_MAX).strip()
    body = require_text(
        draft.body, gettext("Body"), max_len=BODY_MAX, required=False, multiline=True
    )
    if draft.status not in STATUSES:
        raise ValidationError(gettext("Status must be draft or published."))
    body_html = markup.render(body)  # raises ValidationError for Markdown too costly to render
    excerpt = require_text(
        draft.excerpt, gettext("Excerpt"), max_len=EXCERPT_MAX, required=False, multiline=True
    ).strip()
    try:
        language = check_post_language(draft.language)
    except ValueError:
        raise ValidationError(gettext("Choose the post's language from the list.")) from None
    return {
        "cover": None if draft.cover is None else media_services.clean_cover(draft.cover),
        "language": language,
        "slug": slugs.clean_slug(draft.slug),
        "excerpt": excerpt or None,
        "title": title,
        "body": body,
        "body_html": body_html,
        "render_version": markup.RENDER_VERSION,
        "summary": markup.summarize_html(body_html),
        "status": draft.status,
    }


def create_post(author_id: int, draft: Draft) -> int:
    """Save a new post (published, scheduled or draft); return its id."""
    values = _clean(draft)
    names = tag_services.parse_tags(draft.tags)
    now = utcnow()
    with transaction():
        post_id = queries.insert_post(
            author_id=author_id,
            created=now,
            published_at=draft.publish_at or now,
            saved_by=author_id,
            **values,
        )
        tag_services.set_tags(post_id, names)
        media_services.record_uses(post_id, author_id, values["body"], values["cover"] or "")
    return post_id


def revise_post(
    post_id: int, draft: Draft, *, base_version: int | str | None = None, by: int | None = None
) -> int:
    """Save new text for a post, keeping the previous version; return the new version number.

    `by` is the account saving it (the history names it; None: not recorded).

    base_version is the version the editor opened, as the client sent it. A save
    over someone else's newer save raises ConflictError instead of overwriting
    it; a malformed version raises BadVersionError, so no client can skip the check.
    """
    return _store_revision(post_id, draft, expected=parse_version(base_version), by=by)


def autosave_draft(
    post_id: int, draft: Draft, *, base_version: int | str | None, by: int | None = None
) -> int:
    """Keep what the author is typing in a draft; return the new version number.

    Drafts only (NotADraftError otherwise), with the same version check as a
    save. A run of autosaves keeps one entry in the history - the text before
    the first of them - so the history is not a version every few seconds.
    """
    autosaved = Draft(
        title=draft.title,
        body=draft.body,
        tags=draft.tags,
        status="draft",
        publish_at=draft.publish_at,
        slug=draft.slug,
        excerpt=draft.excerpt,
        language=draft.language,
        cover=draft.cover,
    )
    return _store_revision(
        post_id, autosaved, expected=parse_version(base_version), auto=True, by=by
    )


def parse_version(value: int | str | None) -> int:
    """The version an edit was made from, or BadVersionError.

    A missing version means the post as first written (version 1), so the
    tutorial's plain two-field form still edits a post nobody has edited since,
    and conflicts once anyone has.
    """
    if value is None:
        return 1
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 10:
        value = int(value)
    # bool is an int to Python, never a version to a client.
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= VERSION_MAX:
        return value
    raise BadVersionError()


def _store_revision(
    post_id: int, draft: Draft, *, expected: int | None, auto: bool = False, by: int | None
) -> int:
    """Replace a post's text with the draft; expected=None (a restore) skips the version check.

    auto: an autosave (drafts only), which keeps no version if the last save was one too.
    """
    values = _clean(draft)
    names = tag_services.parse_tags(draft.tags)
    with transaction():
        current = queries.find_post(post_id, for_update=True)
        if current is None:
            raise ValidationError(gettext("This post no longer exists."))
        if expected is not None and expected != current["version"]:
            raise ConflictError(current)
        if auto and current["status"] != "draft":
            raise NotADraftError()
        if expected is None:  # a restored version: the address, excerpt and language stay
            for kept in ("slug", "excerpt", "language"):
                values[kept] = current[kept]
        if draft.cover is None:  # a form without the field keeps the cover
            values["cover"] = current["cover"]
        if not (auto and current["autosaved_at"] is not None):
            queries.insert_revision(
                post_id=post_id,
                version=current["version"],
                title=current["title"],
                body=current["body"],
                tags=", ".join(tag_names(post_id)),
                saved_at=current["updated"] or current["created"],
                saved_by=current["saved_by"],
            )
        publish_at = _kept_time(draft.publish_at, current["published_at"]) or utcnow()
        if current["status"] == "draft" and draft.status == "published" and not draft.publish_at:
            publish_at = utcnow()  # publishing a draft makes it new
        version = current["version"] + 1
        now = utcnow()
        queries.update_post(
            post_id,
            updated=now,
            version=version,
            published_at=publish_at,
            autosaved_at=now if auto else None,
            saved_by=by,
            **values,
        )
        tag_services.set_tags(post_id, names)
        media_services.record_uses(
            post_id, current["author_id"], values["body"], values["cover"] or ""
        )
    return version


def _kept_time(sent: datetime | None, saved: datetime | None) -> datetime | None:
    """The publish time an edit leaves: the one sent, or the saved one when none was sent.

    The editor shows the saved time to the minute, so sending it back unchanged
    keeps the saved seconds: otherwise every edit would move the post back to
    the start of its minute, below posts published later in that minute.
    """
    if sent is None:
        return saved
    if saved is not None and saved.replace(second=0, microsecond=0) == sent:
        return saved
    return sent


def draft_of(post: Row | dict[str, Any], **changes: Any) -> Draft:
    """A post as it is now, as the editor would send it back, with `changes` made."""
    values: dict[str, Any] = {
        "title": post["title"],
        "body": post["body"],
        "tags": ", ".join(tag_names(post["id"])),
        "status": post["status"],
        "publish_at": post["published_at"],
        "slug": post["slug"] or "",
        "excerpt": post["excerpt"] or "",
        "language": post["language"] or "",
        "cover": post["cover"] or "",
    }
    return Draft(**{**values, **changes})


def swap_picture(post_id: int, old: str, new: str, *, by: int | None) -> None:
    """Show another picture where a post showed one: its text and cover name `new`
    instead of `old` (a new version in its history, saved by `by`)."""
    current = queries.find_post(post_id, for_update=True)
    if current is None or old not in current["body"] + (current["cover"] or ""):
        return  # nothing to change (its text was edited meanwhile)
    draft = draft_of(
        current,
        body=current["body"].replace(old, new),
        cover=(current["cover"] or "").replace(old, new),
    )
    _store_revision(post_id, draft, expected=current["version"], by=by)


def replace_with_version(post_id: int, draft: Draft, *, by: int | None = None) -> int:
    """Make text the author chose from the post's history current again; return the new version.

    No version check: the author picked this version knowingly, and it replaces
    whatever is current (which stays in the history). Versions keep title, body
    and tags: the post's address and excerpt stay as they are now.
    """
    return _store_revision(post_id, draft, expected=None, by=by)


def delete_post(post_id: int) -> None:
    """Delete a post with its history and tags, into the trash (see flaskr.trash)."""
    trash_services.move_to_trash(post_id)


def readers_page(number: int, *, author: str | None = None, tag: str | None = None) -> Page:
    """Page `number` of the posts readers see (of the author named `author`, or with the
    tag named `tag`), newest first.

    The posts come with their tags and current rendered HTML (an author's, with the
    author's profile: auth.queries.profile_in).
    """
    per_page = current_app.config["POSTS_PER_PAGE"]
    rows = page_starts.page_rows(number, per_page, author=author, tag=tag)
    page = make_page(rows, number, per_page)
    page.items = with_html(page.items)
    return page


def tag_names(post_id: int) -> list[str]:
    """The tags of one post, by name."""
    return tag_queries.tags_for_posts([post_id]).get(post_id, [])


def rendered(row: Row) -> bool:
    """Whether the post's stored HTML is current: rendered, by this renderer. Other rows
    are rendered (and stored) again by with_html()."""
    return row["body_html"] is not None and row["render_version"] == markup.RENDER_VERSION


def with_html(posts: Iterable[Row]) -> list[dict[str, Any]]:
    """The posts with tags and current rendered HTML, rendering (and caching) any that lack it."""
    result, stale = [], []
    for row in posts:
        item = dict(row)
        if not rendered(item):
            stale.append(item)
        result.append(item)
    # Rows written by plain SQL (or by an older renderer) get rendered now. Lists
    # read no Markdown source (queries.LIST_COLUMNS): it is fetched for these only.
    missing = [item["id"] for item in stale if "body" not in item]
    sources = queries.post_bodies(missing) if missing else {}
    for item in stale:
        source = item["body"] if "body" in item else sources.get(item["id"], "")
        item["body_html"] = markup.render_stored(source)
        item["summary"] = markup.summarize_html(item["body_html"])
    for item in result:
        item["tags"] = tag_queries.split_names(item.pop("tag_names"))
    if stale:
        with transaction():
            for item in stale:
                queries.update_rendered(
                    item["id"], item["body_html"], item["summary"], markup.RENDER_VERSION
                )
    return result
