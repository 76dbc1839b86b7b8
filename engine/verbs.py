"""The verbs that change a project, once for every front end: their names, the Engine
method each calls and its parameters. The CLI builds a command per verb from this table,
the web a form endpoint; both call `perform`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from workflow.errors import UsageError

if TYPE_CHECKING:
    from engine.service import Engine
    from engine.work import Outcome


@dataclass(frozen=True)
class Param:
    """One parameter of a verb: the keyword of its Engine method, and how it is given:
    `argument` (a CLI argument, a required form field), `required` / `optional` (a CLI
    option, a form field), `flag` (a CLI flag, a form field other than "0"), `many` (a
    repeatable CLI option)."""

    name: str
    kind: Literal["argument", "required", "optional", "flag", "many"]
    help: str = ""
    cli: str | None = None  # the CLI's name for it, when not `name`
    # A flag given as the opposite of the parameter (`--uncheck` for checked=False).
    negated: bool = False


@dataclass(frozen=True)
class Verb:
    name: str  # the CLI command and the web form
    method: str  # the Engine method
    help: str
    params: tuple[Param, ...] = ()
    web: bool = True  # offered as a form on the project page


_REFS = Param(
    "refs", "many", "A document reference (registration number or URL); repeatable.", cli="ref"
)
VERBS: dict[str, Verb] = {
    v.name: v
    for v in (
        Verb(
            "advance",
            "advance",
            "Move the project on by ACTION.",
            (Param("action", "argument"), Param("comment", "optional"), _REFS),
        ),
        Verb("ack", "acknowledge", "Acknowledge a handoff to my side."),
        Verb(
            "check",
            "check",
            "Tick (or --uncheck) a checklist item.",
            (Param("item", "argument"), Param("checked", "flag", cli="uncheck", negated=True)),
        ),
        Verb("assign", "assign", "Make PERSON responsible.", (Param("person", "argument"),)),
        Verb(
            "comment", "comment", "Add a comment.", (Param("body", "argument", cli="text"), _REFS)
        ),
        Verb(
            "hold",
            "hold",
            "Pause the project (waiting for an external body).",
            (Param("reason", "required"),),
        ),
        Verb("resume", "resume", "End a hold."),
        Verb(
            "force",
            "force",
            "Move the project to STAGE (coordinators only, with a reason).",
            (Param("stage", "argument"), Param("reason", "required")),
            web=False,
        ),
    )
}


def perform(
    engine: Engine,
    name: str,
    code: str,
    values: Mapping[str, Any],
    *,
    actor: str | None,
    now: dt.datetime,
    expect_version: int | None,
) -> Outcome:
    """Take verb `name` on project `code` with the parameter `values` (by name)."""
    verb = VERBS.get(name)
    if verb is None:
        raise UsageError(f"no such verb {name[:40]!r}", code="verb.unknown", verb=name[:40])
    known = {p.name for p in verb.params}
    method = getattr(engine, verb.method)
    given = {k: v for k, v in values.items() if k in known}
    outcome: Outcome = method(code, **given, actor=actor, now=now, expect_version=expect_version)
    return outcome
