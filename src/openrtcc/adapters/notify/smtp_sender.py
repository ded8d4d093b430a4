"""The email channel: a batch sent over a few SMTP sessions, each reused for many messages and kept open
between batches.

One session (STARTTLS and login as the smtp_* settings say) carries a share of the batch, and goes back to a
small pool afterwards, so the next batch (often a single alert's few messages) starts without a connection,
a handshake or a login. A session idle for a few seconds is asked NOOP before it is used again, one idle for
a minute (or that has carried SESSION_MESSAGES) is closed. Each message gets its own outcome: a recipient or
message the relay refuses with a 5xx code is refused for good (dead letter); a 4xx answer, a dropped
connection or a relay that cannot be reached is tried again later. After a dropped connection a session is
opened again once for the rest of its share. List-Unsubscribe and List-Unsubscribe-Post (RFC 8058) come in
OutboundMessage.headers."""

from __future__ import annotations

import logging
import re
import smtplib
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from openrtcc.adapters.notify.sender_threads import SenderThreads
from openrtcc.adapters.notify.smtp_mailer import SmtpMailer
from openrtcc.domain.dissemination import OutboundMessage, SendOutcome

log = logging.getLogger(__name__)

# What a mail address must look like to be handed to the relay: one @, no spaces, brackets or line breaks.
EMAIL_ADDRESS = re.compile(r"^[^@\s<>()\[\],;:\"\\]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$")
_HEADER_NAMES = frozenset({"List-Unsubscribe", "List-Unsubscribe-Post", "List-Id", "Auto-Submitted"})
CLOSING = 421  # "service not available, closing channel": smtplib has closed the session
MESSAGES_PER_SESSION = 50  # below this a batch does not open another session
IDLE_CHECK_S = 5.0  # a kept session idle longer than this is asked NOOP before it carries messages again
IDLE_CLOSE_S = 60.0  # relays drop idle clients after a minute or more; ours leave first
SESSION_MESSAGES = 1000  # some relays cap messages per connection: start afresh well before that


@dataclass(eq=False)
class _Session:
    smtp: smtplib.SMTP
    sent: int = 0
    idle_since: float = field(default_factory=time.monotonic)


class SmtpSender:
    def __init__(self, mailer: SmtpMailer, *, sessions: int = 4):
        self.mailer = mailer
        self.sessions = sessions
        self._threads = SenderThreads(sessions, "smtp-send")
        self._idle: list[_Session] = []  # open sessions between batches, the most recently used last
        self._idle_lock = threading.Lock()

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
        """Quit the kept sessions; a later send opens new ones (the app may start again)."""
        self._threads.close()
        with self._idle_lock:
            idle, self._idle = self._idle, []
        for session in idle:
            _quit(session.smtp)

    def _take(self) -> _Session:
        """A kept session that still answers, else a new one (OSError or SMTPException if none opens)."""
        while True:
            with self._idle_lock:
                session = self._idle.pop() if self._idle else None
            if session is None:
                return _Session(self.mailer.open())
            idle = time.monotonic() - session.idle_since
            if idle > IDLE_CLOSE_S:
                _quit(session.smtp)
            elif idle <= IDLE_CHECK_S or _answers(session.smtp):
                return session

    def _keep(self, session: _Session) -> None:
        if session.sent >= SESSION_MESSAGES:
            _quit(session.smtp)
            return
        session.idle_since = time.monotonic()
        with self._idle_lock:
            self._idle.append(session)
            extra = self._idle[:-2 * self.sessions]  # more than the lanes' threads can use at once
            del self._idle[:-2 * self.sessions]
        for old in extra:
            _quit(old.smtp)

    def _session(self, messages: Sequence[OutboundMessage]) -> list[SendOutcome]:
        """Send over one session; reopen it once if the relay drops it."""
        outcomes: list[SendOutcome] = []
        pending = list(messages)
        reopened = False
        while pending:
            try:
                session = self._take()
            except (OSError, smtplib.SMTPException) as exc:
                reason = _session_failure(exc)
                log.warning("email: %s; %s deliveries will be tried again", reason, len(pending))
                return outcomes + [SendOutcome(m.delivery_id, False, reason) for m in pending]
            tried, dropped = len(pending), True
            try:
                pending, dropped = self._send_over(session.smtp, pending, outcomes)
                session.sent += tried - len(pending)
            finally:
                if dropped:
                    _quit(session.smtp)
                else:
                    self._keep(session)
            if pending and reopened:
                outcomes += [SendOutcome(m.delivery_id, False, "the relay dropped the connection twice")
                             for m in pending]
                return outcomes
            reopened = True
        return outcomes

    def _send_over(self, smtp: smtplib.SMTP, pending: list[OutboundMessage], outcomes: list[SendOutcome]
                   ) -> tuple[list[OutboundMessage], bool]:
        """Send until done or the connection drops; returns what is left (the dropped message counted failed)
        and whether the session is gone (or in a state it should not be used in again)."""
        gone = False
        for i, message in enumerate(pending):
            try:
                smtp.sendmail(self.mailer.sender, [message.address], self._compose(message).as_bytes())
            except smtplib.SMTPRecipientsRefused as exc:
                code = next(iter(exc.recipients.values()), (450, b""))[0]
                outcomes.append(_refused(message, code, "the relay refused the recipient"))
                if code == CLOSING:
                    return pending[i + 1:], True
            except (smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as exc:
                outcomes.append(_refused(message, exc.smtp_code, "the relay refused the message"))
                if exc.smtp_code == CLOSING:
                    return pending[i + 1:], True
            except (smtplib.SMTPServerDisconnected, OSError) as exc:  # after the above: SMTPException is an OSError
                if isinstance(exc, smtplib.SMTPException) and not isinstance(exc, smtplib.SMTPServerDisconnected):
                    outcomes.append(SendOutcome(message.delivery_id, False, f"SMTP error: {type(exc).__name__}"))
                    gone = True  # an answer smtplib did not expect: the rest of this share, but not kept
                    continue
                outcomes.append(SendOutcome(message.delivery_id, False, "the relay dropped the connection"))
                return pending[i + 1:], True
            else:
                outcomes.append(SendOutcome(message.delivery_id, True))
        return [], gone

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


def _answers(smtp: smtplib.SMTP) -> bool:
    """NOOP answered 250: the kept session is still there (if not, it is closed)."""
    try:
        if smtp.noop()[0] == 250:
            return True
    except (OSError, smtplib.SMTPException):
        pass
    _quit(smtp)
    return False


def _quit(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()
