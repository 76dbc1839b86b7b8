"""Every setting Shēma reads from its environment, in one frozen object.

The edges (cli.py and commands/base.py, web/asgi.py) build a `Config` once with
`Config.from_environ(os.environ)` and pass it down; nothing below them reads the
environment. Values that can be wrong (mail, the web address) are kept as given and
checked when they are used, so a command that needs no mail does not fail over a
mistyped mail setting.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.notify.channels.config import MailSettings

DEFAULT_DB_URL = "sqlite:///shema.db"
# The variables `engine.notify.channels.config.mail_settings` reads.
MAIL_VARIABLES = (
    "SHEMA_SMTP_HOST",
    "SHEMA_SMTP_PORT",
    "SHEMA_SMTP_USER",
    "SHEMA_SMTP_PASSWORD",
    "SHEMA_SMTP_STARTTLS",
    "SHEMA_MAIL_DIR",
    "SHEMA_MAIL_FROM",
    "SHEMA_MAIL_RETRY_HOURS",
)
_YES = ("1", "true", "yes")


@dataclass(frozen=True, slots=True)
class Config:
    """What the environment says, read once.

    db_url: SHEMA_DB; user: SHEMA_USER; lang: SHEMA_LANG; debug: SHEMA_DEBUG (show
    tracebacks); failpoints: SHEMA_FAILPOINTS (comma-separated, crash tests only);
    web_url_text: SHEMA_WEB_URL as given; trusted_header / trusted_proxies / https_only:
    SHEMA_WEB_TRUSTED_HEADER, SHEMA_WEB_TRUSTED_PROXIES (comma-separated),
    SHEMA_WEB_HTTPS_ONLY; mail: the SHEMA_SMTP_* and SHEMA_MAIL_* variables as given.
    """

    db_url: str = DEFAULT_DB_URL
    user: str | None = None
    lang: str = "lv"
    debug: bool = False
    failpoints: frozenset[str] = frozenset()
    web_url_text: str = ""
    trusted_header: str | None = None
    trusted_proxies: tuple[str, ...] = ()
    https_only: bool = False
    mail: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_environ(cls, env: Mapping[str, str]) -> Config:
        """The settings `env` (os.environ at an edge) holds; unset ones take defaults."""
        proxies = tuple(p for p in env.get("SHEMA_WEB_TRUSTED_PROXIES", "").split(",") if p.strip())
        return cls(
            db_url=env.get("SHEMA_DB") or DEFAULT_DB_URL,
            user=env.get("SHEMA_USER") or None,
            lang=env.get("SHEMA_LANG") or "lv",
            debug=bool(env.get("SHEMA_DEBUG")),
            failpoints=frozenset(filter(None, env.get("SHEMA_FAILPOINTS", "").split(","))),
            web_url_text=env.get("SHEMA_WEB_URL", ""),
            trusted_header=env.get("SHEMA_WEB_TRUSTED_HEADER") or None,
            trusted_proxies=proxies,
            https_only=env.get("SHEMA_WEB_HTTPS_ONLY", "") in _YES,
            mail={k: env[k] for k in MAIL_VARIABLES if k in env},
        )

    def web_url(self) -> str | None:
        """The web interface's public address that messages link to, else None; an
        EnvironmentProblem when SHEMA_WEB_URL is not a web address."""
        from engine.notify.channels.config import web_url  # the channels load only when used

        return web_url({"SHEMA_WEB_URL": self.web_url_text})

    def mail_settings(self) -> MailSettings:
        """Where messages go; an EnvironmentProblem when a mail setting is wrong."""
        from engine.notify.channels.config import mail_settings

        return mail_settings(self.mail)
