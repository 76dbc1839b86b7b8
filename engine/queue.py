"""What a project asks of one person now: the rule behind "Mani darbi" and
`shema project list --mine`.

A project waits for a person when they can do something on it now:
- acknowledge its handoff (their role owns the receiving stage, or they receive it);
- resume it, while it is on hold and they work on its stage;
- take an action from its stage that their roles in the project's unit allow — asked
  ("decide") when they work on the stage (its owner or participant, or the person
  responsible), offered ("may_decide") when they do not: a parish head may withdraw
  any of the parish's projects, but that is not work waiting for them;
- tick its checklist, as the stage's owner or participant or the person responsible;
- answer an escalation addressed to them whose deadline still runs.

The rule mirrors the engine's refusals (engine/lifecycle.py): during a handoff or a hold
nothing else is possible, so nothing else is asked; tests/test_queue.py compares it with
what the engine accepts, for every person and every demo project.
"""

from __future__ import annotations

from engine.machines import CompiledScheme
from engine.notify import recipients
from engine.permissions import OrgIndex
from engine.views import Ask
from storage.projects import ProjectRecord

# The order of what is asked, most pressing first: taking over, unblocking, deciding.
KINDS = ("acknowledge", "escalation", "resume", "decide", "checklist", "may_decide")


def asks(
    row: ProjectRecord,
    cs: CompiledScheme,
    org: OrgIndex,
    person: str,
    roles: frozenset[str],
    *,
    ticked: set[str],
    escalated: bool,
    lang: str,
) -> list[Ask]:
    """What the project asks of `person` (acting there with `roles`), most pressing first;
    empty when nothing waits for them."""
    scheme = cs.scheme
    stage = scheme.stages[row.stage]
    out: list[Ask] = []
    if escalated:
        out.append(Ask("escalation"))
    if stage.terminal:
        return out
    works_on = row.responsible_id == person or bool(roles & {stage.owner, *stage.participants})
    if row.handoff_since is not None:
        receivers = recipients.handoff(org, stage.owner, row.unit_id, cs.levels).people
        if stage.owner in roles or person in receivers:
            out.insert(0, Ask("acknowledge"))
        return out
    if row.hold_since is not None:
        if works_on:
            out.append(Ask("resume"))
        return out
    offered: list[Ask] = []
    for name in cs.actions_from[row.stage]:
        if roles.intersection(scheme.actions[name].by):
            ask = Ask("decide" if works_on else "may_decide", name, scheme.action_title(name, lang))
            (out if works_on else offered).append(ask)
    unticked = [i for i in stage.checklist if i not in ticked]
    if unticked and works_on:
        out.append(Ask("checklist", count=len(unticked)))
    return out + offered
