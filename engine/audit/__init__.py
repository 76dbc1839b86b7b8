"""`shema audit verify` and `shema audit anchor`.

`verify` walks every project's hash chain and *replays* it: the events say what must be
true of the project now (unit, title, scheme, budget and currency, funding instrument,
partners, dates, responsible person, stage and when it was entered, hold, pending
handoff, the idea it came from, checklist ticks, risks, the cost-benefit analysis), and
each of those columns and rows is compared with what the chain says, so a direct SQL
edit is named with the project, the field or row, and both values. Events written
before an event kind recorded a value (a project created before the budget was part of
its `created` event, say) leave that value *not checkable*: the report counts such
projects per field, and they never fail the check.

Outside the projects: the role assignments and the people's `active` flags must be
what the current organisation version's compiled organisation says, and every stored
organisation and scheme version must still hash to its content hash.

`verify` is incremental: a project unchanged since a run found it whole is skipped, and one
with new events is checked from its verified head forward and replayed; `full=True`
checks everything. How the verified heads are kept and protected, and what an
incremental run cannot see, is in engine/audit/heads.py.

An anchor (`take_anchor`) is a digest over every project's chain head, the version
hashes and the last verify run's digest, kept outside the database: `verify` against it
names a project whose chain is now shorter than, or different from, the anchored one
(longer is fine), a version that changed or vanished, and an anchored verify run that
changed or vanished. Deleting the last events and fixing the head cannot be seen
without one.

Everything is streamed in project order, one project's rows at a time, inside one
read transaction (REPEATABLE READ on PostgreSQL, so all the streams see one snapshot).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import groupby
from operator import attrgetter
from typing import Any

from sqlalchemy import Connection

from engine.audit.anchors import (
    ANCHOR_FORMAT,
    DIGEST,
    Anchor,
    chain_against_anchor,
    check_anchor,
    digest_anchor,
    dump_anchor,
    heads_line,
    project_line,
    read_anchor,
    take_anchor,
)
from engine.audit.compare import compare
from engine.audit.findings import Found, VerifyReport, broken_entry
from engine.audit.heads import (
    FULL,
    INCREMENTAL,
    Heads,
    HeadsCheck,
    NewHeads,
    ProjectRows,
    check_heads,
    gone_entry,
    head_kept,
    heads_summary,
    record,
    state_digest,
    verify_tail,
)
from engine.audit.replay import UNKNOWN, replay
from engine.audit.streams import STREAM_BATCH, Rows
from engine.audit.versions import SchemeInfo, check_organisation, check_schemes
from engine.history import Break, verify_chain
from storage.audit import (
    ChainEvent,
    ProjectSnapshot,
    project_history,
    snapshot,
    stream_cba_years,
    stream_cbas,
    stream_history,
    stream_moved_history,
    stream_projects,
    stream_risks,
    stream_ticks,
)
from storage.audit_heads import VerifiedHead, stream_runs, stream_verified_heads
from storage.database import Database

__all__ = [
    "ANCHOR_FORMAT",
    "DIGEST",
    "FULL",
    "INCREMENTAL",
    "STREAM_BATCH",
    "UNKNOWN",
    "Anchor",
    "VerifyReport",
    "compare",
    "digest_anchor",
    "dump_anchor",
    "read_anchor",
    "replay",
    "take_anchor",
    "verify",
]


def verify(
    db: Database,
    *,
    anchor: Anchor | None = None,
    full: bool = False,
    now: dt.datetime | None = None,
) -> VerifyReport:
    """Check the projects, the organisation and the versions (see the module's docstring);
    with `anchor`, also that nothing anchored was truncated or rewritten.

    Incremental unless `full`: only what was appended (or edited) since each project's
    verified head is checked (engine/audit/heads.py); `full` re-hashes and replays every
    project, as does a run whose stored heads do not match their digests. With `now`,
    the heads of the projects found whole are recorded for the next run."""
    tally = _Tally(anchor)
    with snapshot(db) as conn:
        version_lines: list[str] = []
        schemes = check_schemes(conn, tally.broken, version_lines)
        org_lines: list[str] = []
        assignments = check_organisation(conn, tally.broken, org_lines)
        version_lines = org_lines + version_lines
        seen = check_heads(stream_runs(conn), stream_verified_heads(conn))
        tally.broken += seen.broken
        tally.mode = INCREMENTAL if not full and seen.trusted else FULL
        tally.new = NewHeads(now, replace=tally.mode == FULL)
        _verify_projects(conn, schemes, tally, seen.trusted)
    for line in version_lines:
        tally.digest.update(line.encode())
    now_digest, candidates = _digests(tally.digest, seen)
    if anchor is not None:
        tally.broken += check_anchor(
            anchor, tally.anchored, schemes, version_lines, candidates, seen.runs
        )
    written = None if now is None else record(db, tally.new, tally.mode, seen, now)
    return VerifyReport(
        tally.count,
        tally.events,
        tally.broken,
        partial=tally.partial,
        not_checkable=dict(sorted(tally.not_checkable.items())),
        role_assignments=assignments,
        anchor=None if anchor is None else anchor.summary(),
        digest=now_digest,
        mode=tally.mode,
        checked={"projects": tally.count - tally.skipped, "events": tally.checked},
        skipped={"projects": tally.skipped, "events": tally.events - tally.checked},
        heads=dict(heads_summary(seen, written, now is not None)),
    )


def _digests(base: Any, seen: HeadsCheck) -> tuple[str, set[str]]:
    """The anchor digest of the database now (its lines, then the last run's), and every
    digest an anchor taken since the first project may have (no run yet, or any run)."""
    candidates = {base.hexdigest()}
    now_digest = base.hexdigest()
    for rid, digest in seen.runs.items():
        h = base.copy()
        h.update(heads_line(rid, digest).encode())
        now_digest = h.hexdigest()
        candidates.add(now_digest)
    return now_digest, candidates


@dataclass
class _Tally:
    """What `verify` has found and counted so far."""

    anchor: Anchor | None
    broken: list[dict[str, Any]] = field(default_factory=list)
    count: int = 0  # projects
    events: int = 0
    checked: int = 0  # events re-hashed
    skipped: int = 0  # projects unchanged since their verified head
    partial: int = 0  # projects with a value no event records
    not_checkable: dict[str, int] = field(default_factory=dict)
    digest: Any = field(default_factory=hashlib.sha256)  # the anchor digest so far
    # The anchored heads not yet matched with a project (None: no anchor file).
    anchored: dict[int, tuple[str | None, int, str]] | None = None
    mode: str = FULL
    new: NewHeads = field(default_factory=lambda: NewHeads(None, replace=True))

    def __post_init__(self) -> None:
        if self.anchor is not None and self.anchor.projects is not None:
            self.anchored = dict(self.anchor.projects)


class _Chains:
    """The history in project order, handed out one project's chain at a time."""

    def __init__(self, events: Iterable[ChainEvent]) -> None:
        self._groups = groupby(events, key=attrgetter("project_id"))
        self._pending = next(self._groups, None)

    def orphans_below(self, pid: int | None) -> Iterator[tuple[int, int]]:
        """(project id, number of events) of each chain before project `pid` (before
        none: every chain left), which therefore has no project row."""
        while self._pending is not None and (pid is None or self._pending[0] < pid):
            yield self._pending[0], sum(1 for _ in self._pending[1])
            self._pending = next(self._groups, None)

    def take(self, pid: int) -> list[ChainEvent]:
        """Project `pid`'s chain (empty when it has none), once its orphans are taken."""
        if self._pending is None or self._pending[0] != pid:
            return []
        chain = list(self._pending[1])
        self._pending = next(self._groups, None)
        return chain


def _verify_projects(
    conn: Connection, schemes: dict[int, SchemeInfo], tally: _Tally, trusted: bool
) -> None:
    """Every project in id order: its chain and rows, from its verified head when the run
    is incremental. Full: every chain is streamed (history without a project row is
    named); incremental: only the chains of projects whose head moved, and those whose
    rows alone changed one at a time."""
    incremental = tally.mode == INCREMENTAL
    rows = stream_projects(conn)
    chains = _Chains(stream_moved_history(conn) if incremental else stream_history(conn))
    verified = Heads(stream_verified_heads(conn) if trusted else ())
    ticks = Rows(stream_ticks(conn))
    risk_rows = Rows(stream_risks(conn))
    cba_rows = Rows(stream_cbas(conn))
    year_rows = Rows(stream_cba_years(conn))

    def below(pid: int | None) -> None:
        for orphan, events in chains.orphans_below(pid):
            tally.events += events
            tally.checked += events
            tally.broken.append(
                broken_entry(None, orphan, None, "history of a project that does not exist")
            )
        for head in verified.gone_below(pid):
            tally.broken.append(gone_entry(head))
            tally.new.broken(head.project_id, head)

    for row in rows:
        tally.count += 1
        tally.digest.update(project_line(row.id, row.head_seq, row.head_hash).encode())
        below(row.id)
        project = (
            row,
            ticks.take(row.id),
            risk_rows.take(row.id),
            cba_rows.take(row.id),
            year_rows.take(row.id),
        )
        head = verified.take(row.id)
        anchored = None if tally.anchored is None else tally.anchored.pop(row.id, None)
        if not incremental:
            _verify_project(project, chains.take(row.id), None, anchored, schemes, tally)
            continue
        moved = head is None or (head.seq, head.hash) != (row.head_seq, row.head_hash)
        if moved:
            chain = chains.take(row.id)
        elif head is not None and _unchanged(head, project, anchored):
            tally.skipped += 1
            tally.events += row.head_seq
            tally.new.keep(head)
            continue
        else:
            chain = project_history(conn, row.id)
        _verify_project(project, chain, head, anchored, schemes, tally)
    below(None)


def _unchanged(
    head: VerifiedHead, project: ProjectRows, anchored: tuple[str | None, int, str] | None
) -> bool:
    """Whether the project, whose row still has its verified head, needs no check: its
    rows have the digest they were verified with, and any anchored head is that head."""
    if head.state != state_digest(project):
        return False
    return anchored is None or (anchored[1], anchored[2]) == (head.seq, head.hash)


def _verify_project(
    project: ProjectRows,
    chain: list[ChainEvent],
    start: VerifiedHead | None,
    anchored: tuple[str | None, int, str] | None,
    schemes: dict[int, SchemeInfo],
    tally: _Tally,
) -> None:
    row = project[0]
    tally.events += len(chain)
    if not chain:
        tally.broken.append(broken_entry(row, row.id, 1, "the project has no history at all"))
        tally.new.broken(row.id, start)
        return
    found, unknown, hashed = _check(project, chain, start, schemes)
    tally.checked += hashed
    if anchored is not None and tally.anchor is not None:
        problem = chain_against_anchor(tally.anchor, anchored, chain)
        if problem and not any(f.field == "chain" for f in found):
            found.append(Found(problem[0], "anchor", None, None, problem[1]))
    for f in found:
        tally.broken.append(broken_entry(row, row.id, f.seq, f.reason, f))
    if found:
        tally.new.broken(row.id, start)
    else:
        tally.new.whole(row, state_digest(project), start)
    if unknown:
        tally.partial += 1
        for name in unknown:
            tally.not_checkable[name] = tally.not_checkable.get(name, 0) + 1


def _chain(
    head: ProjectSnapshot, chain: list[ChainEvent], start: VerifiedHead | None
) -> tuple[Break | None, int]:
    """The first break of the chain and how many events were re-hashed: from the verified
    head `start` when it is still there unchanged, else all of them (and, if they are
    whole, that the verified head is not)."""
    if start is not None and head_kept(start, chain) is None:
        return verify_tail(head, start, chain), len(chain) - start.seq
    found = verify_chain(head.id, head.head_seq, head.head_hash, chain)
    if found is None and start is not None:
        found = head_kept(start, chain)
    return found, len(chain)


def _check(
    project: ProjectRows,
    chain: list[ChainEvent],
    start: VerifiedHead | None,
    schemes: dict[int, SchemeInfo],
) -> tuple[list[Found], set[str], int]:
    """What is wrong with one project, what could not be checked, and how many events
    were re-hashed."""
    head, ticks, risk_rows, cba_rows, year_rows = project
    found, hashed = _chain(head, chain, start)
    if found is not None:
        return [Found(found.seq, "chain", None, None, found.reason)], set(), hashed
    out = []
    last = chain[-1]
    if head.version != head.head_seq:
        out.append(
            Found(
                last.seq,
                "version",
                head.head_seq,
                head.version,
                f"the project row says version {head.version} but its history has "
                f"{head.head_seq} events (the row was changed)",
            )
        )
    if last.to_stage != head.stage:
        out.append(
            Found(
                last.seq,
                "stage",
                last.to_stage,
                head.stage,
                f"the project row says stage {head.stage} but its history ends in "
                f"{last.to_stage} (the row was changed)",
            )
        )
    info = schemes.get(head.scheme_version_id)

    def checklist_of(stage: str | None) -> Sequence[str] | None:
        if info is None or info.checklists is None or stage is None:
            return None
        return info.checklists.get(stage)

    try:
        said = replay(chain, checklist_of)
        more, unknown = compare(said, head, schemes, ticks, risk_rows, cba_rows, year_rows)
    except Exception:  # a shape no Shēma wrote: say it was not checked, never crash
        return out, {"state"}, hashed
    return out + more, unknown, hashed
