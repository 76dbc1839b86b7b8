"""Verified heads: what lets `audit verify` check only what was appended since it last
found a project whole.

A verify run that finds a project whole keeps its head in `audit_heads`: the last event's
sequence number and hash, and `state`, a digest of the project's row, checklist ticks,
risks and cost-benefit rows as they were. The next run skips a project whose row still
has that head and whose rows still have that digest (nothing appended, nothing edited:
no event is re-hashed, nothing replayed); a project with new events has them checked
from the verified head forward (the first new event must follow the head's hash) and
its whole history replayed; a project whose rows alone changed is replayed. A project
with no head (never verified, or broken when last verified) is checked in full.

What protects the heads: each run that changes them appends a row to `audit_runs` with
the SHA-256 over every head row (`head ID SEQ HASH STATE` lines in id order) and a digest
chaining it to the previous run's. Each run recomputes both before it trusts a head:
a head row edited, inserted or deleted outside Shēma (to make a rewritten history look
verified, say) no longer matches its run's digest, and a run row edited breaks the run
chain; either is reported and every project is then checked in full, as `--full` does,
and the heads that run records start a new chain (the broken runs stay, unused).
The limit: the digests are not secret, so someone who can write the database and
recompute SHA-256 can rewrite heads, runs and history consistently — as they can the
history chain alone. An anchor (`audit anchor`) pins the last run's digest outside the
database; a later `verify --anchor` finds that run gone or changed, and compares every
anchored project's chain with its anchored head (reading the history of any project whose
verified head is not the anchored one). Events before a verified head are not re-hashed
by an incremental run, so an old event changed in place is found only by `--full`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

from engine.audit.findings import broken_entry, other_entry
from engine.history import GENESIS, Break, event_hash
from storage.audit import (
    CbaRow,
    CbaYear,
    ChainEvent,
    ChecklistTick,
    ProjectSnapshot,
    RiskRow,
)
from storage.audit_heads import AuditRun, VerifiedHead, write_heads
from storage.database import Database

FULL = "full"
INCREMENTAL = "incremental"

ProjectRows = tuple[
    ProjectSnapshot, list[ChecklistTick], list[RiskRow], list[CbaRow], list[CbaYear]
]


def _getter(cls: Any) -> Any:
    return attrgetter(*cls.__slots__)


_ROW, _TICK, _RISK, _CBA, _YEAR = map(
    _getter, (ProjectSnapshot, ChecklistTick, RiskRow, CbaRow, CbaYear)
)


def state_digest(project: ProjectRows) -> str:
    """A digest of a project's rows as read (a change detector: a different digest only
    makes the project be replayed, it is never itself a finding)."""
    row, ticks, risks, cbas, years = project
    values = (
        _ROW(row),
        [_TICK(r) for r in ticks],
        [_RISK(r) for r in risks],
        [_CBA(r) for r in cbas],
        [_YEAR(r) for r in years],
    )
    return hashlib.sha256(repr(values).encode()).hexdigest()


def head_line(pid: int, seq: int, hash_: str, state: str) -> str:
    """A head's line of the heads digest."""
    return f"head {pid} {seq} {hash_} {state}\n"


