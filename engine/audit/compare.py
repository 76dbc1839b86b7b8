"""Comparing a replayed history (`engine.audit.replay.Said`) with the rows: `compare`
sets it against the project row, its checklist ticks, risks and cost-benefit analysis,
naming each difference and each value that is not checkable."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from engine.audit.findings import Found, differ, show
from engine.audit.replay import FIELDS, UNKNOWN, Said, rate
from engine.audit.versions import SchemeInfo
from engine.history import flows_digest
from storage.audit import CbaRow, CbaYear, ChecklistTick, ProjectSnapshot, RiskRow


def _project_value(name: str, row: ProjectSnapshot, schemes: dict[int, SchemeInfo]) -> Any:
    if name == "scheme":
        info = schemes.get(row.scheme_version_id)
        return (info.name, info.version) if info else None
    return getattr(row, name)  # partners and dates: decoded by the record


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
    said: Said,
    row: ProjectSnapshot,
    schemes: dict[int, SchemeInfo],
    ticks: Sequence[ChecklistTick],
    risk_rows: Sequence[RiskRow],
    cba_rows: Sequence[CbaRow],
    year_rows: Sequence[CbaYear],
) -> tuple[list[Found], set[str]]:
    """The differences between the replay and the project's rows, and the names of the
    values the history does not record (not checkable)."""
    unknown = {n for n in FIELDS if said.values[n] is UNKNOWN}
    found = _compare_fields(said, row, schemes)
    if said.ticks is None:
        unknown.add("checklist")
    else:
        found += _compare_ticks(said, said.ticks, ticks)
    if said.risks is None:
        unknown.add("risks")
    else:
        found += _compare_risks(said, said.risks, risk_rows)
    found += _compare_cba(said, cba_rows, year_rows, unknown)
    return found, unknown


def _compare_fields(
    said: Said, row: ProjectSnapshot, schemes: dict[int, SchemeInfo]
) -> list[Found]:
    found = []
    for name in FIELDS:
        chain = said.values[name]
        if chain is UNKNOWN:
            continue
        value = _project_value(name, row, schemes)
        if not _same(name, chain, value):
            found.append(differ(name, said.source.get(name), chain, value))
    return found


def _compare_ticks(
    said: Said,
    said_ticks: dict[str, tuple[int, dt.datetime, str | None]],
    ticks: Sequence[ChecklistTick],
) -> list[Found]:
    found = []
    rows = {t.item: t for t in ticks}
    for item in sorted(said_ticks.keys() | rows.keys()):
        what = f"checklist item {item}"
        tick, r = said_ticks.get(item), rows.get(item)
        if tick is None:
            assert r is not None
            found.append(
                Found(
                    said.last,
                    f"checklist.{item}",
                    None,
                    [show(r.checked_at), r.checked_by],
                    f"{what}: the history has no tick but the table has one "
                    "(inserted outside Shēma)",
                )
            )
        elif r is None:
            found.append(
                Found(
                    tick[0],
                    f"checklist.{item}",
                    [show(tick[1]), tick[2]],
                    None,
                    f"{what}: the history says it is ticked but the table has no tick "
                    "(deleted outside Shēma)",
                )
            )
        elif (r.checked_at, r.checked_by) != (tick[1], tick[2]):
            found.append(
                differ(
                    f"checklist.{item}",
                    tick[0],
                    (tick[1], tick[2]),
                    (r.checked_at, r.checked_by),
                    what,
                )
            )
    return found


def _compare_risks(
    said: Said, said_risks: dict[int, dict[str, Any]], risk_rows: Sequence[RiskRow]
) -> list[Found]:
    found = []
    rows_by_number = {r.number: r for r in risk_rows}
    for number in sorted(said_risks.keys() | rows_by_number.keys()):
        what, seq = f"risk R{number}", said.risk_source.get(number)
        risk, r = said_risks.get(number), rows_by_number.get(number)
        if risk is None:
            found.append(
                Found(
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
                Found(
                    seq,
                    f"risks.R{number}",
                    risk["title"],
                    None,
                    f"{what}: the history has it but the table does not (deleted outside Shēma)",
                )
            )
            continue
        for col, chain in risk.items():
            if getattr(r, col) != chain:
                found.append(
                    differ(f"risks.R{number}.{col}", seq, chain, getattr(r, col), f"{what} {col}")
                )
    return found


def _compare_cba(
    said: Said, cba_rows: Sequence[CbaRow], year_rows: Sequence[CbaYear], unknown: set[str]
) -> list[Found]:
    head = cba_rows[0] if cba_rows else None
    if said.cba is None:
        if head is None and not year_rows:
            return []
        return [
            Found(
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
            Found(
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
        out.append(differ("cba.currency", seq, d.get("currency"), head.currency))
    if rate(d.get("discount_rate")) != rate(head.discount_rate):
        out.append(differ("cba.discount_rate", seq, d.get("discount_rate"), head.discount_rate))
    for col in ("updated_at", "updated_by"):
        if d[col] != getattr(head, col):
            out.append(differ(f"cba.{col}", seq, d[col], getattr(head, col)))
    flows = [(y.year, y.cost, y.benefit) for y in year_rows]
    if "flows" in d:
        digest = flows_digest(flows)
        if digest != d["flows"]:
            out.append(
                Found(
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
) -> list[Found]:
    from workflow import cba as maths
    from workflow.money import cents

    years = [f[0] for f in flows]
    span = [min(years), max(years)] if years else None
    if span != d.get("years"):
        return [differ("cba.years", seq, d.get("years"), span)]
    try:
        result = maths.analyse(
            [maths.YearFlow(y, Decimal(str(c)), Decimal(str(b))) for y, c, b in flows],
            Decimal(str(rate)),
        )
    except (ValueError, ArithmeticError):
        return [differ("cba.flows", seq, d.get("npv"), "not an analysis", "cost-benefit flows")]
    npv = str(cents(result.npv))
    bcr = None if result.bcr is None else str(result.bcr.quantize(Decimal("0.01")))
    out = []
    if npv != d.get("npv"):
        out.append(differ("cba.npv", seq, d.get("npv"), npv, "cost-benefit NPV of the flows"))
    if bcr != d.get("bcr"):
        out.append(differ("cba.bcr", seq, d.get("bcr"), bcr, "cost-benefit BCR of the flows"))
    return out
