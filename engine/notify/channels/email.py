"""E-mail: building the MIME message, SMTP delivery and the `.eml` folder."""

from __future__ import annotations

import datetime as dt
import email.errors
import smtplib
import ssl
from email.header import Header
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from pathlib import Path
from typing import Any

from engine.notify.channels import DeliveryError, Mail


def to_message(mail: Mail, *, date: dt.datetime | None = None) -> EmailMessage:
    """The RFC 5322 message for `mail` (UTF-8, Message-ID from the outbox key), dated
    `date`, else `mail.date`; without either (a Mail built by hand) it has no Date
    header: nothing here reads the clock."""
    msg = EmailMessage()
    msg["From"] = mail.sender
    msg["To"] = formataddr((mail.to_name, mail.to_address or ""))
    subject = " ".join(mail.subject.split())  # a line break would end the header
    if subject.isascii():
        msg["Subject"] = subject
    else:
        # Encoded by email.header and stored as written: the policy's own refolding of
        # long non-ASCII subjects moves the space next to an encoded word (CPython's
        # folder), so "iecere — termiņš" would arrive as "iecere  —termiņš".
        msg.set_raw("Subject", Header(subject, "utf-8", header_name="Subject").encode())
    msg["Message-ID"] = mail.message_id
    when = date or mail.date
    if when is not None:
        msg["Date"] = format_datetime(when)
    msg["X-Shema-Key"] = mail.key
    msg.set_content(mail.body)
    return msg


def build(mail: Mail) -> EmailMessage:
    """The message, or a permanent DeliveryError saying why it cannot be written (an
    address or a name that a header cannot carry): retrying would not help."""
    try:
        msg = to_message(mail)
        msg.as_bytes()  # headers are checked when the message is written out
        return msg
    except (ValueError, UnicodeError, email.errors.MessageError) as exc:
        raise DeliveryError(
            f"cannot build the message: {exc}",
            permanent=True,
            code="delivery.unbuildable",
            key=mail.key,
            reason=str(exc),
        ) from exc


class SmtpChannel:
    """Delivers through an SMTP server (optionally STARTTLS and login)."""

    name = "smtp"

    def __init__(
        self,
        host: str,
        port: int = 25,
        *,
        user: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        timeout: float = 30.0,
    ) -> None:
        self.host, self.port, self.user, self.password = host, port, user, password
        self.starttls, self.timeout = starttls, timeout

    def send(self, mail: Mail) -> None:
        if not mail.to_address:
            raise DeliveryError(
                f"{mail.to_name} has no e-mail address",
                code="delivery.no_address",
                key=mail.key,
                name=mail.to_name,
            )
        message = build(mail)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.user:
                    smtp.login(self.user, self.password or "")
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            permanent = bool(codes) and all(code >= 500 for code in codes)
            raise DeliveryError(
                f"SMTP {self.host}:{self.port}: {exc}",
                permanent=permanent,
                code="delivery.smtp_refused",
                **self._where(mail, exc),
            ) from exc
        except smtplib.SMTPNotSupportedError as exc:  # e.g. an address that needs SMTPUTF8
            raise DeliveryError(
                f"SMTP {self.host}:{self.port}: {exc}",
                permanent=True,
                code="delivery.smtp_unsupported",
                **self._where(mail, exc),
            ) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(
                f"SMTP {self.host}:{self.port}: {exc}",
                code="delivery.smtp_failed",
                **self._where(mail, exc),
            ) from exc

    def _where(self, mail: Mail, exc: Exception) -> dict[str, Any]:
        return {"key": mail.key, "host": self.host, "port": self.port, "reason": str(exc)}


class FolderChannel:
    """Writes each message as `<key>.eml` into a folder (the embedded default and the
    demo). Writing the same key twice replaces the file: it is idempotent."""

    name = "folder"

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def send(self, mail: Mail) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in mail.key)
            path = self.directory / f"{safe}.eml"
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(build(mail).as_bytes())
            tmp.replace(path)
        except OSError as exc:
            raise DeliveryError(
                f"cannot write to {self.directory}: {exc}",
                code="delivery.folder_failed",
                key=mail.key,
                folder=str(self.directory),
                reason=str(exc),
            ) from exc
