"""`shema project migrate`: move running projects to another version of their scheme.

A dry run unless `--apply`. Importing this module adds `migrate` under the `project`
group (cli.py imports it)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from commands.base import Settings, echo_json, fail, json_option, now, pass_settings
from commands.projects import project
from workflow.errors import UsageError

if TYPE_CHECKING:
    from engine.migration import ProjectPlan
    from render.catalogue import Words

MAP_FILE_BYTES = 100_000  # a stage map is a few lines
PROGRESS_FROM = 50  # projects; fewer finish before a bar would help


def parse_map(items: tuple[str, ...], file: str | None) -> dict[str, str]:
    """`--map old=new` options and the lines of `--map-file` (blank lines and `#`
    comments skipped) as old stage → new stage; the options win over the file."""
    lines: list[str] = []
    if file is not None:
        with Path(file).open("rb") as fh:
            raw = fh.read(MAP_FILE_BYTES + 1)
        try:
            if len(raw) > MAP_FILE_BYTES:
                raise ValueError(f"larger than {MAP_FILE_BYTES} bytes")
            text = raw.decode("utf-8")
        except ValueError as exc:  # UnicodeDecodeError is one
            raise UsageError(
                f"the stage map file {file[:100]!r} cannot be read: {str(exc)[:80]}",
                code="migration.map_file_unreadable",
                file=file[:100],
            ) from None
        lines += [ln.split("#", 1)[0].strip() for ln in text.splitlines()]
    out: dict[str, str] = {}
    for item in [*(ln for ln in lines if ln), *items]:
        old, sep, new = item.partition("=")
        if not sep or not old.strip() or not new.strip():
            raise UsageError(
                f"stage map entry {item[:60]!r}: expected OLD=NEW",
                code="migration.bad_map_entry",
                entry=item[:60],
            )
        out[old.strip()] = new.strip()
    return out


def _names(w: Words) -> dict[str, str]:
    """The words for a plan's codes: statuses, clock kinds and modes, timer steps."""
    return {
        "kind_stage": w["migrate_kind_stage"],
        "kind_duty": w["migrate_kind_duty"],
        "kind_handoff": w["migrate_kind_handoff"],
        "mode_kept": w["migrate_mode_kept"],
        "mode_recomputed": w["migrate_mode_recomputed"],
        "mode_opened": w["migrate_mode_opened"],
        "mode_closed": w["migrate_mode_closed"],
        "step_reminder": w["migrate_step_reminder"],
        "step_overdue": w["migrate_step_overdue"],
        "step_escalation": w["migrate_step_escalation"],
        "gate_risk_register": w["migrate_gate_risk_register"],
        "gate_cost_benefit": w["migrate_gate_cost_benefit"],
    }


def _step(names: dict[str, str], step: str) -> str:
    for prefix in ("reminder", "escalation"):
        if step.startswith(prefix):
            return f"{names['step_' + prefix]} {int(step.removeprefix(prefix)) + 1}"
    return names["step_overdue"]


def plan_lines(p: ProjectPlan, lang: str, applied: bool) -> list[str]:
    """One project's plan as the lines the command prints."""
    from render import formats
    from render.catalogue import words
    from render.refusals import render

    w = words(lang)
    names = _names(w)
    none = w["migrate_none"]
    status = {
        "migrate": w["migrate_done"] if applied else w["migrate_will"],
        "refused": w["migrate_refused"],
        "current": w["migrate_current"],
    }[p.status]
    out = [f"{p.code}: {status}"]
    if p.error is not None:
        return [*out, f"  {render(p.error, lang)}"]
    out.append(
        "  "
        + w["migrate_versions"].format(scheme=p.scheme, before=p.from_version, after=p.to_version)
    )
    out.append("  " + w["migrate_stage"].format(before=p.stage_before, after=p.stage_after))
    for key, items in (
        ("migrate_ticks_kept", p.ticks_kept),
        ("migrate_ticks_dropped", p.ticks_dropped),
        ("migrate_items_added", p.items_added),
    ):
        if items:
            out.append("  " + w[key].format(items=", ".join(items)))
    for c in p.clocks:
        out.append(
            "  "
            + w["migrate_clock"].format(
                kind=names[f"kind_{c.kind}"],
                before=formats.day(c.before, lang) or none,
                after=formats.day(c.after, lang) or none,
                mode=names[f"mode_{c.mode}"],
            )
        )
    for t in p.timers:
        out.append(
            "    "
            + w["migrate_timer"].format(
                step=_step(names, t.step),
                before=formats.day(t.before, lang) or none,
                after=formats.day(t.after, lang) or none,
            )
        )
    if p.handoff is not None:
        key = "migrate_handoff_survives" if p.handoff.survives else "migrate_handoff_lost"
        out.append("  " + w[key].format(before=p.handoff.from_level, after=p.handoff.to_level))
    for action, gate in p.gates_unmet:
        out.append("  " + w["migrate_gate"].format(action=action, gate=names[f"gate_{gate}"]))
    if p.responsible_dropped:
        out.append("  " + w["migrate_responsible_dropped"].format(person=p.responsible_dropped))
    return out


