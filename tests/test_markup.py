"""Markdown: what it renders, what it refuses, the cached HTML and the editor's preview."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa

from flaskr import markup
from flaskr.db import connection, get_db, transaction

PW = "a long enough pw"


class _Elements(HTMLParser):
    """Every start tag of a fragment with its attributes, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, dict(attrs)))


def elements(fragment: str) -> list[tuple[str, dict[str, str | None]]]:
    """The start tags of an HTML fragment, as a browser's tokenizer sees them."""
    parser = _Elements()
    parser.feed(fragment)
    parser.close()
    return parser.found


def _stored(app, post_id: int):
    with app.app_context():
        query = sa.text("SELECT body_html, render_version, summary FROM post WHERE id = :id")
        return connection().execute(query, {"id": post_id}).mappings().one()


def _count_posts(app) -> int:
    with app.app_context():
        return connection().execute(sa.text("SELECT COUNT(*) FROM post")).scalar_one()


@pytest.fixture
def alice(make_user, auth) -> int:
    """An author, signed in on `client`."""
    user_id = make_user("alice", PW)
    auth.login("alice", PW)
    return user_id


# --- the renderer ----------------------------------------------------------------


def test_commonmark_block_and_inline_syntax():
    html = markup.render("# Title\n\nSome *em* and **strong**, `code`.\n\n- one\n- two\n\n> quoted")
    assert "<h1>Title</h1>" in html
    assert "<em>em</em>" in html and "<strong>strong</strong>" in html
    assert "<code>code</code>" in html
    assert "<ul>\n<li>one</li>\n<li>two</li>\n</ul>" in html
    assert "<blockquote>\n<p>quoted</p>\n</blockquote>" in html


def test_tables_and_strikethrough():
    html = markup.render("| a | b |\n|---|---|\n| 1 | 2 |\n\n~~gone~~")
    tags = [tag for tag, _ in elements(html)]
    assert tags == ["table", "thead", "tr", "th", "th", "tbody", "tr", "td", "td", "p", "s"]
    assert "<th>a</th>" in html and "<td>2</td>" in html
    assert "<s>gone</s>" in html


def test_table_column_alignment_survives_without_inline_styles():
    html = markup.render("| a | b | c |\n|:--|:-:|--:|\n| 1 | 2 | 3 |")
    cells = [(tag, attrs) for tag, attrs in elements(html) if tag in ("th", "td")]
    assert [attrs.get("class") for _, attrs in cells] == [
        "align-left",
        "align-center",
        "align-right",
    ] * 2
    assert "style=" not in html  # the CSP forbids inline styles
    assert "align=" not in html  # obsolete HTML


def test_a_cell_keeps_only_an_alignment_class():
    # Markdown escapes raw HTML; the sanitizer would still drop any other class.
    html = markup._sanitized(
        '<table><tr><th class="danger">a</th><td class="align-right">b</td>'
        '<td class="align-right danger">c</td></tr></table>'
    )
    cells = [attrs.get("class") for tag, attrs in elements(html) if tag in ("th", "td")]
    assert cells == [None, "align-right", None]


def test_footnote_links_lead_to_their_notes_and_back():
    source = "One[^a] two[^b] one again[^a].\n\n[^a]: First note.\n[^b]: Second note."
    html = markup.render(source)
    found = elements(html)
    ids = {attrs["id"] for _, attrs in found if attrs.get("id")}
    targets = {
        attrs["href"][1:] for tag, attrs in found if (attrs.get("href") or "").startswith("#")
    }
    assert len(targets) == 5 and targets <= ids  # 3 references, 2 notes, each linked
    # Another post on the same page gets its own ids.
    other = {
        a["id"] for _, a in elements(markup.render("Other[^a].\n\n[^a]: Note.")) if a.get("id")
    }
    assert other and not other & ids


@pytest.mark.parametrize("value", ["content", "preview", "fn1", "fn-zzzzzzzzzzzz-1", "x fn-0-1"])
def test_no_id_but_a_footnotes_passes_the_sanitizer(value):
    assert markup._keep_attribute("a", "id", value) is None
    assert markup._keep_attribute("a", "id", "fnref-0123456789ab-2:1") == "fnref-0123456789ab-2:1"


def test_fenced_code_is_highlighted_with_class_names():
    html = markup.render("```python\ndef f():\n    return 1\n```\n")
    spans = [attrs.get("class") for tag, attrs in elements(html) if tag == "span"]
    assert spans, html
    assert all(name and name.startswith("hl-") for name in spans)
    assert '<span class="hl-k">def</span>' in html
    assert "style=" not in html  # class-based, so the CSP (no inline styles) holds


