"""Webhooks to a real receiver that verifies our HMAC signatures: outcomes by answer, keep-alive, no redirects,
time-outs, replays, and the SSRF guard at send time."""

from __future__ import annotations

import ssl
from datetime import UTC, datetime

import pytest

from openrtcc.adapters.notify.webhook_sender import WebhookSender
from openrtcc.domain.dissemination import ChannelKind, OutboundMessage
from tests.conftest import MutableClock
from tests.tls_certificates import make_tls_files
from tests.webhook_receiver import webhook_receiver

SECRET = "s3cr3t-signing-key-for-this-subscriber-0123"


def hook(delivery_id: int, url: str, secret: str | None = SECRET, **data) -> OutboundMessage:
    doc = {"type": "new", "before": None, "after": {"category": "road_closure", "area": "Elm St", **data}}
    return OutboundMessage(delivery_id, ChannelKind.WEBHOOK, url, "s", "t", doc, secret=secret)


@pytest.fixture
def now_clock() -> MutableClock:
    return MutableClock(datetime.now(UTC))


def test_a_batch_is_signed_verified_and_sent_over_few_kept_alive_connections(now_clock):
    sender = WebhookSender(now_clock, concurrency=8, allow_private=True)
    with webhook_receiver(SECRET) as rx:
        outcomes = sender.send([hook(i, f"{rx.url}/ok", n=i) for i in range(1, 121)])
        connections = rx.connections
        sender.close()  # the hub stopped; an app started again on the same hub sends with the same sender
        again = sender.send([hook(5, f"{rx.url}/ok", n=5)])  # a retry of one already received
    sender.close()
    assert all(o.ok for o in outcomes) and len(outcomes) == 120
    assert sorted(d["after"]["n"] for d in rx.received) == list(range(1, 121))
    assert sorted(rx.delivery_ids) == sorted(f"rtcc-{i:08d}" for i in range(1, 121))
    assert connections <= 8  # kept alive: not one connection per message
    assert again[0].ok and rx.refusals == ["replayed"] and len(rx.received) == 120


def test_each_answer_gives_its_outcome_and_redirects_are_not_followed(now_clock):
    sender = WebhookSender(now_clock, timeout_s=0.5, concurrency=4, allow_private=True)
    with webhook_receiver(SECRET, slow_s=1.5) as rx:
        cases = {1: "/status/500", 2: "/status/503", 3: "/status/429", 4: "/status/408", 5: "/status/404",
                 6: "/status/410", 7: "/redirect", 8: "/slow", 9: "/ok", 12: "/endless"}
        outcomes = {o.delivery_id: o for o in sender.send([hook(i, rx.url + p) for i, p in cases.items()])}
        wrong = sender.send([hook(10, f"{rx.url}/ok", secret="not-the-subscriber-secret")])[0]
        unsigned = sender.send([hook(11, f"{rx.url}/ok", secret=None)])[0]
    sender.close()
    retryable = {i for i, o in outcomes.items() if not o.ok and o.retryable}
    final = {i for i, o in outcomes.items() if not o.ok and not o.retryable}
    assert retryable == {1, 2, 3, 4, 8} and final == {5, 6, 7} and outcomes[9].ok
    assert outcomes[12].ok  # its 200 counts; the rest of the endless answer was not read
    assert "redirect" in outcomes[7].error
    assert rx.paths.count("/ok") == 2  # the /ok case and the wrongly signed one: the 302 was not followed
    assert not wrong.ok and not wrong.retryable and rx.refusals == ["bad_signature"]
    assert not unsigned.ok and not unsigned.retryable and len(rx.paths) == 11  # never sent unsigned


def test_a_signature_from_a_clock_far_off_is_refused_by_the_receiver(now_clock):
    now_clock.advance(minutes=-10)
    sender = WebhookSender(now_clock, allow_private=True)
    with webhook_receiver(SECRET) as rx:
        outcome, = sender.send([hook(1, f"{rx.url}/ok")])
    sender.close()
    assert not outcome.ok and rx.refusals == ["stale_signature"] and rx.received == []


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]", "2130706433", "0177.0.0.1"])
def test_private_addresses_are_refused_at_send_time_and_nothing_is_sent(now_clock, host):
    sender = WebhookSender(now_clock)  # outbound_allow_private off, as in production
    with webhook_receiver(SECRET) as rx:
        outcome, = sender.send([hook(1, f"http://{host}:{rx.port}/ok")])
    sender.close()
    assert not outcome.ok and not outcome.retryable and outcome.error
    assert rx.paths == [] and rx.connections == 0


def test_unreachable_and_malformed_urls(now_clock):
    sender = WebhookSender(now_clock, allow_private=True, timeout_s=1)
    down, bad, ftp = sender.send([hook(1, "http://127.0.0.1:9/ok"), hook(2, "http://exa mple.org/"),
                                  hook(3, "ftp://example.org/")])
    sender.close()
    assert not down.ok and down.retryable
    assert not bad.ok and not bad.retryable and not ftp.ok and not ftp.retryable


def test_https_receivers_get_the_checked_address_and_their_certificate_is_verified_by_name(now_clock, tmp_path,
                                                                                          monkeypatch):
    ca, cert, key = make_tls_files(tmp_path, "localhost")
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))  # the deployment trusts the receiver's CA
    sender = WebhookSender(now_clock, allow_private=True)
    with webhook_receiver(SECRET, tls=tls) as rx:
        named, by_ip = sender.send([hook(1, f"https://localhost:{rx.port}/ok"),
                                    hook(2, f"https://127.0.0.1:{rx.port}/ok")])
    sender.close()
    assert named.ok  # connected to the resolved address, TLS still checked against "localhost"
    assert not by_ip.ok and by_ip.retryable  # the certificate does not name 127.0.0.1: refused by TLS
    assert rx.delivery_ids == ["rtcc-00000001"]
