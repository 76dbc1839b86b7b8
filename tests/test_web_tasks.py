"""The task pages (web/tasks.py) through Starlette's test client: project details, the
risk register, the cost-benefit analysis, editing an idea and changing one's password.
Every page renders in Latvian and English; every post does what it says and says so;
each refusal is a Latvian message and changes nothing."""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from conftest import COORDINATOR, T0, copy_sqlite
from starlette.testclient import TestClient

from engine import accounts, ideas, planning
from engine.service import Engine
from storage.database import Database
from web.app import create_app
from workflow.cba import YearFlow

PASSWORD = "pareiza-parole"
SPECIALIST = "liga.ozolina"  # parish_specialist, krapes_pagasts
OTHER_SPECIALIST = "zane.roze"  # parish_specialist, suntazu_pagasts
MANAGER = "janis.ozols"  # project_manager, central
PEOPLE = [SPECIALIST, OTHER_SPECIALIST, MANAGER, COORDINATOR]


@dataclass
class Site:
    url: str
    now: dt.datetime
    engine: Engine

    def client(self) -> TestClient:
        return TestClient(create_app(self.url, clock=lambda: self.now), follow_redirects=False)

    def signed_in(self, person: str, password: str = PASSWORD) -> TestClient:
        client = self.client()
        assert sign_in(client, person, password) == 303
        return client

    def project(self, unit: str = "krapes_pagasts") -> str:
        who = OTHER_SPECIALIST if unit == "suntazu_pagasts" else SPECIALIST
        return self.engine.create_project(
            title="Krapes tautas nama jumts", unit=unit, actor=who, now=self.now
        ).code

    def version(self, code: str) -> int:
        return self.engine.project(code, actor=COORDINATOR).version

    def snapshot(self, code: str) -> tuple[Any, ...]:
        p = self.engine.project(code, actor=COORDINATOR)
        risks = planning.list_risks(self.engine, code, actor=COORDINATOR)
        cba = planning.show_cba(self.engine, code, actor=COORDINATOR)
        return p.version, p.title, p.budget_amount, p.dates, risks, cba


@pytest.fixture
def site(tmp_path: Path, prepared_sqlite: Path) -> Iterator[Site]:
    """The web over a copy of the session's prepared database, everyone with one password."""
    copy_sqlite(prepared_sqlite, tmp_path / "web.db")
    url = f"sqlite:///{tmp_path / 'web.db'}"
    db = Database(url)
    engine = Engine(db)
    accounts.store_hash(engine, PEOPLE, accounts.hash_password(PASSWORD))
    yield Site(url, T0 + dt.timedelta(hours=1), engine)
    db.dispose()


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "the page has no CSRF field"
    return found.group(1)


def sign_in(client: TestClient, person: str, password: str = PASSWORD) -> int:
    token = csrf_of(client.get("/login").text)
    answer = client.post("/login", data={"person": person, "password": password, "csrf": token})
    return answer.status_code


def post(client: TestClient, url: str, data: dict[str, Any], page: str) -> str:
    """POST `data` with the CSRF token of `page`, as a browser would; the text of the page
    it redirects to (with its flash message)."""
    answer = client.post(url, data={**data, "csrf": csrf_of(client.get(page).text)})
    assert answer.status_code == 303, answer.text
    return html.unescape(client.get(answer.headers["location"]).text)


def flashes(page: str) -> list[str]:
    return [html.unescape(m) for m in re.findall(r'<p class="flash [a-z]+"[^>]*>(.*?)</p>', page)]


def _details_form(site: Site, code: str, **changes: str) -> dict[str, str]:
    p = site.engine.project(code, actor=COORDINATOR)
    form = {
        "version": str(p.version),
        "title": p.title,
        "budget": "" if p.budget_amount is None else str(p.budget_amount),
        "currency": p.budget_currency,
        "funding_instrument": p.funding_instrument or "",
        "partners": "\n".join(p.partners),
        "date_call_deadline": p.dates.get("call_deadline", ""),
        "date_implementation_end": p.dates.get("implementation_end", ""),
    }
    return {**form, **changes}


# -- pages ----------------------------------------------------------------------------------


