"""Replaying a project's history and comparing it with the rows: `replay` folds the
(verified) events into what they say of the project now (`_Said`; `UNKNOWN` where no
event recorded a value), and `compare` sets that against the project row, its checklist
ticks, risks and cost-benefit analysis, naming each difference and each value that is
not checkable."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from engine.audit.findings import _differ, _Found, _show
from engine.audit.versions import _SchemeInfo
from engine.history import flows_digest


class _Unknown:
    """What no event recorded: not checkable."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()


def _rate(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)).normalize()
    except (InvalidOperation, ValueError):
        return None


def _json_or_text(text: Any) -> Any:
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return text


# -- the replay -------------------------------------------------------------------------

_FIELDS = (
    "code",
    "title",
    "unit_id",
    "scheme",
    "created_at",
    "created_by",
    "budget_amount",
    "budget_currency",
    "funding_instrument",
    "partners",
    "dates",
    "responsible_id",
    "stage_entered_at",
    "hold_since",
    "hold_reason",
    "handoff_since",
    "idea_id",
)
_RISK_KEYS = {  # event data key → risks column
    "title": "title",
    "likelihood": "likelihood",
    "impact": "impact",
    "owner": "owner_id",
    "mitigation": "mitigation",
    "status": "status",
}
_MOVES = ("advanced", "forced")


@dataclass
class _Said:
    """What one project's history says of its state now."""

    values: dict[str, Any] = field(default_factory=lambda: dict.fromkeys(_FIELDS, UNKNOWN))
    source: dict[str, int] = field(default_factory=dict)  # field → event that set it
    ticks: dict[str, tuple[int, dt.datetime, str | None]] | None = field(default_factory=dict)
    risks: dict[int, dict[str, Any]] | None = field(default_factory=dict)
    risk_source: dict[int, int] = field(default_factory=dict)
    cba: dict[str, Any] | None = None
    last: int | None = None  # the last event: what says a row should not be there

    def set(self, name: str, value: Any, seq: int) -> None:
        self.values[name] = value
        self.source[name] = seq


def replay(
    events: Iterable[dict[str, Any]], checklist_of: Callable[[str], Sequence[str] | None]
) -> _Said:
    """Replay a project's (verified) events; `checklist_of(stage)` gives the checklist
    items entering that stage clears (None when the scheme cannot say)."""
    said = _Said()
    for ev in events:
        try:
            data = json.loads(ev["data"])
        except (TypeError, ValueError):
            data = {}
        if not isinstance(data, dict):
            data = {}
        _apply(said, ev, data, checklist_of)
        said.last = ev["seq"]
    return said


def _apply(
    said: _Said,
    ev: dict[str, Any],
    data: dict[str, Any],
    checklist_of: Callable[[str], Sequence[str] | None],
) -> None:
    kind, seq, at, actor = ev["kind"], ev["seq"], ev["at"], ev["actor_id"]
    v = said.values

    def recorded(name: str, key: str) -> None:
        said.set(name, data.get(key, UNKNOWN), seq)

    if kind == "created":
        recorded("code", "code")
        recorded("title", "title")
        recorded("unit_id", "unit")
        has_scheme = "scheme" in data and "scheme_version" in data
        scheme = (data["scheme"], data["scheme_version"]) if has_scheme else UNKNOWN
        said.set("scheme", scheme, seq)
        said.set("created_at", at, seq)
        said.set("created_by", actor, seq)
        for name in ("budget_amount", "budget_currency", "funding_instrument"):
            recorded(name, name)
        recorded("partners", "partners")
        recorded("dates", "dates")
        recorded("responsible_id", "responsible")
        said.set("stage_entered_at", at, seq)
        for name in ("hold_since", "hold_reason", "handoff_since", "idea_id"):
            said.set(name, None, seq)
    elif kind in _MOVES:
        if ev["to_stage"] != ev["from_stage"]:
            said.set("stage_entered_at", at, seq)
            said.set("hold_since", None, seq)
            said.set("hold_reason", None, seq)
            recorded("responsible_id", "responsible")
            items = checklist_of(ev["to_stage"])
            if items is None:
                said.ticks = None
            elif said.ticks is not None:
                for item in items:
                    said.ticks.pop(item, None)
        if "handoff" in data:
            said.set("handoff_since", at, seq)
        elif kind == "forced":
            said.set("handoff_since", None, seq)
    elif kind == "acknowledged":
        said.set("handoff_since", None, seq)
        if "responsible" in data:
            said.set("responsible_id", data["responsible"], seq)
        elif v["responsible_id"] is None:  # the acknowledger took it over
            said.set("responsible_id", actor, seq)
    elif kind == "assigned":
        recorded("responsible_id", "person")
    elif kind == "held":
        said.set("hold_since", at, seq)
        said.set("hold_reason", ev["comment"], seq)
    elif kind == "resumed":
        said.set("hold_since", None, seq)
        said.set("hold_reason", None, seq)
    elif kind in ("checked", "unchecked"):
        ticked = data.get("item")
        if not isinstance(ticked, str):
            said.ticks = None
        elif said.ticks is not None:
            if kind == "checked":
                said.ticks[ticked] = (seq, at, actor)
            else:
                said.ticks.pop(ticked, None)
    elif kind == "idea_linked":
        recorded("idea_id", "idea")
    elif kind == "risk_added":
        number = data.get("risk")
        if (
            said.risks is None
            or not isinstance(number, int)
            or not _RISK_KEYS.keys() <= data.keys()
        ):
            said.risks = None
            return
        said.risks[number] = {
            **{col: data[key] for key, col in _RISK_KEYS.items()},
            "created_at": at,
            "created_by": actor,
            "updated_at": at,
            "updated_by": actor,
        }
        said.risk_source[number] = seq
    elif kind == "risk_updated":
        changed, changes = data.get("risk"), data.get("changes")
        if said.risks is None:
            return
        risk = said.risks.get(changed) if isinstance(changed, int) else None
        if risk is None or not isinstance(changes, dict):
            said.risks = None
            return
        for key, change in changes.items():
            if key not in _RISK_KEYS or not isinstance(change, list) or len(change) != 2:
                said.risks = None
                return
            risk[_RISK_KEYS[key]] = change[1]
        risk.update(updated_at=at, updated_by=actor)
        said.risk_source[int(data["risk"])] = seq
    elif kind == "cba_set":
        said.cba = {**data, "seq": seq, "updated_at": at, "updated_by": actor}


