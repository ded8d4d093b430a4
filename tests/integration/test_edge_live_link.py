"""A request the hub did not vouch for in full reaches the box over its real link (HubLink) and is refused,
logged and answered. The hub here is a WebSocket server on loopback speaking the link protocol, so that it
can send what the real hub never would."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime

import httpx
from websockets.sync.server import serve

from openrtcc.domain.clock import SystemClock
from openrtcc.domain.edge_protocol import LiveEnded, Welcome, parse_edge_message
from openrtcc.edge.access_log import EdgeAccessLog
from openrtcc.edge.alarms import Alarms
from openrtcc.edge.config import EdgeConfig
from openrtcc.edge.credentials import Credentials
from openrtcc.edge.hub_link import HubLink
from openrtcc.edge.hub_uploads import HubUploads
from openrtcc.edge.policy_gate import PolicyGate
from openrtcc.edge.request_handler import RequestHandler

MALFORMED_START = {  # the requester has no user: the hub did not say who is asking
    "v": 1, "type": "live_start", "session_id": "s-who", "camera_id": "cam-1", "upload_token": "k" * 40,
    "requester": {"agency_id": "agency-1", "purpose": "just looking"}}


def test_a_live_start_without_a_user_is_refused_over_the_real_link_and_logged(tmp_path):
    received: list = []
    answered = threading.Event()

    def hub(ws):
        parse_edge_message(ws.recv(timeout=5))  # hello
        ws.send(Welcome(sent_at=datetime.now(UTC), edge_id="edge-1").model_dump_json())
        ws.send(json.dumps({**MALFORMED_START, "sent_at": datetime.now(UTC).isoformat()}))
        try:
            while not answered.is_set():
                message = parse_edge_message(ws.recv(timeout=10))
                received.append(message)
                if isinstance(message, LiveEnded):
                    answered.set()
        except Exception:
            answered.set()

    with serve(hub, "127.0.0.1", 0) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.socket.getsockname()[1]}"
        config = EdgeConfig.model_validate({
            "edge": {"hub_url": url, "data_dir": str(tmp_path)},
            "cameras": [{"id": "cam-1", "name": "Front", "url": "rtsp://127.0.0.1:1/x"}]})
        clock = SystemClock()
        gate = PolicyGate(config)
        access_log = EdgeAccessLog(tmp_path / "access_log.db", now=clock.now)
        link = HubLink(config, Credentials("edge-1", "key-1", url), gate, clock=clock, alarms=Alarms(clock.now))
        with httpx.Client(base_url=url) as client:
            handler = RequestHandler(config, gate, access_log, HubUploads(client), link.send, clock, {}.get)
            handler.register(link)
            link.start()
            try:
                assert answered.wait(10), "the box did not answer"
            finally:
                link.stop()
                handler.close()
        server.shutdown()
    ended = [m for m in received if isinstance(m, LiveEnded)]
    assert len(ended) == 1 and ended[0].session_id == "s-who" and ended[0].refused
    assert "requester.user_id" in ended[0].reason
    entry = access_log.latest(5)[-1]
    assert (entry.kind, entry.outcome, entry.camera_id, entry.agency_id, entry.user_id) == (
        "live", "refused", "cam-1", "agency-1", None)
    assert entry.purpose == "just looking" and entry.reason == ended[0].reason
    access_log.close()
