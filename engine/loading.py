"""Loading schemes and organisation files into the database, as new versions.

Only coordinators load. Bootstrap: an empty database accepts its first organisation
from a person the file itself names as a coordinator.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy import Connection

from engine.permissions import OrgIndex
from engine.reading import identify
from engine.service import Engine
from engine.views import Loaded
from storage import versions
from workflow.calendar import WorkingCalendar
from workflow.errors import NotAllowed, OrgError, Problem, SchemeError
from workflow.labels import text
from workflow.loader import load_org_text, load_scheme_text
from workflow.org import Organisation
from workflow.scheme import COORDINATOR, Scheme
from workflow.yamlsource import read

# Years around the loading year whose working days an organisation version stores.
CALENDAR_YEARS_BEFORE = 5
CALENDAR_YEARS_AFTER = 15


def _digest(payload: str) -> str:
    return hashlib.sha256(payload.encode()).hexdigest()


def who_loads_org(engine: Engine, requested: str | None, os_account: str | None) -> str | None:
    """The bootstrap rule, seen from an edge: before the first organisation is loaded,
    the person `requested` as given (`load_org` then accepts them only if the file names
    them a coordinator); afterwards, the person `requested` or `os_account` resolves to in
    the organisation in force (`identify`)."""
    with engine.db.read() as conn:
        empty = versions.latest_org_id(conn) is None
    return requested if empty else identify(engine, requested, os_account)


def _require_coordinator(
    org: OrgIndex | None, new: Organisation | None, actor: str | None, what: str
) -> str:
    """The bootstrap rule: a loaded organisation's coordinators load; an empty database
    takes its first organisation from a person that file names as a coordinator."""
    if not actor:
        raise NotAllowed(f"say who loads the {what}", code="load.actor_missing", what=what)
    if org is not None:
        if not org.is_coordinator(actor):
            raise NotAllowed(
                f"{actor} may not load {what}: only coordinators may",
                code="load.not_coordinator",
                actor=actor,
                what=what,
            )
        return actor
    assert new is not None
    person = new.people.get(actor)
    if person is None or not any(a.role == COORDINATOR for a in person.roles):
        raise NotAllowed(
            f"{actor} may not load the first organisation: the file must name {actor} as a "
            "coordinator",
            code="load.first_org_not_coordinator",
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
        last = versions.newest_scheme(conn, scheme.scheme)
        warnings = meeting_warnings(org.org, scheme)
        if last is not None and last.content_hash == digest:
            return Loaded("scheme", scheme.scheme, last.version, False, warnings)
        version = 1 if last is None else last.version + 1
        versions.add_scheme_version(
            conn,
            name=scheme.scheme,
            version=version,
            content_hash=digest,
            source=source,
            compiled=compiled,
            loaded_at=now,
            loaded_by=actor,
        )
        return Loaded("scheme", scheme.scheme, version, True, warnings)


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
        current = None if versions.latest_org_id(conn) is None else engine.org_index(conn)
        _require_coordinator(current, org, actor, "the organisation")
        compiled = org.model_dump_json(exclude_none=True)
        digest = _digest(compiled)
        last = versions.newest_org(conn)
        name = text(org.municipality.name, "lv")
        schemes = engine.loaded_schemes(conn)
        warnings = [w for cs in schemes for w in meeting_warnings(org, cs.scheme)]
        if last is not None and last.content_hash == digest:
            return Loaded("organisation", name, last.version, False, warnings)
        _replace_units(conn, org, source, file)
        _replace_people(conn, org)
        cal = WorkingCalendar(org.calendar)
        year = now.astimezone(cal.zone).year  # the year where the organisation is
        vid = versions.add_org_version(
            conn,
            calendar=cal.compile(year - CALENDAR_YEARS_BEFORE, year + CALENDAR_YEARS_AFTER),
            content_hash=digest,
            source=source,
            compiled=compiled,
            loaded_at=now,
            loaded_by=actor,
        )
        return Loaded("organisation", name, vid, True, warnings)


def _replace_units(conn: Connection, org: Organisation, source: str, file: str) -> None:
    gone = versions.unit_ids(conn) - set(org.units)
    used = versions.units_with_projects(conn, gone)
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
    versions.save_units(
        conn,
        [
            versions.UnitRecord(
                uid,
                text(org.units[uid].name, "lv"),
                org.units[uid].kind.value,
                org.units[uid].parent,
            )
            for uid in order
        ],
    )
    versions.remove_units(conn, gone)


def _replace_people(conn: Connection, org: Organisation) -> None:
    records = [versions.PersonRecord(pid, p.name, p.email, p.lang) for pid, p in org.people.items()]
    rows = sorted({(pid, a.role, a.unit) for pid, p in org.people.items() for a in p.roles})
    versions.replace_people(conn, records, rows)


def meeting_warnings(org: Organisation, scheme: Scheme) -> list[str]:
    """Stages decided at a body the organisation lists no meetings for: they keep their
    plain deadlines, which is allowed but most likely a body missing from the file."""
    return [
        f"scheme {scheme.scheme}: stage {name!r} is decided at {stage.decided_at!r}, whose "
        "meetings the organisation does not list: it keeps its plain deadline"
        for name, stage in scheme.stages.items()
        if stage.decided_at is not None and not _listed(org, stage.decided_at)
    ]


def _listed(org: Organisation, body: str) -> bool:
    """Whether the organisation lists at least one meeting of `body`."""
    found = org.meetings.get(body)
    return found is not None and bool(found.dates)


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
