"""The financing plan and the forecast: hand-computed figures for a three-project
portfolio (one in lats, one with payments across years), refusals that change nothing,
a history that verifies, the Excel workbook, the CLI and the web page."""

from __future__ import annotations

import datetime as dt
import html
import io
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import COORDINATOR, T0
from test_web_tasks import SPECIALIST, Site, post, site  # noqa: F401  (the web fixture)

from engine import audit, financing
from engine.details import edit_details
from engine.forecast import GapRow, GroupRow, MoneyRow, forecast
from engine.service import Engine
from render.forecast import format_csv, workbook
from workflow.errors import UsageError
from workflow.financing import Quarter

D = Decimal
OTHER = "zane.roze"  # parish specialist of suntazu_pagasts


def _project(engine: Engine, unit: str, instrument: str | None) -> str:
    who = OTHER if unit == "suntazu_pagasts" else SPECIALIST
    code = engine.create_project(title="Tautas nams", unit=unit, actor=who, now=T0).code
    if instrument:
        edit_details(engine, code, {"funding_instrument": instrument}, actor=COORDINATOR, now=T0)
    return code


def _q(spec: str, kind: str, amount: str) -> Quarter:
    return Quarter(int(spec[:4]), int(spec[-1]), kind, D(amount))


def _portfolio(engine: Engine) -> tuple[str, str, str]:
    """A: ERDF, spent in 2026, reimbursed in 2027. B: Interreg in lats (2013–2014). C: ERDF
    with ineligible costs."""
    a = _project(engine, "krapes_pagasts", "erdf")
    financing.set_plan(
        engine,
        a,
        actor=COORDINATOR,
        now=T0,
        eligible=D("100000.00"),
        ineligible=D("0.00"),
        sources={"eu_fund": D("85000"), "state_budget": D("5000"), "municipality": D("10000")},
        quarters=[
            _q("2026Q1", "expenditure", "40000"),
            _q("2026Q4", "expenditure", "60000"),
            _q("2027Q1", "reimbursement", "54000"),
            _q("2027Q2", "reimbursement", "36000"),
        ],
    )
    b = _project(engine, "suntazu_pagasts", "interreg")
    financing.set_plan(  # 70 280,40 LVL = 100 000,00 EUR; 56 224,32 LVL = 80 000,00 EUR
        engine,
        b,
        actor=COORDINATOR,
        now=T0,
        currency="LVL",
        eligible=D("70280.40"),
        ineligible=D("0"),
        sources={"eu_fund": D("56224.32"), "municipality": D("14056.08")},
        quarters=[
            _q("2013Q3", "expenditure", "70280.40"),
            _q("2014Q1", "reimbursement", "56224.32"),
        ],
    )
    c = _project(engine, "krapes_pagasts", "erdf")
    financing.set_plan(
        engine,
        c,
        actor=COORDINATOR,
        now=T0,
        eligible=D("50000"),
        ineligible=D("2000"),
        sources={"eu_fund": D("42500"), "municipality": D("9500")},
        quarters=[_q("2026Q4", "expenditure", "52000"), _q("2027Q1", "reimbursement", "42500")],
    )
    return a, b, c


def _nonzero(rows: list[MoneyRow]) -> set[tuple[int, int | None, str, Decimal]]:
    return {(r.year, r.quarter, r.source, r.amount) for r in rows if r.amount}


