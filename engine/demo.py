"""`shema demo`: a ready-to-explore database with the shipped scheme and organisation.

Everything is backdated from the real `now` and nothing is dated after it, so the
history reads as it would have happened.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from engine import accounts, financing, ideas, planning
from engine.jobs import run_once
from engine.loading import load_org, load_scheme
from engine.notify.channels.config import MailSettings
from engine.notify.channels.email import FolderChannel
from engine.service import Engine
from schemes import shipped
from storage.database import Database
from storage.migrate import upgrade
from workflow.cba import YearFlow
from workflow.errors import UsageError
from workflow.financing import Quarter

MARKER = ".shema-demo"
COORDINATOR = "ilze.kalnina"
DEMO_PASSWORD = "demo-parole"


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
            raise UsageError(
                f"{directory} exists and is not a folder",
                code="demo.not_a_folder",
                directory=str(directory),
            )
        if any(directory.iterdir()) and not (directory / MARKER).exists():
            # Only `shema demo` comes here, so the sentence may name it.
            raise UsageError(
                f"{directory} is not empty and was not made by `shema demo`; choose another --dir",
                code="demo.folder_taken",
                directory=str(directory),
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
        _plan(engine, now, result.codes[0])
        _financing(engine, now, result.codes)
        promoted = _notebook(engine, now, result)
        # One hash for everyone: argon2 is slow on purpose, and this is a demo.
        with db.read() as conn:
            everyone = list(engine.org_index(conn).org.people)
        accounts.store_hash(engine, everyone, accounts.hash_password(DEMO_PASSWORD))
        # Catch up with everything that fell due while the projects were "running".
        mail = MailSettings([FolderChannel(directory / "mail")], "shema@ogresnovads.example")
        swept, sent = run_once(engine, mail, now)
        echo(
            f"sweep: {swept.messages} reminders, overdue notices and escalations; "
            f"{sent.sent} e-mails written to {directory / 'mail'}"
        )
        waiting = result.codes[1]
        result.hints = [
            "shema --as ilze.kalnina project list",
            "shema --as janis.ozols project list --mine",
            f"shema --as janis.ozols project show {waiting}",
            f"shema --as janis.ozols project ack {waiting}",
            f"shema --as janis.ozols project history {result.codes[0]}",
            "shema --as ilze.kalnina project list --overdue",
            "shema --as ilze.kalnina idea list",
            f"shema --as ilze.kalnina idea show {promoted}",
            "shema --as ilze.kalnina idea export -o burtnica.md",
            "shema --as ilze.kalnina idea export --format csv --delimiter ';' -o burtnica.csv",
            f"shema --as janis.ozols project risk list {result.codes[0]}",
            f"shema --as janis.ozols project cba show {result.codes[0]}",
            "shema --as ilze.kalnina report --format csv --delimiter ';' -o portfelis.csv",
            "shema --as janis.ozols calendar export --person janis.ozols -o termini.ics",
            "shema status",
            f"SHEMA_MAIL_DIR={directory / 'mail'} shema jobs sweep",
            "shema audit verify",
            f"shema web   # then open http://127.0.0.1:8000 and sign in as liga.ozolina "
            f"(parish) or janis.ozols (project manager), password {DEMO_PASSWORD}",
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


def _plan(engine: Engine, now: dt.datetime, roof: str) -> None:
    """The roof project's risk register and cost-benefit analysis, prepared early."""

    def at(days_ago: float) -> dt.datetime:
        return now - dt.timedelta(days=days_ago)

    who = "janis.ozols"
    planning.add_risk(
        engine,
        roof,
        title="Būvdarbu izmaksas pārsniedz tāmi",
        likelihood=3,
        impact=4,
        owner=who,
        mitigation="10 % rezerve budžetā; tirgus izpēte pirms iepirkuma",
        actor=who,
        now=at(12),
    )
    planning.add_risk(
        engine,
        roof,
        title="Būvdarbi ziemā aizkavē termiņus",
        likelihood=2,
        impact=3,
        owner="arnis.dzenis",
        mitigation="Darbus plānot no maija līdz septembrim",
        actor=who,
        now=at(12),
    )
    flows = [
        YearFlow(2026, Decimal("148000"), Decimal("0")),
        *(YearFlow(year, Decimal("1500"), Decimal("19500")) for year in range(2027, 2042)),
    ]
    planning.set_cba(engine, roof, flows, actor=who, now=at(11))


