"""The `shema` command: parse, read the environment once, call the engine, print.

No business logic lives here. Heavy modules are imported inside the commands that need
them, so a read command starts quickly.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from workflow.errors import EnvironmentProblem, InputError, ShemaError

if TYPE_CHECKING:
    from engine.service import Engine


@dataclass
class Settings:
    """What the environment and the global options said, read once."""

    db_url: str
    actor: str | None
    lang: str
    _engine: Engine | None = None

    def engine(self, *, require_schema: bool = True) -> Engine:
        if self._engine is None:
            from engine.service import Engine
            from storage.database import Database
            from storage.migrate import require_current

            db = Database(self.db_url)
            if require_schema and db.missing_file:
                raise EnvironmentProblem(
                    f"there is no database at {db.missing_file}: run `shema init` "
                    "(or set SHEMA_DB / --db)"
                )
            if require_schema:
                require_current(db)
            self._engine = Engine(db)
        return self._engine

    def who(self) -> str | None:
        from engine.service import identify

        return identify(self.engine(), self.actor, _os_account())


def _os_account() -> str | None:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None


def now() -> dt.datetime:
    """The clock, read only here at the edge."""
    return dt.datetime.now(dt.UTC)


def fail(message: str, code: int) -> NoReturn:
    click.echo(f"shema: {message}", err=True)
    sys.exit(code)


class ShemaGroup(click.Group):
    """Maps every error to one line on stderr and an exit code, in one place."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except InputError as exc:
            for problem in exc.problems:
                click.echo(str(problem), err=True)
            sys.exit(exc.exit_code)
        except ShemaError as exc:
            fail(str(exc), exc.exit_code)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except BrokenPipeError:  # `shema … | head`: the reader has gone, nothing to say
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(0)
        except Exception as exc:  # no traceback reaches a user
            from sqlalchemy.exc import OperationalError

            if isinstance(exc, OperationalError):
                fail(f"database problem: {str(exc.orig).splitlines()[0]}", 3)
            if os.environ.get("SHEMA_DEBUG"):
                raise
            fail(
                f"unexpected error: {type(exc).__name__}: {exc} (SHEMA_DEBUG=1 shows the details)",
                1,
            )


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def table(rows: Sequence[Sequence[Any]], headers: Sequence[str]) -> None:
    """A plain aligned table (no colour: scripts and pipes read it too)."""
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    for n, r in enumerate(cells):
        click.echo("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
        if n == 0:
            click.echo("  ".join("-" * w for w in widths))


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")
expect_option = click.option(
    "--expect-version",
    type=int,
    default=None,
    help="Refuse unless the project is still at this version.",
)
pass_settings = click.pass_obj


@click.group(cls=ShemaGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    "db_url",
    envvar="SHEMA_DB",
    default="sqlite:///shema.db",
    show_default=True,
    help="Database URL (SHEMA_DB).",
)
@click.option(
    "--as", "actor", envvar="SHEMA_USER", default=None, help="Act as this person id (SHEMA_USER)."
)
@click.option(
    "--lang",
    type=click.Choice(["lv", "en"]),
    envvar="SHEMA_LANG",
    default="lv",
    show_default=True,
    help="Language of labels (SHEMA_LANG).",
)
@click.version_option(package_name="shema")
@click.pass_context
def main(ctx: click.Context, db_url: str, actor: str | None, lang: str) -> None:
    """Shēma: the unified project organisation scheme, executable."""
    ctx.obj = Settings(db_url, actor or None, lang)


# -- database ----------------------------------------------------------------------


@main.command()
@pass_settings
def init(s: Settings) -> None:
    """Create or upgrade the database."""
    from storage.migrate import upgrade

    engine = s.engine(require_schema=False)
    before, after = upgrade(engine.db)
    if before == after:
        click.echo(f"{engine.db.safe_url}: already at revision {after}")
    else:
        click.echo(f"{engine.db.safe_url}: revision {before or '(empty)'} -> {after}")


@main.command()
@json_option
@pass_settings
def status(s: Settings, as_json: bool) -> None:
    """Health: schema revision, loaded scheme and organisation, projects."""
    from engine.status import status as read_status
    from storage.database import Database

    data = read_status(Database(s.db_url), now(), _mail().describe)
    if as_json:
        echo_json(data)
    else:
        for key, value in data.items():
            click.echo(f"{key}: {value}")
    if not data.get("initialised"):
        sys.exit(3)


# -- scheme ------------------------------------------------------------------------


@main.group(cls=ShemaGroup)
def scheme() -> None:
    """Validate, show, draw and load schemes."""


@scheme.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
def scheme_validate(files: tuple[str, ...]) -> None:
    """Check scheme files; print every problem as FILE:LINE:COL: path: message."""
    from workflow.loader import load_scheme

    problems = []
    for file in files:
        try:
            load_scheme(file)
            click.echo(f"{file}: ok")
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputError(problems)


@scheme.command("show")
@click.argument("file", type=click.Path(dir_okay=False))
@json_option
@pass_settings
def scheme_show(s: Settings, file: str, as_json: bool) -> None:
    """Stages, roles, actions, handoffs and deadlines of a scheme file."""
    from workflow.loader import load_scheme
    from workflow.summary import summary

    data = summary(load_scheme(file), s.lang)
    if as_json:
        echo_json(data)
        return
    click.echo(f"{data['title']} ({data['scheme']})")
    click.echo("\nRoles")
    table([(r["role"], r["level"], r["title"]) for r in data["roles"]], ["role", "level", "title"])
    click.echo("\nStages")
    table(
        [
            (
                st["stage"],
                st["owner"] or "-",
                ", ".join(st["participants"]),
                st["deadline"] or "",
                "terminal" if st["terminal"] else "",
                st["title"],
            )
            for st in data["stages"]
        ],
        ["stage", "owner", "participants", "deadline", "", "title"],
    )
    click.echo("\nActions")
    table(
        [
            (
                a["action"],
                ", ".join(a["from"]),
                a["to"],
                ", ".join(a["by"]),
                "handoff" if a["handoff"] else "",
                "comment" if a["comment"] == "required" else "",
                ", ".join([*a["requires"], *(f"[{g}]" for g in a["gates"])]),
            )
            for a in data["actions"]
        ],
        ["action", "from", "to", "by", "", "", "requires [gates]"],
    )


@scheme.command("diagram")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--format", "fmt", type=click.Choice(["mermaid", "dot"]), default="mermaid", show_default=True
)
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None)
@pass_settings
def scheme_diagram(s: Settings, file: str, fmt: str, output: str | None) -> None:
    """Draw a scheme as Mermaid or Graphviz DOT."""
    from workflow import diagram
    from workflow.loader import load_scheme

    loaded = load_scheme(file)
    out = diagram.mermaid(loaded, s.lang) if fmt == "mermaid" else diagram.dot(loaded, s.lang)
    if output:
        Path(output).write_text(out, encoding="utf-8")
        click.echo(f"wrote {output}")
    else:
        click.echo(out, nl=False)


