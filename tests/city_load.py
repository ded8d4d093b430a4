"""A small load on a city-mode hub for the fault tests: plate-read sources that behave like edge boxes, and
operator screens on /ws/alerts that reconnect and catch up, each recording what the hub promised it.

ReadLoad: each source posts batches to /api/ingest/reads at its share of the rate, keeps every read until the
hub acknowledged it (`stored` or `duplicate`), and retries the rest with back-off, as a box's queue does. What
was acknowledged, and when, is kept: the test later checks each such read is in the database exactly once.

OperatorClient: a WebSocket on /ws/alerts (through the one shared address) that, after every (re)connect,
fetches what it missed with `GET /api/agency/alerts?after=<newest held>`, and keeps every alert by id.
Test support, not product code.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from websockets.exceptions import WebSocketException
from websockets.sync.client import connect

from tests.conftest import LAKEPORT

BATCH = 20  # reads per post at most (a box sends what has queued since its last answer)
ACKED = ("stored", "duplicate")


@dataclass
class SourceState:
    key: str
    name: str
    made: int = 0
    pending: list[dict] = field(default_factory=list)
    acknowledged: dict[str, str] = field(default_factory=dict)  # read_id -> the hub's id
    acknowledged_at: dict[str, float] = field(default_factory=dict)  # read_id -> time.monotonic() of the ack
    hot: set[str] = field(default_factory=set)  # read ids of the reads that carry a hot plate


class ReadLoad:
    """`start()`, then `stop()` (no new reads) and `drain()` (until every read made was acknowledged)."""

    def __init__(self, base_url: str, keys: list[str], hot_plates: list[str], *, rate_per_s: float = 30.0,
                 hit_every: int = 10, lat: float = 43.0, lon: float = -87.92):
        self.base_url = base_url
        self.sources = [SourceState(k, f"box{i}") for i, k in enumerate(keys)]
        self.hot_plates, self.hit_every = hot_plates, hit_every
        self.interval_s = len(keys) / rate_per_s  # each source makes one read this often
        self.lat, self.lon = lat, lon
        self.answers: dict[str, int] = {}  # "200", "503", "ConnectError", ... -> count
        self._lock = threading.Lock()
        self._making = threading.Event()
        self._running = threading.Event()
        self._threads: list[threading.Thread] = []
        self.first_refusal_at: dict[str, float] = {}

    def start(self) -> ReadLoad:
        self._making.set()
        self._running.set()
        for s in self.sources:
            t = threading.Thread(target=self._run, args=(s,), name=f"load-{s.name}", daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def stop(self) -> None:
        """No new reads; what is pending is still sent (drain)."""
        self._making.clear()

    def halt(self) -> None:
        """Stop at once, whatever is pending (the test is over)."""
        self._making.clear()
        self._running.clear()
        for t in self._threads:
            t.join(timeout=15)

    def drain(self, timeout_s: float = 60.0) -> None:
        self.stop()
        deadline = time.monotonic() + timeout_s
        while self.pending() and time.monotonic() < deadline:
            time.sleep(0.1)
        self.halt()
        if self.pending():
            raise AssertionError(f"{self.pending()} reads never acknowledged; answers {self.answers}")

    # ------------------------------------------------------------------ what the hub promised

    def pending(self) -> int:
        with self._lock:
            return sum(len(s.pending) for s in self.sources)

    def acknowledged(self, since: float | None = None) -> dict[tuple[str, str], str]:
        """(source name, read_id) -> hub id of every read the hub acknowledged (at `since`, a time.monotonic(),
        or later)."""
        with self._lock:
            return {(s.name, r): i for s in self.sources for r, i in s.acknowledged.items()
                    if since is None or s.acknowledged_at[r] >= since}

    def acknowledged_count(self) -> int:
        with self._lock:
            return sum(len(s.acknowledged) for s in self.sources)

    def hot_acknowledged(self) -> int:
        with self._lock:
            return sum(len(s.hot & s.acknowledged.keys()) for s in self.sources)

    def wait_acknowledged(self, more_than: int, timeout_s: float = 30.0) -> int:
        """Waits until the hub has acknowledged more than `more_than` reads in all (flow resumed)."""
        deadline = time.monotonic() + timeout_s
        while (count := self.acknowledged_count()) <= more_than:
            if time.monotonic() > deadline:
                raise AssertionError(f"the hub acknowledged no new read within {timeout_s} s "
                                     f"({count} in all; answers {self.answers})")
            time.sleep(0.1)
        return count

    def answered(self, outcome: str) -> int:
        with self._lock:
            return self.answers.get(outcome, 0)

    # ------------------------------------------------------------------ one source

    def _run(self, s: SourceState) -> None:
        client = httpx.Client(base_url=self.base_url, headers={"Authorization": f"Bearer {s.key}"},
                              timeout=httpx.Timeout(10.0, connect=3.0))
        next_read, backoff = time.monotonic() + random.uniform(0, self.interval_s), 0.0
        try:
            while self._running.is_set():
                now = time.monotonic()
                while self._making.is_set() and now >= next_read:
                    self._make(s)
                    next_read += self.interval_s
                with self._lock:
                    batch = list(s.pending[:BATCH])
                if not batch:
                    time.sleep(min(0.05, max(0.0, next_read - time.monotonic())))
                    continue
                if self._send(client, s, batch):
                    backoff = 0.0
                else:
                    backoff = min(2.0, max(0.1, backoff * 2))
                    time.sleep(backoff * random.uniform(0.8, 1.2))
        finally:
            client.close()

    def _make(self, s: SourceState) -> None:
        s.made += 1
        read_id = f"{s.name}-{s.made}"
        hot = s.made % self.hit_every == 0
        plate = random.choice(self.hot_plates) if hot else f"Q{random.randrange(10**6):06d}"
        read = {"read_id": read_id, "plate": plate, "confidence": 0.9, "lat": self.lat, "lon": self.lon,
                "captured_at": (datetime.now(UTC) - timedelta(seconds=1)).isoformat()}
        with self._lock:
            s.pending.append(read)
            if hot:
                s.hot.add(read_id)

    def _send(self, client: httpx.Client, s: SourceState, batch: list[dict]) -> bool:
        try:
            r = client.post("/api/ingest/reads", json={"version": 1, "reads": batch})
        except httpx.HTTPError as exc:
            self._count(type(exc).__name__)
            return False
        self._count(str(r.status_code))
        if r.status_code != 200:
            if r.status_code not in (429, 503) and r.status_code < 500:
                raise AssertionError(f"the hub refused a valid batch: {r.status_code} {r.text[:500]}")
            return False
        acks = {a["read_id"]: a for a in r.json()["results"] if a["status"] in ACKED}
        now = time.monotonic()
        with self._lock:
            for read_id, ack in acks.items():
                s.acknowledged[read_id] = ack["id"]
                s.acknowledged_at.setdefault(read_id, now)
            s.pending = [p for p in s.pending if p["read_id"] not in acks]
        return True

    def _count(self, outcome: str) -> None:
        with self._lock:
            self.answers[outcome] = self.answers.get(outcome, 0) + 1
            self.first_refusal_at.setdefault(outcome, time.monotonic())


class OperatorClient:
    """One command screen: holds every alert it got, live or by catch-up; reconnects with back-off."""

    def __init__(self, base_url: str, token: str, name: str):
        self.base_url, self.token, self.name = base_url, token, name
        self.ws_url = base_url.replace("http://", "ws://") + "/ws/alerts"
        self.alerts: dict[str, datetime] = {}  # id -> created_at
        self.connections = 0  # successful handshakes
        self.caught_up = 0  # alerts that came by the REST catch-up, not live
        self.local_port: int | None = None  # of the current connection (which serve process holds it)
        self.resumed: list[tuple[datetime, str | None]] = []  # (when, the alert it resumed after): for failures
        self.connected = threading.Event()
        self._lock = threading.Lock()
        self._running = threading.Event()
        self._socket = None
        self._thread: threading.Thread | None = None

    def start(self) -> OperatorClient:
        self._running.set()
        self._thread = threading.Thread(target=self._run, name=f"operator-{self.name}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._running.clear()
        if self._socket is not None:
            try:
                self._socket.close()
            except Exception:  # noqa: BLE001 - already gone
                pass
        if self._thread is not None:
            self._thread.join(timeout=10)

    def held(self) -> set[str]:
        with self._lock:
            return set(self.alerts)

    def _run(self) -> None:
        backoff = 0.0
        headers = {"Authorization": f"Bearer {self.token}"}
        while self._running.is_set():
            try:
                with connect(self.ws_url, additional_headers=headers, open_timeout=5, close_timeout=1) as ws:
                    self._socket = ws
                    self.local_port = ws.socket.getsockname()[1]
                    self.connections += 1
                    self.connected.set()
                    self._catch_up()  # after subscribing: nothing raised meanwhile falls between the two
                    backoff = 0.0
                    self._listen(ws)
            except (OSError, WebSocketException, httpx.HTTPError, TimeoutError):
                pass
            self.connected.clear()
            self.local_port = None
            if self._running.is_set():
                backoff = min(2.0, max(0.1, backoff * 2))
                time.sleep(backoff * random.uniform(0.8, 1.2))

    def _listen(self, ws) -> None:
        import json

        while self._running.is_set():
            try:
                text = ws.recv(timeout=0.5)
            except TimeoutError:
                continue
            message = json.loads(text)
            if message.get("type") == "alert":
                self._hold(message["alert"])

    def _catch_up(self) -> None:
        """What was raised since the newest alert held; retried until the hub answers (it may be recovering)."""
        with self._lock:
            newest = max(self.alerts.items(), key=lambda kv: (kv[1], kv[0]), default=None)
        params = {"limit": 500, **({"after": newest[0]} if newest else {})}
        self.resumed.append((datetime.now(UTC), newest[0] if newest else None))
        with httpx.Client(base_url=self.base_url, headers={"Authorization": f"Bearer {self.token}"},
                          timeout=10) as client:
            for attempt in range(50):
                r = client.get("/api/agency/alerts", params=params)
                if r.status_code == 200:
                    break
                if r.status_code < 500:
                    raise AssertionError(f"alert catch-up refused: {r.status_code} {r.text[:300]}")
                time.sleep(min(2.0, 0.1 * 2 ** attempt))
            else:
                raise httpx.HTTPError("the hub did not answer the catch-up")
        for alert in r.json():
            if self._hold(alert):
                self.caught_up += 1

    def _hold(self, alert: dict) -> bool:
        created = datetime.fromisoformat(alert["created_at"])
        with self._lock:
            new = alert["id"] not in self.alerts
            self.alerts[alert["id"]] = created
        return new


def agency_by_cli(cluster, work_dir: Path) -> tuple[str, str]:
    """`rtcc agency create` against a CityCluster's database, as an operator would: (agency id, the
    administrator's first password)."""
    jurisdiction = work_dir / "lakeport.geojson"
    jurisdiction.write_text(json.dumps(LAKEPORT))
    done = subprocess.run([sys.executable, "-m", "openrtcc.cli", "agency", "create", "--slug", "lakeport", "--name",
                           "Lakeport Police", "--jurisdiction", str(jurisdiction), "--admin-email",
                           "admin@lakeport.test"], capture_output=True, text=True, env=cluster.process_env(),
                          timeout=120)
    assert done.returncode == 0, done.stderr
    agency_id = done.stdout.split("(", 1)[1].split(")", 1)[0]
    password = done.stdout.rsplit("initial password: ", 1)[1].split()[0]
    return agency_id, password
