"""Loading schemes and organisation files into the database, as new versions.

Only coordinators load. Bootstrap: an empty database accepts its first organisation
from a person the file itself names as a coordinator.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, delete, func, insert, select, update

from engine.permissions import OrgIndex
from engine.service import Engine
from engine.views import Loaded
from storage.tables import (
    org_versions,
    people,
    projects,
    role_assignments,
    scheme_versions,
    units,
)
from workflow.calendar import WorkingCalendar
from workflow.errors import NotAllowed, OrgError, Problem, SchemeError
from workflow.labels import text
from workflow.loader import load_org_text, load_scheme_text
from workflow.org import Organisation
from workflow.scheme import COORDINATOR, Scheme
from workflow.yamlsource import read


def _digest(payload: str) -> str:
    return hashlib.sha256(payload.encode()).hexdigest()


def _require_coordinator(
    org: OrgIndex | None, new: Organisation | None, actor: str | None, what: str
) -> str:
    if not actor:
        raise NotAllowed(f"say who loads the {what}: --as PERSON (a coordinator)")
    if org is not None:
        if not org.is_coordinator(actor):
            raise NotAllowed(f"{actor} may not load {what}: only coordinators may", actor=actor)
        return actor
    assert new is not None
    person = new.people.get(actor)
    if person is None or not any(a.role == COORDINATOR for a in person.roles):
        raise NotAllowed(
            f"{actor} may not load the first organisation: the file must name {actor} as a "
            "coordinator",
            actor=actor,
        )
    return actor


def _latest_roles(
    conn: Connection, engine: Engine, *, besides: str | None = None
) -> dict[str, str] | None:
    """Roles (name → level) of the newest version of every loaded scheme (but the one
    named `besides`), or None when no scheme is loaded."""
    schemes = [cs for cs in engine.loaded_schemes(conn) if cs.name != besides]
    if not schemes and besides is None:
        return None
    return {name: level.value for cs in schemes for name, level in cs.levels.items()}


def load_scheme(
    engine: Engine, source: str, file: str, *, actor: str | None, now: dt.datetime
) -> Loaded:
    """Store the scheme as a new version unless the newest version of its name is the same."""
    scheme = load_scheme_text(source, file)
    compiled = scheme.model_dump_json(by_alias=True, exclude_none=True)
    digest = _digest(compiled)
    with engine.db.write() as conn:
        org = engine.org_index(conn)  # raises when no organisation is loaded yet
        _require_coordinator(org, None, actor, "schemes")
        others = _latest_roles(conn, engine, besides=scheme.scheme) or {}
        _check_org_roles(org.org, scheme, others, source, file)
        last = conn.execute(
            select(scheme_versions.c.version, scheme_versions.c.content_hash)
            .where(scheme_versions.c.name == scheme.scheme)
            .order_by(scheme_versions.c.version.desc())
            .limit(1)
        ).first()
        if last is not None and last.content_hash == digest:
            return Loaded("scheme", scheme.scheme, last.version, created=False)
        version = 1 if last is None else last.version + 1
        conn.execute(
            insert(scheme_versions).values(
                name=scheme.scheme,
                version=version,
                content_hash=digest,
                source=source,
                compiled=compiled,
                loaded_at=now,
                loaded_by=actor,
            )
        )
        return Loaded("scheme", scheme.scheme, version, created=True)


def _check_org_roles(
    org: Organisation, scheme: Scheme, others: dict[str, str], source: str, file: str
) -> None:
    """Every role the organisation assigns is defined by this scheme or another loaded
    one (each scheme may use a subset), and a role name means one level in all of them."""
    known = set(scheme.all_roles) | set(others)
    missing = sorted(
        {(a.role, pid) for pid, p in org.people.items() for a in p.roles if a.role not in known}
    )
    clashes = [
        (name, others[name])
        for name, role in scheme.roles.items()
        if others.get(name, role.level.value) != role.level.value
    ]
    if not (missing or clashes):
        return
    src = read(source, file)
    problems = [
        src.problem(
            ("roles",),
            f"the organisation assigns role {role!r} (to {pid}), which neither this scheme "
            "nor another loaded one defines",
            key=True,
        )
        for role, pid in missing
    ]
    problems += [
        src.problem(
            ("roles", name, "level"),
            f"role {name!r} is {level} in another loaded scheme; a role means one level in "
            "every scheme",
        )
        for name, level in clashes
    ]
    raise SchemeError(problems)


def load_org(
    engine: Engine, source: str, file: str, *, actor: str | None, now: dt.datetime
) -> Loaded:
    """Replace the organisation (units, people, role assignments) with the file's, as a new
    version. People who left are kept, inactive, because history names them."""
    with engine.db.write() as conn:
        roles = _latest_roles(conn, engine)
        org = load_org_text(source, file, roles=roles)
        current = None
        if conn.execute(select(func.count()).select_from(org_versions)).scalar_one():
            current = engine.org_index(conn)
        _require_coordinator(current, org, actor, "the organisation")
        compiled = org.model_dump_json(exclude_none=True)
        digest = _digest(compiled)
        last = conn.execute(
            select(org_versions.c.id, org_versions.c.content_hash)
            .order_by(org_versions.c.id.desc())
            .limit(1)
        ).first()
        name = text(org.municipality.name, "lv")
        if last is not None and last.content_hash == digest:
            return Loaded("organisation", name, last.id, created=False)
        _replace_units(conn, org, source, file)
        _replace_people(conn, org)
        riga_year = now.astimezone(ZoneInfo("Europe/Riga")).year
        calendar = WorkingCalendar(org.calendar).compile(riga_year - 5, riga_year + 15)
        vid = conn.execute(
            insert(org_versions)
            .values(
                calendar=json.dumps(calendar),
                content_hash=digest,
                source=source,
                compiled=compiled,
                loaded_at=now,
                loaded_by=actor,
            )
            .returning(org_versions.c.id)
        ).scalar_one()
        return Loaded("organisation", name, vid, created=True)


def _replace_units(conn: Connection, org: Organisation, source: str, file: str) -> None:
    existing = set(conn.execute(select(units.c.id)).scalars())
    gone = existing - set(org.units)
    if gone:
        used = sorted(
            set(
                conn.execute(
                    select(projects.c.unit_id).where(projects.c.unit_id.in_(gone))
                ).scalars()
            )
        )
        if used:
            src = read(source, file)
            raise OrgError(
                [
                    src.problem(
                        ("units",),
                        f"unit {u!r} has projects and cannot be removed; keep it in the file",
                        key=True,
                    )
                    for u in used
                ]
            )
    # Parents first, so foreign keys hold at every statement.
    order = sorted(org.units, key=lambda u: len(tuple(org.ancestors(u))))
    for uid in order:
        unit = org.units[uid]
        values = {"name": text(unit.name, "lv"), "kind": unit.kind.value, "parent_id": unit.parent}
        if uid in existing:
            conn.execute(update(units).where(units.c.id == uid).values(values))
        else:
            conn.execute(insert(units).values(id=uid, **values))
    conn.execute(delete(role_assignments).where(role_assignments.c.unit_id.in_(gone)))
    for uid in sorted(gone, key=lambda u: -len(u)):
        conn.execute(update(units).where(units.c.parent_id == uid).values(parent_id=None))
    if gone:
        conn.execute(delete(units).where(units.c.id.in_(gone)))


def _replace_people(conn: Connection, org: Organisation) -> None:
    existing = set(conn.execute(select(people.c.id)).scalars())
    conn.execute(delete(role_assignments))
    for pid, person in org.people.items():
        values = {"name": person.name, "email": person.email, "lang": person.lang, "active": True}
        if pid in existing:
            conn.execute(update(people).where(people.c.id == pid).values(values))
        else:
            conn.execute(insert(people).values(id=pid, **values))
    left = existing - set(org.people)
    if left:
        conn.execute(update(people).where(people.c.id.in_(left)).values(active=False))
    rows = sorted({(pid, a.role, a.unit) for pid, p in org.people.items() for a in p.roles})
    if rows:
        conn.execute(
            insert(role_assignments),
            [{"person_id": p, "role": r, "unit_id": u} for p, r, u in rows],
        )


def org_warnings(org: Organisation, scheme: Scheme) -> list[Problem]:
    """Units where nobody can receive a stage they may hold (messages would go to the
    coordinators), as warnings."""
    idx = OrgIndex.build(0, org)
    levels = {name: role.level for name, role in scheme.all_roles.items()}
    owners = sorted(
        {s.owner for s in scheme.stages.values() if s.owner and levels[s.owner].value == "parish"}
    )
    out = []
    for uid, unit in org.units.items():
        if unit.kind.value not in ("parish", "town", "city"):
            continue
        for role in owners:
            holders, _ = idx.recipients(role, uid, levels)
            if not any(role == r for h in holders for r, _ in idx.assignments.get(h, [])):
                out.append(
                    Problem(
                        "",
                        0,
                        0,
                        f"units.{uid}",
                        f"nobody holds {role} for this unit or above: its messages "
                        "go to the coordinators",
                        "warning",
                    )
                )
    return out
