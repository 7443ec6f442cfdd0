"""Post and user ids are never handed out again, even after the newest is deleted.

SQLite reuses the largest rowid once its row is gone unless the table is
declared AUTOINCREMENT, which only a rebuild can add. PostgreSQL's sequences
never go back: nothing to do there.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

#: Post ids are in every post's address and feed entry; user ids in the audit log.
TABLES = ("user", "post")


def upgrade() -> None:
    _rebuild(autoincrement=True)


def downgrade() -> None:
    _rebuild(autoincrement=False)


def _rebuild(autoincrement: bool) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    if bind.exec_driver_sql("PRAGMA foreign_keys").scalar():
        # Dropping the old table would cascade-delete every post's tags and history.
        raise RuntimeError("Run this migration with `flaskr upgrade`: foreign keys must be off.")
    # Rebuilding drops the table and with it every trigger on it; a trigger on
    # another table that mentions it would make the rename fail. So all
    # triggers go first and come back, unchanged, at the end. (flaskr.schema
    # runs migrations with foreign keys off, so the drop cascades nowhere.)
    triggers = bind.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name"
    ).all()
    for name, _sql in triggers:
        op.execute(f'DROP TRIGGER "{name}"')
    for table in TABLES:
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
        ):
            pass
    # The rename carries the copy's sqlite_sequence row over: counting goes on
    # from the largest id the table holds now (ids deleted before this
    # migration are beyond anyone's knowledge).
    for _name, sql in triggers:
        op.execute(sql)