def _pages(site: Site) -> tuple[str, list[str]]:
    code = site.project()
    idea = ideas.create_idea(
        site.engine, title="Veloceliņš", unit="krapes_pagasts", actor=SPECIALIST, now=site.now
    )
    planning.add_risk(
        site.engine,
        code,
        title="Izmaksas pieaug",
        actor=SPECIALIST,
        now=site.now,
        likelihood=4,
        impact=5,
    )
    return code, [
        f"/projects/{code}/details",
        f"/projects/{code}/risks",
        f"/projects/{code}/cba",
        f"/projects/{code}/cba?rows=5",
        f"/ideas/{idea.id}/edit",
        "/account",
    ]


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        (
            "lv",
            [
                "Labot projekta datus",
                "Risku reģistrs",
                "Izmaksu un ieguvumu analīze",
                "Labot ideju",
                "Mainīt paroli",
            ],
        ),
        (
            "en",
            [
                "Edit project details",
                "Risk register",
                "Cost-benefit analysis",
                "Edit idea",
                "Change password",
            ],
        ),
    ],
)
def test_every_task_page_renders_in_both_languages(site: Site, lang: str, words: list[str]) -> None:
    _, urls = _pages(site)
    client = site.signed_in(SPECIALIST)
    seen = ""
    for url in urls:
        answer = client.get(url + ("&" if "?" in url else "?") + f"lang={lang}")
        assert answer.status_code == 200, url
        assert f'<html lang="{lang}">' in answer.text
        seen += html.unescape(answer.text)
    for word in words:
        assert word in seen


def test_the_task_pages_require_sign_in(site: Site) -> None:
    _, urls = _pages(site)
    client = site.client()
    for url in urls:
        answer = client.get(url)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login")


def test_another_parishs_project_pages_answer_404(site: Site) -> None:
    code = site.project("suntazu_pagasts")
    client = site.signed_in(SPECIALIST)
    for url in ["details", "risks", "cba"]:
        assert client.get(f"/projects/{code}/{url}").status_code == 404


