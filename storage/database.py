"""Database set-up for SQLite (the embedded default) and PostgreSQL.

SQLite: WAL, busy_timeout, foreign keys, and every writing transaction starts with
``BEGIN IMMEDIATE`` (pysqlite's implicit BEGIN is switched off), because a deferred
transaction that reads then writes gets SQLITE_BUSY at once instead of waiting, and
plain pysqlite loses updates across processes.

Connections: both backends use a bounded queue pool. A transaction checks a connection
out for its own duration and returns it, so any number of threads (the web server's
thread pool, the scheduler, a CLI) share the pool safely: no connection is used by two
threads at once and none is closed under a thread using it. A thread that finds the pool
exhausted waits (up to `POOL_TIMEOUT_S`) instead of failing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, pool
from sqlalchemy.exc import DBAPIError

from workflow.errors import EnvironmentProblem

SQLITE_BUSY_MS = 30_000
# Enough for the web server's thread pool (40 threads) and the scheduler together.
POOL_SIZE = 10
POOL_OVERFLOW = 40
POOL_TIMEOUT_S = 60


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


class Database:
    """One database: an SQLAlchemy engine plus the right way to open transactions on it."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError, NoSuchModuleError

        try:
            parsed = make_url(url)
            parsed.get_dialect()
        except (ArgumentError, NoSuchModuleError, ImportError, ValueError) as exc:
            raise EnvironmentProblem(
                f"cannot use the database URL {url.split('@')[-1]!r}: {exc}; expected e.g. "
                "sqlite:///shema.db or postgresql+psycopg://user@host/dbname"
            ) from None
        if parsed.get_backend_name() not in ("sqlite", "postgresql"):
            raise EnvironmentProblem(
                f"Shēma runs on SQLite or PostgreSQL, not {parsed.get_backend_name()}"
            )
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            # Pooled connections keep their pragmas: opening a SQLite connection costs
            # more than a whole advance, checking one out of the pool costs microseconds.
            self.engine: Engine = create_engine(
                url,
                echo=echo,
                poolclass=pool.QueuePool,
                pool_size=POOL_SIZE,
                max_overflow=POOL_OVERFLOW,
                pool_timeout=POOL_TIMEOUT_S,
                connect_args={"check_same_thread": False},
            )
            event.listen(self.engine, "connect", _sqlite_on_connect)
        else:
            self.engine = create_engine(
                url,
                echo=echo,
                pool_pre_ping=True,
                pool_size=POOL_SIZE,
                max_overflow=POOL_OVERFLOW,
                pool_timeout=POOL_TIMEOUT_S,
            )

    @property
    def missing_file(self) -> str | None:
        """For an SQLite file that does not exist yet, its path (connecting would create it)."""
        if not self.is_sqlite:
            return None
        path = self.engine.url.database
        if not path or path == ":memory:" or path.startswith("file:"):
            return None
        return None if os.path.exists(path) else path

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def dispose(self) -> None:
        """Close the pooled connections (connections in use close when returned)."""
        self.engine.dispose()

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A transaction that will write: all or nothing; on SQLite it holds the write lock
        from its first statement, so what it reads stays true until it commits."""
        with self._connect() as conn:
            if self.is_sqlite:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.rollback()
                raise
            conn.commit()

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction with one consistent view."""
        with self._connect() as conn:
            if self.is_sqlite:
                conn.exec_driver_sql("BEGIN")
            try:
                yield conn
            finally:
                conn.rollback()

    @contextmanager
    def _connect(self) -> Iterator[Connection]:
        try:
            conn = self.engine.connect()
        except DBAPIError as exc:
            raise EnvironmentProblem(
                f"cannot open the database {self.safe_url}: {_first_line(exc)}"
            ) from exc
        try:
            yield conn
        finally:
            conn.close()

    @property
    def safe_url(self) -> str:
        """The URL with any password hidden."""
        return self.engine.url.render_as_string(hide_password=True)


def _first_line(exc: Exception) -> str:
    text = str(getattr(exc, "orig", exc)).strip()
    return text.splitlines()[0] if text else type(exc).__name__
