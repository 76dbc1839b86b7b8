"""Migrations: creating and upgrading a database, and that they match storage/tables.py."""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, event, inspect, text

from storage import migrate, tables
from storage.database import Database
from storage.migrate import HEAD, current_revision, require_current, upgrade
from workflow.errors import EnvironmentProblem


@pytest.fixture
def empty_db(database_url: str) -> Iterator[Database]:
    """A Database on `database_url`, not initialised."""
    database = Database(database_url)
    yield database
    database.dispose()


def test_upgrade_from_empty_reaches_head(empty_db: Database) -> None:
    assert current_revision(empty_db) is None

    assert upgrade(empty_db) == (None, HEAD)

    assert current_revision(empty_db) == HEAD
    with empty_db.read() as conn:
        assert set(tables.metadata.tables) <= set(inspect(conn).get_table_names())


def test_upgrading_twice_changes_nothing(db: Database) -> None:
    with db.write() as conn:
        conn.execute(tables.units.insert().values(id="ogre", name="Ogre", kind="town"))

    assert upgrade(db) == (HEAD, HEAD)

    with db.read() as conn:
        assert conn.execute(text("SELECT id FROM units")).scalars().all() == ["ogre"]


def _upgrade_when_both_are_ready(url: str, ready: Any) -> None:
    ready.wait()
    upgrade(Database(url))


def test_two_concurrent_upgrades_both_succeed(database_url: str) -> None:
    # Processes, not threads: Alembic's `context` and `op` are process-global.
    spawn = multiprocessing.get_context("spawn")
    ready = spawn.Barrier(2)
    runs = [
        spawn.Process(target=_upgrade_when_both_are_ready, args=(database_url, ready))
        for _ in range(2)
    ]
    for run in runs:
        run.start()
    for run in runs:
        run.join(timeout=60)

    assert [run.exitcode for run in runs] == [0, 0]
    database = Database(database_url)
    assert current_revision(database) == HEAD
    database.dispose()


def test_tables_and_migrations_agree(db: Database) -> None:
    with db.read() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        assert compare_metadata(context, tables.metadata) == []


def test_head_is_the_newest_migration() -> None:
    assert ScriptDirectory.from_config(migrate.alembic_config()).get_heads() == [HEAD]


def test_require_current_refuses_an_uninitialised_database(empty_db: Database) -> None:
    with pytest.raises(EnvironmentProblem, match="not initialised: run `shema init`"):
        require_current(empty_db)


def test_require_current_accepts_a_database_at_head(db: Database) -> None:
    require_current(db)


def test_require_current_asks_for_init_when_the_database_is_behind(
    empty_db: Database,
) -> None:
    from alembic import command

    config = migrate.alembic_config()
    with empty_db.engine.connect() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0001")

    with pytest.raises(
        EnvironmentProblem, match=rf"at revision 0001, this Shēma needs {HEAD}: run"
    ):
        migrate.require_current(empty_db)
    assert upgrade(empty_db) == ("0001", migrate.HEAD)
    migrate.require_current(empty_db)


def test_a_database_from_a_newer_shema_is_refused(db: Database) -> None:
    with db.write() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))

    with pytest.raises(EnvironmentProblem, match="revision 9999, which this Shēma does not know"):
        require_current(db)
    with pytest.raises(EnvironmentProblem, match="a newer Shēma wrote it"):
        upgrade(db)


def test_a_failed_upgrade_leaves_nothing_behind(empty_db: Database) -> None:
    # `history` is created last, so every table before it must be rolled back.
    with empty_db.write() as conn:
        conn.execute(text("CREATE TABLE history (x INTEGER)"))

    with pytest.raises(EnvironmentProblem, match="failed and changed nothing"):
        upgrade(empty_db)

    assert current_revision(empty_db) is None
    with empty_db.read() as conn:
        assert inspect(conn).get_table_names() == ["history"]


def test_sqlite_connections_keep_their_pragmas_after_an_upgrade(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/shema.db"
    migrated = Database(url)
    upgrade(migrated)
    fresh = Database(url)
    try:
        for database in (migrated, fresh):  # the migrating connection is pooled and reused
            with database.read() as conn:
                assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
                assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        migrated.dispose()
        fresh.dispose()


def test_sqlite_migrations_run_with_foreign_keys_off(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path}/shema.db")
    seen: list[int] = []

    def record_pragma(conn: Connection, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().startswith("CREATE TABLE"):
            raw = conn.connection.dbapi_connection
            seen.append(raw.execute("PRAGMA foreign_keys").fetchone()[0])

    event.listen(database.engine, "before_cursor_execute", record_pragma)
    try:
        upgrade(database)
    finally:
        database.dispose()

    assert seen and set(seen) == {0}


def test_a_failed_sqlite_upgrade_turns_foreign_keys_back_on(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path}/shema.db")
    try:
        with database.write() as conn:
            conn.execute(text("CREATE TABLE history (x INTEGER)"))
        with pytest.raises(EnvironmentProblem, match="failed and changed nothing"):
            upgrade(database)
        with database.read() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        database.dispose()


def test_checking_the_revision_does_not_import_alembic(db: Database) -> None:
    # Every CLI command checks the revision; importing Alembic would slow them all down.
    script = (
        "import sys; from storage.database import Database; "
        "from storage.migrate import require_current; "
        f"require_current(Database({db.url!r})); print('alembic' in sys.modules)"
    )
    root = Path(__file__).parents[1]
    done = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, text=True)
    assert (done.returncode, done.stdout.strip()) == (0, "False"), done.stderr


def test_a_file_that_is_not_a_database_is_an_environment_problem(tmp_path: Path) -> None:
    (tmp_path / "shema.db").write_bytes(b"not a database, just some text " * 100)
    database = Database(f"sqlite:///{tmp_path}/shema.db")
    try:
        with pytest.raises(
            EnvironmentProblem, match=r"cannot (read the schema revision|open the database)"
        ):
            require_current(database)
    finally:
        database.dispose()