def summary(plans: dict[str, int], lang: str, applied: bool) -> str:
    from render.catalogue import words

    w = words(lang)
    key = "migrate_summary" if applied else "migrate_summary_dry"
    return w[key].format(
        migrated=plans["migrate"], refused=plans["refused"], current=plans["current"]
    )


@project.command("migrate")
@click.argument("codes", nargs=-1)
@click.option(
    "--from-version",
    type=click.IntRange(1, 2**31 - 1),
    default=None,
    help="Migrate every project on this version number of the scheme (instead of CODEs).",
)
@click.option(
    "--to-version",
    type=click.IntRange(1, 2**31 - 1),
    required=True,
    help="The version number to move to. Versions are numbers of the scheme the projects "
    "follow: --to-version 2 is version 2 of the same scheme name.",
)
@click.option("--scheme", default=None, help="The scheme name (when several are loaded).")
@click.option(
    "--map",
    "maps",
    multiple=True,
    metavar="OLD=NEW",
    help="Where projects in a renamed or removed stage go; repeatable. A stage of the "
    "same name maps to itself.",
)
@click.option(
    "--map-file",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="A file of OLD=NEW lines (# starts a comment).",
)
@click.option(
    "--recompute-deadlines",
    is_flag=True,
    help="Count the open stage deadline again from the stage's entry under the new rule "
    "(default: keep its due date).",
)
@click.option("--apply", "write", is_flag=True, help="Migrate; without it nothing changes.")
@json_option
@pass_settings
def project_migrate(
    s: Settings,
    codes: tuple[str, ...],
    from_version: int | None,
    to_version: int,
    scheme: str | None,
    maps: tuple[str, ...],
    map_file: str | None,
    recompute_deadlines: bool,
    write: bool,
    as_json: bool,
) -> None:
    """Move running projects (the CODEs, or all on --from-version) to version
    --to-version of their scheme. Prints per project what changes (stage, checklist
    ticks kept and dropped, deadlines kept or recomputed, reminders and escalations,
    a pending handoff, gates newly unmet) or why it is refused, then the counts. A dry
    run unless --apply; exits 1 if any project was refused."""
    from engine import migration

    engine = s.engine()
    args: dict[str, Any] = {
        "codes": list(codes) or None,
        "from_version": from_version,
        "to_version": to_version,
        "stage_map": parse_map(maps, map_file),
        "recompute_deadlines": recompute_deadlines,
        "actor": s.who(),
        "now": now(),
        "scheme": scheme,
    }
    counts = {"migrate": 0, "refused": 0, "current": 0}
    found: list[dict[str, Any]] = []
    total = migration.count(engine, codes=args["codes"], from_version=from_version, scheme=scheme)
    run = migration.apply if write else migration.plan
    with (
        click.progressbar(length=total, label=_progress(s.lang), file=sys.stderr)
        if total >= PROGRESS_FROM
        else _Quiet() as bar
    ):

        def each(p: ProjectPlan) -> None:
            counts[p.status] += 1
            bar.update(1)
            if as_json:
                found.append(p.to_json())
            else:
                click.echo("\n".join(plan_lines(p, s.lang, write)))

        run(engine, **args, each=each)
    if as_json:
        echo_json({"applied": write, "projects": found, "counts": counts})
    else:
        click.echo(summary(counts, s.lang, write))
        if not write:
            from render.catalogue import words

            click.echo(words(s.lang)["migrate_dry_run"])
    if counts["refused"]:  # the reasons are above; stderr says why the exit is 1
        from render.catalogue import words

        fail(words(s.lang).n("migrate_refused_exit", counts["refused"]), 1)


def _progress(lang: str) -> str:
    from render.catalogue import words

    return words(lang)["migrate_progress"]


class _Quiet:
    """A progress bar that shows nothing (short runs)."""

    def __enter__(self) -> _Quiet:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, n: int) -> None:
        return None
