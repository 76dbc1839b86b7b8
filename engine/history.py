"""The per-project hash chain of history events.

Each event's hash covers every stored column of its row (but the hash itself) and the
previous event's hash; the project row keeps the head, so a deleted last event shows too.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

GENESIS = "0" * 64
HASHED = (
    "project_id",
    "seq",
    "at",
    "actor_id",
    "kind",
    "action",
    "from_stage",
    "to_stage",
    "comment",
    "refs",
    "data",
    "prev_hash",
)


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return value


def event_hash(row: Mapping[str, Any]) -> str:
    """SHA-256 over the canonical JSON of the hashed columns of one history row."""
    payload = json.dumps(
        [_plain(row[c]) for c in HASHED], ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(payload.encode()).hexdigest()


@dataclass(frozen=True)
class Break:
    """Where a project's chain is broken."""

    project_id: int
    seq: int
    reason: str


def verify_chain(
    project_id: int, head_seq: int, head_hash: str, rows: Iterable[Mapping[str, Any]]
) -> Break | None:
    """The first break in one project's chain (rows in sequence order), or None."""
    prev, expected_seq = GENESIS, 1
    for row in rows:
        seq = row["seq"]
        if seq != expected_seq:
            return Break(project_id, expected_seq, f"event #{expected_seq} is missing")
        if row["prev_hash"] != prev:
            return Break(project_id, seq, f"event #{seq} does not follow event #{seq - 1}")
        if event_hash(row) != row["hash"]:
            return Break(project_id, seq, f"event #{seq} was changed after it was written")
        prev, expected_seq = row["hash"], seq + 1
    if expected_seq - 1 != head_seq or prev != head_hash:
        if expected_seq - 1 < head_seq:
            return Break(
                project_id,
                expected_seq,
                f"events #{expected_seq}..#{head_seq} are missing (deleted)",
            )
        return Break(
            project_id,
            expected_seq - 1,
            "the chain does not end at the head recorded on the project",
        )
    return None


def dumps(value: Any) -> str:
    """Canonical JSON for the JSON columns (stable, so hashes are reproducible)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _cents(value: Any) -> str:
    # `+ 0` turns -0.00 into 0.00, as the database would give it back.
    return str(Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) + 0)


def flows_digest(flows: Iterable[tuple[int, Any, Any]]) -> str:
    """SHA-256 of a cost-benefit analysis's yearly flows (year, cost, benefit), in year
    order and to the cent: what a `cba_set` event records of the `cba_years` rows, so
    `audit verify` can recompute it from the table."""
    lines = sorted((int(y), _cents(c), _cents(b)) for y, c, b in flows)
    payload = "".join(f"{y} {c} {b}\n" for y, c, b in lines)
    return hashlib.sha256(payload.encode()).hexdigest()
