"""The application configured from the environment, for `shema web` and for running
several worker processes under uvicorn on PostgreSQL:

    SHEMA_DB=postgresql+psycopg://… uvicorn --factory web.asgi:from_environment --workers 4
"""

from __future__ import annotations

import os

from starlette.applications import Starlette

from engine import failpoints
from engine.config import Config
from web.app import create_app


def app_for(config: Config) -> Starlette:
    """The web app over `config.db_url`, with its trusted header, HTTPS and public address
    (SHEMA_WEB_TRUSTED_HEADER, SHEMA_WEB_TRUSTED_PROXIES, SHEMA_WEB_HTTPS_ONLY,
    SHEMA_WEB_URL)."""
    return create_app(
        config.db_url,
        trusted_header=config.trusted_header,
        trusted_proxies=list(config.trusted_proxies),
        https_only=config.https_only,
        web_url=config.web_url(),
    )


def from_environment() -> Starlette:
    """The web app as the environment configures it (the uvicorn factory): the edge that
    reads os.environ, once."""
    config = Config.from_environ(os.environ)
    failpoints.enable(config.failpoints)
    return app_for(config)