class _Fields(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.unlabelled: list[str] = []
        self.labels: set[str] = set()
        self.cells: list[dict[str, str | None]] = []
        self.headers: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "label" and a.get("for"):
            self.labels.add(a["for"] or "")
        if tag in ("input", "select", "textarea") and a.get("type") not in ("hidden", "submit"):
            (self.ids.append(a["id"] or "") if a.get("id") else self.unlabelled.append(str(a)))
        if tag == "td":
            self.cells.append(a)
        if tag == "th":
            self.headers.append(a)


def test_every_field_is_labelled_and_every_table_cell_names_its_column(site: Site) -> None:
    code, urls = _pages(site)
    planning.set_cba(
        site.engine,
        code,
        [YearFlow(2026, Decimal(100), Decimal(0))],
        actor=SPECIALIST,
        now=site.now,
    )
    client = site.signed_in(SPECIALIST)
    for url in urls:
        parser = _Fields()
        parser.feed(client.get(url).text)
        assert not parser.unlabelled, url
        assert set(parser.ids) <= parser.labels, (url, set(parser.ids) - parser.labels)
        assert all(c.get("data-label") for c in parser.cells), url
        assert all(h.get("scope") == "col" for h in parser.headers), url


def test_the_details_form_is_prefilled_with_date_inputs(site: Site) -> None:
    code = site.project()
    client = site.signed_in(SPECIALIST)
    post(
        client,
        f"/projects/{code}/details",
        _details_form(site, code, budget="1200,5", date_call_deadline="2026-03-31"),
        f"/projects/{code}/details",
    )

    page = client.get(f"/projects/{code}/details").text

    assert (
        'type="date" id="d-date-call_deadline" name="date_call_deadline" value="2026-03-31"' in page
    )
    assert 'value="1200.50"' in page


# -- project details --------------------------------------------------------------------------


def test_editing_details_saves_and_says_what_changed(site: Site) -> None:
    code = site.project()
    client = site.signed_in(SPECIALIST)
    form = _details_form(
        site,
        code,
        title="Jauns jumts",
        budget="125 000,00",
        funding_instrument="erdf",
        partners="Ogres novads\nBiedrība",
        date_call_deadline="2026-03-31",
    )

    page = post(client, f"/projects/{code}/details", form, f"/projects/{code}/details")

    assert flashes(page) == [
        "Projekta dati saglabāti; mainīts: nosaukums, budžets, finansējuma instruments, "
        "partneri, projekta datumi."
    ]
    p = site.engine.project(code, actor=SPECIALIST)
    assert (p.title, str(p.budget_amount), p.funding_instrument) == (
        "Jauns jumts",
        "125000.00",
        "erdf",
    )
    assert p.partners == ["Ogres novads", "Biedrība"]
    assert p.dates == {"call_deadline": "2026-03-31"}


@pytest.mark.parametrize(
    ("changes", "said"),
    [
        ({}, "jau ir tieši tādi; nekas netika mainīts"),
        ({"title": " "}, "Projektam vajag nosaukumu."),
        ({"budget": "-5"}, "nav derīga naudas summa"),
        ({"date_call_deadline": "31.03.2026"}, "nav datums"),
        ({"version": "1", "title": "Cits"}, "Projekts ir mainījies, kopš jūs to atvērāt"),
        ({"title": "Cits", "who": MANAGER}, "nevar to darīt projektā"),  # not on the stage
    ],
)
def test_a_refused_details_edit_is_a_latvian_message_and_changes_nothing(
    site: Site, changes: dict[str, str], said: str
) -> None:
    code = site.project()
    site.engine.comment(code, "Sākam", actor=SPECIALIST, now=site.now)  # version 2
    changes = dict(changes)
    client = site.signed_in(changes.pop("who", SPECIALIST))
    before = site.snapshot(code)

    page = post(
        client,
        f"/projects/{code}/details",
        _details_form(site, code, **changes),
        f"/projects/{code}/details",
    )

    assert any(said in f for f in flashes(page)), flashes(page)
    assert site.snapshot(code) == before


# -- risks ------------------------------------------------------------------------------------


def _risk_form(site: Site, code: str, **fields: str) -> dict[str, str]:
    blank = {"likelihood": "", "impact": "", "status": "open", "owner": "", "mitigation": ""}
    return {"version": str(site.version(code)), **blank, **fields}


def test_a_risk_is_added_and_updated_with_an_owner_from_the_list(site: Site) -> None:
    code = site.project()
    client = site.signed_in(SPECIALIST)
    page = client.get(f"/projects/{code}/risks").text
    owners = re.search(r'<select id="n-owner" name="owner">(.*?)</select>', page, re.S)
    assert owners and f'value="{MANAGER}"' in owners.group(1)
    assert f'value="{OTHER_SPECIALIST}"' not in owners.group(1)  # cannot see the project

    form = _risk_form(
        site, code, title="Izmaksas pieaug", likelihood="4", impact="5", owner=MANAGER
    )
    added = post(client, f"/projects/{code}/risks", form, f"/projects/{code}/risks")
    assert flashes(added) == ["Risks R1 pievienots."]
    assert "kritisks" in added and "atvērts" in added

    form = _risk_form(site, code, likelihood="2", impact="5", status="mitigating",
                      owner=SPECIALIST, mitigation="Rezerve 10 %")  # fmt: skip
    updated = post(client, f"/projects/{code}/risks/R1", form, f"/projects/{code}/risks")
    assert flashes(updated) == ["Risks R1 saglabāts."]
    [risk] = planning.list_risks(site.engine, code, actor=SPECIALIST)
    assert (risk.likelihood, risk.status, risk.owner) == (2, "mitigating", SPECIALIST)
    assert risk.mitigation == "Rezerve 10 %"
    assert "tiek mazināts" in updated


@pytest.mark.parametrize(
    ("url", "form", "said"),
    [
        ("risks", {"title": "X", "likelihood": "9", "status": "open"}, "nav skaitlis no 1 līdz 5"),
        ("risks/R1", {"likelihood": "3", "impact": "3", "status": "open"}, "jau ir tieši tāds"),
        ("risks/R7", {"likelihood": "3", "status": "open"}, "nav riska R7"),
        (
            "risks/R1",
            {"version": "1", "likelihood": "1", "status": "open"},
            "Projekts ir mainījies",
        ),
    ],
)
def test_a_refused_risk_form_changes_nothing(
    site: Site, url: str, form: dict[str, str], said: str | None
) -> None:
    code = site.project()
    planning.add_risk(
        site.engine, code, title="Izmaksas", likelihood=3, impact=3, actor=SPECIALIST, now=site.now
    )
    client = site.signed_in(SPECIALIST)
    before = site.snapshot(code)
    data = {"version": str(site.version(code)), "owner": "", "mitigation": "", **form}

    answer = client.post(
        f"/projects/{code}/{url}",
        data={**data, "csrf": csrf_of(client.get(f"/projects/{code}/risks").text)},
    )

    if said is None:  # an unknown risk is not there
        assert answer.status_code == 404
    else:
        page = html.unescape(client.get(answer.headers["location"]).text)
        assert any(said in f for f in flashes(page)), flashes(page)
    assert site.snapshot(code) == before


# -- cost-benefit analysis --------------------------------------------------------------------


def _cba_form(site: Site, code: str, table: list[tuple[str, str, str]], **extra: str) -> Any:
    years, costs, benefits = ([r[i] for r in table] for i in range(3))
    return {
        "version": str(site.version(code)), "year": years, "cost": costs, "benefit": benefits,
        "rate": "4", "currency": "EUR", **extra,
    }  # fmt: skip


def test_the_cost_benefit_analysis_is_set_from_the_year_table(site: Site) -> None:
    code = site.project()
    client = site.signed_in(SPECIALIST)
    rows = [
        ("2026", "100 000,00", "0"),
        ("2027", "", "60000"),
        ("", "", ""),
        ("2028", "0", "60 000"),
    ]

    page = post(
        client,
        f"/projects/{code}/cba",
        _cba_form(site, code, rows, rate="3,5"),
        f"/projects/{code}/cba",
    )

    assert flashes(page)[0].startswith("Izmaksu un ieguvumu analīze saglabāta")
    view = planning.show_cba(site.engine, code, actor=SPECIALIST)
    assert view is not None and [y.year for y in view.years] == [2026, 2027, 2028]
    assert str(view.discount_rate) == "0.035"
    assert "Neto pašreizējā vērtība" in page and "3,50 %" in page
    npv = f"{view.npv:,.2f}".replace(",", "\u00a0").replace(".", ",")
    assert npv in page, npv  # Latvian grouping and decimal comma
    assert 'value="2028"' in page  # the analysis comes back into the table


def test_more_rows_keep_what_was_typed_and_save_nothing(site: Site) -> None:
    code = site.project()
    client = site.signed_in(SPECIALIST)
    form = _cba_form(site, code, [("2026", "5", "0")], more="1", rows="4")
    before = site.snapshot(code)

    answer = client.post(
        f"/projects/{code}/cba",
        data={**form, "csrf": csrf_of(client.get(f"/projects/{code}/cba").text)},
    )

    assert answer.status_code == 200
    assert answer.text.count('name="year"') == 5 and 'value="2026"' in answer.text
    assert site.snapshot(code) == before


@pytest.mark.parametrize(
    ("rows", "extra", "said"),
    [
        ([("2026", "daudz", "0")], {}, "nav gads, izmaksas un ieguvumi"),
        ([("", "", "")], {}, "Norādiet katra gada izmaksas un ieguvumus."),
        ([("2026", "5", "0")], {"rate": "četri"}, "nav procentu skaitlis"),
        ([("2026", "5", "0")], {"rate": "400"}, "Lauka"),
        ([("2026", "5", "0")], {"version": "1"}, "Projekts ir mainījies"),
    ],
)
def test_a_refused_analysis_is_a_latvian_message_and_changes_nothing(
    site: Site, rows: list[tuple[str, str, str]], extra: dict[str, str], said: str
) -> None:
    code = site.project()
    site.engine.comment(code, "Sākam", actor=SPECIALIST, now=site.now)
    client = site.signed_in(SPECIALIST)
    before = site.snapshot(code)

    page = post(
        client,
        f"/projects/{code}/cba",
        _cba_form(site, code, rows, **extra),
        f"/projects/{code}/cba",
    )

    assert any(said in f for f in flashes(page)), flashes(page)
    assert site.snapshot(code) == before


# -- ideas ------------------------------------------------------------------------------------


def _idea_form(idea: Any, **changes: Any) -> dict[str, Any]:
    form = {
        "version": str(idea.version), "title": idea.title, "description": idea.description,
        "unit": idea.unit, "municipalities": "\n".join(idea.municipalities),
        "organisations": "\n".join(idea.organisations), "instruments": list(idea.instruments),
        "cost": "" if idea.cost is None else str(idea.cost), "currency": idea.currency,
        "priority": idea.priority, "tags": " ".join(idea.tags), "status": idea.status,
    }  # fmt: skip
    return {**form, **changes}


def test_an_idea_is_edited(site: Site) -> None:
    idea = ideas.create_idea(
        site.engine, title="Veloceliņš", unit="krapes_pagasts", actor=SPECIALIST, now=site.now
    )
    client = site.signed_in(SPECIALIST)
    url = f"/ideas/{idea.id}/edit"
    form = _idea_form(
        idea,
        title="Veloceliņš gar Ogri",
        cost="21 828,50",
        municipalities="Siguldas novads",
        instruments=["erdf", "interreg"],
        tags="velo tūrisms",
        status="open_for_partners",
    )

    page = post(client, url, form, url)

    assert flashes(page) == [f"Ideja #{idea.id} saglabāta."]
    now = ideas.get_idea(site.engine, idea.id, actor=SPECIALIST)
    assert (now.title, str(now.cost), now.status) == (
        "Veloceliņš gar Ogri",
        "21828.50",
        "open_for_partners",
    )
    assert (now.municipalities, now.instruments, now.tags) == (
        ["Siguldas novads"],
        ["erdf", "interreg"],
        ["velo", "tūrisms"],
    )


@pytest.mark.parametrize(
    ("who", "changes", "said"),
    [
        (SPECIALIST, {}, "jau ir tāda; nekas netika mainīts"),
        (SPECIALIST, {"cost": "daudz"}, "nav derīga naudas summa"),
        (
            SPECIALIST,
            {"version": "7", "title": "Cits"},
            "kopš jūs to atvērāt; nekas netika mainīts",
        ),
        (OTHER_SPECIALIST, {"title": "Cits"}, "nevar labot ideju"),
    ],
)
def test_a_refused_idea_edit_changes_nothing(
    site: Site, who: str, changes: dict[str, str], said: str
) -> None:
    idea = ideas.create_idea(
        site.engine, title="Veloceliņš", unit="krapes_pagasts", actor=SPECIALIST, now=site.now
    )
    client = site.signed_in(who)
    url = f"/ideas/{idea.id}/edit"

    page = post(client, url, _idea_form(idea, **changes), url)

    assert any(said in f for f in flashes(page)), flashes(page)
    assert ideas.get_idea(site.engine, idea.id, actor=SPECIALIST) == idea


# -- account ----------------------------------------------------------------------------------


def test_a_person_changes_their_own_password(site: Site) -> None:
    client = site.signed_in(SPECIALIST)
    new = "jauna-laba-parole"

    page = post(client, "/account", {"current": PASSWORD, "new": new, "again": new}, "/account")

    assert flashes(page) == ["Parole nomainīta. Pārējās jūsu sesijas ir beigtas."]
    assert client.get("/").status_code == 200  # this session goes on
    assert sign_in(site.client(), SPECIALIST, PASSWORD) == 401
    assert sign_in(site.client(), SPECIALIST, new) == 303


@pytest.mark.parametrize(
    ("form", "said"),
    [
        (
            {"current": "nepareiza", "new": "jauna-parole", "again": "jauna-parole"},
            "Pašreizējā parole nav pareiza",
        ),
        ({"current": PASSWORD, "new": "jauna-parole", "again": "cita-parole"}, "nesakrīt"),
        ({"current": PASSWORD, "new": "īsa", "again": "īsa"}, "vismaz 8 rakstzīmēm"),
    ],
)
def test_a_refused_password_change_keeps_the_old_password(
    site: Site, form: dict[str, str], said: str
) -> None:
    client = site.signed_in(SPECIALIST)

    page = post(client, "/account", form, "/account")

    assert any(said in f for f in flashes(page)), flashes(page)
    assert sign_in(site.client(), SPECIALIST, PASSWORD) == 303


def test_guessing_the_current_password_is_throttled(site: Site) -> None:
    client = site.signed_in(SPECIALIST)
    form = {"current": "nepareiza", "new": "jauna-parole", "again": "jauna-parole"}
    for _ in range(5):
        post(client, "/account", form, "/account")

    page = post(client, "/account", {**form, "current": PASSWORD}, "/account")

    assert any("Pārāk daudz" in f or "mēģinājumu" in f for f in flashes(page)), flashes(page)
    assert sign_in(site.client(), SPECIALIST, PASSWORD) == 401  # still the old one, throttled