@scheme.command("json-schema")
@click.option("--org", is_flag=True, help="The organisation file's schema instead.")
def scheme_json_schema(org: bool) -> None:
    """Print the JSON Schema of the scheme format (for editors)."""
    from workflow import jsonschema

    click.echo(
        jsonschema.dump(jsonschema.org_json_schema() if org else jsonschema.scheme_json_schema()),
        nl=False,
    )


@scheme.command("load")
@click.argument("file", type=click.Path(dir_okay=False))
@json_option
@pass_settings
def scheme_load(s: Settings, file: str, as_json: bool) -> None:
    """Load a scheme as a new version (coordinators only)."""
    from engine.loading import load_scheme
    from workflow.loader import read_text

    source = read_text(file, "scheme")
    engine = s.engine()
    loaded = load_scheme(engine, source, file, actor=s.who(), now=now())
    if as_json:
        echo_json(loaded.to_json())
    elif loaded.created:
        click.echo(f"scheme {loaded.name} loaded as version {loaded.version}")
    else:
        click.echo(f"scheme {loaded.name} unchanged: still version {loaded.version}")


# -- organisation ------------------------------------------------------------------


@main.group(cls=ShemaGroup)
def org() -> None:
    """Validate, show and load organisation files."""


def _scheme_for_org(path: str | None) -> Any:
    from schemes import shipped
    from workflow.loader import load_scheme, load_scheme_text

    if path:
        return load_scheme(path)
    return load_scheme_text(shipped("unified.yaml").read_text(encoding="utf-8"), "unified.yaml")


@org.command("validate")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--scheme",
    "scheme_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Check role names against this scheme (default: the shipped unified one).",
)
def org_validate(file: str, scheme_file: str | None) -> None:
    """Check an organisation file; warn where a unit has nobody to receive its work."""
    from engine.loading import org_warnings
    from workflow.loader import load_org

    sch = _scheme_for_org(scheme_file)
    loaded = load_org(file, sch)
    for warning in org_warnings(loaded, sch):
        click.echo(f"{file}: {warning.path}: warning: {warning.message}", err=True)
    click.echo(f"{file}: ok ({len(loaded.units)} units, {len(loaded.people)} people)")


@org.command("show")
@click.argument("file", type=click.Path(dir_okay=False))
@json_option
@pass_settings
def org_show(s: Settings, file: str, as_json: bool) -> None:
    """Units and people of an organisation file."""
    from workflow.labels import text
    from workflow.loader import load_org

    o = load_org(file)
    units: list[dict[str, Any]] = [
        {"id": uid, "name": text(u.name, s.lang), "kind": u.kind.value, "parent": u.parent}
        for uid, u in o.units.items()
    ]
    people: list[dict[str, Any]] = [
        {
            "id": pid,
            "name": p.name,
            "email": p.email,
            "lang": p.lang,
            "roles": [{"role": a.role, "unit": a.unit} for a in p.roles],
        }
        for pid, p in o.people.items()
    ]
    if as_json:
        echo_json(
            {
                "municipality": text(o.municipality.name, s.lang),
                "code_prefix": o.municipality.code_prefix,
                "units": units,
                "people": people,
            }
        )
        return
    click.echo(f"{text(o.municipality.name, s.lang)} ({o.municipality.code_prefix})\n")
    depth = {uid: len(list(o.ancestors(uid))) - 1 for uid in o.units}
    table(
        [("  " * depth[u["id"]] + u["id"], u["kind"], u["name"]) for u in units],
        ["unit", "kind", "name"],
    )
    click.echo("")
    table(
        [
            (
                p["id"],
                p["name"],
                p["email"] or "",
                ", ".join(f"{r['role']}@{r['unit']}" for r in p["roles"]),
            )
            for p in people
        ],
        ["person", "name", "e-mail", "roles"],
    )


