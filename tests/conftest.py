"""Shared fixtures: the same storage tests run on SQLite and on the PostgreSQL server at
127.0.0.1:5432. PostgreSQL being down skips its tests locally and fails them in CI.

Migrating a database (~1 s) and loading the shipped organisation and scheme (~1.5 s) are
done once per test session (per xdist worker), not per test: `db` and `engine` start
each test from a saved copy of that work instead (see `MigratedPostgres`,
`migrated_sqlite` and `prepared_sqlite`). `database_url` on its own still gives an empty
database, for the tests that migrate or initialise one themselves. tests/test_fixtures.py
checks that no test sees what another left behind, and that `engine` starts from exactly
what loading the shipped files writes."""

from __future__ import annotations

import os
import secrets
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, MetaData, create_engine, pool, text
from sqlalchemy.exc import OperationalError

from storage.database import Database
from storage.migrate import upgrade

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"


def _create_pg_database(kind: str) -> str:
    """Create a database for this worker and return its URL; skip the test (fail it in
    CI) if the server is unreachable. The name holds the xdist worker id and a random
    part, so several runs on one server (and the workers of one run) never share one."""
    admin = create_engine(
        f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT", poolclass=pool.NullPool
    )
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"shema_test_{worker}_{kind}_{secrets.token_hex(4)}"
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE {name}")
            # Test data is thrown away, so a commit need not wait for the disk.
            conn.exec_driver_sql(f"ALTER DATABASE {name} SET synchronous_commit = off")
    except OperationalError as exc:
        reason = f"PostgreSQL at {PG_SERVER} is unreachable: {exc.orig}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    finally:
        admin.dispose()
    return f"{PG_SERVER}/{name}"


def _drop_pg_database(url: str) -> None:
    admin = create_engine(
        f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT", poolclass=pool.NullPool
    )
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]} WITH (FORCE)")
    admin.dispose()


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A PostgreSQL database for this worker's session, dropped at its end; `database_url`
    empties it before each test that uses it."""
    url = _create_pg_database("empty")
    yield url
    _drop_pg_database(url)


@dataclass(frozen=True)
class SavedRows:
    """Every table's rows (in COPY text format) and every sequence's position."""

    tables: dict[str, bytes]
    sequences: list[tuple[str, int, bool]]


# Changes whenever a table, column, index, sequence or constraint in `public` does.
_SCHEMA_FINGERPRINT = text(
    """
    SELECT md5(
      (SELECT string_agg(c.relname || '.' || a.attname || ' ' || c.relkind::text || ' '
                         || format_type(a.atttypid, a.atttypmod) || ' ' || a.attnotnull,
                         ',' ORDER BY c.relname, a.attnum)
         FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
        WHERE c.relnamespace = 'public'::regnamespace AND a.attnum > 0
          AND NOT a.attisdropped)
      || (SELECT coalesce(string_agg(conname || ' ' || pg_get_constraintdef(oid), ','
                                     ORDER BY conname), '')
            FROM pg_constraint WHERE connamespace = 'public'::regnamespace))
    """
)


class MigratedPostgres:
    """This worker's migrated PostgreSQL database, put back into a saved state before each
    test that uses it.

    The schema is built once by `upgrade` (exactly as `shema init` builds it), and its
    rows are saved twice: right after migrating (only alembic_version) and, when a test
    first needs it, right after loading the shipped organisation and scheme. `reset`
    deletes every row of every table (alembic_version included, so a test that changed
    the revision cannot leak it), copies the saved rows back with COPY and puts every
    sequence back where it was: ~30-100 ms, where migrating took ~1 s and loading ~1.5 s.
    (Measured on the 2-core CI-like machine: TRUNCATE of the 20 tables takes ~0.5 s, and
    a database per test made from a TEMPLATE ~0.15 s to create but seconds to drop, as
    DROP DATABASE waits for a checkpoint.) If a test changed the schema itself, `reset`
    notices and builds it again, so that cannot leak either."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine = create_engine(url, pool_size=1)  # one connection, reused
        self._tables: list[str] = []  # parents before children
        self._fingerprint: str | None = None
        self._migrated = SavedRows({}, [])
        self._loaded: SavedRows | None = None
        self._build()

    def reset(self, *, loaded: bool) -> None:
        """Leave the database as right after migrating, or (`loaded`) right after
        loading the shipped organisation and scheme on top of that."""
        with self._engine.connect() as conn:
            changed = conn.execute(_SCHEMA_FINGERPRINT).scalar() != self._fingerprint
            conn.rollback()
        if changed:
            self._build()
        if not loaded:
            self._restore(self._migrated)
            return
        if self._loaded is None:  # the first test that needs it pays for loading
            self._restore(self._migrated)
            database = Database(self.url)
            load_shipped(Engine(database))
            database.dispose()
            self._loaded = self._save()
        self._restore(self._loaded)

    def dispose(self) -> None:
        self._engine.dispose()

    def _build(self) -> None:
        with self._engine.begin() as conn:
            _lock_timeout(conn)
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        database = Database(self.url)
        try:
            upgrade(database)
        finally:
            database.dispose()
        with self._engine.connect() as conn:
            metadata = MetaData()
            metadata.reflect(conn)
            self._tables = [table.name for table in metadata.sorted_tables]
            self._fingerprint = conn.execute(_SCHEMA_FINGERPRINT).scalar()
            conn.rollback()
        self._migrated = self._save()
        self._loaded = None

    def _save(self) -> SavedRows:
        with self._engine.connect() as conn:
            cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            tables = {}
            for name in self._tables:
                with cursor.copy(f'COPY "{name}" TO STDOUT') as copy:
                    tables[name] = b"".join(bytes(chunk) for chunk in copy)
            sequences = conn.execute(
                text(
                    "SELECT sequencename, coalesce(last_value, start_value), "
                    "last_value IS NOT NULL FROM pg_sequences WHERE schemaname = 'public'"
                )
            ).all()
            conn.rollback()
        return SavedRows(tables, [(name, value, called) for name, value, called in sequences])

    def _restore(self, saved: SavedRows) -> None:
        with self._engine.begin() as conn:
            _lock_timeout(conn)
            for name in reversed(self._tables):  # children first
                conn.exec_driver_sql(f'DELETE FROM "{name}"')
            cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            for name in self._tables:
                if saved.tables[name]:
                    with cursor.copy(f'COPY "{name}" FROM STDIN') as copy:
                        copy.write(saved.tables[name])
            for name, value, called in saved.sequences:
                conn.execute(
                    text("SELECT setval(quote_ident(CAST(:name AS text)), :value, :called)"),
                    {"name": name, "value": value, "called": called},
                )


