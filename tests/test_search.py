"""Search: what it finds, how it ranks and highlights, any input, and an index kept in sync."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from flaskr.db import get_db, transaction
from flaskr.search.terms import QUERY_MAX

PW = "a long enough pw"
_RESULT = re.compile(r'<article class="search-result">\s*<h2><a href="/(\d+)/')


def results(client, query: str, **filters: str) -> list[int]:
    """The ids of the posts a search page lists, in order (asserting it answered 200)."""
    response = client.get("/search", query_string={"q": query, **filters})
    assert response.status_code == 200, query
    page = response.get_data(as_text=True)
    ids = [int(found) for found in _RESULT.findall(page)]
    if not ids:
        assert "No results for" in page, query
    return ids


@pytest.fixture
def library(make_user, make_post) -> dict[str, int]:
    """A few posts by alice and bob about gardens, birds and foxes."""
    alice, bob = make_user("alice", PW), make_user("bob", PW)
    return {
        "garden": make_post(alice, title="My garden", body="Tomatoes and beans grow here."),
        "birds": make_post(
            bob, title="Morning", body="Sparrows sing at dawn.", tags="birds, mornings"
        ),
        "fox": make_post(alice, title="Animals", body="A quick red fox jumps over the lazy dog."),
        "reversed": make_post(bob, title="Colours", body="The fox was not red but the barn was."),
    }


# --- what it finds --------------------------------------------------------------------


def test_search_matches_titles(client, library):
    assert results(client, "garden") == [library["garden"]]


def test_search_matches_bodies(client, library):
    assert results(client, "tomatoes") == [library["garden"]]


def test_search_matches_tags(client, library):
    assert results(client, "birds") == [library["birds"]]


@pytest.mark.parametrize("name", ["alice", "bob"])
def test_search_matches_author_names(client, library, name):
    expected = {
        "alice": {library["garden"], library["fox"]},
        "bob": {library["birds"], library["reversed"]},
    }
    assert set(results(client, name)) == expected[name]


@pytest.mark.parametrize(
    ("query", "key"),
    [
        ("gardens", "garden"),
        ("gardening", "garden"),
        ("singing", "birds"),
        ("jumped", "fox"),
        ("grows", "garden"),
    ],
)
def test_search_stems_words(client, library, query, key):
    assert results(client, query) == [library[key]]


def test_every_word_must_match(client, library):
    assert results(client, "fox lazy") == [library["fox"]]
    assert results(client, "fox tomatoes") == []


@pytest.mark.parametrize("word", ["OR", "or", "|"])
def test_or_is_a_word_not_an_operator(client, library, word):
    """Every word must match, on both databases: "or" does not mean "either"."""
    assert results(client, f"tomatoes {word} sparrows") == []


def test_quoted_phrases_match_words_in_that_order(client, library):
    assert set(results(client, "red fox")) == {library["fox"], library["reversed"]}
    assert results(client, '"red fox"') == [library["fox"]]
    assert results(client, '"fox red"') == []


def test_case_does_not_matter(client, library):
    assert results(client, "SPARROWS") == [library["birds"]]


def test_a_title_match_ranks_above_a_body_match(client, make_user, make_post):
    alice = make_user("alice", PW)
    in_title = make_post(alice, title="Compost", body="Notes on soil.")
    make_post(alice, title="Other", body="Lots of words here, and also compost somewhere.")
    found = results(client, "compost")
    assert len(found) == 2 and found[0] == in_title


def test_filtering_by_tag(client, library, make_post):
    extra = make_post(1, title="Birds again", body="Sparrows everywhere", tags="notes")
    assert set(results(client, "sparrows")) == {library["birds"], extra}
    assert results(client, "sparrows", tag="birds") == [library["birds"]]
    assert results(client, "sparrows", tag="Birds") == [library["birds"]]
    assert results(client, "sparrows", tag="nosuchtag") == []


def test_filtering_by_author(client, library):
    assert set(results(client, "fox")) == {library["fox"], library["reversed"]}
    assert results(client, "fox", author="alice") == [library["fox"]]
    assert results(client, "fox", author="bob") == [library["reversed"]]
    assert results(client, "fox", author="nobody") == []


def test_filters_combine(client, library):
    assert results(client, "sparrows", tag="birds", author="bob") == [library["birds"]]
    assert results(client, "sparrows", tag="birds", author="alice") == []


def test_an_empty_query_shows_the_form_only(client, library):
    for query in ("", "   "):
        response = client.get("/search", query_string={"q": query, "tag": "birds"})
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert 'class="search-result"' not in page and "No results" not in page
        assert '<input type="search" name="q" id="q"' in page


def test_results_are_paged(client, make_user, make_post):
    alice = make_user("alice", PW)
    ids = [make_post(alice, title=f"Entry {n}", body="common words") for n in range(11)]
    first = results(client, "common")
    assert len(first) == 10
    response = client.get("/search?q=common")
    assert 'href="/search?author=&amp;page=2&amp;q=common&amp;tag="' in response.get_data(
        as_text=True
    )
    second = results(client, "common", page="2")
    assert len(second) == 1
    assert sorted(first + second) == ids
    assert client.get("/search?q=common&page=3").status_code == 404
    assert client.get("/search?q=common&page=zero").status_code == 404


# --- how it shows them ------------------------------------------------------------------


def test_matches_are_highlighted_and_everything_else_escaped(client, make_user, make_post):
    make_post(
        make_user("alice", PW),
        title="<i>Garden</i> notes",
        body="Plain <b>bold</b> & garden <script>alert(1)</script> text",
    )
    response = client.get("/search?q=garden")
    page = response.get_data(as_text=True)
    result = page[page.index('<article class="search-result">') :]
    assert "&lt;i&gt;<mark>Garden</mark>&lt;/i&gt; notes" in result
    assert "<mark>garden</mark>" in result
    assert "&lt;b&gt;bold&lt;/b&gt; &amp;" in result
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in result
    assert "<b>" not in result and "<script>" not in result and "<i>" not in result


def test_the_query_is_escaped_on_the_page(client, library):
    page = client.get("/search", query_string={"q": '"><script>alert(1)</script>'}).get_data(
        as_text=True
    )
    assert "<script>alert(1)</script>" not in page
    assert "&#34;&gt;&lt;script&gt;" in page or "&quot;&gt;&lt;script&gt;" in page


HOSTILE = [
    '"unbalanced',
    'a "b',
    '"""',
    '"',
    "'",
    "AND",
    "OR",
    "NOT",
    "NEAR",
    "fox AND",
    "OR fox",
    "NOT fox",
    "fox NOT red",
    "NEAR(fox dog)",
    "NEAR(fox dog, 2)",
    "*",
    "fox*",
    "*fox",
    "^fox",
    "title:fox",
    "body : fox",
    ":",
    "{title body}: fox",
    "(",
    ")",
    "(fox OR dog",
    "fox)",
    "-fox",
    "+fox",
    "fox | dog",
    "fox & dog",
    "!fox",
    "fox:*",
    "<->",
    "fox <-> dog",
    "\\",
    "%",
    "_",
    "x" * 1000,
    "fox " * 400,
    "日" * 1000,
    "é" * 1000,
    "🦊" * 250,
    "🦊 fox 🐕",
    "!!!???...",
    "....",
    "'; DROP TABLE post; --",
    "1' OR '1'='1",
    '1" OR "1"="1',
    "fox'); DELETE FROM post_fts; --",
    "the and of",
    "a\tb",
    "ﬁsh",
    "\u202efox",
    "f\u0301ox",
]


