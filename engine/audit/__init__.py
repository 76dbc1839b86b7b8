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

An anchor (`take_anchor`) is a digest over every project's chain head and the version
hashes, kept outside the database: `verify` against it names a project whose chain is
now shorter than, or different from, the anchored one (longer is fine), and a version
that changed or vanished. Deleting the last events and fixing the head cannot be seen
without one.

Everything is streamed in project order, one project's rows at a time, inside one
read transaction (REPEATABLE READ on PostgreSQL, so all the streams see one snapshot).
"""

from __future__ import annotations

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
    project_line,
    read_anchor,
    take_anchor,
)
from engine.audit.findings import Found, VerifyReport, broken_entry
from engine.audit.replay import UNKNOWN, compare, replay
from engine.audit.streams import STREAM_BATCH, Rows
from engine.audit.versions import SchemeInfo, check_organisation, check_schemes
from engine.history import verify_chain
from storage.audit import (
    CbaRow,
    CbaYear,
    ChainEvent,
    ChecklistTick,
    ProjectSnapshot,
    RiskRow,
    snapshot,
    stream_cba_years,
    stream_cbas,
    stream_history,
    stream_projects,
    stream_risks,
    stream_ticks,
)
from storage.database import Database

__all__ = [
    "ANCHOR_FORMAT",
    "DIGEST",
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


def verify(db: Database, *, anchor: Anchor | None = None) -> VerifyReport:
    """Check every project, the organisation and the versions (see the module's
    docstring); with `anchor`, also that nothing anchored was truncated or rewritten."""
    tally = _Tally(anchor)
    with snapshot(db) as conn:
        version_lines: list[str] = []
        schemes = check_schemes(conn, tally.broken, version_lines)
        org_lines: list[str] = []
        assignments = check_organisation(conn, tally.broken, org_lines)
        version_lines = org_lines + version_lines
        _verify_projects(conn, schemes, tally)
    for line in version_lines:
        tally.digest.update(line.encode())
    now_digest = tally.digest.hexdigest()
    if anchor is not None:
        tally.broken += check_anchor(anchor, tally.anchored, schemes, version_lines, now_digest)
    return VerifyReport(
        tally.count,
        tally.events,
        tally.broken,
        partial=tally.partial,
        not_checkable=dict(sorted(tally.not_checkable.items())),
        role_assignments=assignments,
        anchor=None if anchor is None else anchor.summary(),
        digest=now_digest,
    )


@dataclass
class _Tally:
    """What `verify` has found and counted so far."""

    anchor: Anchor | None
    broken: list[dict[str, Any]] = field(default_factory=list)
    count: int = 0  # projects
    events: int = 0
    partial: int = 0  # projects with a value no event records
    not_checkable: dict[str, int] = field(default_factory=dict)
    digest: Any = field(default_factory=hashlib.sha256)  # the anchor digest so far
    # The anchored heads not yet matched with a project (None: no anchor file).
    anchored: dict[int, tuple[str | None, int, str]] | None = None

    def __post_init__(self) -> None:
        if self.anchor is not None and self.anchor.projects is not None:
            self.anchored = dict(self.anchor.projects)


_Project = tuple[ProjectSnapshot, list[ChecklistTick], list[RiskRow], list[CbaRow], list[CbaYear]]


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


def _verify_projects(conn: Connection, schemes: dict[int, SchemeInfo], tally: _Tally) -> None:
    heads = stream_projects(conn)
    chains = _Chains(stream_history(conn))
    ticks = Rows(stream_ticks(conn))
    risk_rows = Rows(stream_risks(conn))
    cba_rows = Rows(stream_cbas(conn))
    year_rows = Rows(stream_cba_years(conn))

    def orphans_below(pid: int | None) -> None:
        for orphan, events in chains.orphans_below(pid):
            tally.events += events
            tally.broken.append(
                broken_entry(None, orphan, None, "history of a project that does not exist")
            )

    for row in heads:
        tally.count += 1
        tally.digest.update(project_line(row.id, row.head_seq, row.head_hash).encode())
        orphans_below(row.id)
        chain = chains.take(row.id)
        tally.events += len(chain)
        project = (
            row,
            ticks.take(row.id),
            risk_rows.take(row.id),
            cba_rows.take(row.id),
            year_rows.take(row.id),
        )
        _verify_project(project, chain, schemes, tally)
    orphans_below(None)


def _verify_project(
    project: _Project, chain: list[ChainEvent], schemes: dict[int, SchemeInfo], tally: _Tally
) -> None:
    row = project[0]
    if not chain:
        tally.broken.append(broken_entry(row, row.id, 1, "the project has no history at all"))
        return
    found, unknown = _check(project, chain, schemes)
    if tally.anchored is not None and tally.anchor is not None:
        head = tally.anchored.pop(row.id, None)
        problem = chain_against_anchor(tally.anchor, head, chain) if head else None
        if problem and not any(f.field == "chain" for f in found):
            found.append(Found(problem[0], "anchor", None, None, problem[1]))
    for f in found:
        tally.broken.append(broken_entry(row, row.id, f.seq, f.reason, f))
    if unknown:
        tally.partial += 1
        for name in unknown:
            tally.not_checkable[name] = tally.not_checkable.get(name, 0) + 1


def _check(
    project: _Project, chain: list[ChainEvent], schemes: dict[int, SchemeInfo]
) -> tuple[list[Found], set[str]]:
    head, ticks, risk_rows, cba_rows, year_rows = project
    found = verify_chain(head.id, head.head_seq, head.head_hash, chain)
    if found is not None:
        return [Found(found.seq, "chain", None, None, found.reason)], set()
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
        return out, {"state"}
    return out + more, unknown
