"""Schema revisions: which one a database is at, and upgrading it with Alembic.

Every command checks the revision on start-up, so that check is one plain query and
Alembic is imported only where a migration runs or a revision turns out to be wrong.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from storage.database import Database
from workflow.errors import EnvironmentProblem

if TYPE_CHECKING:
    from alembic.config import Config

HEAD = "0009"
"""The newest revision in storage/migrations/versions (a test keeps the two equal)."""

_UNDEFINED_TABLE = "42P01"  # PostgreSQL SQLSTATE


def current_revision(db: Database) -> str | None:
    """The database's schema revision; None if Shēma never initialised it."""
    try:
        with db.read() as conn:
            value = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except DBAPIError as exc:
        if _is_missing_version_table(exc):
            return None
        raise EnvironmentProblem(
            f"cannot read the schema revision of {db.safe_url}: {_first_line(exc)}",
            database=db.safe_url,
        ) from exc
    return None if value is None else str(value)


def upgrade(db: Database) -> tuple[str | None, str]:
    """Create the tables, or bring them up to HEAD, in one transaction (all or nothing);
    returns the revisions before and after. Refuses a database a newer Shēma wrote.
    Concurrent upgrades from several processes are safe; from threads of one process
    they are not (Alembic's context is process-global)."""
    from alembic import command

    before = current_revision(db)
    if before is not None and before != HEAD and before not in known_revisions():
        raise EnvironmentProblem(_newer_message(before), database=db.safe_url)
    config = alembic_config()
    try:
        with db.engine.connect() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
    except DBAPIError as exc:
        raise EnvironmentProblem(
            f"upgrading {db.safe_url} failed and changed nothing: {_first_line(exc)}",
            database=db.safe_url,
        ) from exc
    after = current_revision(db)
    if after is None or after != HEAD:
        raise EnvironmentProblem(f"the upgrade ended at revision {after}, expected {HEAD}")
    return before, after


def require_current(db: Database) -> None:
    """Return if the database is at HEAD; otherwise raise EnvironmentProblem saying what to do."""
    revision = current_revision(db)
    if revision == HEAD:
        return
    if revision is None:
        message = "the database is not initialised: run `shema init`"
    elif revision in known_revisions():
        message = (
            f"the database is at revision {revision}, this Shēma needs {HEAD}: run `shema init`"
        )
    else:
        message = _newer_message(revision)
    raise EnvironmentProblem(message, database=db.safe_url)


def alembic_config() -> Config:
    """An Alembic configuration for the migrations shipped in this package (no alembic.ini)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "storage:migrations")
    return config


def known_revisions() -> set[str]:
    """Every revision id in storage/migrations/versions."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    return {rev.revision for rev in script.walk_revisions()}


def _newer_message(revision: str) -> str:
    return (
        f"the database is at revision {revision}, which this Shēma does not know "
        f"(it needs {HEAD}): a newer Shēma wrote it, so upgrade Shēma"
    )


def _first_line(exc: DBAPIError) -> str:
    return (str(exc.orig).strip().splitlines() or [type(exc.orig).__name__])[0]


def _is_missing_version_table(exc: DBAPIError) -> bool:
    if getattr(exc.orig, "sqlstate", None) == _UNDEFINED_TABLE:
        return True
    return "no such table: alembic_version" in str(exc.orig)
