"""The web interface in a real browser: Playwright driving Debian's Chromium against a
uvicorn server on a free loopback port. A parish specialist creates a project, ticks its
checklist and submits the idea; the project manager finds it under "Mani darbi",
acknowledges the handoff and moves it on; both see the history. Screenshots of the key
pages (768 px wide) go to tests/artifacts/."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from browsers import CHROMIUM, CHROMIUM_HINT, chromium, require, serve, shot
from conftest import COORDINATOR, shipped_text

from engine import accounts
from engine.loading import load_org, load_scheme
from engine.service import Engine
from storage.database import Database
from storage.migrate import upgrade
from web.app import create_app

if TYPE_CHECKING:
    from playwright.sync_api import Browser

PASSWORD = "parole-browserim"
TITLE = "Krapes bibliotēkas logu nomaiņa"

require((CHROMIUM, CHROMIUM_HINT))


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """The app over a fresh SQLite database, served by uvicorn in a thread (see
    `browsers.serve`)."""
    url = f"sqlite:///{tmp_path / 'browser.db'}"
    db = Database(url)
    upgrade(db)
    engine = Engine(db)
    then = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    load_org(engine, shipped_text("ogre.yaml"), "ogre.yaml", actor=COORDINATOR, now=then)
    load_scheme(engine, shipped_text("unified.yaml"), "unified.yaml", actor=COORDINATOR, now=then)
    people = ["liga.ozolina", "janis.ozols"]
    accounts.store_hash(engine, people, accounts.hash_password(PASSWORD))
    db.dispose()
    with serve(create_app(url)) as base:
        yield base


@pytest.fixture
def browser() -> Iterator[Browser]:
    """A headless Chromium for one test."""
    with chromium() as launched:
        yield launched


def _sign_in(browser: Any, base: str, person: str) -> Any:
    context = browser.new_context(viewport={"width": 768, "height": 1024})
    page = context.new_page()
    page.goto(f"{base}/")
    assert "/login" in page.url
    page.get_by_label("Lietotājs").fill(person)
    page.get_by_label("Parole").fill(PASSWORD)
    page.get_by_role("button", name="Pieteikties").click()
    page.wait_for_url(f"{base}/")
    return page


def _form_button(page: Any, field: str, value: str) -> Any:
    """The submit button of the form carrying the hidden `field`=`value`."""
    return page.locator(f'form:has(input[name="{field}"][value="{value}"]) button')


def test_a_project_travels_from_the_parish_to_central_staff_in_a_browser(
    server: str, browser: Any
) -> None:
    liga = _sign_in(browser, server, "liga.ozolina")
    shot(liga, "01-mani-darbi-liga")
    liga.goto(f"{server}/projects")
    liga.get_by_label("Nosaukums").fill(TITLE)
    liga.get_by_label("Struktūrvienība").last.select_option("krapes_pagasts")
    liga.get_by_role("button", name="Izveidot").click()
    liga.wait_for_url(f"{server}/projects/OGR-*")
    code = liga.url.rsplit("/", 1)[-1]
    for item in ("problem_statement", "estimated_cost"):
        _form_button(liga, "item", item).click()
        liga.wait_for_load_state()
        # Back at the checklist, with the keyboard's focus there, and told what was ticked.
        assert liga.url.endswith("#h-check")
        assert liga.evaluate("document.activeElement.id") == "h-check"
        assert "Atzīmēts: " in liga.locator("p.flash").inner_text()
    shot(liga, "02-project-checklist-ticked")
    _form_button(liga, "action", "submit_idea").click()
    liga.wait_for_load_state()
    assert "Nodošana gaida apstiprinājumu" in liga.content()
    shot(liga, "03-idea-submitted")

    janis = _sign_in(browser, server, "janis.ozols")
    assert code in janis.content()
    shot(janis, "04-mani-darbi-janis")
    janis.get_by_role("link", name=code).click()
    janis.get_by_role("button", name="Pieņemt nodošanu").click()
    janis.wait_for_load_state()
    for item in ("programme_fit", "funding_instrument"):
        _form_button(janis, "item", item).click()
        janis.wait_for_load_state()
    _form_button(janis, "action", "propose_for_plan").click()
    janis.wait_for_load_state()
    shot(janis, "05-proposed-for-plan")

    for page in (janis, liga):
        page.reload()
        history = page.locator("ol.timeline").inner_text()
        assert "Līga Ozoliņa" in history and "Jānis Ozols" in history
        assert "nodošana pieņemta" in history and "Virzīt iekļaušanai" in history
    shot(liga, "06-history-seen-by-liga")
