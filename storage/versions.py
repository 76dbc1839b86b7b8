"""Stored versions of schemes and of the organisation: what was loaded, when, by whom.

A version is never changed once written; the newest organisation version is the one in
force, and each scheme's newest version is what new projects follow. Functions run in
the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, insert, select, update

from storage.tables import (
    org_versions,
    people,
    projects,
    role_assignments,
    scheme_versions,
    units,
)


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


def scheme_version_ids(conn: Connection) -> list[int]:
    """The id of every stored scheme version, oldest first."""
    return list(conn.execute(select(scheme_versions.c.id).order_by(scheme_versions.c.id)).scalars())


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


# -- writes of `scheme load` and `org load` ---------------------------------------------


@dataclass(frozen=True, slots=True)
class VersionHead:
    """The newest stored version of a scheme (or the organisation): its number and hash."""

    version: int  # the scheme's version number; the organisation version's id
    content_hash: str


def newest_scheme(conn: Connection, name: str) -> VersionHead | None:
    """The newest version of scheme `name`, or None when it was never loaded."""
    r = conn.execute(
        select(scheme_versions.c.version, scheme_versions.c.content_hash)
        .where(scheme_versions.c.name == name)
        .order_by(scheme_versions.c.version.desc())
        .limit(1)
    ).first()
    return None if r is None else VersionHead(int(r.version), r.content_hash)


def add_scheme_version(
    conn: Connection,
    *,
    name: str,
    version: int,
    content_hash: str,
    source: str,
    compiled: str,
    loaded_at: dt.datetime,
    loaded_by: str | None,
) -> None:
    """Store a new version of scheme `name` (the (name, version) pair is unique: a
    concurrent load of the same version fails with IntegrityError)."""
    conn.execute(
        insert(scheme_versions).values(
            name=name,
            version=version,
            content_hash=content_hash,
            source=source,
            compiled=compiled,
            loaded_at=loaded_at,
            loaded_by=loaded_by,
        )
    )


def newest_org(conn: Connection) -> VersionHead | None:
    """The organisation version in force (id and hash), or None before the first load."""
    r = conn.execute(
        select(org_versions.c.id, org_versions.c.content_hash)
        .order_by(org_versions.c.id.desc())
        .limit(1)
    ).first()
    return None if r is None else VersionHead(int(r.id), r.content_hash)


def add_org_version(
    conn: Connection,
    *,
    calendar: dict[str, Any],
    content_hash: str,
    source: str,
    compiled: str,
    loaded_at: dt.datetime,
    loaded_by: str | None,
) -> int:
    """Store a new organisation version (it is in force from now on); returns its id."""
    return int(
        conn.execute(
            insert(org_versions)
            .values(
                calendar=json.dumps(calendar),
                content_hash=content_hash,
                source=source,
                compiled=compiled,
                loaded_at=loaded_at,
                loaded_by=loaded_by,
            )
            .returning(org_versions.c.id)
        ).scalar_one()
    )


@dataclass(frozen=True, slots=True)
class UnitRecord:
    """A unit as stored: its Latvian name, kind and parent unit (None at the top)."""

    id: str
    name: str
    kind: str
    parent_id: str | None


@dataclass(frozen=True, slots=True)
class PersonRecord:
    """A person as stored by `org load` (the password hash is kept apart)."""

    id: str
    name: str
    email: str | None
    lang: str


def unit_ids(conn: Connection) -> set[str]:
    """The ids of every stored unit (empty before the first load)."""
    return set(conn.execute(select(units.c.id)).scalars())


def units_with_projects(conn: Connection, ids: Iterable[str]) -> list[str]:
    """Those of the units `ids` that some project belongs to, sorted."""
    wanted = list(ids)
    if not wanted:
        return []
    found = conn.execute(select(projects.c.unit_id).where(projects.c.unit_id.in_(wanted)))
    return sorted(set(found.scalars()))


def save_units(conn: Connection, records: Sequence[UnitRecord]) -> None:
    """Insert or update each unit in the order given (give parents before children, so
    the foreign keys hold at every statement)."""
    existing = unit_ids(conn)
    for u in records:
        values = {"name": u.name, "kind": u.kind, "parent_id": u.parent_id}
        if u.id in existing:
            conn.execute(update(units).where(units.c.id == u.id).values(values))
        else:
            conn.execute(insert(units).values(id=u.id, **values))


def remove_units(conn: Connection, ids: Iterable[str]) -> None:
    """Delete the units `ids` with their role assignments, first detaching any unit whose
    parent is among them. The caller checks that no project belongs to them."""
    gone = list(ids)
    if not gone:
        return
    conn.execute(delete(role_assignments).where(role_assignments.c.unit_id.in_(gone)))
    for uid in sorted(gone, key=lambda u: -len(u)):
        conn.execute(update(units).where(units.c.parent_id == uid).values(parent_id=None))
    conn.execute(delete(units).where(units.c.id.in_(gone)))


def replace_people(
    conn: Connection,
    records: Sequence[PersonRecord],
    assignments: Sequence[tuple[str, str, str]],
) -> None:
    """Make `records` the active people and `assignments` ((person, role, unit) triples)
    every role assignment; people not among `records` stay, inactive (history names
    them), and keep their password hashes."""
    existing = set(conn.execute(select(people.c.id)).scalars())
    conn.execute(delete(role_assignments))
    for p in records:
        values = {"name": p.name, "email": p.email, "lang": p.lang, "active": True}
        if p.id in existing:
            conn.execute(update(people).where(people.c.id == p.id).values(values))
        else:
            conn.execute(insert(people).values(id=p.id, **values))
    left = existing - {p.id for p in records}
    if left:
        conn.execute(update(people).where(people.c.id.in_(left)).values(active=False))
    if assignments:
        conn.execute(
            insert(role_assignments),
            [{"person_id": p, "role": r, "unit_id": u} for p, r, u in assignments],
        )
