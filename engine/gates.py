"""The built-in gates a scheme action may require of a project's own data: an assessed
risk register, a computed cost-benefit analysis."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection

from storage import planning as stored
from workflow.scheme import Gate

GATE_MESSAGES: dict[str, str] = {
    "risk_register": "the risk register has no assessed risk (one with likelihood and impact "
    "rated)",
    "cost_benefit": "no cost-benefit analysis has been computed",
}


def unmet_gates(conn: Connection, project_id: int, gates: Sequence[Gate]) -> list[Gate]:
    """The gates the project's data does not meet yet, in the order given."""
    met = {"risk_register": stored.has_assessed_risk, "cost_benefit": stored.has_cba_flows}
    return [gate for gate in gates if not met[gate](conn, project_id)]


def missing_gates(conn: Connection, project_id: int, gates: Sequence[Gate]) -> list[str]:
    """What the project's own data still lacks for `gates`, one sentence per unmet gate
    (empty when all are met). Runs in the caller's transaction."""
    return [GATE_MESSAGES[gate] for gate in unmet_gates(conn, project_id, gates)]
