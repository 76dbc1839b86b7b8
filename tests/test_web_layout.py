"""The pages' layout in a real browser: on a 390 px phone, a 768 px tablet and a 1366 px
screen no page scrolls sideways, wide tables turn into labelled cards, every remaining
scroll container can be reached by keyboard, and a focused field or link shows a ring
that stands out 3:1 from the page. One uvicorn server and one Chromium serve the whole
module; every page is saved as tests/artifacts/layout-<page>-<width>.png.

The base template's count badge and the layout catalogue are checked without a browser.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from browsers import CHROMIUM, CHROMIUM_HINT, chromium, require, serve, shot
from conftest import COORDINATOR, shipped_text

from engine import accounts
from engine.ideas.writing import create_idea
from engine.loading import load_org, load_scheme
from engine.service import Engine
from render.catalogue import read, words
from storage.database import Database
from storage.migrate import upgrade
from web.app import create_app, templates

PASSWORD = "parole-izkartojumam"
NOW = dt.datetime(2026, 3, 10, 8, 0, tzinfo=dt.UTC)  # the app's clock stands still here
WIDTHS = (390, 768, 1366)
LIGA = "liga.ozolina"
TITLES = [
    "Krapes tautas nama jumta atjaunošana un energoefektivitātes paaugstināšana",
    "Krapes bibliotēkas logu nomaiņa",
    "Krapes pagasta ceļu apgaismojums",
]
# Signed in as whom, and where (the project page's code is filled in by the fixture).
PAGES = {
    "mine": (LIGA, "/"),
    "projects": (LIGA, "/projects"),
    "project": (LIGA, "/projects/{code}"),
    "ideas": (LIGA, "/ideas"),
    "report": (LIGA, "/report"),
    "coordinator": (COORDINATOR, "/coordinator"),
    "login": (None, "/login"),
}
BAD_SCHEME = b"""scheme: broken
title: {lv: Salauzta shema, en: Broken scheme}
stages:
  idea: {title: {lv: Ideja}, next: [nowhere_at_all_with_a_long_stage_name_that_goes_on]}
"""

require((CHROMIUM, CHROMIUM_HINT))


@dataclass
class Site:
    """The served app: its address, a project's code, and one page per signed-in person."""

    base: str
    code: str
    browser: Any = None
    pages: dict[str | None, Any] = field(default_factory=dict)

    def page(self, person: str | None) -> Any:
        """A browser page signed in as `person` (None: signed out), reused across tests."""
        if person not in self.pages:
            context = self.browser.new_context(viewport={"width": 390, "height": 844})
            page = context.new_page()
            if person is not None:
                page.goto(f"{self.base}/login")
                page.locator("#person").fill(person)
                page.locator("#password").fill(PASSWORD)
                page.locator("form[action='/login'] button").click()
                page.wait_for_url(f"{self.base}/")
            self.pages[person] = page
        return self.pages[person]


