"""An author's own address words (slug) and list excerpt."""

from __future__ import annotations

import pytest

from flaskr.blog import services
from flaskr.blog.slugs import clean_slug

PW = "a long enough pw"


@pytest.fixture
def alice(make_user, auth):
    user_id = make_user("alice", PW)
    auth.login("alice", PW)
    return user_id


def publish(client, **fields):
    data = {"title": "A long title nobody types", "body": "Body words.", "action": "publish"}
    return client.post("/create", data={**data, **fields})


def test_a_custom_slug_is_the_post_s_address(client, alice):
    response = publish(client, slug="Short & Sweet")
    assert response.headers["Location"] == "/1/short-sweet"
    assert client.get("/1/short-sweet").status_code == 200
    # The title's address, and any other, lead there.
    for old in ("/1/a-long-title-nobody-types", "/1/", "/1/anything"):
        moved = client.get(old)
        assert moved.status_code == 301 and moved.headers["Location"] == "/1/short-sweet"
    # Every link to the post uses it: lists, feeds, sitemap, search.
    for page in ("/", "/feed.atom", "/feed.json", "/sitemap/posts-0.xml", "/search?q=words"):
        text = client.get(page).get_data(as_text=True)
        assert "/1/short-sweet" in text, page
        assert "/1/a-long-title-nobody-types" not in text, page


def test_an_empty_slug_means_the_title_s(client, alice):
    assert publish(client, slug="  ").headers["Location"] == "/1/a-long-title-nobody-types"


def test_changing_the_slug_moves_the_address_and_old_ones_redirect(client, alice):
    publish(client, slug="first")
    form = {"title": "T", "body": "b", "version": "1", "slug": "second", "action": "publish"}
    assert client.post("/1/update", data=form).headers["Location"] == "/1/second"
    assert client.get("/1/first").headers["Location"] == "/1/second"


@pytest.mark.parametrize("slug", ["!!!", "---", "🙂"])
def test_a_slug_without_letters_or_digits_is_refused_with_a_reason(client, alice, slug):
    response = publish(client, slug=slug)
    assert response.status_code == 200
    assert "The address needs letters or digits" in response.get_data(as_text=True)


def test_clean_slug():
    assert clean_slug("") is None and clean_slug("   ") is None
    assert clean_slug("Crème Brûlée") == "creme-brulee"
    assert clean_slug("Καλή μέρα") == "καλή-μέρα"
    assert clean_slug("post") == "post"


def test_a_custom_excerpt_is_what_lists_show(client, alice):
    body = "The opening words of the body.\n\n<!--more-->\n\nThe rest."
    publish(client, body=body, excerpt="In *short*: a summary.", tags="cats")
    for page in ("/", "/tag/cats", "/u/alice"):
        text = client.get(page).get_data(as_text=True)
        assert "In <em>short</em>: a summary." in text, page
        assert "The opening words" not in text, page
        assert "Continue reading" in text, page
    # The post's own page shows the body, not the excerpt.
    post = client.get("/1/a-long-title-nobody-types").get_data(as_text=True)
    assert "The opening words of the body." in post and "a summary" not in post


def test_the_excerpt_is_sanitized_and_limited(client, alice):
    publish(client, excerpt="<script>alert(1)</script> [x](javascript:alert(1))")
    text = client.get("/").get_data(as_text=True)
    assert "<script>alert(1)" not in text and "&lt;script&gt;alert(1)" in text
    assert 'href="javascript:' not in text
    response = publish(client, excerpt="x" * 1001)
    assert "Excerpt" in response.get_data(as_text=True) and response.status_code == 200


def test_the_tutorial_s_form_keeps_the_slug_and_excerpt(client, alice):
    publish(client, slug="mine", excerpt="Mine.")
    # Title and body only, as the tutorial's form sends.
    assert client.post("/1/update", data={"title": "New", "body": "b"}).status_code == 302
    assert client.get("/1/mine").status_code == 200
    assert "Mine." in client.get("/").get_data(as_text=True)


def test_restoring_a_version_keeps_the_slug_and_excerpt(app, client, alice):
    publish(client, slug="mine", excerpt="Mine.")
    form = {"title": "Second", "body": "two", "version": "1", "slug": "mine", "excerpt": "Mine."}
    client.post("/1/update", data={**form, "action": "publish"})
    assert client.post("/1/revisions/1/restore").status_code == 302
    assert client.get("/1/mine").status_code == 200
    assert "Mine." in client.get("/").get_data(as_text=True)


def test_a_trashed_post_comes_back_with_its_slug(client, alice):
    publish(client, slug="mine", excerpt="Mine.")
    client.post("/1/delete")
    client.post("/me/trash/1/restore")
    assert client.get("/1/mine").status_code == 200


def test_services_take_them_too(app, alice):
    with app.app_context():
        post_id = services.create_post(
            alice, services.Draft("Title", "Body", slug="My Slug", excerpt=" Short. ")
        )
        from flaskr.blog import queries

        row = queries.find_post(post_id)
    assert (row["slug"], row["excerpt"]) == ("my-slug", "Short.")


def test_a_huge_address_is_refused_before_any_work(client, alice):
    response = publish(client, slug="a" * 201)
    assert "The address can have at most 200 characters." in response.get_data(as_text=True)
    assert publish(client, slug="a" * 200).status_code == 302
