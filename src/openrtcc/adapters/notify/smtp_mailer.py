"""Plain SMTP delivery (optionally STARTTLS and login): owner notifications one by one, and open sessions the
email channel reuses for a whole batch."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage


class SmtpMailer:
    def __init__(self, host: str, port: int, sender: str, *, starttls: bool = False,
                 username: str | None = None, password: str | None = None, timeout: float = 10.0):
        self.host, self.port, self.sender = host, port, sender
        self.starttls, self.username, self.password, self.timeout = starttls, username, password, timeout

    def compose(self, to: str, subject: str, body: str, headers: dict[str, str] | None = None) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = to
        msg["Subject"] = subject
        for name, value in (headers or {}).items():
            msg[name] = value
        msg.set_content(body)
        return msg

    def open(self) -> smtplib.SMTP:
        """A connected session, STARTTLS and login done as configured; the caller quits it."""
        smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            if self.starttls:
                # smtplib's own default context checks no certificate: verify the relay's like any TLS peer.
                smtp.starttls(context=ssl.create_default_context())
            if self.username:
                smtp.login(self.username, self.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, to: str, subject: str, body: str) -> None:
        with self.open() as smtp:
            smtp.send_message(self.compose(to, subject, body))
