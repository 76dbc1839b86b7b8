"""The Starlette application: `create_app(db_url, …)` builds it over one database.

Sessions and failed sign-ins are database rows (web/sessions.py, engine/sessions.py);
request bodies are bounded before they are read (workflow/limits.py); every
authenticated answer is `Cache-Control: no-store`; an unexpected error shows a page with
a reference that the server log carries with the traceback. The clock is a parameter,
so tests drive sign-in throttling, session timeouts and deadlines without sleeping.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets as secrets_module
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, pass_context
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from engine import accounts, sessions
from engine.service import Engine
from render import formats
from storage.database import Database
from web import absence, extras, financing, migration, pictures, projects, tasks
from web.auth import (
    Clock,
    TrustedHeader,
    client_address,
    csrf_ok,
    sign_in,
    sign_out,
    signed_in,
    utc_now,
)
from web.base import Web
from web.i18n import words
from web.sessions import DatabaseSessions
from workflow import limits

log = logging.getLogger("shema.web")

HERE = Path(__file__).parent
RIGA = ZoneInfo("Europe/Riga")


@pass_context
def _when(context: Any, value: dt.datetime | None) -> str:
    """A UTC instant as local Riga date and time in the page's language."""
    return formats.when(value, context.get("lang", "lv"), RIGA)


@pass_context
def _day(context: Any, value: dt.date | str | None) -> str:
    """A date; an instant (a deadline) as its local Riga date."""
    if isinstance(value, dt.datetime):
        value = (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).astimezone(RIGA)
    return formats.day(value, context.get("lang", "lv"))


@pass_context
def _money(context: Any, value: Any, currency: str | None = "EUR") -> str:
    return formats.money(value, currency, context.get("lang", "lv"))


@pass_context
def _number(context: Any, value: Any, digits: int = 2) -> str:
    return formats.number(value, context.get("lang", "lv"), digits)


@pass_context
def _days(context: Any, value: int | None) -> str:
    return formats.days(value, context.get("lang", "lv"))


def templates() -> Jinja2Templates:
    """Jinja2 with autoescaping on for every template, whatever its name."""
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True)
    env.filters.update(when=_when, day=_day, money=_money, number=_number, days=_days)
    return Jinja2Templates(env=env)


def _safe_next(target: str | None) -> str:
    """Only a local path (no scheme, no host, no //), so sign-in cannot redirect away."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def _login_routes(web: Web) -> list[Route]:
    async def login_form(request: Request) -> Response:
        if signed_in(request, web.trusted):
            return web.redirect("/")
        nxt = _safe_next(request.query_params.get("next"))
        return web.render(request, "login.html", {"next": nxt, "person": ""})

    async def login_post(request: Request) -> Response:
        form = await request.form()
        w = words(web.lang(request))
        if not csrf_ok(request, form.get("csrf")):
            return web.error(request, 403, w["forbidden"], w["csrf_text"])
        person = str(form.get("person") or "").strip()
        password = str(form.get("password") or "")
        nxt = _safe_next(str(form.get("next") or "/"))
        address, now, db = client_address(request), web.now(), web.engine.db
        if len(person) > limits.TEXT["person"] or len(password) > limits.TEXT["password"]:
            message = w["bad_login"]
        elif await web.run(sessions.blocked, db, person, address, now):
            message = w["throttled"]
        elif await web.run(accounts.check_password, web.engine, person, password):
            await web.run(sessions.succeeded, db, person)
            sign_in(request, person)
            return web.redirect(nxt)
        else:
            await web.run(sessions.failed, db, person, address, now)
            message = w["bad_login"]
        context = {"next": nxt, "person": person, "login_error": message}
        return web.render(request, "login.html", context, status=401)

    async def logout(request: Request) -> Response:
        form = await request.form()
        if not csrf_ok(request, form.get("csrf")):
            w = words(web.lang(request))
            return web.error(request, 403, w["forbidden"], w["csrf_text"])
        sign_out(request)
        return web.redirect("/login")

    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok")

    return [
        Route("/login", login_form, methods=["GET"]),
        Route("/login", login_post, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
    ]


HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"content-security-policy", b"default-src 'self'; frame-ancestors 'none'; form-action 'self'"),
]


HSTS = (b"strict-transport-security", b"max-age=31536000")
NO_STORE = (b"cache-control", b"no-store")


class SecurityHeaders:
    """Adds headers that stop framing, sniffing and foreign scripts to every response;
    `no-store` to every page but the static files (so Back after sign-out shows nothing);
    HSTS when the site is HTTPS-only."""

    def __init__(self, app: ASGIApp, *, https_only: bool = False) -> None:
        self.app = app
        self.extra = [*HEADERS, HSTS] if https_only else list(HEADERS)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = str(scope.get("path", "")).startswith("/static/")

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() != b"cache-control"
                ]
                if not static:
                    headers.append(NO_STORE)
                message["headers"] = [*headers, *self.extra]
            await send(message)

        await self.app(scope, receive, sending)


class BodyLimit:
    """Refuses a request body larger than its bound with 413 before any of it is parsed:
    by its Content-Length when given, else while it streams in."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        multipart = headers.get(b"content-type", b"").startswith(b"multipart/")
        limit = limits.UPLOAD_BYTES if multipart else limits.FORM_BYTES
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await _too_large(scope, receive, send, limit)
            return
        seen = 0

        async def receiving() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _TooLarge(limit)
            return message

        try:
            await self.app(scope, receiving, send)
        except _TooLarge:
            await _too_large(scope, receive, send, limit)


