"""Mail senders: SMTP in production, `.eml` files in a local folder in embedded mode.

Mails go out on a background thread, after the transaction committed: an answer takes the
same time whether or not a mail was sent (the forgot-password flow must not reveal emails),
and a slow mail server never holds a database transaction.
"""

from __future__ import annotations

import logging
import os
import smtplib
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

from pivotal_runtime.state import FILE_MODE, private_folder

log = logging.getLogger("pivotal.identity.mail")


def _message(sender: str, to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = f"<{uuid.uuid4().hex}@pivotal.local>"
    # Plain 7bit (8bit when not ASCII), never quoted-printable: links and tokens stay
    # copyable from the mail's source (quoted-printable would break them with `=` line ends).
    message.set_content(body, cte="7bit" if body.isascii() else "8bit")
    return message


class FolderMailSender:
    def __init__(self, folder: Path, sender: str) -> None:
        self.folder = folder
        self._sender = sender

    def deliver(self, to: str, subject: str, body: str) -> None:
        private_folder(self.folder)
        name = f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}.eml"
        temporary = self.folder / (name + ".tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        with os.fdopen(descriptor, "wb") as handle:  # owner-only: it holds a one-time token
            handle.write(bytes(_message(self._sender, to, subject, body)))
        temporary.rename(self.folder / name)


class SmtpMailSender:
    def __init__(self, *, host: str, port: int, sender: str, username: str | None,
                 password: str | None, starttls: bool, timeout: float = 10.0) -> None:
        self._host, self._port, self._sender = host, port, sender
        self._username, self._password = username, password
        self._starttls, self._timeout = starttls, timeout

    def deliver(self, to: str, subject: str, body: str) -> None:
        with smtplib.SMTP(self._host, self._port, timeout=self._timeout) as smtp:
            if self._starttls:
                smtp.starttls()
            if self._username:
                smtp.login(self._username, self._password or "")
            smtp.send_message(_message(self._sender, to, subject, body))


class BackgroundMailer:
    """The MailSender port: queues each mail for delivery by a backend on one thread."""

    def __init__(self, backend) -> None:
        self.backend = backend
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="identity-mail")

    def send(self, to: str, subject: str, body: str) -> None:
        self._pool.submit(self._deliver, to, subject, body)

    def _deliver(self, to: str, subject: str, body: str) -> None:
        try:
            self.backend.deliver(to, subject, body)
        except Exception as error:  # noqa: BLE001 (the body holds a token: never log it)
            log.error("mail %r could not be delivered: %s", subject, type(error).__name__)

    def later(self, work) -> None:
        """Runs `work` on the mail thread (before the mails it queues itself)."""
        def run() -> None:
            try:
                work()
            except Exception:  # background work: logged, never raised
                log.exception("background work failed")

        self._pool.submit(run)

    def flush(self, timeout: float = 10.0) -> None:
        # Twice: mails queued by background work that was queued before the first round.
        for _ in range(2):
            self._pool.submit(lambda: None).result(timeout)
