"""The ideas notebook over the database: create, edit, list and search, promote into a
project, and export as Markdown or CSV.

The notebook is shared: everyone in the organisation may read it, so parishes see what
their neighbours plan. An idea is written by the people who act for its unit (its parish
staff, central staff) and by its proposer. Each write is one transaction and checks the
idea's version, so ``--expect-version`` works as it does for projects.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Row, func, select, update

from engine.history import dumps
from engine.permissions import OrgIndex
from engine.service import Change, Engine, Outcome
from engine.work import person as person_of
from engine.views import _View
from storage import queries as q
from storage.tables import ideas, projects
from workflow import domains
from workflow import instruments as catalogue
from workflow.errors import Conflict, NotAllowed, NotFound, UsageError
from workflow.ideas import (
    PRIORITY_RANK,
    PRIORITY_TITLES,
    PROMOTABLE,
    STATUS_TITLES,
    IdeaFields,
    IdeaStatus,
    PartnerKind,
    Priority,
    matches,
    status_change_problem,
    validate_fields,
)
from workflow.labels import text
from workflow.money import EUR, Money

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


@dataclass(frozen=True)
class IdeaView(_View):
    """One idea as the notebook shows it (labels in the requested language)."""

    id: int
    title: str
    description: str
    unit: str
    unit_name: str
    proposer: str
    proposer_name: str
    municipalities: list[str]
    organisations: list[str]
    instruments: list[str]
    instrument_titles: list[str]
    cost: Decimal | None
    currency: str
    cost_eur: Decimal | None
    priority: str
    priority_title: str
    tags: list[str]
    status: str
    status_title: str
    project: str | None
    version: int
    created_at: dt.datetime
    created_by: str | None
    updated_at: dt.datetime
    updated_by: str | None


@dataclass(frozen=True)
class Promotion(_View):
    """An idea promoted into a project: both sides, as they are after the link."""

    idea: IdeaView
    project: str
    project_version: int
    stage: str


# -- reading ----------------------------------------------------------------------------

_SELECT = select(ideas, projects.c.code.label("project_code")).outerjoin(
    projects, projects.c.idea_id == ideas.c.id
)


def _fields(row: Row[Any]) -> IdeaFields:
    return IdeaFields.model_validate(
        {
            "title": row.title,
            "description": row.description,
            "unit": row.unit_id,
            "proposer": row.proposer_id,
            "partners": json.loads(row.partners),
            "instruments": json.loads(row.instruments),
            "cost": None if row.cost_amount is None else Decimal(row.cost_amount),
            "currency": row.cost_currency,
            "priority": row.priority,
            "tags": json.loads(row.tags),
            "status": row.status,
        }
    )


def _view(row: Row[Any], org: OrgIndex, lang: str) -> IdeaView:
    f = _fields(row)
    unit = org.org.units.get(f.unit)
    person = org.org.people.get(f.proposer)
    cost_eur = None
    if f.cost is not None and f.currency in (EUR, "LVL"):
        cost_eur = Money(f.cost, f.currency).to_eur().amount
    return IdeaView(
        id=row.id,
        title=f.title,
        description=f.description,
        unit=f.unit,
        unit_name=text(unit.name if unit else None, lang, f.unit),
        proposer=f.proposer,
        proposer_name=person.name if person else f.proposer,
        municipalities=f.partner_names(PartnerKind.municipality),
        organisations=f.partner_names(PartnerKind.organisation),
        instruments=list(f.instruments),
        instrument_titles=[catalogue.title(i, org.org, lang) for i in f.instruments],
        cost=f.cost,
        currency=f.currency,
        cost_eur=cost_eur,
        priority=f.priority.value,
        priority_title=PRIORITY_TITLES[f.priority][lang],
        tags=list(f.tags),
        status=f.status.value,
        status_title=STATUS_TITLES[f.status][lang],
        project=row.project_code,
        version=row.version,
        created_at=row.created_at,
        created_by=row.created_by,
        updated_at=row.updated_at,
        updated_by=row.updated_by,
    )


def parse_ref(ref: str | int) -> int:
    """An idea's number from ``12``, ``#12`` or ``I-12``; UsageError otherwise."""
    raw = str(ref).strip().lstrip("#")
    if raw[:2].upper() == "I-":
        raw = raw[2:]
    if not raw.isdigit() or len(raw) > 12:
        raise UsageError(f"{str(ref)[:40]!r} is not an idea number (e.g. 12)")
    return domains.number("idea", int(raw))


