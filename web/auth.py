"""Who is asking: the signed session cookie, the CSRF token, sign-in throttling and the
optional trusted header of a single-sign-on proxy.

Guarantees: a POST without the session's CSRF token is refused before any handler runs;
after `LIMIT` failed sign-ins for one person from one address within `WINDOW`, further
attempts are refused without looking at the password until the window has passed; the
trusted header is read only when configured and only from a listed proxy address.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from starlette.requests import Request

LIMIT = 5
WINDOW = dt.timedelta(minutes=15)
Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    """The real clock (the web server's edge)."""
    return dt.datetime.now(dt.UTC)


@dataclass
class Throttle:
    """Failed sign-ins per (person, address), kept in memory for one server process."""

    limit: int = LIMIT
    window: dt.timedelta = WINDOW
    _failures: dict[tuple[str, str], list[dt.datetime]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _recent(self, key: tuple[str, str], now: dt.datetime) -> list[dt.datetime]:
        kept = [t for t in self._failures.get(key, []) if now - t < self.window]
        if kept:
            self._failures[key] = kept
        else:
            self._failures.pop(key, None)
        return kept

    def blocked(self, person: str, address: str, now: dt.datetime) -> bool:
        """True while `limit` failures for this person and address lie within the window."""
        with self._lock:
            return len(self._recent((person, address), now)) >= self.limit

    def failed(self, person: str, address: str, now: dt.datetime) -> None:
        with self._lock:
            self._recent((person, address), now)
            self._failures.setdefault((person, address), []).append(now)

    def succeeded(self, person: str, address: str) -> None:
        with self._lock:
            self._failures.pop((person, address), None)


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

    def person(self, request: Request) -> str | None:
        if client_address(request) not in self.proxies:
            return None
        value = request.headers.get(self.header, "").strip()
        return value or None


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
    """Start a fresh session for `person` (a new CSRF token; the language is kept)."""
    lang = request.session.get("lang")
    request.session.clear()
    request.session["person"] = person
    request.session["csrf"] = secrets.token_urlsafe(32)
    if lang:
        request.session["lang"] = lang


def sign_out(request: Request) -> None:
    lang = request.session.get("lang")
    request.session.clear()
    if lang:
        request.session["lang"] = lang