@org.command("load")
@click.argument("file", type=click.Path(dir_okay=False))
@json_option
@pass_settings
def org_load(s: Settings, file: str, as_json: bool) -> None:
    """Load the organisation (coordinators only; the first load by a coordinator it names)."""
    from engine.loading import load_org
    from workflow.loader import read_text

    source = read_text(file, "organisation")
    engine = s.engine()
    from sqlalchemy import func, select

    from storage.tables import org_versions

    with engine.db.read() as conn:
        empty = not conn.execute(select(func.count()).select_from(org_versions)).scalar_one()
    actor = s.actor if empty else s.who()
    loaded = load_org(engine, source, file, actor=actor, now=now())
    if as_json:
        echo_json(loaded.to_json())
    elif loaded.created:
        click.echo(f"organisation {loaded.name} loaded as version {loaded.version}")
    else:
        click.echo(f"organisation {loaded.name} unchanged: still version {loaded.version}")


# -- projects ----------------------------------------------------------------------


@main.group(cls=ShemaGroup)
def project() -> None:
    """Create, list, show and move projects."""


def _print_outcome(outcome: Any, as_json: bool, message: str) -> None:
    if as_json:
        echo_json(outcome.to_json())
    else:
        click.echo(message)


@project.command("new")
@click.option("--title", required=True)
@click.option("--unit", required=True)
@click.option("--scheme", "scheme_name", default=None, help="Scheme name (default: newest).")
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
    _print_outcome(out, as_json, out.code)


@project.command("list")
@click.option("--unit", default=None)
@click.option("--stage", default=None)
@click.option("--mine", is_flag=True, help="Only what waits for me.")
@click.option("--assignee", default=None, help="Only projects this person is responsible for.")
@click.option("--overdue", is_flag=True, help="Only projects past their deadline.")
@json_option
@pass_settings
def project_list(
    s: Settings,
    unit: str | None,
    stage: str | None,
    mine: bool,
    assignee: str | None,
    overdue: bool,
    as_json: bool,
) -> None:
    """Projects I may see."""
    engine = s.engine()
    at = now()
    rows = engine.list_projects(
        actor=s.who(),
        unit=unit,
        stage=stage,
        assignee=assignee,
        mine=mine,
        overdue_at=at if overdue else None,
        lang=s.lang,
        now=at,
    )
    if as_json:
        echo_json([r.to_json() for r in rows])
        return
    table(
        [(r.code, r.unit, r.stage, r.version, _due(r), r.holder, r.title) for r in rows],
        ["code", "unit", "stage", "v", "due", "held by", "title"],
    )


def _due(p: Any) -> str:
    if p.due_at is None:
        return ""
    mark = "OVERDUE " if p.overdue else ""
    left = f" ({p.days_left:+d} WD)" if p.days_left is not None else ""
    return f"{mark}{_local(p.due_at)[:10]}{left}"


@project.command("show")
@click.argument("code")
@json_option
@pass_settings
def project_show(s: Settings, code: str, as_json: bool) -> None:
    """One project: stage, holder, handoff, checklist."""
    p = s.engine().project(code, actor=s.who(), lang=s.lang, now=now())
    if as_json:
        echo_json(p.to_json())
        return
    click.echo(f"{p.code}  {p.title}")
    click.echo(f"  unit:     {p.unit_name} ({p.unit})")
    click.echo(f"  scheme:   {p.scheme} v{p.scheme_version}")
    click.echo(f"  stage:    {p.stage_title} ({p.stage}) since {_local(p.stage_entered_at)}")
    click.echo(f"  held by:  {p.holder} since {_local(p.holder_since)}")
    if p.handoff:
        click.echo(
            f"  handoff:  {p.handoff.from_level} -> {p.handoff.to_level}, waiting for "
            f"{', '.join(p.handoff.receivers)} (`shema project ack {p.code}`)"
        )
    if p.due_at:
        click.echo(f"  due:      {_due(p)}")
    if p.hold_since:
        click.echo(f"  on hold:  since {_local(p.hold_since)}: {p.hold_reason}")
    if p.idea_id is not None:
        click.echo(f"  idea:     #{p.idea_id} (`shema idea show {p.idea_id}`)")
    if p.budget_amount is not None:
        click.echo(f"  budget:   {p.budget_amount} {p.budget_currency}")
    click.echo(f"  version:  {p.version}")
    for item in p.checklist:
        mark = "x" if item.checked else " "
        who = f"  ({item.checked_by}, {_local(item.checked_at)})" if item.checked_at else ""
        click.echo(f"  [{mark}] {item.title} ({item.item}){who}")


