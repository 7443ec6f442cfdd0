"""Pictures in posts: srcset and sizes, other sites' pictures, covers, link previews,
feeds, and the editor's hints."""

from __future__ import annotations

import re

import pytest
from media_client import (
    absolute,
    picture,
    post_page,
    post_with_picture,
    rows,
    upload,
)

from flaskr.media import services
from flaskr.media.tables import media_use

# --- pictures in posts -----------------------------------------------------------


def test_a_post_shows_its_pictures_with_srcset_and_size_and_lazy_after_the_first(app, author):
    markdown = upload(author, picture(size=(2000, 1000)), json=True).json["markdown"]
    author.post("/create", data={"title": "Pics", "body": f"{markdown}\n\ntext\n\n{markdown}"})
    page = post_page(author, 1)
    first, second = re.findall(r"<img [^>]*>", page)[:2]
    key = rows(app)[0]["key"]
    token = key.rsplit("-", 1)[0]
    with app.app_context():
        url = services.file_url
        assert f'src="{url(token + "-1600.jpg")}"' in first
        assert (
            f'srcset="{url(token + "-480.webp")} 480w, {url(token + "-960.webp")} 960w, '
            f'{url(token + "-1600.webp")} 1600w"' in first
        )
    assert 'alt="A red square"' in first and 'width="2000" height="1000"' in first
    assert 'sizes="' in first and 'loading="lazy"' not in first
    assert 'loading="lazy"' in second


def test_another_sites_picture_is_a_link_saying_so(author):
    author.post("/create", data={"title": "Ext", "body": "![a cat](https://cats.example/cat.png)"})
    page = post_page(author, 1)
    assert "<img" not in page.split('class="body"', 1)[1].split("</article>")[0]
    assert "Picture from another site, not shown:" in page
    assert 'href="https://cats.example/cat.png"' in page


def test_a_post_records_which_pictures_it_shows(app, author):
    one = upload(author, picture(), json=True).json
    two = upload(author, picture(), json=True).json
    author.post("/create", data={"title": "Pics", "body": one["markdown"]})
    assert [(u["media_id"], u["post_id"]) for u in rows(app, media_use)] == [(one["id"], 1)]
    author.post(
        "/1/update", data={"title": "Pics", "body": two["markdown"] + " " + one["markdown"]}
    )
    assert sorted((u["media_id"], u["post_id"]) for u in rows(app, media_use)) == [
        (one["id"], 1),
        (two["id"], 1),
    ]


# --- everywhere pictures appear --------------------------------------------------


def test_a_post_page_names_its_first_picture_for_link_previews(app, author):
    post_with_picture(author, alt='Sunset "over" sea')
    page = post_page(author, 1)
    src = re.search(r'<img src="([^"]+)"', page)[1]
    assert f'<meta property="og:image" content="{absolute(src)}">' in page
    assert '<meta property="og:image:alt" content="Sunset &#34;over&#34; sea">' in page
    assert '<meta name="twitter:card" content="summary_large_image">' in page
    assert f'<meta name="twitter:image" content="{absolute(src)}">' in page


def test_a_post_without_pictures_names_none(author):
    author.post("/create", data={"title": "Words", "body": "only words"})
    page = post_page(author, 1)
    assert "og:image" not in page and '<meta name="twitter:card" content="summary">' in page


def test_feeds_carry_pictures_with_absolute_addresses_and_their_description(app, author):
    post_with_picture(author)
    page = post_page(author, 1)
    src = absolute(re.search(r'<img src="([^"]+)"', page)[1])
    atom = author.get("/feed.atom").get_data(as_text=True)
    assert f'<link rel="enclosure" href="{src}" type="image/jpeg" />' in atom
    # In the content: absolute src and srcset, and the alt text kept.
    assert f'&lt;img src="{src}" alt="A red square"' in atom
    assert 'srcset="/media' not in atom and ", /media/" not in atom
    rss = author.get("/feed.rss").get_data(as_text=True)
    assert f'<media:content url="{src}" type="image/jpeg" medium="image">' in rss
    assert '<media:description type="plain">A red square</media:description>' in rss
    feed = author.get("/feed.json").json
    assert feed["items"][0]["image"] == src
    assert 'alt="A red square"' in feed["items"][0]["content_html"]


# --- covers ----------------------------------------------------------------------


