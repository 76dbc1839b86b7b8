"""The scheduled jobs: one sweep-and-dispatch pass, and the long-running scheduler.

APScheduler only triggers the passes (memory job store, coalescing, one instance at a
time, no misfire limit, first run at start-up so downtime is caught up at once). Several
runners against one database stay correct because claims are set-based and outbox keys
unique, not because of the scheduler.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import time
from collections.abc import Callable
from typing import Any

from engine.notify import digest
from engine.notify.channels.config import MailSettings
from engine.notify.outbox import DispatchReport, dispatch
from engine.notify.sweep import SweepReport, sweep
from engine.service import Engine
from storage import outbox as stored
from workflow.errors import EnvironmentProblem

log = logging.getLogger("shema.jobs")


def record_run(
    engine: Engine, name: str, started: dt.datetime, finished: dt.datetime, result: str
) -> None:
    """Remember the last run of a job (for `shema status`)."""
    with engine.db.write() as conn:
        stored.record_job_run(conn, name, started, finished, result)


def sender(engine: Engine, mail: MailSettings) -> str:
    """SHEMA_MAIL_FROM when set, else the sender the organisation file names or implies."""
    if mail.sender:
        return mail.sender
    with engine.db.read() as conn:
        try:
            return engine.org_index(conn).org.sender
        except EnvironmentProblem:  # no organisation yet, so nobody to write to either
            return "shema@localhost"


def run_once(
    engine: Engine,
    mail: MailSettings,
    now: dt.datetime,
) -> tuple[SweepReport, DispatchReport]:
    """One pass: fire what is due at `now`, then send what waits."""
    started = time.monotonic()
    swept = sweep(engine, now)
    digest.compose(engine, now)
    sent = dispatch(
        engine.db, mail.channels, now, sender=sender(engine, mail), retry_for=mail.retry_for
    )
    finished = now + dt.timedelta(seconds=time.monotonic() - started)
    record_run(
        engine,
        "sweep",
        now,
        finished,
        f"fired {swept.fired}, messages {swept.messages}, escalations "
        f"{swept.escalations}; sent {sent.sent}, retried {sent.retried}, "
        f"failed {sent.failed}",
    )
    return swept, sent


def run_forever(
    engine: Engine,
    mail: MailSettings,
    clock: Callable[[], dt.datetime],
    *,
    sweep_seconds: int = 300,
    dispatch_seconds: int = 60,
) -> None:
    """Run sweep and dispatch on intervals until interrupted."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    def sweep_job() -> None:
        try:
            swept, sent = run_once(engine, mail, clock())
            log.info("sweep: %s; dispatch: %s", swept.to_json(), sent.to_json())
        except Exception:  # keep the scheduler alive; the next run retries
            log.exception("sweep failed")

    def dispatch_job() -> None:
        try:
            sent = dispatch(
                engine.db,
                mail.channels,
                clock(),
                sender=sender(engine, mail),
                retry_for=mail.retry_for,
            )
            if sent.sent or sent.retried or sent.failed:
                log.info("dispatch: %s", sent.to_json())
        except Exception:
            log.exception("dispatch failed")

    scheduler = BlockingScheduler(timezone="UTC")
    common: dict[str, Any] = {
        "coalesce": True,
        "max_instances": 1,
        "misfire_grace_time": None,
        "next_run_time": clock(),
    }
    scheduler.add_job(sweep_job, "interval", seconds=sweep_seconds, id="sweep", **common)
    scheduler.add_job(dispatch_job, "interval", seconds=dispatch_seconds, id="dispatch", **common)
    with contextlib.suppress(KeyboardInterrupt, SystemExit):
        scheduler.start()