def test_any_input_gives_results_or_no_results(client, library):
    # One blog for every input (each failure names its query): a fixture per input costs more.
    for query in HOSTILE:
        results(client, query)
    # Nothing was changed by any of them.
    assert sorted(results(client, "fox")) == [library["fox"], library["reversed"]]
    assert results(client, "garden") == [library["garden"]]
    assert results(client, "sparrows", tag="birds") == [library["birds"]]


def test_any_filter_value_is_harmless(client, library):
    for field in ("tag", "author", "page"):
        for value in ('"', "*", "x" * 2000, "'; DROP TABLE tag; --", "🦊"):
            response = client.get("/search", query_string={"q": "fox", field: value})
            assert response.status_code == (404 if field == "page" else 200), (field, value)
    assert results(client, "sparrows", tag="birds") == [library["birds"]]


def test_queries_longer_than_the_limit_are_cut(client, library):
    padding = "x" * QUERY_MAX
    assert results(client, "garden " + padding) == []
    assert results(client, padding + " garden") == []
    assert results(client, "garden " + "garden " * 300) == [library["garden"]]


_typed = st.text(st.characters(exclude_categories=("Cc", "Cs")), max_size=80)
_operators = st.lists(
    st.sampled_from(
        [
            '"',
            "(",
            ")",
            "*",
            "^",
            ":",
            "AND",
            "OR",
            "NOT",
            "NEAR",
            "-",
            "+",
            "fox",
            "garden",
            " ",
            "'",
            "\\",
            "{",
            "}",
            "<->",
            "&",
            "|",
            "!",
        ]
    ),
    max_size=12,
).map("".join)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(query=st.one_of(_typed, _operators), tag=st.one_of(st.just(""), _typed), author=_typed)
@example(query="", tag="", author="\ufffe")  # a non-character: the 400, found by this test
@example(query="garden", tag="", author="")
def test_random_queries_always_answer_200(client, library, query, tag, author):
    """Any text at all gets a page; text with a non-character (U+FFFE...) the clear 400 of
    every address that holds one, never an error."""
    from flaskr.validation import has_control_characters

    response = client.get("/search", query_string={"q": query, "tag": tag, "author": author})
    refused = any(has_control_characters(value) for value in (query, tag, author))
    assert response.status_code == (400 if refused else 200)