def test_forecast_sums_match_hand_computed_figures(engine: Engine) -> None:
    _portfolio(engine)
    fc = forecast(engine, actor=COORDINATOR, now=T0)
    assert fc.years == list(range(2013, 2028))
    assert fc.sources == ["eu_fund", "state_budget", "municipality"]
    assert _nonzero(fc.by_year) == {
        (2013, None, "municipality", D("20000.00")),  # 20 % of B's 100 000 EUR
        (2014, None, "eu_fund", D("80000.00")),
        (2026, None, "municipality", D("19500.00")),  # 4 000 + 6 000 (A) + 9 500 (C)
        (2027, None, "eu_fund", D("127500.00")),  # 51 000 + 34 000 (A) + 42 500 (C)
        (2027, None, "state_budget", D("5000.00")),  # 3 000 + 2 000 (A)
    }
    assert len(fc.by_year) == 15 * 3 and len(fc.by_quarter) == 15 * 4 * 3
    assert _nonzero(fc.by_quarter) >= {
        (2026, 1, "municipality", D("4000.00")),
        (2026, 4, "municipality", D("15500.00")),
        (2027, 1, "eu_fund", D("93500.00")),
        (2027, 2, "state_budget", D("2000.00")),
    }
    erdf = {(g.year, g.municipality, g.reimbursement) for g in fc.by_instrument if g.key == "erdf"}
    assert (2026, D("19500.00"), D("0.00")) in erdf
    assert (2027, D("0.00"), D("132500.00")) in erdf
    assert GroupRow("interreg", fc.by_instrument[-1].name, 2014, D("0.00"), D("80000.00")) in (
        fc.by_instrument
    )
    units = {(g.key, g.year): (g.municipality, g.reimbursement) for g in fc.by_unit}
    assert units["krapes_pagasts", 2027] == (D("0.00"), D("132500.00"))
    assert units["suntazu_pagasts", 2013] == (D("20000.00"), D("0.00"))
    gap = {(g.year, g.quarter): g for g in fc.gap}
    assert gap[2013, 3] == GapRow(2013, 3, D("80000.00"), D("0.00"), D("80000.00"))
    assert gap[2014, 1].gap == 0
    assert gap[2026, 4] == GapRow(2026, 4, D("212500.00"), D("80000.00"), D("132500.00"))
    assert gap[2027, 1].gap == D("36000.00")
    assert gap[2027, 4] == GapRow(2027, 4, D("212500.00"), D("212500.00"), D("0.00"))
    assert fc.by_year == sorted(fc.by_year, key=lambda r: (r.year, r.source))
    # a unit narrows it; a parish specialist sees their own parish only
    mine = forecast(engine, actor=OTHER, now=T0)
    assert {g.key for g in mine.by_unit} == {"suntazu_pagasts"}
    assert forecast(engine, actor=COORDINATOR, now=T0, unit="krapes_pagasts").years[0] == 2026
    assert audit.verify(engine.db).ok


def test_refusals_change_nothing(engine: Engine) -> None:
    a, b, _ = _portfolio(engine)
    before = engine.project(a, actor=COORDINATOR).version
    with pytest.raises(UsageError) as caught:
        financing.set_plan(engine, a, actor=COORDINATOR, now=T0, sources={"eu_fund": D("85000")})
    assert caught.value.code == "financing.sources_mismatch"
    assert caught.value.params["difference"] == "-15000.00"
    with pytest.raises(UsageError) as caught:  # Interreg allows 80 %
        financing.set_plan(
            engine,
            b,
            actor=COORDINATOR,
            now=T0,
            sources={"eu_fund": D("63252.36"), "municipality": D("7028.04")},
        )
    assert caught.value.code == "financing.intensity_exceeded"
    assert caught.value.params["intensity"] == "90.00"
    with pytest.raises(UsageError) as caught:
        financing.record_request(
            engine,
            a,
            actor=COORDINATOR,
            now=T0,
            submitted_amount=D("1000"),
            submitted_on=dt.date(2026, 5, 1),
            approved_amount=D("2000"),
            approved_on=dt.date(2026, 6, 1),
        )
    assert caught.value.code == "financing.request_exceeds"
    assert engine.project(a, actor=COORDINATOR).version == before
    view = financing.show(engine, a, actor=COORDINATOR)
    assert view.intensity == D("90.00") and not view.requests
    assert [s.source for s in view.sources] == ["eu_fund", "state_budget", "municipality"]


def test_payment_requests_are_numbered_and_corrected(engine: Engine) -> None:
    a, _, _ = _portfolio(engine)
    first = financing.record_request(
        engine, a, actor=COORDINATOR, now=T0, submitted_amount=D("36000"),
        submitted_on=dt.date(2026, 4, 10),
    )  # fmt: skip
    assert first.data["request"] == 1
    financing.record_request(
        engine, a, actor=COORDINATOR, now=T0, number=1, submitted_amount=D("36000"),
        submitted_on=dt.date(2026, 4, 10), approved_amount=D("35000"),
        approved_on=dt.date(2026, 5, 2), received_amount=D("35000"),
        received_on=dt.date(2026, 6, 1),
    )  # fmt: skip
    (r,) = financing.show(engine, a, actor=COORDINATOR).requests
    assert (r.number, r.received_amount, r.received_on) == (1, D("35000.00"), dt.date(2026, 6, 1))
    assert audit.verify(engine.db).ok


