"""Every page type is valid HTML: html-validate's `recommended` preset (npm) finds nothing.

The rules turned off, and why, are in .htmlvalidate.json and the README.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from PIL import Image
from sample_post import BODY

from flaskr.blog import services
from flaskr.db import utcnow
from flaskr.media import services as media_services

ROOT = Path(__file__).resolve().parent.parent
HTML_VALIDATE = ROOT / "node_modules" / ".bin" / "html-validate"


SIGNED_OUT = {
    "index": "/",
    "detail": "/1/a-post",
    "tag": "/tag/cats",
    "tags": "/tags",
    "profile": "/u/ann",
    "search": "/search?q=paragraph",
    "search-nothing-found": "/search?q=zzzzqqq",
    "search-form": "/search",
    "search-comments": "/search?q=comment&in=comments",
    "search-with-comments": "/search?q=comment",
    "login": "/auth/login",
    "register": "/auth/register",
    "forgot-password": "/auth/forgot",
    "not-found": "/no/such/page",
    "archive": "/archive/",
    "archive-year": "/archive/{year}/",
    "archive-month": "/archive/{year}/{month}/",
}
SIGNED_IN = {
    "index-signed-in": "/",
    "detail-signed-in": "/1/a-post",
    "create": "/create",
    "update": "/1/update",
    "delete": "/1/delete",
    "revisions": "/1/revisions",
    "revision": "/1/revisions/1",
    "my-posts": "/me/posts",
    "account": "/auth/account",
    "trash": "/me/trash/",
    "media-library": "/media/",
    "media-library-everyone": "/media/?everyone=1",
    "admin": "/admin/",
    "admin-users": "/admin/users",
    "admin-audit": "/admin/audit",
    "admin-posts": "/admin/posts",
    "admin-invites": "/admin/invites",
    "admin-settings": "/admin/settings",
    "admin-outbox": "/admin/outbox",
    "admin-delete-user": "/admin/users/2/delete",
    "comments-queue": "/comments/queue",
    "comment-edit": "/comments/2/edit",
}


def _comments(author: int, reader: int) -> None:
    """A thread in every state a moderator sees: comments, replies, held, hidden, [deleted]."""
    from flaskr.comments import queries as comment_queries
    from flaskr.db import transaction

    def add(author_id, status, parent=None, body="A *comment* with [a link](https://x.example)"):
        return comment_queries.insert(
            post_id=1,
            author_id=author_id,
            parent_id=parent,
            body=body,
            body_html=f"<p>{body}</p>",
            status=status,
            held_reason="first-comment" if status == "held" else None,
            created_at=utcnow(),
        )

    with transaction():
        first = add(reader, "published")
        add(author, "published", parent=first)  # comment 2: ann's, which she may edit
        add(reader, "held")
        add(reader, "hidden")
        gone = add(None, "deleted", body="")
        add(reader, "published", parent=gone)


def _picture() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (20, 90, 160)).save(out, "JPEG")
    return out.getvalue()


def _validator() -> Path:
    if HTML_VALIDATE.exists() and shutil.which("node"):
        return HTML_VALIDATE
    message = "html-validate is missing: run `npm ci` in the repository (needs Node.js)"
    if os.environ.get("FLASKR_CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def pages(app, client, make_user, make_post, tmp_path) -> dict[str, Path]:
    """Every page type as served, written to files: {name: path}."""
    # An admin, so that the admin area's pages are checked too.
    author = make_user("ann", "a long enough pw", role="admin")
    bob = make_user("bob", "a long enough pw", role="reader")
    make_post(author, title="A post", body=BODY, tags="cats, dogs")
    client.post("/auth/login", data={"username": "bob", "password": "not it"})  # audited
    with app.app_context():
        # A picture of ann's, in the post (srcset, width, height) and in the library.
        shown = media_services.upload(author, _picture(), alt="A dot", decorative=False)
        media_services.upload(author, _picture(), alt="", decorative=True)
        more = f"\nMore.\n\n![A dot](/media/{shown['key']})\n\n![far](https://x.example/a.png)"
        services.revise_post(1, services.Draft(title="A post", body=BODY + more, tags="cats"))
        services.delete_post(services.create_post(author, services.Draft(title="Gone", body="x")))
        _comments(author, bob)
    found: dict[str, bytes] = {}
    now = utcnow()
    for name, path in SIGNED_OUT.items():
        found[name] = client.get(path.format(year=now.year, month=now.month)).data
    client.post("/auth/login", data={"username": "ann", "password": "a long enough pw"})
    for name, path in SIGNED_IN.items():
        found[name] = client.get(path).data
    # The same pages in German, and a form sent back with its errors.
    for name in ("index", "create", "account", "admin-users"):
        found[f"{name}-de"] = client.get(
            SIGNED_IN.get(name, "/"), headers={"Accept-Language": "de"}
        ).data
    found["admin-invite-made"] = client.post("/admin/invites", data={"days": "7"}).data
    found.update(_mail_pages(app, client))
    found["comment-with-errors"] = client.post("/1/comments", data={"body": ""}).data
    found["create-with-errors"] = client.post(
        "/create", data={"title": "", "body": "", "action": "publish"}
    ).data
    found.update(_two_factor_pages(client))  # last: it signs ann out
    files = {}
    for name, data in found.items():
        files[name] = tmp_path / f"{name}.html"
        files[name].write_bytes(data)
    return files


def _mail_pages(app, client) -> dict[str, bytes]:
    """The pages of mailed links and the mail itself (its HTML part), for ann."""
    from flaskr.mail import queries as mail_queries

    def newest() -> tuple[str, str]:
        with app.app_context():
            row = mail_queries.find_message(
                mail_queries.list_messages(None, page=1, per_page=1)[0]["id"]
            )
        path = re.search(r"http://localhost(/auth/\S+)", row["body_text"]).group(1)
        return path, row["body_html"]

    found = {}
    client.post(
        "/auth/account/email", data={"email": "ann@example.com", "password": "a long enough pw"}
    )
    link, found["mail-verify-email"] = newest()
    found["confirm-email"] = client.get(link).data
    client.post(link)
    found["account-with-address"] = client.get("/auth/account").data
    client.post(
        "/auth/account/email", data={"email": "ann@new.example", "password": "a long enough pw"}
    )
    with app.app_context():
        rows = mail_queries.list_messages(None, page=1, per_page=1)
        found["mail-email-changed"] = mail_queries.find_message(rows[0]["id"])["body_html"]
    found["account-address-pending"] = client.get("/auth/account").data
    anonymous = app.test_client()
    anonymous.post("/auth/forgot", data={"email": "ann@example.com"})
    link, found["mail-password-reset"] = newest()
    found["reset-password"] = anonymous.get(link).data
    found["reset-password-spent"] = anonymous.get("/auth/reset/made-up").data
    # A comment on ann's post (she has a confirmed address now): its mail and the
    # unsubscribe link's page, before and after the click.
    from flaskr.blog import queries as blog_queries
    from flaskr.notifications import services as notifications

    with app.test_request_context():
        comment = {"id": 2, "body": "A *comment* <b>", "parent_author_id": None}
        post = blog_queries.find_post(1)
        notifications.comment_published(comment, post, {"id": 0, "username": "bob"})
    with app.app_context():
        row = mail_queries.find_message(
            mail_queries.list_messages(None, page=1, per_page=1)[0]["id"]
        )
    found["mail-comment-on-post"] = row["body_html"]
    unsubscribe = row["list_unsubscribe"].removeprefix("http://localhost")
    found["unsubscribe"] = anonymous.get(unsubscribe).data
    found["unsubscribed"] = anonymous.post(unsubscribe).data
    # A guest's comment: the form, sent back with what was wrong, and the mailed link's page.
    app.config["COMMENTS_GUESTS"] = True
    guest = app.test_client()
    found["comment-guest"] = guest.get("/1/comments/guest").data
    found["comment-guest-with-errors"] = guest.post(
        "/1/comments/guest", data={"body": "Hello", "name": "", "email": "x"}
    ).data
    with app.app_context():
        from flaskr.comments.screening import form_stamp

        stamp = form_stamp(1, at=time.time() - 60)
    guest.post(
        "/1/comments/guest",
        data={
            "body": "A guest's *words*",
            "name": "Gus",
            "email": "gus@example.com",
            "stamp": stamp,
        },
    )
    with app.app_context():
        row = mail_queries.find_message(
            mail_queries.list_messages(None, page=1, per_page=1)[0]["id"]
        )
    found["mail-comment-confirm"] = row["body_html"]
    confirm = re.search(r"http://localhost(/comments/confirm/\S+)", row["body_text"])[1]
    found["comment-confirm"] = guest.get(confirm).data
    return {name: data.encode() if isinstance(data, str) else data for name, data in found.items()}


def _two_factor_pages(client) -> dict[str, bytes]:
    """Setting up two-factor login, its recovery codes, its status, and the code step."""
    import pyotp

    found = {"2fa-setup": client.get("/auth/2fa/setup").data}
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', found["2fa-setup"].decode())
    code = pyotp.TOTP(secret.group(1)).now()
    found["2fa-codes"] = client.post(
        "/auth/2fa/setup", data={"code": code, "password": "a long enough pw"}
    ).data
    found["2fa-status"] = client.get("/auth/2fa/setup").data
    client.post("/auth/logout")
    client.post("/auth/login", data={"username": "ann", "password": "a long enough pw"})
    found["2fa-second-step"] = client.get("/auth/2fa").data
    found["2fa-no-password-first"] = client.__class__(client.application).get("/auth/2fa").data
    return found


def problems(files: list[Path]) -> list[str]:
    """html-validate's findings in these files, one line each."""
    run = subprocess.run(
        [str(_validator()), "--config", str(ROOT / ".htmlvalidate.json"), "--formatter", "json"]
        + [str(path) for path in files],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if run.returncode not in (0, 1) or not run.stdout.strip():
        pytest.fail(f"html-validate did not run: {run.stderr}")
    return [
        f"{Path(result['filePath']).stem}:{message['line']}: {message['message']} "
        f"({message['ruleId']})"
        for result in json.loads(run.stdout)
        for message in result["messages"]
    ]


def test_every_page_type_is_valid_html(pages):
    assert len(pages) == len(SIGNED_OUT) + len(SIGNED_IN) + 4 + 3 + 15 + 5
    assert problems(list(pages.values())) == []


def test_the_plain_error_page_is_valid_html(make_app, tmp_path):
    # Shown for an untrusted Host (and during outages), without the layout.
    app = make_app(TRUSTED_HOSTS=["blog.example.org"])
    response = app.test_client().get("/", headers={"Host": "evil.example.com"})
    assert response.status_code == 400
    page = tmp_path / "plain-error.html"
    page.write_bytes(response.data)
    assert problems([page]) == []


def test_the_checker_finds_what_it_should(tmp_path):
    # A page with faults the preset names: the check above can fail.
    page = tmp_path / "broken.html"
    page.write_text(
        '<!doctype html><html lang="en"><head><title>x</title></head><body>'
        '<table><tr><td align="left">a</td></tr></table><input name="q"></body></html>'
    )
    found = problems([page])
    assert any("no-deprecated-attr" in line for line in found)
    assert any("no-implicit-input-type" in line for line in found)


def test_each_page_has_one_h1_and_lists_title_posts_with_h2(pages):
    for name, path in pages.items():
        if name.startswith("mail-"):
            continue  # a message, not a page of the site
        html = path.read_text()
        assert html.count("<h1") == 1, name
    index = pages["index"].read_text()
    assert re.search(r'<h2><a href="/1/a-post">A post</a></h2>', index)
    assert '<h1><a href="/1/a-post">A post</a></h1>' in pages["detail"].read_text()
