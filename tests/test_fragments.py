"""The store of rendered pieces: bounded by bytes, least recently used out first."""

from __future__ import annotations

from markupsafe import Markup

from flaskr.fragments import Fragments


def test_the_store_keeps_within_its_byte_budget_dropping_the_least_recent():
    kept = Fragments(max_bytes=30)
    first, second, third = (("x", name * 5) for name in "abc")
    kept.put(first, Markup("1" * 10), 15)
    kept.put(second, Markup("2" * 10), 15)
    assert kept.get(first) == "1" * 10  # now the most recent
    kept.put(third, Markup("3" * 10), 15)
    assert kept.size == 30
    assert kept.get(second) is None
    assert kept.get(first) == "1" * 10 and kept.get(third) == "3" * 10


def test_putting_a_kept_key_again_counts_it_once():
    kept = Fragments(max_bytes=100)
    key = ("x", "body")
    kept.put(key, Markup("html"), 8)
    kept.put(key, Markup("html"), 8)
    assert kept.size == 8 and len(kept.entries) == 1


def test_get_many_gives_each_kept_text_and_makes_it_the_most_recent():
    kept = Fragments(max_bytes=30)
    first, second, third = (("x", name * 5) for name in "abc")
    kept.put(first, Markup("1"), 10)
    kept.put(second, Markup("2"), 10)
    kept.put(third, Markup("3"), 10)
    # None asks nothing: a key the caller would not look up.
    assert kept.get_many([first, None, ("x", "none"), third]) == ["1", None, None, "3"]
    kept.put(("x", "new"), Markup("4"), 10)  # drops the least recent: second, not first
    assert kept.get(second) is None
    assert kept.get(first) == "1" and kept.get(third) == "3"