def _local(when: dt.datetime | None) -> str:
    if when is None:
        return "-"
    from zoneinfo import ZoneInfo

    return when.astimezone(ZoneInfo("Europe/Riga")).strftime("%Y-%m-%d %H:%M")


@project.command("actions")
@click.argument("code")
@json_option
@pass_settings
def project_actions(s: Settings, code: str, as_json: bool) -> None:
    """The actions I may take now."""
    actions = s.engine().actions(code, actor=s.who(), lang=s.lang)
    if as_json:
        echo_json([a.to_json() for a in actions])
        return
    table(
        [
            (
                a.action,
                a.to,
                "handoff" if a.handoff else "",
                "comment" if a.comment == "required" else "",
                "ready" if a.ready else "; ".join(a.blocked_by),
            )
            for a in actions
        ],
        ["action", "to", "", "", "state"],
    )


def _write_command(
    name: str, help_text: str, params: list[Callable[[Any], Any]], run: Callable[..., Any]
) -> None:
    """A project command that writes: the same options, output and errors for all."""

    def command(s: Settings, as_json: bool, **kwargs: Any) -> None:
        out = run(s.engine(), actor=s.who(), now=now(), **kwargs)
        _print_outcome(
            out, as_json, f"{out.code}: {out.kind}; stage {out.stage}, version {out.version}"
        )

    command.__doc__ = help_text
    for param in reversed([*params, json_option]):
        command = param(command)
    project.command(name)(pass_settings(command))


_code = click.argument("code")
_refs = click.option(
    "--ref",
    "refs",
    multiple=True,
    help="A document reference (registration number or URL); repeatable.",
)

_write_command(
    "advance",
    "Move the project on by ACTION.",
    [
        _code,
        click.argument("action"),
        click.option("--comment", default=None),
        _refs,
        expect_option,
    ],
    lambda e, code, action, **kw: e.advance(code, action, **kw),
)
_write_command(
    "ack",
    "Acknowledge a handoff to my side.",
    [_code, expect_option],
    lambda e, code, **kw: e.acknowledge(code, **kw),
)
_write_command(
    "check",
    "Tick (or --uncheck) a checklist item.",
    [_code, click.argument("item"), click.option("--uncheck", is_flag=True), expect_option],
    lambda e, code, item, uncheck, **kw: e.check(code, item, checked=not uncheck, **kw),
)
_write_command(
    "assign",
    "Make PERSON responsible.",
    [_code, click.argument("person"), expect_option],
    lambda e, code, person, **kw: e.assign(code, person, **kw),
)
_write_command(
    "comment",
    "Add a comment.",
    [_code, click.argument("text"), _refs, expect_option],
    lambda e, code, text, **kw: e.comment(code, text, **kw),
)
_write_command(
    "hold",
    "Pause the project (waiting for an external body).",
    [_code, click.option("--reason", required=True), expect_option],
    lambda e, code, **kw: e.hold(code, **kw),
)
_write_command(
    "resume", "End a hold.", [_code, expect_option], lambda e, code, **kw: e.resume(code, **kw)
)
_write_command(
    "force",
    "Move the project to STAGE (coordinators only, with a reason).",
    [_code, click.argument("stage"), click.option("--reason", required=True), expect_option],
    lambda e, code, stage, **kw: e.force(code, stage, **kw),
)


@project.command("history")
@click.argument("code")
@json_option
@pass_settings
def project_history(s: Settings, code: str, as_json: bool) -> None:
    """Everything that happened to the project, in order."""
    events = s.engine().history(code, actor=s.who())
    if as_json:
        echo_json([e.to_json() for e in events])
        return
    table(
        [
            (
                e.seq,
                _local(e.at),
                e.actor or "-",
                e.kind,
                e.action or (f"-> {e.to_stage}" if e.kind in ("created", "forced") else ""),
                (e.comment or "") + (f" [{', '.join(e.refs)}]" if e.refs else ""),
            )
            for e in events
        ],
        ["#", "when", "who", "what", "", "comment"],
    )


# -- planning tools: risks and cost-benefit analysis ---------------------------------


@project.group("risk", cls=ShemaGroup)
def project_risk() -> None:
    """The project's risk register (likelihood and impact 1-5, score = their product)."""


_rating = click.IntRange(1, 5)
_risk_status = click.Choice(["open", "mitigating", "closed"])


def _risk_number(value: str) -> int:
    from workflow.errors import UsageError

    raw = value.strip().upper().removeprefix("R")
    if not raw.isdigit():
        raise UsageError(f"{value!r} is not a risk number (e.g. R2 or 2)")
    return int(raw)


