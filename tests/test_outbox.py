"""Delivering the outbox: through a real SMTP server on loopback (aiosmtpd), at least once
with duplicates recognisable by a Message-ID derived from the idempotency key, leases that
let another worker take over from a crashed one, retries with exponential backoff until
`failed`, mail outages that never block an advance, the `.eml` folder channel, choosing
channels from the environment, and the `shema jobs sweep`, `outbox` and `status` commands.
Batches: one transaction to claim and one to record each batch, one SMTP connection per
batch (opened again when it drops), one fsync of the mail folder per batch, and crashes
between delivering a batch and recording it.

Storage-backed tests run on SQLite and PostgreSQL; time is a parameter (the SMTP server's
thread is only waited for by its controller's own start)."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import gc
import itertools
import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from click.testing import CliRunner, Result
from conftest import COORDINATOR, T0, copy_sqlite, keep_up, shipped_text
from sqlalchemy import select

import cli
from engine.loading import load_org, load_scheme
from engine.notify.channels import Channel, Mail
from engine.notify.channels.config import mail_settings
from engine.notify.channels.email import FolderChannel, SmtpChannel
from engine.notify.channels.memory import MemoryChannel as Recording
from engine.notify.outbox import backoff, claim, counts, dispatch, retry_failed
from engine.notify.sweep import sweep
from engine.service import Engine
from storage.database import Database
from storage.tables import outbox, people
from workflow.errors import EnvironmentProblem

SENDER = "shema@ogresnovads.example"
LIGA = "liga.ozolina"
ARNIS = "arnis.dzenis"
MINUTE = dt.timedelta(minutes=1)
REPO = Path(__file__).resolve().parent.parent
AFTER_FIRST_ESCALATION = dt.datetime(2026, 2, 11, 8, 0, tzinfo=dt.UTC)  # three messages due


# -- a real SMTP server on loopback -------------------------------------------------------


class Inbox:
    """An aiosmtpd handler that keeps what it accepts, or refuses with `refuse`. Like a
    real server it may drop a connection: after `per_connection` messages on one, or,
    once `gone_after` messages were accepted in all, every connection at its next
    message (the server went away)."""

    def __init__(self) -> None:
        self.envelopes: list[Any] = []
        self.sessions: list[Any] = []  # the connection of each accepted envelope
        self.refuse: str | None = None
        self.per_connection: int | None = None
        self.gone_after: int | None = None
        self.port = 0

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        taken = sum(s is session for s in self.sessions)
        gone = self.gone_after is not None and len(self.envelopes) >= self.gone_after
        if gone or (self.per_connection is not None and taken >= self.per_connection):
            server.transport.abort()  # the client sees the connection drop, no reply
            return "421 closing"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse:
            return self.refuse
        self.envelopes.append(envelope)
        self.sessions.append(session)
        return "250 OK"

    def connections(self) -> int:
        """How many connections delivered at least one message."""
        return len({id(s) for s in self.sessions})

    def messages(self) -> list[EmailMessage]:
        return [
            email.message_from_bytes(e.content, policy=email.policy.default) for e in self.envelopes
        ]

    def channel(self) -> SmtpChannel:
        return SmtpChannel("127.0.0.1", self.port, timeout=10)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def smtp() -> Iterator[Inbox]:
    """An SMTP server on 127.0.0.1, stopped at teardown."""
    inbox = Inbox()
    inbox.port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=inbox.port)
    controller.start()  # returns once the server answers
    yield inbox
    controller.stop()


@pytest.fixture
def dead_smtp() -> SmtpChannel:
    """An SMTP channel to a loopback port nobody listens on."""
    return SmtpChannel("127.0.0.1", free_port(), timeout=10)


# -- outbox rows without a project --------------------------------------------------------

Put = Callable[..., None]


@pytest.fixture
def put(db: Database) -> Put:
    """Add pending outbox rows (to Anna, who has an address) to `db`."""
    with db.write() as conn:
        conn.execute(
            people.insert(),
            [
                {"id": "anna", "name": "Anna Bērziņa", "email": "anna@ogre.example", "lang": "lv"},
                {"id": "nomail", "name": "Bez Adreses", "email": None, "lang": "lv"},
            ],
        )

    def add(*keys: str, to: str = "anna", now: dt.datetime = T0) -> None:
        with db.write() as conn:
            conn.execute(
                outbox.insert(),
                [
                    {
                        "key": key,
                        "project_id": None,
                        "recipient_id": to,
                        "kind": "notify",
                        "subject": f"Ziņa {key}",
                        "body": "Sveiki!\n",
                        "status": "pending",
                        "attempts": 0,
                        "next_attempt_at": now,
                        "created_at": now,
                    }
                    for key in keys
                ],
            )

    return add


def row(db: Database, key: str) -> Any:
    with db.read() as conn:
        return conn.execute(select(outbox).where(outbox.c.key == key)).one()


def send(db: Database, channels: list[Any], now: dt.datetime, **kw: Any) -> Any:
    return dispatch(db, channels, now, sender=SENDER, **kw)


# -- sending ------------------------------------------------------------------------------


def test_dispatch_sends_every_pending_message_of_a_sweep_once_over_smtp(
    engine: Engine, smtp: Inbox
) -> None:
    engine.create_project(title="Jumts", unit="krapes_pagasts", actor=LIGA, now=T0)
    keep_up(engine, AFTER_FIRST_ESCALATION)
    report = send(engine.db, [smtp.channel()], AFTER_FIRST_ESCALATION)
    assert (report.sent, report.retried, report.failed) == (3, 0, 0)
    assert sorted(tuple(e.rcpt_tos) for e in smtp.envelopes) == [
        ("arnis.dzenis@ogresnovads.example",),
        ("liga.ozolina@ogresnovads.example",),
        ("liga.ozolina@ogresnovads.example",),
    ]
    assert send(engine.db, [smtp.channel()], AFTER_FIRST_ESCALATION + MINUTE).sent == 0
    assert len(smtp.envelopes) == 3


def test_a_sent_message_is_marked_sent_with_the_time_and_one_attempt(
    db: Database, put: Put, smtp: Inbox
) -> None:
    put("k1")
    send(db, [smtp.channel()], T0 + MINUTE)
    sent = row(db, "k1")
    assert (sent.status, sent.sent_at, sent.attempts, sent.lease_until) == (
        "sent",
        T0 + MINUTE,
        1,
        None,
    )


def test_the_message_id_is_derived_from_the_outbox_key(db: Database, put: Put, smtp: Inbox) -> None:
    put("deadline:7:overdue:anna")
    send(db, [smtp.channel()], T0)
    [msg] = smtp.messages()
    expected = Mail("deadline:7:overdue:anna", "", None, "", "", SENDER).message_id
    assert msg["Message-ID"] == expected
    assert msg["X-Shema-Key"] == "deadline:7:overdue:anna"
    assert expected.endswith("@ogresnovads.example>")


def test_the_same_key_always_gives_the_same_message_id_and_another_key_another() -> None:
    def mid(key: str, subject: str) -> str:
        return Mail(key, "Anna", "anna@ogre.example", subject, "body", SENDER).message_id

    assert mid("deadline:1:overdue:anna", "first") == mid("deadline:1:overdue:anna", "second")
    assert mid("deadline:1:overdue:anna", "x") != mid("deadline:1:escalation0:anna", "x")


def test_a_message_carries_its_subject_and_body_in_utf8(
    db: Database, put: Put, smtp: Inbox
) -> None:
    put("k1")
    send(db, [smtp.channel()], T0)
    [msg] = smtp.messages()
    assert msg["Subject"] == "Ziņa k1"
    assert msg["To"] == "Anna Bērziņa <anna@ogre.example>"
    assert msg.get_content().splitlines() == ["Sveiki!"]


def test_dispatch_without_channels_leaves_messages_waiting(db: Database, put: Put) -> None:
    put("k1")
    assert send(db, [], T0).sent == 0
    assert (row(db, "k1").status, row(db, "k1").attempts) == ("pending", 0)


# -- failures and retries -----------------------------------------------------------------


def test_a_refusing_server_puts_the_message_back_with_one_more_attempt(
    db: Database, put: Put, smtp: Inbox
) -> None:
    smtp.refuse = "550 5.1.1 mailbox unavailable"
    put("k1")
    report = send(db, [smtp.channel()], T0)
    failed = row(db, "k1")
    assert (report.sent, report.retried) == (0, 1)
    assert (failed.status, failed.attempts, failed.lease_until) == ("pending", 1, None)
    assert failed.next_attempt_at == T0 + MINUTE
    assert "550" in failed.last_error


def test_a_closed_port_is_retried_after_one_then_two_then_four_minutes(
    db: Database, put: Put, dead_smtp: SmtpChannel
) -> None:
    put("k1")
    now, waits = T0, []
    for _ in range(3):
        send(db, [dead_smtp], now)
        nxt = row(db, "k1").next_attempt_at
        waits.append(nxt - now)
        now = nxt
    assert waits == [MINUTE, 2 * MINUTE, 4 * MINUTE]
    assert row(db, "k1").attempts == 3


def test_the_backoff_is_capped_at_six_hours() -> None:
    assert backoff(1) == MINUTE
    assert backoff(4) == 8 * MINUTE
    assert backoff(30) == dt.timedelta(hours=6)


def test_a_message_is_not_tried_again_before_its_backoff_has_passed(
    db: Database, put: Put, dead_smtp: SmtpChannel
) -> None:
    put("k1")
    send(db, [dead_smtp], T0)
    report = send(db, [dead_smtp], T0 + dt.timedelta(seconds=59))
    assert (report.retried, row(db, "k1").attempts) == (0, 1)


def test_a_message_fails_for_good_after_the_last_attempt(
    db: Database, put: Put, dead_smtp: SmtpChannel
) -> None:
    put("k1")
    now = T0
    for _ in range(3):
        report = send(db, [dead_smtp], now, max_attempts=3)
        now = row(db, "k1").next_attempt_at
    assert report.failed == 1
    assert (row(db, "k1").status, row(db, "k1").attempts) == ("failed", 3)
    assert send(db, [dead_smtp], now + dt.timedelta(days=1), max_attempts=3).retried == 0
    assert counts(db) == {"failed": 1}


def test_a_recipient_without_an_address_is_retried_not_sent(
    db: Database, put: Put, smtp: Inbox
) -> None:
    put("k1", to="nomail")
    report = send(db, [smtp.channel()], T0)
    assert (report.sent, report.retried, smtp.envelopes) == (0, 1, [])
    assert "no e-mail address" in row(db, "k1").last_error


def test_retrying_failed_messages_requeues_them_with_fresh_attempts(
    db: Database, put: Put, dead_smtp: SmtpChannel, smtp: Inbox
) -> None:
    put("k1", "k2")
    send(db, [dead_smtp], T0, max_attempts=1)
    assert counts(db) == {"failed": 2}
    later = T0 + dt.timedelta(days=2)
    assert retry_failed(db, later) == 2
    requeued = row(db, "k1")
    assert (requeued.status, requeued.attempts, requeued.next_attempt_at) == ("pending", 0, later)
    assert send(db, [smtp.channel()], later).sent == 2
    assert counts(db) == {"sent": 2}


def test_retrying_leaves_pending_and_sent_messages_alone(
    db: Database, put: Put, smtp: Inbox
) -> None:
    put("sent-one")
    send(db, [smtp.channel()], T0)
    put("waiting", now=T0 + MINUTE)
    assert retry_failed(db, T0 + 2 * MINUTE) == 0
    assert (row(db, "sent-one").status, row(db, "waiting").status) == ("sent", "pending")


# -- a mail outage never blocks an advance ------------------------------------------------


class AdvancingChannel:
    """Takes an advance (through its own database connection) while the first message is
    being sent, then delegates to `inner`: the advance must not wait for the send."""

    name = "smtp"

    def __init__(self, inner: Channel, advance: Callable[[], object]) -> None:
        self.inner, self.advance = inner, advance
        self.outcomes: list[Any] = []

    def send(self, mail: Mail) -> None:
        if not self.outcomes:
            self.outcomes.append(self.advance())
        self.inner.send(mail)


def test_an_advance_taken_while_mail_is_sent_to_a_dead_server_goes_through(
    engine: Engine, dead_smtp: SmtpChannel
) -> None:
    code = engine.create_project(title="Jumts", unit="krapes_pagasts", actor=LIGA, now=T0).code
    keep_up(engine, AFTER_FIRST_ESCALATION)
    for item in ("problem_statement", "estimated_cost"):
        engine.check(code, item, actor=LIGA, now=AFTER_FIRST_ESCALATION)
    other = Engine(Database(engine.db.url))
    then = AFTER_FIRST_ESCALATION + MINUTE
    channel = AdvancingChannel(
        dead_smtp, lambda: other.advance(code, "submit_idea", actor=LIGA, now=then)
    )
    try:
        report = send(engine.db, [channel], then)
    finally:
        other.db.dispose()
    assert [o.stage for o in channel.outcomes] == ["pre_assessment"]
    assert engine.project(code, actor=COORDINATOR).stage == "pre_assessment"
    assert report.retried == 3
    with engine.db.read() as conn:
        statuses = {(r.kind, r.status, r.attempts) for r in conn.execute(select(outbox))}
    assert ("escalation", "pending", 1) in statuses
    assert ("handoff", "pending", 0) in statuses  # the advance's own notices wait


# -- leases and crashes -------------------------------------------------------------------


def test_a_leased_message_is_not_claimed_by_another_worker(db: Database, put: Put) -> None:
    put("k1")
    assert [r.key for r in claim(db, T0, owner="A")] == ["k1"]
    assert claim(db, T0 + 4 * MINUTE, owner="B") == []


def test_an_expired_lease_lets_another_worker_claim_the_message(db: Database, put: Put) -> None:
    put("k1")
    claim(db, T0, owner="A")
    [taken] = claim(db, T0 + 6 * MINUTE, owner="B")
    assert (taken.key, taken.to_address) == ("k1", "anna@ogre.example")
    assert (row(db, "k1").status, row(db, "k1").lease_owner) == ("sending", "B")


def test_a_sent_message_is_never_claimed_again(db: Database, put: Put, smtp: Inbox) -> None:
    put("k1")
    send(db, [smtp.channel()], T0)
    assert claim(db, T0 + dt.timedelta(days=1), owner="B") == []


def test_a_message_resent_after_a_crash_between_send_and_mark_has_the_same_message_id(
    db: Database, put: Put, smtp: Inbox
) -> None:
    put("deadline:3:overdue:anna")
    [leased] = claim(db, T0, owner="A")
    smtp.channel().send(  # the server accepts it, then worker A dies before marking it sent
        Mail(
            leased.key, leased.to_name or "", leased.to_address, leased.subject, leased.body, SENDER
        )
    )
    assert send(db, [smtp.channel()], T0 + MINUTE, owner="B").sent == 0  # still leased
    assert send(db, [smtp.channel()], T0 + 6 * MINUTE, owner="B").sent == 1
    first, again = smtp.messages()
    assert first["Message-ID"] == again["Message-ID"]
    assert row(db, "deadline:3:overdue:anna").status == "sent"


# -- batches: one transaction and one connection per batch --------------------------------


def count_writes(db: Database, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the writing transactions `db` opens from now on."""
    opened: list[int] = []
    real = db.write

    def write() -> Any:
        opened.append(1)
        return real()

    monkeypatch.setattr(db, "write", write)
    return opened


