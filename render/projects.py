"""Projects as the command line prints them, in the reader's language: the list (with
what each project asks of the reader, for `--mine`), one project, and its actions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from zoneinfo import ZoneInfo

from engine.views import ActionView, DeadlineView, ProjectView
from render import formats
from render.catalogue import words
from render.speech import Speech
from render.tables import text_table
from workflow.labels import text

RIGA = ZoneInfo("Europe/Riga")


def _when(value: dt.datetime | None, lang: str) -> str:
    return formats.when(value, lang, RIGA) if value is not None else "-"


def due(p: ProjectView | DeadlineView, lang: str) -> str:
    """A running deadline: its local date, "NOKAVĒTS" when past, the working days."""
    if p.due_at is None:
        return ""
    w = words(lang)
    mark = f"{w['mark_overdue']} " if p.overdue else ""
    left = f" ({formats.days(p.days_left, lang)})" if p.days_left is not None else ""
    return f"{mark}{formats.day(p.due_at.astimezone(RIGA).date(), lang)}{left}"


def _marks(p: ProjectView, lang: str) -> str:
    """What a list row must not hide: a hold stops the clock; an unstaffed stage means
    its messages go to the coordinators."""
    w = words(lang)
    marks = [w["mark_on_hold"]] if p.hold_since is not None else []
    if p.unstaffed:
        marks.append(w["mark_unstaffed"])
    return ", ".join(marks)


def project_list(rows: Sequence[ProjectView], speech: Speech, *, asked: bool) -> list[str]:
    """The lines of `shema project list`; `asked` adds what each project asks."""
    lang, w = speech.lang, speech.w
    headers = ["code", "unit", "scheme", "stage", "due", "holder", "note", "title"]
    if asked:
        headers.append("asked")
    lines = []
    for r in rows:
        cells = [
            r.code,
            r.unit,
            f"{r.scheme} v{r.scheme_version}",
            r.stage,
            due(r, lang),
            r.holder,
            _marks(r, lang),
            r.title,
        ]
        if asked:
            cells.append("; ".join(speech.asks(r.asks)))
        lines.append(cells)
    return text_table(lines, [w[f"col_{h}"] for h in headers])


def project_show(p: ProjectView, speech: Speech, echo: Callable[[str], None]) -> None:
    """`shema project show`: one project, a fact per line."""
    lang, w = speech.lang, speech.w
    width = max(len(w[k]) for k in ("show_unit", "show_stage", "show_holder", "show_due")) + 2

    def fact(key: str, value: str) -> None:
        echo(f"  {(w[key] + ':').ljust(width)}{value}")

    echo(f"{p.code}  {p.title}")
    fact("show_unit", f"{p.unit_name} ({p.unit})")
    fact("show_scheme", f"{p.scheme} v{p.scheme_version}")
    since = w["show_since"]
    fact("show_stage", f"{p.stage_title} ({p.stage}) {since} {_when(p.stage_entered_at, lang)}")
    fact("show_holder", f"{p.holder} {since} {_when(p.holder_since, lang)}")
    if p.handoff:
        h = p.handoff
        who = ", ".join(speech.name(r) for r in h.receivers)
        fact(
            "show_handoff",
            w["show_handoff_text"].format(
                source=speech.side(h.from_level),
                target=speech.side(h.to_level),
                who=who,
                code=p.code,
            ),
        )
    for d in p.deadlines:
        if d.kind == "external":
            fact("clk_show_external", _waits(d, p.stage, speech))
            continue
        key = {"stage": "show_due", "duty": "show_duty", "handoff": "show_ack_by"}[d.kind]
        what = f"{d.title}: " if d.kind == "duty" else ""
        fact(key, f"{what}{due(d, lang)}{' ' + w['show_paused'] if d.paused else ''}")
    if p.hold_since:
        fact("show_on_hold", f"{since} {_when(p.hold_since, lang)}: {p.hold_reason}")
    if p.idea_id is not None:
        fact("show_idea", f"#{p.idea_id} (`shema idea show {p.idea_id}`)")
    if p.budget_amount is not None:
        fact("show_budget", formats.money(p.budget_amount, p.budget_currency, lang))
    fact("show_version", str(p.version))
    for item in p.checklist:
        mark = "x" if item.checked else " "
        by = item.checked_by
        who = f"  ({speech.name(by)}, {_when(item.checked_at, lang)})" if item.checked_at else ""
        echo(f"  [{mark}] {item.title} ({item.item}){who}")


def _waits(d: DeadlineView, stage: str, speech: Speech) -> str:
    """An outside body's clock: whom the stage waits on and until when; past that, a
    prompt to follow up (never "overdue": the delay is not the municipality's)."""
    lang, w = speech.lang, speech.w
    spec = speech.scheme.stages.get(stage) if speech.scheme is not None else None
    clock = spec.waits_on if spec is not None else None
    body = text(clock.body, lang) if clock is not None else "?"
    date = formats.day(d.due_at.astimezone(RIGA).date(), lang)
    return w["clk_waits_lapsed" if d.overdue else "clk_waits_until"].format(body=body, date=date)


def action_table(actions: Sequence[ActionView], speech: Speech, stage: str) -> list[str]:
    """`shema project actions`: each action, where it leads, and what still blocks it."""
    w = speech.w
    rows = [
        (
            a.action,
            a.to,
            w["yes"] if a.handoff else "",
            w["required"] if a.comment == "required" else "",
            w["ready"] if a.ready else "; ".join(speech.blocked(b, stage) for b in a.why),
        )
        for a in actions
    ]
    headers = ["action", "to", "handoff", "comment", "state"]
    return text_table(rows, [w[f"col_{h}"] for h in headers])
