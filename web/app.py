"""The Starlette application: `create_app(db_url, …)` builds it over one database.

Sessions are signed cookies (HttpOnly, SameSite=Lax, Secure when `https_only`); the
clock is a parameter, so tests drive sign-in throttling and deadlines without sleeping.
"""

from __future__ import annotations

import datetime as dt
import secrets as secrets_module
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from engine import accounts
from engine.service import Engine
from storage.database import Database
from web import extras, projects
from web.auth import (
    Clock,
    Throttle,
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

HERE = Path(__file__).parent
RIGA = ZoneInfo("Europe/Riga")
SESSION_SECONDS = 12 * 3600


def _when(value: dt.datetime | None) -> str:
    """A UTC instant as local Riga time, e.g. 2026-02-02 10:00."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(RIGA).strftime("%Y-%m-%d %H:%M")


def templates() -> Jinja2Templates:
    """Jinja2 with autoescaping on for every template, whatever its name."""
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True)
    env.filters["when"] = _when
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
        address, now = client_address(request), web.now()
        if web.throttle.blocked(person, address, now):
            message = w["throttled"]
        elif await web.run(accounts.check_password, web.engine, person, password):
            web.throttle.succeeded(person, address)
            sign_in(request, person)
            return web.redirect(nxt)
        else:
            web.throttle.failed(person, address, now)
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


class SecurityHeaders:
    """Adds headers that stop framing, sniffing and foreign scripts to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *HEADERS]
            await send(message)

        await self.app(scope, receive, sending)


def create_app(
    db_url: str,
    *,
    trusted_header: str | None = None,
    trusted_proxies: Sequence[str] = (),
    secret: str | None = None,
    clock: Clock = utc_now,
    https_only: bool = False,
    throttle: Throttle | None = None,
) -> Starlette:
    """The web interface over the database at `db_url`.

    `secret` signs the session cookie (a random one per process when None, so sessions
    end with the process); `trusted_header` names the person only for requests from one
    of `trusted_proxies`, and is off unless both are given.
    """
    engine = Engine(Database(db_url))
    web = Web(
        engine=engine,
        templates=templates(),
        clock=clock,
        throttle=throttle or Throttle(),
        trusted=TrustedHeader.configure(trusted_header, trusted_proxies),
    )
    routes: list[Any] = [
        *_login_routes(web),
        *projects.routes(web),
        *extras.routes(web),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    middleware = [
        Middleware(SecurityHeaders),
        Middleware(
            SessionMiddleware,
            secret_key=secret or secrets_module.token_urlsafe(32),
            session_cookie="shema_session",
            max_age=SESSION_SECONDS,
            same_site="lax",
            https_only=https_only,
        ),
    ]

    async def not_found(request: Request, exc: Exception) -> Response:
        w = words(web.lang(request))
        return web.error(request, 404, w["not_found"], w["not_found_text"])

    app = Starlette(routes=routes, middleware=middleware, exception_handlers={404: not_found})
    app.state.web = web
    return app
