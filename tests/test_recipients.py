"""The recipient rule (engine/notify/recipients.py), without a database: who receives a
handoff, a notice, a reminder or overdue notice and an escalation step, and why."""

from __future__ import annotations

from engine.notify import recipients
from engine.permissions import OrgIndex
from workflow.org import Organisation
from workflow.scheme import COORDINATOR, Level

LEVELS = {
    "specialist": Level.parish,
    "parish_head": Level.parish,
    "development_head": Level.central,
    "lawyer": Level.central,
    COORDINATOR: Level.central,
}


def person(name: str, *roles: tuple[str, str]) -> dict[str, object]:
    return {"name": name, "roles": [{"role": r, "unit": u} for r, u in roles]}


ORG = OrgIndex.build(
    1,
    Organisation.model_validate(
        {
            "municipality": {"name": "Novads", "code_prefix": "NOV", "root": "novads"},
            "units": {
                "novads": {"name": "Novads", "kind": "municipality"},
                "nodala": {"name": "Nodaļa", "kind": "department", "parent": "novads"},
                "parvalde": {"name": "Pārvalde", "kind": "administration", "parent": "novads"},
                "pagasts": {"name": "Pagasts", "kind": "parish", "parent": "parvalde"},
                "cits": {"name": "Cits", "kind": "parish", "parent": "novads"},
            },
            "people": {
                "koord": person("Koordinatore", (COORDINATOR, "nodala")),
                "liga": person("Līga", ("specialist", "pagasts")),
                "arnis": person("Arnis", ("parish_head", "parvalde")),
                "dace": person("Dace", ("development_head", "nodala")),
            },
        }
    ),
)


def test_a_parish_role_goes_to_its_holders_in_the_projects_unit() -> None:
    to = recipients.notified(ORG, "specialist", "pagasts", LEVELS)
    assert (to.people, to.role) == (["liga"], "specialist")
    assert to.why == "holders of specialist in the project's unit"


def test_without_holders_in_the_unit_the_nearest_unit_above_receives_it() -> None:
    to = recipients.escalation(ORG, "parish_head", "pagasts", LEVELS)
    assert to.people == ["arnis"]
    assert to.why == "holders of parish_head in parvalde, the nearest unit above"


def test_a_central_role_goes_to_its_holders_anywhere() -> None:
    to = recipients.escalation(ORG, "development_head", "cits", LEVELS)
    assert (to.people, to.why) == (["dace"], "holders of development_head")


def test_a_role_nobody_holds_falls_to_the_coordinators() -> None:
    to = recipients.notified(ORG, "lawyer", "pagasts", LEVELS)
    assert (to.people, to.why) == (["koord"], "nobody holds lawyer for pagasts: coordinators")
    assert recipients.notified(ORG, "specialist", "cits", LEVELS).people == ["koord"]


def test_a_handoff_goes_to_the_receiving_stages_owner_else_the_coordinators() -> None:
    assert recipients.handoff(ORG, "development_head", "pagasts", LEVELS).people == ["dace"]
    unowned = recipients.handoff(ORG, None, "pagasts", LEVELS)
    assert (unowned.people, unowned.role) == (["koord"], COORDINATOR)


def test_a_reminder_goes_to_the_responsible_person_first() -> None:
    to = recipients.reminder(
        ORG,
        owner="specialist",
        handoff_role=None,
        responsible="arnis",
        unit="pagasts",
        levels=LEVELS,
    )
    assert (to.people, to.why, to.role) == (["arnis"], "the responsible person", "specialist")


def test_a_reminder_without_a_known_responsible_person_goes_to_the_stage_owner() -> None:
    for responsible in (None, "erased.person"):
        to = recipients.reminder(
            ORG,
            owner="specialist",
            handoff_role=None,
            responsible=responsible,
            unit="pagasts",
            levels=LEVELS,
        )
        assert (to.people, to.role) == (["liga"], "specialist")
    unowned = recipients.reminder(
        ORG, owner=None, handoff_role=None, responsible=None, unit="pagasts", levels=LEVELS
    )
    assert (unowned.people, unowned.role) == (["koord"], COORDINATOR)


def test_a_handoffs_reminder_goes_to_its_receivers_not_the_responsible_person() -> None:
    to = recipients.reminder(
        ORG,
        owner="specialist",
        handoff_role="development_head",
        responsible="liga",
        unit="pagasts",
        levels=LEVELS,
    )
    assert (to.people, to.role) == (["dace"], "development_head")
