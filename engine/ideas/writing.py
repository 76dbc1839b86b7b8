"""Writing the notebook: adding and editing ideas.

An idea is written by the people who act for its unit (its parish staff, central staff)
and by its proposer. Each write is one transaction and checks the idea's version, so an
expected version works as it does for projects.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection

from engine.ideas.reading import load_idea, reader
from engine.ideas.views import IdeaView, fields_of, parse_ref, view_of
from engine.permissions import OrgIndex
from engine.service import Engine
from storage import ideas as stored
from storage.ideas import IdeaColumns, IdeaRecord
from workflow import instruments as catalogue
from workflow.errors import Conflict, NotAllowed, NotFound, UsageError
from workflow.ideas import (
    IdeaFields,
    IdeaStatus,
    PartnerKind,
    Priority,
    status_change_problem,
    validate_fields,
)
from workflow.money import EUR

EDITABLE = (
    "title",
    "description",
    "unit",
    "proposer",
    "municipalities",
    "organisations",
    "instruments",
    "cost",
    "currency",
    "priority",
    "tags",
    "status",
)


def require_writer(
    engine: Engine,
    conn: Connection,
    org: OrgIndex,
    person: str,
    unit: str,
    what: str,
    *,
    code: str,
    idea: int | None = None,
) -> None:
    """Refuse `what` (refusal `code`) unless `person` acts for `unit`, by the role levels of
    the loaded schemes."""
    key, levels = engine.role_levels(conn)
    if not org.acting_roles(person, unit, levels, key):
        raise NotAllowed(
            f"{person} may not {what}: none of their roles covers unit {unit}",
            code=code,
            actor=person,
            unit=unit,
            idea=idea,
        )


def check_version(record: IdeaRecord, expect_version: int | None, person: str) -> None:
    """Conflict when `expect_version` is given and the idea is at another version."""
    if expect_version is not None and expect_version != record.version:
        raise Conflict(
            f"idea #{record.id} changed since you looked: it is at version {record.version}, "
            f"you expected {expect_version}",
            code="idea.stale",
            idea=record.id,
            actor=person,
            version=record.version,
            expected=expect_version,
        )


def raced(idea_id: int) -> Conflict:
    """The refusal when the idea moved on between reading and writing it."""
    return Conflict(
        f"idea #{idea_id} was changed by someone else meanwhile", code="idea.raced", idea=idea_id
    )


def _check_refs(org: OrgIndex, f: IdeaFields) -> None:
    if f.unit not in org.org.units:
        raise NotFound(f"no unit {f.unit!r}", code="idea.unknown_unit", unit=f.unit)
    if f.proposer not in org.org.people:
        raise NotFound(
            f"no person {f.proposer!r} in the organisation",
            code="idea.unknown_proposer",
            actor=f.proposer,
        )
    unknown = catalogue.unknown(list(f.instruments), org.org)
    if unknown:
        known = list(catalogue.catalogue(org.org))
        raise UsageError(
            f"unknown funding instrument {', '.join(unknown)} (known: {', '.join(known)}; "
            "add others under funding_instruments in the organisation file)",
            code="idea.unknown_instrument",
            instruments=unknown,
            known=known,
        )


def _columns(f: IdeaFields) -> IdeaColumns:
    return IdeaColumns(
        title=f.title,
        description=f.description,
        unit_id=f.unit,
        proposer_id=f.proposer,
        partners=[p.model_dump(mode="json") for p in f.partners],
        instruments=list(f.instruments),
        tags=list(f.tags),
        cost_amount=f.cost,
        cost_currency=f.currency,
        priority=f.priority.value,
        status=f.status.value,
    )


def _partners(municipalities: Sequence[str], organisations: Sequence[str]) -> list[dict[str, str]]:
    return [{"name": n, "kind": "municipality"} for n in municipalities] + [
        {"name": n, "kind": "organisation"} for n in organisations
    ]


def create_idea(
    engine: Engine,
    *,
    title: str,
    unit: str,
    actor: str | None,
    now: dt.datetime,
    description: str = "",
    proposer: str | None = None,
    municipalities: Sequence[str] = (),
    organisations: Sequence[str] = (),
    instruments: Sequence[str] = (),
    cost: Decimal | None = None,
    currency: str = EUR,
    priority: str = Priority.medium.value,
    tags: Sequence[str] = (),
    status: str = IdeaStatus.draft.value,
    lang: str = "lv",
) -> IdeaView:
    """A new idea in the notebook, proposed by `proposer` (default: the actor), who must
    act for `unit`. It starts as a draft unless another status (not promoted) is given."""
    with engine.db.write() as conn:
        org, person = reader(engine, conn, actor)
        f = validate_fields(
            {
                "title": title,
                "description": description,
                "unit": unit,
                "proposer": proposer or person,
                "partners": _partners(municipalities, organisations),
                "instruments": list(instruments),
                "cost": cost,
                "currency": currency,
                "priority": priority,
                "tags": list(tags),
                "status": status,
            }
        )
        if f.status == IdeaStatus.promoted:
            # The command is named here too: the sentence is part of the tested contract.
            raise UsageError(
                "an idea becomes promoted only by `shema idea promote`",
                code="idea.created_promoted",
            )
        _check_refs(org, f)
        what = f"add an idea for {f.unit}"
        require_writer(engine, conn, org, person, f.unit, what, code="idea.may_not_add")
        idea_id = stored.insert(conn, _columns(f), at=now, by=person)
        return view_of(load_idea(conn, idea_id), org, lang)


def _requested(changes: dict[str, Any]) -> dict[str, Any]:
    """A copy of `changes`, refused when it names no field or one an idea has not."""
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise UsageError(
            f"an idea has no field {', '.join(unknown)}", code="idea.unknown_field", fields=unknown
        )
    if not changes:
        raise UsageError("say what to change", code="idea.nothing_to_change")
    return dict(changes)


def _refuse_promoted(record: IdeaRecord, person: str) -> None:
    project = record.project_code
    raise NotAllowed(
        f"{person} may not edit idea #{record.id}: it was promoted into "
        f"{project or 'a project'}; change the project instead",
        code="idea.promoted" if project else "idea.promoted_unlinked",
        actor=person,
        idea=record.id,
        project=project,
    )


def _merged(old: IdeaFields, changes: dict[str, Any]) -> IdeaFields:
    """`old` with `changes` applied (partners replaced per kind), validated."""
    data = old.model_dump(mode="python")
    towns = changes.pop("municipalities", None)
    orgs = changes.pop("organisations", None)
    if towns is not None or orgs is not None:
        data["partners"] = _partners(
            old.partner_names(PartnerKind.municipality) if towns is None else towns,
            old.partner_names(PartnerKind.organisation) if orgs is None else orgs,
        )
    data.update(changes)
    return validate_fields(data)


def edit_idea(
    engine: Engine,
    ref: str | int,
    changes: dict[str, Any],
    *,
    actor: str | None,
    now: dt.datetime,
    expect_version: int | None = None,
    lang: str = "lv",
) -> IdeaView:
    """Change some fields of an idea (lists are replaced as a whole, ``municipalities``
    and ``organisations`` each replacing those partners). The actor must act for the idea's unit
    (and for the new unit when it moves) or be its proposer. A promoted idea is history:
    change its project instead."""
    idea_id = parse_ref(ref)
    changes = _requested(changes)
    with engine.db.write() as conn:
        org, person = reader(engine, conn, actor)
        record = load_idea(conn, idea_id)
        check_version(record, expect_version, person)
        old = fields_of(record)
        # A promotion interrupted before promotions became one transaction left a
        # promoted idea with no project; a coordinator may set its status back.
        repair = (
            old.status == IdeaStatus.promoted
            and record.project_code is None
            and org.is_coordinator(person)
            and set(changes) == {"status"}
        )
        if old.status == IdeaStatus.promoted and not repair:
            _refuse_promoted(record, person)
        if person != old.proposer:
            what = f"edit idea #{idea_id}"
            require_writer(
                engine, conn, org, person, old.unit, what, code="idea.may_not_edit", idea=idea_id
            )
        new = _merged(old, changes)
        problem = None if repair else status_change_problem(old.status, new.status)
        if problem:
            raise NotAllowed(
                f"{person} may not edit idea #{idea_id}: {problem}",
                code="idea.status_promoted",
                actor=person,
                idea=idea_id,
            )
        _check_refs(org, new)
        if new.unit != old.unit:
            what = f"move idea #{idea_id}"
            require_writer(
                engine, conn, org, person, new.unit, what, code="idea.may_not_move", idea=idea_id
            )
        if new == old:
            raise UsageError(
                f"idea #{idea_id} already is like that; nothing changed",
                code="idea.unchanged",
                idea=idea_id,
            )
        if not stored.replace(conn, idea_id, record.version, _columns(new), at=now, by=person):
            raise raced(idea_id)
        return view_of(load_idea(conn, idea_id), org, lang)
