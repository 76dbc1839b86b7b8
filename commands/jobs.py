"""`shema` commands: Scheduled jobs and the notification outbox."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict

import click

from commands.base import (
    Settings,
    ShemaGroup,
    echo_json,
    json_option,
    now,
    pass_settings,
    table,
)

# -- jobs and outbox ---------------------------------------------------------------


@click.group(cls=ShemaGroup)
def jobs() -> None:
    """Reminders, escalations and mail delivery."""


ISO_FORMATS = [
    "%Y-%m-%dT%H:%M:%S%z",
    "%Y-%m-%dT%H:%M%z",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d",
]


@jobs.command("sweep")
@click.option(
    "--now",
    "at",
    type=click.DateTime(formats=ISO_FORMATS),
    default=None,
    help="Pretend it is this time (ISO; without an offset: the organisation's local time, "
    "e.g. Europe/Riga).",
)
@json_option
@pass_settings
def jobs_sweep(s: Settings, at: dt.datetime | None, as_json: bool) -> None:
    """One pass: fire due reminders and escalations, then deliver the outbox."""
    from engine.jobs import run_once

    if at is not None:
        from workflow import domains

        domains.moment("--now time", at)  # before any conversion can overflow
    mail = s.mail()
    when = now() if at is None else _aware(s, at)
    swept, sent = run_once(s.engine(), mail, when)
    if as_json:
        echo_json(
            {
                "now": when.isoformat(),
                "sweep": swept.to_json(),
                "dispatch": sent.to_json(),
                "mail": mail.describe,
            }
        )
        return
    click.echo(
        f"{when.isoformat()}: fired {swept.fired} timers, {swept.messages} new "
        f"messages, {swept.escalations} escalations; sent {sent.sent}, retrying "
        f"{sent.retried}, failed {sent.failed}"
    )
    if not mail.channels:
        click.echo(mail.describe)
    for error in sent.errors:
        click.echo(f"  {error}", err=True)


def _aware(s: Settings, at: dt.datetime) -> dt.datetime:
    """`at` as UTC; without an offset it is the time where the organisation is (its
    calendar's zone)."""
    from engine.calendars import local_zone

    if at.tzinfo is not None:
        return at.astimezone(dt.UTC)
    return at.replace(tzinfo=local_zone(s.engine().db)).astimezone(dt.UTC)


@jobs.command("run")
@click.option(
    "--sweep-every",
    type=click.IntRange(10, 86_400),
    default=300,
    show_default=True,
    help="Seconds between sweeps (10 to 86400).",
)
@click.option(
    "--dispatch-every",
    type=click.IntRange(10, 86_400),
    default=60,
    show_default=True,
    help="Seconds between deliveries (10 to 86400).",
)
@pass_settings
def jobs_run(s: Settings, sweep_every: int, dispatch_every: int) -> None:
    """Run the scheduler until interrupted (first pass at once, catching up downtime)."""
    import logging

    from engine.jobs import run_forever

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    # Shēma's own lines say what each pass did; the scheduler's "Running job …" lines
    # would only repeat them. Its warnings and errors still show.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    mail = s.mail()
    click.echo(f"shema jobs: {s.engine().db.safe_url}; mail: {mail.describe}")
    run_forever(s.engine(), mail, now, sweep_seconds=sweep_every, dispatch_seconds=dispatch_every)


@click.group(cls=ShemaGroup)
def outbox() -> None:
    """Messages waiting, sent and failed."""


@outbox.command("list")
@click.option(
    "--status",
    type=click.Choice(["pending", "sending", "sent", "failed", "dropped", "digest", "digested"]),
    default=None,
)
@click.option("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True)
@json_option
@pass_settings
def outbox_list(s: Settings, status: str | None, limit: int, as_json: bool) -> None:
    """The newest outbox messages."""
    from storage.status import newest_messages

    with s.engine().db.read() as conn:
        rows = [asdict(m) for m in newest_messages(conn, limit, status)]
    if as_json:
        echo_json([{k: v for k, v in r.items() if k != "body"} for r in rows])
        return
    table(
        [
            (r["id"], r["status"], r["attempts"], r["recipient_id"], r["kind"], r["subject"])
            for r in rows
        ],
        ["id", "status", "tries", "to", "kind", "subject"],
    )


@outbox.command("retry")
@pass_settings
def outbox_retry(s: Settings) -> None:
    """Give failed messages a fresh set of attempts (sent by the next sweep or `jobs run`)."""
    from engine.notify.outbox import retry_failed

    n = retry_failed(s.engine().db, now())
    click.echo(f"{n} failed messages queued again")
