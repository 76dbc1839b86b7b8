"""Request plumbing shared by every page: who is asking, the language, rendering, flash
messages, and the one place where engine errors become HTTP answers.

Guarantees: every guarded endpoint answers a visitor who is not signed in with a
redirect to /login; every guarded POST carries the session's CSRF token or is refused
with 403 before the handler runs; NotFound and "may not see" refusals answer 404 with a
page that names nothing of what was asked for; a Conflict on a form answers "changed
since you opened it" and changes nothing (the engine wrote nothing).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates

from engine.service import Engine
from render.speech import Speech
from web.auth import Clock, TrustedHeader, csrf_ok, csrf_token, sign_out, signed_in
from web.i18n import LANGS, words
from workflow import limits
from workflow.errors import Conflict, NotFound, NotVisible, ShemaError, UsageError

T = TypeVar("T")


@dataclass
class Ctx:
    """The signed-in person as one request sees them."""

    person: str
    name: str
    coordinator: bool
    lang: str
    form: FormData | None = None
    back: str = "/"
    waiting: int | None = None  # projects asking something of the person (GET pages)

    def field(self, name: str, default: str = "") -> str:
        """A text field of the posted form ("" or `default` when absent)."""
        value = self.form.get(name) if self.form is not None else None
        return value if isinstance(value, str) else default


Handler = Callable[["Web", Request, Ctx], Awaitable[Response]]


@dataclass
class Web:
    """Everything a page needs: the engine, templates, the clock, the throttle."""

    engine: Engine
    templates: Jinja2Templates
    clock: Clock
    trusted: TrustedHeader | None = None

    def now(self) -> dt.datetime:
        return self.clock()

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Call a (blocking) engine function off the event loop."""
        return await run_in_threadpool(fn, *args, **kwargs)

    # -- language, flashes, rendering ---------------------------------------------

    @staticmethod
    def lang(request: Request) -> str:
        """The page language: ?lang= (remembered in the session), else the session's, else lv."""
        asked = request.query_params.get("lang")
        if asked in LANGS:
            request.session["lang"] = asked
        lang = request.session.get("lang")
        return lang if lang in LANGS else "lv"

    @staticmethod
    def flash(request: Request, kind: str, message: str) -> None:
        request.session.setdefault("flash", []).append([kind, message])
        request.session["flash"] = request.session["flash"]  # mark the session changed

    def render(
        self,
        request: Request,
        name: str,
        context: dict[str, Any],
        *,
        status: int = 200,
        ctx: Ctx | None = None,
    ) -> Response:
        lang = ctx.lang if ctx else self.lang(request)
        flashes = request.session.pop("flash", [])
        here = request.url.path
        query = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
        other = "en" if lang == "lv" else "lv"
        pairs = [*query, ("lang", other)]
        # Only a query: the link stays on this page whatever the request's path holds
        # (a path of //host/… would otherwise make it point to another site).
        switch = "?" + "&".join(f"{quote(k)}={quote(v)}" for k, v in pairs)
        base = {
            "w": words(lang),
            "lang": lang,
            "csrf": csrf_token(request),
            "me": ctx,
            "flashes": flashes,
            "switch_url": switch,
            "path": here,
            "mine_count": ctx.waiting if ctx else None,
        }
        return self.templates.TemplateResponse(
            request, name, {**base, **context}, status_code=status
        )

    def error(self, request: Request, status: int, title: str, message: str) -> Response:
        return self.render(
            request, "error.html", {"title": title, "message": message}, status=status
        )

    @staticmethod
    def redirect(url: str) -> Response:
        return RedirectResponse(url, status_code=303)

    # -- who is asking --------------------------------------------------------------

    def _waiting(self, person: str) -> int:
        """How many projects ask something of `person` now (the count in the menu)."""
        return len(self.engine.list_projects(actor=person, mine=True, now=self.now()))

    def _whoami(self, person: str) -> tuple[str, bool] | None:
        with self.engine.db.read() as conn:
            org = self.engine.org_index(conn)
        found = org.org.people.get(person)
        if found is None:
            return None
        return found.name or person, org.is_coordinator(person)

    def guard(
        self, handler: Handler, *, coordinators_only: bool = False
    ) -> Callable[[Request], Awaitable[Response]]:
        """Wrap `handler`: require a person (a coordinator when `coordinators_only`; to
        anyone else the page does not exist), check CSRF on POST, map engine errors."""

        async def endpoint(request: Request) -> Response:
            lang = self.lang(request)
            if self.trusted is not None and self.trusted.repeated(request):
                w = words(lang)
                return self.error(request, 400, w["forbidden"], w["header_twice"])
            person = signed_in(request, self.trusted)
            if person is None:
                target = request.url.path
                return self.redirect(f"/login?next={quote(target)}")
            me = await self.run(self._whoami, person)
            if me is None:
                if request.session.get("person") == person:
                    sign_out(request)
                    return self.redirect("/login")
                w = words(lang)
                return self.error(request, 403, w["forbidden"], w["not_found_text"])
            ctx = Ctx(person, me[0], me[1], lang)
            if request.method == "GET" and request.url.path != "/":  # "/" counts its own
                ctx.waiting = await self.run(self._waiting, person)
            if coordinators_only and not ctx.coordinator:
                w = words(lang)
                return self.error(request, 404, w["not_found"], w["not_found_text"])
            if request.method == "POST":
                ctx.form = await request.form(max_part_size=limits.UPLOAD_BYTES)
                if not csrf_ok(request, ctx.form.get("csrf")):
                    w = words(lang)
                    return self.error(request, 403, w["forbidden"], w["csrf_text"])
            try:
                return await handler(self, request, ctx)
            except ShemaError as exc:
                return await self.refused(request, ctx, exc)

        return endpoint

    async def refused(self, request: Request, ctx: Ctx, exc: ShemaError) -> Response:
        """The answer to a refusal: 404 for what the person may not see, else the reason
        in their language (as a flash message after a form post)."""
        w = words(ctx.lang)
        # What the person may not see answers 404 and names nothing; a form that names
        # something unknown (a mistyped person, an item) is told so on its page.
        unknown_project = isinstance(exc, NotFound) and exc.code in (None, "project.unknown")
        hidden = isinstance(exc, NotVisible) or (
            isinstance(exc, NotFound) and (request.method != "POST" or unknown_project)
        )
        if hidden:
            return self.error(request, 404, w["not_found"], w["not_found_text"])
        said = await self.run(self.say, exc, ctx.lang)
        if request.method == "POST":
            self.flash(request, "error", w["stale"] if isinstance(exc, Conflict) else said)
            return self.redirect(ctx.back)
        status = 409 if isinstance(exc, Conflict) else 400 if isinstance(exc, UsageError) else 403
        return self.error(request, status, w["forbidden"], said)

    def say(self, exc: ShemaError, lang: str) -> str:
        """A refusal in the person's language: people by name; stages, actions, roles and
        checklist items by their titles in the scheme of the project it names."""
        eng = self.engine
        with eng.db.read() as conn:
            org = eng.org_index(conn)
            scheme = None
            code = exc.params.get("project")
            if isinstance(code, str):
                try:
                    scheme = eng.compiled(conn, eng.work.load(conn, code).scheme_version_id).scheme
                except ShemaError:
                    scheme = None
        return Speech(lang, org, scheme).refusal(exc)


def version_field(ctx: Ctx) -> int:
    """The project version the form was drawn from (`expect_version`); a form without
    one is refused, so no write ever skips the staleness check."""
    raw = ctx.field("version")
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 9):
        raise UsageError(
            "the form does not say which version of the project it was drawn from",
            code="web.no_version",
        )
    return int(raw)
