"""Shared fixtures: the same storage tests run on SQLite and on the PostgreSQL server at
127.0.0.1:5432. PostgreSQL being down skips its tests locally and fails them in CI."""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, pool, text
from sqlalchemy.exc import OperationalError

from storage.database import Database
from storage.migrate import upgrade

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped at its end."""
    admin = create_engine(
        f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT", poolclass=pool.NullPool
    )
    name = f"shema_test_{secrets.token_hex(6)}"
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
    yield f"{PG_SERVER}/{name}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.dispose()


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ]
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: a new SQLite file, or the session's PostgreSQL database with
    its public schema dropped and recreated (much faster than CREATE DATABASE per test)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shema.db'}"
    url: str = request.getfixturevalue("pg_url")
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.begin() as conn:
        # A connection a previous test leaked inside a transaction would block this forever.
        conn.execute(text("SET LOCAL lock_timeout = '10s'"))
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    """A Database on `database_url`, upgraded to the newest revision."""
    database = Database(database_url)
    upgrade(database)
    yield database
    database.dispose()


# -- engine fixtures ------------------------------------------------------------------

import datetime as dt  # noqa: E402

from engine.loading import load_org, load_scheme  # noqa: E402
from engine.service import Engine  # noqa: E402
from schemes import shipped  # noqa: E402

COORDINATOR = "ilze.kalnina"
T0 = dt.datetime(2026, 2, 2, 8, 0, tzinfo=dt.UTC)  # a Monday, 10:00 in Riga


def shipped_text(name: str) -> str:
    return shipped(name).read_text(encoding="utf-8")


@pytest.fixture
def engine(db: Database) -> Engine:
    """An Engine over `db` with the shipped Ogres novads organisation and unified scheme."""
    eng = Engine(db)
    load_org(eng, shipped_text("ogre.yaml"), "ogre.yaml", actor=COORDINATOR, now=T0)
    load_scheme(eng, shipped_text("unified.yaml"), "unified.yaml", actor=COORDINATOR, now=T0)
    return eng


@pytest.fixture(scope="module")
def prepared_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite database with the shipped organisation and scheme, made once per module."""
    path = tmp_path_factory.mktemp("prepared") / "shema.db"
    database = Database(f"sqlite:///{path}")
    upgrade(database)
    eng = Engine(database)
    load_org(eng, shipped_text("ogre.yaml"), "ogre.yaml", actor=COORDINATOR, now=T0)
    load_scheme(eng, shipped_text("unified.yaml"), "unified.yaml", actor=COORDINATOR, now=T0)
    database.dispose()
    return path


@pytest.fixture
def sqlite_engine(prepared_sqlite: Path, tmp_path: Path) -> Iterator[Engine]:
    """An Engine over a private copy of the prepared SQLite database: fast, for rule tests
    that do not depend on the backend."""
    path = tmp_path / "shema.db"
    for suffix in ("", "-wal"):
        if Path(f"{prepared_sqlite}{suffix}").exists():
            shutil.copyfile(f"{prepared_sqlite}{suffix}", f"{path}{suffix}")
    database = Database(f"sqlite:///{path}")
    yield Engine(database)
    database.dispose()


def keep_up(engine: Engine, until: dt.datetime) -> Any:
    """Sweep as a running scheduler would have: at each timer's fire time up to `until`
    in turn, then at `until` (one sweep at `until` alone is a catch-up after downtime,
    which sends less). Returns the summed SweepReport."""
    from sqlalchemy import and_, func, select

    from engine.sweep import SweepReport, sweep
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
