"""`shema audit verify` and `shema audit anchor`.

`verify` walks every project's hash chain and *replays* it: the events say what must be
true of the project now (unit, title, scheme, budget and currency, funding instrument,
partners, dates, responsible person, stage and when it was entered, hold, pending
handoff, the idea it came from, checklist ticks, risks, the cost-benefit analysis), and
each of those columns and rows is compared with what the chain says, so a direct SQL
edit is named with the project, the field or row, and both values. Events written
before an event kind recorded a value (a project created before the budget was part of
its `created` event, say) leave that value *not checkable*: the report counts such
projects per field, and they never fail the check.

Outside the projects: the role assignments and the people's `active` flags must be
what the current organisation version's compiled organisation says, and every stored
organisation and scheme version must still hash to its content hash.

An anchor (`take_anchor`) is a digest over every project's chain head and the version
hashes, kept outside the database: `verify` against it names a project whose chain is
now shorter than, or different from, the anchored one (longer is fine), and a version
that changed or vanished. Deleting the last events and fixing the head cannot be seen
without one.

Everything is streamed in project order, one project's rows at a time, inside one
read transaction (REPEATABLE READ on PostgreSQL, so all the streams see one snapshot).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from itertools import groupby
from typing import Any

from sqlalchemy import select

from engine.audit.anchors import (
    ANCHOR_FORMAT,
    DIGEST,
    Anchor,
    _anchor_project,
    _check_anchor,
    _project_line,
    digest_anchor,
    dump_anchor,
    read_anchor,
    take_anchor,
)
from engine.audit.findings import VerifyReport, _broken, _Found
from engine.audit.replay import UNKNOWN, compare, replay
from engine.audit.streams import STREAM_BATCH, _Rows, _snapshot, _stream
from engine.audit.versions import _organisation, _SchemeInfo, _schemes
from engine.history import verify_chain
from storage.database import Database
from storage.tables import cba, cba_years, checklist, history, projects, risks

__all__ = [
    "ANCHOR_FORMAT",
    "DIGEST",
    "STREAM_BATCH",
    "UNKNOWN",
    "Anchor",
    "VerifyReport",
    "compare",
    "digest_anchor",
    "dump_anchor",
    "read_anchor",
    "replay",
    "take_anchor",
    "verify",
]


def verify(db: Database, *, anchor: Anchor | None = None) -> VerifyReport:
    """Check every project, the organisation and the versions (see the module's
    docstring); with `anchor`, also that nothing anchored was truncated or rewritten."""
    broken: list[dict[str, Any]] = []
    events = count = partial = 0
    not_checkable: dict[str, int] = {}
    version_lines: list[str] = []
    digest = hashlib.sha256()
    anchored = dict(anchor.projects) if anchor and anchor.projects is not None else None
    with db.read() as conn:
        _snapshot(db, conn)
        schemes = _schemes(conn, broken, version_lines)
        org_lines: list[str] = []
        assignments = _organisation(conn, broken, org_lines)
        version_lines = org_lines + version_lines
        heads = _stream(conn, select(projects).order_by(projects.c.id))
        chains = groupby(
            _stream(conn, select(history).order_by(history.c.project_id, history.c.seq)),
            key=lambda r: r.project_id,
        )
        ticks = _Rows(
            _stream(conn, select(checklist).order_by(checklist.c.project_id, checklist.c.item))
        )
        risk_rows = _Rows(_stream(conn, select(risks).order_by(risks.c.project_id, risks.c.number)))
        cba_rows = _Rows(_stream(conn, select(cba).order_by(cba.c.project_id)))
        year_rows = _Rows(
            _stream(conn, select(cba_years).order_by(cba_years.c.project_id, cba_years.c.year))
        )
        pending = next(chains, None)

        def orphans_below(pid: int | None) -> None:
            nonlocal pending, events
            while pending is not None and (pid is None or pending[0] < pid):
                n = sum(1 for _ in pending[1])
                events += n
                broken.append(
                    _broken(None, pending[0], None, "history of a project that does not exist")
                )
                pending = next(chains, None)

        for row in heads:
            count += 1
            digest.update(_project_line(row.id, row.head_seq, row.head_hash).encode())
            orphans_below(row.id)
            chain: list[dict[str, Any]] = []
            if pending is not None and pending[0] == row.id:
                chain = [dict(r._mapping) for r in pending[1]]
                pending = next(chains, None)
            events += len(chain)
            project = (
                row,
                ticks.take(row.id),
                risk_rows.take(row.id),
                cba_rows.take(row.id),
                year_rows.take(row.id),
            )
            if not chain:
                broken.append(_broken(row, row.id, 1, "the project has no history at all"))
                continue
            found, unknown = _check(project, chain, schemes)
            if anchored is not None and anchor is not None:
                head = anchored.pop(row.id, None)
                problem = _anchor_project(anchor, head, chain) if head else None
                if problem and not any(f.field == "chain" for f in found):
                    found.append(_Found(problem[0], "anchor", None, None, problem[1]))
            for f in found:
                broken.append(_broken(row, row.id, f.seq, f.reason, f))
            if unknown:
                partial += 1
                for name in unknown:
                    not_checkable[name] = not_checkable.get(name, 0) + 1
        orphans_below(None)
    for line in version_lines:
        digest.update(line.encode())
    now_digest = digest.hexdigest()
    if anchor is not None:
        broken += _check_anchor(anchor, anchored, schemes, version_lines, now_digest)
    return VerifyReport(
        count,
        events,
        broken,
        partial=partial,
        not_checkable=dict(sorted(not_checkable.items())),
        role_assignments=assignments,
        anchor=None if anchor is None else anchor.summary(),
        digest=now_digest,
    )


def _check(
    project: tuple[Any, list[Any], list[Any], list[Any], list[Any]],
    chain: list[dict[str, Any]],
    schemes: dict[int, _SchemeInfo],
) -> tuple[list[_Found], set[str]]:
    head, ticks, risk_rows, cba_rows, year_rows = project
    found = verify_chain(head.id, head.head_seq, head.head_hash, chain)
    if found is not None:
        return [_Found(found.seq, "chain", None, None, found.reason)], set()
    out = []
    last = chain[-1]
    if head.version != head.head_seq:
        out.append(
            _Found(
                last["seq"],
                "version",
                head.head_seq,
                head.version,
                f"the project row says version {head.version} but its history has "
                f"{head.head_seq} events (the row was changed)",
            )
        )
    if last["to_stage"] != head.stage:
        out.append(
            _Found(
                last["seq"],
                "stage",
                last["to_stage"],
                head.stage,
                f"the project row says stage {head.stage} but its history ends in "
                f"{last['to_stage']} (the row was changed)",
            )
        )
    info = schemes.get(head.scheme_version_id)

    def checklist_of(stage: str) -> Sequence[str] | None:
        if info is None or info.checklists is None:
            return None
        return info.checklists.get(stage)

    try:
        said = replay(chain, checklist_of)
        more, unknown = compare(said, head, schemes, ticks, risk_rows, cba_rows, year_rows)
    except Exception:  # a shape no Shēma wrote: say it was not checked, never crash
        return out, {"state"}
    return out + more, unknown
