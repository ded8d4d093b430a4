"""A real uvicorn hub: a client that stops reading is dropped, and the others keep receiving at full speed."""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import replace
from urllib.parse import urlsplit

import httpx
import pytest
from websockets.sync.client import connect

from openrtcc.bench.server import LoopbackServer
from openrtcc.domain.alerts import AlertRaised
from openrtcc.web.alert_stream import AlertStream
from tests.plate_reads import NCIC_LIST, earlier, import_list, new_source, read_body

QUEUE_LIMIT = 64
FLOOD = 2_000


def stalled_client(base_url: str, token: str) -> socket.socket:
    """A WebSocket handshake by hand on a socket with a tiny receive buffer, then never another read."""
    url = urlsplit(base_url)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((url.hostname, url.port))
    sock.sendall((f"GET /ws/alerts HTTP/1.1\r\nHost: {url.netloc}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                  f"Authorization: Bearer {token}\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


def drain_until_closed(sock: socket.socket) -> bytes:
    """Everything the hub sent, up to its closing of the connection."""
    sock.settimeout(10)
    data = b""
    while chunk := sock.recv(1 << 16):
        data += chunk
    return data


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite"])  # the fan-out does not touch the database
def test_a_stalled_client_is_dropped_and_does_not_hold_up_the_others(world, app, hub, clock):
    import_list(world, "NCIC stolen", "ncic", NCIC_LIST)
    key, _ = new_source(world)
    officer, analyst = world.staff("officer"), world.staff("analyst")
    app.state.alert_stream = AlertStream(hub.bus, queue_limit=QUEUE_LIMIT, heartbeat_s=5)
    with LoopbackServer(app) as base_url:
        ws_url = base_url.replace("http://", "ws://") + "/ws/alerts"
        stalled = stalled_client(base_url, officer.token)
        with connect(ws_url, additional_headers=analyst.headers) as reader:
            received: list[dict] = []
            done = threading.Event()

            def read_all():
                while len(received) < FLOOD + 1:
                    message = json.loads(reader.recv(timeout=30))
                    if message["type"] == "alert":
                        received.append(message["alert"])
                done.set()

            thread = threading.Thread(target=read_all, daemon=True)
            thread.start()
            r = httpx.post(f"{base_url}/api/ingest/reads", headers={"Authorization": f"Bearer {key}"},
                           json={"version": 1, "reads": [read_body("r-1", "ABC123", earlier(clock, seconds=2),
                                                                   state="CA")]})
            assert r.status_code == 200, r.text
            # Then a stream far beyond what the stalled client's queue and the socket buffers hold (the kernel lets a
            # send buffer grow to 4 MiB), published on the hub's bus as ingest publishes: copies of the real alert
            # under new ids, each padded to 4 KiB, in bursts of half a queue while the reading client keeps up.
            first = world.staff("supervisor").get("/api/agency/alerts").json()[0]["id"]
            with hub.uow() as uow:
                view = uow.alerts.get(world.agency().id, first)
                uow.rollback()
            padded = replace(view, entry={**view.entry, "remarks": "x" * 4096})
            for n in range(FLOOD):
                hub.bus.publish(AlertRaised(replace(padded, id=f"flood-{n}")))
                if n % (QUEUE_LIMIT // 2) == 0:
                    deadline = time.monotonic() + 10
                    while len(received) < n and time.monotonic() < deadline:
                        time.sleep(0.002)
            assert done.wait(30), f"the reading client got {len(received)} of {FLOOD + 1}"
            assert [a["id"] for a in received[1:]] == [f"flood-{n}" for n in range(FLOOD)]
            # The stalled client, reading at last, finds far fewer alerts than were sent, then the end of the
            # connection: the hub dropped it instead of buffering without bound or holding up the reader.
            data = drain_until_closed(stalled)
            assert 0 < data.count(b'"type":"alert"') < FLOOD // 2
