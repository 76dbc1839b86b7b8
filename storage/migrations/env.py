"""Alembic environment: runs the migrations on the connection Shēma passes in as
``config.attributes["connection"]``, all of them in one transaction that this file
commits (online mode only)."""

from __future__ import annotations

from typing import Any

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Connection, text

from storage.tables import metadata
from storage.types import UTCDateTime

# Any fixed number: makes concurrent `shema init` runs on one PostgreSQL database wait
# for each other instead of racing to create the same tables.
PG_LOCK_KEY = 0x5348454D41


def render_item(kind: str, obj: Any, _context: AutogenContext) -> str | bool:
    """Autogenerate writes UTCDateTime as its plain column type, so a revision script does
    not import (and change with) today's storage code."""
    if kind == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_migrations(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # A batch migration copies a table and drops the old one; with foreign keys on,
        # ON DELETE CASCADE would delete the history that refers to it. The pragma is a
        # no-op inside a transaction, so it comes before BEGIN.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.commit()
    try:
        if sqlite:
            # pysqlite's implicit BEGIN is off (isolation_level=None): without this every
            # DDL statement would commit on its own and a failed upgrade would stop halfway.
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_LOCK_KEY})
        # The connection is in a transaction now, so Alembic leaves BEGIN/COMMIT to us.
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=sqlite,
            compare_type=True,
            render_item=render_item,
        )
        context.run_migrations()
        if sqlite:
            dangling = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if dangling:
                raise RuntimeError(f"the migration left dangling foreign keys: {dangling[:5]}")
        connection.commit()
    except BaseException:
        connection.rollback()
        raise
    finally:
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()


if context.is_offline_mode():
    raise RuntimeError("Shēma's migrations run online only, on a connection it passes in")
run_migrations(context.config.attributes["connection"])
