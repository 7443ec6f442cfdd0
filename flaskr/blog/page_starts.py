"""Deep pages of reader lists by seek: where each page starts is remembered per process.

`?page=5000` with OFFSET walks 49,990 index entries on every request. Once a
page has been shown, its first post (publish time, id) and the next page's are
known; later requests for either page start the index walk right there. What
is remembered is dropped when the content version moves (any write readers
could see) or when the next scheduled post comes out, so a seek never lands
where OFFSET would not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app

from flaskr.blog import queries
from flaskr.db import utcnow
from flaskr.db.prepared import Row

#: At most this many lists (an author's, a tag's...) and pages per list are remembered.
MAX_LISTS = 1024
MAX_PAGES = 4096

Start = tuple[datetime, int]
#: (posts per page, author's name, tag's name)
ListKey = tuple[int, str | None, str | None]


@dataclass
class Starts:
    """Page starts known for one content version, until the next scheduled publication."""

    version: int | None
    until: datetime | None
    lists: dict[ListKey, dict[int, Start]] = field(default_factory=dict)

    def fresh(self, version: int | None, now: datetime) -> bool:
        return version == self.version and (self.until is None or now < self.until)

    def learn(self, key: ListKey, number: int, start: Start) -> None:
        pages = self.lists.get(key)
        if pages is None:
            if len(self.lists) >= MAX_LISTS:
                return
            pages = self.lists[key] = {}
        if len(pages) < MAX_PAGES:
            pages[number] = start


def page_rows(
    number: int, per_page: int, *, author: str | None = None, tag: str | None = None
) -> list[Row]:
    """Page `number` of a reader list plus one row telling if more exist, by seek where known."""
    now = utcnow()
    if number == 1:
        # The first page starts at the newest post: nothing to seek.
        return queries.list_reader_posts(limit=per_page + 1, author=author, tag=tag, now=now)
    starts = _current(now)
    key: ListKey = (per_page, author, tag)
    start = starts.lists.get(key, {}).get(number)
    rows = queries.list_reader_posts(
        limit=per_page + 1,
        offset=0 if start else (number - 1) * per_page,
        start=start,
        author=author,
        tag=tag,
        now=now,
    )
    if rows:
        starts.learn(key, number, _start_of(rows[0]))
    if len(rows) > per_page:
        starts.learn(key, number + 1, _start_of(rows[per_page]))
    return rows


def _start_of(row: Row) -> Start:
    return (row["published_at"], row["id"])


def _current(now: datetime) -> Starts:
    """This app's remembered starts, new when what readers see has changed since."""
    version = queries.content_version()
    starts: Starts | None = current_app.extensions.get("flaskr.page_starts")
    if starts is None or not starts.fresh(version, now):
        starts = Starts(version=version, until=queries.next_publication(now))
        current_app.extensions["flaskr.page_starts"] = starts
    return starts
