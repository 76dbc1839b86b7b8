"""ASGI middleware: `request.session` backed by a database row (engine/sessions.py).

The cookie carries only the session's random token (HttpOnly, SameSite=Lax, Secure when
HTTPS-only is on) and is sent only when a session starts or ends, never re-issued on
every answer. Data are written back only when a page changed them; `seen_at` is
refreshed at most once a minute, so reading pages seldom writes.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from engine import sessions
from storage.database import Database
from web.auth import Clock

COOKIE = "shema_session"


class DatabaseSessions:
    """Loads the session of the request's cookie and stores what the page changed."""

    def __init__(
        self, app: ASGIApp, *, db: Database, clock: Clock, https_only: bool = False
    ) -> None:
        self.app = app
        self.db = db
        self.clock = clock
        self.https_only = https_only

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = HTTPConnection(scope).cookies.get(COOKIE) or ""
        now = self.clock()
        stored = await run_in_threadpool(sessions.load, self.db, token, now) if token else None
        data: dict[str, Any] = dict(stored.data) if stored else {}
        before = json.dumps(data, sort_keys=True)
        scope["session"] = data

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                cookie = await self._store(scope, token, stored, data, before)
                if cookie is not None:
                    MutableHeaders(scope=message).append("set-cookie", cookie)
            await send(message)

        await self.app(scope, receive, sending)

    async def _store(
        self,
        scope: Scope,
        token: str,
        stored: sessions.Stored | None,
        data: dict[str, Any],
        before: str,
    ) -> str | None:
        """Write the session back; the Set-Cookie value when the cookie must change."""
        now = self.clock()
        if scope.get("session_renew") or stored is None:
            if stored is not None:
                await run_in_threadpool(sessions.end, self.db, token)
            if data:
                fresh = await run_in_threadpool(sessions.create, self.db, dict(data), now)
                return self._cookie(fresh, int(sessions.ABSOLUTE.total_seconds()))
            return self._cookie("", 0) if token else None
        if json.dumps(data, sort_keys=True) != before:
            await run_in_threadpool(sessions.save, self.db, token, dict(data), now)
        elif now - stored.seen_at > sessions.TOUCH:
            await run_in_threadpool(sessions.touch, self.db, token, now)
        return None

    def _cookie(self, token: str, max_age: int) -> str:
        parts = [f"{COOKIE}={token}", "path=/", f"Max-Age={max_age}", "httponly", "samesite=lax"]
        if self.https_only:
            parts.append("secure")
        return "; ".join(parts)
