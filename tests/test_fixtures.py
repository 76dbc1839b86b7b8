"""The database fixtures (conftest.py) reuse one migrated database per worker: each test
must still start from a clean one, whatever the tests before it wrote."""

from __future__ import annotations

import pytest
from conftest import T0, load_shipped
from sqlalchemy import func, select, text

from engine.service import Engine
from storage.database import Database
from storage.migrate import HEAD, current_revision
from storage.tables import metadata, org_versions, projects, scheme_versions, units

LIGA = "liga.ozolina"  # parish specialist in Krapes pagasts


def row_counts(db: Database) -> dict[str, int]:
    with db.read() as conn:
        return {
            table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
            for table in metadata.sorted_tables
        }


def all_rows(db: Database) -> dict[str, list[tuple[object, ...]]]:
    with db.read() as conn:
        return {
            table.name: sorted((tuple(row) for row in conn.execute(select(table))), key=repr)
            for table in metadata.sorted_tables
        }


# Whichever of these runs after another on the same worker sees what that one left
# behind, if anything is left behind; each also runs after unrelated tests that wrote.
@pytest.mark.parametrize("turn", [1, 2, 3])
def test_db_starts_empty_at_head_whatever_the_test_before_left(db: Database, turn: int) -> None:
    assert set(row_counts(db).values()) == {0}
    assert current_revision(db) == HEAD

    with db.write() as conn:  # leave rows, a used sequence and a wrong revision behind
        conn.execute(units.insert().values(id=f"u{turn}", name="Ogre", kind="town"))
        first_id = conn.execute(
            org_versions.insert()
            .values(content_hash="x" * 64, source="", compiled="{}", loaded_at=T0)
            .returning(org_versions.c.id)
        ).scalar_one()
        conn.execute(text("UPDATE alembic_version SET version_num = 'left-behind'"))
    assert first_id == 1  # the sequence starts again too


@pytest.mark.parametrize("turn", [1, 2, 3])
def test_engine_starts_with_the_shipped_files_alone_whatever_the_test_before_left(
    engine: Engine, turn: int
) -> None:
    counts = row_counts(engine.db)
    assert counts[org_versions.name] == counts[scheme_versions.name] == 1
    assert counts[projects.name] == 0

    engine.create_project(title=f"Jumts {turn}", unit="krapes_pagasts", actor=LIGA, now=T0)
    with engine.db.read() as conn:
        assert conn.execute(select(projects.c.id)).scalars().all() == [1]


def test_engine_starts_with_exactly_what_loading_the_shipped_files_writes(
    engine: Engine,
) -> None:
    restored = all_rows(engine.db)

    # Empty the database the slow way and load the shipped files for real.
    with engine.db.write() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())
        if not engine.db.is_sqlite:
            for (name,) in conn.execute(
                text("SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'")
            ):
                conn.execute(text(f'ALTER SEQUENCE "{name}" RESTART'))
    load_shipped(Engine(engine.db))

    assert all_rows(engine.db) == restored
