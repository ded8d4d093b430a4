"""The WebSocket channel on a live uvicorn hub with real WebSocket clients: tokens by hash (Bearer or ?token=),
audited refusals, fan-out to every screen of the subscriber only, "no screen" failing for a retry, and a
client that stops reading dropped without holding up the sender."""

from __future__ import annotations

import json
import secrets
import socket
import time
from urllib.parse import urlsplit

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from openrtcc.bench.server import LoopbackServer
from openrtcc.domain.dissemination import ChannelKind, OutboundMessage
from openrtcc.web.notice_sockets import NoticeSockets, install
from openrtcc.web.routers.notices_socket import token_hash

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])  # the fan-out does not vary by database


def add_subscriber(hub, agency_id: str, channel: str = "websocket", status: str = "active") -> tuple[str, str]:
    token = secrets.token_urlsafe(32)
    sid = hub.ids.new_id()
    with hub.uow() as uow:
        uow.dissemination.add_subscriber({
            "id": sid, "agency_id": agency_id, "audience": "private_security", "channel": channel, "address": "",
            "name": "Harbor Security desk", "categories": [], "geofence": None, "secret": token_hash(token),
            "status": status, "created_at": hub.clock.now()})
        uow.commit_bookkeeping()
    return sid, token


def notice(delivery_id: int, subscriber_id: str) -> OutboundMessage:
    doc = {"type": "new", "before": None, "after": {"category": "burglary", "area": "Elm St"}}
    return OutboundMessage(delivery_id, ChannelKind.WEBSOCKET, subscriber_id, "Burglary near Elm St", "text", doc)


def refusals(hub) -> list:
    with hub.uow() as uow:
        found = [(a.outcome, a.details.get("reason")) for a in uow.audit.iter_records()
                 if a.action == "notice.stream"]
        uow.rollback()
    return found


def next_notice(ws) -> dict:
    while True:
        message = json.loads(ws.recv(timeout=5))
        if message["type"] != "heartbeat":
            return message


def test_screens_of_a_subscriber_get_its_notices_and_bad_tokens_are_refused_and_audited(world, app, hub, backend):
    agency = world.agency().id
    sid, token = add_subscriber(hub, agency)
    other, other_token = add_subscriber(hub, agency)
    gone, gone_token = add_subscriber(hub, agency, status="unsubscribed")
    mail, mail_token = add_subscriber(hub, agency, channel="email")
    sender = hub.extras["channels"][ChannelKind.WEBSOCKET]
    with LoopbackServer(app) as base_url:
        ws_url = base_url.replace("http://", "ws://") + "/ws/notices"
        for query, headers in ((f"?subscriber={sid}&token={other_token}", {}),
                               (f"?subscriber={sid}", {"Authorization": "Bearer wrong"}), (f"?subscriber={sid}", {}),
                               (f"?subscriber={gone}&token={gone_token}", {}),
                               (f"?subscriber={mail}&token={mail_token}", {}), (f"?token={token}", {})):
            with pytest.raises(InvalidStatus):
                connect(ws_url + query, additional_headers=headers, open_timeout=5)
        assert sender.send([notice(1, sid)])[0].retryable  # nobody connected yet: failed, to retry
        with connect(f"{ws_url}?subscriber={sid}", additional_headers={"Authorization": f"Bearer {token}"}) as a, \
                connect(f"{ws_url}?subscriber={sid}&token={token}") as b, \
                connect(f"{ws_url}?subscriber={other}&token={other_token}") as c:
            deadline = time.monotonic() + 5
            while hub.extras["notice_sockets"].connected() < 3 and time.monotonic() < deadline:
                time.sleep(0.02)
            outcomes = sender.send([notice(2, sid), notice(3, other)])
            first, second, third = next_notice(a), next_notice(b), next_notice(c)
    assert [o.ok for o in outcomes] == [True, True]
    assert first == second == {"type": "notice", "delivery_id": 2, "subject": "Burglary near Elm St", "text": "text",
                               "notice": {"type": "new", "before": None,
                                          "after": {"category": "burglary", "area": "Elm St"}}}
    assert third["delivery_id"] == 3
    assert refusals(hub) == [("denied", "bad_token"), ("denied", "bad_token"), ("denied", "no_token"),
                             ("denied", "subscription_unsubscribed"), ("denied", "unknown_subscriber"),
                             ("denied", "no_subscriber"), ("success", None), ("success", None), ("success", None)]


def stalled_client(base_url: str, path: str) -> socket.socket:
    """A WebSocket handshake by hand on a socket with a tiny receive buffer, then never another read."""
    url = urlsplit(base_url)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((url.hostname, url.port))
    sock.sendall((f"GET {path} HTTP/1.1\r\nHost: {url.netloc}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


def test_a_screen_that_stops_reading_is_dropped_and_then_counts_as_not_connected(world, app, hub, backend):
    sockets = hub.extras["notice_sockets"] = NoticeSockets(queue_limit=16)
    install(hub)
    sender = hub.extras["channels"][ChannelKind.WEBSOCKET]
    sid, token = add_subscriber(hub, world.agency().id)
    with LoopbackServer(app) as base_url:
        stalled = stalled_client(base_url, f"/ws/notices?subscriber={sid}&token={token}")
        deadline = time.monotonic() + 5
        while sockets.connected() < 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        big = notice(0, sid)
        flood = [OutboundMessage(i, big.channel, sid, big.subject, "x" * 4000, big.data) for i in range(1, 400)]
        handed = sum(o.ok for o in sender.send(flood))
        deadline = time.monotonic() + 10
        while sockets.connected() and time.monotonic() < deadline:
            time.sleep(0.05)
        after = sender.send([notice(500, sid)])[0]
        stalled.close()
    assert 0 < handed < 399  # some were queued before the screen fell behind
    assert sockets.connected() == 0 and not after.ok and after.retryable