@project_risk.command("add")
@click.argument("code")
@click.option("--title", required=True, help="The risk, e.g. 'Būvdarbu izmaksas pārsniedz tāmi'.")
@click.option("--likelihood", type=_rating, default=None, help="1 (rare) to 5 (almost certain).")
@click.option("--impact", type=_rating, default=None, help="1 (minor) to 5 (severe).")
@click.option("--owner", default=None, help="The person who watches the risk.")
@click.option("--mitigation", default="", help="What is done to reduce it.")
@click.option("--status", type=_risk_status, default="open", show_default=True)
@expect_option
@json_option
@pass_settings
def project_risk_add(
    s: Settings,
    code: str,
    title: str,
    likelihood: int | None,
    impact: int | None,
    owner: str | None,
    mitigation: str,
    status: str,
    expect_version: int | None,
    as_json: bool,
) -> None:
    """Add a risk to the register (a project event)."""
    from engine.planning import add_risk

    out = add_risk(
        s.engine(),
        code,
        title=title,
        likelihood=likelihood,
        impact=impact,
        owner=owner,
        mitigation=mitigation,
        status=status,
        actor=s.who(),
        now=now(),
        expect_version=expect_version,
    )
    _print_outcome(
        out, as_json, f"{out.code}: risk R{out.data['risk']} added; version {out.version}"
    )


@project_risk.command("list")
@click.argument("code")
@json_option
@pass_settings
def project_risk_list(s: Settings, code: str, as_json: bool) -> None:
    """The risk register, highest score first."""
    from engine.planning import list_risks

    rows = list_risks(s.engine(), code, actor=s.who())
    if as_json:
        echo_json([r.to_json() for r in rows])
        return
    table(
        [
            (r.ref, r.likelihood, r.impact, r.score, r.level, r.status, r.owner, r.title,
             r.mitigation)
            for r in rows
        ],
        ["risk", "L", "I", "score", "level", "status", "owner", "risk", "mitigation"],
    )  # fmt: skip


@project_risk.command("update")
@click.argument("code")
@click.argument("risk")
@click.option("--title", default=None)
@click.option("--likelihood", type=_rating, default=None)
@click.option("--impact", type=_rating, default=None)
@click.option("--owner", default=None)
@click.option("--mitigation", default=None)
@click.option("--status", type=_risk_status, default=None)
@expect_option
@json_option
@pass_settings
def project_risk_update(
    s: Settings, /, code: str, risk: str, expect_version: int | None, as_json: bool, **fields: Any
) -> None:
    """Change a risk (RISK is R2 or 2); a risk is closed, never deleted."""
    from engine.planning import update_risk

    changes = {k: v for k, v in fields.items() if v is not None}
    out = update_risk(
        s.engine(),
        code,
        _risk_number(risk),
        changes,
        actor=s.who(),
        now=now(),
        expect_version=expect_version,
    )
    _print_outcome(
        out, as_json, f"{out.code}: risk R{out.data['risk']} updated; version {out.version}"
    )


@project.group("cba", cls=ShemaGroup)
def project_cba() -> None:
    """The project's cost-benefit analysis: NPV, benefit-cost ratio, IRR."""


@project_cba.command("set")
@click.argument("code")
@click.option(
    "--year",
    "years",
    nargs=3,
    multiple=True,
    metavar="YEAR COST BENEFIT",
    help="One year's costs and benefits, e.g. --year 2027 120000 0; repeat per year.",
)
@click.option(
    "--file",
    "flows_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="A CSV saved from a spreadsheet with columns year, cost, benefit "
    "(or gads, izmaksas, ieguvumi); comma, semicolon or tab separated.",
)
@click.option(
    "--discount-rate",
    "rate",
    default="4",
    show_default=True,
    help="Discount rate in per cent (4 or 3.5; '4%' works too).",
)
@click.option("--currency", default="EUR", show_default=True, help="EUR, or LVL for old figures.")
@expect_option
@json_option
@pass_settings
def project_cba_set(
    s: Settings,
    code: str,
    years: tuple[tuple[str, str, str], ...],
    flows_file: str | None,
    rate: str,
    currency: str,
    expect_version: int | None,
    as_json: bool,
) -> None:
    """Set (replace) the cost-benefit analysis from yearly flows."""
    from decimal import Decimal, InvalidOperation

    from engine.planning import parse_flows_csv, set_cba
    from workflow.cba import YearFlow
    from workflow.errors import UsageError
    from workflow.money import Money

    flows: list[YearFlow] = []
    if flows_file:
        try:
            flows += parse_flows_csv(Path(flows_file).read_text(encoding="utf-8-sig"))
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read {flows_file}: {exc}") from None
    for year, cost, benefit in years:
        try:
            flows.append(YearFlow(int(year), Money.parse(cost).amount, Money.parse(benefit).amount))
        except ValueError:
            raise UsageError(
                f"--year {year} {cost} {benefit}: expected a year, a cost and a benefit"
            ) from None
    if not flows:
        raise UsageError("give the yearly flows: --year YEAR COST BENEFIT (repeat) or --file")
    try:
        fraction = Decimal(rate.strip().rstrip("%").strip().replace(",", ".")) / 100
    except InvalidOperation:
        raise UsageError(f"--discount-rate {rate!r} is not a percentage") from None
    out = set_cba(
        s.engine(),
        code,
        flows,
        actor=s.who(),
        now=now(),
        discount_rate=fraction,
        currency=currency.upper(),
        expect_version=expect_version,
    )
    irr = out.data["irr"]
    _print_outcome(
        out,
        as_json,
        f"{out.code}: cost-benefit analysis set; NPV {out.data['npv']} {out.data['currency']}, "
        f"BCR {out.data['bcr'] or '-'}, IRR "
        f"{'-' if irr is None else f'{Decimal(irr) * 100:.2f} %'}; version {out.version}",
    )


