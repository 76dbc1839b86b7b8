"""The working-day calendar in force: national holidays plus the stored organisation's
overrides, cached per organisation version."""

from __future__ import annotations

import json

from sqlalchemy import Connection, select

from storage.database import Database
from storage.migrate import HEAD, current_revision
from storage.tables import org_versions
from workflow.calendar import WorkingCalendar
from workflow.errors import ShemaError
from workflow.org import Organisation

_cache: dict[tuple[str, int], WorkingCalendar] = {}


def calendar_for(
    org: Organisation, compiled: str | None = None, timezone: str = "Europe/Riga"
) -> WorkingCalendar:
    return WorkingCalendar(
        org.calendar, timezone=timezone, compiled=json.loads(compiled) if compiled else None
    )


def load_calendar(conn: Connection, url: str) -> WorkingCalendar | None:
    """The calendar of the newest organisation in the database, or None if none is loaded."""
    row = conn.execute(
        select(org_versions.c.id, org_versions.c.compiled, org_versions.c.calendar)
        .order_by(org_versions.c.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    key = (url, row.id)
    if key not in _cache:
        _cache[key] = calendar_for(Organisation.model_validate_json(row.compiled), row.calendar)
    return _cache[key]


def stored_calendar(url: str) -> WorkingCalendar | None:
    """The calendar of an initialised database at `url`; None when there is none to read
    (no database, not initialised, or no organisation loaded)."""
    db = Database(url)
    try:
        if db.missing_file or current_revision(db) != HEAD:
            return None
        with db.read() as conn:
            return load_calendar(conn, url)
    except ShemaError:
        return None
    except Exception:  # an unreachable or foreign database: fall back to the national one
        return None
    finally:
        db.dispose()
