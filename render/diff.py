"""A scheme comparison in words: what `shema scheme diff` prints and the coordinator page
shows, grouped by kind ("Posmi", "Darbības" …), one line per thing:

    Posmi
      + application_review „Pieteikuma pārbaude”
      − old_stage „Vecais posms”
      ~ pre_assessment: termiņš 10 → 15 darba dienas

Ids stay as the file spells them (a coordinator edits the file by them); the labels of
what was added or removed are given in the reader's language. Every word comes from the
``diff_`` catalogue (render/locale/<lang>/LC_MESSAGES/diff.po).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from render.catalogue import Words, words
from workflow.diff import KINDS, Change, Entry, Kind, SchemeDiff

SIGNS = {"added": "+", "removed": "−", "changed": "~"}
KIND_KEYS: dict[Kind, str] = {
    "scheme": "diff_kind_scheme",
    "calendar": "diff_kind_calendar",
    "dates": "diff_kind_dates",
    "roles": "diff_kind_roles",
    "stages": "diff_kind_stages",
    "checklist": "diff_kind_checklist",
    "actions": "diff_kind_actions",
}
# Fields whose value is a list of ids: shown as what was added and removed.
ID_LISTS = frozenset({"participants", "from", "by", "requires", "notify", "gates"})
DURATIONS = frozenset({"deadline", "handoff_deadline"})


@dataclass(frozen=True, slots=True)
class Group:
    """The lines of one kind under its heading."""

    kind: Kind
    heading: str
    lines: tuple[str, ...]


def groups(d: SchemeDiff, lang: str) -> list[Group]:
    """The differences by kind, in the diff's order; empty when there are none."""
    w = words(lang)
    out = []
    for kind in KINDS:
        entries = d.of(kind)
        if entries:
            lines = tuple(entry_line(e, w) for e in entries)
            out.append(Group(kind, w[KIND_KEYS[kind]], lines))
    return out


def lines(d: SchemeDiff, lang: str, a: str | None = None, b: str | None = None) -> list[str]:
    """The whole comparison as text lines: a title naming `a` and `b` when given, each
    kind's heading and its indented lines, or the sentence that there is no difference."""
    w = words(lang)
    out = [w["diff_title"].format(a=a, b=b)] if a is not None and b is not None else []
    found = groups(d, lang)
    if not found:
        return [*out, w["diff_none"]]
    for group in found:
        out.append(f"{group.heading}:")
        out.extend(f"  {line}" for line in group.lines)
    return out


# -- one entry -----------------------------------------------------------------------


def entry_line(e: Entry, w: Words) -> str:
    """One added, removed or changed thing: its sign, id, and title or changes."""
    sign = SIGNS[e.op]
    if e.op != "changed":
        title = label(e.title, w.lang)
        return (
            f"{sign} {e.key} {quoted(title, w)}" if title and title != e.key else f"{sign} {e.key}"
        )
    said = "; ".join(change_text(c, w) for c in e.changes)
    return f"{sign} {e.key}: {said}" if e.key else f"{sign} {said}"


def change_text(c: Change, w: Words) -> str:
    """One field's change: "termiņš 10 → 15 darba dienas", "prasa atzīmēt + photos"."""
    name = w.get(f"diff_field_{c.field}", c.field)
    if c.field == "description":
        return f"{name} {w['diff_changed']}"
    if c.field in ID_LISTS and isinstance(c.old, list) and isinstance(c.new, list):
        moved = _list_moves(c.old, c.new)
        if moved:
            return f"{name} {moved}"
    if c.field in DURATIONS:
        return f"{name} {_durations(c.old, c.new, w)}"
    show = _SHOWN.get(c.field, _shown)
    return f"{name} {show(c.old, w)} → {show(c.new, w)}"


def _list_moves(old: list[Any], new: list[Any]) -> str:
    """ "+ a, − b" for ids added to and removed from a list; "" when only the order moved."""
    plus = [f"+ {v}" for v in new if v not in old]
    minus = [f"− {v}" for v in old if v not in new]
    return ", ".join([*plus, *minus])


def _durations(old: Any, new: Any, w: Words) -> str:
    """Two spans: "10 → 15 darba dienas" when only the count moved, else both in full."""
    if (
        isinstance(old, dict)
        and isinstance(new, dict)
        and old.keys() == new.keys()
        and old.get("before") == new.get("before")
        and len(old) == 1
    ):
        (unit,) = old.keys()
        return f"{old[unit]} → {duration(new, w)}"
    return f"{duration(old, w)} → {duration(new, w)}"


def duration(value: Any, w: Words, *, before: str | None = None, after: bool = False) -> str:
    """A span as words: "10 darba dienas", "5 darba dienas pirms call_deadline",
    "pēc 1 darba dienas"; "nav" for none."""
    if not isinstance(value, dict):
        return w["diff_nothing"]
    working = "working_days" in value
    n = int(value.get("working_days") or value.get("calendar_days") or 0)
    unit = "working" if working else "calendar"
    until = before or value.get("before")
    if after:
        return w.n(f"diff_{unit}_days_after_n", n)
    if until:
        return w.n(f"diff_{unit}_days_before_n", n, date=until)
    return w.n(f"diff_{unit}_days_n", n)


def label(value: Any, lang: str) -> str:
    """A label given as plain data (a string or a {"lv", "en"} mapping) in `lang`."""
    if isinstance(value, dict):
        found = value.get(lang) or value.get("lv") or value.get("en")
        return str(found) if found else ""
    return "" if value is None else str(value)


def quoted(value: str, w: Words) -> str:
    """A title in the language's quotation marks: „Ideja”, “Idea”."""
    return f"“{value}”" if w.lang == "en" else f"„{value}”"


def _shown(value: Any, w: Words) -> str:
    if value is None or value == []:
        return w["diff_nothing"]
    if isinstance(value, bool):
        return w["diff_yes"] if value else w["diff_no"]
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return quoted(label(value, w.lang), w)
    return str(value)


def _title(value: Any, w: Words) -> str:
    return quoted(label(value, w.lang), w) if value is not None else w["diff_nothing"]


def _reminders(value: Any, w: Words) -> str:
    if not value:
        return w["diff_nothing"]
    return ", ".join(duration(r.get("before"), w, before=w["diff_the_deadline"]) for r in value)


def _escalation(value: Any, w: Words) -> str:
    if not value:
        return w["diff_nothing"]
    return ", ".join(
        w["diff_escalation_step"].format(
            after=duration(s.get("after"), w, after=True), role=s["to"]
        )
        for s in value
    )


def _comment(value: Any, w: Words) -> str:
    return w["diff_comment_required"] if value == "required" else w["diff_comment_optional"]


def _level(value: Any, w: Words) -> str:
    return w["diff_level_central"] if value == "central" else w["diff_level_parish"]


_SHOWN: dict[str, Callable[[Any, Words], str]] = {
    "title": _title,
    "reminders": _reminders,
    "escalation": _escalation,
    "comment": _comment,
    "level": _level,
}
