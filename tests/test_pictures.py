"""The portfolio in pictures: the SVG charts (they parse, carry a title and a description,
and the timeline places each stage from history on its dates), the page with them and
their tables, the printable PDF (its first page rendered by pdftoppm), `shema report
pdf`, and screenshots of the page at two widths."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import sys
import types
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import COORDINATOR, T0, copy_sqlite
from starlette.testclient import TestClient

import cli
from engine import accounts
from engine.portfolio import Lane, Visit, path_ahead, pictures
from engine.service import Engine
from render import charts, formats
from storage.database import Database
from web.app import create_app

LIGA = "liga.ozolina"  # parish_specialist, Krapes pagasts
JANIS = "janis.ozols"  # project_manager (central)
PASSWORD = "pareiza-parole"
SVG = "{http://www.w3.org/2000/svg}"
DAY = dt.timedelta(days=1)
HOUR = dt.timedelta(hours=1)
SUBMITTED = T0 + 2 * DAY
ACKNOWLEDGED = SUBMITTED + 3 * HOUR
PROPOSED = T0 + 6 * DAY
NOW = T0 + 9 * DAY
MONEY = [
    (2026, "ES fonds", Decimal("120000.00")),
    (2026, "Pašvaldība", Decimal("30000.50")),
    (2027, "ES fonds", Decimal("80000.00")),
]


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def walk(engine: Engine, title: str = "Krapes tautas nama jumts") -> str:
    """A project created at T0, submitted, acknowledged 3 hours later by the central
    side and proposed for the investment plan: idea → pre_assessment → investment_plan."""
    code = engine.create_project(title=title, unit="krapes_pagasts", actor=LIGA, now=T0).code
    for item in ("problem_statement", "estimated_cost"):
        engine.check(code, item, actor=LIGA, now=T0 + DAY)
    engine.advance(code, "submit_idea", actor=LIGA, now=SUBMITTED)
    engine.acknowledge(code, actor=JANIS, now=ACKNOWLEDGED)
    for item in ("programme_fit", "funding_instrument"):
        engine.check(code, item, actor=JANIS, now=PROPOSED - HOUR)
    engine.advance(code, "propose_for_plan", actor=JANIS, now=PROPOSED)
    return code


@pytest.fixture
def site(tmp_path: Path, prepared_sqlite: Path) -> Iterator[tuple[str, Engine, Clock]]:
    copy_sqlite(prepared_sqlite, tmp_path / "web.db")
    url = f"sqlite:///{tmp_path / 'web.db'}"
    db = Database(url)
    engine = Engine(db)
    accounts.store_hash(engine, [COORDINATOR, LIGA], accounts.hash_password(PASSWORD))
    yield url, engine, Clock(NOW)
    db.dispose()


def signed_in(url: str, clock: Clock, person: str = COORDINATOR) -> TestClient:
    client = TestClient(create_app(url, clock=clock), follow_redirects=False)
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)
    assert token
    form = {"person": person, "password": PASSWORD, "csrf": token.group(1)}
    assert client.post("/login", data=form).status_code == 303
    return client


def parsed(markup: str) -> ET.Element:
    """The chart parsed as XML; its role, accessible name and description checked."""
    root = ET.fromstring(markup)
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    ids = (root.get("aria-labelledby") or "").split()
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title is not None and desc is not None
    assert ids == [title.get("id"), desc.get("id")]
    assert (title.text or "").strip() and (desc.text or "").strip()
    return root


def every_chart(engine: Engine, lang: str) -> dict[str, str]:
    p = pictures(engine, actor=COORDINATOR, now=NOW, lang=lang)
    return {
        "timeline": charts.timeline(p.lanes, NOW, lang, running=p.running),
        "stages": charts.stages(p.stages, lang),
        "times": charts.times(p.stages, p.handoffs, lang, sampled=len(p.lanes)),
        "money": charts.money(MONEY, lang),
    }


# -- the charts -----------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["lv", "en"])
def test_every_chart_parses_with_a_title_and_a_description(
    sqlite_engine: Engine, lang: str
) -> None:
    walk(sqlite_engine)
    sqlite_engine.create_project(title="Ideja", unit="krapes_pagasts", actor=LIGA, now=T0)
    drawn = every_chart(sqlite_engine, lang)
    titles = {name: parsed(svg).findtext(f"{SVG}title") for name, svg in drawn.items()}
    expected = {
        "lv": "Projektu laika grafiks",
        "en": "Project timeline",
    }
    assert titles["timeline"] == expected[lang]
    assert len(set(titles.values())) == 4
    assert "<script" not in "".join(drawn.values())


def test_the_charts_of_nothing_still_parse_and_say_so(sqlite_engine: Engine) -> None:
    drawn = every_chart(sqlite_engine, "lv") | {"money": charts.money([], "lv")}
    for svg in drawn.values():
        assert "Datu nav." in ET.tostring(parsed(svg), encoding="unicode")


def test_the_timeline_places_each_stage_from_history_on_its_dates(sqlite_engine: Engine) -> None:
    code = walk(sqlite_engine)
    p = pictures(sqlite_engine, actor=COORDINATOR, now=NOW)
    (lane,) = [ln for ln in p.lanes if ln.code == code]
    assert [(v.stage, v.start, v.end) for v in lane.visits] == [
        ("idea", T0, SUBMITTED),
        ("pre_assessment", SUBMITTED, PROPOSED),
        ("investment_plan", PROPOSED, None),
    ]
    root = parsed(charts.timeline(p.lanes, NOW, "lv", running=p.running))
    scale = charts.timeline_scale(p.lanes, NOW)
    group = root.find(f".//{SVG}g[@data-code='{code}']")
    assert group is not None
    bars = [r for r in group.iter(f"{SVG}rect") if "visit" in (r.get("class") or "")]
    spans = [
        ("idea", T0, SUBMITTED),
        ("pre_assessment", SUBMITTED, PROPOSED),
        ("investment_plan", PROPOSED, NOW),
    ]
    for bar, (stage, start, end) in zip(bars, spans, strict=True):
        x, width = float(bar.get("x") or 0), float(bar.get("width") or 0)
        assert bar.get("data-stage") == stage
        assert x == pytest.approx(scale.x(start), abs=0.06)
        assert x + width == pytest.approx(scale.x(end), abs=0.12)
        tip = bar.findtext(f"{SVG}title") or ""
        assert formats.day(start.date(), "lv") in tip
    assert "current" in (bars[-1].get("class") or "")
    assert (bars[-1].findtext(f"{SVG}title") or "").endswith("šodien")
    assert bars[0].findtext(f"{SVG}title") == "Ideja: 02.02.2026. – 04.02.2026."


def test_the_timeline_scale_is_linear_in_time() -> None:
    start, end = T0, T0 + 10 * DAY
    scale = charts.TimeScale(start, end, 100, 1100)
    assert scale.x(T0 + 5 * DAY) == pytest.approx(600)
    assert scale.x(T0 - 3 * DAY) == 100  # clipped to the chart
    lane = Lane("X-1", "x", "idea", "Ideja", None, False, [Visit("idea", "Ideja", T0, None)])
    wide = charts.timeline_scale([lane], T0 + 30 * DAY)
    assert wide.start < T0 and wide.end > T0 + 30 * DAY


def test_the_current_stage_shows_its_deadline_and_the_planned_stages_follow(
    sqlite_engine: Engine,
) -> None:
    code = walk(sqlite_engine)
    p = pictures(sqlite_engine, actor=COORDINATOR, now=NOW)
    (lane,) = [ln for ln in p.lanes if ln.code == code]
    with sqlite_engine.db.read() as conn:
        cs = sqlite_engine.latest_scheme(conn)
        cal = sqlite_engine.calendar(sqlite_engine.org_index(conn))
    prepared = cal.due(PROPOSED, cs.scheme.stages["investment_plan"].deadline)  # type: ignore[arg-type]
    due = sqlite_engine.project(code, actor=COORDINATOR, now=NOW).due_at  # the council's meeting
    assert due is not None and due >= prepared  # decided at the first meeting after
    assert lane.due_at == due and not lane.overdue
    assert [s.stage for s in lane.planned] == path_ahead(cs, "investment_plan")
    first, second = lane.planned[0], lane.planned[1]
    assert (first.stage, second.stage) == ("application", "cofinancing")
    assert first.start == cal.local_date(due)
    assert first.end == cal.add_working_days(first.start, 30) and first.deadline == "30 d.d."
    assert second.start == first.end
    root = parsed(charts.timeline(p.lanes, NOW, "lv", running=p.running))
    marks = root.findall(f".//{SVG}g[@data-code='{code}']/{SVG}path[@class='deadline']")
    assert [m.get("data-due") for m in marks] == [due.isoformat()]


def test_the_path_ahead_follows_the_forward_actions_and_skips_ends(sqlite_engine: Engine) -> None:
    with sqlite_engine.db.read() as conn:
        cs = sqlite_engine.latest_scheme(conn)
    path = path_ahead(cs, "implementation")
    assert path[:3] == ["payment_request", "closure", "monitoring"]
    assert not any(cs.scheme.stages[s].terminal for s in path_ahead(cs, "idea"))


def test_overdue_projects_are_marked_in_words_and_hatching(sqlite_engine: Engine) -> None:
    sqlite_engine.create_project(title="Vēlu", unit="krapes_pagasts", actor=LIGA, now=T0)
    p = pictures(sqlite_engine, actor=COORDINATOR, now=NOW)  # idea's 5 days have passed
    (row,) = [s for s in p.stages if s.key == "idea"]
    assert (row.projects, row.overdue) == (1, 1)
    root = parsed(charts.stages(p.stages, "lv"))
    late = root.findall(f".//{SVG}rect[@class='overdue']")
    assert [r.get("data-stage") for r in late] == ["idea"]
    assert "nokavēti: 1" in ET.tostring(root, encoding="unicode")


def test_handoff_waits_come_from_the_acknowledged_events(sqlite_engine: Engine) -> None:
    walk(sqlite_engine)
    p = pictures(sqlite_engine, actor=COORDINATOR, now=NOW)
    (wait,) = p.handoffs
    assert (wait.to_level, wait.count, wait.avg_days) == ("central", 1, 0.12)  # 3 hours
    text = ET.tostring(parsed(charts.times(p.stages, p.handoffs, "lv", sampled=1)), "unicode")
    assert "Nodošana centram (pagasts → centrs)" in text


def test_money_is_stacked_per_year_by_source_from_plain_rows() -> None:
    root = parsed(charts.money(MONEY, "lv"))
    bars = [(r.get("data-year"), r.get("data-source")) for r in root.iter(f"{SVG}rect")]
    assert [b for b in bars if b[0]] == [
        ("2026", "ES fonds"),
        ("2026", "Pašvaldība"),
        ("2027", "ES fonds"),
    ]
    text = ET.tostring(root, encoding="unicode")
    assert formats.money(Decimal("150000.50"), "EUR", "lv") in text
    years, sources, sums = charts.money_table(MONEY)
    assert years == [2026, 2027] and sources == ["ES fonds", "Pašvaldība"]
    assert sums[(2026, "Pašvaldība")] == Decimal("30000.50")


def test_the_page_is_bounded_to_a_page_of_projects(sqlite_engine: Engine) -> None:
    for i in range(4):
        sqlite_engine.create_project(title=f"P{i}", unit="krapes_pagasts", actor=LIGA, now=T0)
    p = pictures(sqlite_engine, actor=COORDINATOR, now=NOW, limit=3)
    assert (len(p.lanes), p.running) == (3, 4)


# -- the page, the PDF and the command ------------------------------------------------------


def test_the_page_shows_four_charts_inline_with_their_tables(
    site: tuple[str, Engine, Clock],
) -> None:
    url, engine, clock = site
    code = walk(engine, title="<script>alert(1)</script> jumts")
    client = signed_in(url, clock)
    assert 'href="/report/pictures"' in client.get("/report").text
    page = client.get("/report/pictures")
    assert page.status_code == 200
    html = page.text
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg" role="img"') >= 3
    assert html.count("<details>") >= 3 and "Skaitļi tabulā" in html
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert code in html and 'href="/report.pdf"' in html
    english = client.get("/report/pictures?lang=en").text
    assert "Project timeline" in english and "Time in stages and at handoffs" in english


def test_the_money_chart_takes_the_forecast_when_there_is_one(
    site: tuple[str, Engine, Clock], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _, clock = site
    row = types.SimpleNamespace
    stub = types.ModuleType("engine.forecast")
    stub.forecast = lambda engine, *, actor, now, unit=None, lang="lv": row(  # type: ignore[attr-defined]
        years=[2026, 2027],
        by_year=[
            row(year=2026, quarter=None, source="eu_fund", amount=Decimal("1000.00")),
            row(year=2027, quarter=None, source="municipality", amount=Decimal("250.00")),
        ],
    )
    monkeypatch.setitem(sys.modules, "engine.forecast", stub)
    html = signed_in(url, clock).get("/report/pictures").text
    assert 'id="chart-money"' in html and 'data-year="2027"' in html


def pdftoppm() -> str:
    found = shutil.which("pdftoppm")
    if found is None:  # pragma: no cover - depends on the machine
        reason = "pdftoppm is missing: apt-get install -y poppler-utils"
        if os.environ.get("CI") == "true":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    return found


def first_page_png(pdf: bytes, tmp_path: Path) -> Path:
    (tmp_path / "report.pdf").write_bytes(pdf)
    subprocess.run(
        [pdftoppm(), "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile",
         str(tmp_path / "report.pdf"), str(tmp_path / "page")],
        check=True, timeout=120,
    )  # fmt: skip
    png = tmp_path / "page.png"
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    return png


def test_the_pdf_renders_and_its_first_page_becomes_a_png(
    site: tuple[str, Engine, Clock], tmp_path: Path
) -> None:
    url, engine, clock = site
    walk(engine)
    answer = signed_in(url, clock).get("/report.pdf")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.content.startswith(b"%PDF-")
    first_page_png(answer.content, tmp_path)
    pages = subprocess.run(
        ["pdfinfo", str(tmp_path / "report.pdf")], capture_output=True, text=True, check=False
    )
    if pages.returncode == 0:
        assert int(re.search(r"Pages:\s+(\d+)", pages.stdout).group(1)) >= 2  # type: ignore[union-attr]


def test_shema_report_pdf_writes_the_file(site: tuple[str, Engine, Clock], tmp_path: Path) -> None:
    url, engine, _ = site
    walk(engine)
    out = tmp_path / "portfelis.pdf"
    runner = CliRunner()
    base = ["--db", url, "--as", COORDINATOR]
    done = runner.invoke(cli.main, [*base, "report", "pdf", "-o", str(out)])
    assert done.exit_code == 0, done.output
    assert out.read_bytes().startswith(b"%PDF-")
    first_page_png(out.read_bytes(), tmp_path)
    bare = runner.invoke(cli.main, [*base, "report", "--format", "json"])  # still the report
    assert bare.exit_code == 0 and '"by_stage"' in bare.output


# -- in a browser ---------------------------------------------------------------------------


@pytest.mark.parametrize("width", [1366, 768])
def test_screenshots_of_the_page(site: tuple[str, Engine, Clock], width: int) -> None:
    from browsers import CHROMIUM, CHROMIUM_HINT, chromium, require, serve, shot

    require((CHROMIUM, CHROMIUM_HINT))
    url, engine, clock = site
    walk(engine)
    engine.create_project(title="Vēlā ideja", unit="krapes_pagasts", actor=LIGA, now=T0)
    app = create_app(url, clock=clock)
    with serve(app) as base, chromium() as browser:
        page = browser.new_page(viewport={"width": width, "height": 900})
        page.goto(f"{base}/login")
        page.fill("#person", COORDINATOR)
        page.fill("#password", PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url(f"{base}/")
        page.goto(f"{base}/report/pictures")
        assert page.locator("svg[role=img]").count() >= 3
        figure = page.locator("#chart-timeline").bounding_box()
        assert figure is not None and figure["width"] <= width
        scroll = page.evaluate("document.documentElement.scrollWidth")
        assert scroll <= width, "the page scrolls sideways"
        assert shot(page, f"pictures-{width}").stat().st_size > 0
