"""What `audit verify` reports: `VerifyReport`, one difference between the history and
the rows (`Found`, made by `differ`), and the report entries for a broken project
(`broken_entry`) or something outside the projects (`other_entry`), with values shown as
the report prints them (`show`)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from engine.views import AuditReport
from storage.audit import ProjectSnapshot


@dataclass(frozen=True)
class VerifyReport(AuditReport):
    """`audit verify`'s answer: counts, every problem found (`broken`), and what could
    not be checked because older events do not record it."""

    # Projects with at least one value no event records, and how many per value.
    partial: int = 0
    not_checkable: dict[str, int] = field(default_factory=dict)
    role_assignments: int = 0  # rows compared with the organisation
    anchor: dict[str, Any] | None = None  # the anchor verified against, if any
    digest: str = ""  # the anchor digest of the database as verified
    mode: str = "full"  # full | incremental: what ran
    # Projects and events checked (re-hashed or replayed) and skipped (unchanged since
    # their verified head): {"projects": n, "events": n} each.
    checked: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    heads: dict[str, Any] = field(default_factory=dict)  # the verified heads used, written


def show(value: Any) -> Any:
    """A value as the report prints it (JSON-ready)."""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, tuple):
        return [show(v) for v in value]
    return value


@dataclass
class Found:
    """One difference between what the history says and what the rows say."""

    seq: int | None
    field: str
    chain: Any
    row: Any
    reason: str


def _said(value: Any) -> str:
    shown = show(value)
    return "none" if shown is None else json.dumps(shown, ensure_ascii=False)


def differ(name: str, seq: int | None, chain: Any, row: Any, what: str = "") -> Found:
    """The finding that `name` (`what` in the sentence) is `chain` by the history, the
    event `seq`, but `row` in the table."""
    return Found(
        seq,
        name,
        show(chain),
        show(row),
        f"{what or name}: the history says {_said(chain)} but the row says {_said(row)} "
        "(changed outside Shēma)",
    )


def other_entry(where: str, reason: str, **extra: Any) -> dict[str, Any]:
    """The report entry for a problem outside the projects, at `where`."""
    return {
        "project": None,
        "project_id": None,
        "event": None,
        "where": where,
        "reason": reason,
        **extra,
    }


def broken_entry(
    head: ProjectSnapshot | None,
    pid: int,
    seq: int | None,
    reason: str,
    found: Found | None = None,
    code: str | None = None,
) -> dict[str, Any]:
    """The report entry for a problem of project `pid` (its row `head`, or only its
    `code` when there is no row), at event `seq`."""
    out: dict[str, Any] = {
        "project": head.code if head is not None else code,
        "project_id": pid,
        "event": seq,
        "reason": reason,
    }
    if found is not None and found.field not in ("chain", "anchor"):
        out.update(field=found.field, history=found.chain, row=found.row)
    return out
