"""Profile rules: the bio authors show and the time zone they write in."""

from __future__ import annotations

import sqlalchemy as sa

from flaskr.auth.tables import user
from flaskr.db import connection, transaction
from flaskr.timezones import check_timezone
from flaskr.validation import require_text

BIO_MAX = 5000


def update_profile(user_id: int, bio: str, timezone: str) -> None:
    """Save an author's bio (Markdown) and time zone."""
    bio = require_text(bio, "Bio", max_len=BIO_MAX, required=False, multiline=True)
    timezone = check_timezone(require_text(timezone or "UTC", "Time zone", max_len=64))
    with transaction():
        connection().execute(
            sa.update(user).where(user.c.id == user_id).values(bio=bio, timezone=timezone)
        )
