"""Every route, for every kind of user: the status each one gets.

The table below is the specification: one row per (method, route) - two for
routes that name a post, one on a published post and one on a draft - and
one column per kind of user. A route added without a row fails
test_every_route_has_a_row. Statuses: 302 for a visitor on a signed-in page
means "sent to the login page" (checked); elsewhere a redirect after a
successful POST (303 where the form asks the browser to GET what it
names). The disabled user was signed in when an admin disabled them: they
are a visitor from that moment.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from PIL import Image

from flaskr import policy
from flaskr.auth import services as accounts
from flaskr.media import services as media_services

PW = "a long enough pw"


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), (10, 20, 30)).save(out, "PNG")
    return out.getvalue()


_PICTURE = _png()

#: Who asks, in the table's column order.
USERS = ("visitor", "reader", "author", "other", "editor", "admin", "disabled")
#: The account behind each kind of user (None: nobody signed in) and its role.
ACCOUNTS = {
    "reader": ("rita", "reader"),
    "author": ("alice", "author"),  # writes the posts the routes name
    "other": ("bob", "author"),
    "editor": ("ed", "editor"),
    "admin": ("ada", "admin"),
    "disabled": ("dora", "author"),
}

ALL_200 = (200,) * 7
#: A signed-in page that every signed-in user may see.
SIGNED_IN_200 = (302, 200, 200, 200, 200, 200, 302)
#: A signed-in form refused (the form again, with what was wrong).
SIGNED_IN_400 = (302, 400, 400, 400, 400, 400, 302)
ADMIN_ONLY = (302, 403, 403, 403, 403, 200, 302)
ADMIN_ONLY_POST = (302, 403, 403, 403, 403, 302, 302)
EDITORS_POST = (302, 403, 403, 403, 302, 302, 302)

#: (method, route, which post or None) -> statuses in USERS order.
ROUTES: dict[tuple[str, str, str | None], tuple[int, ...]] = {
    # Reading: anyone, drafts only for their author and for editors and admins.
    ("GET", "/", None): ALL_200,
    ("GET", "/hello", None): ALL_200,
    ("GET", "/highlight.css", None): ALL_200,
    ("GET", "/static/<path:filename>", None): ALL_200,
    ("GET", "/archive/", None): ALL_200,
    ("GET", "/archive/<int:year>/", None): ALL_200,
    ("GET", "/archive/<int:year>/<int:month>/", None): ALL_200,
    ("GET", "/tags", None): ALL_200,
    ("GET", "/tag/<name>", None): ALL_200,
    ("GET", "/u/<path:username>", None): ALL_200,
    ("GET", "/search", None): ALL_200,
    ("GET", "/feed.<any(atom, rss, json):kind>", None): ALL_200,
    ("GET", "/tag/<name>/feed.<any(atom, rss, json):kind>", None): ALL_200,
    ("GET", "/u/<path:username>/feed.<any(atom, rss, json):kind>", None): ALL_200,
    # A post's comments: what readers see of it (a draft has none, for anyone).
    ("GET", "/<int:post_id>/comments/feed.<any(atom, rss, json):kind>", "published"): ALL_200,
    ("GET", "/<int:post_id>/comments/feed.<any(atom, rss, json):kind>", "draft"): (404,) * 7,
    ("GET", "/sitemap.xml", None): ALL_200,
    ("GET", "/sitemap/pages.xml", None): ALL_200,
    ("GET", "/sitemap/posts-<int:chunk>.xml", None): ALL_200,
    ("GET", "/robots.txt", None): ALL_200,
    ("GET", "/<int:post_id>/", "published"): (301,) * 7,
    ("GET", "/<int:post_id>/", "draft"): (404, 404, 301, 404, 301, 301, 404),
    ("GET", "/<int:post_id>/<slug>", "published"): ALL_200,
    ("GET", "/<int:post_id>/<slug>", "draft"): (404, 404, 200, 404, 200, 200, 404),
    # Appearance: anyone, signed in or not.
    ("POST", "/theme", None): (303,) * 7,
    # Accounts.
    ("GET", "/auth/register", None): ALL_200,
    ("POST", "/auth/register", None): ALL_200,  # the form again: this one is incomplete
    ("GET", "/auth/login", None): ALL_200,
    ("POST", "/auth/login", None): ALL_200,  # the form again: this one is incomplete
    ("GET", "/auth/logout", None): (302,) * 7,
    ("POST", "/auth/logout", None): (302,) * 7,
    ("GET", "/auth/account", None): SIGNED_IN_200,
    ("POST", "/auth/account/password", None): SIGNED_IN_400,  # refused: wrong password
    ("POST", "/auth/account/profile", None): (302, 302, 302, 302, 302, 302, 302),
    ("POST", "/auth/account/delete", None): SIGNED_IN_400,  # refused: wrong password
    ("POST", "/auth/account/email", None): SIGNED_IN_400,  # refused: wrong password
    # Mailed links: anyone holding one (these are made up, so refused); the reset form.
    ("GET", "/auth/confirm-email/<token>", None): (400,) * 7,
    ("POST", "/auth/confirm-email/<token>", None): (400,) * 7,
    ("GET", "/auth/reset/<token>", None): (400,) * 7,
    ("POST", "/auth/reset/<token>", None): (400,) * 7,
    ("GET", "/auth/forgot", None): ALL_200,
    # Two-factor login: the code step needs a password given first (none here).
    ("GET", "/auth/2fa", None): (400,) * 7,
    ("POST", "/auth/2fa", None): (400,) * 7,
    ("GET", "/auth/2fa/setup", None): SIGNED_IN_200,
    ("POST", "/auth/2fa/setup", None): SIGNED_IN_400,  # refused: wrong password
    ("POST", "/auth/2fa/codes", None): (302,) * 7,  # refused: back to the page, or log in
    ("POST", "/auth/2fa/disable", None): (302,) * 7,
    ("POST", "/auth/forgot", None): (400,) * 7,  # the form again: no address typed
    # Writing: authors, editors and admins; readers may not.
    ("GET", "/create", None): (302, 403, 200, 200, 200, 200, 302),
    ("POST", "/create", None): (302, 403, 302, 302, 302, 302, 302),
    ("POST", "/preview", None): (302, 403, 200, 200, 200, 200, 302),
    ("GET", "/me/posts", None): SIGNED_IN_200,
    # Likes: anyone signed in, on a post readers see; a draft looks like nothing is there.
    ("GET", "/<int:post_id>/like", "published"): (302, 303, 303, 303, 303, 303, 302),
    ("GET", "/<int:post_id>/like", "draft"): (302, 404, 404, 404, 404, 404, 302),
    ("POST", "/<int:post_id>/like", "published"): (302, 303, 303, 303, 303, 303, 302),
    ("POST", "/<int:post_id>/like", "draft"): (302, 404, 404, 404, 404, 404, 302),
    # Comments: anyone signed in, on a post readers see (a draft's look like nothing).
    ("GET", "/<int:post_id>/comments", "published"): (302, 303, 303, 303, 303, 303, 302),
    ("GET", "/<int:post_id>/comments", "draft"): (302, 404, 404, 404, 404, 404, 302),
    ("POST", "/<int:post_id>/comments", "published"): (302, 303, 303, 303, 303, 303, 302),
    ("POST", "/<int:post_id>/comments", "draft"): (302, 404, 404, 404, 404, 404, 302),
    # Bob's comment under alice's post: anyone reads it; bob edits it; bob, alice
    # (the post's author), editors and admins delete it; all but bob moderate it.
    ("GET", "/comments/<int:comment_id>", None): (303,) * 7,
    ("GET", "/comments/<int:comment_id>/edit", None): (302, 403, 403, 200, 403, 403, 302),
    ("POST", "/comments/<int:comment_id>/edit", None): (302, 403, 403, 303, 403, 403, 302),
    ("POST", "/comments/<int:comment_id>/delete", None): (302, 403, 303, 303, 303, 303, 302),
    ("POST", "/comments/<int:comment_id>/moderate", None): (302, 403, 303, 403, 303, 303, 302),
    # The queue: authors and up (bob's request approves nothing on alice's post).
    ("GET", "/comments/queue", None): (302, 403, 200, 200, 200, 200, 302),
    ("POST", "/comments/queue", None): (302, 403, 303, 303, 303, 303, 302),
    # Closing a post's comments: whoever may edit it.
    ("POST", "/<int:post_id>/comments/state", "published"): (302, 403, 303, 403, 303, 303, 302),
    ("POST", "/<int:post_id>/comments/state", "draft"): (302, 403, 303, 403, 303, 303, 302),
    # Guests' comments: off unless COMMENTS_GUESTS (test_comments.py has them on).
    ("GET", "/<int:post_id>/comments/guest", "published"): (404,) * 7,
    ("GET", "/<int:post_id>/comments/guest", "draft"): (404,) * 7,
    ("POST", "/<int:post_id>/comments/guest", "published"): (404,) * 7,
    ("POST", "/<int:post_id>/comments/guest", "draft"): (404,) * 7,
    # A guest's comment confirmed: the signed link is the authority, as above.
    ("GET", "/comments/confirm/<token>", None): (404,) * 7,
    ("POST", "/comments/confirm/<token>", None): (404,) * 7,
    # Unsubscribing: the signed link is the authority (a made-up one is a 404 for all).
    ("GET", "/unsubscribe/<token>", None): (404,) * 7,
    ("POST", "/unsubscribe/<token>", None): (404,) * 7,
    ("POST", "/auth/account/notifications", None): (302, 303, 303, 303, 303, 303, 302),
    # Stopping bob commenting: editors and admins (bob cannot lift his own ban).
    ("POST", "/comments/users/<int:user_id>/ban", None): EDITORS_POST[:4] + (303, 303, 302),
    # A post: its author, editors and admins.
    ("GET", "/<int:post_id>/update", "published"): (302, 403, 200, 403, 200, 200, 302),
    ("GET", "/<int:post_id>/update", "draft"): (302, 403, 200, 403, 200, 200, 302),
    ("POST", "/<int:post_id>/update", "published"): (302, 403, 302, 403, 302, 302, 302),
    ("POST", "/<int:post_id>/update", "draft"): (302, 403, 302, 403, 302, 302, 302),
    # Drafts only: a published post is a 409 for whoever may edit it.
    ("POST", "/<int:post_id>/autosave", "published"): (302, 403, 409, 403, 409, 409, 302),
    ("POST", "/<int:post_id>/autosave", "draft"): (302, 403, 200, 403, 200, 200, 302),
    ("GET", "/<int:post_id>/delete", "published"): (302, 403, 200, 403, 200, 200, 302),
    ("GET", "/<int:post_id>/delete", "draft"): (302, 403, 200, 403, 200, 200, 302),
    ("POST", "/<int:post_id>/delete", "published"): (302, 403, 302, 403, 302, 302, 302),
    ("POST", "/<int:post_id>/delete", "draft"): (302, 403, 302, 403, 302, 302, 302),
    ("GET", "/<int:post_id>/revisions", "published"): (302, 403, 200, 403, 200, 200, 302),
    ("GET", "/<int:post_id>/revisions", "draft"): (302, 403, 200, 403, 200, 200, 302),
    # The draft has only its current version: version 1 of it is a 404.
    ("GET", "/<int:post_id>/revisions/<int:version>", "published"): (
        (302, 403, 200, 403, 200, 200, 302)
    ),
    ("GET", "/<int:post_id>/revisions/<int:version>", "draft"): (
        (302, 403, 404, 403, 404, 404, 302)
    ),
    ("POST", "/<int:post_id>/revisions/<int:version>/restore", "published"): (
        (302, 403, 302, 403, 302, 302, 302)
    ),
    ("POST", "/<int:post_id>/revisions/<int:version>/restore", "draft"): (
        (302, 403, 404, 403, 404, 404, 302)
    ),
    # The trash is its author's alone: 404 for anyone else, editors and admins
    # included (an editor's deletion lands in the author's trash).
    ("GET", "/me/trash/", None): SIGNED_IN_200,
    ("POST", "/me/trash/<int:post_id>/restore", "trashed"): (302, 404, 302, 404, 404, 404, 302),
    ("POST", "/me/trash/<int:post_id>/delete", "trashed"): (302, 404, 302, 404, 404, 404, 302),
    # Pictures: authors and up upload (no file here: refused); a picture is its
    # owner's (alice's) to delete, and any admin's; its files are anyone's to fetch.
    ("GET", "/media/", None): (302, 403, 200, 200, 200, 200, 302),
    ("POST", "/media/", None): (302, 403, 400, 400, 400, 400, 302),
    ("POST", "/media/<int:media_id>/delete", None): (302, 403, 302, 403, 403, 302, 302),
    # No file sent: refused (400) for whoever may replace it.
    ("POST", "/media/<int:media_id>/replace", None): (302, 403, 400, 403, 403, 400, 302),
    ("GET", "/media/<name>", None): ALL_200,
    # The admin area: admins only (the account acted on is bob, the other author).
    ("GET", "/admin/", None): ADMIN_ONLY,
    ("GET", "/admin/users", None): ADMIN_ONLY,
    ("GET", "/admin/audit", None): ADMIN_ONLY,
    ("POST", "/admin/users/<int:user_id>/role", None): ADMIN_ONLY_POST,
    ("POST", "/admin/users/<int:user_id>/disable", None): ADMIN_ONLY_POST,
    ("POST", "/admin/users/<int:user_id>/enable", None): ADMIN_ONLY_POST,
    ("GET", "/admin/users/<int:user_id>/delete", None): ADMIN_ONLY,
    ("POST", "/admin/users/<int:user_id>/delete", None): ADMIN_ONLY_POST,  # bob's posts to ada
    ("GET", "/admin/invites", None): ADMIN_ONLY,
    ("POST", "/admin/invites", None): ADMIN_ONLY,  # the page again, with the new link
    ("POST", "/admin/invites/<int:invite_id>/revoke", None): ADMIN_ONLY_POST,
    ("GET", "/admin/settings", None): ADMIN_ONLY,
    ("POST", "/admin/settings", None): ADMIN_ONLY_POST,
    ("GET", "/admin/outbox", None): ADMIN_ONLY,
    ("POST", "/admin/outbox/<int:message_id>/retry", None): ADMIN_ONLY_POST,
    # Every post in every state: editors too (unpublishing a draft changes nothing).
    ("GET", "/admin/posts", None): (302, 403, 403, 403, 200, 200, 302),
    ("POST", "/admin/posts/<int:post_id>/unpublish", "published"): EDITORS_POST,
    ("POST", "/admin/posts/<int:post_id>/unpublish", "draft"): EDITORS_POST,
}

#: Values for the URL parts that are not a post.
URL_VALUES = {
    "version": 1,
    "name": "shared",
    "username": "alice",
    "kind": "atom",
    "chunk": 0,
    "filename": "style.css",
    "token": "made-up",
    "message_id": 1,
    "year": datetime.now(UTC).year,
    "month": datetime.now(UTC).month,
}
#: Each POST's form: complete where the action should go through.
FORMS = {
    "/theme": {"theme": "dark", "next": "/"},
    "/<int:post_id>/like": {"like": "1"},
    "/<int:post_id>/comments": {"body": "A comment"},  # and a stamp: see _check()
    "/<int:post_id>/comments/guest": {"body": "A guest's", "name": "Gus", "email": "g@example.com"},
    "/comments/<int:comment_id>/edit": {"body": "Changed"},
    "/comments/<int:comment_id>/moderate": {"action": "hide"},
    "/comments/queue": {"action": "approve", "ids": "1"},
    "/<int:post_id>/comments/state": {"open": "0"},
    "/comments/users/<int:user_id>/ban": {"banned": "1"},
    "/auth/account/notifications": {"comment-reply": "on"},
    "/auth/register": {"username": "", "password": ""},
    "/auth/login": {"username": "", "password": ""},
    "/auth/account/password": {"current": "wrong", "new": "another long pw"},
    "/auth/account/profile": {"bio": "Hello", "timezone": "UTC"},
    "/auth/account/delete": {"password": "wrong"},
    "/auth/account/email": {"email": "new@example.com", "password": "wrong"},
    "/auth/forgot": {"email": ""},
    "/auth/2fa": {"code": "123456"},
    "/auth/2fa/setup": {"code": "123456", "password": "wrong"},
    "/auth/2fa/codes": {"password": "wrong"},
    "/auth/2fa/disable": {"password": "wrong", "code": "123456"},
    "/auth/reset/<token>": {"password": "another long pw"},
    "/create": {"title": "New", "body": "text", "action": "publish"},
    "/preview": {"body": "*hi*"},
    "/admin/users/<int:user_id>/role": {"role": "editor"},
    "/admin/invites": {"role": "", "days": "7"},
    "/admin/users/<int:user_id>/delete": {"posts": "reassign", "heir": "ada"},
    "/admin/settings": {"SITE_NAME": "Renamed"},
}
POST_FORM = {"title": "New title", "body": "text"}


def test_every_route_has_a_row(app):
    routes = {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }
    assert routes == {(method, rule) for method, rule, _which in ROUTES}


@pytest.fixture
def site(app, make_user, make_post, snapshot) -> dict[str, int]:
    """The accounts, alice's published post (with a second version), her draft, a post
    of hers in the trash, her picture and bob's comment (built once, then restored)."""
    return snapshot("roles_site", lambda: _build_site(app, make_user, make_post))