def _percent(fraction: Any) -> str:
    """A fraction as a percentage without trailing zeros: 0.04 → '4 %', 0.035 → '3.5 %'."""
    return f"{fraction * 100:.4f}".rstrip("0").rstrip(".") + " %"


@project_cba.command("show")
@click.argument("code")
@json_option
@pass_settings
def project_cba_show(s: Settings, code: str, as_json: bool) -> None:
    """The cost-benefit analysis: yearly flows, present values, NPV, BCR, IRR."""
    from engine.planning import show_cba
    from workflow.errors import NotFound

    view = show_cba(s.engine(), code, actor=s.who())
    if view is None:
        raise NotFound(f"{code} has no cost-benefit analysis: `shema project cba set {code} …`")
    if as_json:
        echo_json(view.to_json())
        return
    cur = view.currency
    click.echo(f"{view.code}: cost-benefit analysis in {cur}, discount rate "
               f"{_percent(view.discount_rate)}")  # fmt: skip
    table(
        [(y.year, y.cost, y.benefit, y.net, y.discount_factor, y.present_value)
         for y in view.years],
        ["year", "cost", "benefit", "net", "factor", "present value"],
    )  # fmt: skip
    click.echo("")
    click.echo(f"  PV of costs:     {view.pv_costs} {cur}")
    click.echo(f"  PV of benefits:  {view.pv_benefits} {cur}")
    click.echo(f"  NPV:             {view.npv} {cur}"
               + (f" (= {view.npv_eur} EUR)" if view.npv_eur is not None else ""))  # fmt: skip
    click.echo(f"  BCR:             {view.bcr if view.bcr is not None else '-'}")
    if view.irr is not None:
        click.echo(f"  IRR:             {view.irr * 100:.2f} %")
    else:
        click.echo(f"  IRR:             - ({view.irr_reason})")
    for note in view.notes:
        click.echo(f"  note: {note}")


# -- ideas notebook ----------------------------------------------------------------


@main.group(cls=ShemaGroup)
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
@click.option("--scheme", "scheme_name", default=None, help="Scheme name (default: newest).")
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
    """Make the idea a project (in the newest scheme); prints the project's code."""
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
    from engine.report import spreadsheet_csv
    from workflow.labels import text

    engine = s.engine()
    rows = notebook.list_ideas(engine, actor=s.who(), status=statuses, lang=s.lang, **filters)
    if fmt == "csv":
        out = spreadsheet_csv(notebook.CSV_HEADER, notebook.csv_rows(rows), _delimiter(delimiter))
    else:
        with engine.db.read() as conn:
            name = text(engine.org_index(conn).org.municipality.name, s.lang)
        out = notebook.export_markdown(rows, title=name, now=now(), lang=s.lang)
    _emit(out, output)


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


def _delimiter(value: str) -> str:
    return "\t" if value.lower() in ("tab", "\\t") else value


def _emit(content: str, output: str | None) -> None:
    """`content` as UTF-8 to the file `output`, or to stdout when None or '-'."""
    data = content.encode("utf-8")
    if output and output != "-":
        Path(output).write_bytes(data)
        click.echo(f"wrote {output}")
    else:
        click.echo(data, nl=False)  # bytes go to the binary stream as they are


# -- portfolio report ----------------------------------------------------------------


@main.command()
@click.option(
    "--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
    show_default=True,
)  # fmt: skip
@click.option("--unit", default=None, help="Only this unit and the units below it.")
@click.option(
    "--soon",
    "soon_days",
    type=click.IntRange(0, 250),
    default=5,
    show_default=True,
    help="'Due soon' means within this many working days.",
)
@click.option("--delimiter", default=",", show_default=True, help="CSV: ',' or ';' (or 'tab').")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None)
@json_option
@pass_settings
def report(
    s: Settings,
    fmt: str,
    unit: str | None,
    soon_days: int,
    delimiter: str,
    output: str | None,
    as_json: bool,
) -> None:
    """The portfolio: projects by unit, stage and funding instrument; overdue and due-soon
    counts; average and longest time in each stage."""
    from engine import report as portfolio

    data = portfolio.portfolio(
        s.engine(), actor=s.who(), now=now(), unit=unit, soon_days=soon_days, lang=s.lang
    )
    if as_json or fmt == "json":
        out = json.dumps(data.to_json(), ensure_ascii=False, indent=2, default=str) + "\n"
    elif fmt == "csv":
        out = portfolio.spreadsheet_csv(
            portfolio.CSV_HEADER, portfolio.csv_rows(data), _delimiter(delimiter)
        )
    else:
        out = portfolio.format_text(data, s.lang)
    _emit(out, output)


