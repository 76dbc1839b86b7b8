"""`shema` commands: Database set-up and health, the audit, the demo."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

import click

from commands.base import (
    Settings,
    ShemaGroup,
    echo_json,
    json_option,
    now,
    pass_settings,
    write_file,
)

# -- database ----------------------------------------------------------------------


@click.command()
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


@click.command()
@json_option
@pass_settings
def status(s: Settings, as_json: bool) -> None:
    """Health: schema revision, loaded scheme and organisation, projects."""
    from engine.status import status as read_status
    from storage.database import Database

    data = read_status(Database(s.db_url), now(), s.mail().describe)
    if not data.get("initialised"):
        # What is wrong goes to stderr in one line like every error; the facts to stdout.
        click.echo(f"shema: {data.get('problem') or 'the database is not initialised'}", err=True)
    if as_json:
        echo_json(data)
    else:
        for key, value in data.items():
            if key == "failed_messages":
                for m in value:
                    click.echo(f"failed message {m['id']} to {m['to']}: {m['error']}")
                continue
            click.echo(f"{key}: {value}")
    if not data.get("initialised"):
        sys.exit(3)


# -- audit -------------------------------------------------------------------------


@click.group(cls=ShemaGroup)
def audit() -> None:
    """Check the tamper-evident history."""


@audit.command("verify")
@click.option(
    "--anchor",
    "anchors",
    multiple=True,
    metavar="FILE|DIGEST",
    help="Also check against an anchor (`shema audit anchor`): its file names any project "
    "whose history is now shorter or different; a digest alone passes only an unchanged "
    "database. Both together: the file must have that digest.",
)
@click.option(
    "--full",
    is_flag=True,
    help="Re-hash and replay every project's whole history (an old event changed in place "
    "is found only so), not only what was appended since the last verify; then record the "
    "heads found whole anew.",
)
@json_option
@pass_settings
def audit_verify(s: Settings, anchors: tuple[str, ...], full: bool, as_json: bool) -> None:
    """Recompute the hash chain of what each project appended since the last verify and
    replay its history against the project's rows, checklist, risks and cost-benefit
    data (with --full: every project's whole chain); check role assignments against the
    organisation; record the heads found whole; exit 1 naming every problem."""
    from engine.audit import verify

    anchor = _anchor(anchors)
    report = verify(s.engine().db, anchor=anchor, full=full, now=now())
    if as_json:
        echo_json(report.to_json())
    for b in report.broken:
        if b["project"] is not None or b["project_id"] is not None:
            where = f"{b['project'] or '#' + str(b['project_id'])}"
            where += f" event #{b['event']}" if b["event"] is not None else ""
        else:
            where = b["where"]
        click.echo(f"BROKEN {where}: {b['reason']}", err=True)
    if not as_json:
        line = (
            f"{report.projects} projects, {report.events} events: "
            f"{'ok' if report.ok else f'{len(report.broken)} broken'}"
        )
        line += _checked(report)
        if report.anchor is not None:
            taken = report.anchor["taken_at"] or "digest only"
            line += f"; anchor {report.anchor['digest'][:12]}… ({taken})"
        if report.partial:
            line += (
                f"; {report.partial} projects have older events that do not record "
                f"{', '.join(report.not_checkable)}: not checked"
            )
        click.echo(line)
    if not report.ok:
        sys.exit(1)


def _checked(report: Any) -> str:
    """What the run checked: `; full` or `; incremental: … checked, … unchanged`."""
    if report.mode == "full":
        return "; full"
    c, k = report.checked, report.skipped
    return (
        f"; incremental: {c['projects']} projects and {c['events']} events checked, "
        f"{k['projects']} projects ({k['events']} events) unchanged since verified"
    )


def _is_file(value: str) -> bool:
    try:
        return Path(value).is_file()
    except (OSError, ValueError):  # a name too long to be a path is a digest or nothing
        return False


def _anchor(values: tuple[str, ...]) -> Any:
    """The anchor of `--anchor FILE|DIGEST` (at most one of each), or None."""
    from engine.audit import DIGEST, Anchor, digest_anchor, read_anchor
    from workflow.errors import UsageError

    files = [v for v in values if _is_file(v)]
    digests = [v.strip().lower() for v in values if v not in files]
    if len(files) > 1 or len(digests) > 1:
        raise UsageError(
            "give at most one anchor file and one anchor digest", code="anchor.too_many"
        )
    for d in digests:
        if not DIGEST.match(d):
            raise UsageError(
                f"--anchor {d[:80]!r}: no such file, and not a 64-hex-digit digest",
                code="anchor.not_a_digest",
                value=d[:80],
            )
    if not files:
        return digest_anchor(digests[0]) if digests else None
    anchor: Anchor = read_anchor(Path(files[0]).read_text(encoding="utf-8"), files[0])
    if digests and digests[0] != anchor.digest:
        raise UsageError(
            f"the anchor file {files[0]} has digest {anchor.digest}, not {digests[0]}: "
            "it is not the anchor you noted",
            code="anchor.digest_mismatch",
            file=files[0],
            digest=anchor.digest,
            given=digests[0],
        )
    return anchor


@audit.command("anchor")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the anchor file (JSON: every project's head, the version hashes, the digest).",
)
@json_option
@pass_settings
def audit_anchor(s: Settings, output: str | None, as_json: bool) -> None:
    """Print one digest over every project's history head and every organisation and
    scheme version hash; keep it (and the file of -o) outside the database for
    `audit verify --anchor`."""
    from engine.audit import dump_anchor, take_anchor

    doc = take_anchor(s.engine().db, now())
    if output:
        write_file(output, dump_anchor(doc).encode("utf-8"))
    if as_json:
        echo_json(doc)
    else:
        click.echo(
            f"{doc['digest']}  {doc['count']} projects, {len(doc['org_versions'])} organisation "
            f"and {len(doc['scheme_versions'])} scheme versions, {doc['taken_at']}"
            + (f" (written to {output})" if output else "")
        )


# -- demo --------------------------------------------------------------------------


@click.command()
@click.option(
    "--dir", "directory", type=click.Path(file_okay=False), default="shema-demo", show_default=True
)
def demo(directory: str) -> None:
    """Set up a demo database with the shipped scheme and organisation, and walk projects."""
    from engine.demo import run_demo

    at = now()
    result = run_demo(Path(directory), now=at, echo=click.echo)
    _demo_summary(result.db_url, at)
    click.echo("")
    click.echo("Try it:")
    click.echo(f"  export SHEMA_DB={result.db_url}")
    for line in result.hints:
        click.echo(f"  {line}")


def _demo_summary(db_url: str, at: dt.datetime) -> None:
    """What the demo made: its projects, its ideas notebook and the portfolio."""
    from engine import ideas, report
    from engine.demo import COORDINATOR
    from engine.service import Engine
    from render.portfolio import format_text
    from storage.database import Database

    db = Database(db_url)
    try:
        engine = Engine(db)
        click.echo("")
        click.echo(f"{'code':<14}  {'unit':<26}  {'stage':<15}  {'held by':<40}  title")
        for p in engine.list_projects(actor=COORDINATOR, lang="lv"):
            click.echo(f"{p.code:<14}  {p.unit:<26}  {p.stage:<15}  {p.holder[:40]:<40}  {p.title}")
        click.echo("")
        click.echo("Ideju burtnīca / ideas notebook:")
        for v in ideas.list_ideas(engine, actor=COORDINATOR, include_archived=True):
            partners = ", ".join(v.municipalities + v.organisations)
            click.echo(
                f"  #{v.id} {v.status:<17} {v.unit:<26} {v.title}"
                + (f" -> {v.project}" if v.project else "")
                + (f"\n     partneri: {partners}" if partners else "")
            )
        click.echo("")
        click.echo(format_text(report.portfolio(engine, actor=COORDINATOR, now=at), "lv"))
    finally:
        db.dispose()
