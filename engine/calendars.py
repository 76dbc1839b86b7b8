"""The working-day calendar in force: national holidays plus the stored organisation's
overrides, cached per organisation version."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from storage import versions
from storage.database import Database
from storage.migrate import HEAD, current_revision
from workflow.calendar import WorkingCalendar, national_calendar
from workflow.errors import ShemaError
from workflow.org import Organisation

_cache: dict[tuple[str, int], WorkingCalendar] = {}


def calendar_for(
    org: Organisation, compiled: dict[str, Any] | None = None, timezone: str | None = None
) -> WorkingCalendar:
    """The organisation's calendar (from its stored compiled form when given), in
    `timezone` when given, else in the calendar's own zone."""
    if timezone is None:
        return WorkingCalendar(org.calendar, compiled=compiled)
    return WorkingCalendar(org.calendar, timezone=timezone, compiled=compiled)


def load_calendar(conn: Connection, url: str) -> WorkingCalendar | None:
    """The calendar of the newest organisation in the database, or None if none is loaded."""
    newest = versions.latest_org_id(conn)
    row = None if newest is None else versions.org_version(conn, newest)
    if row is None:
        return None
    key = (url, row.id)
    if key not in _cache:
        _cache[key] = calendar_for(Organisation.model_validate_json(row.compiled), row.calendar)
    return _cache[key]


def local_zone(db: Database) -> ZoneInfo:
    """The time zone of the organisation's calendar in force, else the national one's."""
    with db.read() as conn:
        cal = load_calendar(conn, db.url)
    return (cal or national_calendar()).zone


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
