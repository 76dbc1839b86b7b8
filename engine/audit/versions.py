"""The organisation and scheme versions and the role assignments: every stored version
must still hash to its content hash, the scheme versions give the checklists the replay
needs (`SchemeInfo`, from `check_schemes`), and the role assignments and the people's
`active` flags must be what the current organisation version says
(`check_organisation`)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from engine.audit.findings import other_entry
from storage.audit import (
    StoredOrg,
    stream_org_versions,
    stream_people,
    stream_role_assignments,
    stream_scheme_versions,
)

if TYPE_CHECKING:
    from workflow.org import Organisation


@dataclass
class SchemeInfo:
    """What the audit needs of a stored scheme version: its name, number and checklists."""

    name: str
    version: int
    checklists: dict[str, list[str]] | None  # None: the compiled scheme does not parse


def _content_ok(compiled: str, content_hash: str) -> bool:
    return hashlib.sha256(compiled.encode()).hexdigest() == content_hash


def check_schemes(
    conn: Connection, broken: list[dict[str, Any]], lines: list[str]
) -> dict[int, SchemeInfo]:
    """Check every stored scheme version's content hash (appending to `broken`), append
    its anchor line to `lines`; every version by id."""
    from workflow.scheme import Scheme

    out: dict[int, SchemeInfo] = {}
    for r in stream_scheme_versions(conn):
        lines.append(f"scheme {r.id} {r.content_hash}\n")
        where = f"scheme {r.name} v{r.version}"
        if not _content_ok(r.compiled, r.content_hash):
            broken.append(
                other_entry(
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
        out[r.id] = SchemeInfo(r.name, r.version, lists)
    return out


def check_organisation(conn: Connection, broken: list[dict[str, Any]], lines: list[str]) -> int:
    """Check every organisation version's content hash, and the role assignments and
    people against the current one; the number of role assignment rows compared."""
    from workflow.org import Organisation

    latest: StoredOrg | None = None
    for r in stream_org_versions(conn):
        lines.append(f"org {r.id} {r.content_hash}\n")
        if not _content_ok(r.compiled, r.content_hash):
            broken.append(
                other_entry(
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
        broken.append(other_entry(where, f"the compiled organisation does not read: {exc}"))
        return 0
    rows = _check_assignments(conn, org, where, broken)
    _check_people(conn, org, where, broken)
    return rows


def _check_assignments(
    conn: Connection, org: Organisation, where: str, broken: list[dict[str, Any]]
) -> int:
    said = {(pid, a.role, a.unit) for pid, p in org.people.items() for a in p.roles}
    rows = 0
    for r in stream_role_assignments(conn):
        rows += 1
        key = (r.person_id, r.role, r.unit_id)
        if key in said:
            said.discard(key)
            continue
        broken.append(
            other_entry(
                "role_assignments",
                f"{r.person_id} holds {r.role} for {r.unit_id}, but {where} does not say so "
                "(inserted or changed outside Shēma)",
                row={"person": r.person_id, "role": r.role, "unit": r.unit_id},
            )
        )
    for person, role, unit in sorted(said):
        broken.append(
            other_entry(
                "role_assignments",
                f"{where} gives {person} {role} for {unit}, but the row is missing (deleted "
                "outside Shēma)",
                organisation={"person": person, "role": role, "unit": unit},
            )
        )
    return rows


def _check_people(
    conn: Connection, org: Organisation, where: str, broken: list[dict[str, Any]]
) -> None:
    present = set()
    for r in stream_people(conn):
        present.add(r.id)
        if r.active != (r.id in org.people):
            broken.append(
                other_entry(
                    "people",
                    f"{r.id} is {'active' if r.active else 'inactive'}, but {where} "
                    f"{'does not list' if r.active else 'lists'} them (changed outside Shēma)",
                    row={"person": r.id, "active": r.active},
                )
            )
    for pid in sorted(set(org.people) - present):
        broken.append(
            other_entry("people", f"{where} lists {pid}, but there is no such person row")
        )
