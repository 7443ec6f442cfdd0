"""Alembic environment: migrations run on the connection flaskr.schema hands over."""

from alembic import context

# Every capability's tables, so that autogenerate and the tests can compare
# them with what the migrations build.
from flaskr.admin import tables as _admin  # noqa: F401
from flaskr.auth import tables as _auth  # noqa: F401
from flaskr.blog import tables as _blog  # noqa: F401
from flaskr.comments import tables as _comments  # noqa: F401
from flaskr.db import metadata
from flaskr.invites import tables as _invites  # noqa: F401
from flaskr.likes import tables as _likes  # noqa: F401
from flaskr.mail import tables as _mail  # noqa: F401
from flaskr.media import tables as _media  # noqa: F401
from flaskr.notifications import tables as _notifications  # noqa: F401
from flaskr.recovery import tables as _recovery  # noqa: F401
from flaskr.schema import comparison_options
from flaskr.search import tables as _search  # noqa: F401
from flaskr.settings import tables as _settings  # noqa: F401
from flaskr.tags import tables as _tags  # noqa: F401
from flaskr.trash import tables as _trash  # noqa: F401
from flaskr.twofactor import tables as _twofactor  # noqa: F401

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=True,
    **comparison_options(metadata, connection.dialect.name),
)
with context.begin_transaction():
    context.run_migrations()
