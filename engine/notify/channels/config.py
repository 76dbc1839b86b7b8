"""Choosing channels from settings: every function takes the settings as a mapping of
name to text (the edges read the environment once and pass it); nothing here reads
`os.environ`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from engine.notify.channels import Channel
from engine.notify.channels.email import FolderChannel, SmtpChannel
from workflow.errors import EnvironmentProblem


@dataclass
class MailSettings:
    """Where messages go: SMTP, a folder of .eml files, both, or nowhere yet."""

    channels: list[Channel] = field(default_factory=list)
    sender: str | None = None  # SHEMA_MAIL_FROM; else the organisation file's sender
    retry_for: dt.timedelta = dt.timedelta(days=1)  # SHEMA_MAIL_RETRY_HOURS

    @property
    def describe(self) -> str:
        if not self.channels:
            return "no mail channel configured (SHEMA_SMTP_HOST or SHEMA_MAIL_DIR): messages wait"
        return ", ".join(_describe(c) for c in self.channels)


def _describe(channel: Channel) -> str:
    if isinstance(channel, SmtpChannel):
        return f"smtp {channel.host}:{channel.port}"
    if isinstance(channel, FolderChannel):
        return f"folder {channel.directory}"
    return channel.name


def mail_settings(env: Mapping[str, str]) -> MailSettings:
    """SMTP when SHEMA_SMTP_HOST is set, a folder when SHEMA_MAIL_DIR is set; both may be."""
    channels: list[Channel] = []
    host = env.get("SHEMA_SMTP_HOST")
    if host:
        try:
            port = int(env.get("SHEMA_SMTP_PORT", "25"))
        except ValueError:
            raise EnvironmentProblem(
                "SHEMA_SMTP_PORT must be a number",
                code="mail.port_not_number",
                value=env.get("SHEMA_SMTP_PORT"),
            ) from None
        if not 1 <= port <= 65535:
            raise EnvironmentProblem(
                f"SHEMA_SMTP_PORT {port} is not a port (1-65535)",
                code="mail.port_range",
                value=port,
            )
        channels.append(
            SmtpChannel(
                host,
                port,
                user=env.get("SHEMA_SMTP_USER") or None,
                password=env.get("SHEMA_SMTP_PASSWORD") or None,
                starttls=env.get("SHEMA_SMTP_STARTTLS", "").lower() in ("1", "true", "yes", "on"),
            )
        )
    folder = env.get("SHEMA_MAIL_DIR")
    if folder:
        channels.append(FolderChannel(Path(folder)))
    sender = env.get("SHEMA_MAIL_FROM") or None
    if sender is not None and "@" not in sender:
        raise EnvironmentProblem(
            f"SHEMA_MAIL_FROM {sender!r} is not an e-mail address",
            code="mail.sender_invalid",
            value=sender,
        )
    raw = env.get("SHEMA_MAIL_RETRY_HOURS") or "24"
    try:
        hours = float(raw)
    except ValueError:
        hours = -1.0
    if not 1 <= hours <= 24 * 30:
        raise EnvironmentProblem(
            f"SHEMA_MAIL_RETRY_HOURS {raw!r} is not a number of hours from 1 to 720",
            code="mail.retry_hours",
            value=raw,
        )
    return MailSettings(channels, sender, dt.timedelta(hours=hours))


def web_url(env: Mapping[str, str]) -> str | None:
    """SHEMA_WEB_URL, the web interface's address that messages link to (else None)."""
    from urllib.parse import urlsplit

    url = (env.get("SHEMA_WEB_URL") or "").strip()
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
        raise EnvironmentProblem(
            f"SHEMA_WEB_URL {url!r} is not a web address (e.g. https://shema.example.lv)",
            code="mail.web_url_invalid",
            value=url,
        )
    return url.rstrip("/")
