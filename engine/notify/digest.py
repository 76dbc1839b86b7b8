"""The optional daily digest: for people who asked for it (`digest: true` in the
organisation file), reminders, overdue notices and escalations wait in the outbox as
`digest` rows and are gathered into one message a day, sent like any other."""

from __future__ import annotations

import datetime as dt
from itertools import groupby
from typing import Any
from zoneinfo import ZoneInfo

from engine.notify.messages import render
from engine.notify.notices import enqueue
from engine.notify.outbox import drop_stale
from engine.service import Engine
from storage import outbox as stored
from storage.outbox import Addressee, DigestItem

RIGA = ZoneInfo("Europe/Riga")
DIGEST_HOUR = 7  # local time from which the day's digest may go out


def compose(engine: Engine, now: dt.datetime) -> int:
    """Gather every waiting digest row into one message per person (from 07:00 Riga on);
    returns how many digests were created. Each row is gathered once: it is claimed
    under lock and marked `digested` in the transaction that writes the digest."""
    local = now.astimezone(RIGA)
    if local.hour < DIGEST_HOUR:
        return 0
    with engine.db.write() as conn:
        drop_stale(conn)
        rows = stored.claim_digest(conn)
        if not rows:
            return 0
        who = stored.addressees(conn, {r.recipient_id for r in rows})
        digests = [
            digest_row(pid, list(group), who.get(pid), local.date(), now)
            for pid, group in groupby(rows, key=lambda r: r.recipient_id)
        ]
        created = enqueue(conn, digests)
        stored.mark_digested(conn, [r.id for r in rows])
    return created


def digest_row(
    pid: str,
    items: list[DigestItem],
    person: Addressee | None,
    day: dt.date,
    now: dt.datetime,
) -> dict[str, Any]:
    """The outbox row of `pid`'s digest of `items` for `day`."""
    lang = person.lang if person else "lv"
    subject, body = render(
        "digest",
        lang,
        {
            "name": person.name if person else pid,
            "date": day.isoformat(),
            "items": [{"subject": r.subject, "body": _core(r.body)} for r in items],
        },
    )
    return {
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


def _core(body: str) -> str:
    """A message body without its greeting and signature."""
    without_greeting = body.split("\n\n", 1)[-1]
    return without_greeting.rsplit("\n-- \n", 1)[0].strip()
