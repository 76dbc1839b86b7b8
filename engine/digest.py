"""The optional daily digest: for people who asked for it (`digest: true` in the
organisation file), reminders, overdue notices and escalations wait in the outbox as
`digest` rows and are gathered into one message a day, sent like any other."""

from __future__ import annotations

import datetime as dt
from itertools import groupby
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from engine.messages import render
from engine.notices import enqueue
from engine.outbox import drop_stale
from engine.service import Engine
from storage.tables import outbox, people

RIGA = ZoneInfo("Europe/Riga")
DIGEST_HOUR = 7  # local time from which the day's digest may go out


def compose(engine: Engine, now: dt.datetime) -> int:
    """Gather every waiting digest row into one message per person (from 07:00 Riga on);
    returns how many digests were created. Each row is gathered once: it is claimed
    under lock and marked `digested` in the transaction that writes the digest."""
    local = now.astimezone(RIGA)
    if local.hour < DIGEST_HOUR:
        return 0
    created = 0
    with engine.db.write() as conn:
        drop_stale(conn)
        stmt = (
            select(outbox.c.id, outbox.c.recipient_id, outbox.c.subject, outbox.c.body)
            .where(outbox.c.status == "digest")
            .order_by(outbox.c.recipient_id, outbox.c.id)
        )
        if conn.dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        rows = conn.execute(stmt).all()
        if not rows:
            return 0
        who: dict[str, Any] = {
            r.id: r
            for r in conn.execute(
                select(people.c.id, people.c.lang, people.c.name).where(
                    people.c.id.in_({r.recipient_id for r in rows})
                )
            )
        }
        digests = []
        for pid, group in groupby(rows, key=lambda r: r.recipient_id):
            items = list(group)
            person = who.get(pid)
            lang = person.lang if person else "lv"
            subject, body = render(
                "digest",
                lang,
                {
                    "name": person.name if person else pid,
                    "date": local.date().isoformat(),
                    "items": [{"subject": r.subject, "body": _core(r.body)} for r in items],
                },
            )
            digests.append(
                {
                    "key": f"digest:{pid}:{items[0].id}-{items[-1].id}",
                    "project_id": None,
                    "deadline_id": None,
                    "recipient_id": pid,
                    "kind": "digest",
                    "subject": subject,
                    "body": body,
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                }
            )
        created = enqueue(conn, digests)
        conn.execute(
            update(outbox).where(outbox.c.id.in_([r.id for r in rows])).values(status="digested")
        )
    return created


def _core(body: str) -> str:
    """A message body without its greeting and signature."""
    without_greeting = body.split("\n\n", 1)[-1]
    return without_greeting.rsplit("\n-- \n", 1)[0].strip()
