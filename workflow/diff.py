"""What differs between two schemes: two versions of one, or two municipalities' files.

Pure data, no database. ``diff(a, b)`` compares the validated models and returns a
:class:`SchemeDiff`, a tuple of :class:`Entry` values in a stable order:

* by kind, in :data:`KINDS` order — ``scheme`` (title, description, initial stage,
  handoff deadline, the scheme's name), ``calendar``, ``dates`` (project dates),
  ``roles``, ``stages``, ``checklist`` (items per stage), ``actions``;
* within a kind: the ``added`` ones in ``b``'s order, the ``removed`` ones in ``a``'s
  order, then the ``changed`` ones in ``b``'s order.

An entry names what it is about (``key``: the stage, action, role or date id; for a
checklist item ``"stage.item"``, with ``stage`` and ``item`` apart) and its ``path``
(``stages.idea``, ``stages.idea.checklist.site_ownership``; empty for ``scheme``,
``calendar`` for the calendar). ``title`` is its label as plain data (a string, or a
``{"lv": …, "en": …}`` mapping, or None) from ``b`` — from ``a`` when removed.

A changed entry lists its :class:`Change` values, one per field in the model's field
order, each with the field's ``path`` (``stages.pre_assessment.deadline``), its ``field``
(:data:`FIELDS`: ``title``, ``deadline``, ``reminders``, ``escalation``, ``gates``,
``requires``, ``level`` …; an action's sources are ``from``, as in the file) and the
``old`` → ``new`` values as JSON-able data (a deadline is ``{"working_days": 10}``; a
missing value is None). Deadlines, reminders, escalation ladders and gates are fields of
their stage or action; a role's level is a field of the role. A checklist item is
compared only in stages both schemes have (a removed stage takes its items with it).

A rename is a removal plus an addition: nothing here guesses that two ids mean the same
thing (mapping stages is the migration's job).

    d = diff(old, new)
    d.removed("stages")          # ["old_stage"]
    d.added("checklist")         # ["application.new_item"]
    d.changed("stages")[0].change("deadline").new   # {"working_days": 15}
    d.to_json()                  # {"a": …, "b": …, "same": False, "entries": [...]}
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel

from workflow.scheme import Action, Role, Scheme, Stage

Kind = Literal["scheme", "calendar", "dates", "roles", "stages", "checklist", "actions"]
Op = Literal["added", "removed", "changed"]

KINDS: tuple[Kind, ...] = ("scheme", "calendar", "dates", "roles", "stages", "checklist", "actions")
OPS: tuple[Op, ...] = ("added", "removed", "changed")

# The fields compared, per kind, in the model's order (as the file spells them).
SCHEME_FIELDS = ("scheme", "title", "description", "initial", "handoff_deadline")
CALENDAR_FIELDS = ("country", "timezone")
DATE_FIELDS = ("title",)
ROLE_FIELDS = ("title", "level")
STAGE_FIELDS = (
    "title",
    "description",
    "owner",
    "participants",
    "deadline",
    "reminders",
    "escalation",
    "recurring",
    "terminal",
)
CHECKLIST_FIELDS = ("title",)
ACTION_FIELDS = (
    "title",
    "from",
    "to",
    "by",
    "requires",
    "comment",
    "deadline",
    "opened_by",
    "notify",
    "gates",
)
FIELDS: tuple[str, ...] = tuple(
    dict.fromkeys(
        (
            *SCHEME_FIELDS,
            *CALENDAR_FIELDS,
            *ROLE_FIELDS,
            *STAGE_FIELDS,
            *ACTION_FIELDS,
        )
    )
)
"""Every field a :class:`Change` can be about."""


@dataclass(frozen=True, slots=True)
class Change:
    """One field that differs: where, which, and its value before and after."""

    path: str  # e.g. "stages.pre_assessment.deadline"
    field: str  # one of FIELDS
    old: Any  # JSON-able; None when absent
    new: Any

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "field": self.field, "old": self.old, "new": self.new}


@dataclass(frozen=True, slots=True)
class Entry:
    """One thing added, removed or changed."""

    kind: Kind
    op: Op
    key: str  # stage/action/role/date id; "stage.item" for a checklist item; "" otherwise
    path: str  # e.g. "stages.idea", "stages.idea.checklist.site_ownership"
    title: Any = None  # the label as plain data (b's; a's when removed)
    changes: tuple[Change, ...] = ()
    stage: str | None = None  # a checklist item's stage
    item: str | None = None  # a checklist item's id

    def change(self, name: str) -> Change | None:
        """The change of field `name`, or None when that field did not change."""
        return next((c for c in self.changes if c.field == name), None)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "op": self.op,
            "key": self.key,
            "path": self.path,
            "title": self.title,
        }
        if self.stage is not None:
            out["stage"] = self.stage
            out["item"] = self.item
        out["changes"] = [c.to_json() for c in self.changes]
        return out


@dataclass(frozen=True, slots=True)
class SchemeDiff:
    """Every difference from scheme `a` to scheme `b`, in a stable order."""

    a: str  # the scheme names compared
    b: str
    entries: tuple[Entry, ...] = field(default=())

    def __bool__(self) -> bool:
        return bool(self.entries)

    @property
    def same(self) -> bool:
        return not self.entries

    def of(self, kind: Kind, op: Op | None = None) -> list[Entry]:
        """The entries of one kind (and one operation when given)."""
        return [e for e in self.entries if e.kind == kind and (op is None or e.op == op)]

    def added(self, kind: Kind) -> list[str]:
        return [e.key for e in self.of(kind, "added")]

    def removed(self, kind: Kind) -> list[str]:
        return [e.key for e in self.of(kind, "removed")]

    def changed(self, kind: Kind) -> list[Entry]:
        return self.of(kind, "changed")

    def changes(self, name: str) -> list[Change]:
        """Every change of field `name` (e.g. "deadline"), wherever it is."""
        return [c for e in self.entries for c in e.changes if c.field == name]

    def to_json(self) -> dict[str, Any]:
        return {
            "a": self.a,
            "b": self.b,
            "same": self.same,
            "entries": [e.to_json() for e in self.entries],
        }


# -- comparing ---------------------------------------------------------------------


def plain(value: object) -> Any:
    """A model value as JSON-able data, without unset optional parts."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True, exclude_none=True)
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, Enum):
        return value.value
    return value


