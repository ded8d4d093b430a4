"""The box's access log leaves the box for good only when the hub says it stored it: a hub that received
entries but never acknowledged them (it died before its commit) gets them again. The hub here is a WebSocket
server on loopback speaking the link protocol, so that it can withhold the acknowledgement."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from websockets.sync.server import serve

from openrtcc.domain.clock import SystemClock
from openrtcc.domain.edge_protocol import AccessLog, AccessLogStored, Hello, Welcome, parse_edge_message
from openrtcc.edge.access_log import EdgeAccessLog
from openrtcc.edge.alarms import Alarms
from openrtcc.edge.config import EdgeConfig
from openrtcc.edge.credentials import Credentials
from openrtcc.edge.hub_link import HubLink
from openrtcc.edge.policy_gate import PolicyGate


def test_unacknowledged_entries_are_sent_again_and_kept_until_the_hub_stored_them(tmp_path):
    batches: list[list[str]] = []
    acknowledged = threading.Event()
    done = threading.Event()

    def hub(ws):
        assert isinstance(parse_edge_message(ws.recv(timeout=5)), Hello)
        ws.send(Welcome(sent_at=datetime.now(UTC), edge_id="edge-1").model_dump_json())
        while not done.is_set():
            try:
                message = parse_edge_message(ws.recv(timeout=10))
            except TimeoutError:
                return
            if not isinstance(message, AccessLog):
                continue
            batches.append([e.entry_id for e in message.entries])
            if len(batches) == 2:  # the first delivery is "lost": no answer; the second is stored
                ws.send(AccessLogStored(sent_at=datetime.now(UTC), entry_ids=batches[-1]).model_dump_json())
                acknowledged.set()

    with serve(hub, "127.0.0.1", 0) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.socket.getsockname()[1]}"
        config = EdgeConfig.model_validate({"edge": {"hub_url": url, "data_dir": str(tmp_path)}})
        clock = SystemClock()
        access_log = EdgeAccessLog(tmp_path / "access_log.db", now=clock.now)
        entry = access_log.record(kind="live", outcome="refused", reason="the owner has paused sharing",
                                  camera_id="cam-1", agency_id="agency-1", user_id="u1", purpose="pursuit")
        link = HubLink(config, Credentials("edge-1", "key-1", url), PolicyGate(config), clock=clock,
                       alarms=Alarms(clock.now), access_log=access_log)
        link.start()
        try:
            assert acknowledged.wait(10), "the box did not send its entry again"
            assert [e.entry_id for e in access_log.unsent()] in ([entry.entry_id], [])
            deadline = clock.now().timestamp() + 5
            while access_log.unsent() and clock.now().timestamp() < deadline:
                threading.Event().wait(0.05)
            assert access_log.unsent() == []  # the hub's answer marked it sent
        finally:
            done.set()
            link.stop()
        server.shutdown()
    assert batches[0] == batches[1] == [entry.entry_id]
    access_log.close()
