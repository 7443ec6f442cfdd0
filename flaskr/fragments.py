"""Rendered pieces of pages (an article, a feed entry) kept per process, by what they show.

A piece is kept under a key made of everything its rendering reads - the
values themselves, not a version number - so a change made any way at all (the
editor, a rename, plain SQL) makes a new key and a kept piece is never shown
for content that has changed. What falls out of use goes first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")


class Fragments(Generic[T]):
    """A thread-safe LRU of rendered text (or what text is written from), bounded by
    the bytes it holds."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        #: key -> (text, bytes counted for it).
        self.entries: OrderedDict[Hashable, tuple[T, int]] = OrderedDict()
        self.size = 0
        self.lock = threading.Lock()

    def get(self, key: Hashable) -> T | None:
        """The text kept under key (now the most recently used), or None."""
        with self.lock:
            return self._use(key)

    def get_many(self, keys: Sequence[Hashable | None]) -> list[T | None]:
        """get() of each key in one hold of the lock (None where nothing is kept, or the
        key is None): a feed's twenty lookups took twice as long one by one."""
        with self.lock:
            return [None if key is None else self._use(key) for key in keys]

    def _use(self, key: Hashable) -> T | None:
        # The lock is held by the caller.
        found = self.entries.get(key)
        if found is None:
            return None
        self.entries.move_to_end(key)
        return found[0]

    def put(self, key: Hashable, text: T, size: int) -> None:
        """Keep text under key, counted as size bytes (its key's large values included)."""
        with self.lock:
            if key in self.entries:
                return
            self.entries[key] = (text, size)
            self.size += size
            while self.size > self.max_bytes:
                _, (_, dropped) = self.entries.popitem(last=False)
                self.size -= dropped
