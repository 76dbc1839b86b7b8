"""`shema status`: is the database usable, and what is in it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, func, select

from storage.database import Database
from storage.migrate import HEAD, current_revision, require_current
from storage.queries import NEXT_DUE
from storage.tables import job_runs, org_versions, outbox, projects, scheme_versions
from workflow.errors import ShemaError


def failed_messages(conn: Connection, limit: int = 10) -> list[dict[str, Any]]:
    """The newest messages that failed for good, with why (for `status` and the web)."""
    rows = conn.execute(
        select(outbox.c.id, outbox.c.recipient_id, outbox.c.subject, outbox.c.last_error)
        .where(outbox.c.status == "failed")
        .order_by(outbox.c.id.desc())
        .limit(limit)
    )
    return [
        {"id": r.id, "to": r.recipient_id, "subject": r.subject, "error": r.last_error}
        for r in rows
    ]


def status(db: Database, now: dt.datetime, mail: str = "") -> dict[str, Any]:
    """Health facts; never raises for a database that is merely empty or behind."""
    out: dict[str, Any] = {"database": db.safe_url}
    if db.missing_file:
        return {**out, "initialised": False, "problem": "no database file: run `shema init`"}
    try:
        revision = current_revision(db)
    except ShemaError as exc:
        return {**out, "initialised": False, "problem": str(exc)}
    out.update(revision=revision, expected_revision=HEAD, initialised=revision == HEAD)
    if revision != HEAD:
        try:
            require_current(db)
        except ShemaError as exc:
            out["problem"] = str(exc)
        return out
    with db.read() as conn:
        out["schemes"] = [
            f"{r.name} v{r.version}"
            for r in conn.execute(
                select(
                    scheme_versions.c.name, func.max(scheme_versions.c.version).label("version")
                ).group_by(scheme_versions.c.name)
            )
        ]
        out["organisation_version"] = conn.execute(select(func.max(org_versions.c.id))).scalar()
        out["projects"] = conn.execute(select(func.count()).select_from(projects)).scalar_one()
        out["handoffs_waiting"] = conn.execute(
            select(func.count()).select_from(projects).where(projects.c.handoff_since.is_not(None))
        ).scalar_one()
        due = NEXT_DUE.subquery()
        out["overdue"] = conn.execute(
            select(func.count()).select_from(due).where(due.c.due_at < now)
        ).scalar_one()
        last = conn.execute(select(job_runs).where(job_runs.c.name == "sweep")).first()
        out["last_sweep"] = last.finished_at.isoformat() if last and last.finished_at else None
        out["last_sweep_result"] = last.result if last else None
        counts: dict[str, int] = {
            st: n
            for st, n in conn.execute(
                select(outbox.c.status, func.count()).group_by(outbox.c.status)
            )
        }
        out["failed_messages"] = failed_messages(conn)
    out["outbox_pending"] = counts.get("pending", 0) + counts.get("sending", 0)
    out["outbox_failed"] = counts.get("failed", 0)
    out["outbox_sent"] = counts.get("sent", 0)
    out["outbox_in_digests"] = counts.get("digest", 0)
    out["mail"] = mail
    return out