# --- the index stays in sync ------------------------------------------------------------


@pytest.fixture
def alice(make_user, auth) -> int:
    """An author, signed in on `client`."""
    user_id = make_user("alice", PW)
    auth.login("alice", PW)
    return user_id


def test_a_new_post_is_found_at_once(client, alice):
    client.post("/create", data={"title": "Fresh pelican", "body": "seen today"})
    assert results(client, "pelican") == [1]


def test_an_edit_replaces_the_old_words(client, alice, make_post):
    post_id = make_post(alice, title="Heron", body="standing in water")
    form = {"title": "Egret", "body": "flying over land", "version": "1"}
    assert client.post(f"/{post_id}/update", data=form).status_code == 302
    assert results(client, "heron") == [] and results(client, "water") == []
    assert results(client, "egret") == [post_id] and results(client, "land") == [post_id]


def test_a_deleted_post_is_no_longer_found(client, alice, make_post):
    post_id = make_post(alice, title="Ephemeral", body="soon gone")
    assert results(client, "ephemeral") == [post_id]
    assert client.post(f"/{post_id}/delete").status_code == 302
    assert results(client, "ephemeral") == []


def test_changing_tags_changes_what_finds_the_post(client, alice, make_post):
    post_id = make_post(alice, title="Note", body="text", tags="oldtopic")
    assert results(client, "oldtopic") == [post_id]
    form = {"title": "Note", "body": "text", "tags": "newtopic", "version": "1"}
    assert client.post(f"/{post_id}/update", data=form).status_code == 302
    assert results(client, "oldtopic") == []
    assert results(client, "newtopic") == [post_id]
    assert results(client, "newtopic", tag="newtopic") == [post_id]


