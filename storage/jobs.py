"""The last run of each scheduled job (`sweep`, `dispatch`), for `shema status`.

Functions run in the caller's transaction; none commits.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, insert, select, update

from storage.tables import job_runs


@dataclass(frozen=True, slots=True)
class JobRun:
    name: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    result: str | None  # a one-line summary of what the run did


def last_run(conn: Connection, name: str) -> JobRun | None:
    """The last recorded run of job `name`, or None when it never ran."""
    r = conn.execute(select(job_runs).where(job_runs.c.name == name)).first()
    return None if r is None else JobRun(r.name, r.started_at, r.finished_at, r.result)


def record_run(
    conn: Connection, name: str, started: dt.datetime, finished: dt.datetime, result: str
) -> None:
    """Make this run job `name`'s last one (an update, else an insert: one row per job)."""
    values = {"started_at": started, "finished_at": finished, "result": result}
    done = conn.execute(update(job_runs).where(job_runs.c.name == name).values(values)).rowcount
    if not done:
        conn.execute(insert(job_runs).values(name=name, **values))
