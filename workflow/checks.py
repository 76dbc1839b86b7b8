"""Cross-reference and graph checks, as pure functions over the raw file data.

They run even when pydantic rejects part of a file, so they never trust a shape: every
lookup tolerates missing keys and wrong types. Each returns ``(path, message)`` pairs.
"""

from __future__ import annotations

import datetime as dt
import keyword
import re
from collections import deque
from collections.abc import Iterable
from typing import Any

from workflow.scheme import COORDINATOR, IDENTIFIER

Finding = tuple[tuple[str | int, ...], str]
RESERVED = {"state", "trigger", "version"}
RESERVED_PREFIXES = ("is_", "may_", "to_")


def reserved_name_reason(name: str) -> str | None:
    """Why `name` cannot name a stage or action, or None if it can."""
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        return f"{name!r} is a Python keyword"
    if name in RESERVED:
        return f"{name!r} is reserved by the state machine"
    if name.startswith(RESERVED_PREFIXES):
        return f"{name!r} starts with a prefix reserved by the state machine (is_, may_, to_)"
    return None


def _mapping(value: Any) -> dict[str, Any]:
    return {k: v for k, v in value.items() if isinstance(k, str)} if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _names(value: Any) -> list[tuple[int | None, str]]:
    """A role/stage reference field: a string or a list of strings, with list indices."""
    if isinstance(value, str):
        return [(None, value)]
    if isinstance(value, list):
        return [(i, v) for i, v in enumerate(value) if isinstance(v, str)]
    return []


def _at(base: tuple[str | int, ...], index: int | None) -> tuple[str | int, ...]:
    return base if index is None else (*base, index)


def _reachable(start: Iterable[str], edges: dict[str, set[str]]) -> set[str]:
    seen = set(start)
    queue = deque(seen)
    while queue:
        for nxt in edges.get(queue.popleft(), ()):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen


def check_scheme(data: Any) -> list[Finding]:
    """Every cross-reference and graph problem in raw scheme data."""
    if not isinstance(data, dict):
        return []
    raw = _Raw(data)
    out = _names_and_titles(raw)
    for name in raw.stages:
        out += _stage_findings(raw, name)
    edges: dict[str, set[str]] = {s: set() for s in raw.stages}
    for name in raw.actions:
        out += _action_findings(raw, name, edges)
    return out + _graph_findings(raw, edges)