def test_a_post_inserted_by_raw_sql_is_found(app, client, make_user):
    author = make_user("bob", PW)
    with app.app_context():
        db = get_db()
        db.execute(
            "INSERT INTO post (title, body, author_id) VALUES ('Raw kingfisher', 'by hand', "
            + str(author)
            + ")"
        )
        db.commit()
    assert results(client, "kingfisher") == [1]
    assert results(client, "bob") == [1]  # the author's name too


def test_a_raw_sql_update_and_delete_keep_the_index_in_sync(app, client, make_user, make_post):
    post_id = make_post(make_user("alice", PW), title="Robin", body="red breast")
    with app.app_context(), transaction() as conn:
        conn.exec_driver_sql("UPDATE post SET body = 'blue feathers'")
    assert results(client, "breast") == [] and results(client, "feathers") == [post_id]
    with app.app_context(), transaction() as conn:
        conn.exec_driver_sql("DELETE FROM post")
    assert results(client, "robin") == []


def test_a_long_title_is_shown_whole_with_its_match_marked(client, make_user, make_post):
    words = " ".join(f"w{n}" for n in range(40))
    make_post(make_user("alice", PW), title=f"{words} (heron) <i>end</i>", body="b")
    page = client.get("/search?q=heron").get_data(as_text=True)
    assert f"{words} (<mark>heron</mark>) &lt;i&gt;end&lt;/i&gt;" in page


def test_words_written_in_angle_brackets_are_found(client, make_user, make_post):
    """Technical posts write <canvas> or Vec<String>: those words are words too."""
    alice = make_user("alice", PW)
    make_post(alice, title="Drawing", body="Use the <canvas> element.")
    make_post(alice, title="Rust <generics>", body="A Vec<String> holds strings.")
    assert results(client, "canvas") == [1]
    assert results(client, "generics") == [2]
    assert results(client, "string") == [2]


def test_filters_find_matches_older_than_the_ranked_candidates(make_app, make_user, make_post):
    """Search ranks among the newest SEARCH_CANDIDATES matches; a filter must apply first."""
    alice, bob = make_user("alice", PW), make_user("bob", PW)
    oldest = make_post(bob, title="Fox one", body="fox", tags="birds")
    for number in range(3):
        # Newer matches, with a tag that shares a word with "birds".
        make_post(alice, title=f"Fox {number}", body="fox", tags="birds-of-prey")
    client = make_app(SEARCH_CANDIDATES=2).test_client()
    assert len(results(client, "fox")) == 2
    assert results(client, "fox", tag="birds") == [oldest]
    assert results(client, "fox", author="bob") == [oldest]
    assert results(client, "fox", tag="birds", author="bob") == [oldest]


# --- Common words: newest first, rare words ranked ---------------------


@pytest.fixture
def foxes(make_user, make_post):
    """Four posts with "fox": the oldest says it most, in its title too."""
    alice = make_user("alice", PW)
    ids = [make_post(alice, title="Fox fox fox", body="fox fox fox fox", tags="animals")]
    for number in range(3):
        ids.append(make_post(alice, title=f"Note {number}", body="a fox went by"))
    return ids


def test_a_word_in_more_posts_than_the_rank_limit_lists_the_newest_first(make_app, foxes):
    client = make_app(SEARCH_RANK_MAX_MATCHES=3).test_client()
    assert results(client, "fox") == sorted(foxes, reverse=True)
    page = client.get("/search", query_string={"q": "fox"}).get_data(as_text=True)
    assert page.count("<mark>fox</mark>") >= 4  # snippets and titles still highlighted


def test_up_to_the_rank_limit_the_best_match_comes_first(make_app, foxes):
    client = make_app(SEARCH_RANK_MAX_MATCHES=4).test_client()
    assert results(client, "fox")[0] == foxes[0]


def test_newest_first_pages_and_filters_like_ranked_results(make_app, foxes, make_post):
    app = make_app(SEARCH_RANK_MAX_MATCHES=1, POSTS_PER_PAGE=2)
    client = app.test_client()
    first = results(client, "fox")
    response = client.get("/search", query_string={"q": "fox", "page": 2})
    second = [int(found) for found in _RESULT.findall(response.get_data(as_text=True))]
    assert len(first) == len(second) == 2 and not set(first) & set(second)
    assert set(first + second) == set(foxes)
    assert results(client, "fox", tag="animals") == [foxes[0]]
    assert results(client, "fox", author="alice") == first


