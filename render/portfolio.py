"""The portfolio report as text: one flat CSV table, or aligned plain-text tables."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from render.tables import figure_cell, text_table

if TYPE_CHECKING:
    from engine.report import Group, Portfolio

CSV_HEADER = [
    "section",
    "scheme",
    "key",
    "name",
    "projects",
    "active",
    "overdue",
    "due_soon",
    "budget_eur",
    "visits",
    "avg_days",
    "max_days",
    "deadline",
]


def csv_header(lang: str) -> list[str]:
    """CSV_HEADER as people read it in `lang` (the web's download); the command line
    keeps the stable names for scripts."""
    from render.catalogue import words

    w = words(lang)
    return [w[f"csv_{name}"] for name in CSV_HEADER]


def csv_rows(report: Portfolio) -> list[list[str]]:
    """The report as one flat table under CSV_HEADER: a `section` column says which
    breakdown a row belongs to (by_unit, by_stage, by_instrument, total)."""
    rows: list[list[Any]] = []
    for g in report.by_unit:
        rows.append(["by_unit", None, g.key, g.name, g.projects, g.active, g.overdue,
                     g.due_soon, g.budget_eur, None, None, None, None])  # fmt: skip
    for s in report.by_stage:
        rows.append(["by_stage", s.scheme, s.key, s.name, s.projects, None, s.overdue,
                     s.due_soon, None, s.visits, s.avg_days, s.max_days, s.deadline])  # fmt: skip
    for g in report.by_instrument:
        rows.append(["by_instrument", None, g.key, g.name, g.projects, g.active, g.overdue,
                     g.due_soon, g.budget_eur, None, None, None, None])  # fmt: skip
    t = report.totals
    rows.append(["total", None, "total", "", t["projects"], t["active"], t["overdue"],
                 t["due_soon"], t["budget_eur"], None, None, None, None])  # fmt: skip
    return [[figure_cell(c) for c in row] for row in rows]


_TITLES: dict[str, dict[str, Any]] = {
    "lv": {
        "head": "Portfelis",
        "unit": "Pa struktūrvienībām",
        "stage": "Pa posmiem (laiks posmā: pabeigtie posmi, dienās)",
        "instrument": "Pa finansējuma instrumentiem",
        "cols": ["projekti", "aktīvi", "nokavēti", "drīz", "budžets EUR"],
        "stage_cols": ["tagad", "nokavēti", "drīz", "posmi", "vid. d.", "maks. d.", "termiņš"],
        "ideas": "Ideju burtnīca",
        "soon": "drīz = termiņš līdz",
    },
    "en": {
        "head": "Portfolio",
        "unit": "By unit",
        "stage": "By stage (time in stage: finished visits, in days)",
        "instrument": "By funding instrument",
        "cols": ["projects", "active", "overdue", "soon", "budget EUR"],
        "stage_cols": ["now", "overdue", "soon", "visits", "avg d", "max d", "deadline"],
        "ideas": "Ideas notebook",
        "soon": "soon = due by",
    },
}


def _table(rows: Sequence[Sequence[Any]], headers: Sequence[str]) -> list[str]:
    return text_table(rows, headers, cell=figure_cell)


def _groups(groups: Sequence[Group], first: str, cols: list[str]) -> list[str]:
    rows = [(g.key, g.projects, g.active, g.overdue, g.due_soon, g.budget_eur, g.name)
            for g in groups]  # fmt: skip
    return _table(rows, [first, *cols, ""])


def format_text(report: Portfolio, lang: str = "lv") -> str:
    """The report as aligned plain-text tables (no colour: pipes read it too)."""
    t = _TITLES[lang]
    tot = report.totals
    soon = report.due_soon_until.astimezone(ZoneInfo("Europe/Riga")).date().isoformat()
    lines: list[str] = [
        f"{t['head']}: {tot['projects']} / {tot['active']} / {tot['overdue']} / "
        f"{tot['due_soon']} ({', '.join(t['cols'][:4])}); {tot['budget_eur']} EUR; "
        f"{t['soon']} {soon}",
        "",
        t["unit"],
    ]
    lines += _groups(report.by_unit, "unit", t["cols"])
    lines += ["", t["stage"]]
    several = len({s.scheme for s in report.by_stage}) > 1
    stage_rows = [
        ((f"{s.scheme}: " if several else "") + s.key, s.projects, s.overdue, s.due_soon,
         s.visits, s.avg_days, s.max_days, s.deadline, s.name)
        for s in report.by_stage
    ]  # fmt: skip
    lines += _table(stage_rows, ["stage", *t["stage_cols"], ""])
    lines += ["", t["instrument"]]
    lines += _groups(report.by_instrument, "instrument", t["cols"])
    if report.ideas:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(report.ideas.items()))
        lines += ["", f"{t['ideas']}: {counts}"]
    return "\n".join(lines) + "\n"
