"""A project's planning data: its risk register and its cost-benefit analysis.

Functions run in the caller's transaction; none commits.
"""

from __future__ import annotations

from sqlalchemy import Connection, and_, bindparam, func, or_, select

from storage.tables import cba_years, risks

_ASSESSED_RISKS = (
    select(func.count())
    .select_from(risks)
    .where(
        and_(
            risks.c.project_id == bindparam("pid"),
            risks.c.likelihood.is_not(None),
            risks.c.impact.is_not(None),
        )
    )
)
_CBA_YEARS_WITH_FLOWS = (
    select(func.count())
    .select_from(cba_years)
    .where(
        and_(
            cba_years.c.project_id == bindparam("pid"),
            or_(cba_years.c.cost > 0, cba_years.c.benefit > 0),
        )
    )
)


def has_assessed_risk(conn: Connection, project_id: int) -> bool:
    """Whether the project has a risk with both likelihood and impact rated."""
    return bool(conn.execute(_ASSESSED_RISKS, {"pid": project_id}).scalar_one() > 0)


def has_cba_flows(conn: Connection, project_id: int) -> bool:
    """Whether the project's cost-benefit analysis has a year with a cost or a benefit."""
    return bool(conn.execute(_CBA_YEARS_WITH_FLOWS, {"pid": project_id}).scalar_one() > 0)