def _build_site(app, make_user, make_post) -> dict[str, int]:
    ids = {name: make_user(username, PW, role=role) for name, (username, role) in ACCOUNTS.items()}
    published = make_post(ids["author"], title="Published", body="b", tags="shared")
    draft = make_post(ids["author"], title="Draft", body="d", status="draft")
    trashed = make_post(ids["author"], title="Trashed", body="t")
    from flaskr.blog import services

    with app.app_context():
        services.revise_post(
            published, services.Draft(title="Published", body="b2", tags="shared"), base_version=1
        )
        services.delete_post(trashed)
        picture = media_services.upload(ids["author"], _PICTURE, alt="A dot", decorative=False)
        comment = _comment(published, ids["other"])
    return {
        "published": published,
        "draft": draft,
        "trashed": trashed,
        "picture": picture["id"],
        "picture_file": picture["key"],
        "comment": comment,
        **ids,
    }


def _comment(post_id: int, author_id: int) -> int:
    """A published comment by the account under the post."""
    from flaskr.comments import queries as comment_queries
    from flaskr.db import transaction, utcnow

    with transaction():
        return comment_queries.insert(
            post_id=post_id,
            author_id=author_id,
            body="Bob's comment",
            body_html="<p>Bob's comment</p>",
            status="published",
            created_at=utcnow(),
        )


