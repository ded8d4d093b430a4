"""The email channel: a batch sent over a few SMTP sessions, each reused for many messages.

One session (STARTTLS and login as the smtp_* settings say) carries a share of the batch, so a thousand
messages cost a handful of handshakes. Each message gets its own outcome: a recipient or message the relay
refuses with a 5xx code is refused for good (dead letter); a 4xx answer, a dropped connection or a relay that
cannot be reached is tried again later. After a dropped connection the session is opened again once for the
rest of its share. List-Unsubscribe and List-Unsubscribe-Post (RFC 8058) come in OutboundMessage.headers."""

from __future__ import annotations

import logging
import re
import smtplib
from collections.abc import Sequence

from openrtcc.adapters.notify.sender_threads import SenderThreads
from openrtcc.adapters.notify.smtp_mailer import SmtpMailer
from openrtcc.domain.dissemination import OutboundMessage, SendOutcome

log = logging.getLogger(__name__)

# What a mail address must look like to be handed to the relay: one @, no spaces, brackets or line breaks.
EMAIL_ADDRESS = re.compile(r"^[^@\s<>()\[\],;:\"\\]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$")
_HEADER_NAMES = frozenset({"List-Unsubscribe", "List-Unsubscribe-Post", "List-Id", "Auto-Submitted"})
CLOSING = 421  # "service not available, closing channel": smtplib has closed the session
MESSAGES_PER_SESSION = 50  # below this a batch does not open another session


class SmtpSender:
    def __init__(self, mailer: SmtpMailer, *, sessions: int = 4):
        self.mailer = mailer
        self.sessions = sessions
        self._threads = SenderThreads(sessions, "smtp-send")

    def send(self, messages: Sequence[OutboundMessage]) -> list[SendOutcome]:
        outcomes, sendable = [], []
        for message in messages:
            refusal = _address_refusal(message)
            if refusal:
                outcomes.append(SendOutcome(message.delivery_id, False, refusal, retryable=False))
            else:
                sendable.append(message)
        shares = max(1, min(self.sessions, len(sendable) // MESSAGES_PER_SESSION))
        chunks = [sendable[i::shares] for i in range(shares)]
        if shares == 1:
            outcomes += self._session(chunks[0])
        else:
            for part in self._threads.map(self._session, chunks):
                outcomes += part
        return outcomes

    def close(self) -> None:
        self._threads.close()

    def _session(self, messages: Sequence[OutboundMessage]) -> list[SendOutcome]:
        """Send over one session; reopen it once if the relay drops it."""
        outcomes: list[SendOutcome] = []
        pending = list(messages)
        reopened = False
        while pending:
            try:
                smtp = self.mailer.open()
            except (OSError, smtplib.SMTPException) as exc:
                reason = _session_failure(exc)
                log.warning("email: %s; %s deliveries will be tried again", reason, len(pending))
                return outcomes + [SendOutcome(m.delivery_id, False, reason) for m in pending]
            try:
                pending = self._send_over(smtp, pending, outcomes)
            finally:
                _quit(smtp)
            if pending and reopened:
                outcomes += [SendOutcome(m.delivery_id, False, "the relay dropped the connection twice")
                             for m in pending]
                return outcomes
            reopened = True
        return outcomes

    def _send_over(self, smtp: smtplib.SMTP, pending: list[OutboundMessage], outcomes: list[SendOutcome]
                   ) -> list[OutboundMessage]:
        """Send until done or the connection drops; returns what is left (the dropped message counted failed)."""
        for i, message in enumerate(pending):
            try:
                smtp.sendmail(self.mailer.sender, [message.address], self._compose(message).as_bytes())
            except smtplib.SMTPRecipientsRefused as exc:
                code = next(iter(exc.recipients.values()), (450, b""))[0]
                outcomes.append(_refused(message, code, "the relay refused the recipient"))
                if code == CLOSING:
                    return pending[i + 1:]
            except (smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as exc:
                outcomes.append(_refused(message, exc.smtp_code, "the relay refused the message"))
                if exc.smtp_code == CLOSING:
                    return pending[i + 1:]
            except (smtplib.SMTPServerDisconnected, OSError) as exc:  # after the above: SMTPException is an OSError
                if isinstance(exc, smtplib.SMTPException) and not isinstance(exc, smtplib.SMTPServerDisconnected):
                    outcomes.append(SendOutcome(message.delivery_id, False, f"SMTP error: {type(exc).__name__}"))
                    continue
                outcomes.append(SendOutcome(message.delivery_id, False, "the relay dropped the connection"))
                return pending[i + 1:]
            else:
                outcomes.append(SendOutcome(message.delivery_id, True))
        return []

    def _compose(self, message: OutboundMessage):
        headers = {k: v for k, v in message.headers.items() if k in _HEADER_NAMES and "\n" not in v and "\r" not in v}
        return self.mailer.compose(message.address, message.subject, message.text, headers)


def _address_refusal(message: OutboundMessage) -> str | None:
    if not EMAIL_ADDRESS.match(message.address or ""):
        return "not a deliverable email address"
    if "\n" in message.subject or "\r" in message.subject:
        return "the subject holds a line break"
    return None


def _refused(message: OutboundMessage, code: int, what: str) -> SendOutcome:
    return SendOutcome(message.delivery_id, False, f"{what} ({code})", retryable=not 500 <= code < 600)


def _session_failure(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return f"the relay refused the login ({exc.smtp_code})"
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return "the relay does not offer STARTTLS"
    return f"the relay could not be reached ({type(exc).__name__})"


def _quit(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()
