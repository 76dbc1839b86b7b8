"""E-mail: building the MIME message, SMTP delivery and the `.eml` folder.

Both channels send in batches (the contract is in engine/notify/channels/__init__.py):
SMTP opens one connection per batch (one login, a message after another, QUIT), and
opens it again once when it drops; the folder writes each file durably and makes the
batch's new names durable with one fsync of the directory."""

from __future__ import annotations

import datetime as dt
import email.errors
import os
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
    return written(mail)[0]


def written(mail: Mail) -> tuple[EmailMessage, bytes]:
    """The message and its bytes (written once), or a permanent DeliveryError as `build`."""
    try:
        msg = to_message(mail)
        return msg, msg.as_bytes()  # headers are checked when the message is written out
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
        """One message on a connection of its own."""
        batch = self.batch()
        try:
            batch.send(mail)
        finally:
            batch.close()

    def batch(self) -> SmtpBatch:
        return SmtpBatch(self)

    def connect(self) -> smtplib.SMTP:
        """A new connection, STARTTLS and login done."""
        smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.user:
                smtp.login(self.user, self.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def failure(self, mail: Mail, reason: str, exc: Exception | None = None) -> DeliveryError:
        """The DeliveryError for sending `mail` failing with `exc` (None: not tried):
        permanent only when the server refused every recipient for good (5xx) or cannot
        carry such a message."""
        where: dict[str, Any] = {
            "key": mail.key,
            "host": self.host,
            "port": self.port,
            "reason": reason,
        }
        message = f"SMTP {self.host}:{self.port}: {reason}"
        if isinstance(exc, smtplib.SMTPRecipientsRefused):
            codes = [code for code, _ in exc.recipients.values()]
            permanent = bool(codes) and all(code >= 500 for code in codes)
            code = "delivery.smtp_refused"
            return DeliveryError(message, permanent=permanent, code=code, **where)
        if isinstance(exc, smtplib.SMTPNotSupportedError):  # e.g. an address needing SMTPUTF8
            code = "delivery.smtp_unsupported"
            return DeliveryError(message, permanent=True, code=code, **where)
        return DeliveryError(message, code="delivery.smtp_failed", **where)


def connection_lost(exc: BaseException) -> bool:
    """Whether `exc` leaves no usable connection (the server unreachable or gone, the
    greeting or login refused), as opposed to a refusal of one message."""
    lost = (
        smtplib.SMTPServerDisconnected,
        smtplib.SMTPConnectError,
        smtplib.SMTPHeloError,
        smtplib.SMTPAuthenticationError,
    )
    if isinstance(exc, lost):
        return True
    return isinstance(exc, OSError) and not isinstance(exc, smtplib.SMTPException)


class SmtpBatch:
    """Messages over one SMTP connection, opened at the first message. When a connection
    that has carried messages drops, the message is sent once more on a new one; when the
    server cannot be reached, the rest of the batch is not tried (transient failures)."""

    def __init__(self, channel: SmtpChannel) -> None:
        self.channel = channel
        self.connections = 0  # opened so far: one, or one more per dropped connection
        self._smtp: smtplib.SMTP | None = None
        self._unreachable: str | None = None

    def send(self, mail: Mail) -> None:
        if not mail.to_address:
            raise DeliveryError(
                f"{mail.to_name} has no e-mail address",
                code="delivery.no_address",
                key=mail.key,
                name=mail.to_name,
            )
        message = build(mail)
        if self._unreachable is not None:
            reason = f"not tried after an earlier failure in this batch: {self._unreachable}"
            raise self.channel.failure(mail, reason)
        try:
            self._submit(message, again=self._smtp is not None)
        except OSError as exc:  # smtplib's errors are OSErrors too
            if connection_lost(exc):
                self._discard()
                self._unreachable = str(exc)
            elif self._smtp is not None and self._smtp.sock is None:
                self._smtp = None  # the server closed it (421): the next message reconnects
            raise self.channel.failure(mail, str(exc), exc) from exc

    def _submit(self, message: EmailMessage, *, again: bool) -> None:
        """Send on the open connection (or a new one); `again`: if that connection has
        dropped, once more on a new one."""
        try:
            self._connection().send_message(message)
        except OSError as exc:
            if not (again and connection_lost(exc)):
                raise
            self._discard()
            self._connection().send_message(message)

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is None:
            self._smtp = self.channel.connect()
            self.connections += 1
        return self._smtp

    def _discard(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            smtp.close()

    def close(self) -> None:
        """QUIT; never raises: the server confirmed each message as it accepted it."""
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except OSError:
            smtp.close()


class FolderChannel:
    """Writes each message as `<key>.eml` into a folder (the embedded default and the
    demo). Writing the same key twice replaces the file: it is idempotent."""

    name = "folder"

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def send(self, mail: Mail) -> None:
        """One message, durable when this returns."""
        batch = self.batch()
        try:
            batch.send(mail)
        finally:
            batch.close()

    def batch(self) -> FolderBatch:
        return FolderBatch(self.directory)


def eml_path(directory: Path, key: str) -> Path:
    """The file in `directory` of the message keyed `key`."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in key)
    return directory / f"{safe}.eml"


class FolderBatch:
    """Files written into one folder; durable once `close` returned.

    Each file is written under a temporary name, fsynced and renamed over `<key>.eml`
    (a reader never sees half a message, and the name never points at data still in
    memory); the renames of the whole batch are made durable by one fsync of the
    directory in `close`, before the outbox records them as sent."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.written = 0
        self._ready = False

    def send(self, mail: Mail) -> None:
        message = written(mail)[1]
        path = eml_path(self.directory, mail.key)
        try:
            if not self._ready:
                self.directory.mkdir(parents=True, exist_ok=True)
                self._ready = True
            tmp = path.with_suffix(".tmp")
            with tmp.open("wb") as out:
                out.write(message)
                out.flush()
                os.fsync(out.fileno())
            tmp.replace(path)
        except OSError as exc:
            raise self._failure(exc, key=mail.key) from exc
        self.written += 1

    def close(self) -> None:
        """One fsync of the folder for every rename of the batch."""
        if not self.written:
            return
        try:
            fd = os.open(self.directory, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise self._failure(exc) from exc

    def _failure(self, exc: OSError, **key: Any) -> DeliveryError:
        return DeliveryError(
            f"cannot write to {self.directory}: {exc}",
            code="delivery.folder_failed",
            folder=str(self.directory),
            reason=str(exc),
            **key,
        )
