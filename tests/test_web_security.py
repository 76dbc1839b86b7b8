"""The web's sessions, throttling, headers, links and error pages hold against the
attacks a real office meets: a copied cookie, a shared proxy address, guessing across
names, a crafted path, a doubled trusted header, a huge body, an internal error."""

from __future__ import annotations

import datetime as dt
import html
import logging

import pytest
from babel.numbers import format_decimal
from starlette.testclient import TestClient
from test_web import PASSWORD, Site, csrf_of, post, sign_in, signed_in_client

from engine import accounts, sessions
from web.app import create_app
from web.sessions import COOKIE
from workflow import limits

pytest_plugins = ["test_web"]


def test_a_cookie_copied_before_sign_out_opens_nothing_after_it(site: Site) -> None:
    client = signed_in_client(site, "liga.ozolina")
    copied = client.cookies.get(COOKIE)
    assert post(client, "/logout", {}) == 303
    thief = site.client()
    thief.cookies.set(COOKIE, copied)
    answer = thief.get("/")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login")


def test_the_cookie_holds_only_a_random_id_not_the_person(site: Site) -> None:
    client = signed_in_client(site, "liga.ozolina")
    token = client.cookies.get(COOKIE) or ""
    assert "liga" not in token and len(token) >= 40
    with site.engine.db.read() as conn:
        ids = set(conn.exec_driver_sql("SELECT id FROM web_sessions").scalars())
    assert token not in ids and sessions.key(token) in ids


def test_a_session_survives_a_restart_of_the_server(site: Site) -> None:
    client = signed_in_client(site, "liga.ozolina")
    restarted = site.client()
    restarted.cookies.set(COOKIE, client.cookies.get(COOKIE))
    assert restarted.get("/").status_code == 200


def test_a_password_change_ends_the_persons_other_sessions(site: Site) -> None:
    desk, phone = signed_in_client(site, "liga.ozolina"), signed_in_client(site, "liga.ozolina")
    other = signed_in_client(site, "zane.roze")
    keep = desk.cookies.get(COOKIE) or ""
    accounts.set_password(
        site.engine, "liga.ozolina", "jauna-parole-1", actor="liga.ozolina", keep_session=keep
    )
    assert desk.get("/").status_code == 200
    assert phone.get("/").status_code == 303
    assert other.get("/").status_code == 200


def test_a_session_ends_when_idle_and_when_too_old(site: Site) -> None:
    client = signed_in_client(site, "liga.ozolina")
    site.clock.now += sessions.IDLE - dt.timedelta(minutes=5)
    assert client.get("/").status_code == 200  # used: the idle clock starts again
    site.clock.now += sessions.IDLE - dt.timedelta(minutes=5)
    assert client.get("/").status_code == 200
    site.clock.now += sessions.IDLE + dt.timedelta(minutes=1)
    assert client.get("/").status_code == 303
    busy = signed_in_client(site, "zane.roze")
    for _ in range(int(sessions.ABSOLUTE / sessions.IDLE) + 1):
        site.clock.now += sessions.IDLE - dt.timedelta(minutes=1)
        last = busy.get("/").status_code
    assert last == 303


def test_failures_of_colleagues_behind_one_address_do_not_lock_out_another(site: Site) -> None:
    client = site.client()
    for _ in range(sessions.PER_PERSON):
        sign_in(client, "liga.ozolina", "nepareiza-parole")
    assert sign_in(client, "zane.roze") == 303


def test_guessing_across_many_names_from_one_address_is_throttled(site: Site) -> None:
    client = site.client()
    for n in range(sessions.PER_ADDRESS):
        assert sign_in(client, f"nobody{n}", "nepareiza-parole") == 401
    token = csrf_of(client.get("/login").text)
    right = {"person": "janis.ozols", "password": PASSWORD, "csrf": token}
    refused = client.post("/login", data=right)
    assert refused.status_code == 401 and "Pārāk daudz" in refused.text


def test_a_person_is_throttled_across_addresses(site: Site) -> None:
    for n in range(sessions.PER_PERSON):
        client = TestClient(create_app(site.url, clock=site.clock), client=(f"10.0.0.{n}", 5))
        assert sign_in(client, "liga.ozolina", "nepareiza-parole") == 401
    fresh = TestClient(create_app(site.url, clock=site.clock), client=("10.0.1.1", 5))
    assert sign_in(fresh, "liga.ozolina") == 401


