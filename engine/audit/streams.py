"""Streaming the audit's reads: one read transaction as one snapshot, and each table's
rows in project order, in batches of `STREAM_BATCH`, handed out one project at a time
(`_Rows`)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import Connection

from storage.database import Database

STREAM_BATCH = 1000


class _Rows:
    """Rows of one table in project order, handed out one project at a time."""

    def __init__(self, rows: Iterable[Any]) -> None:
        self._it = iter(rows)
        self._next = next(self._it, None)

    def take(self, pid: int) -> list[Any]:
        out = []
        while self._next is not None and self._next.project_id <= pid:
            if self._next.project_id == pid:
                out.append(self._next)
            self._next = next(self._it, None)
        return out


def _snapshot(db: Database, conn: Connection) -> None:
    """Make the read transaction one snapshot for all its statements (SQLite's already is)."""
    if not db.is_sqlite:
        conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")


def _stream(conn: Connection, stmt: Any) -> Iterator[Any]:
    return iter(conn.execution_options(yield_per=STREAM_BATCH).execute(stmt))
