"""`shema` commands: Projects: create, list, show, move."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import click

if TYPE_CHECKING:
    from engine.service import Engine
    from render.speech import Speech

from commands.base import (
    Settings,
    ShemaGroup,
    echo_json,
    expect_option,
    json_option,
    now,
    pass_settings,
    print_outcome,
    table,
)
from engine.verbs import VERBS, Param, Verb, perform

RIGA = ZoneInfo("Europe/Riga")

# -- projects ----------------------------------------------------------------------


@click.group(cls=ShemaGroup)
def project() -> None:
    """Create, list, show and move projects."""


@project.command("new")
@click.option("--title", required=True)
@click.option("--unit", required=True)
@click.option(
    "--scheme",
    "scheme_name",
    default=None,
    help="The scheme to follow (its newest version; needed when several are loaded).",
)
@click.option("--budget", default=None, help="Estimated cost, e.g. 125000.00")
@click.option("--currency", default="EUR", show_default=True)
@click.option("--instrument", "funding_instrument", default=None)
@click.option("--partner", "partners", multiple=True)
@click.option(
    "--date",
    "dates",
    multiple=True,
    metavar="NAME=YYYY-MM-DD",
    help="A project date the scheme declares (e.g. call_deadline=2026-03-31).",
)
@json_option
@pass_settings
def project_new(
    s: Settings,
    title: str,
    unit: str,
    scheme_name: str | None,
    budget: str | None,
    currency: str,
    funding_instrument: str | None,
    partners: tuple[str, ...],
    dates: tuple[str, ...],
    as_json: bool,
) -> None:
    """Create a project; prints its code."""
    from decimal import Decimal, InvalidOperation

    from workflow.errors import UsageError

    try:
        amount = Decimal(budget) if budget is not None else None
    except InvalidOperation:
        raise UsageError(f"--budget {budget!r} is not an amount") from None
    parsed: dict[str, dt.date] = {}
    for item in dates:
        name, _, value = item.partition("=")
        try:
            parsed[name] = dt.date.fromisoformat(value)
        except ValueError:
            raise UsageError(f"--date {item!r}: expected NAME=YYYY-MM-DD") from None
    engine = s.engine()
    out = engine.create_project(
        title=title,
        unit=unit,
        actor=s.who(),
        now=now(),
        scheme=scheme_name,
        budget=amount,
        currency=currency,
        funding_instrument=funding_instrument,
        partners=partners,
        dates=parsed,
    )
    print_outcome(out, as_json, out.code)


@project.command("list")
@click.option("--unit", default=None)
@click.option("--stage", default=None)
@click.option("--mine", is_flag=True, help="Only what waits for me.")
@click.option("--assignee", default=None, help="Only projects this person is responsible for.")
@click.option("--overdue", is_flag=True, help="Only projects past their deadline.")
@click.option("--search", default=None, help="Code or title contains (case, diacritics ignored).")
@click.option("--finished", is_flag=True, help="Also projects in a terminal stage.")
@click.option(
    "--sort",
    type=click.Choice(["code", "deadline", "stage", "unit", "urgency"]),
    default=None,
    help="Order (default: code; urgency with --mine).",
)
@json_option
@pass_settings
def project_list(
    s: Settings,
    unit: str | None,
    stage: str | None,
    mine: bool,
    assignee: str | None,
    overdue: bool,
    search: str | None,
    sort: str | None,
    finished: bool,
    as_json: bool,
) -> None:
    """Projects I may see (running ones; --finished adds those in a terminal stage).

    Rows are read and printed a chunk at a time; --json streams one JSON array."""
    import itertools
    import json

    from engine.listing import Filters

    engine = s.engine()
    at = now()
    filters = Filters(unit, stage, assignee, at if overdue else None, search, finished, mine)
    rows = engine.iter_projects(
        actor=s.who(),
        filters=filters,
        sort=sort or ("urgency" if mine else "code"),
        lang=s.lang,
        now=at,
    )
    if as_json:
        click.echo("[", nl=False)
        for n, r in enumerate(rows):
            item = json.dumps(r.to_json(), ensure_ascii=False, default=str)
            click.echo(("," if n else "") + "\n" + item, nl=False)
        click.echo("\n]")
        return
    from render import projects as render_projects

    speech = _speech(s, engine)
    n = 0
    while chunk := list(itertools.islice(rows, 500)):
        lines = render_projects.project_list(chunk, speech, asked=mine)
        n += 1
        if n > 1:
            lines = lines[2:]  # the header once
        for line in lines:
            click.echo(line)


def _speech(s: Settings, engine: Engine, code: str | None = None) -> Speech:
    """How this command names things: in the chosen language, from the scheme of project
    `code` when given."""
    from render.speech import Speech

    with engine.db.read() as conn:
        org = engine.org_index(conn)
        scheme = None
        if code is not None:
            scheme = engine.compiled(conn, engine.work.load(conn, code).scheme_version_id).scheme
    return Speech(s.lang, org, scheme)


@project.command("show")
@click.argument("code")
@json_option
@pass_settings
def project_show(s: Settings, code: str, as_json: bool) -> None:
    """One project: stage, holder, handoff, checklist."""
    engine = s.engine()
    p = engine.project(code, actor=s.who(), lang=s.lang, now=now())
    if as_json:
        echo_json(p.to_json())
        return
    from render import projects as render_projects

    render_projects.project_show(p, _speech(s, engine, code), click.echo)


@project.command("actions")
@click.argument("code")
@json_option
@pass_settings
def project_actions(s: Settings, code: str, as_json: bool) -> None:
    """The actions I may take now."""
    engine = s.engine()
    actions = engine.actions(code, actor=s.who(), lang=s.lang)
    if as_json:
        echo_json([a.to_json() for a in actions])
        return
    from render import projects as render_projects

    speech = _speech(s, engine, code)
    stage = engine.project(code, actor=s.who()).stage
    for line in render_projects.action_table(actions, speech, stage):
        click.echo(line)


def _option(param: Param) -> Callable[[Any], Any]:
    """The click argument or option of a verb's parameter."""
    flag = f"--{param.cli or param.name}"
    if param.kind == "argument":
        return click.argument(param.name, metavar=(param.cli or param.name).upper())
    if param.kind == "flag":
        return click.option(flag, param.name, is_flag=True, help=param.help or None)
    if param.kind == "many":
        return click.option(flag, param.name, multiple=True, help=param.help or None)
    if param.kind == "required":  # (no default: with one, click would not insist)
        return click.option(flag, param.name, required=True)
    return click.option(flag, param.name, default=None)