# -- comparing the replay with the rows ---------------------------------------------------


def _project_value(name: str, row: Any, schemes: dict[int, _SchemeInfo]) -> Any:
    if name == "scheme":
        info = schemes.get(row.scheme_version_id)
        return (info.name, info.version) if info else None
    if name in ("partners", "dates"):
        return _json_or_text(getattr(row, name))
    return getattr(row, name)


def _same_amount(chain: Any, row: Any) -> bool:
    if chain is None or row is None:
        return chain is None and row is None
    try:
        said, stored = Decimal(str(chain)), Decimal(str(row))
    except (InvalidOperation, ValueError):
        return False
    if said == said.quantize(Decimal("0.01")):
        return said == stored
    return abs(said - stored) < Decimal("0.01")  # sub-cent input: the database rounded it


def _same(name: str, chain: Any, row: Any) -> bool:
    if name == "budget_amount":
        return _same_amount(chain, row)
    if name == "scheme":
        return row is not None and tuple(chain) == tuple(row)
    return bool(chain == row)


def compare(
    said: _Said,
    row: Any,
    schemes: dict[int, _SchemeInfo],
    ticks: Sequence[Any],
    risk_rows: Sequence[Any],
    cba_rows: Sequence[Any],
    year_rows: Sequence[Any],
) -> tuple[list[_Found], set[str]]:
    """The differences between the replay and the project's rows, and the names of the
    values the history does not record (not checkable)."""
    found: list[_Found] = []
    unknown = {n for n in _FIELDS if said.values[n] is UNKNOWN}
    for name in _FIELDS:
        chain = said.values[name]
        if chain is UNKNOWN:
            continue
        value = _project_value(name, row, schemes)
        if not _same(name, chain, value):
            found.append(_differ(name, said.source.get(name), chain, value))

    if said.ticks is None:
        unknown.add("checklist")
    else:
        rows = {t.item: t for t in ticks}
        for item in sorted(said.ticks.keys() | rows.keys()):
            what = f"checklist item {item}"
            tick, r = said.ticks.get(item), rows.get(item)
            if tick is None:
                assert r is not None
                found.append(
                    _Found(
                        said.last,
                        f"checklist.{item}",
                        None,
                        [_show(r.checked_at), r.checked_by],
                        f"{what}: the history has no tick but the table has one "
                        "(inserted outside Shēma)",
                    )
                )
            elif r is None:
                found.append(
                    _Found(
                        tick[0],
                        f"checklist.{item}",
                        [_show(tick[1]), tick[2]],
                        None,
                        f"{what}: the history says it is ticked but the table has no tick "
                        "(deleted outside Shēma)",
                    )
                )
            elif (r.checked_at, r.checked_by) != (tick[1], tick[2]):
                found.append(
                    _differ(
                        f"checklist.{item}",
                        tick[0],
                        (tick[1], tick[2]),
                        (r.checked_at, r.checked_by),
                        what,
                    )
                )

    if said.risks is None:
        unknown.add("risks")
    else:
        rows_by_number = {r.number: r for r in risk_rows}
        for number in sorted(said.risks.keys() | rows_by_number.keys()):
            what, seq = f"risk R{number}", said.risk_source.get(number)
            risk, r = said.risks.get(number), rows_by_number.get(number)
            if risk is None:
                found.append(
                    _Found(
                        said.last,
                        f"risks.R{number}",
                        None,
                        r.title if r is not None else None,
                        f"{what}: the history never added it but the table has it "
                        "(inserted outside Shēma)",
                    )
                )
                continue
            if r is None:
                found.append(
                    _Found(
                        seq,
                        f"risks.R{number}",
                        risk["title"],
                        None,
                        f"{what}: the history has it but the table does not (deleted outside "
                        "Shēma)",
                    )
                )
                continue
            for col, chain in risk.items():
                if getattr(r, col) != chain:
                    found.append(
                        _differ(
                            f"risks.R{number}.{col}", seq, chain, getattr(r, col), f"{what} {col}"
                        )
                    )

    found += _compare_cba(said, cba_rows, year_rows, unknown)
    return found, unknown


