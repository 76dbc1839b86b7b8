"""The template projects of the growth benchmark, walked through the real engine.

Each function takes one project through the shipped scheme (schemes/unified.yaml) the
way the Ogre staff would, with the engine's own API, so every event, deadline, timer,
handoff and message is what Shēma writes. bench/archive.py then copies these templates
in bulk. `TERMINAL` are the archive's lives (ending in completed, rejected or withdrawn);
`ACTIVE` are running projects, dated relative to the anchor (the build's "now").
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal

from sqlalchemy import text

from engine import planning
from engine.service import Engine
from workflow.cba import YearFlow

MANAGER = "janis.ozols"
DEV_HEAD = "dace.liepina"
FIN_HEAD = "sandra.jansone"
BUYER = "gunta.eglite"
COORDINATOR = "ilze.kalnina"
DAY = dt.timedelta(days=1)


class Walk:
    """One project moving through the scheme, its clock advancing with each step."""

    def __init__(self, engine: Engine, maker: str, unit: str, at: dt.datetime, title: str):
        self.engine, self.maker, self.at = engine, maker, at
        end = at + 500 * DAY
        dates = {"call_deadline": (at + 200 * DAY).date(), "implementation_end": end.date()}
        self.code = engine.create_project(
            title=title, unit=unit, actor=maker, now=at, dates=dates
        ).code

    def later(self, days: float) -> dt.datetime:
        self.at += dt.timedelta(days=days)
        return self.at

    def tick(self, who: str, *items: str, days: float = 1) -> Walk:
        for item in items:
            self.engine.check(self.code, item, actor=who, now=self.later(days / len(items)))
        return self

    def go(self, who: str, action: str, comment: str | None = None, days: float = 1) -> Walk:
        self.engine.advance(self.code, action, actor=who, now=self.later(days), comment=comment)
        return self

    def ack(self, days: float = 1) -> Walk:
        """The first receiver of the pending handoff takes the project over."""
        with self.engine.db.read() as conn:
            data = conn.execute(
                text(
                    "SELECT h.data FROM history h JOIN projects p ON p.id = h.project_id "
                    "WHERE p.code = :c ORDER BY h.seq DESC LIMIT 1"
                ),
                {"c": self.code},
            ).scalar_one()
        receivers = json.loads(data)["handoff"]["receivers"]
        who = MANAGER if MANAGER in receivers else receivers[0]
        self.engine.acknowledge(self.code, actor=who, now=self.later(days))
        self.ack_by = who
        return self

    def submit(self, days: float = 2) -> Walk:
        self.tick(self.maker, "problem_statement", "estimated_cost", days=days)
        return self.go(self.maker, "submit_idea").ack()


def to_application(w: Walk) -> Walk:
    w.submit().tick(MANAGER, "programme_fit", "funding_instrument", days=6)
    w.go(MANAGER, "propose_for_plan").tick(DEV_HEAD, "plan_entry", "plan_council_decision", days=9)
    return w.go(DEV_HEAD, "include_in_plan", days=3)


def to_evaluation(w: Walk) -> Walk:
    to_application(w)
    w.tick(MANAGER, "budget", "risk_assessment", "legal_review", "parish_confirmation", days=12)
    planning.add_risk(
        w.engine,
        w.code,
        title="Izmaksas pārsniedz tāmi",
        likelihood=3,
        impact=4,
        owner=MANAGER,
        mitigation="10 % rezerve budžetā",
        actor=MANAGER,
        now=w.later(1),
    )
    flows = [YearFlow(2020, Decimal("90000"), Decimal("0"))]
    flows += [YearFlow(y, Decimal("1000"), Decimal("12000")) for y in range(2021, 2036)]
    planning.set_cba(w.engine, w.code, flows, actor=MANAGER, now=w.later(1))
    w.tick(MANAGER, "cost_benefit_analysis").go(MANAGER, "request_cofinancing")
    w.tick(FIN_HEAD, "finance_committee_opinion", "cofinancing_council_decision", days=10)
    w.go(FIN_HEAD, "approve_cofinancing").tick(MANAGER, "final_review", "submitted_in_system")
    return w.go(MANAGER, "submit_application")


def to_implementation(w: Walk) -> Walk:
    to_evaluation(w).tick(MANAGER, "approval_decision", days=40).go(MANAGER, "record_approval")
    w.tick(MANAGER, "contract_legal_review", "contract_signed", days=15)
    w.go(MANAGER, "sign_contract").tick(BUYER, "tender_documents", "procurement_contracts", days=30)
    return w.go(BUYER, "complete_procurement")


def completed(w: Walk) -> Walk:
    to_implementation(w).go(MANAGER, "request_payment", days=200)
    items = ("expenditure_documents", "accounting_check", "payment_request_submitted")
    w.tick(MANAGER, *items, "implementation_finished", days=7)
    w.go(MANAGER, "submit_final_payment_request")
    w.tick(MANAGER, "final_report_approved", "final_payment_received", "asset_handover", days=20)
    w.go(MANAGER, "hand_over_to_monitoring").ack()
    w.tick(MANAGER, "monitoring_period_ended", "durability_confirmed", days=30)
    return w.go(MANAGER, "complete")


def imported(w: Walk) -> Walk:
    """An old project entered for the record and closed at once by the coordinator."""
    w.engine.force(
        w.code,
        "completed",
        reason="Pabeigts pirms Shēmas ieviešanas (arhīva ieraksts)",
        actor=COORDINATOR,
        now=w.later(1),
    )
    return w


def withdrawn_idea(w: Walk) -> Walk:
    w.tick(w.maker, "problem_statement", days=3)
    return w.go(DEV_HEAD, "withdraw", "Vajadzība atkrita: darbus veic uzturēšanas budžetā")


def rejected_idea(w: Walk) -> Walk:
    w.submit()
    return w.go(MANAGER, "reject_idea", "Neatbilst attīstības programmai", days=5)


def returned_withdrawn(w: Walk) -> Walk:
    w.submit().go(MANAGER, "return_idea", "Lūdzu precizēt izmaksas", days=4).ack()
    return w.go(DEV_HEAD, "withdraw", "Pārvalde ideju atsauca", days=10)


def not_in_plan(w: Walk) -> Walk:
    w.submit().tick(MANAGER, "programme_fit", "funding_instrument", days=6)
    w.go(MANAGER, "propose_for_plan")
    return w.go(DEV_HEAD, "reject_plan_inclusion", "Dome neiekļāva investīciju plānā", days=20)


# -- running projects: (days before the anchor it was created, walk) ---------------------


def idea_fresh(w: Walk) -> Walk:
    return w.tick(w.maker, "problem_statement", days=0.02)


def waiting_handoff(w: Walk) -> Walk:
    w.tick(w.maker, "problem_statement", "estimated_cost", days=0.5)
    return w.go(w.maker, "submit_idea", days=0.3)


def pre_assessment(w: Walk) -> Walk:
    return w.submit().tick(MANAGER, "programme_fit", days=1)


def plan_waiting(w: Walk) -> Walk:
    w.submit().tick(MANAGER, "programme_fit", "funding_instrument", days=2)
    w.go(MANAGER, "propose_for_plan").tick(DEV_HEAD, "plan_entry", "plan_council_decision")
    return w


def application_late(w: Walk) -> Walk:
    return to_application(w).tick(MANAGER, "budget", days=2)


def evaluation_hold(w: Walk) -> Walk:
    to_evaluation(w)
    w.engine.hold(w.code, reason="Gaida CFLA precizējumus", actor=MANAGER, now=w.later(5))
    return w


def implementing(w: Walk) -> Walk:
    return to_implementation(w).tick(MANAGER, "publicity", days=10)


WalkFn = Callable[[Walk], Walk]

# name → (walk, relative weight among the archive's projects)
TERMINAL: dict[str, tuple[WalkFn, float]] = {
    "imported": (imported, 0.33),
    "withdrawn_idea": (withdrawn_idea, 0.25),
    "rejected_idea": (rejected_idea, 0.20),
    "returned_withdrawn": (returned_withdrawn, 0.07),
    "not_in_plan": (not_in_plan, 0.06),
    "completed": (completed, 0.025),
}

# name → (walk, days before the anchor it starts, asks the busy manager, weight)
ACTIVE: dict[str, tuple[WalkFn, float, bool, float]] = {
    "waiting_handoff": (waiting_handoff, 1.0, True, 20),
    "pre_assessment": (pre_assessment, 8, True, 30),
    "application_late": (application_late, 90, True, 15),
    "evaluation_hold": (evaluation_hold, 150, True, 10),
    "implementing": (implementing, 230, True, 25),
    "idea_fresh": (idea_fresh, 0.05, False, 5),
    "idea_overdue": (idea_fresh, 30, False, 2),
    "plan_waiting": (plan_waiting, 20, False, 3),
}
DUE = "idea_due"  # parish ideas whose reminder falls due just after the anchor