def _lock_timeout(conn: Connection) -> None:
    # A connection a previous test leaked inside a transaction would block this forever.
    conn.execute(text("SET LOCAL lock_timeout = '10s'"))


@pytest.fixture(scope="session")
def pg_migrated() -> Iterator[MigratedPostgres]:
    """This worker's migrated PostgreSQL database (see `MigratedPostgres`), dropped at the
    end of the session."""
    url = _create_pg_database("migrated")
    try:
        migrated = MigratedPostgres(url)
        yield migrated
        migrated.dispose()
    finally:  # also when building it failed
        _drop_pg_database(url)


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ]
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: a new SQLite file, or the worker's PostgreSQL database with its
    public schema dropped and recreated.

    In a test that uses `db` (or `engine`), this is the URL of that database instead,
    which `db` migrates (resets) right after: the two always name the same database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shema.db'}"
    if "db" in request.fixturenames:
        url: str = request.getfixturevalue("pg_migrated").url
        return url
    url = request.getfixturevalue("pg_url")
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.begin() as conn:
        _lock_timeout(conn)
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated, empty SQLite database, made once per session (per worker)."""
    path = tmp_path_factory.mktemp("migrated") / "shema.db"
    database = Database(f"sqlite:///{path}")
    upgrade(database)
    database.dispose()
    return path


def copy_sqlite(source: Path, target: Path) -> None:
    """Copy an SQLite database file (and its write-ahead log, if any) to `target`."""
    for suffix in ("", "-wal"):
        if Path(f"{source}{suffix}").exists():
            shutil.copyfile(f"{source}{suffix}", f"{target}{suffix}")


@pytest.fixture
def db(database_url: str, request: pytest.FixtureRequest) -> Iterator[Database]:
    """A Database on `database_url`, at the newest revision and with no rows: on SQLite a
    copy of `migrated_sqlite`, on PostgreSQL the worker's migrated database reset by
    `MigratedPostgres.reset` (same schema, every table emptied, sequences restarted)."""
    if database_url.startswith("sqlite"):
        copy_sqlite(request.getfixturevalue("migrated_sqlite"), _sqlite_path(database_url))
    else:
        migrated: MigratedPostgres = request.getfixturevalue("pg_migrated")
        assert database_url == migrated.url, "take `db` as an argument, not by getfixturevalue"
        migrated.reset(loaded=False)
    database = Database(database_url)
    yield database
    database.dispose()


def _sqlite_path(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


# -- engine fixtures ------------------------------------------------------------------

import datetime as dt  # noqa: E402

from engine.loading import load_org, load_scheme  # noqa: E402
from engine.service import Engine  # noqa: E402
from schemes import shipped  # noqa: E402

COORDINATOR = "ilze.kalnina"
T0 = dt.datetime(2026, 2, 2, 8, 0, tzinfo=dt.UTC)  # a Monday, 10:00 in Riga


def shipped_text(name: str) -> str:
    return shipped(name).read_text(encoding="utf-8")


def load_shipped(eng: Engine) -> None:
    """Load the shipped Ogres novads organisation and unified scheme, at T0."""
    load_org(eng, shipped_text("ogre.yaml"), "ogre.yaml", actor=COORDINATOR, now=T0)
    load_scheme(eng, shipped_text("unified.yaml"), "unified.yaml", actor=COORDINATOR, now=T0)


@pytest.fixture
def engine(db: Database, request: pytest.FixtureRequest) -> Engine:
    """An Engine over `db` with the shipped Ogres novads organisation and unified scheme.

    The rows `load_shipped` writes into a freshly migrated database were saved once per
    session (`prepared_sqlite`, `MigratedPostgres`); they are copied into `db` here
    instead of loading again. The Engine is new, so it compiles what it needs on first
    use, as a freshly started process does."""
    if db.is_sqlite:
        _copy_sqlite_rows(request.getfixturevalue("prepared_sqlite"), _sqlite_path(db.url))
    else:
        request.getfixturevalue("pg_migrated").reset(loaded=True)
    return Engine(db)


def _copy_sqlite_rows(source: Path, target: Path) -> None:
    """Replace every row of the SQLite database `target` by those of `source` (same schema)."""
    with closing(sqlite3.connect(target, isolation_level=None)) as conn:
        conn.execute("ATTACH DATABASE ? AS source", (str(source),))
        names = [
            name
            for (name,) in conn.execute(
                "SELECT name FROM source.sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%'"
            )
        ]
        conn.execute("BEGIN IMMEDIATE")  # foreign keys are off here, so any order works
        for name in names:
            conn.execute(f'DELETE FROM main."{name}"')
            conn.execute(f'INSERT INTO main."{name}" SELECT * FROM source."{name}"')
        conn.execute("COMMIT")


@pytest.fixture(scope="session")
def prepared_sqlite(migrated_sqlite: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite database with the shipped organisation and scheme, made once per session
    (per worker) from a copy of `migrated_sqlite`."""
    path = tmp_path_factory.mktemp("prepared") / "shema.db"
    copy_sqlite(migrated_sqlite, path)
    database = Database(f"sqlite:///{path}")
    load_shipped(Engine(database))
    database.dispose()
    return path