def test_code_in_an_unknown_language_is_escaped_not_highlighted():
    html = markup.render("```nosuchlanguage\n<b>bold?</b>\n```\n")
    assert "&lt;b&gt;bold?&lt;/b&gt;" in html
    assert "<b>" not in html and "hl-" not in html


def test_highlight_stylesheet_styles_the_classes_render_emits(client):
    """Every class a highlighted block carries has a rule that matches it where it stands."""
    html = markup.render("```python\ndef f():\n    return 'x'  # note\n```\n")
    response = client.get("/highlight.css")
    assert response.status_code == 200
    assert response.mimetype == "text/css"
    css = response.get_data(as_text=True)
    classes = {attrs["class"] for tag, attrs in elements(html) if tag == "span"}
    ancestors = {name for _, attrs in elements(html) for name in (attrs.get("class") or "").split()}
    assert "hl-k" in classes  # a keyword, which the stylesheet colours
    styled = 0
    for name in classes:
        # A rule "X .hl-k" only applies if some ancestor has class X.
        selectors = [line.split("{")[0].split() for line in css.splitlines() if f".{name} " in line]
        if not selectors:
            continue  # a token kind the style leaves plain
        styled += 1
        assert any(
            sel[-1] == f".{name}" and all(part.lstrip(".") in ancestors for part in sel[:-1])
            for sel in selectors
        ), f"the rules for .{name} need an ancestor the rendered HTML does not have: {selectors}"
    assert styled >= 3


@pytest.mark.parametrize(
    "source",
    [
        "<script>alert(1)</script>",
        "<b onclick=alert(1)>bold</b>",
        '<img src=x onerror="alert(1)">',
        '<iframe src="https://evil.example"></iframe>',
        "<style>body{display:none}</style>",
        "<!-- comment --><div>x</div>",
        "text <span style='color:red'>inline</span> html",
    ],
)
@pytest.mark.parametrize("render", [markup.render, markup.render_comment], ids=["post", "comment"])
def test_raw_html_is_escaped_not_rendered(source, render):
    # Posts and comments: hostile text gets the same treatment from both renderers.
    html = render(source)
    assert [tag for tag, _ in elements(html)] == ["p"], html
    assert "&lt;" in html


@pytest.mark.parametrize(
    "source",
    [
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x](java&#x09;script:alert(1))",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
        "[x](vbscript:msgbox(1))",
        "![x](data:image/svg+xml;base64,PHN2Zz4=)",
        "![x](javascript:alert(1))",
        "<javascript:alert(1)>",
        "[x][ref]\n\n[ref]: javascript:alert(1)",
        "[x](file:///etc/passwd)",
    ],
)
@pytest.mark.parametrize("render", [markup.render, markup.render_comment], ids=["post", "comment"])
def test_links_with_unsafe_schemes_are_dropped(source, render):
    html = render(source)
    for _tag, attrs in elements(html):
        for name in ("href", "src"):
            # Browsers drop tabs and newlines and leading blanks before reading the scheme.
            value = re.sub(r"[\t\n\r]", "", attrs.get(name) or "").lstrip("\x00 ").lower()
            scheme = re.match(r"([a-z][a-z0-9+.-]*):", value)
            assert scheme is None or scheme.group(1) in ("http", "https", "mailto"), html


def _image_sources(html: str) -> list[str | None]:
    return [attrs.get("src") for tag, attrs in elements(html) if tag == "img"]


@pytest.mark.parametrize(
    "source",
    [
        "![x](/auth/logout)",
        "![x](/auth/logout?next=/)",
        "![x](auth/logout)",  # relative to the post's address
        "![x](../auth/logout)",
        "![x](/static/../auth/logout)",
        "![x](/static/%2e%2e/auth/logout)",
        "![x](/static/.%2E/auth/logout)",
        "![x](</static\\..\\auth/logout>)",
        "![x](/static/./../auth/logout)",
        "![x](/static)",
        "![x](/1/delete)",
        "![x](http:/auth/logout)",
        "![x](https:auth/logout)",
        "![x][ref]\n\n[ref]: /auth/logout",
        "[![x](/auth/logout)](https://example.org)",
        "* ![x](/auth/logout)",
        "![x](https://blog.example/auth/logout)",
        "![x](//blog.example/auth/logout)",
        "![x](HTTPS://BLOG.EXAMPLE:8443/auth/logout)",
        "![x](https://www.blog.example/auth/logout)",  # TRUSTED_HOSTS has .blog.example
        "![x](https://trusted.example/auth/logout)",
    ],
)
def test_images_never_point_at_the_sites_own_actions(make_app, source):
    app = make_app(TRUSTED_HOSTS=["blog.example", ".blog.example", "trusted.example"])
    with app.test_request_context("/create", base_url="https://blog.example"):
        html = markup.render(source)
    assert _image_sources(html) == [], html
    assert "x" in html  # the alt text stays, as text