class _Raw:
    """The parts of raw scheme data the checks look at, each a mapping (empty if absent)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.roles = _mapping(data.get("roles"))
        self.stages = _mapping(data.get("stages"))
        self.actions = _mapping(data.get("actions"))
        self.dates = _mapping(data.get("dates"))
        self.known_roles = set(self.roles) | {COORDINATOR}

    def role_refs(self, base: tuple[str | int, ...], value: Any) -> list[Finding]:
        return [
            (_at(base, i), f"unknown role {name!r}")
            for i, name in _names(value)
            if name not in self.known_roles
        ]

    def is_terminal(self, stage: str) -> bool:
        return _mapping(self.stages.get(stage)).get("terminal") is True


def _names_and_titles(raw: _Raw) -> list[Finding]:
    out: list[Finding] = []
    if COORDINATOR in raw.roles:
        out.append((("roles", COORDINATOR), "'coordinator' is built in; do not define it"))
    for kind, table in (("stages", raw.stages), ("actions", raw.actions)):
        for name in table:
            if re.match(IDENTIFIER, name) and (why := reserved_name_reason(name)):
                out.append(((kind, name), f"reserved name: {why}"))
    out += _multiline_titles([((), raw.data)])
    for kind, table in (("roles", raw.roles), ("stages", raw.stages), ("actions", raw.actions)):
        out += _multiline_titles(((kind, name), value) for name, value in table.items())
    return out


def _stage_findings(raw: _Raw, name: str) -> list[Finding]:
    stage = _mapping(raw.stages[name])
    base: tuple[str | int, ...] = ("stages", name)
    out: list[Finding] = []
    if stage.get("terminal") is True:
        for key in ("deadline", "reminders", "escalation", "waits_on", "decided_at"):
            if stage.get(key):
                out.append(((*base, key), f"a terminal stage has no {key}"))
    elif "owner" not in stage:
        out.append((base, "a stage that is not terminal needs an owner"))
    if "owner" in stage:
        out += raw.role_refs((*base, "owner"), stage["owner"])
    out += raw.role_refs((*base, "participants"), stage.get("participants"))
    for i, step in enumerate(_list(stage.get("escalation"))):
        if isinstance(step, dict):
            out += raw.role_refs((*base, "escalation", i, "to"), step.get("to"))
    deadline = _mapping(stage.get("deadline"))
    if isinstance(deadline.get("before"), str) and deadline["before"] not in raw.dates:
        out.append(
            (
                (*base, "deadline", "before"),
                f"unknown project date {deadline['before']!r} (declare it under dates)",
            )
        )
    if not stage.get("deadline") and (stage.get("reminders") or stage.get("escalation")):
        out.append((base, "reminders and escalation need a deadline"))
    if stage.get("decided_at") and not stage.get("deadline") and not stage.get("terminal"):
        out.append(
            ((*base, "decided_at"), "a stage decided at a meeting needs its preparation deadline")
        )
    for duty, spec in _mapping(stage.get("recurring")).items():
        out += _recurring_findings(raw, name, duty, _mapping(spec))
    starts = _mapping(stage.get("waits_on")).get("starts")
    if isinstance(starts, str) and starts != "entry" and starts not in raw.dates:
        out.append(
            (
                (*base, "waits_on", "starts"),
                f"unknown project date {starts!r} (declare it under dates, or say entry)",
            )
        )
    return out


def _recurring_findings(raw: _Raw, stage: str, duty: str, spec: dict[str, Any]) -> list[Finding]:
    """A recurring duty is ticked off by a self-loop of its stage without a deadline of
    its own, and counts only from declared project dates."""
    base: tuple[str | int, ...] = ("stages", stage, "recurring", duty)
    out: list[Finding] = []
    if raw.is_terminal(stage):
        out.append((base, "a terminal stage has no recurring duties"))
    action = _mapping(raw.actions.get(duty))
    sources = [s for _, s in _names(action.get("from"))]
    if not action or action.get("to") != stage or stage not in sources:
        out.append((base, f"needs a self-loop action {duty!r} from {stage!r} to {stage!r}"))
    elif action.get("deadline") or action.get("opened_by"):
        out.append((base, f"action {duty!r} ticks a recurring duty off: it has no deadline"))
    for path in (("schedule", "from"), ("until", "after")):
        date = _mapping(spec.get(path[0])).get(path[1])
        if isinstance(date, str) and date not in raw.dates:
            out.append(((*base, *path), f"unknown project date {date!r} (declare it under dates)"))
    for i, step in enumerate(_list(spec.get("escalation"))):
        if isinstance(step, dict):
            out += raw.role_refs((*base, "escalation", i, "to"), step.get("to"))
    return out


def _action_findings(raw: _Raw, name: str, edges: dict[str, set[str]]) -> list[Finding]:
    """An action's references; its moves are added to `edges` (stage -> targets)."""
    action = _mapping(raw.actions[name])
    base: tuple[str | int, ...] = ("actions", name)
    out: list[Finding] = []
    sources = _names(action.get("from"))
    for idx, src in sources:
        if src not in raw.stages:
            out.append((_at((*base, "from"), idx), f"unknown stage {src!r}"))
        elif raw.is_terminal(src):
            out.append(
                (_at((*base, "from"), idx), f"stage {src!r} is terminal; no action leaves it")
            )
    target = action.get("to")
    if isinstance(target, str) and target not in raw.stages:
        out.append(((*base, "to"), f"unknown stage {target!r}"))
    out += raw.role_refs((*base, "by"), action.get("by"))
    out += raw.role_refs((*base, "notify"), action.get("notify"))
    out += _requires_findings(raw, base, action, sources)
    deadline = _mapping(action.get("deadline"))
    if isinstance(deadline.get("before"), str) and deadline["before"] not in raw.dates:
        out.append(((*base, "deadline", "before"), f"unknown project date {deadline['before']!r}"))
    opener = action.get("opened_by")
    if isinstance(opener, str):
        out.extend(_opener_findings(base, action, opener, _mapping(raw.actions.get(opener))))
    if isinstance(target, str) and target in raw.stages:
        for _, src in sources:
            if src in edges:
                edges[src].add(target)
    return out


