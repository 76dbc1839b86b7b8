"""A load test of a real `shema web` process on loopback, on SQLite and on PostgreSQL:
a burst of simultaneous sign-ins, then many signed-in clients reading pages and posting
comments (some with a deliberately stale version, which must be refused). Afterwards
every accepted comment is in the history, versions match the history, and the audit
chain verifies.

SHEMA_LOAD_CLIENTS (default 40) and SHEMA_LOAD_SECONDS (default 10, at most 30) size it;
`pytest -s` shows a one-line summary per backend."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import random
import re
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from conftest import COORDINATOR, T0, shipped_text

from engine import accounts
from engine.loading import load_org, load_scheme
from engine.service import Engine
from storage.database import Database
from storage.migrate import upgrade
from web.i18n import words

PASSWORD = "pareiza-parole"
# Everyone here may see (and so comment on) a krapes_pagasts project.
PEOPLE = [
    "liga.ozolina",
    "janis.ozols",
    COORDINATOR,
    "maris.berzins",
    "dace.liepina",
    "arnis.dzenis",
    "laura.krumina",
]
PROJECTS = 10
BURST = 30
STALE = "ir mainījies, kopš jūs to atvērāt"  # web/i18n.py "stale", Latvian
DONE = words("lv")["said_commented"]  # what the page says after a comment, Latvian
SHEMA = Path(sys.executable).parent / "shema"

CLIENTS = int(os.environ.get("SHEMA_LOAD_CLIENTS", "40"))
SECONDS = min(float(os.environ.get("SHEMA_LOAD_SECONDS", "10")), 30.0)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def version_of(html: str) -> int:
    found = re.search(r'name="version" value="(\d+)"', html)
    assert found, "the project page has no version field"
    return int(found.group(1))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare(url: str) -> list[str]:
    """The shipped organisation and scheme, passwords, and PROJECTS fresh projects."""
    db = Database(url)
    try:
        upgrade(db)
        eng = Engine(db)
        load_org(eng, shipped_text("ogre.yaml"), "ogre.yaml", actor=COORDINATOR, now=T0)
        load_scheme(eng, shipped_text("unified.yaml"), "unified.yaml", actor=COORDINATOR, now=T0)
        accounts.store_hash(eng, PEOPLE, accounts.hash_password(PASSWORD))
        now = dt.datetime.now(dt.UTC)
        codes = [
            eng.create_project(
                title=f"Slodzes projekts {i}", unit="krapes_pagasts", actor="liga.ozolina", now=now
            ).code
            for i in range(PROJECTS)
        ]
        # The relation checked after the load, on a fresh project: one version per event.
        fresh = codes[0]
        assert eng.project(fresh, actor=COORDINATOR).version == len(
            eng.history(fresh, actor=COORDINATOR)
        )
        return codes
    finally:
        db.dispose()


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    sign_in_latencies: list[float] = field(default_factory=list)  # POST /login (argon2)
    transport_errors: list[str] = field(default_factory=list)
    accepted: list[tuple[str, str]] = field(default_factory=list)  # (code, body)
    conflicts: int = 0  # a fresh-version post overtaken by another client's write
    stale_refused: int = 0
    problems: list[str] = field(default_factory=list)

    def record(self, status: int, seconds: float, sign_in: bool) -> None:
        with self.lock:
            self.requests += 1
            self.statuses[status] += 1
            (self.sign_in_latencies if sign_in else self.latencies).append(seconds)


class Visitor:
    """One simulated browser: its own cookies, every request timed and counted."""

    def __init__(self, base: str, tally: Tally) -> None:
        self.http = httpx.Client(base_url=base, follow_redirects=False, timeout=30.0)
        self.tally = tally

    def send(self, method: str, path: str, **kwargs: object) -> httpx.Response | None:
        start = time.perf_counter()
        try:
            answer = self.http.request(method, path, **kwargs)  # type: ignore[arg-type]
        except httpx.TransportError as exc:
            with self.tally.lock:
                self.tally.requests += 1
                self.tally.transport_errors.append(f"{method} {path}: {exc!r}")
            return None
        signing_in = method == "POST" and path == "/login"
        self.tally.record(answer.status_code, time.perf_counter() - start, signing_in)
        return answer

    def sign_in(self, person: str, barrier: threading.Barrier | None = None) -> int | None:
        page = self.send("GET", "/login")
        if page is None or page.status_code != 200:
            if barrier is not None:
                barrier.abort()
            return None if page is None else page.status_code
        if barrier is not None:
            barrier.wait(timeout=60)
        data = {"person": person, "password": PASSWORD, "csrf": csrf_of(page.text)}
        answer = self.send("POST", "/login", data=data)
        return None if answer is None else answer.status_code

    def close(self) -> None:
        self.http.close()


def work(
    number: int, base: str, codes: list[str], tally: Tally, start: threading.Barrier, end: float
) -> None:
    rng = random.Random(number)
    me = Visitor(base, tally)
    try:
        person = PEOPLE[number % len(PEOPLE)]
        start.wait(timeout=60)
        if me.sign_in(person) != 303:
            with tally.lock:
                tally.problems.append(f"client {number} ({person}) could not sign in")
            return
        sent = 0
        while time.monotonic() < end:
            code = rng.choice(codes)
            me.send("GET", "/")
            me.send("GET", "/projects")
            page = me.send("GET", f"/projects/{code}")
            if page is None or page.status_code != 200:
                continue
            version, token = version_of(page.text), csrf_of(page.text)
            stale = version > 0 and rng.random() < 0.25
            sent += 1
            body = f"Komentārs {number}-{sent} ({person})"
            data = {"body": body, "version": str(version - 1 if stale else version), "csrf": token}
            answer = me.send("POST", f"/projects/{code}/comment", data=data)
            if answer is None:
                continue
            if answer.status_code != 303:
                with tally.lock:
                    tally.problems.append(f"comment answered {answer.status_code}")
                continue
            after = me.send("GET", answer.headers["location"])
            if after is None or after.status_code != 200:
                # The post's outcome is unknown; the history check would then disagree.
                with tally.lock:
                    tally.problems.append(f"the page after a comment: {after}")
                continue
            refused, done = STALE in after.text, DONE in after.text
            with tally.lock:
                if stale:
                    if refused and not done:
                        tally.stale_refused += 1
                    else:
                        tally.problems.append(f"a stale comment was not refused: {body}")
                elif done and not refused:
                    tally.accepted.append((code, body))
                elif refused and not done:
                    tally.conflicts += 1
                else:
                    tally.problems.append(f"no clear outcome for {body}")
    finally:
        me.close()


def peak_rss_kib(pid: int) -> int | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    found = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return int(found.group(1)) if found else None


def test_a_real_server_under_load(database_url: str, tmp_path: Path) -> None:
    codes = prepare(database_url)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k != "SHEMA_LANG"}
    log_path = tmp_path / "server.log"
    log = log_path.open("wb")
    server = subprocess.Popen(
        [str(SHEMA), "--db", database_url, "web", "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )

    def server_log() -> str:
        log.flush()
        return log_path.read_text(encoding="utf-8", errors="replace")

    try:
        ready = False
        for _ in range(150):  # about 30 s
            if server.poll() is not None:
                break
            with contextlib.suppress(httpx.TransportError):
                ready = httpx.get(f"{base}/healthz", timeout=0.5).status_code == 200
            if ready:
                break
            time.sleep(0.2)
        assert ready, f"the server did not become ready:\n{server_log()}"

        # -- a burst of simultaneous sign-ins ------------------------------------------
        burst_tally = Tally()
        barrier = threading.Barrier(BURST)
        answers: list[int | None] = [None] * BURST

        def burst(i: int) -> None:
            v = Visitor(base, burst_tally)
            try:
                answers[i] = v.sign_in(PEOPLE[i % len(PEOPLE)], barrier)
            finally:
                v.close()

        threads = [threading.Thread(target=burst, args=(i,)) for i in range(BURST)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert answers == [303] * BURST, f"{answers}\n{server_log()}"
        assert not burst_tally.transport_errors, burst_tally.transport_errors
        rss_after_burst = peak_rss_kib(server.pid)

        # -- the load ----------------------------------------------------------------------
        tally = Tally()
        start = threading.Barrier(CLIENTS)
        end = time.monotonic() + SECONDS

        def run(i: int) -> None:
            work(i, base, codes, tally, start, end)

        threads = [threading.Thread(target=run, args=(i,)) for i in range(CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

        alive = server.poll() is None
        rss = peak_rss_kib(server.pid)
        five_xx = sum(n for s, n in tally.statuses.items() if s >= 500)
        assert five_xx == 0, f"{tally.statuses}\n{server_log()}"
        assert not tally.transport_errors, f"{tally.transport_errors[:10]}\n{server_log()}"
        assert alive, f"the server died:\n{server_log()}"
        assert not tally.problems, f"{tally.problems[:10]}\n{server_log()}"
        assert tally.accepted, "no comment was accepted"
        assert tally.stale_refused > 0, "no stale comment was tried"
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()

    # -- what the database says afterwards ---------------------------------------------
    db = Database(database_url)
    try:
        eng = Engine(db)
        commented: list[tuple[str, str]] = []
        for code in codes:
            events = eng.history(code, actor=COORDINATOR)
            commented += [(code, e.comment or "") for e in events if e.kind == "commented"]
            version = eng.project(code, actor=COORDINATOR).version
            assert version == len(events), (code, version, len(events))
    finally:
        db.dispose()
    assert len(commented) == len(tally.accepted)
    assert sorted(commented) == sorted(tally.accepted)

    audit = subprocess.run(
        [str(SHEMA), "--db", database_url, "audit", "verify"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert audit.returncode == 0, audit.stdout + audit.stderr

    def ms(values: list[float], share: float) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(len(ordered) * share))] * 1000

    def mib(kib: int | None) -> str:
        return "?" if kib is None else f"{kib / 1024:.0f}MiB"

    p50, p95 = ms(tally.latencies, 0.5), ms(tally.latencies, 0.95)
    login = burst_tally.sign_in_latencies + tally.sign_in_latencies
    backend = database_url.split(":", 1)[0].split("+", 1)[0]
    print(
        f"\n[load {backend}] clients={CLIENTS} seconds={SECONDS:g} requests={tally.requests} "
        f"writes={len(tally.accepted)} conflicts={tally.conflicts} "
        f"stale_refused={tally.stale_refused} 5xx={five_xx} "
        f"conn_errors={len(tally.transport_errors)} p50={p50:.0f}ms p95={p95:.0f}ms "
        f"sign_in_p50={ms(login, 0.5):.0f}ms sign_in_p95={ms(login, 0.95):.0f}ms "
        f"server_peak_rss={mib(rss)} (after the sign-in burst: {mib(rss_after_burst)})"
    )