@pytest.fixture
def sqlite_engine(prepared_sqlite: Path, tmp_path: Path) -> Iterator[Engine]:
    """An Engine over a private copy of the prepared SQLite database: fast, for rule tests
    that do not depend on the backend."""
    path = tmp_path / "shema.db"
    copy_sqlite(prepared_sqlite, path)
    database = Database(f"sqlite:///{path}")
    yield Engine(database)
    database.dispose()


def keep_up(engine: Engine, until: dt.datetime) -> Any:
    """Sweep as a running scheduler would have: at each timer's fire time up to `until`
    in turn, then at `until` (one sweep at `until` alone is a catch-up after downtime,
    which sends less). Returns the summed SweepReport."""
    from sqlalchemy import and_, func, select

    from engine.notify.sweep import SweepReport, sweep
    from storage.tables import deadlines, timers

    due = (
        select(func.min(timers.c.fire_at))
        .join(deadlines, deadlines.c.id == timers.c.deadline_id)
        .where(
            and_(
                timers.c.fired_at.is_(None),
                timers.c.fire_at <= until,
                deadlines.c.closed_at.is_(None),
                deadlines.c.paused_at.is_(None),
            )
        )
    )
    total = SweepReport()
    while True:
        with engine.db.read() as conn:
            at = conn.execute(due).scalar()
        when = until if at is None else at.replace(tzinfo=at.tzinfo or dt.UTC)
        for name, value in sweep(engine, when).to_json().items():
            setattr(total, name, getattr(total, name) + value)
        if at is None:
            return total
