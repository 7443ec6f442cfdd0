"""The front page, post pages, and writing, editing and deleting posts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext
from markupsafe import Markup
from sqlalchemy.engine import RowMapping

from flaskr import markup
from flaskr.auth import login_required
from flaskr.blog import queries, services, urls
from flaskr.blog.slugs import post_slug
from flaskr.comments import services as comment_services
from flaskr.db import utcnow
from flaskr.i18n.dates import clock
from flaskr.likes import services as like_services
from flaskr.media import services as media_services
from flaskr.pagecache import cached_page
from flaskr.paging import existing, make_page, page_number
from flaskr.policy import PUBLISHED, authorize, post_is_public, post_state, public, require
from flaskr.ratelimit import write_limit
from flaskr.timezones import parse_local, to_local
from flaskr.validation import ValidationError

bp = Blueprint("blog", __name__)
bp.add_app_template_global(to_local, "to_local")
bp.add_app_template_global(urls.post_url, "post_url")


def get_post(post_id: int, action: str = "post:update") -> RowMapping:
    """The post, if the signed-in user may do `action` to it; else 404, then 403."""
    return authorize(action, queries.find_post(post_id))


#: The editor's buttons (name "action") and the status each one saves with.
SAVE_ACTIONS = {"draft": "draft", "publish": "published"}


def post_form(post: Mapping[Any, Any] | None = None) -> services.Draft:
    """The editor's fields as a Draft; the publish time is read in the author's time zone.

    The button pressed says draft or publish (schedule, when the time is ahead).
    A form sent without one of those buttons (the tutorial's, a script's) may
    say `status=draft`; anything else publishes, as the tutorial's form does.
    """
    form = request.form
    status = SAVE_ACTIONS.get(form.get("action", ""))
    if status is None:
        status = "draft" if form.get("status") == "draft" else "published"
    return services.Draft(
        title=form.get("title", ""),
        body=form.get("body", ""),
        tags=form.get("tags", ""),
        status=status,
        publish_at=parse_local(form.get("publish_at"), g.user["timezone"]),
        # A form without the fields (the tutorial's) keeps what the post has.
        slug=form.get("slug", (post or {}).get("slug") or ""),
        excerpt=form.get("excerpt", (post or {}).get("excerpt") or ""),
        language=form.get("language", (post or {}).get("language") or ""),
        cover=form.get("cover"),  # None (no field): the post keeps its cover
    )


def _preview_requested() -> bool:
    return request.form.get("action") == "preview"


@bp.route("/hello")
@public
def hello() -> str:
    """A plain greeting: the cheapest page, used as the speed baseline."""
    return "Hello, World!"


@bp.route("/")
@public
@cached_page
def index():
    """The newest published posts, a page at a time."""
    page = existing(services.readers_page(page_number()))
    return render_template("blog/index.html", posts=page.items, page=page)


@bp.route("/<int:post_id>/")
@bp.route("/<int:post_id>/<slug>")
@public
@cached_page
def detail(post_id: int, slug: str | None = None):
    """One post on its own page, at its canonical address; authors also see their drafts."""
    # hide: a draft's address must look like nothing is there.
    found, neighbours = queries.find_post_page(post_id)
    row = authorize("post:read", found, hide=True)
    canonical = post_slug(row)
    if slug != canonical:
        return redirect(url_for("blog.detail", post_id=post_id, slug=canonical), 301)
    (post,) = services.with_html([row])  # its addresses are made with its article
    public = post_is_public(row)
    if not public:
        neighbours = {}  # a draft's place in time is nobody's business
    thread = comment_services.thread(post, g.user, page_number("comments")) if public else None
    if thread is not None:
        existing(thread.page)
    return render_template(
        "blog/detail.html",
        post=post,
        state=post_state(row),
        neighbours=neighbours,
        # Only a public post's page has a like button to say it on, and comments.
        liked=public and like_services.likes(g.user, post_id),
        thread=thread,
    )


@bp.route("/create", methods=("GET", "POST"))
@login_required
@write_limit
def create():
    """Write a new post, preview it, save it as a draft, schedule or publish it."""
    require("post:create")
    preview = None
    ahead = False
    if request.method == "POST":
        try:
            draft = post_form()
            if _preview_requested():
                preview = _preview_html(draft.body)
                ahead = _time_ahead(draft)
            else:
                post_id = services.create_post(g.user["id"], draft)
                flash(_saved_message(draft))
                return redirect(url_for("blog.detail", post_id=post_id, slug=draft.address_slug()))
        except ValidationError as error:
            flash(str(error))
    return render_template("blog/create.html", post=None, state=None, preview=preview, ahead=ahead)


@bp.route("/<int:post_id>/update", methods=("GET", "POST"))
@login_required
@write_limit
def update(post_id: int):
    """Edit a post; only its author may. A save over someone else's newer save is refused."""
    post = dict(get_post(post_id), tags=services.tag_names(post_id))
    preview = conflict = None
    ahead = False
    status = 200
    if request.method == "POST":
        try:
            # A preview or a refused save keeps the version the editor was opened
            # at, so the save after it still notices someone else's newer save.
            post["version"] = services.parse_version(request.form.get("version"))
            draft = post_form(post)
            if _preview_requested():
                preview = _preview_html(draft.body)
                ahead = _time_ahead(draft, post)
            else:
                services.revise_post(post_id, draft, base_version=post["version"], by=g.user["id"])
                flash(_saved_message(draft, post))
                return redirect(url_for("blog.detail", post_id=post_id, slug=draft.address_slug()))
        except services.ConflictError as error:
            flash(str(error))
            conflict, status = dict(error.current), 409
            post["version"] = conflict["version"]  # the next save deliberately replaces theirs
        except services.BadVersionError as error:
            # As in a conflict: the current text beside theirs, and a save replaces it knowingly.
            flash(str(error))
            conflict, status = dict(post), 400
        except ValidationError as error:
            flash(str(error))
    return render_template(
        "blog/update.html",
        post=post,
        state=post_state(post),
        preview=preview,
        conflict=conflict,
        ahead=ahead,
    ), status