def _requires_findings(
    raw: _Raw,
    base: tuple[str | int, ...],
    action: dict[str, Any],
    sources: list[tuple[int | None, str]],
) -> list[Finding]:
    out: list[Finding] = []
    for idx, item in _names(action.get("requires")):
        for _, src in sources:
            checklist = _mapping(raw.stages.get(src)).get("checklist")
            items = checklist if isinstance(checklist, list) else list(_mapping(checklist))
            if src in raw.stages and item not in items:
                out.append(
                    (
                        _at((*base, "requires"), idx),
                        f"checklist item {item!r} is not in stage {src!r}'s checklist",
                    )
                )
    return out


def _graph_findings(raw: _Raw, edges: dict[str, set[str]]) -> list[Finding]:
    """Reachability: every stage from the initial one, a terminal stage from every stage."""
    stages = raw.stages
    if not stages:
        return []
    initial = raw.data.get("initial")
    if not isinstance(initial, str):  # absent or null; a wrong type is pydantic's to report
        initial = next(iter(stages))
    if initial not in stages:
        return [(("initial",), f"unknown stage {initial!r}")]
    out: list[Finding] = []
    terminals = {s for s in stages if raw.is_terminal(s)}
    if not terminals:
        out.append((("stages",), "no stage is terminal; projects could never finish"))
    if initial in terminals:
        out.append((("initial",), f"the initial stage {initial!r} is terminal"))
    reachable = _reachable([initial], edges)
    for name in stages:
        if name not in reachable:
            out.append((("stages", name), f"stage {name!r} cannot be reached from {initial!r}"))
    reverse: dict[str, set[str]] = {s: set() for s in stages}
    for src, targets in edges.items():
        for dst in targets:
            reverse[dst].add(src)
    finishing = _reachable(terminals, reverse)
    for name in stages:
        if name in terminals:
            continue
        if not edges[name] - {name}:
            out.append((("stages", name), f"stage {name!r} is a trap: no action leads out of it"))
        elif terminals and name not in finishing:
            out.append((("stages", name), f"no terminal stage can be reached from {name!r}"))
    return out


def _multiline_titles(items: Iterable[tuple[tuple[str | int, ...], Any]]) -> list[Finding]:
    """Titles are one line: they head mail subjects and lists (a description may run on)."""
    out: list[Finding] = []
    for base, raw in items:
        title = _mapping(raw).get("title")
        texts = title.items() if isinstance(title, dict) else [(None, title)]
        for lang, value in texts:
            if isinstance(value, str) and ("\n" in value.strip() or "\r" in value):
                at = (*base, "title") if lang is None else (*base, "title", lang)
                out.append((at, "a title is one line (it heads mail subjects); put the rest "
                            "in description"))  # fmt: skip
    return out