def _stamp(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def run_digest(
    rid: int, at: dt.datetime, mode: str, heads: int, heads_digest: str, prev: str
) -> str:
    """A run's digest: SHA-256 of `run ID AT MODE HEADS HEADS_DIGEST PREV_DIGEST`."""
    line = f"run {rid} {_stamp(at)} {mode} {heads} {heads_digest} {prev}\n"
    return hashlib.sha256(line.encode()).hexdigest()


@dataclass
class HeadsCheck:
    """What the stored heads and runs say before this run uses them."""

    latest: AuditRun | None = None
    runs: dict[int, str] = field(default_factory=dict)  # id → digest, every run
    broken: list[dict[str, Any]] = field(default_factory=list)

    @property
    def trusted(self) -> bool:
        return not self.broken


def check_heads(runs: Iterable[AuditRun], heads: Iterable[VerifiedHead]) -> HeadsCheck:
    """Recompute the run chain (from its last start: the first run, or the first after
    heads were found untrusted) and the digest over the head rows; each problem is a
    report entry, and any makes the heads untrusted."""
    out = HeadsCheck()
    prev = GENESIS
    for r in runs:
        out.runs[r.id] = r.digest
        if r.prev_digest == GENESIS:  # a chain (re)starts: what came before is past
            out.broken.clear()
            prev = GENESIS
        digest = run_digest(r.id, r.verified_at, r.mode, r.heads, r.heads_digest, r.prev_digest)
        if r.prev_digest != prev or digest != r.digest:
            what = "does not follow the run before it" if r.prev_digest != prev else "was changed"
            out.broken.append(
                other_entry("audit_runs", f"verify run #{r.id} {what} (changed outside Shēma)")
            )
        prev, out.latest = r.digest, r
    h, count = hashlib.sha256(), 0
    for v in heads:
        count += 1
        h.update(head_line(v.project_id, v.seq, v.hash, v.state).encode())
    last = out.latest
    if last is None and count:
        out.broken.append(
            other_entry(
                "audit_heads",
                f"{count} verified heads but no verify run wrote them (inserted outside "
                "Shēma): every project was checked in full",
            )
        )
    elif last is not None and (count, h.hexdigest()) != (last.heads, last.heads_digest):
        out.broken.append(
            other_entry(
                "audit_heads",
                f"the verified heads do not match the digest verify run #{last.id} of "
                f"{_stamp(last.verified_at)} wrote (changed outside Shēma): every project "
                "was checked in full",
            )
        )
    return out


class Heads:
    """The stored verified heads in project order, handed out one project at a time."""

    def __init__(self, heads: Iterable[VerifiedHead]) -> None:
        self._it = iter(heads)
        self._next = next(self._it, None)

    def gone_below(self, pid: int | None) -> Iterator[VerifiedHead]:
        """The heads before project `pid` (before none: all left), whose project is gone."""
        while self._next is not None and (pid is None or self._next.project_id < pid):
            yield self._next
            self._next = next(self._it, None)

    def take(self, pid: int) -> VerifiedHead | None:
        """Project `pid`'s head, once the heads below it are taken."""
        if self._next is None or self._next.project_id != pid:
            return None
        head, self._next = self._next, next(self._it, None)
        return head


def gone_entry(head: VerifiedHead) -> dict[str, Any]:
    """The report entry for a verified project whose row is gone."""
    return broken_entry(
        None,
        head.project_id,
        head.seq,
        f"the verify of {_stamp(head.verified_at)} found project #{head.project_id} whole "
        f"with {head.seq} events; it is gone (deleted)",
    )


def verify_tail(row: ProjectSnapshot, start: VerifiedHead, chain: list[ChainEvent]) -> Break | None:
    """The first break in `chain` after the verified head `start`, or None; `chain` must
    still hold the head's event (see `head_kept`). The messages are `verify_chain`'s."""
    prev, expected = start.hash, start.seq + 1
    for event in chain[start.seq :]:
        seq = event.seq
        if seq != expected:
            return Break(row.id, expected, f"event #{expected} is missing")
        if event.prev_hash != prev:
            return Break(row.id, seq, f"event #{seq} does not follow event #{seq - 1}")
        if event_hash(event) != event.hash:
            return Break(row.id, seq, f"event #{seq} was changed after it was written")
        prev, expected = event.hash, seq + 1
    if expected - 1 != row.head_seq or prev != row.head_hash:
        if expected - 1 < row.head_seq:
            return Break(
                row.id, expected, f"events #{expected}..#{row.head_seq} are missing (deleted)"
            )
        return Break(
            row.id, expected - 1, "the chain does not end at the head recorded on the project"
        )
    return None


def head_kept(start: VerifiedHead, chain: list[ChainEvent]) -> Break | None:
    """None if `chain` still holds the verified head's event unchanged; else where and how
    it differs (after the whole chain is found whole, so the history was cut or rewritten
    consistently)."""
    when = f"the verify of {_stamp(start.verified_at)}"
    if len(chain) < start.seq or chain[start.seq - 1].seq != start.seq:
        first = len(chain) + 1
        return Break(
            start.project_id,
            first,
            f"the history has {len(chain)} events but {when} found {start.seq}: events "
            f"#{first}..#{start.seq} were deleted",
        )
    if chain[start.seq - 1].hash != start.hash:
        return Break(
            start.project_id,
            start.seq,
            f"event #{start.seq} is not the one {when} found whole: the history was rewritten",
        )
    return None


_NEVER = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)  # a run that records nothing


@dataclass
class NewHeads:
    """The heads this run leaves (`put` anew, `drop`ped, the rest kept) and their digest;
    with `replace`, every head is put anew (the stored ones are not trusted or used)."""

    now: dt.datetime | None
    replace: bool
    put: list[VerifiedHead] = field(default_factory=list)
    drop: list[int] = field(default_factory=list)
    count: int = 0
    digest: Any = field(default_factory=hashlib.sha256)

    def keep(self, head: VerifiedHead) -> None:
        """A head that stays as it is."""
        self.count += 1
        self.digest.update(head_line(head.project_id, head.seq, head.hash, head.state).encode())

    def whole(self, row: ProjectSnapshot, state: str, old: VerifiedHead | None) -> None:
        """Project `row` was found whole with rows of digest `state`."""
        same = old is not None and (old.seq, old.hash, old.state) == (
            row.head_seq,
            row.head_hash,
            state,
        )
        if same and old is not None and not self.replace:
            self.keep(old)
            return
        head = VerifiedHead(row.id, row.head_seq, row.head_hash, state, self.now or _NEVER)
        self.put.append(head)
        self.keep(head)

    def broken(self, pid: int, old: VerifiedHead | None) -> None:
        """Project `pid` was found broken (or is gone): it keeps no head."""
        if old is not None and not self.replace:
            self.drop.append(pid)


def record(
    db: Database, new: NewHeads, mode: str, seen: HeadsCheck, now: dt.datetime
) -> AuditRun | None:
    """Write this run's heads and its run row, unless they are the heads already stored
    and trusted; None if nothing was written (nothing changed, or another run wrote heads
    after this one's snapshot: the next run checks against those)."""
    last = seen.latest
    digest = new.digest.hexdigest()
    if seen.trusted and not new.put and not new.drop:
        return None
    rid = 1 if last is None else last.id + 1
    prev = GENESIS if last is None or not seen.trusted else last.digest
    run = AuditRun(
        rid, now, mode, new.count, digest, prev, run_digest(rid, now, mode, new.count, digest, prev)
    )
    with db.write() as conn:
        after = None if last is None else last.id
        written = write_heads(conn, new.put, new.drop, run, after, replace=new.replace)
    return run if written else None


def heads_summary(seen: HeadsCheck, written: AuditRun | None, recorded: bool) -> Mapping[str, Any]:
    """The report's `heads`: the run whose heads were used and the run this one wrote."""
    last = seen.latest
    return {
        "trusted": seen.trusted,
        "since": None if last is None else _stamp(last.verified_at),
        "run": None if last is None else last.id,
        "written": None if written is None else written.id,
        "recorded": recorded,
    }
