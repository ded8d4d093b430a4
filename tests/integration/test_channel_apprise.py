"""SMS through apprise's real Twilio plugin to a local Twilio (TLS, via a CONNECT proxy), push through its ntfy
plugin to a local ntfy: what the services receive, per-recipient outcomes, and no credentials in the logs."""

from __future__ import annotations

import logging

import certifi
import pytest

from openrtcc.adapters.notify.apprise_sender import AppriseSender
from openrtcc.domain.dissemination import ChannelKind, OutboundMessage
from tests.ntfy_server import ntfy_rig
from tests.twilio_server import FROM, INVALID_TO, SID, TOKEN, TWILIO_HOST, twilio_env, twilio_rig, twilio_url_template


def sms(delivery_id: int, to: str, text: str = "Police activity near Harbor St: avoid the area.") -> OutboundMessage:
    return OutboundMessage(delivery_id, ChannelKind.SMS, to, "Lakeport alert", text, {})


def test_sms_reaches_twilio_per_recipient_with_tls_verified_and_nothing_secret_logged(tmp_path, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    with twilio_rig(tmp_path) as rig:
        twilio_env(monkeypatch, rig)
        sender = AppriseSender(ChannelKind.SMS, twilio_url_template())
        outcomes = sender.send([sms(1, "+15551230001"), sms(2, "+447700900123"), sms(3, INVALID_TO),
                                sms(4, "555-1234"), sms(5, "+1555/../x")])
        sender.close()
    by_id = {o.delivery_id: o for o in outcomes}
    assert [by_id[i].ok for i in (1, 2, 3, 4, 5)] == [True, True, False, False, False]
    assert by_id[3].retryable  # Twilio said no; apprise does not say why, so it is tried again later
    assert not by_id[4].retryable and "E.164" in by_id[4].error  # never sent: not a phone number
    assert not by_id[5].retryable
    assert sorted(m["To"] for m in rig.messages) == ["+15551230001", "+447700900123"]
    assert all(m["From"] == FROM and "Harbor St" in m["Body"] for m in rig.messages)
    assert [r["To"] for r in rig.refused] == [INVALID_TO]
    assert set(rig.tunnels) == {f"{TWILIO_HOST}:443"}  # through the proxy, to Twilio's name, TLS checked
    ours = [r.getMessage() for r in caplog.records if r.name.startswith(("openrtcc", "apprise"))]
    assert TOKEN not in caplog.text  # urllib3's debug lines show the account id in the path, never the token
    assert not [line for line in ours + [o.error or "" for o in outcomes] if SID in line or "+15551230001" in line]


def test_sms_messages_share_one_kept_alive_connection_and_certificates_are_still_checked(tmp_path, monkeypatch):
    with twilio_rig(tmp_path) as rig:
        twilio_env(monkeypatch, rig)
        sender = AppriseSender(ChannelKind.SMS, twilio_url_template())
        outcomes = [o for i in range(4) for o in sender.send([sms(20 + i, f"+1555123{i:04d}")])]
        assert all(o.ok for o in outcomes)
        assert rig.tunnels == [f"{TWILIO_HOST}:443"]  # one tunnel, one TLS handshake, for four messages
        # Trusting other CAs than the one that signed the server's certificate: refused, tried again later.
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", certifi.where())
        refused, = sender.send([sms(30, "+15551230030")])
        sender.close()
    assert not refused.ok and refused.retryable
    assert len(rig.messages) == 4


def test_sms_fails_retryably_when_twilio_cannot_be_reached(tmp_path, monkeypatch):
    with twilio_rig(tmp_path) as rig:
        twilio_env(monkeypatch, rig)
    # The rig is gone: the proxy's port refuses connections.
    outcome, = AppriseSender(ChannelKind.SMS, twilio_url_template()).send([sms(7, "+15551230001")])
    assert not outcome.ok and outcome.retryable


def test_push_reaches_ntfy_topic_and_an_address_cannot_escape_its_place_in_the_url():
    with ntfy_rig() as rig:
        sender = AppriseSender(ChannelKind.PUSH, f"ntfy://127.0.0.1:{rig.port}/{{to}}")
        messages = [OutboundMessage(i, ChannelKind.PUSH, topic, f"Alert {i}", "Road closed on Elm St", {})
                    for i, topic in enumerate(["lakeport-alerts", "harbor_watch", "evil@127.0.0.1:1/x", ""],
                                              start=1)]
        outcomes = {o.delivery_id: o for o in sender.send(messages)}
        sender.close()
    assert outcomes[1].ok and outcomes[2].ok
    assert not outcomes[3].ok and not outcomes[3].retryable  # a slash or host part is refused before apprise
    assert not outcomes[4].ok and not outcomes[4].retryable
    assert sorted((m["topic"], m["title"], m["message"]) for m in rig.messages) == [
        ("harbor_watch", "Alert 2", "Road closed on Elm St"), ("lakeport-alerts", "Alert 1", "Road closed on Elm St")]


def test_push_messages_to_one_topic_each_arrive_with_their_own_content():
    with ntfy_rig() as rig:
        sender = AppriseSender(ChannelKind.PUSH, f"ntfy://127.0.0.1:{rig.port}/{{to}}")
        outcomes = [o for i in range(3) for o in sender.send(
            [OutboundMessage(i, ChannelKind.PUSH, "harbor_watch", f"Alert {i}", f"Closure {i}", {})])]
        sender.close()
    assert all(o.ok for o in outcomes)  # the plugin object is kept for the topic and used again
    assert [(m["topic"], m["title"], m["message"]) for m in rig.messages] == [
        ("harbor_watch", f"Alert {i}", f"Closure {i}") for i in range(3)]


def test_a_template_apprise_cannot_use_fails_for_good_and_one_without_to_is_refused_up_front():
    outcome, = AppriseSender(ChannelKind.PUSH, "nosuchservice://x/{to}").send(
        [OutboundMessage(1, ChannelKind.PUSH, "topic", "s", "t", {})])
    assert not outcome.ok and not outcome.retryable
    with pytest.raises(ValueError, match="{to}"):
        AppriseSender(ChannelKind.SMS, "twilio://a:b@+15550001111/+15550002222")
