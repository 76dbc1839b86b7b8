"""What `audit verify` reports: `VerifyReport`, one difference between the history and
the rows (`_Found`, made by `_differ`), and the report entries for a broken project
(`_broken`) or something outside the projects (`_other`), with values shown as the
report prints them (`_show`)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from engine.views import AuditReport


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


def _show(value: Any) -> Any:
    """A value as the report prints it (JSON-ready)."""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, tuple):
        return [_show(v) for v in value]
    return value


@dataclass
class _Found:
    """One difference between what the history says and what the rows say."""

    seq: int | None
    field: str
    chain: Any
    row: Any
    reason: str


def _said(value: Any) -> str:
    shown = _show(value)
    return "none" if shown is None else json.dumps(shown, ensure_ascii=False)


def _differ(name: str, seq: int | None, chain: Any, row: Any, what: str = "") -> _Found:
    return _Found(
        seq,
        name,
        _show(chain),
        _show(row),
        f"{what or name}: the history says {_said(chain)} but the row says {_said(row)} "
        "(changed outside Shēma)",
    )


def _other(where: str, reason: str, **extra: Any) -> dict[str, Any]:
    return {
        "project": None,
        "project_id": None,
        "event": None,
        "where": where,
        "reason": reason,
        **extra,
    }


def _broken(
    head: Any,
    pid: int,
    seq: int | None,
    reason: str,
    found: _Found | None = None,
    code: str | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "project": head.code if head is not None else code,
        "project_id": pid,
        "event": seq,
        "reason": reason,
    }
    if found is not None and found.field not in ("chain", "anchor"):
        out.update(field=found.field, history=found.chain, row=found.row)
    return out
