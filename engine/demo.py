"""`shema demo`: a ready-to-explore database with the shipped scheme and organisation.

Everything is backdated from the real `now` and nothing is dated after it, so the
history reads as it would have happened.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from engine.channels.config import MailSettings
from engine.channels.email import FolderChannel
from engine.jobs import run_once
from engine.loading import load_org, load_scheme
from engine.service import Engine
from schemes import shipped
from storage.database import Database
from storage.migrate import upgrade
from workflow.errors import UsageError

MARKER = ".shema-demo"
COORDINATOR = "ilze.kalnina"


@dataclass
class DemoResult:
    directory: Path
    db_url: str
    codes: list[str] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)


def prepare(directory: Path) -> None:
    """Make `directory` empty and ours: refuse a non-empty folder the demo did not create."""
    if directory.exists():
        if not directory.is_dir():
            raise UsageError(f"{directory} exists and is not a folder")
        if any(directory.iterdir()) and not (directory / MARKER).exists():
            raise UsageError(
                f"{directory} is not empty and was not made by `shema demo`; choose another --dir"
            )
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    (directory / MARKER).write_text("made by `shema demo`; rerunning the demo recreates it\n")
    (directory / "mail").mkdir()


def run_demo(
    directory: Path, *, now: dt.datetime, echo: Callable[[str], None] = print
) -> DemoResult:
    """Build the demo in `directory` and return where it is and what to try."""
    prepare(directory)
    url = f"sqlite:///{(directory / 'shema.db').resolve()}"
    db = Database(url)
    try:
        upgrade(db)
        engine = Engine(db)
        org_text = shipped("ogre.yaml").read_text(encoding="utf-8")
        scheme_text = shipped("unified.yaml").read_text(encoding="utf-8")
        loaded = load_org(
            engine, org_text, "ogre.yaml", actor=COORDINATOR, now=now - dt.timedelta(days=40)
        )
        echo(f"organisation: {loaded.name} (version {loaded.version})")
        scheme = load_scheme(
            engine, scheme_text, "unified.yaml", actor=COORDINATOR, now=now - dt.timedelta(days=40)
        )
        echo(f"scheme: {scheme.name} v{scheme.version}")
        result = DemoResult(directory, url)
        _walk(engine, now, result)
        # Catch up with everything that fell due while the projects were "running".
        mail = MailSettings([FolderChannel(directory / "mail")], "shema@ogresnovads.example")
        swept, sent = run_once(engine, mail, now)
        echo(f"sweep: {swept.messages} reminders, overdue notices and escalations; "
             f"{sent.sent} e-mails written to {directory / 'mail'}")
        echo("")
        echo(f"{'code':<14}  {'unit':<26}  {'stage':<15}  {'held by':<40}  title")
        for p in engine.list_projects(actor=COORDINATOR, lang="lv"):
            echo(f"{p.code:<14}  {p.unit:<26}  {p.stage:<15}  {p.holder[:40]:<40}  {p.title}")
        waiting = result.codes[1]
        result.hints = [
            "shema --as ilze.kalnina project list",
            "shema --as janis.ozols project list --mine",
            f"shema --as janis.ozols project show {waiting}",
            f"shema --as janis.ozols project ack {waiting}",
            f"shema --as janis.ozols project history {result.codes[0]}",
            "shema --as ilze.kalnina project list --overdue",
            "shema status",
            f"SHEMA_MAIL_DIR={directory / 'mail'} shema jobs sweep",
            "shema audit verify",
        ]
        return result
    finally:
        db.dispose()


def _walk(engine: Engine, now: dt.datetime, result: DemoResult) -> None:
    def at(days_ago: float) -> dt.datetime:
        return now - dt.timedelta(days=days_ago)

    def new(title: str, unit: str, who: str, days_ago: float) -> str:
        code = engine.create_project(title=title, unit=unit, actor=who, now=at(days_ago)).code
        result.codes.append(code)
        return code

    def submit(code: str, who: str, days_ago: float) -> None:
        for item in ("problem_statement", "estimated_cost"):
            engine.check(code, item, actor=who, now=at(days_ago + 0.1))
        engine.advance(code, "submit_idea", actor=who, now=at(days_ago), refs=["OND/2.1/25/1042"])

    roof = new("Krapes tautas nama jumta atjaunošana", "krapes_pagasts", "liga.ozolina", 20)
    submit(roof, "liga.ozolina", 18)
    engine.acknowledge(roof, actor="janis.ozols", now=at(17))
    for item in ("programme_fit", "funding_instrument"):
        engine.check(roof, item, actor="janis.ozols", now=at(15))
    engine.advance(
        roof,
        "propose_for_plan",
        actor="janis.ozols",
        now=at(14),
        comment="Atbilst attīstības programmas rīcībai R3.2; ELFLA/LEADER.",
    )

    court = new("Suntažu vidusskolas sporta laukuma pārbūve", "suntazu_pagasts", "zane.roze", 10)
    submit(court, "zane.roze", 8)  # the handoff waits for central staff

    lights = new("Lielvārdes pagasta ceļu apgaismojums", "lielvardes_pagasts", "santa.graudina", 25)
    submit(lights, "santa.graudina", 22)
    engine.acknowledge(lights, actor="laura.krumina", now=at(21))
    engine.advance(
        lights,
        "return_idea",
        actor="laura.krumina",
        now=at(16),
        comment="Lūdzu precizēt izmaksu tāmi un zemes īpašumtiesības.",
    )
    engine.acknowledge(lights, actor="santa.graudina", now=at(15))

    walk = new("Ikšķiles gājēju ietve gar Rīgas ielu", "ikskiles_tinuzu_parvalde", "evija.celma", 5)
    engine.check(walk, "problem_statement", actor="evija.celma", now=at(4))
    new("Birzgales bērnu rotaļu laukums", "birzgales_pagasts", "oskars.lapins", 3)
