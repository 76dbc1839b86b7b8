"""`shema status`: is the database usable, and what is in it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection

from storage import jobs as stored_jobs
from storage import status as stored
from storage.database import Database
from storage.migrate import HEAD, current_revision, require_current
from storage.versions import latest_org_id
from workflow.errors import ShemaError


def failed_messages(conn: Connection, limit: int = 10) -> list[dict[str, Any]]:
    """The newest messages that failed for good, with why (for `status` and the web)."""
    return [
        {"id": m.id, "to": m.recipient_id, "subject": m.subject, "error": m.last_error}
        for m in stored.failed_messages(conn, limit)
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
        out["schemes"] = [f"{v.name} v{v.version}" for v in stored.newest_schemes(conn)]
        out["organisation_version"] = latest_org_id(conn)
        counts = stored.counts(conn, now)
        out["projects"] = counts.projects
        out["handoffs_waiting"] = counts.handoffs_waiting
        out["overdue"] = counts.overdue
        last = stored_jobs.last_run(conn, "sweep")
        out["last_sweep"] = last.finished_at.isoformat() if last and last.finished_at else None
        out["last_sweep_result"] = last.result if last else None
        by_status = stored.outbox_by_status(conn)
        out["failed_messages"] = failed_messages(conn)
    out["outbox_pending"] = by_status.get("pending", 0) + by_status.get("sending", 0)
    out["outbox_failed"] = by_status.get("failed", 0)
    out["outbox_sent"] = by_status.get("sent", 0)
    out["outbox_in_digests"] = by_status.get("digest", 0)
    out["mail"] = mail
    return out