def _financing(engine: Engine, now: dt.datetime, codes: list[str]) -> None:
    """Financing plans for three projects (ERDF 85 % of eligible costs, a state budget
    grant, the municipality the rest), quarterly payments across years, and one payment
    request, so the forecast has figures."""
    at = now - dt.timedelta(days=10)
    plans = [  # project, eligible, ineligible, EU, state, first year
        (codes[0], "240000.00", "12000.00", "204000.00", "10800.00", 2026),
        (codes[2], "410000.00", "25000.00", "348500.00", "18450.00", 2026),
        (codes[3], "180000.00", "0.00", "153000.00", "8100.00", 2027),
    ]
    for code, eligible, ineligible, eu, state, year in plans:
        total = Decimal(eligible) + Decimal(ineligible)
        own = total - Decimal(eu) - Decimal(state)
        back = Decimal(eu) + Decimal(state)
        half = (total / 2).quantize(Decimal("0.01"))
        quarters = [
            Quarter(year, 3, "expenditure", half),
            Quarter(year, 4, "expenditure", total - half),
            Quarter(year + 1, 1, "reimbursement", (back * Decimal("0.6")).quantize(Decimal("1"))),
            Quarter(
                year + 1, 3, "reimbursement", back - (back * Decimal("0.6")).quantize(Decimal("1"))
            ),
        ]
        financing.set_plan(
            engine,
            code,
            actor=COORDINATOR,
            now=at,
            eligible=Decimal(eligible),
            ineligible=Decimal(ineligible),
            sources={"eu_fund": Decimal(eu), "state_budget": Decimal(state), "municipality": own},
            quarters=quarters,
        )
    financing.record_request(
        engine,
        codes[0],
        actor=COORDINATOR,
        now=at,
        submitted_amount=Decimal("120000.00"),
        submitted_on=(now - dt.timedelta(days=12)).date(),
        approved_amount=Decimal("118500.00"),
        approved_on=(now - dt.timedelta(days=11)).date(),
    )


def _notebook(engine: Engine, now: dt.datetime, result: DemoResult) -> int:
    """Cooperation ideas from several parishes; one of them promoted into a project."""

    def at(days_ago: float) -> dt.datetime:
        return now - dt.timedelta(days=days_ago)

    ideas.create_idea(
        engine,
        title="Velomaršruts Krape–Madliena–Sigulda",
        unit="krapes_pagasts",
        actor="liga.ozolina",
        now=at(30),
        description="Kopīgs marķēts velomaršruts ar atpūtas vietām pie Ogres upes.",
        municipalities=["Siguldas novads", "Madonas novads"],
        organisations=["Biedrība “Krapes attīstībai”"],
        instruments=["eafrd_leader", "interreg"],
        cost=Decimal("180000"),
        priority="high",
        tags=["tūrisms", "velo"],
        status="open_for_partners",
    )
    schools = ideas.create_idea(
        engine,
        title="Skolu sporta zāļu energoefektivitāte",
        unit="suntazu_pagasts",
        actor="zane.roze",
        now=at(28),
        description="Siltināšana un apgaismojuma nomaiņa Suntažu un Ropažu skolu sporta zālēs.",
        municipalities=["Ropažu novads"],
        organisations=["Suntažu vidusskola"],
        instruments=["erdf", "cohesion_fund"],
        cost=Decimal("450000"),
        priority="high",
        tags=["energoefektivitāte", "skolas"],
        status="agreed",
    )
    ideas.create_idea(
        engine,
        title="Daugavas krasta pastaigu taka",
        unit="lielvardes_pagasts",
        actor="santa.graudina",
        now=at(21),
        municipalities=["Aizkraukles novads"],
        organisations=["Latvijas Dabas fonds"],
        instruments=["eafrd_leader", "municipal_budget"],
        cost=Decimal("85000"),
        tags=["tūrisms", "daba"],
    )
    ideas.create_idea(
        engine,
        title="Senioru dienas centrs",
        unit="ikskiles_tinuzu_parvalde",
        actor="evija.celma",
        now=at(12),
        description="Izmaksu aplēse no 2012. gada pētījuma (latos).",
        municipalities=["Ķekavas novads", "Salaspils novads"],
        organisations=["Latvijas Sarkanais Krusts"],
        instruments=["esf_plus", "eea_norway_grants"],
        cost=Decimal("21828"),
        currency="LVL",
        tags=["sociālie-pakalpojumi"],
        status="open_for_partners",
    )
    ideas.create_idea(
        engine,
        title="Meža ugunsnovērošanas tornis",
        unit="birzgales_pagasts",
        actor="oskars.lapins",
        now=at(40),
        municipalities=["Bauskas novads"],
        instruments=["state_budget"],
        priority="low",
        status="archived",
    )
    done = ideas.promote_idea(engine, schools.id, actor="zane.roze", now=at(2))
    result.codes.append(done.project)
    return schools.id