def test_a_batch_is_claimed_in_one_transaction_and_recorded_in_one_more(
    db: Database, put: Put, smtp: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    put(*[f"k{n}" for n in range(5)])
    put("nomail", to="nomail")  # retried: its outcome is recorded with the others
    writes = count_writes(db, monkeypatch)
    report = send(db, [smtp.channel()], T0)
    assert (report.sent, report.retried, len(writes)) == (5, 1, 2)
    assert counts(db) == {"sent": 5, "pending": 1}
    assert [row(db, f"k{n}").attempts for n in range(5)] == [1] * 5


def test_each_batch_goes_over_one_smtp_connection(db: Database, put: Put, smtp: Inbox) -> None:
    put(*[f"k{n}" for n in range(5)])
    assert send(db, [smtp.channel()], T0).sent == 5
    assert smtp.connections() == 1
    put(*[f"m{n}" for n in range(5)])
    assert send(db, [smtp.channel()], T0, limit=2).sent == 5  # batches of 2, 2 and 1
    assert smtp.connections() == 1 + 3
    assert len({m["Message-ID"] for m in smtp.messages()}) == len(smtp.envelopes) == 10


def test_a_dropped_connection_is_opened_again_and_the_batch_goes_on(
    db: Database, put: Put, smtp: Inbox
) -> None:
    smtp.per_connection = 2  # the server closes a connection when a third message begins
    put(*[f"k{n}" for n in range(5)])
    report = send(db, [smtp.channel()], T0)
    assert (report.sent, report.retried, report.failed) == (5, 0, 0)
    assert smtp.connections() == 3
    assert sorted(m["X-Shema-Key"] for m in smtp.messages()) == [f"k{n}" for n in range(5)]


def test_a_server_gone_mid_batch_leaves_the_delivered_sent_and_the_rest_for_retry(
    db: Database, put: Put, smtp: Inbox
) -> None:
    smtp.gone_after = 2  # accepts two messages, then drops every connection
    put(*[f"k{n}" for n in range(5)])
    report = send(db, [smtp.channel()], T0)
    assert (report.sent, report.retried, report.failed) == (2, 3, 0)
    assert [row(db, f"k{n}").status for n in range(5)] == ["sent"] * 2 + ["pending"] * 3
    waiting = [row(db, f"k{n}") for n in range(2, 5)]
    assert {(r.attempts, r.next_attempt_at) for r in waiting} == {(1, T0 + MINUTE)}
    assert "Connection unexpectedly closed" in waiting[0].last_error  # tried, reopened once
    assert all("not tried" in r.last_error for r in waiting[1:])  # then given up
    smtp.gone_after = None  # the server is back
    assert send(db, [smtp.channel()], T0 + MINUTE).sent == 3
    assert sorted(m["X-Shema-Key"] for m in smtp.messages()) == [f"k{n}" for n in range(5)]


def test_a_refused_message_mid_batch_keeps_the_connection_for_the_others(
    db: Database, put: Put, smtp: Inbox
) -> None:
    put("k0")
    put("nomail", to="nomail")
    put("k2")
    with db.write() as conn:  # an address the server may take but this one refuses
        conn.execute(
            people.insert().values(id="bad", name="Bad", email="bad@ogre.example", lang="lv")
        )
    put("refused", to="bad")
    put("k4")

    async def refuse_bad(server: Any, session: Any, envelope: Any) -> str:
        if envelope.rcpt_tos == ["bad@ogre.example"]:
            return "550 5.1.1 mailbox unavailable"
        return await Inbox.handle_DATA(smtp, server, session, envelope)

    smtp.handle_DATA = refuse_bad  # type: ignore[method-assign]
    report = send(db, [smtp.channel()], T0)
    assert (report.sent, report.retried) == (3, 2)
    assert smtp.connections() == 1
    assert "550" in row(db, "refused").last_error


def test_insert_new_writes_many_rows_in_one_statement_and_counts_only_new_keys(
    db: Database, put: Put, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy import event

    from storage.outbox import insert_new

    put("old")
    fresh = {**_row("x"), "key": "old"}
    rows = [fresh, _row("a"), _row("b"), _row("a")]
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO OUTBOX"):
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        with db.write() as conn:
            assert insert_new(conn, rows) == 2
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert len(statements) == 1
    assert counts(db) == {"pending": 3}
    assert row(db, "old").subject == "Ziņa old"  # the existing row wins


def _row(key: str) -> dict[str, Any]:
    return {
        "key": key,
        "project_id": None,
        "deadline_id": None,
        "recipient_id": "anna",
        "kind": "notify",
        "subject": f"Jauna {key}",
        "body": "x\n",
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": T0,
        "created_at": T0,
    }


# -- the folder channel -------------------------------------------------------------------


def mail(key: str, subject: str = "Nokavēts termiņš") -> Mail:
    return Mail(key, "Līga Ozoliņa", "liga@ogre.example", subject, "Teksts\n", SENDER)


def read_eml(path: Path) -> EmailMessage:
    parsed: EmailMessage = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    return parsed


def test_the_folder_channel_writes_one_eml_file_per_key(tmp_path: Path) -> None:
    folder = FolderChannel(tmp_path / "mail")
    folder.send(mail("deadline:7:overdue:liga.ozolina"))
    folder.send(mail("deadline:7:escalation0:arnis.dzenis"))
    files = sorted(p.name for p in (tmp_path / "mail").iterdir())
    assert files == [
        "deadline_7_escalation0_arnis.dzenis.eml",
        "deadline_7_overdue_liga.ozolina.eml",
    ]


def test_the_eml_file_is_the_message_with_its_message_id(tmp_path: Path) -> None:
    sent = mail("deadline:7:overdue:liga.ozolina")
    FolderChannel(tmp_path).send(sent)
    parsed = read_eml(tmp_path / "deadline_7_overdue_liga.ozolina.eml")
    assert (parsed["Subject"], parsed["Message-ID"]) == ("Nokavēts termiņš", sent.message_id)


def test_writing_the_same_key_again_replaces_the_file(tmp_path: Path) -> None:
    folder = FolderChannel(tmp_path)
    folder.send(mail("k:1", subject="pirmais"))
    folder.send(mail("k:1", subject="otrais"))
    [only] = list(tmp_path.iterdir())
    assert read_eml(only)["Subject"] == "otrais"


def record_fsyncs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record each fsync the folder channel makes: "dir" or "file"."""
    import stat

    synced: list[str] = []
    real = os.fsync

    def fsync(fd: int) -> None:
        synced.append("dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file")
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    return synced


def test_the_folder_channel_syncs_each_file_and_the_folder_once_per_batch(
    db: Database, put: Put, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    put(*[f"k{n}" for n in range(5)])
    synced = record_fsyncs(monkeypatch)
    assert send(db, [FolderChannel(tmp_path / "mail")], T0, limit=3).sent == 5
    assert synced == ["file"] * 3 + ["dir"] + ["file"] * 2 + ["dir"]
    assert len(list((tmp_path / "mail").glob("*.eml"))) == 5


def test_a_batch_whose_folder_cannot_be_synced_is_retried_not_marked_sent(
    db: Database, put: Put, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import stat

    real = os.fsync

    def failing(fd: int) -> None:
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            raise OSError(5, "Input/output error")
        real(fd)

    put("k1", "k2")
    monkeypatch.setattr(os, "fsync", failing)
    report = send(db, [FolderChannel(tmp_path)], T0)
    assert (report.sent, report.retried) == (0, 2)
    assert {(r.status, r.attempts) for r in (row(db, "k1"), row(db, "k2"))} == {("pending", 1)}
    assert "Input/output error" in row(db, "k1").last_error
    monkeypatch.setattr(os, "fsync", real)
    assert send(db, [FolderChannel(tmp_path)], T0 + MINUTE).sent == 2
    assert len(list(tmp_path.glob("*.eml"))) == 2  # written again over the same files


# -- choosing channels from the environment -----------------------------------------------


def test_no_mail_settings_mean_no_channel_and_messages_wait() -> None:
    settings = mail_settings({})
    assert settings.channels == []
    assert "messages wait" in settings.describe


def test_an_smtp_host_chooses_smtp_on_port_25_by_default() -> None:
    [channel] = mail_settings({"SHEMA_SMTP_HOST": "mail.ogre.example"}).channels
    assert isinstance(channel, SmtpChannel)
    assert (channel.host, channel.port, channel.starttls, channel.user) == (
        "mail.ogre.example",
        25,
        False,
        None,
    )


def test_smtp_port_login_and_starttls_come_from_the_environment() -> None:
    [channel] = mail_settings(
        {
            "SHEMA_SMTP_HOST": "mail.ogre.example",
            "SHEMA_SMTP_PORT": "587",
            "SHEMA_SMTP_USER": "shema",
            "SHEMA_SMTP_PASSWORD": "secret",
            "SHEMA_SMTP_STARTTLS": "true",
        }
    ).channels
    assert isinstance(channel, SmtpChannel)
    assert (channel.port, channel.user, channel.password, channel.starttls) == (
        587,
        "shema",
        "secret",
        True,
    )


def test_a_mail_dir_chooses_the_folder_channel(tmp_path: Path) -> None:
    [channel] = mail_settings({"SHEMA_MAIL_DIR": str(tmp_path)}).channels
    assert isinstance(channel, FolderChannel)
    assert channel.directory == tmp_path


def test_smtp_and_a_mail_dir_together_choose_both(tmp_path: Path) -> None:
    settings = mail_settings({"SHEMA_SMTP_HOST": "mail.ogre.example", "SHEMA_MAIL_DIR": "m"})
    assert [type(c) for c in settings.channels] == [SmtpChannel, FolderChannel]


def test_a_port_that_is_not_a_number_is_refused() -> None:
    with pytest.raises(EnvironmentProblem, match="SHEMA_SMTP_PORT"):
        mail_settings({"SHEMA_SMTP_HOST": "mail.ogre.example", "SHEMA_SMTP_PORT": "twenty-five"})


@pytest.mark.parametrize("port", ["0", "70000"])
def test_a_port_outside_1_to_65535_is_refused(port: str) -> None:
    with pytest.raises(EnvironmentProblem, match="SHEMA_SMTP_PORT"):
        mail_settings({"SHEMA_SMTP_HOST": "mail.ogre.example", "SHEMA_SMTP_PORT": port})


def test_a_sender_that_is_not_an_address_is_refused() -> None:
    with pytest.raises(EnvironmentProblem, match="SHEMA_MAIL_FROM"):
        mail_settings({"SHEMA_MAIL_FROM": "shema"})


# -- the command line ---------------------------------------------------------------------


def shema(url: str, *args: str, mail_dir: Path | None = None) -> Result:
    env = {
        "SHEMA_DB": url,
        "SHEMA_USER": None,
        "SHEMA_LANG": None,
        "SHEMA_DEBUG": None,
        "SHEMA_SMTP_HOST": None,
        "SHEMA_MAIL_DIR": str(mail_dir) if mail_dir else None,
    }
    result = CliRunner().invoke(cli.main, list(args), env=env)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"shema {args} raised {result.exception!r}") from result.exception
    return result


def ok(result: Result) -> str:
    assert result.exit_code == 0, result.stderr
    return result.stdout


@pytest.fixture
def overdue_db(tmp_path: Path, prepared_sqlite: Path) -> Iterator[str]:
    """The URL of an SQLite database with the shipped organisation and scheme (a copy of
    the session's prepared one) and one idea created at T0 (its four steps are due by 20
    February; one catch-up sweep then sends the overdue notice and the highest
    escalation). The commands only pass the database through, so one backend is enough."""
    copy_sqlite(prepared_sqlite, tmp_path / "shema.db")
    db = Database(f"sqlite:///{tmp_path / 'shema.db'}")
    engine = Engine(db)
    engine.create_project(title="Jumts", unit="krapes_pagasts", actor=LIGA, now=T0)
    db.dispose()
    yield db.url
    gc.collect()


def test_cli_jobs_sweep_with_a_mail_dir_writes_an_eml_file_per_message(
    overdue_db: str, tmp_path: Path
) -> None:
    out = ok(shema(overdue_db, "jobs", "sweep", "--now", "2026-02-20T10:00", mail_dir=tmp_path))
    assert "sent 2" in out
    names = sorted(p.name for p in tmp_path.glob("*.eml"))
    assert len(names) == 2
    assert [n.split("_")[2] for n in names] == ["escalation1", "overdue"]


def test_cli_jobs_sweep_without_mail_settings_says_messages_wait(overdue_db: str) -> None:
    out = ok(shema(overdue_db, "jobs", "sweep", "--now", "2026-02-20T10:00"))
    assert "sent 0" in out
    assert "messages wait" in out


def test_cli_outbox_list_json_lists_the_messages_without_their_bodies(overdue_db: str) -> None:
    ok(shema(overdue_db, "jobs", "sweep", "--now", "2026-02-20T10:00"))
    listed = json.loads(ok(shema(overdue_db, "outbox", "list", "--json")))
    assert len(listed) == 2
    assert {m["status"] for m in listed} == {"pending"}
    assert {m["recipient_id"] for m in listed} == {LIGA, "dace.liepina"}
    assert all("body" not in m and m["subject"].startswith("[OGR-2026-0001]") for m in listed)


def test_cli_status_json_counts_the_outbox_and_names_the_last_sweep(
    overdue_db: str, tmp_path: Path
) -> None:
    before = json.loads(ok(shema(overdue_db, "status", "--json")))
    assert before["last_sweep"] is None
    assert (before["outbox_pending"], before["outbox_sent"], before["outbox_failed"]) == (0, 0, 0)
    ok(shema(overdue_db, "jobs", "sweep", "--now", "2026-02-20T10:00"))
    waiting = json.loads(ok(shema(overdue_db, "status", "--json")))
    assert (waiting["outbox_pending"], waiting["outbox_sent"]) == (2, 0)
    assert waiting["last_sweep"] is not None
    assert "fired 2" in waiting["last_sweep_result"]
    assert "messages wait" in waiting["mail"]
    ok(shema(overdue_db, "jobs", "sweep", "--now", "2026-02-20T10:05", mail_dir=tmp_path))
    sent = json.loads(ok(shema(overdue_db, "status", "--json", mail_dir=tmp_path)))
    assert (sent["outbox_pending"], sent["outbox_sent"], sent["outbox_failed"]) == (0, 2, 0)
    assert sent["mail"] == f"folder {tmp_path}"


def test_cli_outbox_retry_requeues_failed_messages(overdue_db: str) -> None:
    ok(shema(overdue_db, "jobs", "sweep", "--now", "2026-02-20T10:00"))
    db = Database(overdue_db)
    try:
        with db.write() as conn:
            conn.execute(outbox.update().values(status="failed", attempts=8))
        assert ok(shema(overdue_db, "outbox", "retry")).startswith("2 ")
        assert counts(db) == {"pending": 2}
    finally:
        db.dispose()


# -- a real crash between "accepted by the server" and "marked sent" ---------------------


def jobs_sweep(
    url: str, at: str, failpoints: str = "", **settings: str
) -> subprocess.CompletedProcess[str]:
    """`shema jobs sweep --now AT` in a process of its own, with the fail points armed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHEMA_")}
    env.update(SHEMA_DB=url, SHEMA_MAIL_FROM=SENDER, SHEMA_FAILPOINTS=failpoints, **settings)
    return subprocess.run(
        [sys.executable, "-m", "cli", "jobs", "sweep", "--now", at],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=60,
        check=False,
    )


def smtp_settings(smtp: Inbox) -> dict[str, str]:
    return {"SHEMA_SMTP_HOST": "127.0.0.1", "SHEMA_SMTP_PORT": str(smtp.port)}


def test_a_dispatcher_killed_after_sending_resends_with_the_same_message_id(
    overdue_db: str, smtp: Inbox
) -> None:
    """`shema jobs sweep` dies (SIGKILL at the fail point) right after the server accepted
    the first message; the next run, after the lease, sends it again."""
    killed = jobs_sweep(
        overdue_db, "2026-02-11T10:00", "dispatch.after_send", **smtp_settings(smtp)
    )
    assert killed.returncode == -9, killed.stderr
    assert len(smtp.envelopes) == 1  # accepted, never marked sent
    resumed = jobs_sweep(overdue_db, "2026-02-11T10:06", **smtp_settings(smtp))  # lease over
    assert resumed.returncode == 0, resumed.stderr
    ids = [m["Message-ID"] for m in smtp.messages()]
    assert len(ids) == 3 and len(set(ids)) == 2  # overdue notice and escalation (catch-up)
    assert ids.count(ids[0]) == 2  # the first message again, recognisable as a duplicate
    db = Database(overdue_db)
    try:
        assert counts(db) == {"sent": 2}
    finally:
        db.dispose()


def test_a_dispatcher_killed_before_recording_its_batch_sends_the_batch_again_once(
    overdue_db: str, smtp: Inbox
) -> None:
    """Killed after the whole batch was accepted and before its outcomes were recorded:
    nothing is marked, the rows wait out their lease, and the next run sends each of them
    once more with the same Message-ID (at least once, duplicates bounded by the batch)."""
    killed = jobs_sweep(
        overdue_db, "2026-02-11T10:00", "dispatch.before_mark", **smtp_settings(smtp)
    )
    assert killed.returncode == -9, killed.stderr
    db = Database(overdue_db)
    try:
        assert (len(smtp.envelopes), counts(db)) == (2, {"sending": 2})
        early = jobs_sweep(overdue_db, "2026-02-11T10:04", **smtp_settings(smtp))
        assert (early.returncode, len(smtp.envelopes)) == (0, 2)  # still leased: nothing sent
        resumed = jobs_sweep(overdue_db, "2026-02-11T10:06", **smtp_settings(smtp))
        assert resumed.returncode == 0, resumed.stderr
        ids = [m["Message-ID"] for m in smtp.messages()]
        assert len(ids) == 4 and sorted(ids[:2]) == sorted(ids[2:])  # each exactly twice
        assert counts(db) == {"sent": 2}
        again = jobs_sweep(overdue_db, "2026-02-11T10:30", **smtp_settings(smtp))
        assert (again.returncode, len(smtp.envelopes)) == (0, 4)
    finally:
        db.dispose()


def test_a_crash_before_recording_leaves_no_duplicate_in_the_mail_folder(
    overdue_db: str, tmp_path: Path
) -> None:
    folder = tmp_path / "mail"
    settings = {"SHEMA_MAIL_DIR": str(folder)}
    killed = jobs_sweep(overdue_db, "2026-02-11T10:00", "dispatch.before_mark", **settings)
    assert killed.returncode == -9, killed.stderr
    first = {p.name: p.read_bytes() for p in folder.glob("*.eml")}
    assert len(first) == 2
    assert jobs_sweep(overdue_db, "2026-02-11T10:06", **settings).returncode == 0
    again = {p.name: p.read_bytes() for p in folder.glob("*.eml")}
    assert set(again) == set(first)  # the same two files, written over
    assert not list(folder.glob("*.tmp"))
    assert {read_eml(folder / n)["Message-ID"] for n in again} == {
        read_eml(folder / n)["Message-ID"] for n in first
    }
    db = Database(overdue_db)
    try:
        assert counts(db) == {"sent": 2}
    finally:
        db.dispose()


@pytest.mark.parametrize("filler", range(0, 90, 3))
def test_a_long_latvian_subject_keeps_every_space_when_folded(filler: int) -> None:
    from email import message_from_bytes, policy

    from engine.notify.channels import Mail
    from engine.notify.channels.email import to_message

    subject = f"OGR-2026-0001 Projekta iecere{'x' * filler} — termiņš 16.12.2026."
    mail = Mail("k1", "Jānis Ozols", "janis@example.lv", subject, "Teksts", "shema@example.lv")
    raw = to_message(mail, date=dt.datetime(2026, 12, 2, tzinfo=dt.UTC)).as_bytes()
    assert message_from_bytes(raw, policy=policy.default)["Subject"] == subject
    assert max(len(line) for line in raw.splitlines()) <= 78


# -- notices whose reason no longer holds, links and the sender ---------------------------

JANIS = "janis.ozols"


def submitted(engine: Engine) -> str:
    """An idea of Krapes pagasts submitted at T0 + 1h: handed over to central staff."""
    code = engine.create_project(title="Jumts", unit="krapes_pagasts", actor=LIGA, now=T0).code
    for item in ("problem_statement", "estimated_cost"):
        engine.check(code, item, actor=LIGA, now=T0 + MINUTE)
    engine.advance(code, "submit_idea", actor=LIGA, now=T0 + 60 * MINUTE)
    return code


def rows_of_kind(db: Database, kind: str) -> list[Any]:
    with db.read() as conn:
        return list(conn.execute(select(outbox).where(outbox.c.kind == kind)))


def test_a_handoff_notice_still_waiting_when_the_handoff_was_acknowledged_is_dropped(
    engine: Engine, smtp: Inbox
) -> None:
    submitted(engine)  # no channel yet: the handoff notices wait
    code = engine.list_projects(actor=COORDINATOR)[0].code
    engine.acknowledge(code, actor=JANIS, now=T0 + 90 * MINUTE)
    report = send(engine.db, [smtp.channel()], T0 + 120 * MINUTE)
    handoffs = rows_of_kind(engine.db, "handoff")
    assert handoffs and {r.status for r in handoffs} == {"dropped"}
    assert all("deadline closed before delivery" in r.last_error for r in handoffs)
    assert not [m for m in smtp.messages() if "Nodots jums" in str(m["Subject"])]
    assert report.sent == 0


def test_reminders_queued_before_the_project_finished_are_dropped_not_sent(
    engine: Engine, smtp: Inbox
) -> None:
    code = engine.create_project(title="Jumts", unit="krapes_pagasts", actor=LIGA, now=T0).code
    keep_up(engine, AFTER_FIRST_ESCALATION)  # reminder, overdue, escalation wait
    queued = [r for r in rows_of_kind(engine.db, "overdue") + rows_of_kind(engine.db, "reminder")]
    assert queued
    engine.force(code, "completed", reason="built", actor=COORDINATOR, now=AFTER_FIRST_ESCALATION)
    send(engine.db, [smtp.channel()], AFTER_FIRST_ESCALATION + MINUTE)
    with engine.db.read() as conn:
        statuses = dict(conn.execute(select(outbox.c.kind, outbox.c.status)).all())
    assert statuses["overdue"] == statuses["reminder"] == statuses["escalation"] == "dropped"
    assert smtp.messages() == []


def test_a_notice_of_something_that_happened_is_still_sent_later(engine: Engine) -> None:
    code = submitted(engine)
    engine.acknowledge(code, actor=JANIS, now=T0 + 90 * MINUTE)
    with engine.db.write() as conn:  # stands for any announcement (`notify`) of the project
        conn.execute(
            outbox.insert().values(
                key="notify:test",
                project_id=None,
                recipient_id=JANIS,
                kind="notify",
                subject="Paziņojums",
                body="x\n",
                status="pending",
                attempts=0,
                next_attempt_at=T0,
                created_at=T0,
            )
        )
    box = Recording()
    send(engine.db, [box], T0 + 120 * MINUTE)
    assert [m.key for m in box.sent] == ["notify:test"]


def test_a_sweep_drops_what_waits_in_a_digest_once_its_deadline_closed(engine: Engine) -> None:
    from engine.notify import digest

    code = engine.create_project(title="Jumts", unit="krapes_pagasts", actor=LIGA, now=T0).code
    org = shipped_text("ogre.yaml").replace(
        "    name: Līga Ozoliņa\n", "    name: Līga Ozoliņa\n    digest: true\n"
    )
    load_org(engine, org, "ogre.yaml", actor=COORDINATOR, now=T0)
    keep_up(engine, AFTER_FIRST_ESCALATION)
    assert any(r.status == "digest" for r in rows_of_kind(engine.db, "reminder"))
    engine.force(code, "completed", reason="built", actor=COORDINATOR, now=AFTER_FIRST_ESCALATION)
    assert digest.compose(engine, AFTER_FIRST_ESCALATION + MINUTE) == 0
    assert {r.status for r in rows_of_kind(engine.db, "reminder")} == {"dropped"}


def test_messages_link_to_the_project_page_with_the_command_as_a_second_line(
    db: Database,
) -> None:
    engine = Engine(db, web_url="https://shema.ogresnovads.example/")
    load_org(engine, shipped_text("ogre.yaml"), "ogre.yaml", actor=COORDINATOR, now=T0)
    load_scheme(engine, shipped_text("unified.yaml"), "unified.yaml", actor=COORDINATOR, now=T0)
    code = submitted(engine)
    [to_janis] = [r for r in rows_of_kind(db, "handoff") if r.recipient_id == JANIS]
    assert f"Atvērt projektu: https://shema.ogresnovads.example/projects/{code}\n" in to_janis.body
    assert f"Komandrindā:     shema project ack {code}\n" in to_janis.body


def test_without_a_web_address_messages_give_the_command_alone(engine: Engine) -> None:
    code = submitted(engine)
    [to_janis] = [r for r in rows_of_kind(engine.db, "handoff") if r.recipient_id == JANIS]
    assert "Atvērt projektu" not in to_janis.body
    assert f"Komandrindā: shema project ack {code}\n" in to_janis.body


def test_a_web_address_that_is_not_one_is_refused() -> None:
    from engine.notify.channels.config import web_url

    assert web_url({"SHEMA_WEB_URL": "https://x.example/shema/"}) == "https://x.example/shema"
    assert web_url({}) is None
    for bad in ("x.example", "ftp://x.example", "https://"):
        with pytest.raises(EnvironmentProblem, match="SHEMA_WEB_URL"):
            web_url({"SHEMA_WEB_URL": bad})


def test_the_sender_and_message_id_domain_come_from_the_organisation_file(
    engine: Engine, smtp: Inbox
) -> None:
    from engine.jobs import run_once
    from engine.notify.channels.config import MailSettings

    engine.create_project(title="Jumts", unit="krapes_pagasts", actor=LIGA, now=T0)
    run_once(engine, MailSettings([smtp.channel()]), AFTER_FIRST_ESCALATION)
    message = smtp.messages()[0]
    assert message["From"] == "shema@ogresnovads.example"
    assert str(message["Message-ID"]).endswith("@ogresnovads.example>")


def test_the_organisation_file_may_name_its_own_sender(engine: Engine, smtp: Inbox) -> None:
    from engine.jobs import run_once
    from engine.notify.channels.config import MailSettings

    org = shipped_text("ogre.yaml").replace(
        "  root: ogres_novads\n", "  root: ogres_novads\n  mail_from: projekti@ogre.example.lv\n"
    )
    load_org(engine, org, "ogre.yaml", actor=COORDINATOR, now=T0)
    engine.create_project(title="Jumts", unit="krapes_pagasts", actor=LIGA, now=T0)
    run_once(engine, MailSettings([smtp.channel()]), AFTER_FIRST_ESCALATION)
    assert {m["From"] for m in smtp.messages()} == {"projekti@ogre.example.lv"}


# -- one bad message never stops the others; outages are ridden out ----------------------


def test_one_poison_address_among_fifty_leaves_forty_nine_sent_and_one_failed_with_its_reason(
    db: Database, put: Put, smtp: Inbox, tmp_path: Path
) -> None:
    with db.write() as conn:  # written past the organisation file's check, as SQL could
        conn.execute(
            people.insert().values(id="poison", name="Jānis", email="jānis@ogre.example", lang="lv")
        )
    put(*[f"k{n:02}" for n in range(25)])
    put("poisoned", to="poison")
    put(*[f"k{n:02}" for n in range(25, 49)])
    for channel in (smtp.channel(), FolderChannel(tmp_path / "mail")):
        with db.write() as conn:
            conn.execute(outbox.update().values(status="pending", attempts=0, next_attempt_at=T0))
        report = send(db, [channel], T0)
        assert (report.sent, report.failed, report.retried) == (49, 1, 0)
        bad = row(db, "poisoned")
        assert bad.status == "failed"
        assert "cannot build the message" in bad.last_error
    assert len(smtp.envelopes) == 49
    assert len(list((tmp_path / "mail").glob("*.eml"))) == 49


def test_a_four_hour_smtp_outage_loses_nothing_and_fails_nothing(
    db: Database, put: Put, dead_smtp: SmtpChannel, smtp: Inbox
) -> None:
    put("k1", "k2", "k3")
    now, end = T0, T0 + dt.timedelta(hours=4)
    while now < end:  # the dispatcher runs every minute through the outage
        send(db, [dead_smtp], now)
        now += MINUTE
    assert counts(db) == {"pending": 3}
    assert row(db, "k1").attempts == 8  # 1, 2, 4 … 128 minutes apart so far
    while counts(db) != {"sent": 3}:
        send(db, [smtp.channel()], now)
        now += MINUTE
        assert now < end + dt.timedelta(hours=6), counts(db)  # the wait never exceeds the cap
    assert len(smtp.envelopes) == 3


def test_a_transient_failure_is_retried_for_a_day_before_the_message_fails(
    db: Database, put: Put, dead_smtp: SmtpChannel
) -> None:
    put("k1")
    now, tries = T0, []
    while row(db, "k1").status == "pending":
        send(db, [dead_smtp], now)
        tries.append(now)
        now = row(db, "k1").next_attempt_at
    assert tries[-1] - tries[0] > dt.timedelta(hours=20)
    assert max(b - a for a, b in itertools.pairwise(tries)) == dt.timedelta(hours=6)
    assert row(db, "k1").status == "failed"


def test_the_retry_period_comes_from_the_environment() -> None:
    assert mail_settings({}).retry_for == dt.timedelta(days=1)
    assert mail_settings({"SHEMA_MAIL_RETRY_HOURS": "48"}).retry_for == dt.timedelta(hours=48)
    for bad in ("0", "-1", "abc", "100000"):
        with pytest.raises(EnvironmentProblem, match="SHEMA_MAIL_RETRY_HOURS"):
            mail_settings({"SHEMA_MAIL_RETRY_HOURS": bad})


def test_status_and_the_coordinator_page_show_failed_messages_with_their_reasons(
    engine: Engine, dead_smtp: SmtpChannel, tmp_path: Path
) -> None:
    from engine.status import status

    engine.create_project(title="Jumts", unit="krapes_pagasts", actor=LIGA, now=T0)
    sweep(engine, AFTER_FIRST_ESCALATION)
    send(engine.db, [dead_smtp], AFTER_FIRST_ESCALATION, max_attempts=1)
    shown = status(engine.db, AFTER_FIRST_ESCALATION)
    assert shown["outbox_failed"] == len(shown["failed_messages"]) == 2
    assert all("Connection refused" in m["error"] for m in shown["failed_messages"])
    cli_out = CliRunner().invoke(cli.main, ["status"], env={"SHEMA_DB": engine.db.url})
    assert cli_out.output.count("failed message ") == 2
    import re

    from starlette.testclient import TestClient

    from engine import accounts
    from web.app import create_app

    accounts.store_hash(engine, [COORDINATOR], accounts.hash_password("pareiza-parole"))
    client = TestClient(create_app(engine.db.url, clock=lambda: AFTER_FIRST_ESCALATION))
    found = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)
    assert found
    login = {"person": COORDINATOR, "password": "pareiza-parole", "csrf": found.group(1)}
    client.post("/login", data=login)
    page = client.get("/coordinator").text
    assert "Nenosūtītās vēstules (2)" in page and page.count("Connection refused") == 2
