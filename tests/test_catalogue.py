"""The interface's catalogues: every message in both languages with the same
placeholders, plural entries with every form of their language, and every key a
template or an edge asks for present."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from engine.audit.replay import _STEPS as EVENT_KINDS
from engine.queue import KINDS as ASK_KINDS
from render.catalogue import read, words
from workflow.risks import RiskStatus

ROOT = Path(__file__).parent.parent
TEMPLATES = sorted((ROOT / "web" / "templates").glob("*.html"))
SOURCES = sorted(p for d in ("web", "render", "commands") for p in (ROOT / d).rglob("*.py"))
# Keys a template builds from a prefix and a value, with every value it can meet.
BUILT = {
    "group_": ASK_KINDS,
    "ask_": [k for k in ASK_KINDS if k != "checklist"],
    "risk_": [s.value for s in RiskStatus],
    "level_": ["low", "medium", "high", "critical"],
    "event_": list(EVENT_KINDS),
    "blocked_": ["handoff", "on_hold", "unticked", "gate_risk_register", "gate_cost_benefit"],
    "side_": ["parish", "central"],
    "task_currency_": ["EUR", "LVL"],
    "sort_": ["deadline", "stage", "unit", "code"],
    "task_likelihood_": [str(n) for n in range(1, 6)],
    "task_impact_": [str(n) for n in range(1, 6)],
    "task_risk_status_": [s.value for s in RiskStatus],
    "task_risk_level_": ["low", "medium", "high", "critical"],
}


def messages(lang: str) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for catalogue in read(lang):
        for m in catalogue:
            if m.id:
                key = m.id if isinstance(m.id, str) else m.id[0]
                out[key] = (m.string,) if isinstance(m.string, str) else tuple(m.string)
    return out


def placeholders(texts: tuple[str, ...]) -> set[str]:
    return {n for t in texts for _, n, _, _ in string.Formatter().parse(t) if n}


def test_both_languages_hold_the_same_keys_with_the_same_placeholders() -> None:
    lv, en = messages("lv"), messages("en")
    assert sorted(set(lv) ^ set(en)) == []
    for key in lv:
        assert all(lv[key]) and all(en[key]), f"{key} has an empty translation"
        assert placeholders(lv[key]) == placeholders(en[key]), key


def test_plural_entries_have_every_form_of_their_language() -> None:
    lv, en = messages("lv"), messages("en")
    plural = [k for k, v in lv.items() if len(v) > 1 or len(en[k]) > 1]
    assert plural, "the catalogue has plural entries"
    for key in plural:
        assert len(lv[key]) == 3 and len(en[key]) == 2, key
    w = words("lv")
    assert w.n("days_left_n", 1) == "atlikusi 1 darba diena"
    assert w.n("days_left_n", 3) == "atlikušas 3 darba dienas"
    assert w.n("days_over_n", 4) == "nokavēts par 4 darba dienām"
    assert w.n("days_over_n", 21) == "nokavēts par 21 darba dienu"


def _asked_in(text: str, template: bool) -> set[str]:
    """Keys a template or module asks for by name: w.key (templates), w["key"],
    w.n("key", …)."""
    found = set(re.findall(r"\bw\.(?!n\()(\w+)", text)) if template else set()
    found |= set(re.findall(r"\bw\[\s*[\"'](\w+)[\"']\s*\]", text))
    found |= set(re.findall(r"\bw\.n\(\s*[\"'](\w+)[\"']", text))
    found |= set(re.findall(r"words\([^)]*\)\[\s*[\"'](\w+)[\"']\s*\]", text))
    return found


@pytest.mark.parametrize("path", TEMPLATES + SOURCES, ids=lambda p: p.name)
def test_every_key_asked_for_is_in_the_catalogue(path: Path) -> None:
    known = set(messages("lv"))
    asked = _asked_in(path.read_text(encoding="utf-8"), path.suffix == ".html")
    methods = {"get", "items", "keys", "values", "lang", "format"}
    assert sorted(asked - known - methods) == [], path.name


def test_every_key_built_from_a_value_is_in_the_catalogue() -> None:
    known = set(messages("lv"))
    built = {prefix + value for prefix, values in BUILT.items() for value in values}
    assert sorted(built - known) == []
    for path in TEMPLATES + SOURCES:
        for prefix in re.findall(r"[\"'](\w+_)[\"']\s*~", path.read_text(encoding="utf-8")):
            assert prefix in BUILT, f"{path.name} builds keys from {prefix!r}: list its values"
