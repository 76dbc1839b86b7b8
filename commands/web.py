"""`shema` commands: The web interface and its sign-in accounts."""

from __future__ import annotations

import sys

import click

from commands.base import (
    Settings,
    ShemaGroup,
    pass_settings,
)

# -- web ---------------------------------------------------------------------------


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@pass_settings
def web(s: Settings, host: str, port: int) -> None:
    """Serve the web interface (SHEMA_WEB_TRUSTED_HEADER with SHEMA_WEB_TRUSTED_PROXIES
    enables single sign-on through a proxy; SHEMA_WEB_HTTPS_ONLY=1 behind HTTPS)."""
    import uvicorn

    from web.asgi import app_for

    s.engine()  # refuse a missing or outdated database before listening
    app = app_for(s.config)
    click.echo(f"Shēma web on http://{host}:{port} ({s.engine().db.safe_url}); Ctrl+C stops it")
    uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=False)


@click.group(cls=ShemaGroup)
def user() -> None:
    """Sign-in accounts for the web interface."""


@user.command("set-password")
@click.argument("person")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from the first line of stdin."
)
@pass_settings
def user_set_password(s: Settings, person: str, password_stdin: bool) -> None:
    """Set PERSON's web password (a coordinator may set anyone's, a person their own)."""
    from engine.accounts import set_password

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    set_password(s.engine(), person, password, actor=s.who())
    click.echo(f"password set for {person}")
