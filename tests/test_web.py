"""The web interface through Starlette's test client: every page, and every refusal the
security model promises (sign-in, throttling, CSRF, other units, stale forms, escaping,
the trusted header)."""

from __future__ import annotations

import datetime as dt
import html
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import COORDINATOR, T0, copy_sqlite, shipped_text
from starlette.testclient import TestClient

from engine import accounts
from engine.service import Engine
from storage.database import Database
from web.app import create_app

PASSWORD = "pareiza-parole"
PEOPLE = ["liga.ozolina", "zane.roze", "janis.ozols", COORDINATOR]
XSS = "<script>alert(1)</script>"


class Clock:
    """A clock the tests move by hand."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@dataclass
class Site:
    url: str
    clock: Clock
    engine: Engine

    def client(self, **options: object) -> TestClient:
        app = create_app(self.url, clock=self.clock, **options)  # type: ignore[arg-type]
        return TestClient(app, follow_redirects=False)

    def project(self, title: str = "Krapes tautas nama jumts", unit: str = "krapes_pagasts") -> str:
        who = "zane.roze" if unit == "suntazu_pagasts" else "liga.ozolina"
        return self.engine.create_project(title=title, unit=unit, actor=who, now=self.clock()).code

    def version(self, code: str) -> int:
        return self.engine.project(code, actor=COORDINATOR).version


@pytest.fixture
def site(tmp_path: Path, prepared_sqlite: Path) -> Iterator[Site]:
    """The web over a copy of the session's prepared database (shipped files loaded at
    T0), everyone with the same password."""
    copy_sqlite(prepared_sqlite, tmp_path / "web.db")
    url = f"sqlite:///{tmp_path / 'web.db'}"
    db = Database(url)
    engine = Engine(db)
    accounts.store_hash(engine, PEOPLE, accounts.hash_password(PASSWORD))
    yield Site(url, Clock(T0 + dt.timedelta(hours=1)), engine)
    db.dispose()


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def sign_in(client: TestClient, person: str, password: str = PASSWORD) -> int:
    page = client.get("/login")
    answer = client.post(
        "/login", data={"person": person, "password": password, "csrf": csrf_of(page.text)}
    )
    return answer.status_code


def signed_in_client(site: Site, person: str) -> TestClient:
    client = site.client()
    assert sign_in(client, person) == 303
    return client


def post(client: TestClient, url: str, data: dict[str, str], page: str = "/") -> int:
    """POST with the CSRF token of `page` (as a browser would)."""
    token = csrf_of(client.get(page).text)
    return client.post(url, data={**data, "csrf": token}).status_code


# -- pages ------------------------------------------------------------------------------


def test_every_page_renders_for_a_person_allowed_to_see_it(site: Site) -> None:
    code = site.project()
    client = signed_in_client(site, COORDINATOR)
    for url in [
        "/",
        "/?lang=en",
        "/projects",
        "/projects?unit=krapes_pagasts&stage=idea&overdue=1",
        f"/projects/{code}",
        "/ideas",
        "/ideas?q=velo",
        "/report",
        "/coordinator",
        "/healthz",
        "/static/style.css",
    ]:
        assert client.get(url).status_code == 200, url
    csv = client.get("/report.csv?lang=lv")
    assert csv.status_code == 200 and csv.content.startswith("\ufeff".encode())
    assert csv.text.splitlines()[0].lstrip("\ufeff").startswith("sadaļa,shēma,kods")  # Latvian
    ics = client.get("/calendar.ics")
    assert ics.status_code == 200 and ics.text.startswith("BEGIN:VCALENDAR")


def test_pages_require_sign_in(site: Site) -> None:
    client = site.client()
    for url in ["/", "/projects", "/ideas", "/report", "/coordinator", "/report.csv"]:
        answer = client.get(url)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login")


def test_the_session_cookie_is_http_only_and_same_site(site: Site) -> None:
    client = site.client()
    page = client.get("/login")
    cookie = page.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie


def test_a_wrong_password_is_refused(site: Site) -> None:
    client = site.client()
    assert sign_in(client, "liga.ozolina", "nepareiza-parole") == 401
    assert client.get("/").status_code == 303


def test_sign_out_ends_the_session(site: Site) -> None:
    client = signed_in_client(site, "liga.ozolina")
    assert post(client, "/logout", {}) == 303
    assert client.get("/").status_code == 303


def test_sign_in_is_throttled_after_five_failures_until_the_window_passes(site: Site) -> None:
    client = site.client()
    for _ in range(5):
        assert sign_in(client, "liga.ozolina", "nepareiza-parole") == 401
    token = csrf_of(client.get("/login").text)
    right = {"person": "liga.ozolina", "password": PASSWORD, "csrf": token}
    refused = client.post("/login", data=right)  # the right password, still refused
    assert refused.status_code == 401 and "Pārāk daudz" in refused.text
    site.clock.now += dt.timedelta(minutes=16)
    assert sign_in(client, "liga.ozolina") == 303


def test_throttling_one_person_leaves_another_alone(site: Site) -> None:
    client = site.client()
    for _ in range(6):
        sign_in(client, "liga.ozolina", "nepareiza-parole")
    assert sign_in(client, "zane.roze") == 303


# -- refusals ----------------------------------------------------------------------------


def test_a_post_without_or_with_a_wrong_csrf_token_is_refused_and_changes_nothing(
    site: Site,
) -> None:
    code = site.project()
    client = signed_in_client(site, "liga.ozolina")
    before = site.version(code)
    form = {"item": "problem_statement", "version": str(before)}
    assert client.post(f"/projects/{code}/check", data=form).status_code == 403
    wrong = {**form, "csrf": "not-the-token"}
    assert client.post(f"/projects/{code}/check", data=wrong).status_code == 403
    assert site.version(code) == before
    assert post(client, f"/projects/{code}/check", form) == 303  # the same form with the token
    assert site.version(code) == before + 1


def test_the_message_after_a_post_says_what_was_done_in_the_persons_language(
    site: Site,
) -> None:
    code = site.project()
    client = signed_in_client(site, "liga.ozolina")
    page = f"/projects/{code}"

    form = {"item": "problem_statement", "version": str(site.version(code))}
    assert post(client, f"{page}/check", form) == 303
    assert "Atzīmēts: Problēmas un vajadzības apraksts." in html.unescape(client.get(page).text)

    client.get("/?lang=en")
    form = {"item": "problem_statement", "checked": "0", "version": str(site.version(code))}
    assert post(client, f"{page}/check", form) == 303
    assert "Unticked: Problem and need described." in html.unescape(client.get(page).text)

    form = {"body": "Labi", "version": str(site.version(code))}
    assert post(client, f"{page}/comment", form) == 303
    assert "The comment is added." in client.get(page).text


def test_sign_in_without_the_csrf_token_is_refused(site: Site) -> None:
    client = site.client()
    answer = client.post("/login", data={"person": "liga.ozolina", "password": PASSWORD})
    assert answer.status_code == 403


def test_another_parishs_project_answers_404_and_leaks_nothing(site: Site) -> None:
    secret = "Suntažu slepenais sporta laukums"
    code = site.project(secret, "suntazu_pagasts")
    client = signed_in_client(site, "liga.ozolina")
    page = client.get(f"/projects/{code}")
    assert page.status_code == 404 and secret not in page.text
    before = site.version(code)
    form = {"body": "hello", "version": str(before)}
    assert post(client, f"/projects/{code}/comment", form) == 404
    assert site.version(code) == before
    assert secret not in client.get("/projects").text
    assert client.get("/projects/OGR-1999-0001").status_code == 404


def test_a_stale_form_is_refused_as_changed_since_you_opened_it(site: Site) -> None:
    code = site.project()
    client = signed_in_client(site, "liga.ozolina")
    client.get("/?lang=en")
    stale = str(site.version(code))
    site.engine.check(code, "estimated_cost", actor="liga.ozolina", now=site.clock())
    now_at = site.version(code)
    form = {"item": "problem_statement", "version": stale}
    assert post(client, f"/projects/{code}/check", form) == 303
    page = client.get(f"/projects/{code}")
    assert "changed since you opened it" in page.text
    assert site.version(code) == now_at


def test_a_form_without_a_version_is_refused(site: Site) -> None:
    code = site.project()
    client = signed_in_client(site, "liga.ozolina")
    before = site.version(code)
    assert post(client, f"/projects/{code}/check", {"item": "problem_statement"}) == 303
    assert site.version(code) == before


def test_titles_and_comments_render_escaped(site: Site) -> None:
    client = signed_in_client(site, "liga.ozolina")
    token = csrf_of(client.get("/projects").text)
    made = client.post("/projects", data={"title": XSS, "unit": "krapes_pagasts", "csrf": token})
    assert made.status_code == 303
    url = made.headers["location"]
    code = url.rsplit("/", 1)[-1]
    comment = {"body": f"jā {XSS}", "version": str(site.version(code))}
    assert post(client, f"{url}/comment", comment, page=url) == 303
    for page in [url, "/", "/projects"]:
        body = client.get(page).text
        assert XSS not in body, page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in client.get(url).text


# -- trusted header -------------------------------------------------------------------------


def test_the_trusted_header_is_honoured_only_from_a_listed_proxy(site: Site) -> None:
    header = {"X-Remote-User": "liga.ozolina"}
    trusted = site.client(trusted_header="X-Remote-User", trusted_proxies=["testclient"])
    assert trusted.get("/", headers=header).status_code == 200
    elsewhere = site.client(trusted_header="X-Remote-User", trusted_proxies=["10.0.0.1"])
    assert elsewhere.get("/", headers=header).status_code == 303
    off = site.client()
    assert off.get("/", headers=header).status_code == 303


def test_a_trusted_header_naming_nobody_is_refused(site: Site) -> None:
    trusted = site.client(trusted_header="X-Remote-User", trusted_proxies=["testclient"])
    assert trusted.get("/", headers={"X-Remote-User": "nobody"}).status_code == 403


# -- the work itself ---------------------------------------------------------------------------


def test_a_specialist_ticks_and_submits_and_the_manager_acknowledges(site: Site) -> None:
    code = site.project()
    liga = signed_in_client(site, "liga.ozolina")
    url = f"/projects/{code}"
    for item in ("problem_statement", "estimated_cost"):
        assert post(liga, f"{url}/check", {"item": item, "version": str(site.version(code))}) == 303
    form = {"action": "submit_idea", "version": str(site.version(code))}
    assert post(liga, f"{url}/advance", form) == 303
    janis = signed_in_client(site, "janis.ozols")
    assert code in janis.get("/").text
    assert post(janis, f"{url}/ack", {"version": str(site.version(code))}) == 303
    view = site.engine.project(code, actor="janis.ozols")
    assert view.stage == "pre_assessment" and view.handoff is None
    history = janis.get(url).text
    assert "Jānis Ozols" in history and "Līga Ozoliņa" in history


def test_a_refused_action_is_a_flash_message_and_changes_nothing(site: Site) -> None:
    code = site.project()
    client = signed_in_client(site, "liga.ozolina")
    before = site.version(code)
    form = {"action": "submit_idea", "version": str(before)}
    assert post(client, f"/projects/{code}/advance", form) == 303
    assert "problem_statement" in client.get(f"/projects/{code}").text
    assert site.version(code) == before


def test_the_coordinator_sees_located_errors_of_an_uploaded_scheme_inline(site: Site) -> None:
    client = signed_in_client(site, COORDINATOR)
    token = csrf_of(client.get("/coordinator").text)
    bad = shipped_text("unified.yaml").replace("owner: parish_specialist", "owner: nobody", 1)
    answer = client.post(
        "/coordinator",
        data={"kind": "scheme", "mode": "validate", "csrf": token},
        files={"file": ("unified.yaml", bad.encode(), "text/yaml")},
    )
    assert answer.status_code == 422
    assert re.search(r"unified\.yaml:\d+:\d+", answer.text) and "nobody" in answer.text


def test_the_coordinator_page_does_not_exist_for_anyone_else(site: Site) -> None:
    client = signed_in_client(site, "liga.ozolina")
    assert client.get("/coordinator").status_code == 404
    token = csrf_of(client.get("/projects").text)
    changed = shipped_text("unified.yaml").replace("Ideja", "Ieceres ideja", 1)
    answer = client.post(
        "/coordinator",
        data={"kind": "scheme", "mode": "load", "csrf": token},
        files={"file": ("unified.yaml", changed.encode(), "text/yaml")},
    )
    assert answer.status_code == 404
    with site.engine.db.read() as conn:
        versions = conn.exec_driver_sql("SELECT count(*) FROM scheme_versions").scalar_one()
    assert versions == 1


def test_an_idea_is_created_and_promoted_from_the_notebook(site: Site) -> None:
    client = signed_in_client(site, "liga.ozolina")
    form = {"title": "Velo taka", "unit": "krapes_pagasts", "cost": "1200,50"}
    assert post(client, "/ideas", form, page="/ideas") == 303
    page = client.get("/ideas?q=velo").text
    assert "Velo taka" in page
    promote = re.search(r'action="/ideas/(\d+)/promote"', page)
    assert promote
    version = re.search(r'name="version" value="(\d+)"', page[promote.end() :])
    assert version
    answer = client.post(
        f"/ideas/{promote.group(1)}/promote",
        data={"version": version.group(1), "csrf": csrf_of(page)},
    )
    assert answer.status_code == 303 and answer.headers["location"].startswith("/projects/OGR-")


def test_another_parishs_idea_offers_neither_promote_nor_edit(site: Site) -> None:
    mine = signed_in_client(site, "liga.ozolina")
    form = {"title": "Krapes laipa", "unit": "krapes_pagasts"}
    assert post(mine, "/ideas", form, page="/ideas") == 303
    assert re.search(r'action="/ideas/\d+/promote"', mine.get("/ideas?q=laipa").text)

    other = signed_in_client(site, "zane.roze").get("/ideas?q=laipa").text
    if "Krapes laipa" in other:  # the notebook is open to all; its forms are not
        assert "/promote" not in other and "/edit" not in other


def test_the_projects_list_comes_in_pages_with_a_count(site: Site) -> None:
    codes = [site.project(title=f"Laipa {n:02d}") for n in range(53)]
    client = signed_in_client(site, "liga.ozolina")
    first = client.get("/projects?q=laipa").text
    assert "Rādīti 1–50 no 53 projektiem" in first and "1. lapa no 2" in first
    assert codes[49] in first and codes[50] not in first
    following = re.search(r'href="(/projects\?[^"]*page=2)"', first)
    assert following
    second = client.get(following.group(1).replace("&amp;", "&")).text
    assert "Rādīti 51–53 no 53 projektiem" in second and codes[52] in second
    assert "Nav neviena projekta" in client.get("/projects?q=nekas-tāds").text


def test_a_person_away_is_shown_as_away_wherever_named(site: Site) -> None:
    from engine import absence

    code = site.project()
    today = site.clock().date()
    absence.add(
        site.engine,
        actor=COORDINATOR,
        person="liga.ozolina",
        starts_on=today,
        ends_on=today + dt.timedelta(days=10),
        deputy="zane.roze",
        now=site.clock(),
    )
    page = signed_in_client(site, COORDINATOR).get(f"/projects/{code}").text
    until = (today + dt.timedelta(days=10)).strftime("%d.%m.")
    assert f"Līga Ozoliņa (prombūtnē līdz {until})" in page


def test_english_is_a_switch_remembered_in_the_session(site: Site) -> None:
    client = signed_in_client(site, "liga.ozolina")
    assert "Mani darbi" in client.get("/").text
    assert "Waiting for me" in client.get("/?lang=en").text
    assert "Waiting for me" in client.get("/").text


class _Fields(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.unlabelled: list[str] = []
        self.labels: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "label" and a.get("for"):
            self.labels.add(a["for"] or "")
        if tag in ("input", "select", "textarea") and a.get("type") not in ("hidden", "submit"):
            if a.get("id"):
                self.ids.append(a["id"] or "")
            else:
                self.unlabelled.append(str(a))


def test_every_form_field_has_a_label(site: Site) -> None:
    code = site.project()
    client = signed_in_client(site, COORDINATOR)
    pages = ["/projects", f"/projects/{code}", "/ideas", "/coordinator"]
    for url in [*pages, "/login"]:
        if url == "/login":
            client = site.client()
        parser = _Fields()
        parser.feed(client.get(url).text)
        assert not parser.unlabelled, url
        assert set(parser.ids) <= parser.labels, (url, set(parser.ids) - parser.labels)


def test_a_project_is_put_on_hold_and_resumed_from_its_page(site: Site) -> None:
    code = site.project()
    client = signed_in_client(site, "liga.ozolina")
    page = f"/projects/{code}"

    v = str(site.version(code))
    assert post(client, f"{page}/hold", {"reason": "Gaida VARAM", "version": v}, page) == 303
    held = site.engine.project(code, actor=COORDINATOR)
    assert held.hold_reason == "Gaida VARAM" and held.hold_since is not None
    assert "Gaida VARAM" in client.get(page).text

    v = str(site.version(code))
    assert post(client, f"{page}/resume", {"version": v}, page) == 303
    assert site.engine.project(code, actor=COORDINATOR).hold_since is None


def test_assigning_someone_outside_the_stage_is_refused_and_changes_nothing(site: Site) -> None:
    code = site.project()
    client = signed_in_client(site, "liga.ozolina")
    page = f"/projects/{code}"
    before = site.version(code)

    form = {"person": "zane.roze", "version": str(before)}  # another parish's specialist
    assert post(client, f"{page}/assign", form, page) == 303

    assert site.version(code) == before
    shown = client.get(page).text
    assert "Zane Roze" in shown  # the refusal is shown, naming who (by name) and why
    assert 'value="zane.roze"' not in shown  # and the form never offered her


def test_a_mistyped_person_is_told_on_the_project_page_not_as_a_missing_page(
    site: Site,
) -> None:
    code = site.project()
    client = signed_in_client(site, "liga.ozolina")
    page = f"/projects/{code}"
    before = site.version(code)
    form = {"person": "ligaa.ozolina", "version": str(before)}
    assert post(client, f"{page}/assign", form, page) == 303  # back to the project
    assert "ligaa.ozolina" in client.get(page).text and site.version(code) == before


def test_the_project_page_draws_the_scheme_with_the_current_stage_when_graphviz_is_there(
    site: Site,
) -> None:
    if shutil.which("dot") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Graphviz `dot` is missing in CI")
        pytest.skip("Graphviz `dot` is not installed")
    code = site.project()
    client = signed_in_client(site, "liga.ozolina")

    page = client.get(f"/projects/{code}").text

    assert '<div class="diagram"' in page and "<svg" in page
    assert "<script" not in page.split('<div class="diagram"', 1)[1].split("</div>", 1)[0]
