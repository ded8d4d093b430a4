"""The read forwarder against a loopback HTTP server that answers as a troubled hub would: 503, silence
past the timeout, a refusal that names no read. Nothing is dropped; the queue is never blocked."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from openrtcc.domain.reads import ReadIn
from openrtcc.edge.alarms import Alarms
from openrtcc.edge.config import EdgeConfig
from openrtcc.edge.hub_http import hub_client
from openrtcc.edge.read_forwarder import QUARANTINE_ALARM, ReadForwarder
from openrtcc.edge.read_queue import ReadQueue

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


class TroubledHub(ThreadingHTTPServer):
    """Answers each POST with the next scripted behaviour: an int status, "hang", or "ack" (stored)."""

    def __init__(self, script: list):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.script, self.bodies = list(script), []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output clean
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        self.server.bodies.append(body)
        step = self.server.script.pop(0) if self.server.script else "ack"
        if step == "hang":
            time.sleep(1.5)  # past the client's timeout
            return
        if step == "ack":
            doc = {"results": [{"read_id": r["read_id"], "status": "stored"} for r in body["reads"]]}
            return self._answer(200, doc)
        if isinstance(step, tuple):  # (status, body) or (status, body, headers)
            return self._answer(*step)
        self._answer(step, {"error": "unavailable", "message": "try later", "details": {}})

    def _answer(self, status: int, doc: dict, headers: dict | None = None):
        data = json.dumps(doc).encode()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def serve():
    servers = []

    def start(script: list) -> TroubledHub:
        server = TroubledHub(script)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def queued(tmp_path, n: int) -> ReadQueue:
    queue = ReadQueue(tmp_path / "reads.db")
    for i in range(n):
        read = ReadIn(read_id="x", camera_id="cam-1", plate=f"Q{i}", confidence=0.9, captured_at=NOW)
        queue.enqueue("cam-1", read, shared=True, now=NOW)
    return queue


def forwarder(queue: ReadQueue, url: str, alarms: Alarms | None = None) -> ReadForwarder:
    config = EdgeConfig.model_validate({"edge": {"hub_url": url}})
    return ReadForwarder(queue, "edge-1", lambda: hub_client(config, "k", timeout_s=0.5), lambda _c: ("agency",),
                         alarms, min_backoff_s=0.01, max_backoff_s=0.05, now=lambda: NOW)


def test_5xx_and_a_silent_hub_keep_every_read_then_the_retry_delivers_each_once(serve, tmp_path):
    hub = serve([503, "hang", 500])
    queue = queued(tmp_path, 4)
    fwd = forwarder(queue, hub.url)
    for _ in range(3):
        result = fwd.send_once()
        assert result.retry_after_s > 0 and result.delivered == 0
        assert queue.pending() == 4
    assert fwd.send_once().delivered == 4 and queue.pending() == 0
    # Every attempt carried the same reads under the same ids: the hub's idempotency does the rest.
    ids = [[r["read_id"] for r in b["reads"]] for b in hub.bodies]
    assert all(i == [f"edge-1:cam-1:{n}" for n in range(1, 5)] for i in ids)


def test_a_busy_hub_is_asked_again_after_its_retry_after_and_nothing_is_dropped(serve, tmp_path):
    busy = {"error": "busy", "message": "the hub is busy", "details": {"retry_after_s": 7}}
    hub = serve([(503, busy, {"Retry-After": "7"}), (503, busy, {"Retry-After": "soon"}),
                 (503, busy, {"Retry-After": "-3"}), (429, busy, {"Retry-After": "900"})])
    queue = queued(tmp_path, 3)
    config = EdgeConfig.model_validate({"edge": {"hub_url": hub.url}})
    fwd = ReadForwarder(queue, "edge-1", lambda: hub_client(config, "k", timeout_s=0.5), lambda _c: ("agency",),
                        min_backoff_s=0.5, max_backoff_s=60.0, now=lambda: NOW)
    waits = [fwd.send_once().retry_after_s for _ in range(4)]
    assert 7.0 <= waits[0] <= 10.5  # not sooner than asked, spread so refused boxes do not return together
    assert 0.4 <= waits[1] <= 0.6 and 0.8 <= waits[2] <= 1.2  # no usable header: the box's own back-off
    assert 60.0 <= waits[3] <= 90.0  # never more than the box's longest back-off asked for, spread
    assert queue.pending() == 3
    assert fwd.send_once().delivered == 3 and queue.pending() == 0


def test_a_refusal_naming_no_read_is_narrowed_down_to_the_culprit(serve, tmp_path):
    refusal = (422, {"error": "invalid_input", "message": "no", "details": {}})
    # The batch of 4 is refused, then its first half (2) is refused, then the first read alone: quarantined.
    hub = serve([refusal, refusal, refusal])
    queue = queued(tmp_path, 4)
    alarms = Alarms(lambda: NOW)
    fwd = forwarder(queue, hub.url, alarms)
    while queue.pending():
        fwd.send_once()
    assert [len(b["reads"]) for b in hub.bodies][:3] == [4, 2, 1]
    assert queue.counts() == {"pending": 0, "local": 0, "quarantined": 1}
    assert queue.quarantined()[0][:2] == ("cam-1", 1)
    assert alarms.is_active(QUARANTINE_ALARM)


def test_a_refused_key_waits_and_drops_nothing(serve, tmp_path):
    hub = serve([(401, {"error": "edge_key_refused", "message": "unknown or revoked edge key", "details": {}})])
    queue = queued(tmp_path, 2)
    result = forwarder(queue, hub.url).send_once()
    assert result.retry_after_s > 0 and queue.pending() == 2 and queue.counts()["quarantined"] == 0


def test_a_clock_ahead_of_the_hub_makes_reads_wait_not_quarantined(serve, tmp_path):
    skew = (422, {"error": "clock_skew", "message": "reads.0.captured_at: ahead of the hub's clock",
                  "details": {"index": 0, "field": "captured_at"}})
    hub = serve([skew])
    queue = queued(tmp_path, 2)
    fwd = forwarder(queue, hub.url)
    assert fwd.send_once().retry_after_s > 0
    assert queue.counts() == {"pending": 2, "local": 0, "quarantined": 0}
    assert fwd.send_once().delivered == 2  # the hub's clock caught up


def test_a_read_stamped_while_the_clock_was_far_ahead_is_quarantined_not_blocking(serve, tmp_path):
    skew = (422, {"error": "clock_skew", "message": "reads.0.captured_at: ahead of the hub's clock",
                  "details": {"index": 0, "field": "captured_at"}})
    hub = serve([skew])
    queue = ReadQueue(tmp_path / "reads.db")
    future = ReadIn(read_id="x", camera_id="cam-1", plate="JUMP1", confidence=0.9,
                    captured_at=datetime(2027, 11, 21, tzinfo=UTC))  # the clock jumped a year ahead, then back
    queue.enqueue("cam-1", future, shared=True, now=NOW)
    queue.enqueue("cam-1", ReadIn(read_id="x", camera_id="cam-1", plate="OK1", confidence=0.9, captured_at=NOW),
                  shared=True, now=NOW)
    fwd = forwarder(queue, hub.url)
    while queue.pending():
        fwd.send_once()
    assert queue.counts() == {"pending": 0, "local": 0, "quarantined": 1}
    assert queue.quarantined()[0][1] == 1


def test_reads_kept_on_the_box_go_after_30_days_hourly(tmp_path):
    queue = ReadQueue(tmp_path / "reads.db")
    read = ReadIn(read_id="x", camera_id="cam-1", plate="LOCAL1", confidence=0.9, captured_at=NOW)
    queue.enqueue("cam-1", read, shared=False, now=NOW)
    clock = [NOW]
    fwd = ReadForwarder(queue, "edge-1", lambda: None, lambda _c: (), now=lambda: clock[0])
    clock[0] = NOW + timedelta(days=29, hours=23, minutes=30)
    assert fwd.purge_if_due() == 0 and queue.counts()["local"] == 1  # not 30 days old yet
    clock[0] = NOW + timedelta(days=30, minutes=15)
    assert fwd.purge_if_due() == 0  # old enough now, but within the hour since the last purge
    clock[0] = NOW + timedelta(days=30, minutes=31)
    assert fwd.purge_if_due() == 1 and queue.counts()["local"] == 0
