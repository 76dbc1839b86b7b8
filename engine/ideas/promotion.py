"""Promoting an idea into a project, in one transaction.

The idea is claimed (compare-and-set on its version to promoted, so two people cannot
promote it twice), the project is created in the initial stage of the chosen scheme, and
the project records the idea as an ``idea_linked`` event. A refusal at any step (an
ambiguous scheme, an unknown instrument, a creator who may not start projects) leaves
nothing written: the idea is as it was and there is no project.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Connection

from engine.creation import NewProject, create_in
from engine.ideas.reading import load_idea, reader
from engine.ideas.views import Promotion, fields_of, parse_ref, view_of
from engine.ideas.writing import check_version, raced, require_writer
from engine.permissions import OrgIndex
from engine.service import Engine
from engine.work import Change, Outcome
from storage import ideas as stored
from storage.ideas import IdeaRecord
from workflow import instruments as catalogue
from workflow.errors import NotAllowed, UsageError
from workflow.ideas import PROMOTABLE, IdeaFields, IdeaStatus
from workflow.money import EUR, Money


def _check_promotable(record: IdeaRecord, f: IdeaFields, person: str) -> None:
    if f.status not in PROMOTABLE:
        project = record.project_code
        where = f" into {project}" if project else ""
        raise NotAllowed(
            f"{person} may not promote idea #{record.id}: it is {f.status.value}{where}",
            code="idea.promoted_into" if project else "idea.not_promotable",
            actor=person,
            idea=record.id,
            status=f.status.value,
            project=project,
        )


def _instrument(org: OrgIndex, f: IdeaFields, instrument: str | None) -> str | None:
    """`instrument`, else the idea's first candidate; refused when the catalogue lacks it."""
    chosen = instrument if instrument is not None else next(iter(f.instruments), None)
    if chosen is not None and catalogue.unknown([chosen], org.org):
        raise UsageError(
            f"unknown funding instrument {chosen!r}",
            code="idea.unknown_promoted_instrument",
            instrument=chosen,
        )
    return chosen


def _budget(f: IdeaFields) -> tuple[Decimal | None, str]:
    """The estimated cost as a budget, lats converted to euro."""
    if f.cost is not None and f.currency == "LVL":
        return Money(f.cost, f.currency).to_eur().amount, EUR
    return f.cost, f.currency


def _link(
    engine: Engine,
    conn: Connection,
    code: str,
    f: IdeaFields,
    idea_id: int,
    person: str,
    now: dt.datetime,
) -> Outcome:
    """Record the idea on the project, as a project event (so version and history agree)."""
    record = engine.work.load(conn, code, lock=True)
    change = Change(
        "idea_linked",
        {"idea_id": idea_id},
        from_stage=record.stage,
        to_stage=record.stage,
        comment=f"idea #{idea_id}: {f.title}",
        data={
            "idea": idea_id,
            "title": f.title,
            "partners": [p.model_dump(mode="json") for p in f.partners],
            "instruments": list(f.instruments),
        },
    )
    return engine.work.append(conn, record, change, now, person)


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
    loaded; with several, it must be named): same title (unless `title`), unit and
    partners, the first candidate instrument (unless `instrument`), the estimated cost as
    the budget (lats converted to euro). The idea becomes promoted and the project records
    the idea as an ``idea_linked`` event. One transaction: a refusal writes nothing."""
    idea_id = parse_ref(ref)
    with engine.work.transaction() as conn:
        org, person = reader(engine, conn, actor)
        record = load_idea(conn, idea_id)
        f = fields_of(record)
        check_version(record, expect_version, person)
        _check_promotable(record, f, person)
        what = f"promote idea #{idea_id}"
        require_writer(
            engine, conn, org, person, f.unit, what, code="idea.may_not_promote", idea=idea_id
        )
        scheme = engine.versions.scheme_for_new(conn, scheme).name  # refuses an ambiguous choice
        chosen = _instrument(org, f, instrument)
        promoted = IdeaStatus.promoted.value
        if not stored.set_status(conn, idea_id, record.version, promoted, at=now, by=person):
            raise raced(idea_id)
        budget, currency = _budget(f)
        new = NewProject(
            title=title or f.title,
            unit=f.unit,
            scheme=scheme,
            budget=budget,
            currency=currency,
            funding_instrument=chosen,
            partners=tuple(f.partner_names()),
            idea_id=idea_id,
        ).checked()
        created = create_in(conn, engine.versions, new, actor=person, now=now)
        linked = _link(engine, conn, created.code, f, idea_id, person, now)
        return Promotion(
            idea=view_of(load_idea(conn, idea_id), org, lang),
            project=linked.code,
            project_version=linked.version,
            stage=linked.stage,
        )
