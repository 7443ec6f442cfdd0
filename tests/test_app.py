"""The application object itself: what create_app() changes about Flask's own machinery."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

pytestmark = pytest.mark.db_independent


def _plain() -> str:
    return "plain"


async def _async() -> str:
    return "async"


def _marked() -> str:
    return "marked"


_marked._is_coroutine_marker = object()  # type: ignore[attr-defined]  # what 3.12's markcoroutinefunction sets


@pytest.fixture
def asked(make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch) -> tuple[Flask, list]:
    """An app whose Flask ensure_sync() notes each function it is asked about."""
    seen: list[Any] = []
    original = Flask.ensure_sync

    def noting(self: Flask, func: Callable[..., Any]) -> Callable[..., Any]:
        seen.append(func)
        return original(self, func)

    monkeypatch.setattr(Flask, "ensure_sync", noting)
    return make_app(), seen


def test_a_plain_function_is_answered_without_flask_s_checks(asked) -> None:
    app, seen = asked
    assert app.ensure_sync(_plain) is _plain
    assert seen == []


@pytest.mark.parametrize(
    "func",
    [_async, _marked, functools.partial(_plain), object.__str__],
    ids=["async", "marked async", "partial", "builtin"],
)
def test_anything_else_is_flask_s_to_decide(asked, func) -> None:
    app, seen = asked
    # An async function without Flask's async extra: Flask's own refusal.
    with contextlib.suppress(RuntimeError):
        app.ensure_sync(func)
    assert seen == [func]