_ATTRIBUTES = {"from": "source"}  # the file's name of a field → the model's


def _fields(model: BaseModel | None, names: Iterable[str]) -> dict[str, Any]:
    """The named fields of a model as plain data (its alias where the file uses one)."""
    if model is None:
        return {}
    return {name: plain(getattr(model, _ATTRIBUTES.get(name, name))) for name in names}


def _changes(prefix: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[Change, ...]:
    """The fields whose values differ, in `new`'s (the field list's) order."""
    sep = "." if prefix else ""
    return tuple(
        Change(f"{prefix}{sep}{name}", name, old.get(name), new.get(name))
        for name in new
        if old.get(name) != new.get(name)
    )


def _compare(
    kind: Kind,
    a: Mapping[str, BaseModel | None],
    b: Mapping[str, BaseModel | None],
    names: tuple[str, ...],
    prefix: str,
) -> list[Entry]:
    """Added, removed and changed entries of one dictionary of models."""

    def title(model: BaseModel | None) -> Any:
        return plain(getattr(model, "title", None))

    added = [Entry(kind, "added", k, f"{prefix}.{k}", title(v)) for k, v in b.items() if k not in a]
    removed = [
        Entry(kind, "removed", k, f"{prefix}.{k}", title(v)) for k, v in a.items() if k not in b
    ]
    changed = []
    for k, v in b.items():
        if k in a:
            found = _changes(f"{prefix}.{k}", _fields(a[k], names), _fields(v, names))
            if found:
                changed.append(Entry(kind, "changed", k, f"{prefix}.{k}", title(v), found))
    return [*added, *removed, *changed]


def _scheme_entries(a: Scheme, b: Scheme) -> list[Entry]:
    def top(s: Scheme) -> dict[str, Any]:
        data = _fields(s, ("scheme", "title", "description", "handoff_deadline"))
        data["initial"] = s.initial_stage
        return {name: data[name] for name in SCHEME_FIELDS}

    found = _changes("", top(a), top(b))
    return [Entry("scheme", "changed", "", "", plain(b.title), found)] if found else []


def _calendar_entries(a: Scheme, b: Scheme) -> list[Entry]:
    found = _changes(
        "calendar", _fields(a.calendar, CALENDAR_FIELDS), _fields(b.calendar, CALENDAR_FIELDS)
    )
    return [Entry("calendar", "changed", "", "calendar", None, found)] if found else []


def _checklist_entries(a: Scheme, b: Scheme) -> list[Entry]:
    """Checklist items added, removed or retitled in the stages both schemes have."""
    shared = [s for s in b.stages if s in a.stages]
    out: dict[Op, list[Entry]] = {op: [] for op in OPS}
    order = {"a": list(a.stages), "b": list(b.stages)}
    for stage in sorted(shared, key=order["a"].index):
        for item, label in a.stages[stage].checklist.items():
            if item not in b.stages[stage].checklist:
                out["removed"].append(_item("removed", stage, item, label))
    for stage in shared:
        old, new = a.stages[stage].checklist, b.stages[stage].checklist
        for item, label in new.items():
            if item not in old:
                out["added"].append(_item("added", stage, item, label))
            elif plain(old[item]) != plain(label):
                path = f"stages.{stage}.checklist.{item}"
                change = Change(f"{path}.title", "title", plain(old[item]), plain(label))
                out["changed"].append(_item("changed", stage, item, label, (change,)))
    return [e for op in OPS for e in out[op]]


def _item(op: Op, stage: str, item: str, label: object, changes: tuple[Change, ...] = ()) -> Entry:
    path = f"stages.{stage}.checklist.{item}"
    return Entry("checklist", op, f"{stage}.{item}", path, plain(label), changes, stage, item)


def diff(a: Scheme, b: Scheme) -> SchemeDiff:
    """Every difference from `a` to `b` (see the module's description for the order)."""
    roles: tuple[Mapping[str, Role], Mapping[str, Role]] = (a.roles, b.roles)
    stages: tuple[Mapping[str, Stage], Mapping[str, Stage]] = (a.stages, b.stages)
    actions: tuple[Mapping[str, Action], Mapping[str, Action]] = (a.actions, b.actions)
    entries = [
        *_scheme_entries(a, b),
        *_calendar_entries(a, b),
        *_compare("dates", a.dates, b.dates, DATE_FIELDS, "dates"),
        *_compare("roles", *roles, ROLE_FIELDS, "roles"),
        *_compare("stages", *stages, STAGE_FIELDS, "stages"),
        *_checklist_entries(a, b),
        *_compare("actions", *actions, ACTION_FIELDS, "actions"),
    ]
    return SchemeDiff(a.scheme, b.scheme, tuple(entries))