def test_excel_and_csv_hold_the_same_figures(engine: Engine) -> None:
    from openpyxl import load_workbook  # type: ignore[import-untyped]

    _portfolio(engine)
    fc = forecast(engine, actor=COORDINATOR, now=T0)
    book = load_workbook(io.BytesIO(workbook(fc, "lv")))
    assert book.sheetnames == [
        "Pa gadiem",
        "Pa ceturkšņiem",
        "Pa finanšu instrumentiem",
        "Pa struktūrvienībām",
        "Naudas plūsmas iztrūkums",
    ]
    years = list(book["Pa gadiem"].iter_rows(values_only=True))
    assert years[0] == ("Gads", "Avots", "Summa")
    assert (2027, "ES fonds", 127500) in years
    assert "€" in book["Pa gadiem"]["C2"].number_format
    gap = list(book["Naudas plūsmas iztrūkums"].iter_rows(values_only=True))
    assert (2026, 4, 212500, 80000, 132500) in gap
    assert "by_year,2027,,eu_fund,EU fund,eu_fund,127500.00" in format_csv(fc, "en")


def test_cli_sets_shows_and_forecasts(engine: Engine, tmp_path: Path) -> None:
    from cli import main

    code = _project(engine, "krapes_pagasts", "erdf")
    base = ["--db", engine.db.url, "--as", COORDINATOR]
    runner = CliRunner()
    said = runner.invoke(
        main,
        [*base, "project", "financing", "set", code, "--eligible", "1000", "--source",
         "eu_fund=850", "--source", "municipality=150", "--quarter", "2026Q2:expenditure=1000",
         "--quarter", "2026Q4:reimbursement=850"],
    )  # fmt: skip
    assert said.exit_code == 0, said.output
    wrong = runner.invoke(
        main, [*base, "project", "financing", "set", code, "--source", "eu_fund=900"]
    )
    assert wrong.exit_code == 2 and "short by 100.00" in wrong.output
    shown = runner.invoke(main, [*base, "--lang", "en", "project", "financing", "show", code])
    assert "Aid intensity: 85.00 %" in shown.output, shown.output
    added = runner.invoke(
        main,
        [*base, "project", "payment-request", "add", code, "--submitted", "850",
         "--submitted-on", "2026-07-01"],
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    out = str(tmp_path / "f.xlsx")
    made = runner.invoke(main, [*base, "report", "forecast", "--format", "xlsx", "-o", out])
    assert made.exit_code == 0, made.output
    table = runner.invoke(main, [*base, "report", "forecast"])
    assert "Pašvaldības līdzfinansējums" in table.output


@pytest.mark.parametrize("lang", ["lv", "en"])
def test_web_page_renders_and_posts(site: Site, lang: str) -> None:  # noqa: F811
    code = site.project()
    client = site.signed_in(COORDINATOR)
    client.cookies.set("lang", lang)
    url = f"/projects/{code}/financing"
    page = client.get(url + f"?lang={lang}")
    assert page.status_code == 200
    title = "Finansēšanas plāns" if lang == "lv" else "Financing plan"
    assert title in html.unescape(page.text) and 'data-label="' in page.text
    form = {
        "form": "plan",
        "version": str(site.version(code)),
        "eligible": "1000",
        "ineligible": "",
    }
    form |= {"source_eu_fund": "850", "source_municipality": "150"}
    said = post(client, url, form, url)
    assert "850" in said
    rows: dict[str, object] = {"form": "quarters", "version": str(site.version(code))}
    rows |= {"year": ["2026", ""], "quarter": ["3", ""], "spend": ["1000", ""], "back": ["", ""]}
    post(client, url, rows, url)
    view = financing.show(site.engine, code, actor=COORDINATOR)
    assert view.intensity == D("85.00")
    assert [(q.year, q.quarter, q.expenditure) for q in view.quarters] == [(2026, 3, D("1000.00"))]
    form = {"form": "request", "version": str(site.version(code)), "submitted": "500"}
    form |= {"submitted_on": "2026-09-30"}
    post(client, url, form, url)
    assert financing.show(site.engine, code, actor=COORDINATOR).requests[0].number == 1
    download = client.get("/report/forecast.xlsx")
    assert download.status_code == 200 and download.content[:2] == b"PK"
    assert client.get("/report/forecast.csv").status_code == 200