def _row(conn: Connection, idea_id: int) -> Row[Any]:
    row = conn.execute(_SELECT.where(ideas.c.id == idea_id)).first()
    if row is None:
        raise NotFound(f"no idea #{idea_id}", idea=idea_id)
    return row


def _reader(engine: Engine, conn: Connection, actor: str | None) -> tuple[OrgIndex, str]:
    org = engine.org_index(conn)
    return org, person_of(org, actor)


def get_idea(engine: Engine, ref: str | int, *, actor: str | None, lang: str = "lv") -> IdeaView:
    """One idea; everyone in the organisation may read the notebook."""
    with engine.db.read() as conn:
        org, _ = _reader(engine, conn, actor)
        return _view(_row(conn, parse_ref(ref)), org, lang)


def list_ideas(
    engine: Engine,
    *,
    actor: str | None,
    status: Sequence[str] = (),
    unit: str | None = None,
    instrument: str | None = None,
    tag: str | None = None,
    priority: str | None = None,
    search: str | None = None,
    include_archived: bool = False,
    lang: str = "lv",
) -> list[IdeaView]:
    """Ideas matching every filter given, highest priority first, then oldest first.
    Without `status`, archived ideas are left out unless `include_archived`. `unit` takes
    its sub-units too; `search` matches every word in the title, description, partners
    and tags, ignoring case and diacritics."""
    for s in status:
        if s not in IdeaStatus.__members__:
            raise UsageError(f"no idea status {s!r} (one of {', '.join(IdeaStatus)})")
    if priority is not None and priority not in Priority.__members__:
        raise UsageError(f"no priority {priority!r} (one of {', '.join(Priority)})")
    with engine.db.read() as conn:
        org, _ = _reader(engine, conn, actor)
        stmt = _SELECT.order_by(ideas.c.id)
        if status:
            stmt = stmt.where(ideas.c.status.in_(list(status)))
        elif not include_archived:
            stmt = stmt.where(ideas.c.status != IdeaStatus.archived.value)
        if unit is not None:
            if unit not in org.org.units:
                raise NotFound(f"no unit {unit!r}", unit=unit)
            stmt = stmt.where(ideas.c.unit_id.in_(org.subtree(unit)))
        if priority is not None:
            stmt = stmt.where(ideas.c.priority == priority)
        # The JSON lists are stored compact, so a quoted value is an exact element match.
        if instrument is not None:
            stmt = stmt.where(ideas.c.instruments.contains(dumps(instrument), autoescape=True))
        if tag is not None:
            wanted = tag.strip().lstrip("#").lower()
            stmt = stmt.where(ideas.c.tags.contains(dumps(wanted), autoescape=True))
        views = [_view(r, org, lang) for r in conn.execute(stmt)]
    if search:
        views = [
            v
            for v in views
            if matches(
                search,
                v.title,
                v.description,
                *v.municipalities,
                *v.organisations,
                *v.tags,
                v.unit_name,
            )
        ]
    return sorted(views, key=lambda v: (PRIORITY_RANK[Priority(v.priority)], v.id))


# -- writing ----------------------------------------------------------------------------


def _require_writer(
    engine: Engine, conn: Connection, org: OrgIndex, person: str, unit: str, what: str
) -> None:
    """Refuse unless `person` acts for `unit` (by the role levels of the loaded schemes)."""
    key, levels = engine.role_levels(conn)
    if not org.acting_roles(person, unit, levels, key):
        raise NotAllowed(
            f"{person} may not {what}: none of their roles covers unit {unit}",
            actor=person,
            unit=unit,
        )


def _check_refs(org: OrgIndex, f: IdeaFields) -> None:
    if f.unit not in org.org.units:
        raise NotFound(f"no unit {f.unit!r}", unit=f.unit)
    if f.proposer not in org.org.people:
        raise NotFound(f"no person {f.proposer!r} in the organisation", actor=f.proposer)
    unknown = catalogue.unknown(list(f.instruments), org.org)
    if unknown:
        known = ", ".join(catalogue.catalogue(org.org))
        raise UsageError(
            f"unknown funding instrument {', '.join(unknown)} (known: {known}; add others "
            "under funding_instruments in the organisation file)"
        )


