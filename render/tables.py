"""Tables as text: aligned plain-text tables for terminals and pipes, CSV files that
spreadsheets open with Latvian letters intact, and user text made literal in Markdown."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from workflow.errors import UsageError


def plain_cell(value: Any) -> str:
    """A value as a table cell: nothing for None, else its `str`."""
    return "" if value is None else str(value)


def figure_cell(value: Any) -> str:
    """A value as a cell of a table of figures: like `plain_cell`, but a Decimal (an amount
    of money) always with two decimals."""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return plain_cell(value)


def text_table(
    rows: Sequence[Sequence[Any]],
    headers: Sequence[str],
    *,
    cell: Callable[[Any], str] = plain_cell,
) -> list[str]:
    """The lines of a plain aligned table (no colour: scripts and pipes read it too): the
    headers, a rule of dashes, then each row; columns two spaces apart, trailing spaces
    removed. `cell` turns each value of `rows` into text."""
    cells = [[str(h) for h in headers]] + [[cell(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    out = []
    for n, r in enumerate(cells):
        out.append("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return out


def spreadsheet_csv(header: Sequence[str], rows: Sequence[Sequence[str]], delimiter: str) -> str:
    """CSV that spreadsheets open with Latvian letters intact: a UTF-8 byte-order mark
    first, CRLF line ends, fields quoted where needed. Encode the result as UTF-8.

    The delimiter is one character other than a double quote or a line break (',' or ';'
    or a tab); any other is refused with a UsageError. Cells are written as they are."""
    if len(delimiter) != 1 or delimiter in '"\r\n':
        raise UsageError(
            f"a CSV delimiter is one character such as ',' or ';', not {delimiter!r}",
            code="report.csv_delimiter",
            delimiter=delimiter,
        )
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return "\ufeff" + buffer.getvalue()


_MD_SPECIAL = str.maketrans({c: f"\\{c}" for c in "\\`*_[]<>|"})


def markdown_text(value: str) -> str:
    """User text as literal Markdown text (no accidental emphasis, links or headings)."""
    escaped = value.translate(_MD_SPECIAL)
    return "\\" + escaped if escaped.startswith("#") else escaped
