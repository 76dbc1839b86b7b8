"""The organisation and scheme versions and the role assignments: every stored version
must still hash to its content hash, the scheme versions give the checklists the replay
needs (`_SchemeInfo`), and the role assignments and the people's `active` flags must be
what the current organisation version says."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from engine.audit.findings import _other
from engine.audit.streams import _stream
from storage.tables import (
    org_versions,
    people,
    role_assignments,
    scheme_versions,
)


@dataclass
class _SchemeInfo:
    name: str
    version: int
    checklists: dict[str, list[str]] | None  # None: the compiled scheme does not parse


def _content_ok(compiled: str, content_hash: str) -> bool:
    return hashlib.sha256(compiled.encode()).hexdigest() == content_hash


def _schemes(
    conn: Connection, broken: list[dict[str, Any]], lines: list[str]
) -> dict[int, _SchemeInfo]:
    from workflow.scheme import Scheme

    out: dict[int, _SchemeInfo] = {}
    stmt = select(scheme_versions).order_by(scheme_versions.c.id)
    for r in conn.execution_options(yield_per=8).execute(stmt):
        lines.append(f"scheme {r.id} {r.content_hash}\n")
        where = f"scheme {r.name} v{r.version}"
        if not _content_ok(r.compiled, r.content_hash):
            broken.append(
                _other(
                    where,
                    "the compiled scheme does not match its content hash (changed outside Shēma)",
                )
            )
        try:
            parsed = Scheme.model_validate_json(r.compiled)
            lists: dict[str, list[str]] | None = {
                name: list(stage.checklist) for name, stage in parsed.stages.items()
            }
        except ValueError:
            lists = None
        out[r.id] = _SchemeInfo(r.name, r.version, lists)
    return out


def _organisation(conn: Connection, broken: list[dict[str, Any]], lines: list[str]) -> int:
    """Check every organisation version's content hash, and the role assignments and
    people against the current one; the number of role assignment rows compared."""
    from workflow.org import Organisation

    latest: Any = None
    stmt = select(org_versions.c.id, org_versions.c.content_hash, org_versions.c.compiled)
    for r in conn.execution_options(yield_per=8).execute(stmt.order_by(org_versions.c.id)):
        lines.append(f"org {r.id} {r.content_hash}\n")
        if not _content_ok(r.compiled, r.content_hash):
            broken.append(
                _other(
                    f"organisation version {r.id}",
                    "the compiled organisation does not match its content hash (changed "
                    "outside Shēma)",
                )
            )
        latest = r
    if latest is None:
        return 0
    where = f"organisation version {latest.id}"
    try:
        org = Organisation.model_validate_json(latest.compiled)
    except ValueError as exc:
        broken.append(_other(where, f"the compiled organisation does not read: {exc}"))
        return 0
    said = {(pid, a.role, a.unit) for pid, p in org.people.items() for a in p.roles}
    rows = 0
    stmt = select(role_assignments).order_by(
        role_assignments.c.person_id, role_assignments.c.role, role_assignments.c.unit_id
    )
    for r in _stream(conn, stmt):
        rows += 1
        key = (r.person_id, r.role, r.unit_id)
        if key in said:
            said.discard(key)
            continue
        broken.append(
            _other(
                "role_assignments",
                f"{r.person_id} holds {r.role} for {r.unit_id}, but {where} does not say so "
                "(inserted or changed outside Shēma)",
                row={"person": r.person_id, "role": r.role, "unit": r.unit_id},
            )
        )
    for person, role, unit in sorted(said):
        broken.append(
            _other(
                "role_assignments",
                f"{where} gives {person} {role} for {unit}, but the row is missing (deleted "
                "outside Shēma)",
                organisation={"person": person, "role": role, "unit": unit},
            )
        )
    present = set()
    for r in _stream(conn, select(people.c.id, people.c.active).order_by(people.c.id)):
        present.add(r.id)
        if bool(r.active) != (r.id in org.people):
            broken.append(
                _other(
                    "people",
                    f"{r.id} is {'active' if r.active else 'inactive'}, but {where} "
                    f"{'does not list' if r.active else 'lists'} them (changed outside Shēma)",
                    row={"person": r.id, "active": bool(r.active)},
                )
            )
    for pid in sorted(set(org.people) - present):
        broken.append(_other("people", f"{where} lists {pid}, but there is no such person row"))
    return rows