def _url(rule: str, which: str | None, site: dict[str, int]) -> str:
    from werkzeug.routing import Map, Rule

    values = dict(URL_VALUES)
    if which is not None:
        values["post_id"] = site[which]
        values["slug"] = which
    values["user_id"] = site["other"]
    values["media_id"] = site["picture"]
    if rule.startswith("/media/"):
        values["name"] = site["picture_file"]
    values["invite_id"] = 1
    values["comment_id"] = site["comment"]
    bound = Map([Rule(rule, endpoint="x")]).bind("localhost")
    return bound.build(
        "x", {k: v for k, v in values.items() if f":{k}>" in rule or f"<{k}>" in rule}
    )


#: GETs change nothing: one site serves every kind of user in turn. Every other method
#: gets a site of its own per kind of user (a POST may change what the next one sees).
GET_ROWS = [(rule, which) for method, rule, which in ROUTES if method == "GET"]
OTHER_ROWS = [(method, rule, which) for method, rule, which in ROUTES if method != "GET"]


@pytest.mark.parametrize(("rule", "which"), GET_ROWS)
def test_each_page_answers_each_kind_of_user_as_the_policy_says(app, site, rule, which):
    for who in USERS:  # the disabled user last: disabling it is a change
        _check(app, app.test_client(), site, "GET", rule, which, who)


