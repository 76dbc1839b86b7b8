"""`shema` commands: The ideas notebook (ideju burtnīca)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from workflow.errors import ShemaError

if TYPE_CHECKING:
    pass

from commands.base import (
    Settings,
    ShemaGroup,
    csv_delimiter,
    echo_json,
    emit,
    expect_option,
    json_option,
    now,
    pass_settings,
    table,
)

# -- ideas notebook ----------------------------------------------------------------


@click.group(cls=ShemaGroup)
def idea() -> None:
    """The ideas notebook (ideju burtnīca): cooperation ideas before they are projects."""


_idea_status = click.Choice(["draft", "open_for_partners", "agreed", "promoted", "archived"])
_priority = click.Choice(["high", "medium", "low"])


def _cost(value: str | None, currency: str) -> tuple[Any, str]:
    """(amount, currency) from --cost (which may name its currency, e.g. '21828 LVL')."""
    from workflow.errors import UsageError
    from workflow.money import Money

    if value is None:
        return None, currency.upper()
    try:
        money = Money.parse(value, currency.upper())
    except ValueError:
        raise UsageError(
            f"--cost {value!r} is not an amount (e.g. 125000 or '21828 LVL')"
        ) from None
    return money.amount, money.currency


def _print_idea(v: Any) -> None:
    click.echo(f"#{v.id}  {v.title}")
    click.echo(f"  status:        {v.status_title} ({v.status}), version {v.version}")
    click.echo(f"  priority:      {v.priority_title}")
    click.echo(f"  unit:          {v.unit_name} ({v.unit})")
    click.echo(f"  proposed by:   {v.proposer_name} ({v.proposer})")
    click.echo(f"  municipalities: {'; '.join(v.municipalities) or '-'}")
    click.echo(f"  organisations: {'; '.join(v.organisations) or '-'}")
    for ident, label in zip(v.instruments, v.instrument_titles, strict=True):
        click.echo(f"  instrument:    {label} ({ident})")
    if v.cost is not None:
        eur = f" (= {v.cost_eur} EUR)" if v.currency != "EUR" and v.cost_eur is not None else ""
        click.echo(f"  cost:          {v.cost:.2f} {v.currency}{eur}")
    if v.tags:
        click.echo(f"  tags:          {' '.join('#' + t for t in v.tags)}")
    if v.project:
        click.echo(f"  project:       {v.project}")
    if v.description:
        click.echo("")
        for line in v.description.splitlines():
            click.echo(f"  {line}")


def _idea_fields(f: Callable[..., Any]) -> Callable[..., Any]:
    """The options `idea new` and `idea edit` share."""
    options = [
        click.option("--description", default=None),
        click.option(
            "--municipality",
            "municipalities",
            multiple=True,
            help="A partner municipality, e.g. 'Siguldas novads'; repeatable.",
        ),
        click.option(
            "--organisation",
            "organisations",
            multiple=True,
            help="A partner organisation (NGO, school, company); repeatable.",
        ),
        click.option(
            "--instrument",
            "instruments",
            multiple=True,
            help="A candidate funding instrument id (`shema idea instruments`); repeatable.",
        ),
        click.option("--cost", default=None, help="Estimated cost, e.g. 125000 or '21828 LVL'."),
        click.option("--currency", default="EUR", show_default=True),
        click.option("--tag", "tags", multiple=True, help="A tag; repeatable."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


@idea.command("new")
@click.option("--title", required=True)
@click.option("--unit", required=True, help="The proposing unit (parish, town, department).")
@click.option("--proposer", default=None, help="The proposing person (default: me).")
@_idea_fields
@click.option("--priority", type=_priority, default="medium", show_default=True)
@click.option("--status", type=_idea_status, default="draft", show_default=True)
@json_option
@pass_settings
def idea_new(
    s: Settings,
    /,
    cost: str | None,
    currency: str,
    description: str | None,
    as_json: bool,
    **fields: Any,
) -> None:
    """Add an idea to the notebook; prints its number."""
    from engine.ideas import create_idea

    amount, cur = _cost(cost, currency)
    v = create_idea(
        s.engine(),
        actor=s.who(),
        now=now(),
        cost=amount,
        currency=cur,
        description=description or "",
        lang=s.lang,
        **fields,
    )
    if as_json:
        echo_json(v.to_json())
    else:
        click.echo(str(v.id))


@idea.command("list")
@click.option("--status", "statuses", type=_idea_status, multiple=True, help="Repeatable.")
@click.option("--unit", default=None, help="This unit and the units below it.")
@click.option("--instrument", default=None, help="Ideas that name this candidate instrument.")
@click.option("--tag", default=None)
@click.option("--priority", type=_priority, default=None)
@click.option("--search", default=None, help="Words in title, description, partners, tags.")
@click.option("--all", "include_archived", is_flag=True, help="Archived ideas too.")
@json_option
@pass_settings
def idea_list(s: Settings, /, statuses: tuple[str, ...], as_json: bool, **filters: Any) -> None:
    """Ideas in the notebook, highest priority first."""
    from engine.ideas import list_ideas

    rows = list_ideas(s.engine(), actor=s.who(), status=statuses, lang=s.lang, **filters)
    if as_json:
        echo_json([v.to_json() for v in rows])
        return
    table(
        [
            (v.id, v.status, v.priority, v.unit,
             ", ".join(v.municipalities + v.organisations), ", ".join(v.instruments),
             "" if v.cost is None else f"{v.cost:.2f} {v.currency}", v.project or "", v.title)
            for v in rows
        ],
        ["#", "status", "priority", "unit", "partners", "instruments", "cost", "project",
         "title"],
    )  # fmt: skip


@idea.command("show")
@click.argument("ref")
@json_option
@pass_settings
def idea_show(s: Settings, ref: str, as_json: bool) -> None:
    """One idea (REF is its number)."""
    from engine.ideas import get_idea

    v = get_idea(s.engine(), ref, actor=s.who(), lang=s.lang)
    if as_json:
        echo_json(v.to_json())
    else:
        _print_idea(v)


@idea.command("edit")
@click.argument("ref")
@click.option("--title", default=None)
@click.option("--unit", default=None)
@click.option("--proposer", default=None)
@_idea_fields
@click.option("--priority", type=_priority, default=None)
@click.option("--status", type=_idea_status, default=None)
@click.option(
    "--clear",
    "clear",
    multiple=True,
    type=click.Choice(
        ["description", "municipalities", "organisations", "instruments", "cost", "tags"]
    ),
    help="Empty a field; repeatable.",
)
@expect_option
@json_option
@pass_settings
def idea_edit(
    s: Settings,
    /,
    ref: str,
    cost: str | None,
    currency: str,
    clear: tuple[str, ...],
    expect_version: int | None,
    as_json: bool,
    **fields: Any,
) -> None:
    """Change an idea: given options replace the field (a repeated option replaces the
    whole list); --clear empties one."""
    from engine.ideas import edit_idea

    changes: dict[str, Any] = {
        k: (list(v) if isinstance(v, tuple) else v)
        for k, v in fields.items()
        if v is not None and v != ()
    }
    if cost is not None:
        changes["cost"], changes["currency"] = _cost(cost, currency)
    elif currency.upper() != "EUR":
        changes["currency"] = currency.upper()
    for name in clear:
        changes[name] = None if name == "cost" else "" if name == "description" else []
    v = edit_idea(
        s.engine(), ref, changes, actor=s.who(), now=now(), expect_version=expect_version,
        lang=s.lang,
    )  # fmt: skip
    if as_json:
        echo_json(v.to_json())
    else:
        click.echo(f"idea #{v.id}: {v.status}, version {v.version}")


@idea.command("promote")
@click.argument("ref")
@click.option("--title", default=None, help="The project's title (default: the idea's).")
@click.option(
    "--instrument", default=None, help="The project's instrument (default: the first candidate)."
)
@click.option(
    "--scheme",
    "scheme_name",
    default=None,
    help="The scheme to follow (its newest version; needed when several are loaded).",
)
@expect_option
@json_option
@pass_settings
def idea_promote(
    s: Settings,
    ref: str,
    title: str | None,
    instrument: str | None,
    scheme_name: str | None,
    expect_version: int | None,
    as_json: bool,
) -> None:
    """Make the idea a project (in the newest version of its scheme); prints its code."""
    from engine.ideas import promote_idea

    done = promote_idea(
        s.engine(),
        ref,
        actor=s.who(),
        now=now(),
        title=title,
        instrument=instrument,
        scheme=scheme_name,
        expect_version=expect_version,
        lang=s.lang,
    )
    if as_json:
        echo_json(done.to_json() | {"code": done.project})
    else:
        click.echo(done.project)


@idea.command("export")
@click.option(
    "--format", "fmt", type=click.Choice(["markdown", "csv"]), default="markdown",
    show_default=True,
)  # fmt: skip
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None)
@click.option("--delimiter", default=",", show_default=True, help="CSV: ',' or ';' (or 'tab').")
@click.option("--status", "statuses", type=_idea_status, multiple=True)
@click.option("--unit", default=None)
@click.option("--instrument", default=None)
@click.option("--tag", default=None)
@click.option("--priority", type=_priority, default=None)
@click.option("--search", default=None)
@click.option("--all", "include_archived", is_flag=True, help="Archived ideas too.")
@pass_settings
def idea_export(
    s: Settings,
    /,
    fmt: str,
    output: str | None,
    delimiter: str,
    statuses: tuple[str, ...],
    **filters: Any,
) -> None:
    """The printable notebook as Markdown, or CSV (UTF-8 with BOM) for spreadsheets."""
    from engine import ideas as notebook
    from render.ideas import CSV_HEADER, csv_rows, export_markdown
    from render.tables import spreadsheet_csv
    from workflow.labels import text

    engine = s.engine()
    rows = notebook.list_ideas(engine, actor=s.who(), status=statuses, lang=s.lang, **filters)
    if fmt == "csv":
        out = spreadsheet_csv(CSV_HEADER, csv_rows(rows), csv_delimiter(delimiter))
    else:
        with engine.db.read() as conn:
            name = text(engine.org_index(conn).org.municipality.name, s.lang)
        out = export_markdown(rows, title=name, now=now(), lang=s.lang)
    emit(out, output)


@idea.command("instruments")
@json_option
@pass_settings
def idea_instruments(s: Settings, as_json: bool) -> None:
    """The funding instrument catalogue (shipped, plus the organisation file's)."""
    from workflow import instruments
    from workflow.labels import text

    org = None
    try:
        engine = s.engine()
        with engine.db.read() as conn:
            org = engine.org_index(conn).org
    except ShemaError:
        pass  # no database: the shipped catalogue alone
    rows = [(k, text(v, s.lang, k)) for k, v in instruments.catalogue(org).items()]
    if as_json:
        echo_json([{"id": k, "title": t} for k, t in rows])
    else:
        table(rows, ["instrument", "title"])
