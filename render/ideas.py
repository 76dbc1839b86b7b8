"""The ideas notebook as text: a printable Markdown notebook, or CSV rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

from render.tables import markdown_text as md
from workflow.money import EUR

if TYPE_CHECKING:
    from engine.ideas import IdeaView

_LABELS = {
    "lv": {
        "notebook": "Ideju burtnīca",
        "made": "Sagatavots",
        "ideas": "idejas",
        "status": "Statuss",
        "priority": "Prioritāte",
        "proposer": "Ierosinātājs",
        "unit": "Struktūrvienība",
        "municipalities": "Partneru pašvaldības",
        "organisations": "Partnerorganizācijas",
        "instruments": "Iespējamie finansējuma avoti",
        "cost": "Aptuvenās izmaksas",
        "tags": "Birkas",
        "project": "Projekts",
        "none": "nav",
        "empty": "Burtnīcā nav ideju, kas atbilst atlasei.",
    },
    "en": {
        "notebook": "Ideas notebook",
        "made": "Prepared",
        "ideas": "ideas",
        "status": "Status",
        "priority": "Priority",
        "proposer": "Proposed by",
        "unit": "Unit",
        "municipalities": "Partner municipalities",
        "organisations": "Partner organisations",
        "instruments": "Candidate funding instruments",
        "cost": "Estimated cost",
        "tags": "Tags",
        "project": "Project",
        "none": "none",
        "empty": "No ideas in the notebook match the selection.",
    },
}


def _money(v: IdeaView) -> str:
    if v.cost is None:
        return ""
    out = f"{v.cost:.2f} {v.currency}"
    if v.currency != EUR and v.cost_eur is not None:
        out += f" (≈ {v.cost_eur:.2f} EUR)"
    return out


def export_markdown(
    views: Sequence[IdeaView], *, title: str, now: dt.datetime, lang: str = "lv"
) -> str:
    """The printable notebook: a heading per idea with its facts and description."""
    t = _LABELS[lang]
    made = now.astimezone(dt.UTC).date().isoformat()
    out = [
        f"# {t['notebook']} — {md(title)}",
        "",
        f"_{t['made']} {made} · {len(views)} {t['ideas']}_",
        "",
    ]
    if not views:
        out += [t["empty"], ""]
    for v in views:
        out += [f"## {v.id}. {md(v.title)}", ""]
        facts = [
            (t["status"], v.status_title),
            (t["priority"], v.priority_title),
            (t["proposer"], f"{v.proposer_name} ({v.proposer})"),
            (t["unit"], v.unit_name),
            (t["municipalities"], "; ".join(v.municipalities) or t["none"]),
            (t["organisations"], "; ".join(v.organisations) or t["none"]),
            (t["instruments"], "; ".join(v.instrument_titles) or t["none"]),
            (t["cost"], _money(v) or t["none"]),
            (t["tags"], " ".join(f"#{tag}" for tag in v.tags) or t["none"]),
        ]
        if v.project:
            facts.append((t["project"], v.project))
        out += [f"- **{name}:** {md(value)}" for name, value in facts]
        if v.description:
            out += [""] + [md(line) for line in v.description.splitlines()]
        out.append("")
    return "\n".join(out)


CSV_HEADER = [
    "id",
    "title",
    "status",
    "priority",
    "unit",
    "unit_name",
    "proposer",
    "proposer_name",
    "partner_municipalities",
    "partner_organisations",
    "instruments",
    "cost",
    "currency",
    "cost_eur",
    "tags",
    "project",
    "created_at",
    "description",
]


def csv_rows(views: Sequence[IdeaView]) -> list[list[str]]:
    """One row per idea under CSV_HEADER; lists joined with "; "."""
    return [
        [
            str(v.id),
            v.title,
            v.status,
            v.priority,
            v.unit,
            v.unit_name,
            v.proposer,
            v.proposer_name,
            "; ".join(v.municipalities),
            "; ".join(v.organisations),
            "; ".join(v.instruments),
            "" if v.cost is None else f"{v.cost:.2f}",
            v.currency,
            "" if v.cost_eur is None else f"{v.cost_eur:.2f}",
            "; ".join(v.tags),
            v.project or "",
            v.created_at.isoformat(),
            v.description,
        ]
        for v in views
    ]