# -- calendar ----------------------------------------------------------------------


@main.group(cls=ShemaGroup)
def calendar() -> None:
    """Latvian working days, with the municipality's own changes."""


def _calendar(s: Settings) -> Any:
    """The database's calendar when one is initialised with an organisation, else the
    national one."""
    from engine.calendars import stored_calendar
    from workflow.calendar import national_calendar

    found = stored_calendar(s.db_url)
    return found if found is not None else national_calendar()


@calendar.command("show")
@click.option("--year", type=int, required=True)
@json_option
@pass_settings
def calendar_show(s: Settings, year: int, as_json: bool) -> None:
    """Days off on weekdays and working days on weekends in YEAR."""
    entries = _calendar(s).entries(year, s.lang)
    if as_json:
        echo_json(
            [
                {"date": e.date.isoformat(), "kind": e.kind, "name": e.name, "source": e.source}
                for e in entries
            ]
        )
        return
    table(
        [
            (e.date.isoformat(), e.date.strftime("%a"), e.kind.replace("_", " "), e.source, e.name)
            for e in entries
        ],
        ["date", "", "kind", "source", "name"],
    )


@calendar.command("add-days")
@click.argument("start", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.argument("n", type=int)
@click.option("--calendar-days", is_flag=True, help="Count calendar days, not working days.")
@pass_settings
def calendar_add_days(s: Settings, start: dt.datetime, n: int, calendar_days: bool) -> None:
    """Print the date N working days (or calendar days) after START, ISO."""
    cal = _calendar(s)
    day = start.date()
    from workflow.scheme import Duration

    span = Duration(calendar_days=n) if calendar_days else Duration(working_days=n)
    result = cal.add(day, span)
    click.echo(result.isoformat())


@calendar.command("export")
@click.option("--person", default=None, help="Only deadlines waiting for this person.")
@click.option("--unit", default=None, help="Only deadlines of this unit and the units below.")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False), required=True, help="FILE.ics, or -."
)
@json_option
@pass_settings
def calendar_export(
    s: Settings, person: str | None, unit: str | None, output: str, as_json: bool
) -> None:
    """Upcoming deadlines as an iCalendar file for calendar programs."""
    from engine.ical import to_ics, upcoming
    from workflow.errors import UsageError

    if person and unit:
        raise UsageError("give --person or --unit, not both")
    at = now()
    events = upcoming(s.engine(), actor=s.who(), person=person, unit=unit, lang=s.lang)
    name = "Shēma: " + (person or unit or ("termiņi" if s.lang == "lv" else "deadlines"))
    data = to_ics(events, now=at, name=name).encode("utf-8")
    if output == "-":
        click.echo(data, nl=False)
        return
    Path(output).write_bytes(data)
    if as_json:
        echo_json({"file": output, "events": [e.to_json() for e in events]})
    else:
        click.echo(f"wrote {output}: {len(events)} deadlines")


# -- jobs and outbox ---------------------------------------------------------------


def _mail() -> Any:
    from engine.channels.config import mail_settings

    return mail_settings(os.environ)


@main.group(cls=ShemaGroup)
def jobs() -> None:
    """Reminders, escalations and mail delivery."""


ISO_FORMATS = [
    "%Y-%m-%dT%H:%M:%S%z",
    "%Y-%m-%dT%H:%M%z",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d",
]


@jobs.command("sweep")
@click.option(
    "--now",
    "at",
    type=click.DateTime(formats=ISO_FORMATS),
    default=None,
    help="Pretend it is this time (ISO; without an offset: Europe/Riga).",
)
@json_option
@pass_settings
def jobs_sweep(s: Settings, at: dt.datetime | None, as_json: bool) -> None:
    """One pass: fire due reminders and escalations, then deliver the outbox."""
    from engine.jobs import run_once

    when = now() if at is None else _aware(at)
    mail = _mail()
    swept, sent = run_once(s.engine(), mail, when)
    if as_json:
        echo_json(
            {
                "now": when.isoformat(),
                "sweep": swept.to_json(),
                "dispatch": sent.to_json(),
                "mail": mail.describe,
            }
        )
        return
    click.echo(
        f"{when.isoformat()}: fired {swept.fired} timers, {swept.messages} new "
        f"messages, {swept.escalations} escalations; sent {sent.sent}, retrying "
        f"{sent.retried}, failed {sent.failed}"
    )
    if not mail.channels:
        click.echo(mail.describe)
    for error in sent.errors:
        click.echo(f"  {error}", err=True)


def _aware(at: dt.datetime) -> dt.datetime:
    if at.tzinfo is not None:
        return at.astimezone(dt.UTC)
    from zoneinfo import ZoneInfo

    return at.replace(tzinfo=ZoneInfo("Europe/Riga")).astimezone(dt.UTC)