def _columns(f: IdeaFields) -> dict[str, Any]:
    return {
        "title": f.title,
        "description": f.description,
        "unit_id": f.unit,
        "proposer_id": f.proposer,
        "partners": dumps([p.model_dump(mode="json") for p in f.partners]),
        "instruments": dumps(list(f.instruments)),
        "tags": dumps(list(f.tags)),
        "cost_amount": f.cost,
        "cost_currency": f.currency,
        "priority": f.priority.value,
        "status": f.status.value,
    }


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
        org, person = _reader(engine, conn, actor)
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
            raise UsageError("an idea becomes promoted only by `shema idea promote`")
        _check_refs(org, f)
        _require_writer(engine, conn, org, person, f.unit, f"add an idea for {f.unit}")
        values = {
            **_columns(f),
            "version": 1,
            "created_at": now,
            "created_by": person,
            "updated_at": now,
            "updated_by": person,
        }
        idea_id = conn.execute(ideas.insert().values(values).returning(ideas.c.id)).scalar_one()
        return _view(_row(conn, idea_id), org, lang)


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
    changes = dict(changes)
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise UsageError(f"an idea has no field {', '.join(unknown)}")
    if not changes:
        raise UsageError("say what to change (e.g. --status agreed)")
    with engine.db.write() as conn:
        org, person = _reader(engine, conn, actor)
        row = _row(conn, idea_id)
        if expect_version is not None and expect_version != row.version:
            raise Conflict(
                f"idea #{idea_id} changed since you looked: it is at version {row.version}, "
                f"you expected {expect_version}",
                idea=idea_id,
                actor=person,
            )
        old = _fields(row)
        # An interrupted promotion (see promote_idea) leaves a promoted idea with no
        # project; a coordinator may set its status back.
        repair = (
            old.status == IdeaStatus.promoted
            and row.project_code is None
            and org.is_coordinator(person)
            and set(changes) == {"status"}
        )
        if old.status == IdeaStatus.promoted and not repair:
            raise NotAllowed(
                f"{person} may not edit idea #{idea_id}: it was promoted into "
                f"{row.project_code or 'a project'}; change the project instead",
                actor=person,
                idea=idea_id,
            )
        if person != old.proposer:
            _require_writer(engine, conn, org, person, old.unit, f"edit idea #{idea_id}")
        data = old.model_dump(mode="python")
        towns = changes.pop("municipalities", None)
        orgs = changes.pop("organisations", None)
        if towns is not None or orgs is not None:
            data["partners"] = _partners(
                old.partner_names(PartnerKind.municipality) if towns is None else towns,
                old.partner_names(PartnerKind.organisation) if orgs is None else orgs,
            )
        data.update(changes)
        new = validate_fields(data)
        problem = None if repair else status_change_problem(old.status, new.status)
        if problem:
            raise NotAllowed(f"{person} may not edit idea #{idea_id}: {problem}", actor=person)
        _check_refs(org, new)
        if new.unit != old.unit:
            _require_writer(engine, conn, org, person, new.unit, f"move idea #{idea_id}")
        if new == old:
            raise UsageError(f"idea #{idea_id} already is like that; nothing changed")
        values = {
            **_columns(new),
            "version": row.version + 1,
            "updated_at": now,
            "updated_by": person,
        }
        done = conn.execute(
            update(ideas)
            .where(ideas.c.id == idea_id, ideas.c.version == row.version)
            .values(values)
        )
        if done.rowcount != 1:
            raise Conflict(f"idea #{idea_id} was changed by someone else meanwhile", idea=idea_id)
        return _view(_row(conn, idea_id), org, lang)


