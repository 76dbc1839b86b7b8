"""Editing a project's details: its title, budget and currency, funding instrument,
partners and the project dates its scheme declares.

A change is one hash-chained project event ``details_changed`` written through the unit
of work (:func:`engine.work.Work.change`), so it bumps the project's version, is
refused on a stale `expect_version`, and writes nothing when refused. Its data lists
each changed column as ``[old, new]`` under ``changes`` (the columns' names, as the
``created`` event records them), so the history alone says what the row holds.

The people who work on the current stage (its owner and participants, the responsible
person) and coordinators may edit; a hold does not stop it, a pending handoff does. The
values are checked by the same rules as a new project's (`NewProject.checked`).

The columns are written by `Work.append`'s compare-and-set of the project row
(:func:`storage.projects.compare_and_set`), so the edit and the version bump are one
statement and no other SQL is needed here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import Connection

from engine.creation import NewProject
from engine.history import dumps
from engine.work import Change, Context, Outcome, Work
from storage.database import Database
from workflow import domains
from workflow import instruments as catalogue
from workflow.errors import UsageError
from workflow.labels import text
from workflow.money import Money

# What may be changed, by the name the request uses.
FIELDS = ("title", "budget", "currency", "funding_instrument", "partners", "dates")
# The project columns an edit writes, in the order the event lists them.
COLUMNS = (
    "title",
    "budget_amount",
    "budget_currency",
    "funding_instrument",
    "partners",
    "dates",
)


class Engine(Protocol):
    """What editing details needs of the service (`engine.service.Engine` is one)."""

    @property
    def db(self) -> Database: ...

    @property
    def work(self) -> Work: ...


@dataclass(frozen=True)
class Person:
    """Someone who may be named on a project (a risk's owner): id and display name."""

    id: str
    name: str


@dataclass(frozen=True)
class DateField:
    """A project date the scheme declares, with its title and current value."""

    name: str
    title: str
    value: dt.date | None


def _requested(changes: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of `changes`, refused when it names no field or one a project has not."""
    unknown = sorted(set(changes) - set(FIELDS))
    if unknown:
        raise UsageError(
            f"project details have no field {', '.join(unknown)}",
            code="details.unknown_field",
            fields=unknown,
        )
    if not changes:
        raise UsageError("say what to change", code="details.nothing_to_change")
    return dict(changes)


def _day(name: str, value: dt.date | str | None) -> dt.date | None:
    """A project date from a date or an ISO string; "" or None removes it."""
    if value is None or isinstance(value, dt.date):
        return value
    raw = value.strip()
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise UsageError(
            f"the project date {name}: {raw[:20]!r} is not a date (YYYY-MM-DD)",
            code="details.bad_date",
            date=name,
            value=raw[:20],
        ) from None


def _dates(ctx: Context, old: dict[str, dt.date], given: Mapping[str, Any]) -> dict[str, dt.date]:
    """`old` with the `given` dates set (a None or empty one removed); each must be a date
    the project's scheme declares."""
    declared = ctx.scheme.scheme.dates
    out = dict(old)
    for name, value in given.items():
        if name not in declared:
            raise UsageError(
                f"scheme {ctx.scheme.name} has no project date {name!r}",
                code="project.unknown_date",
                scheme=ctx.scheme.name,
                date=str(name)[:63],
            )
        day = _day(name, value)
        if day is None:
            out.pop(name, None)
        else:
            out[name] = day
    return out


def _budget(value: Decimal | str | None) -> Decimal | None:
    """An amount from a Decimal or typed text ("125 000,50"); "" or None clears it."""
    if not isinstance(value, str):
        return value
    if not value.strip():
        return None
    try:
        return Money.parse(value).amount
    except ValueError:
        return domains.money("budget", value)  # not an amount: refused with its field


def _merged(ctx: Context, changes: dict[str, Any]) -> NewProject:
    """The project's details with `changes` applied, checked as a new project's are."""
    row = ctx.row
    budget = _budget(changes["budget"]) if "budget" in changes else row.budget_amount
    instrument = changes.get("funding_instrument", row.funding_instrument) or None
    partners = changes.get("partners", row.partners)
    new = NewProject(
        title=str(changes.get("title", row.title)),
        unit=row.unit_id,
        budget=budget,
        currency=str(changes.get("currency", row.budget_currency)),
        funding_instrument=instrument,
        partners=tuple(p.strip() for p in partners if p.strip()),
        dates=_dates(ctx, row.date_values, changes.get("dates") or {}),
    ).checked()
    if new.funding_instrument is not None and catalogue.unknown(
        [new.funding_instrument], ctx.org.org
    ):
        raise UsageError(
            f"unknown funding instrument {new.funding_instrument[:63]!r}",
            code="project.unknown_instrument",
            instrument=new.funding_instrument[:63],
        )
    return new


def _columns(new: NewProject) -> dict[str, Any]:
    """The project columns of `new` as the event records them (JSON-ready)."""
    budget = None if new.budget is None else new.budget.quantize(Decimal("0.01"))
    return {
        "title": new.title,
        "budget_amount": None if budget is None else str(budget),
        "budget_currency": new.currency,
        "funding_instrument": new.funding_instrument,
        "partners": list(new.partners),
        "dates": {k: v.isoformat() for k, v in sorted(new.dates.items())},
    }


def _current(ctx: Context) -> dict[str, Any]:
    row = ctx.row
    budget = row.budget_amount
    return {
        "title": row.title,
        "budget_amount": None if budget is None else str(budget.quantize(Decimal("0.01"))),
        "budget_currency": row.budget_currency,
        "funding_instrument": row.funding_instrument,
        "partners": list(row.partners),
        "dates": dict(sorted(row.dates.items())),
    }


def _values(new: dict[str, Any], diff: dict[str, list[Any]]) -> dict[str, Any]:
    """The row values of the changed columns (JSON columns as canonical text)."""
    out: dict[str, Any] = {}
    for name in diff:
        value = new[name]
        if name in ("partners", "dates"):
            value = dumps(value)
        elif name == "budget_amount" and value is not None:
            value = Decimal(value)
        out[name] = value
    return out


def edit_details(
    engine: Engine,
    code: str,
    changes: Mapping[str, Any],
    *,
    actor: str | None,
    now: dt.datetime,
    expect_version: int | None = None,
) -> Outcome:
    """Change some details of project `code`: ``title``, ``budget`` (a Decimal or text;
    None or "" clears it), ``currency`` (EUR or LVL), ``funding_instrument`` (None
    clears it), ``partners`` (the whole list) and ``dates`` (name → date or ISO text;
    None or "" removes that date, the others stay). The outcome's data lists each
    changed column as ``[old, new]``; nothing changed is a refusal."""
    requested = _requested(changes)

    def decide(conn: Connection, ctx: Context) -> Change:
        ctx.require_stage_role("edit the project details")
        ctx.refuse_during_handoff("edit the project details")
        old, new = _current(ctx), _columns(_merged(ctx, requested))
        diff = {k: [old[k], new[k]] for k in COLUMNS if old[k] != new[k]}
        if not diff:
            raise UsageError(
                f"the details of {ctx.code} already are like that; nothing changed",
                code="details.unchanged",
                project=ctx.code,
            )
        return Change(
            "details_changed",
            _values(new, diff),
            from_stage=ctx.stage,
            to_stage=ctx.stage,
            data={"changes": diff},
        )

    return engine.work.change(code, actor, now, expect_version, decide)


# -- what the edit forms offer ----------------------------------------------------------


def project_dates(engine: Engine, code: str, *, actor: str | None, lang: str) -> list[DateField]:
    """The dates the project's scheme declares, titled in `lang`, with their values."""
    with engine.db.read() as conn:
        ctx = engine.work.context(conn, engine.work.load(conn, code), actor)
    values = ctx.row.date_values
    return [
        DateField(name, text(spec.title, lang, name), values.get(name))
        for name, spec in ctx.scheme.scheme.dates.items()
    ]


def instruments(engine: Engine, *, lang: str) -> list[tuple[str, str]]:
    """The funding instrument catalogue (shipped and the organisation's): id, title."""
    with engine.db.read() as conn:
        org = engine.work.versions.org_index(conn)
    return [(i, catalogue.title(i, org.org, lang)) for i in catalogue.catalogue(org.org)]


def people_who_see(engine: Engine, code: str, *, actor: str | None) -> list[Person]:
    """Everyone whose roles cover the project's unit (who may see it), by name: those a
    form may offer as a risk's owner."""
    with engine.db.read() as conn:
        ctx = engine.work.context(conn, engine.work.load(conn, code), actor)
    return _seeing(ctx, ctx.org.org.people.items())


def _seeing(ctx: Context, people: Iterable[tuple[str, Any]]) -> list[Person]:
    unit, levels, key = ctx.row.unit_id, ctx.scheme.levels, ctx.scheme.version_id
    found = [
        Person(pid, p.name or pid)
        for pid, p in people
        if ctx.org.acting_roles(pid, unit, levels, key)
    ]
    return sorted(found, key=lambda p: (p.name.casefold(), p.id))
