"""Rate limits: a limiter per app, limits declared on views, counters every worker shares."""

from flaskr.ratelimit.limiter import init_app, limit
from flaskr.ratelimit.storage import PURGE_EVERY, SQLiteStorage, storage_uri

__all__ = ["PURGE_EVERY", "SQLiteStorage", "init_app", "limit", "storage_uri"]
