"""Rate limits: a limiter per app, limits declared on views, counters every worker shares."""

from flaskr.ratelimit.limiter import (
    config_value,
    init_app,
    limit,
    signed_in_user,
    signed_out,
    write_limit,
)
from flaskr.ratelimit.storage import PURGE_EVERY, SQLiteStorage, storage_uri

__all__ = [
    "PURGE_EVERY",
    "SQLiteStorage",
    "config_value",
    "init_app",
    "limit",
    "signed_in_user",
    "signed_out",
    "storage_uri",
    "write_limit",
]