@pytest.mark.parametrize(("method", "rule", "which"), OTHER_ROWS)
@pytest.mark.parametrize("who", USERS)
def test_each_route_answers_each_kind_of_user_as_the_policy_says(
    app, client, site, method, rule, which, who
):
    _check(app, client, site, method, rule, which, who)


def _check(
    app, client, site, method: str, rule: str, which: str | None, who: str, table=ROUTES
) -> None:
    """Ask for the route as `who` in `client`; assert the row's status in `table` for them."""
    if who != "visitor":
        username = ACCOUNTS[who][0]
        client.post("/auth/login", data={"username": username, "password": PW})
        assert client.get("/auth/account").status_code == 200, (who, "not signed in")
    if who == "disabled":
        with app.app_context():
            accounts.disable_user(site["disabled"])
    url = _url(rule, which, site)
    data = None
    if method == "POST":
        data = FORMS.get(rule, {**POST_FORM, "version": "2" if which == "published" else "1"})
        if rule in ("/<int:post_id>/comments", "/<int:post_id>/comments/guest"):
            data = {**data, "stamp": _stamp(app, site[which or "published"])}
    with client.open(url, method=method, data=data) as response:
        expected = table[(method, rule, which)][USERS.index(who)]
        assert response.status_code == expected, (who, method, url)
        if who in ("visitor", "disabled") and response.status_code == 302:
            location = response.headers["Location"]
            # A signed-in page sends visitors to log in; public POSTs go where they go.
            signed_in = policy.access_rule(_view(app, method, url)) == policy.SIGNED_IN
            assert (location == "/auth/login") == signed_in, (who, method, url, location)