def _time_ahead(draft: services.Draft, post: Mapping[str, Any] | None = None) -> bool:
    """Whether publishing the form schedules the post: its "Publish at" is still to come,
    or it is empty and the post is scheduled already (a save keeps a published or
    scheduled post's time; a draft published now is new). After a preview the button
    then says "Schedule", without the script that relabels it."""
    when = draft.publish_at
    if when is None and post is not None and post["status"] == PUBLISHED:
        when = post["published_at"]
    return when is not None and when > utcnow()


def _saved_message(draft: services.Draft, post: Mapping[str, Any] | None = None) -> str:
    # One message per save: the post's page then says who can see it and when.
    if draft.status == "draft":
        return gettext("Saved as a draft.")
    if _time_ahead(draft, post):
        return gettext("Scheduled.")
    return gettext("Published.")


@bp.route("/<int:post_id>/autosave", methods=("POST",))
@login_required
@write_limit
def autosave(post_id: int):
    """Keep a draft's text as the author types (the editor's script calls this); JSON."""
    post = get_post(post_id, "post:update")
    try:
        version = services.autosave_draft(
            post_id, post_form(post), base_version=request.form.get("version"), by=g.user["id"]
        )
    except (services.ConflictError, services.NotADraftError) as error:
        return jsonify(error=str(error)), 409
    except ValidationError as error:
        return jsonify(error=str(error)), 400
    message = gettext("Draft saved at %(time)s.", time=clock(utcnow()))
    return jsonify(version=version, message=message)


@bp.route("/<int:post_id>/delete", methods=("GET", "POST"))
@login_required
def delete(post_id: int):
    """Ask whether to delete a post (GET, works without scripts), then delete it; only its
    author may."""
    post = get_post(post_id, "post:delete")
    if request.method != "POST":  # GET, and HEAD (which Flask answers with the GET view)
        return render_template("blog/delete.html", post=post)
    services.delete_post(post_id)
    days = current_app.config["TRASH_DAYS"]
    if days:
        flash(
            gettext(
                "The post was moved to the trash. You can restore it there for %(days)d days.",
                days=days,
            )
        )
    else:
        flash(gettext("The post was deleted."))
    return redirect(url_for("blog.index"))


@bp.route("/me/posts")
@login_required
def my_posts():
    """The signed-in author's posts in every state: drafts, scheduled and published."""
    number = page_number()
    per_page = current_app.config["POSTS_PER_PAGE"]
    rows = queries.list_own_posts(g.user["id"], page=number, per_page=per_page)
    page = existing(make_page(rows, number, per_page))
    posts = [dict(row, state=post_state(row)) for row in page.items]
    return render_template("blog/my_posts.html", posts=posts, page=page)


def _preview_html(body: str) -> Markup:
    """The post as readers will see it, after what the author should know about its
    pictures (no description, from another site)."""
    hints = Markup("").join(
        Markup('<p class="picture-hint" role="note">{}</p>').format(hint)
        for hint in media_services.picture_hints(body)
    )
    return hints + Markup(markup.render(body))  # noqa: S704 - render() sanitizes  # nosec B704


@bp.route("/preview", methods=("POST",))
@login_required
@write_limit
def preview() -> Response:
    """Rendered, sanitized HTML of Markdown text, for the editor's live preview."""
    require("post:create")
    body = request.form.get("body", "")
    if len(body) > 100_000:
        abort(413)
    try:
        return Response(_preview_html(body), mimetype="text/html")
    except ValidationError as error:
        abort(400, str(error))


@bp.route("/highlight.css")
@public
def highlight_css() -> Response:
    """The colours of highlighted code blocks."""
    response = Response(markup.highlight_css(), mimetype="text/css")
    response.cache_control.public = True
    response.cache_control.max_age = 86400
    return response
