"""What a connection's driver itself is doing, for tests of what SQLAlchemy cannot see."""

from __future__ import annotations

import sqlalchemy as sa


def driver_in_transaction(conn: sa.Connection) -> bool:
    """Whether the driver's connection has a transaction open (what holds a snapshot)."""
    driver = conn.connection.driver_connection
    if conn.dialect.name == "sqlite":
        return bool(driver.in_transaction)  # type: ignore[union-attr]
    import psycopg

    return driver.info.transaction_status != psycopg.pq.TransactionStatus.IDLE  # type: ignore[union-attr]