def test_the_throttle_message_is_in_the_pages_language(site: Site) -> None:
    client = site.client()
    client.get("/login?lang=en")
    for _ in range(sessions.PER_PERSON):
        sign_in(client, "liga.ozolina", "nepareiza-parole")
    token = csrf_of(client.get("/login").text)
    answer = client.post(
        "/login", data={"person": "liga.ozolina", "password": PASSWORD, "csrf": token}
    )
    assert "Too many" in answer.text and "Pārāk daudz" not in answer.text


def test_the_language_link_of_a_crafted_path_stays_on_this_site(site: Site) -> None:
    client = site.client()
    answer = client.get("http://testserver//evil.example/login")
    assert answer.status_code == 404
    assert "//evil.example" not in answer.text.split("<main", 1)[0]
    assert 'href="?lang=en"' in answer.text


def test_authenticated_pages_are_not_stored_by_the_browser(site: Site) -> None:
    client = signed_in_client(site, "liga.ozolina")
    for url in ["/", "/projects", "/ideas", "/login"]:
        assert client.get(url).headers["cache-control"] == "no-store", url
    assert "no-store" not in client.get("/static/style.css").headers.get("cache-control", "")


def test_hsts_only_when_the_site_is_https_only(site: Site) -> None:
    plain = site.client().get("/login")
    assert "strict-transport-security" not in plain.headers
    secure = TestClient(create_app(site.url, clock=site.clock, https_only=True))
    assert secure.get("/login").headers["strict-transport-security"].startswith("max-age=")


def test_a_doubled_trusted_header_is_refused(site: Site) -> None:
    client = site.client(trusted_header="X-Remote-User", trusted_proxies=["testclient"])
    once = client.get("/", headers={"X-Remote-User": "liga.ozolina"})
    assert once.status_code == 200
    twice = client.get("/", headers=[("X-Remote-User", "zane.roze"), ("X-Remote-User", "x")])
    assert twice.status_code == 400


def test_a_body_above_the_limit_is_refused_before_it_is_read(site: Site) -> None:
    client = signed_in_client(site, "liga.ozolina")
    token = csrf_of(client.get("/projects").text)
    code = site.project()
    huge = "x" * (limits.FORM_BYTES + 1)
    answer = client.post(
        f"/projects/{code}/comment", data={"body": huge, "version": "1", "csrf": token}
    )
    assert answer.status_code == 413 and str(limits.FORM_BYTES) in answer.text
    assert site.version(code) == 1


def test_a_long_comment_within_the_body_limit_is_refused_by_its_field_limit(
    site: Site,
) -> None:
    client = signed_in_client(site, "liga.ozolina")
    code = site.project()
    page = client.get(f"/projects/{code}").text
    text = "x" * (limits.TEXT["comment"] + 1)
    answer = client.post(
        f"/projects/{code}/comment", data={"body": text, "version": "1", "csrf": csrf_of(page)}
    )
    assert answer.status_code == 303
    # The refusal names the limit, written as Latvian writes numbers (10 000).
    said = format_decimal(limits.TEXT["comment"], locale="lv_LV")
    assert said in html.unescape(client.get(f"/projects/{code}").text)
    assert site.version(code) == 1


def test_an_unexpected_error_shows_a_reference_that_the_log_carries(
    site: Site, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = site.client()
    client.get("/login")

    def broken(*args: object, **kwargs: object) -> bool:
        raise RuntimeError("internal detail: table people")

    monkeypatch.setattr(accounts, "check_password", broken)
    token = csrf_of(client.get("/login").text)
    with caplog.at_level(logging.ERROR, logger="shema.web"):
        answer = TestClient(client.app, raise_server_exceptions=False, cookies=client.cookies).post(
            "/login", data={"person": "liga.ozolina", "password": PASSWORD, "csrf": token}
        )
    assert answer.status_code == 500
    assert "internal detail" not in answer.text and "Traceback" not in answer.text
    ref = answer.text.split("atsauces numuru ", 1)[1][:8]
    assert any(ref in r.getMessage() and r.exc_info for r in caplog.records)
