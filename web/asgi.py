"""The application configured from the environment, for `shema web` and for running
several worker processes under uvicorn on PostgreSQL:

    SHEMA_DB=postgresql+psycopg://… uvicorn --factory web.asgi:from_environment --workers 4
"""

from __future__ import annotations

import os

from starlette.applications import Starlette

from engine.channels.config import web_url
from storage.database import DEFAULT_URL
from web.app import create_app


def from_environment(db_url: str | None = None) -> Starlette:
    """The web app over `db_url` (else SHEMA_DB), trusted header and HTTPS from the
    environment (SHEMA_WEB_TRUSTED_HEADER, SHEMA_WEB_TRUSTED_PROXIES, SHEMA_WEB_HTTPS_ONLY,
    SHEMA_WEB_URL)."""
    proxies = [p for p in os.environ.get("SHEMA_WEB_TRUSTED_PROXIES", "").split(",") if p.strip()]
    return create_app(
        db_url or os.environ.get("SHEMA_DB") or DEFAULT_URL,
        trusted_header=os.environ.get("SHEMA_WEB_TRUSTED_HEADER") or None,
        trusted_proxies=proxies,
        https_only=os.environ.get("SHEMA_WEB_HTTPS_ONLY", "") in ("1", "true", "yes"),
        web_url=web_url(os.environ),
    )
