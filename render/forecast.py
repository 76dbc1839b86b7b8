"""The forecast in words: one table per breakdown, as text, as CSV and as an Excel
workbook (one sheet per breakdown, Latvian or English headers, euro number format).

The engine's `Forecast` carries codes and amounts; the words come from the catalogue
(render/locale/*/LC_MESSAGES/financing.po).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from engine.forecast import Forecast, GroupRow
from render import formats
from render.catalogue import words
from render.tables import spreadsheet_csv, text_table

Cell = str | int | Decimal | None
EUR_FORMAT = '#,##0.00 "€"'  # shown with the reader's grouping: 1 234 567,89 €


@dataclass(frozen=True)
class Sheet:
    """One breakdown: its title, its headers, and its rows; `money` marks euro columns."""

    key: str
    title: str
    headers: list[str]
    rows: list[list[Cell]]
    money: frozenset[int]


def _source(code: str, lang: str) -> str:
    return words(lang).get(f"fin_source_{code}", code)


def _group_rows(rows: Sequence[GroupRow], none_name: str) -> list[list[Cell]]:
    return [
        [r.key, none_name if r.key == "-" else r.name, r.year, r.municipality, r.reimbursement]
        for r in rows
    ]


def sheets(fc: Forecast, lang: str) -> list[Sheet]:
    """The forecast's breakdowns, in the order a reader meets them."""
    w = words(lang)
    year, quarter, source, amount = (
        w["fin_year"],
        w["fin_quarter"],
        w["fin_source"],
        w["fin_amount"],
    )
    groups = [w["fin_key"], w["fin_name"], year, w["fin_source_municipality"]]
    groups.append(w["fin_reimbursement_total"])
    return [
        Sheet(
            "by_year",
            w["fin_by_year"],
            [year, source, amount],
            [[r.year, _source(r.source, lang), r.amount] for r in fc.by_year],
            frozenset({2}),
        ),
        Sheet(
            "by_quarter",
            w["fin_by_quarter"],
            [year, quarter, source, amount],
            [[r.year, r.quarter, _source(r.source, lang), r.amount] for r in fc.by_quarter],
            frozenset({3}),
        ),
        Sheet(
            "by_instrument",
            w["fin_by_instrument"],
            groups,
            _group_rows(fc.by_instrument, w["fin_no_instrument"]),
            frozenset({3, 4}),
        ),
        Sheet("by_unit", w["fin_by_unit"], groups, _group_rows(fc.by_unit, "-"), frozenset({3, 4})),
        Sheet(
            "gap",
            w["fin_gap"],
            [year, quarter, w["fin_spent"], w["fin_reimbursed"], w["fin_gap_amount"]],
            [[r.year, r.quarter, r.spent, r.reimbursed, r.gap] for r in fc.gap],
            frozenset({2, 3, 4}),
        ),
    ]


def _shown(cell: Cell, money: bool, lang: str) -> str:
    if cell is None:
        return ""
    if money and isinstance(cell, Decimal):
        return formats.money(cell, "EUR", lang)
    return str(cell)


def format_text(fc: Forecast, lang: str) -> str:
    """Every breakdown as an aligned text table under its title."""
    w = words(lang)
    if not fc.years:
        return w["fin_no_figures"] + "\n"
    out = [w["fin_forecast"], w.get("fin_projects", "").format(count=fc.projects), ""]
    for sheet in sheets(fc, lang):
        out.append(sheet.title)
        cells = [
            [_shown(c, i in sheet.money, lang) for i, c in enumerate(row)] for row in sheet.rows
        ]
        out.extend(text_table(cells, sheet.headers))
        out.append("")
    return "\n".join(out)


def format_csv(fc: Forecast, lang: str, delimiter: str = ",") -> str:
    """All breakdowns in one long table: breakdown, year, quarter, key, name, measure and
    amount (a plain number with a decimal point, for spreadsheets and scripts)."""
    w = words(lang)
    header = [w["fin_forecast"], w["fin_year"], w["fin_quarter"], w["fin_key"], w["fin_name"]]
    header += [w["fin_source"], w["fin_amount"]]
    rows: list[list[str]] = []

    def add(sheet: str, y: int, q: int | None, key: str, name: str, what: str, v: Decimal) -> None:
        rows.append([sheet, str(y), "" if q is None else str(q), key, name, what, f"{v:.2f}"])

    for r in fc.by_year:
        add("by_year", r.year, None, r.source, _source(r.source, lang), r.source, r.amount)
    for r in fc.by_quarter:
        add("by_quarter", r.year, r.quarter, r.source, _source(r.source, lang), r.source, r.amount)
    for sheet, groups in (("by_instrument", fc.by_instrument), ("by_unit", fc.by_unit)):
        for k in groups:
            add(sheet, k.year, None, k.key, k.name, "municipality", k.municipality)
            add(sheet, k.year, None, k.key, k.name, "reimbursement", k.reimbursement)
    for g in fc.gap:
        add("gap", g.year, g.quarter, "", "", "spent", g.spent)
        add("gap", g.year, g.quarter, "", "", "reimbursed", g.reimbursed)
        add("gap", g.year, g.quarter, "", "", "gap", g.gap)
    return spreadsheet_csv(header, rows, delimiter)


def workbook(fc: Forecast, lang: str) -> bytes:
    """The forecast as an .xlsx workbook: one sheet per breakdown, bold frozen headers,
    euro amounts as numbers in the euro format."""
    from openpyxl import Workbook  # type: ignore[import-untyped]
    from openpyxl.styles import Font  # type: ignore[import-untyped]

    book = Workbook()
    book.remove(book.active)
    for sheet in sheets(fc, lang):
        ws = book.create_sheet(sheet.title[:31])
        ws.append(sheet.headers)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        ws.freeze_panes = "A2"
        for row in sheet.rows:
            ws.append(row)
        for i, header in enumerate(sheet.headers, start=1):
            column = ws.cell(row=1, column=i).column_letter
            ws.column_dimensions[column].width = max(12, len(header) + 2)
            if i - 1 in sheet.money:
                for (cell,) in ws.iter_rows(min_row=2, min_col=i, max_col=i):
                    cell.number_format = EUR_FORMAT
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
