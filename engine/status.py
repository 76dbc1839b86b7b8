"""`shema status`: is the database usable, and what is in it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from storage.database import Database
from storage.migrate import HEAD, current_revision, require_current
from storage.tables import org_versions, projects, scheme_versions
from workflow.errors import ShemaError


def status(db: Database) -> dict[str, Any]:
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
    return out
