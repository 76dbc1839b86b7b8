"""`shema audit verify`: walk every project's hash chain."""

from __future__ import annotations

from sqlalchemy import select

from engine.history import verify_chain
from engine.views import AuditReport
from storage.database import Database
from storage.tables import history, projects


def verify(db: Database) -> AuditReport:
    """Check every project's chain; report the first broken event of each broken project."""
    broken = []
    count = events = 0
    with db.read() as conn:
        heads = {
            r.id: r
            for r in conn.execute(
                select(projects.c.id, projects.c.code, projects.c.head_seq, projects.c.head_hash)
            )
        }
        rows = conn.execute(select(history).order_by(history.c.project_id, history.c.seq))
        by_project: dict[int, list[dict[str, object]]] = {pid: [] for pid in heads}
        for r in rows:
            by_project.setdefault(r.project_id, []).append(dict(r._mapping))
            events += 1
    for pid, chain in by_project.items():
        count += 1
        head = heads.get(pid)
        if head is None:
            broken.append(
                {
                    "project": None,
                    "project_id": pid,
                    "event": None,
                    "reason": "history of a project that does not exist",
                }
            )
            continue
        found = verify_chain(pid, head.head_seq, head.head_hash, chain)
        if found is not None:
            broken.append(
                {
                    "project": head.code,
                    "project_id": pid,
                    "event": found.seq,
                    "reason": found.reason,
                }
            )
    return AuditReport(count, events, broken)