@pytest.mark.parametrize(
    "src",
    [
        "/static/flaskr.css",
        "/static/img/cat.png",
        "/media/2025/01/cat-1.jpg",
        "https://blog.example/media/cat.png",
    ],
)
def test_the_sites_own_files_are_kept_as_images(app, src):
    with app.test_request_context("/create", base_url="https://blog.example"):
        assert _image_sources(markup.render(f"![cat]({src})")) == [src]


@pytest.mark.parametrize(
    "src",
    [
        "https://images.example.org/auth/logout",  # another site's address is its own business
        "https://example.org/cat.png",
        "//example.org/cat.png",
    ],
)
def test_another_sites_image_becomes_a_link_saying_so(app, src):
    # The CSP would not load it: readers get a link, not a broken image.
    with app.test_request_context("/create", base_url="https://blog.example"):
        html = markup.render(f"![a <b>cat</b>]({src})")
    assert _image_sources(html) == []
    assert '<span class="foreign-picture">Picture from another site, not shown: ' in html
    assert (
        f'<a href="{src}" rel="nofollow noopener ugc">a &lt;b&gt;cat&lt;/b&gt;</a></span>' in html
    )
    assert markup.summarize_html(html) == ""  # no placeholder in summaries and feeds


def test_the_request_host_counts_as_the_sites_own(app):
    with app.test_request_context("/", base_url="http://127.0.0.1:5000"):
        html = markup.render("![x](http://127.0.0.1:5000/auth/logout)")
    assert _image_sources(html) == []


@pytest.mark.parametrize(
    ("source", "href"),
    [
        ("[site](https://example.com/a?b=1&c=2)", "https://example.com/a?b=1&c=2"),
        ("[plain](http://example.com)", "http://example.com"),
        ("<https://example.com/auto>", "https://example.com/auto"),
        ("[mail](mailto:someone@example.com)", "mailto:someone@example.com"),
    ],
)
def test_links_get_rel_nofollow_noopener_ugc(source, href):
    (anchor,) = [attrs for tag, attrs in elements(markup.render(source)) if tag == "a"]
    assert anchor["href"] == href
    assert set((anchor["rel"] or "").split()) == {"nofollow", "noopener", "ugc"}


def test_a_link_title_cannot_break_out_of_its_attribute():
    html = markup.render('[x](https://example.com "t\\" onmouseover=\\"alert(1)")')
    (anchor,) = [attrs for tag, attrs in elements(html) if tag == "a"]
    assert set(anchor) == {"href", "title", "rel"}
    assert anchor["title"] == 't" onmouseover="alert(1)'


def test_summary_is_the_plain_text_opening():
    summary = markup.summarize("# Head\n\nSome **bold** <tag> & [link](https://x.example)\n")
    assert summary == "Head Some bold <tag> & link"
    long = markup.summarize("word " * 200)
    assert len(long) <= markup.SUMMARY_MAX + 1 and long.endswith("…")


# --- cached HTML ------------------------------------------------------------------


def test_rendered_html_is_cached_beside_the_source(app, make_user, make_post):
    post_id = make_post(make_user(), body="Some *Markdown*")
    stored = _stored(app, post_id)
    assert stored["body_html"] == markup.render("Some *Markdown*")
    assert stored["render_version"] == markup.RENDER_VERSION
    assert stored["summary"] == "Some Markdown"


def test_post_inserted_by_raw_sql_renders_on_the_index_and_is_cached(app, client, make_user):
    author = make_user()
    with app.app_context():
        db = get_db()
        # The tutorial's way: plain SQL, no body_html, no published_at.
        db.execute(
            "INSERT INTO post (title, body, author_id) VALUES ('raw', 'Made *by* SQL', "
            + str(author)
            + ")"
        )
        db.commit()
    assert _stored(app, 1)["body_html"] is None
    page = client.get("/").get_data(as_text=True)
    assert "Made <em>by</em> SQL" in page
    stored = _stored(app, 1)
    assert stored["body_html"] == "<p>Made <em>by</em> SQL</p>\n"
    assert stored["render_version"] == markup.RENDER_VERSION
    assert stored["summary"] == "Made by SQL"


def test_html_from_an_older_renderer_is_rebuilt(app, client, make_user, make_post):
    post_id = make_post(make_user(), title="Old", body="Now *new*")
    with app.app_context(), transaction() as conn:
        conn.execute(
            sa.text("UPDATE post SET body_html = '<p>stale</p>', render_version = :v"),
            {"v": markup.RENDER_VERSION - 1},
        )
    page = client.get(f"/{post_id}/old").get_data(as_text=True)
    assert "stale" not in page
    assert "Now <em>new</em>" in page
    stored = _stored(app, post_id)
    assert stored["body_html"] == "<p>Now <em>new</em></p>\n"
    assert stored["render_version"] == markup.RENDER_VERSION


