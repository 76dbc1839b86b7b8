"""Processes killed at the worst moments lose nothing and duplicate nothing.

Named fail points (SHEMA_FAILPOINTS, see engine/failpoints.py) make a real `shema`
process die by SIGKILL exactly after the history insert of an advance, after its outbox
rows, inside a sweep batch before it commits, and after the SMTP server accepted a
message but before it was marked sent. Several sweep-and-dispatch runners then share one
database through a simulated month against a loopback SMTP server.

Sizes: SHEMA_STRESS_PROJECTS projects (default 40), SHEMA_STRESS_DAYS simulated days
(default 24)."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import os
import signal
import socket
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from conftest import COORDINATOR, T0, shipped_text
from sqlalchemy import func, select

from engine.audit import verify
from engine.loading import load_org, load_scheme
from engine.service import Engine
from storage.database import Database
from storage.migrate import upgrade
from storage.tables import history, outbox, projects, timers

SHEMA = str(Path(sys.executable).with_name("shema"))
PROJECTS = int(os.environ.get("SHEMA_STRESS_PROJECTS", "40"))
DAYS = int(os.environ.get("SHEMA_STRESS_DAYS", "24"))
SPECIALISTS = [
    ("liga.ozolina", "krapes_pagasts"),
    ("zane.roze", "suntazu_pagasts"),
    ("santa.graudina", "lielvardes_pagasts"),
    ("oskars.lapins", "birzgales_pagasts"),
]


class Inbox:
    """Keeps every message an aiosmtpd server accepts."""

    def __init__(self) -> None:
        self.message_ids: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.message_ids.append(str(msg["Message-ID"]))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def run_shema(
    url: str, *args: str, failpoint: str | None = None, smtp_port: int | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHEMA_")}
    env["SHEMA_DB"] = url
    if failpoint:
        env["SHEMA_FAILPOINTS"] = failpoint
    if smtp_port:
        env.update(
            SHEMA_SMTP_HOST="127.0.0.1",
            SHEMA_SMTP_PORT=str(smtp_port),
            SHEMA_MAIL_FROM="shema@ogresnovads.example",
        )
    return subprocess.run(
        [SHEMA, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture
def prepared(database_url: str) -> Iterator[tuple[str, Engine]]:
    db = Database(database_url)
    upgrade(db)
    engine = Engine(db)
    load_org(engine, shipped_text("ogre.yaml"), "ogre.yaml", actor=COORDINATOR, now=T0)
    load_scheme(engine, shipped_text("unified.yaml"), "unified.yaml", actor=COORDINATOR, now=T0)
    yield database_url, engine
    db.dispose()


def snapshot(engine: Engine, code: str) -> tuple[Any, ...]:
    with engine.db.read() as conn:
        row = conn.execute(
            select(projects.c.version, projects.c.stage, projects.c.head_hash).where(
                projects.c.code == code
            )
        ).one()
        events = conn.execute(
            select(func.count())
            .select_from(history)
            .join(projects, projects.c.id == history.c.project_id)
            .where(projects.c.code == code)
        ).scalar_one()
        mail = conn.execute(select(func.count()).select_from(outbox)).scalar_one()
    return (*row, events, mail)


@pytest.mark.parametrize("point", ["advance.after_history", "advance.after_outbox"])
def test_a_process_killed_in_the_middle_of_an_advance_leaves_no_half_written_move(
    prepared: tuple[str, Engine], point: str
) -> None:
    url, engine = prepared
    code = engine.create_project(
        title="Jumts", unit="krapes_pagasts", actor="liga.ozolina", now=T0
    ).code
    for item in ("problem_statement", "estimated_cost"):
        engine.check(code, item, actor="liga.ozolina", now=T0)
    before = snapshot(engine, code)

    done = run_shema(
        url, "--as", "liga.ozolina", "project", "advance", code, "submit_idea", failpoint=point
    )

    assert done.returncode == -signal.SIGKILL, done.stderr
    assert snapshot(engine, code) == before
    assert verify(engine.db).ok
    again = run_shema(url, "--as", "liga.ozolina", "project", "advance", code, "submit_idea")
    assert again.returncode == 0, again.stderr
    assert snapshot(engine, code)[1] == "pre_assessment"


def test_runners_killed_mid_batch_and_mid_delivery_lose_and_duplicate_nothing(
    prepared: tuple[str, Engine], smtp: tuple[Inbox, int]
) -> None:
    url, engine = prepared
    inbox, port = smtp
    for i in range(PROJECTS):
        person, unit = SPECIALISTS[i % len(SPECIALISTS)]
        engine.create_project(
            title=f"Projekts {i}", unit=unit, actor=person, now=T0 + dt.timedelta(hours=i % 7)
        )
    days = [(T0 + dt.timedelta(days=d, hours=2)).isoformat() for d in range(DAYS)]
    # Sweep loops share one clock: a simulated day is handed to runners, and the next day
    # comes when all of them have answered (or died).
    script = (
        "import datetime as dt, os, sys\n"
        "from engine.notify.channels.config import mail_settings\n"
        "from engine import failpoints\n"
        "from engine.jobs import run_once\n"
        "from engine.service import Engine\n"
        "from storage.database import Database\n"
        "failpoints.enable(os.environ.get('SHEMA_FAILPOINTS', '').split(','))\n"
        "engine = Engine(Database(os.environ['SHEMA_DB']))\n"
        "mail = mail_settings(os.environ)\n"
        "for line in sys.stdin:\n"
        "    run_once(engine, mail, dt.datetime.fromisoformat(line.strip()))\n"
        "    print('done', flush=True)\n"
    )

    def runner(point: str | None) -> subprocess.Popen[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SHEMA_")}
        env.update(
            SHEMA_DB=url,
            SHEMA_SMTP_HOST="127.0.0.1",
            SHEMA_SMTP_PORT=str(port),
            SHEMA_MAIL_FROM="shema@ogresnovads.example",
        )
        if point:
            env["SHEMA_FAILPOINTS"] = point
        return subprocess.Popen(
            [sys.executable, "-c", script],
            env=env,
            text=True,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=Path(__file__).parents[1],
        )

    # Two healthy runners race through every day; two others are killed by fail points at
    # their first real work (inside a sweep batch before it commits; after the SMTP server
    # accepted a message, before it is marked sent). Each day goes to those two alone first,
    # so the kills happen for certain, then to the healthy pair at once.
    healthy = [runner(None), runner(None)]
    doomed = [runner("sweep.before_commit"), runner("dispatch.after_send")]

    def hand(group: list[subprocess.Popen[str]], day: str) -> None:
        for r in group:
            assert r.stdin is not None
            r.stdin.write(day + "\n")
            r.stdin.flush()
        for r in list(group):
            assert r.stdout is not None
            if r.stdout.readline() != "done\n":  # it died during this day
                r.wait(timeout=60)
                group.remove(r)

    alive_doomed = list(doomed)
    for day in days:
        for r in list(alive_doomed):
            one = [r]
            hand(one, day)
            if not one:
                alive_doomed.remove(r)
        hand(healthy, day)
    for r in healthy + alive_doomed:
        assert r.stdin is not None
        r.stdin.close()
        r.wait(timeout=60)
    for r in healthy:
        assert r.returncode == 0, r.stderr.read() if r.stderr else ""
    assert [r.returncode for r in doomed] == [-signal.SIGKILL] * 2  # both fail points hit

    # A last healthy pass after the leases of the killed runner ran out.
    final = (T0 + dt.timedelta(days=DAYS + 1)).isoformat()
    done = run_shema(url, "jobs", "sweep", "--now", final, smtp_port=port)
    assert done.returncode == 0, done.stderr

    with engine.db.read() as conn:
        statuses = Counter(conn.execute(select(outbox.c.status)).scalars())
        rows = conn.execute(select(func.count()).select_from(outbox)).scalar_one()
        escalations = conn.execute(
            select(func.count()).select_from(history).where(history.c.kind == "escalated")
        ).scalar_one()
        fired_escalations = conn.execute(
            select(func.count())
            .select_from(timers)
            .where(timers.c.fired_at.is_not(None), timers.c.step.like("escalation%"))
        ).scalar_one()
        due_unfired = conn.execute(
            select(func.count())
            .select_from(timers)
            .where(
                timers.c.fired_at.is_(None), timers.c.fire_at <= dt.datetime.fromisoformat(days[-1])
            )
        ).scalar_one()
    received = Counter(inbox.message_ids)
    assert rows > PROJECTS  # reminders, overdue notices and escalations were due
    assert statuses == {"sent": rows}
    assert due_unfired == 0
    assert escalations == fired_escalations > 0  # each escalation recorded exactly once
    assert len(received) == rows  # every message arrived …
    duplicates = sum(n - 1 for n in received.values())
    assert duplicates <= 1  # … and only the one the killed sender had handed over came twice,
    assert verify(engine.db).ok  # with the same Message-ID, so mail systems drop it