def _opener_findings(
    base: tuple[str | int, ...], duty: dict[str, Any], opener: str, spec: dict[str, Any]
) -> list[Finding]:
    """`opened_by` names an action that ends in the duty's stage, on a self-loop duty."""
    at = (*base, "opened_by")
    if not duty.get("deadline"):
        return [(at, "opened_by needs a deadline: it says when the duty's clock starts")]
    target = duty.get("to")
    if target not in [s for _, s in _names(duty.get("from"))]:
        return [(at, "opened_by is for a duty inside a stage (an action from its stage to it)")]
    if not spec:
        return [(at, f"unknown action {opener!r}")]
    if spec.get("to") != target:
        return [(at, f"action {opener!r} does not end in stage {target!r}")]
    if spec.get("opened_by") is not None:
        return [(at, f"action {opener!r} is itself opened by another; name the first one")]
    return []


def check_org(data: Any, scheme_roles: dict[str, str] | None = None) -> list[Finding]:
    """Cross-reference problems in raw organisation data.

    `scheme_roles` maps role names to levels; when given, roles must exist in it.
    """
    out: list[Finding] = []
    if not isinstance(data, dict):
        return out
    units = _mapping(data.get("units"))
    people = _mapping(data.get("people"))
    root = _mapping(data.get("municipality")).get("root")
    if isinstance(root, str):
        if root not in units:
            out.append((("municipality", "root"), f"unknown unit {root!r}"))
        elif _mapping(units[root]).get("parent") is not None:
            out.append((("units", root, "parent"), "the root unit has no parent"))
    for uid, raw in units.items():
        parent = _mapping(raw).get("parent")
        if parent is None:
            if uid != root:
                out.append((("units", uid), f"unit {uid!r} has no parent (only the root may)"))
        elif isinstance(parent, str) and parent not in units:
            out.append((("units", uid, "parent"), f"unknown unit {parent!r}"))
    for uid in units:  # cycles
        seen: set[str] = set()
        cur: Any = uid
        while isinstance(cur, str) and cur in units and cur not in seen:
            seen.add(cur)
            cur = _mapping(units[cur]).get("parent")
        if isinstance(cur, str) and cur == uid:
            out.append((("units", uid, "parent"), f"unit {uid!r} is its own ancestor"))
    accounts: dict[str, str] = {}
    roles = scheme_roles if scheme_roles is None else {**scheme_roles, COORDINATOR: "central"}
    for pid, raw in people.items():
        person = _mapping(raw)
        for i, assignment in enumerate(_list(person.get("roles"))):
            a = _mapping(assignment)
            unit, role = a.get("unit"), a.get("role")
            if isinstance(unit, str) and unit not in units:
                out.append((("people", pid, "roles", i, "unit"), f"unknown unit {unit!r}"))
            if roles is not None and isinstance(role, str) and role not in roles:
                out.append(
                    (("people", pid, "roles", i, "role"), f"role {role!r} is not in the scheme")
                )
        for i, account in enumerate(_list(person.get("accounts"))):
            if isinstance(account, str):
                if account in accounts:
                    out.append(
                        (
                            ("people", pid, "accounts", i),
                            f"account {account!r} already belongs to {accounts[account]!r}",
                        )
                    )
                accounts[account] = pid
    out.extend(_declined_transfers(data))
    if people and not any(
        _mapping(a).get("role") == COORDINATOR
        for p in people.values()
        for a in _list(_mapping(p).get("roles"))
    ):
        out.append((("people",), "nobody holds the coordinator role"))
    return out


def _declined_transfers(data: dict[str, Any]) -> list[Finding]:
    """A declined transfer must be a national day off moved from a working Saturday."""
    from workflow.calendar import WorkingCalendar

    declined = _list(_mapping(data.get("calendar")).get("declined_transfers"))
    if not declined:
        return []
    national = WorkingCalendar()
    out: list[Finding] = []
    for i, value in enumerate(declined):
        try:
            day = dt.date.fromisoformat(str(value))
        except ValueError:
            continue  # pydantic reports the type
        if national.transfer_of(day) is None:
            out.append(
                (
                    ("calendar", "declined_transfers", i),
                    f"{day} is not a national day off moved from a working Saturday",
                )
            )
    return out
