"""Who is asking: the session (a database row, see web/sessions.py), the CSRF token, and
the optional trusted header of a single-sign-on proxy.

Guarantees: a POST without the session's CSRF token is refused before any handler runs;
signing in starts a new session (a new id and CSRF token) and signing out deletes it;
the trusted header is read only when configured, only from a listed proxy address, and
never when the request carries it more than once.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from starlette.requests import Request

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    """The real clock (the web server's edge)."""
    return dt.datetime.now(dt.UTC)


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use."""
    token = request.session.get("csrf")
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def csrf_ok(request: Request, submitted: object) -> bool:
    """True when `submitted` equals the session's token (compared in constant time)."""
    token = request.session.get("csrf")
    if not isinstance(token, str) or not token or not isinstance(submitted, str):
        return False
    return hmac.compare_digest(token.encode(), submitted.encode())


@dataclass(frozen=True)
class TrustedHeader:
    """A header naming the person, believed only from these proxy addresses."""

    header: str
    proxies: frozenset[str]

    @classmethod
    def configure(cls, header: str | None, proxies: Sequence[str]) -> TrustedHeader | None:
        """None (off) unless both a header and at least one proxy address are given."""
        listed = frozenset(p.strip() for p in proxies if p.strip())
        if not header or not listed:
            return None
        return cls(header, listed)

    def from_proxy(self, request: Request) -> bool:
        return client_address(request) in self.proxies

    def repeated(self, request: Request) -> bool:
        """True when the request carries the header more than once (a proxy that appends
        instead of replacing what the client sent): such a request is refused."""
        return self.from_proxy(request) and len(request.headers.getlist(self.header)) > 1

    def person(self, request: Request) -> str | None:
        if not self.from_proxy(request):
            return None
        values = request.headers.getlist(self.header)
        if len(values) != 1:
            return None
        return values[0].strip() or None


def signed_in(request: Request, trusted: TrustedHeader | None) -> str | None:
    """The person making the request: the trusted header (from a listed proxy), else the
    person stored in the signed session at sign-in."""
    if trusted is not None:
        person = trusted.person(request)
        if person is not None:
            return person
    person = request.session.get("person")
    return person if isinstance(person, str) and person else None


def sign_in(request: Request, person: str) -> None:
    """Start a fresh session for `person` under a new id (a new CSRF token; the language
    is kept); the session the visitor had before is deleted."""
    lang = request.session.get("lang")
    request.session.clear()
    request.session["person"] = person
    request.session["csrf"] = secrets.token_urlsafe(32)
    if lang:
        request.session["lang"] = lang
    renew(request)


def sign_out(request: Request) -> None:
    """Delete the session; a copy of its cookie opens nothing from now on."""
    lang = request.session.get("lang")
    request.session.clear()
    if lang:
        request.session["lang"] = lang
    renew(request)


def renew(request: Request) -> None:
    """Ask the session middleware to delete the current session row and to keep what is
    left of the data (if anything) under a new id."""
    request.scope["session_renew"] = True