def _prepare(url: str) -> str:
    """Migrate, load the shipped organisation and scheme, set passwords, and create a few
    projects and ideas in Krape parish so the tables have rows; returns one project code."""
    db = Database(url)
    upgrade(db)
    engine = Engine(db)
    then = NOW - dt.timedelta(days=20)
    load_org(engine, shipped_text("ogre.yaml"), "ogre.yaml", actor=COORDINATOR, now=then)
    load_scheme(engine, shipped_text("unified.yaml"), "unified.yaml", actor=COORDINATOR, now=then)
    accounts.store_hash(engine, [LIGA, COORDINATOR], accounts.hash_password(PASSWORD))
    codes = [
        engine.create_project(
            title=title, unit="krapes_pagasts", actor=LIGA, now=then + dt.timedelta(days=i * 6)
        ).code
        for i, title in enumerate(TITLES)
    ]
    for title in ("Velomaršruts Krape–Madliena–Sigulda", "Senioru dienas centrs"):
        create_idea(
            engine,
            title=title,
            unit="krapes_pagasts",
            actor=LIGA,
            now=then,
            description="Kopīgs projekts ar kaimiņu novadiem un biedrībām.",
            municipalities=["Siguldas novads", "Madonas novads"],
            cost=Decimal("180000"),
        )
    db.dispose()
    return codes[0]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The app over a prepared SQLite database, served by uvicorn in a thread on a socket
    that already listens, so the first request simply waits for the server to accept."""
    url = f"sqlite:///{tmp_path_factory.mktemp('layout') / 'layout.db'}"
    code = _prepare(url)
    with serve(create_app(url, clock=lambda: NOW)) as base:
        yield Site(base, code)


@pytest.fixture(scope="module")
def browser(site: Site) -> Iterator[Site]:
    """One Chromium for the module; `site` with it attached (closed before the server)."""
    with chromium() as launched:
        site.browser = launched
        yield site
    site.pages.clear()


# What the page's own layout reports; run in the browser.
LAYOUT = """() => {
  const all = [...document.querySelectorAll("body *")];
  const wide = all.filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
    .map(e => e.outerHTML.slice(0, 80));
  const emptyHeaders = [...document.querySelectorAll("th")]
    .filter(th => !th.textContent.trim()).length;
  const unlabelled = [];
  for (const table of document.querySelectorAll("table.stacked")) {
    const heads = [...table.querySelectorAll("thead th")].map(th => th.textContent.trim());
    for (const row of table.querySelectorAll("tbody tr")) {
      [...row.children].forEach((td, i) => {
        if (td.dataset.label !== heads[i]) unlabelled.push(`${heads[i]} / ${td.dataset.label}`);
      });
    }
  }
  const reachable = e =>
    e.tabIndex >= 0 && e.getAttribute("role") === "region" && e.getAttribute("aria-label");
  const scrollers = all.filter(e => {
    const s = getComputedStyle(e);
    return ["auto", "scroll"].includes(s.overflowX) && e.scrollWidth > e.clientWidth;
  }).filter(e => !reachable(e)).map(e => e.outerHTML.slice(0, 80));
  return {scroll: document.documentElement.scrollWidth, inner: window.innerWidth,
          wide: wide.slice(0, 5), emptyHeaders, unlabelled: unlabelled.slice(0, 5), scrollers};
}"""


def _open(site: Site, name: str, width: int) -> Any:
    person, path = PAGES[name]
    page = site.page(person)
    page.set_viewport_size({"width": width, "height": 844})
    page.goto(site.base + path.format(code=site.code))
    return page


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", list(PAGES))
def test_no_page_scrolls_sideways_and_tables_are_labelled(
    browser: Site, name: str, width: int
) -> None:
    page = _open(browser, name, width)
    seen = page.evaluate(LAYOUT)
    shot(page, f"layout-{name}-{width}")
    assert seen["scroll"] <= seen["inner"], f"{name} at {width} px scrolls sideways: {seen}"
    assert seen["emptyHeaders"] == 0
    assert seen["unlabelled"] == [], "a stacked table's cell lacks its column's data-label"
    assert seen["scrollers"] == [], "a scroll container is not reachable by keyboard"


def test_a_phone_shows_each_project_as_a_card_of_labelled_lines(browser: Site) -> None:
    page = _open(browser, "projects", 390)
    cell = page.locator("table.projects tbody tr").first.locator("td").nth(2)
    label = cell.evaluate("td => getComputedStyle(td, '::before').content")
    assert label == '"Struktūrvienība: "'
    assert cell.evaluate("td => getComputedStyle(td).display") == "block"
    header = page.locator("table.projects thead th").first
    assert header.get_attribute("scope") == "col" and header.inner_text() == "Kods"
    page.set_viewport_size({"width": 1366, "height": 844})
    assert cell.evaluate("td => getComputedStyle(td).display") == "table-cell"


def _luminance(rgb: str) -> float:
    parts = [int(x) / 255 for x in rgb[rgb.index("(") + 1 : rgb.index(")")].split(",")[:3]]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in parts]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def _ratio(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


FOCUS = """() => { const e = document.activeElement, s = getComputedStyle(e);
  return {id: e.id, tag: e.tagName, style: s.outlineStyle, width: parseFloat(s.outlineWidth),
          colour: s.outlineColor, border: s.borderTopColor,
          page: getComputedStyle(document.body).backgroundColor}; }"""


def test_keyboard_focus_shows_a_ring_that_contrasts_with_the_page(browser: Site) -> None:
    page = _open(browser, "projects", 390)
    page.locator("#f-q").focus()
    seen = page.evaluate(FOCUS)
    assert seen["id"] == "f-q" and seen["style"] != "none" and seen["width"] >= 2
    assert _ratio(seen["colour"], seen["page"]) >= 3
    assert _ratio(seen["colour"], "rgb(255, 255, 255)") >= 3
    page.keyboard.press("Tab")
    seen = page.evaluate(FOCUS)
    assert seen["id"] == "f-unit" and seen["style"] != "none" and seen["width"] >= 2
    page.locator("#f-unit").blur()
    idle = page.evaluate(
        "() => { const s = getComputedStyle(document.querySelector('#f-unit'));"
        " return {border: s.borderTopColor}; }"
    )
    assert _ratio(idle["border"], "rgb(255, 255, 255)") >= 3  # the field's edge, unfocused
    page.goto(f"{browser.base}/ideas")
    page.keyboard.press("Tab")  # the first stop is the skip link
    seen = page.evaluate(FOCUS)
    assert seen["tag"] == "A" and seen["style"] != "none"


def test_the_filter_keeps_the_search_and_the_order_it_was_given(browser: Site) -> None:
    page = _open(browser, "projects", 390)
    page.goto(f"{browser.base}/projects?q=Krapes&sort=stage")
    assert page.locator("#f-q").input_value() == "Krapes"
    assert page.locator("#f-sort").input_value() == "stage"
    assert page.get_by_label("Meklēt pēc koda vai nosaukuma").count() == 1
    assert page.get_by_label("Kārtot pēc").count() == 1


def test_a_file_with_problems_shows_its_text_in_a_region_reached_by_keyboard(
    browser: Site,
) -> None:
    page = _open(browser, "coordinator", 390)
    page.locator("#u-file").set_input_files(
        {"name": "broken.yaml", "mimeType": "text/yaml", "buffer": BAD_SCHEME}
    )
    page.locator("button[value='validate']").click()
    page.wait_for_load_state()
    source = page.locator("pre.source")
    assert source.get_attribute("tabindex") == "0" and source.get_attribute("role") == "region"
    seen = page.evaluate(LAYOUT)
    shot(page, "layout-coordinator-problems-390")
    assert seen["scroll"] <= seen["inner"] and seen["scrollers"] == []


def _base_page(**context: Any) -> str:
    me = SimpleNamespace(name="Līga Ozoliņa", coordinator=False)
    common = {"w": words("lv"), "lang": "lv", "csrf": "t", "me": me, "flashes": []}
    page = {"switch_url": "?lang=en", "path": "/"}
    return str(templates().env.get_template("base.html").render(**common, **page, **context))


def test_the_nav_counts_what_waits_in_words_a_screen_reader_says() -> None:
    html = _base_page(mine_count=3)
    assert '<span class="count"><span aria-hidden="true">3</span>' in html
    assert '<span class="visually-hidden">, 3 darbi gaida jūsu rīcību</span>' in html
    assert 'class="count"' not in _base_page(mine_count=0)
    assert 'class="count"' not in _base_page()


def test_the_layout_catalogue_has_the_same_keys_in_both_languages_and_none_of_webs() -> None:
    def keys(lang: str, domain: str) -> set[str]:
        (found,) = [c for c in read(lang) if c.domain == domain]
        return {m.id if isinstance(m.id, str) else m.id[0] for m in found if m.id}

    assert keys("lv", "layout") == keys("en", "layout")
    assert not keys("lv", "layout") & keys("lv", "web")
    assert words("lv").n("mine_count_n", 21) == "21 darbs gaida jūsu rīcību"
    assert words("en").n("mine_count_n", 1) == "1 item waits for you"