def test_a_cover_picture_is_shown_above_the_post_in_lists_and_link_previews(app, author):
    shown = upload(author, picture(size=(2000, 1000)), alt="A red field", json=True).json
    key = shown["key"]
    response = author.post(
        "/create", data={"title": "Covered", "body": "Just words.", "cover": f"/media/{key}"}
    )
    assert response.status_code == 302
    # Kept as Markdown with the upload's own description; the picture is in use.
    with app.app_context():
        from flaskr.blog import queries as blog_queries

        assert blog_queries.find_post(1)["cover"] == f"![A red field](/media/{key})"
    assert [(u["media_id"], u["post_id"]) for u in rows(app, media_use)] == [(shown["id"], 1)]
    author.post("/auth/logout")
    page = post_page(author, 1)
    cover = re.search(r'<figure class="cover">(<img [^>]*>)</figure>', page)[1]
    assert 'alt="A red field"' in cover and "srcset=" in cover and 'loading="lazy"' not in cover
    src = re.search(r'src="([^"]+)"', cover)[1]
    assert f'<meta property="og:image" content="{absolute(src)}">' in page
    listed = author.get("/").get_data(as_text=True)
    assert re.search(
        r'<figure class="cover"><img [^>]*alt="A red field"[^>]* loading="lazy">', listed
    )
    feed = author.get("/feed.json").json["items"][0]
    assert feed["image"] == absolute(src)
    assert feed["content_html"].startswith("<p><img ")


def test_the_cover_takes_the_description_written_and_keeps_when_the_form_has_no_field(app, author):
    shown = upload(author, picture(), json=True).json
    author.post(
        "/create",
        data={"title": "Covered", "body": "b", "cover": f"![My own words](/media/{shown['key']})"},
    )
    author.post("/1/update", data={"title": "Covered", "body": "tutorial form, no cover field"})
    with app.app_context():
        from flaskr.blog import queries as blog_queries

        assert blog_queries.find_post(1)["cover"] == f"![My own words](/media/{shown['key']})"
    author.post("/1/update", data={"title": "Covered", "body": "b", "cover": "", "version": "2"})
    with app.app_context():
        assert blog_queries.find_post(1)["cover"] is None
    assert rows(app, media_use) == []


@pytest.mark.parametrize(
    "cover",
    ["https://elsewhere.example/a.jpg", "/media/AAAAAAAAAAAAAAAAAAAAAA-10x10.jpg", "just words"],
)
def test_a_cover_that_is_no_upload_is_refused_with_the_form_kept(app, author, cover):
    response = author.post("/create", data={"title": "Covered", "body": "kept", "cover": cover})
    assert response.status_code == 200  # the editor again, as for every refused save
    page = response.get_data(as_text=True)
    assert "paste the Markdown or the address of one of the pictures" in page
    assert "kept" in page
    with app.app_context():
        from flaskr.blog import queries as blog_queries

        assert blog_queries.find_post(1) is None


# --- how the text is read -----------------------------------------------------


def test_a_picture_written_with_escapes_is_still_in_use(app, author):
    shown = upload(author, picture(), json=True).json
    escaped = shown["markdown"].replace(".jpg)", "&#46;jpg)").replace("-", "\\-", 1)
    author.post("/create", data={"title": "Escaped", "body": escaped})
    page = post_page(author, 1)
    assert "srcset=" in page  # the page shows it...
    assert [(u["media_id"], u["post_id"]) for u in rows(app, media_use)] == [(shown["id"], 1)]


def test_a_description_ending_in_a_backslash_still_shows_the_picture(app, author):
    shown = upload(author, picture(), alt="a path C:\\photos\\", json=True).json
    author.post("/create", data={"title": "Slash", "body": shown["markdown"]})
    assert 'alt="a path C:\\photos\\"' in post_page(author, 1)


def test_the_preview_says_which_pictures_lack_a_description_or_are_elsewhere(app, author):
    described = upload(author, picture(), json=True).json
    bare = upload(author, picture(), alt="ignored", json=True).json
    decorative = upload(author, picture(), alt="", decorative=True, json=True).json
    body = "\n\n".join(
        [
            described["markdown"],
            f"![](/media/{bare['key']})",
            decorative["markdown"],
            "![a cat](https://cats.example/cat.png)",
        ]
    )
    preview = author.post("/preview", data={"body": body}).get_data(as_text=True)
    hints = re.findall(r'<p class="picture-hint" role="note">(.*?)</p>', preview)
    assert hints == [
        f"The picture /media/{bare['key']} has no description: write what it shows "
        "between the square brackets.",
        "https://cats.example/cat.png is on another site: readers will see a link, "
        "not the picture. Upload it instead.",
    ]


def test_a_preview_of_pathological_brackets_is_refused_by_the_render_budget(author):
    # The hints read pictures with the renderer's parser, inside its step budget
    # (bench/render_cost.py measures what that costs), not with a regular expression.
    response = author.post("/preview", data={"body": "![" * 50_000})
    assert response.status_code == 400
    assert "too much formatting" in response.get_data(as_text=True)
