"""`shema audit verify`: walk every project's hash chain, and check the project row
against the end of its chain (version, stage), so an edited project row shows too."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import groupby
from typing import Any

from sqlalchemy import select

from engine.history import verify_chain
from engine.views import AuditReport
from storage.database import Database
from storage.tables import history, projects


def _broken(head: Any, pid: int, seq: int | None, reason: str) -> dict[str, Any]:
    return {
        "project": head.code if head else None,
        "project_id": pid,
        "event": seq,
        "reason": reason,
    }


def verify(db: Database) -> AuditReport:
    """Check every project; report the first problem of each broken one. Streams the
    history in project order, holding one project's events at a time."""
    broken: list[dict[str, Any]] = []
    events = 0
    with db.read() as conn:
        heads = {
            r.id: r
            for r in conn.execute(
                select(
                    projects.c.id,
                    projects.c.code,
                    projects.c.stage,
                    projects.c.version,
                    projects.c.head_seq,
                    projects.c.head_hash,
                )
            )
        }
        seen: set[int] = set()
        stream: Iterator[Any] = iter(
            conn.execution_options(yield_per=2000).execute(
                select(history).order_by(history.c.project_id, history.c.seq)
            )
        )
        for pid, group in groupby(stream, key=lambda r: r.project_id):
            chain = [dict(r._mapping) for r in group]
            events += len(chain)
            seen.add(pid)
            head = heads.get(pid)
            if head is None:
                broken.append(_broken(None, pid, None, "history of a project that does not exist"))
                continue
            problem = _check(head, chain)
            if problem:
                broken.append(_broken(head, pid, *problem))
        for pid in heads.keys() - seen:
            broken.append(_broken(heads[pid], pid, 1, "the project has no history at all"))
    return AuditReport(len(heads), events, broken)


def _check(head: Any, chain: list[dict[str, Any]]) -> tuple[int, str] | None:
    found = verify_chain(head.id, head.head_seq, head.head_hash, chain)
    if found is not None:
        return found.seq, found.reason
    last = chain[-1]
    if head.version != head.head_seq:
        return last["seq"], (
            f"the project row says version {head.version} but its history "
            f"has {head.head_seq} events (the row was changed)"
        )
    if last["to_stage"] != head.stage:
        return last["seq"], (
            f"the project row says stage {head.stage} but its history ends "
            f"in {last['to_stage']} (the row was changed)"
        )
    return None