def _write_command(verb: Verb) -> None:
    """A project command that writes, from the verb table: the same options, output and
    errors for all."""

    def command(s: Settings, as_json: bool, code: str, **kwargs: Any) -> None:
        expect = kwargs.pop("expect_version")
        values = {
            p.name: (not kwargs[p.name]) if p.negated else kwargs[p.name] for p in verb.params
        }
        out = perform(
            s.engine(), verb.name, code, values, actor=s.who(), now=now(), expect_version=expect
        )
        print_outcome(
            out, as_json, f"{out.code}: {out.kind}; stage {out.stage}, version {out.version}"
        )

    command.__doc__ = verb.help
    options = [click.argument("code"), *map(_option, verb.params), expect_option, json_option]
    for option in reversed(options):
        command = option(command)
    project.command(verb.name)(pass_settings(command))


for _verb in VERBS.values():
    _write_command(_verb)


@project.command("history")
@click.argument("code")
@json_option
@pass_settings
def project_history(s: Settings, code: str, as_json: bool) -> None:
    """Everything that happened to the project, in order."""
    engine = s.engine()
    events = engine.history(code, actor=s.who())
    if as_json:
        echo_json([e.to_json() for e in events])
        return
    from render import formats

    speech = _speech(s, engine, code)
    rows = [
        (
            e.seq,
            formats.when(e.at, s.lang, RIGA),
            e.actor or "-",
            speech.event(e),
            e.action or (f"-> {e.to_stage}" if e.kind in ("created", "forced") else ""),
            "" if e.kind in ("checked", "unchecked") else _details(e.kind, e.data),
            (e.comment or "") + (f" [{', '.join(e.refs)}]" if e.refs else ""),
        )
        for e in events
    ]
    headers = ["seq", "when", "who", "what", "action", "details", "comment"]
    table(rows, [speech.w[f"col_{h}"] for h in headers])


def _details(kind: str, data: dict[str, Any]) -> str:
    """What the event's data says, in a few words (the JSON has all of it)."""
    if kind in ("checked", "unchecked"):
        return str(data.get("item", ""))
    if kind == "escalated":
        n = str(data.get("step", "")).removeprefix("escalation")
        step = f"step {int(n) + 1}" if n.isdigit() else n
        duty = f" ({data['action']})" if data.get("action") else ""
        skipped = [
            f"step {int(s.removeprefix('escalation')) + 1}" for s in data.get("caught_up", [])
        ]
        note = f" (caught up: {', '.join(skipped)})" if skipped else ""
        recipients = ", ".join(data.get("recipients", []))
        return f"{data.get('deadline')}{duty} {step} to {data.get('role')}: {recipients}{note}"
    if kind == "assigned":
        return f"{data.get('previous') or '-'} -> {data.get('person')}"
    if kind in ("acknowledged", "resumed"):
        seconds = data.get("waited_seconds", data.get("held_seconds", 0))
        return (
            f"after {seconds / 3600:.0f} h" if seconds < 172_800 else f"after {seconds // 86_400} d"
        )
    if kind in ("risk_added", "risk_updated"):
        changes = ", ".join(sorted(data.get("changes", {})))
        return f"R{data.get('risk')}" + (f": {changes}" if changes else "")
    if kind == "cba_set":
        return f"NPV {data.get('npv')} {data.get('currency')}, BCR {data.get('bcr') or '-'}"
    if kind == "idea_linked":
        return f"idea #{data.get('idea')}"
    handoff = data.get("handoff")
    if isinstance(handoff, dict):
        return f"handoff {handoff.get('from')} -> {handoff.get('to')}: " + ", ".join(
            handoff.get("receivers", [])
        )
    return ""