def promote_idea(
    engine: Engine,
    ref: str | int,
    *,
    actor: str | None,
    now: dt.datetime,
    title: str | None = None,
    instrument: str | None = None,
    scheme: str | None = None,
    expect_version: int | None = None,
    lang: str = "lv",
) -> Promotion:
    """Make the idea a project in the initial stage of `scheme` (default: the only one
    loaded; with several, it must be named):
    same title (unless `title`), unit and partners, the first candidate instrument
    (unless `instrument`), the estimated cost as the budget (lats converted to euro). The
    idea becomes promoted and the project records the idea as an ``idea_linked`` event.

    Three transactions, because :meth:`Engine.create_project` opens its own and SQLite
    cannot nest them: (1) claim the idea (compare-and-set on its version to promoted), so
    two people cannot promote it twice; (2) create the project, releasing the claim if
    that is refused; (3) link the project to the idea as a project event. Only a crash
    between (2) and (3) leaves a promoted idea without a linked project; the project
    exists with the idea's title, and a coordinator can set the idea back to agreed."""
    idea_id = parse_ref(ref)
    with engine.db.write() as conn:
        org, person = _reader(engine, conn, actor)
        row = _row(conn, idea_id)
        f = _fields(row)
        if expect_version is not None and expect_version != row.version:
            raise Conflict(
                f"idea #{idea_id} changed since you looked: it is at version {row.version}, "
                f"you expected {expect_version}",
                idea=idea_id,
                actor=person,
            )
        if f.status not in PROMOTABLE:
            where = f" into {row.project_code}" if row.project_code else ""
            raise NotAllowed(
                f"{person} may not promote idea #{idea_id}: it is {f.status.value}{where}",
                actor=person,
                idea=idea_id,
            )
        _require_writer(engine, conn, org, person, f.unit, f"promote idea #{idea_id}")
        scheme = engine.scheme_for_new(conn, scheme).name  # refuses an ambiguous choice now
        chosen = instrument if instrument is not None else next(iter(f.instruments), None)
        if chosen is not None and catalogue.unknown([chosen], org.org):
            raise UsageError(f"unknown funding instrument {chosen!r}")
        claimed = conn.execute(
            update(ideas)
            .where(ideas.c.id == idea_id, ideas.c.version == row.version)
            .values(
                status=IdeaStatus.promoted.value,
                version=row.version + 1,
                updated_at=now,
                updated_by=person,
            )
        )
        if claimed.rowcount != 1:
            raise Conflict(f"idea #{idea_id} was changed by someone else meanwhile", idea=idea_id)
    budget, currency = f.cost, f.currency
    if budget is not None and currency == "LVL":
        budget, currency = Money(budget, currency).to_eur().amount, EUR
    try:
        created = engine.create_project(
            title=title or f.title,
            unit=f.unit,
            actor=person,
            now=now,
            scheme=scheme,
            budget=budget,
            currency=currency,
            funding_instrument=chosen,
            partners=f.partner_names(),
        )
    except BaseException:
        with engine.db.write() as conn:  # release the claim: the idea is as it was
            conn.execute(
                update(ideas)
                .where(ideas.c.id == idea_id, ideas.c.version == row.version + 1)
                .values(
                    status=f.status.value,
                    version=row.version + 2,
                    updated_at=row.updated_at,
                    updated_by=row.updated_by,
                )
            )
        raise
    linked = _link(engine, created.code, idea_id, f, person, now)
    return Promotion(
        idea=get_idea(engine, idea_id, actor=person, lang=lang),
        project=linked.code,
        project_version=linked.version,
        stage=linked.stage,
    )


def _link(
    engine: Engine, code: str, idea_id: int, f: IdeaFields, person: str, now: dt.datetime
) -> Outcome:
    """Record the idea on the project, as a project event (so version and history agree)."""
    change = Change(
        "idea_linked",
        {"idea_id": idea_id},
        comment=f"idea #{idea_id}: {f.title}",
        data={
            "idea": idea_id,
            "title": f.title,
            "partners": [p.model_dump(mode="json") for p in f.partners],
            "instruments": list(f.instruments),
        },
    )
    for attempt in range(3):  # someone may act on the brand-new project meanwhile
        try:
            with engine.db.write() as conn:
                row = conn.execute(q.SELECT_PROJECT, {"code": code}).one()
                change.from_stage = change.to_stage = row.stage
                return engine.append(conn, row, change, now, person)
        except Conflict:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def count_by_status(conn: Connection) -> dict[str, int]:
    """How many ideas are in each status."""
    rows = conn.execute(select(ideas.c.status, func.count()).group_by(ideas.c.status))
    return {status: int(n) for status, n in rows}