#: The guest routes where the site takes guests' comments (COMMENTS_GUESTS): visitors
#: get the form and send it; whoever is signed in is sent to their account's own form.
GUEST_ROUTES = {
    ("GET", "/<int:post_id>/comments/guest", "published"): (200, 303, 303, 303, 303, 303, 200),
    ("GET", "/<int:post_id>/comments/guest", "draft"): (404,) * 7,
    ("POST", "/<int:post_id>/comments/guest", "published"): (303,) * 7,
    ("POST", "/<int:post_id>/comments/guest", "draft"): (404,) * 7,
}


@pytest.mark.parametrize(("method", "rule", "which"), list(GUEST_ROUTES))
@pytest.mark.parametrize("who", USERS)
def test_with_guests_comments_on_the_guest_form_is_for_visitors(
    app, client, site, method, rule, which, who
):
    app.config["COMMENTS_GUESTS"] = True
    _check(app, client, site, method, rule, which, who, table=GUEST_ROUTES)


def _stamp(app, post_id: int) -> str:
    """The comment form's stamp, as if shown a minute ago (a person, not a bot)."""
    import time

    from flaskr.comments.screening import form_stamp

    with app.app_context():
        return form_stamp(post_id, at=time.time() - 60)


def _view(app, method: str, url: str):
    adapter = app.url_map.bind("localhost")
    endpoint, _ = adapter.match(url, method=method)
    return app.view_functions[endpoint]


@pytest.mark.parametrize(
    ("role", "english", "german"),
    [("reader", "Reader", "Leser:in"), ("editor", "Editor", "Redakteur:in")],
)
def test_the_account_page_names_the_role_in_the_reader_s_language(
    client, auth, make_user, role, english, german
):
    make_user("rita", PW, role=role)
    auth.login("rita", PW)
    assert f"Your role: {english}." in client.get("/auth/account").text
    page = client.get("/auth/account", headers={"Accept-Language": "de"}).text
    assert f"Deine Rolle: {german}." in page