def test_a_search_is_planned_for_its_words_every_time(app, client, db_kind, make_user, make_post):
    # PostgreSQL would switch a statement run five times to one generic plan, which
    # cannot tell a rare word from a word in every post: searches are never prepared.
    ann = make_user("ann")
    for n in range(3):
        make_post(ann, title=f"Harbour {n}", body="boats")
    for _ in range(8):
        assert client.get("/search?q=harbour").data.count(b'<article class="search-result">') == 3
    if db_kind == "sqlite":
        return  # SQLite plans every statement for its values
    from flaskr.db import connection, planned_for_its_values

    with app.app_context():
        conn = connection()
        dbapi = conn.connection.driver_connection
        before = dbapi.prepare_threshold
        with planned_for_its_values(conn):
            assert dbapi.prepare_threshold is None
        assert dbapi.prepare_threshold == before == 5
        prepared = conn.exec_driver_sql(
            "SELECT count(*) FROM pg_prepared_statements WHERE strpos(statement, 'ts_rank') > 0"
        ).scalar()
    assert prepared == 0


def test_a_snippet_is_cut_from_the_start_of_a_long_post_only(client, make_user, make_post):
    # Snippets are looked for in a post's first SNIPPET_SOURCE characters: a longer
    # text is never read whole, so a page of long posts costs what one of short ones does.
    from flaskr.search.queries import SNIPPET_SOURCE

    filler = "lorem ipsum dolor " * (SNIPPET_SOURCE // 18 + 100)
    ann = make_user("ann")
    make_post(ann, title="Near", body=f"opening words {filler[:5_000]} otters play {filler}")
    make_post(ann, title="Far", body=f"opening words {filler} otters play")
    page = client.get("/search?q=otters").get_data(as_text=True)
    near, far = (page[page.index(f">{title}</a>") :] for title in ("Near", "Far"))
    # Each article's snippet is the first <p> after its title.
    near_snippet = near[near.index("<p") : near.index("</p>")]
    far_snippet = far[far.index("<p") : far.index("</p>")]
    assert "<mark>otters</mark> play" in near_snippet
    assert "<mark>" not in far_snippet and "opening words" in far_snippet


def test_matches_are_counted_in_each_indexs_cheapest_order(app, db_kind):
    # Unordered, PostgreSQL counted a common word by scanning the table through a
    # small ring buffer, reading its pages from the OS on every search; SQLite's
    # FTS5 counts fastest in its own order.
    from flaskr.db import engine
    from flaskr.db.prepared import once_per_app
    from flaskr.search import queries

    with app.app_context():
        if db_kind == "postgresql":
            count = once_per_app(queries._postgres_search, False, False).count
        else:
            count = once_per_app(queries._sqlite_search, False, False).count
        sql = str(count.statement.compile(dialect=engine().dialect))
    assert ("ORDER BY post_search.post_id DESC" in sql) is (db_kind == "postgresql")
    assert ("ORDER BY" in sql) is (db_kind == "postgresql")


def test_a_ranked_page_reads_texts_for_its_own_posts_only(app, db_kind):
    # Read with the candidates, every candidate's text (up to SEARCH_CANDIDATES of
    # them) would be sorted along with its score; read after, only the page's are.
    from flaskr.db import engine
    from flaskr.db.prepared import once_per_app
    from flaskr.search import queries

    build = queries._postgres_search if db_kind == "postgresql" else queries._sqlite_search
    with app.app_context():
        ranked = once_per_app(build, False, False).ranked
        sql = str(ranked.statement.compile(dialect=engine().dialect))
    assert sql.count("substr(") == 1
    assert sql.index("substr(") < sql.index("FROM (")