def _compare_cba(
    said: _Said, cba_rows: Sequence[Any], year_rows: Sequence[Any], unknown: set[str]
) -> list[_Found]:
    head = cba_rows[0] if cba_rows else None
    if said.cba is None:
        if head is None and not year_rows:
            return []
        return [
            _Found(
                said.last,
                "cba",
                None,
                len(year_rows),
                "cost-benefit analysis: the history never set one but the table has one "
                f"({len(year_rows)} years; inserted outside Shēma)",
            )
        ]
    d, seq = said.cba, said.cba["seq"]
    if head is None:
        return [
            _Found(
                seq,
                "cba",
                d.get("npv"),
                None,
                "cost-benefit analysis: the history set one but the table has none (deleted "
                "outside Shēma)",
            )
        ]
    out = []
    if d.get("currency") != head.currency:
        out.append(_differ("cba.currency", seq, d.get("currency"), head.currency))
    if _rate(d.get("discount_rate")) != _rate(head.discount_rate):
        out.append(_differ("cba.discount_rate", seq, d.get("discount_rate"), head.discount_rate))
    for col in ("updated_at", "updated_by"):
        if d[col] != getattr(head, col):
            out.append(_differ(f"cba.{col}", seq, d[col], getattr(head, col)))
    flows = [(y.year, y.cost, y.benefit) for y in year_rows]
    if "flows" in d:
        digest = flows_digest(flows)
        if digest != d["flows"]:
            out.append(
                _Found(
                    seq,
                    "cba.flows",
                    d["flows"],
                    digest,
                    f"cost-benefit flows: the {len(flows)} yearly rows do not hash to what the "
                    "history recorded (changed outside Shēma)",
                )
            )
        return out
    # Older events record the figures only: recompute them from the rows.
    unknown.add("cba.flows")
    out += _compare_figures(d, seq, flows, head.discount_rate)
    return out


def _compare_figures(
    d: dict[str, Any], seq: int, flows: list[tuple[int, Any, Any]], rate: Any
) -> list[_Found]:
    from workflow import cba as maths
    from workflow.money import cents

    years = [f[0] for f in flows]
    span = [min(years), max(years)] if years else None
    if span != d.get("years"):
        return [_differ("cba.years", seq, d.get("years"), span)]
    try:
        result = maths.analyse(
            [maths.YearFlow(y, Decimal(str(c)), Decimal(str(b))) for y, c, b in flows],
            Decimal(str(rate)),
        )
    except (ValueError, ArithmeticError):
        return [_differ("cba.flows", seq, d.get("npv"), "not an analysis", "cost-benefit flows")]
    npv = str(cents(result.npv))
    bcr = None if result.bcr is None else str(result.bcr.quantize(Decimal("0.01")))
    out = []
    if npv != d.get("npv"):
        out.append(_differ("cba.npv", seq, d.get("npv"), npv, "cost-benefit NPV of the flows"))
    if bcr != d.get("bcr"):
        out.append(_differ("cba.bcr", seq, d.get("bcr"), bcr, "cost-benefit BCR of the flows"))
    return out