def test_lists_rebuild_html_from_an_older_renderer_from_the_source_they_fetch(
    app, client, make_user, make_post
):
    """Lists read no Markdown source; a stale row's is fetched for it alone."""
    from flaskr.blog import queries

    stale = make_post(make_user("ann"), title="Old", body="Now *new*")
    current = make_post(make_user("bea"), title="Fresh", body="Still *here*")
    with app.app_context():
        assert "body" not in queries.list_reader_posts(limit=2)[0]
    with app.app_context(), transaction() as conn:
        conn.execute(
            sa.text(
                "UPDATE post SET body_html = '<p>stale</p>', render_version = :v WHERE id = :id"
            ),
            {"v": markup.RENDER_VERSION - 1, "id": stale},
        )
    page = client.get("/").get_data(as_text=True)
    assert "stale" not in page
    assert "Now <em>new</em>" in page and "Still <em>here</em>" in page
    assert _stored(app, stale)["body_html"] == "<p>Now <em>new</em></p>\n"
    assert _stored(app, current)["body_html"] == "<p>Still <em>here</em></p>\n"


def test_html_from_the_current_renderer_is_served_as_cached(app, client, make_user, make_post):
    """The cache is really used: a current row is not rendered again."""
    post_id = make_post(make_user(), title="Cached", body="source text")
    with app.app_context(), transaction() as conn:
        conn.execute(sa.text("UPDATE post SET body_html = '<p>from the cache</p>'"))
    assert "from the cache" in client.get(f"/{post_id}/cached").get_data(as_text=True)


# --- preview ------------------------------------------------------------------------


def test_preview_button_renders_without_saving(app, client, alice):
    form = {"title": "T", "body": "Hello *world* <script>x</script>", "action": "preview"}
    response = client.post("/create", data=form)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Hello <em>world</em> &lt;script&gt;x&lt;/script&gt;" in page
    assert "<script>x" not in page
    # The editor keeps what was typed.
    assert 'value="T"' in page and "Hello *world*" in page
    assert _count_posts(app) == 0


def test_preview_while_editing_leaves_the_post_unchanged(app, client, alice, make_post):
    post_id = make_post(alice, title="Kept", body="old")
    form = {"title": "Kept", "body": "*draft text*", "version": "1", "action": "preview"}
    response = client.post(f"/{post_id}/update", data=form)
    assert response.status_code == 200
    assert "<em>draft text</em>" in response.get_data(as_text=True)
    with app.app_context():
        row = connection().execute(sa.text("SELECT body, version FROM post")).one()
    assert tuple(row) == ("old", 1)


def test_preview_endpoint_returns_sanitized_html(client, alice):
    response = client.post("/preview", data={"body": "**hi** <img src=x onerror=alert(1)>"})
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert response.get_data(as_text=True) == (
        "<p><strong>hi</strong> &lt;img src=x onerror=alert(1)&gt;</p>\n"
    )


def test_preview_endpoint_needs_a_signed_in_user(client):
    response = client.post("/preview", data={"body": "x"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login"


def test_preview_endpoint_refuses_huge_bodies(client, alice):
    assert client.post("/preview", data={"body": "x" * 100_001}).status_code == 413


def test_preview_endpoint_needs_the_csrf_header(make_app, make_user, csrf_token):
    make_user("alice", PW)
    client = make_app(WTF_CSRF_ENABLED=True).test_client()
    token = csrf_token(client, "/auth/login")
    login = {"username": "alice", "password": PW, "csrf_token": token}
    assert client.post("/auth/login", data=login).status_code == 302
    assert client.post("/preview", data={"body": "*x*"}).status_code == 400
    wrong = client.post("/preview", data={"body": "*x*"}, headers={"X-CSRFToken": "forged"})
    assert wrong.status_code == 400
    token = csrf_token(client, "/create")
    response = client.post("/preview", data={"body": "*x*"}, headers={"X-CSRFToken": token})
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "<p><em>x</em></p>\n"


def test_code_blocks_and_tables_can_be_scrolled_by_keyboard():
    html = markup.render(
        "```\nlong line\n```\n\n    indented\n\nText about <pre> and <table> tags.\n\n"
        "| a | b |\n| - | - |\n| 1 | 2 |\n"
    )
    assert html.count('<pre tabindex="0">') == 2
    assert html.count('<table tabindex="0">') == 1
    assert "&lt;pre&gt;" in html and "&lt;table&gt;" in html  # the author's text stays text
