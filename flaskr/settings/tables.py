"""Site settings admins changed (a setting without a row has its default)."""

import sqlalchemy as sa

from flaskr.db import metadata

site_setting = sa.Table(
    "site_setting",
    metadata,
    sa.Column("name", sa.String(40), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    # Who changed it last (no foreign key: the value outlives the account).
    sa.Column("updated_by", sa.Integer, nullable=True),
)