class _TooLarge(Exception):
    def __init__(self, limit: int) -> None:
        self.limit = limit


async def _too_large(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
    lang = "en" if b"lang=en" in scope.get("query_string", b"") else "lv"
    w = words(lang)
    text = f"{w['too_large']}: {w['too_large_text'].format(limit=limit)}"
    response = PlainTextResponse(text, status_code=413, headers={"connection": "close"})
    await response(scope, receive, send)


def create_app(
    db_url: str,
    *,
    trusted_header: str | None = None,
    trusted_proxies: Sequence[str] = (),
    clock: Clock = utc_now,
    https_only: bool = False,
    web_url: str | None = None,
) -> Starlette:
    """The web interface over the database at `db_url`.

    `trusted_header` names the person only for requests from one of `trusted_proxies`,
    and is off unless both are given; the proxy must remove any copy a client sends.
    `web_url` is the public address that messages link to.
    """
    engine = Engine(Database(db_url), web_url=web_url)
    web = Web(
        engine=engine,
        templates=templates(),
        clock=clock,
        trusted=TrustedHeader.configure(trusted_header, trusted_proxies),
    )
    routes: list[Any] = [
        *_login_routes(web),
        *tasks.routes(web),  # before projects': its /projects/{code}/{verb} takes any post
        *financing.routes(web),
        *projects.routes(web),
        *extras.routes(web),
        *pictures.routes(web),
        *migration.routes(web),
        *absence.routes(web),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    middleware = [
        Middleware(SecurityHeaders, https_only=https_only),
        Middleware(BodyLimit),
        Middleware(DatabaseSessions, db=engine.db, clock=clock, https_only=https_only),
    ]

    async def not_found(request: Request, exc: Exception) -> Response:
        w = words(web.lang(request))
        return web.error(request, 404, w["not_found"], w["not_found_text"])

    async def server_error(request: Request, exc: Exception) -> Response:
        ref = secrets_module.token_hex(4)
        log.error("error %s on %s %s", ref, request.method, request.url.path, exc_info=exc)
        w = words(request.session.get("lang", "lv") if "session" in request.scope else "lv")
        text = w["server_error_text"].format(ref=ref)
        try:
            return web.error(request, 500, w["server_error"], text)
        except Exception:  # the page itself cannot be drawn: plain text, still no details
            return PlainTextResponse(f"{w['server_error']}. {text}", status_code=500)

    app = Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={404: not_found, 500: server_error},
    )
    app.state.web = web
    return app
