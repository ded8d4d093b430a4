"""Email to a real SMTP relay (aiosmtpd) that requires STARTTLS and a login: sessions reused across a batch,
RFC 8058 headers, per-recipient outcomes, a relay that closes the connection mid-batch, and one that is down."""

from __future__ import annotations

import socket
import ssl
from email import message_from_bytes
from email.policy import default as default_policy

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from openrtcc.adapters.notify.smtp_mailer import SmtpMailer
from openrtcc.adapters.notify import smtp_sender
from openrtcc.adapters.notify.smtp_sender import SmtpSender
from openrtcc.domain.dissemination import ChannelKind, OutboundMessage
from tests.edge_hub import free_port
from tests.tls_certificates import make_tls_files

USER, PASSWORD = "rtcc-relay", "relay-Pass-42"
ONE_CLICK = "<https://rtcc.lakeport.test/api/public/unsubscribe?s=abc&t=tok>"


class Relay:
    """Keeps what it accepts; refuses nobody@ for good (550), busy@ for now (450), closes on bye@ (421)."""

    def __init__(self):
        self.messages: list = []
        self.sessions: set[tuple] = set()
        self.secured: set[bool] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("nobody@"):
            return "550 5.1.1 no such mailbox"
        if address.startswith("busy@"):
            return "450 4.2.1 mailbox busy, try later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if envelope.rcpt_tos[0].startswith("bye@"):
            return "421 4.3.2 shutting down, closing channel"
        self.sessions.add(session.peer)  # the client end of the connection: one per session
        self.secured.add(session.ssl is not None and session.authenticated)
        self.messages.append((envelope.rcpt_tos[0], message_from_bytes(envelope.content, policy=default_policy)))
        return "250 accepted"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == USER.encode() and auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself on a failure


@pytest.fixture
def relay(tmp_path, monkeypatch):
    ca, cert, key = make_tls_files(tmp_path, "localhost")
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))  # the hub trusts the relay's CA; nothing else changes
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    handler = Relay()
    ctl = Controller(handler, hostname="127.0.0.1", port=free_port(), tls_context=ctx, require_starttls=True,
                     authenticator=authenticator, auth_require_tls=True, server_hostname="localhost")
    ctl.start()
    yield handler, ctl.port
    ctl.stop()


def mailer(port: int, password: str = PASSWORD) -> SmtpMailer:
    return SmtpMailer("localhost", port, "alerts@rtcc.lakeport.test", starttls=True, username=USER,
                      password=password, timeout=5)


def mail(delivery_id: int, to: str) -> OutboundMessage:
    return OutboundMessage(delivery_id, ChannelKind.EMAIL, to, f"Lakeport alert {delivery_id}",
                           "Police activity near Elm St.", {},
                           headers={"List-Unsubscribe": ONE_CLICK,
                                    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click", "X-Injected": "no"})


def test_a_batch_goes_over_a_few_secured_sessions_with_outcomes_per_recipient(relay):
    handler, port = relay
    sender = SmtpSender(mailer(port), sessions=4)
    good = [mail(i, f"resident{i}@lakeport.test") for i in range(1, 121)]
    outcomes = {o.delivery_id: o for o in sender.send(good + [mail(901, "nobody@lakeport.test"),
                                                             mail(902, "busy@lakeport.test"),
                                                             mail(903, "no-at-sign.lakeport.test")])}
    sender.close()
    assert all(outcomes[i].ok for i in range(1, 121)) and len(handler.messages) == 120
    assert not outcomes[901].ok and not outcomes[901].retryable and "550" in outcomes[901].error
    assert not outcomes[902].ok and outcomes[902].retryable
    assert not outcomes[903].ok and not outcomes[903].retryable
    assert len(handler.sessions) <= 4 and handler.secured == {True}  # STARTTLS and login on every session
    to, msg = handler.messages[0]
    assert msg["List-Unsubscribe"].strip() == ONE_CLICK and msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg["X-Injected"] is None and msg["To"] == to and msg["Subject"].startswith("Lakeport alert")


def test_a_relay_closing_mid_batch_fails_that_message_only_and_the_rest_go_on_a_new_session(relay):
    handler, port = relay
    accented = OutboundMessage(1, ChannelKind.EMAIL, "a@lakeport.test", "Fermeture: rue de l'Église",
                               "Évitez le secteur — merci.", {})
    batch = [accented, mail(2, "bye@lakeport.test"), mail(3, "c@lakeport.test"), mail(4, "d@lakeport.test")]
    outcomes = {o.delivery_id: o for o in SmtpSender(mailer(port), sessions=1).send(batch)}
    assert [outcomes[i].ok for i in (1, 2, 3, 4)] == [True, False, True, True]
    assert outcomes[2].retryable
    assert [to for to, _ in handler.messages] == ["a@lakeport.test", "c@lakeport.test", "d@lakeport.test"]
    assert len(handler.sessions) == 2
    first = handler.messages[0][1]
    assert first["Subject"] == "Fermeture: rue de l'Église"
    assert first.get_content().strip() == "Évitez le secteur — merci."
    assert first["Date"] and first["Message-ID"].endswith("@rtcc.lakeport.test>")


def test_a_session_is_kept_between_batches_and_a_dead_one_is_replaced_before_use(relay):
    handler, port = relay
    sender = SmtpSender(mailer(port), sessions=1)
    first = sender.send([mail(1, "a@lakeport.test")]) + sender.send([mail(2, "b@lakeport.test")])
    assert [o.ok for o in first] == [True, True] and len(handler.sessions) == 1  # one login for both batches
    kept, = sender._idle
    kept.smtp.sock.shutdown(socket.SHUT_RDWR)  # the connection went away while the session sat idle (as after its idle timeout)
    kept.idle_since -= smtp_sender.IDLE_CHECK_S + 1
    again = sender.send([mail(3, "c@lakeport.test")])
    sender.close()
    assert [o.ok for o in again] == [True]  # NOOP found it dead: a new session carried the message
    assert [to for to, _ in handler.messages] == ["a@lakeport.test", "b@lakeport.test", "c@lakeport.test"]
    assert len(handler.sessions) == 2 and sender._idle == []


def test_a_wrong_login_or_a_relay_that_is_down_fails_every_delivery_for_a_retry(relay):
    handler, port = relay
    refused = SmtpSender(mailer(port, password="wrong")).send([mail(1, "a@lakeport.test")])[0]
    down = SmtpSender(mailer(free_port())).send([mail(2, "a@lakeport.test"), mail(3, "b@lakeport.test")])
    assert not refused.ok and refused.retryable and "login" in refused.error and PASSWORD not in refused.error
    assert [(o.ok, o.retryable) for o in down] == [(False, True), (False, True)]
    assert handler.messages == []
