"""Stored versions of schemes and of the organisation: what was loaded, when, by whom.

A version is never changed once written; the newest organisation version is the one in
force, and each scheme's newest version is what new projects follow. Functions run in
the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, func, select

from storage.tables import org_versions, scheme_versions


@dataclass(frozen=True, slots=True)
class SchemeVersion:
    id: int
    name: str
    version: int
    content_hash: str
    compiled: str  # the validated model as JSON
    loaded_at: dt.datetime
    loaded_by: str | None


@dataclass(frozen=True, slots=True)
class OrgVersion:
    id: int
    compiled: str  # the validated model as JSON
    calendar: dict[str, Any] | None  # the compiled working-day calendar


_SCHEME_BY_ID = select(scheme_versions).where(scheme_versions.c.id == bindparam("id"))


def scheme_version(conn: Connection, version_id: int) -> SchemeVersion | None:
    """The stored scheme version with this id, or None."""
    r = conn.execute(_SCHEME_BY_ID, {"id": version_id}).first()
    if r is None:
        return None
    return SchemeVersion(
        r.id, r.name, r.version, r.content_hash, r.compiled, r.loaded_at, r.loaded_by
    )


def newest_scheme_ids(conn: Connection) -> list[int]:
    """The id of the newest version of every loaded scheme (empty when none is)."""
    newest = select(func.max(scheme_versions.c.id)).group_by(scheme_versions.c.name)
    return list(conn.execute(newest).scalars())


def latest_scheme_id(conn: Connection, name: str | None = None) -> int | None:
    """The newest version id of scheme `name` (of the last loaded scheme when None), or
    None when there is none."""
    stmt = select(scheme_versions.c.id).order_by(scheme_versions.c.id.desc()).limit(1)
    if name is not None:
        stmt = stmt.where(scheme_versions.c.name == name)
    found = conn.execute(stmt).scalar()
    return None if found is None else int(found)


def latest_org_id(conn: Connection) -> int | None:
    """The organisation version in force, or None before the first `org load`."""
    found = conn.execute(
        select(org_versions.c.id).order_by(org_versions.c.id.desc()).limit(1)
    ).scalar()
    return None if found is None else int(found)


def org_version(conn: Connection, version_id: int) -> OrgVersion | None:
    """The stored organisation version with this id, or None."""
    r = conn.execute(
        select(org_versions.c.id, org_versions.c.compiled, org_versions.c.calendar).where(
            org_versions.c.id == version_id
        )
    ).first()
    if r is None:
        return None
    return OrgVersion(r.id, r.compiled, json.loads(r.calendar) if r.calendar else None)