@jobs.command("run")
@click.option("--sweep-every", default=300, show_default=True, help="Seconds between sweeps.")
@click.option("--dispatch-every", default=60, show_default=True, help="Seconds between deliveries.")
@pass_settings
def jobs_run(s: Settings, sweep_every: int, dispatch_every: int) -> None:
    """Run the scheduler until interrupted (first pass at once, catching up downtime)."""
    import logging

    from engine.jobs import run_forever

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    mail = _mail()
    click.echo(f"shema jobs: {s.engine().db.safe_url}; mail: {mail.describe}")
    run_forever(s.engine(), mail, now, sweep_seconds=sweep_every, dispatch_seconds=dispatch_every)


@main.group(cls=ShemaGroup)
def outbox() -> None:
    """Messages waiting, sent and failed."""


@outbox.command("list")
@click.option("--status", type=click.Choice(["pending", "sending", "sent", "failed"]), default=None)
@click.option("--limit", default=100, show_default=True)
@json_option
@pass_settings
def outbox_list(s: Settings, status: str | None, limit: int, as_json: bool) -> None:
    """The newest outbox messages."""
    from sqlalchemy import select

    from storage.tables import outbox as box

    stmt = select(box).order_by(box.c.id.desc()).limit(limit)
    if status:
        stmt = stmt.where(box.c.status == status)
    with s.engine().db.read() as conn:
        rows = [dict(r._mapping) for r in conn.execute(stmt)]
    if as_json:
        echo_json([{k: v for k, v in r.items() if k != "body"} for r in rows])
        return
    table(
        [
            (r["id"], r["status"], r["attempts"], r["recipient_id"], r["kind"], r["subject"])
            for r in rows
        ],
        ["id", "status", "tries", "to", "kind", "subject"],
    )


@outbox.command("retry")
@pass_settings
def outbox_retry(s: Settings) -> None:
    """Give failed messages a fresh set of attempts (sent by the next sweep or `jobs run`)."""
    from engine.outbox import retry_failed

    n = retry_failed(s.engine().db, now())
    click.echo(f"{n} failed messages queued again")


# -- audit -------------------------------------------------------------------------


@main.group(cls=ShemaGroup)
def audit() -> None:
    """Check the tamper-evident history."""


@audit.command("verify")
@json_option
@pass_settings
def audit_verify(s: Settings, as_json: bool) -> None:
    """Recompute every project's hash chain; exit 1 naming the first broken event."""
    from engine.audit import verify

    report = verify(s.engine().db)
    if as_json:
        echo_json(report.to_json())
    for b in report.broken:
        click.echo(f"BROKEN {b['project']} event #{b['event']}: {b['reason']}", err=True)
    if not as_json:
        click.echo(
            f"{report.projects} projects, {report.events} events: "
            f"{'ok' if report.ok else f'{len(report.broken)} broken'}"
        )
    if not report.ok:
        sys.exit(1)


# -- demo --------------------------------------------------------------------------


@main.command()
@click.option(
    "--dir", "directory", type=click.Path(file_okay=False), default="shema-demo", show_default=True
)
def demo(directory: str) -> None:
    """Set up a demo database with the shipped scheme and organisation, and walk projects."""
    from engine.demo import run_demo

    result = run_demo(Path(directory), now=now(), echo=click.echo)
    click.echo("")
    click.echo("Try it:")
    click.echo(f"  export SHEMA_DB={result.db_url}")
    for line in result.hints:
        click.echo(f"  {line}")


# -- web ---------------------------------------------------------------------------


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@pass_settings
def web(s: Settings, host: str, port: int) -> None:
    """Serve the web interface (SHEMA_WEB_SECRET signs sessions; SHEMA_WEB_TRUSTED_HEADER
    with SHEMA_WEB_TRUSTED_PROXIES enables single sign-on through a proxy)."""
    import uvicorn

    from web.app import create_app

    s.engine()  # refuse a missing or outdated database before listening
    proxies = [p for p in os.environ.get("SHEMA_WEB_TRUSTED_PROXIES", "").split(",") if p.strip()]
    app = create_app(
        s.db_url,
        trusted_header=os.environ.get("SHEMA_WEB_TRUSTED_HEADER") or None,
        trusted_proxies=proxies,
        secret=os.environ.get("SHEMA_WEB_SECRET") or None,
        https_only=os.environ.get("SHEMA_WEB_HTTPS_ONLY", "") in ("1", "true", "yes"),
    )
    click.echo(f"Shēma web on http://{host}:{port} ({s.engine().db.safe_url}); Ctrl+C stops it")
    uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=False)


@main.group(cls=ShemaGroup)
def user() -> None:
    """Sign-in accounts for the web interface."""


@user.command("set-password")
@click.argument("person")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from the first line of stdin."
)
@pass_settings
def user_set_password(s: Settings, person: str, password_stdin: bool) -> None:
    """Set PERSON's web password (a coordinator may set anyone's, a person their own)."""
    from engine.accounts import set_password

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    set_password(s.engine(), person, password, actor=s.who())
    click.echo(f"password set for {person}")


def run() -> None:  # pragma: no cover - console entry for `python cli.py`
    main()


if __name__ == "__main__":  # pragma: no cover
    run()


__all__ = ["EnvironmentProblem", "main"]
