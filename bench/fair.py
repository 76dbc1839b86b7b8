"""The fair limit of an advance: the same statements one `Engine.advance` issues, prepared
and run on the raw driver (sqlite3 or psycopg) with no engine in between."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any

from engine.history import event_hash

T0 = dt.datetime(2026, 2, 2, 8, 0, tzinfo=dt.UTC)

SQL = {
    "select": "SELECT projects.*, (SELECT max(org_versions.id) FROM org_versions) "
    "FROM projects WHERE projects.code = {p}",
    "cas": "UPDATE projects SET stage={p}, stage_entered_at={p}, hold_since=NULL, "
    "hold_reason=NULL, version={p}, head_seq={p}, head_hash={p} WHERE id={p} AND version={p}",
    "history": "INSERT INTO history (project_id, seq, at, actor_id, kind, action, from_stage, "
    "to_stage, comment, refs, data, prev_hash, hash) VALUES "
    "({p},{p},{p},{p},{p},{p},{p},{p},{p},{p},{p},{p},{p})",
    "close": "UPDATE deadlines SET closed_at={p} WHERE project_id={p} AND closed_at IS NULL",
    "deadline": "INSERT INTO deadlines (project_id, kind, stage, action, opened_at, due_at) "
    "VALUES ({p},{p},{p},NULL,{p},{p}) RETURNING id",
    "timer": "INSERT INTO timers (deadline_id, project_id, step, role, fire_at) "
    "VALUES ({p},{p},{p},{p},{p})",
}


def raw_advances(
    connect: Callable[[], Any],
    placeholder: str,
    begin: str | None,
    n: int,
    stamp: Callable[[dt.datetime], Any],
) -> float:
    """Advances per second doing exactly the statements above, prepared, on one connection."""
    sql = {k: v.format(p=placeholder) for k, v in SQL.items()}
    conn = connect()
    cur = conn.cursor()
    state: dict[str, tuple[int, str, int, int, str]] = {}
    cur.execute("SELECT code, id, stage, version, head_seq, head_hash FROM projects")
    for code, pid, stage, version, seq, head in cur.fetchall():
        state[code] = (pid, stage, version, seq, head)
    codes = sorted(state)
    start = time.perf_counter()
    for i in range(n):
        code = codes[i % len(codes)]
        now = T0 + dt.timedelta(days=400, seconds=i)
        if begin:
            cur.execute(begin)
        cur.execute(sql["select"], (code,))
        row = cur.fetchone()
        if i == 0:
            names = [d[0] for d in cur.description]
            at = {k: names.index(k) for k in ("id", "stage", "version", "head_seq", "head_hash")}
        pid, stage, version = row[at["id"]], row[at["stage"]], row[at["version"]]
        seq, head = row[at["head_seq"]], row[at["head_hash"]]
        target = "review" if stage == "draft" else "draft"
        event = {
            "project_id": pid,
            "seq": seq + 1,
            "at": now,
            "actor_id": "w",
            "kind": "advanced",
            "action": "send",
            "from_stage": stage,
            "to_stage": target,
            "comment": None,
            "refs": "[]",
            "data": "{}",
            "prev_hash": head,
        }
        digest = event_hash(event)
        cur.execute(sql["cas"], (target, stamp(now), version + 1, seq + 1, digest, pid, version))
        cur.execute(
            sql["history"],
            (
                pid,
                seq + 1,
                stamp(now),
                "w",
                "advanced",
                "send",
                stage,
                target,
                None,
                "[]",
                "{}",
                head,
                digest,
            ),
        )
        cur.execute(sql["close"], (stamp(now), pid))
        due = now + dt.timedelta(days=7)
        cur.execute(sql["deadline"], (pid, "stage", target, stamp(now), stamp(due)))
        did = cur.fetchone()[0]
        cur.executemany(
            sql["timer"],
            [
                (did, pid, "reminder0", None, stamp(due - dt.timedelta(days=1))),
                (did, pid, "overdue", None, stamp(due)),
                (did, pid, "escalation0", "boss", stamp(due + dt.timedelta(days=1))),
            ],
        )
        conn.commit()
    elapsed = time.perf_counter() - start
    conn.close()
    return n / elapsed
