"""`rtcc bench city`'s load: simulated edge boxes posting plate reads, operators' screens holding /ws/alerts.

Each side runs in a spawned process of its own (never in the hub's). The edges are open-loop: reads are made
on a fixed schedule whatever the hub answers, and each box forwards like a real one (edge/read_forwarder.py):
one request in flight per box, whatever queued meanwhile goes in the next batch, a refused batch is kept and
sent again after a back-off. A slow hub therefore shows as latency and bigger batches, never as a lower
offered rate. Each hit's send time goes into an array shared with the operators' process (both on the
system-wide monotonic clock), which times the alert's arrival on every operator's socket.
"""

from __future__ import annotations

import asyncio
import json
import random
import ssl
import time
from array import array
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

from openrtcc.domain.reads import MAX_BATCH
from openrtcc.edge.read_forwarder import retry_after_of

TICK_S = 0.005  # the read maker's resolution
MIN_BACKOFF_S, MAX_BACKOFF_S = 1.0, 60.0  # a refused or failed batch is sent again after a back-off
DRAIN_S = 60.0  # after the schedule ends, how long the boxes may take to empty their queues
RECONNECT_S = 1.0
BOXES_PER_CLIENT = 8  # one connection each: a box has at most one request in flight
ALERT_PREFIX = '{"type":"alert"'
CATCH_UP_OVERLAP_S = 120.0  # the /alerts page's catch-up overlap (static/js/alerts.js CATCH_UP_OVERLAP_MS)


@dataclass(frozen=True, slots=True)
class EdgePlan:
    base_url: str
    rate: float
    seconds: float
    hit_share: float
    boxes: list[tuple[str, tuple[str, ...]]]  # (edge key, its camera ids)
    hits: list[str]
    misses: list[str]
    seed: int = 23


@dataclass(slots=True)
class EdgeResult:
    generated: int = 0
    hits_sent: int = 0
    accepted: int = 0  # stored or duplicate
    accepted_in_window: int = 0  # answered within the schedule's seconds
    not_shared: int = 0
    pending_at_end: int = 0  # still on the boxes after the drain
    posts: int = 0
    post_ms: list[float] = field(default_factory=list)
    batch_sizes: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)  # "429", "503", "ConnectError" ...
    per_second: list[int] = field(default_factory=list)  # reads accepted in each second of the schedule
    seconds: float = 0.0  # the schedule's length: reads are made over it, rates are per it
    schedule_s: float = 0.0  # wall time until the last read was made (longer if the maker fell behind)


class _Box:
    __slots__ = ("key", "cameras", "client", "queue", "busy", "backoff")

    def __init__(self, key: str, cameras: tuple[str, ...], client: httpx.AsyncClient):
        self.key, self.cameras, self.client = key, cameras, client
        self.queue: deque = deque()
        self.busy = False
        self.backoff = 0.0

    def next_backoff(self) -> float:
        """The forwarder's: doubling from 1 s to 60 s, with jitter so that boxes do not return together."""
        self.backoff = min(MAX_BACKOFF_S, max(MIN_BACKOFF_S, self.backoff * 2))
        return self.backoff * random.uniform(0.8, 1.2)


class EdgeFleet:
    """The simulated boxes on one asyncio loop. Each box has a keep-alive connection of its own, as a real box
    does (so the hub's processes share the boxes as the kernel spreads their connections); a client pool
    serves a few boxes, which keeps the pool's bookkeeping small."""

    def __init__(self, plan: EdgePlan, send_times):
        self.plan, self.send_times = plan, send_times
        limits = httpx.Limits(max_connections=BOXES_PER_CLIENT, max_keepalive_connections=BOXES_PER_CLIENT)
        tls = ssl.create_default_context()  # never used on loopback http; made once rather than per client
        self.clients = [httpx.AsyncClient(base_url=plan.base_url, limits=limits, timeout=60.0, verify=tls)
                        for _ in range(0, len(plan.boxes), BOXES_PER_CLIENT)]
        self.boxes = [_Box(k, cams, self.clients[i // BOXES_PER_CLIENT]) for i, (k, cams) in enumerate(plan.boxes)]
        self.result = EdgeResult(per_second=[0] * (int(plan.seconds) + 1), seconds=plan.seconds)
        self.tasks: set[asyncio.Task] = set()
        self.began = 0.0

    async def run(self) -> EdgeResult:
        rng, plan = random.Random(self.plan.seed), self.plan
        total = round(plan.rate * plan.seconds)  # read n is due at n / rate seconds
        self.began = time.monotonic()
        n = hit_i = 0
        while n < total:
            due = min(total, int((time.monotonic() - self.began) * plan.rate) + 1)
            for _ in range(due - n):  # every read due by now, however late the loop is
                is_hit = hit_i < len(plan.hits) and n * plan.hit_share >= hit_i
                self._make_read(rng, n, hit_i if is_hit else -1)
                hit_i += is_hit
                n += 1
            await asyncio.sleep(TICK_S)
        self.result.generated, self.result.hits_sent = n, hit_i
        self.result.schedule_s = time.monotonic() - self.began
        deadline = time.monotonic() + DRAIN_S
        while any(b.busy for b in self.boxes) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        self.result.pending_at_end = n - self.result.accepted - self.result.not_shared  # queued or in flight
        for task in list(self.tasks):
            task.cancel()
        for client in self.clients:
            await client.aclose()
        return self.result

    def _make_read(self, rng: random.Random, n: int, hit: int) -> None:
        box = self.boxes[rng.randrange(len(self.boxes))]
        plate = self.plan.hits[hit] if hit >= 0 else self.plan.misses[rng.randrange(len(self.plan.misses))]
        read = {"read_id": f"city-{n}", "camera_id": rng.choice(box.cameras), "plate": plate, "state": "CA",
                "confidence": round(rng.uniform(0.8, 0.99), 3), "captured_at": datetime.now(UTC).isoformat()}
        box.queue.append((read, hit))
        if not box.busy:
            box.busy = True
            task = asyncio.create_task(self._forward(box))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _forward(self, box: _Box) -> None:
        """One box's forwarder: send what is queued, one request at a time, until the queue is empty."""
        try:
            while box.queue:
                batch = [box.queue.popleft() for _ in range(min(MAX_BATCH, len(box.queue)))]
                refused = await self._post(box, batch)
                if refused is None:
                    box.backoff = 0.0
                else:
                    box.queue.extendleft(reversed(batch))  # kept on the box, in order, for the next try
                    await asyncio.sleep(box.next_backoff() if refused == 0 else refused)
        finally:
            box.busy = False

    async def _post(self, box: _Box, batch: list[tuple[dict, int]]) -> float | None:
        """None: answered; else how long to wait before sending again (0: the box's own back-off; more: the
        hub's Retry-After, honoured as edge/read_forwarder.py does)."""
        started = time.monotonic()
        for _, hit in batch:
            if hit >= 0 and not self.send_times[hit]:
                self.send_times[hit] = started
        r = self.result
        try:
            resp = await box.client.post("/api/edge/reads", json={"version": 1, "reads": [d for d, _ in batch]},
                                          headers={"Authorization": f"Bearer {box.key}"})
        except httpx.HTTPError as exc:
            r.errors[type(exc).__name__] += 1
            return 0.0
        done = time.monotonic()
        if resp.status_code != 200:
            asked = retry_after_of(resp)
            r.errors[str(resp.status_code) + (" Retry-After" if asked else "")] += 1
            return 0.0 if asked is None else min(MAX_BACKOFF_S, asked) * random.uniform(1.0, 1.5)
        r.posts += 1  # answered batches only: a busy hub's quick 503 is counted in `errors`
        r.post_ms.append((done - started) * 1000)
        body = resp.json()
        accepted = body["stored"] + body["duplicate"]
        r.accepted += accepted
        r.not_shared += body["not_shared"]
        r.batch_sizes[len(batch)] += 1
        second = int(done - self.began)
        if second < self.plan.seconds:
            r.accepted_in_window += accepted
            r.per_second[second] += accepted
        return None


def drive_edges(plan: EdgePlan, send_times, results) -> None:
    """In a spawned process: run the fleet's schedule, put its EdgeResult on `results`."""
    try:
        results.put(("edges", asyncio.run(EdgeFleet(plan, send_times).run())))
    except BaseException as exc:  # the parent must hear of it rather than wait
        results.put(("edges", RuntimeError(f"edge driver failed: {exc!r}")))


# ---------------------------------------------------------------------------------------------- operators


@dataclass(slots=True)
class OperatorResult:
    operators: int = 0
    connected: int = 0  # sockets open when the load began
    received: list[int] = field(default_factory=list)  # distinct alerts each operator received
    latency_ms: array = field(default_factory=lambda: array("d"))  # every (operator, alert) delivery
    duplicates: int = 0  # an alert an operator had already received
    unknown: int = 0  # alerts for plates the driver never sent
    disconnects: int = 0
    connect_errors: Counter = field(default_factory=Counter)
    caught_up: int = 0  # alerts an operator first got from the catch-up after (re)connecting, not the socket
    catch_up_errors: Counter = field(default_factory=Counter)


class OperatorScreens:
    """Operators' command-center screens: each holds /ws/alerts with its session and reconnects if dropped, and on
    each (re)connection catches up over REST as the /alerts page does (static/js/alerts.js): the alerts raised
    after the newest one it holds that is 2 minutes older than its newest (one page of 500), one copy per id."""

    def __init__(self, ws_url: str, tokens: list[str], hits: list[str], send_times, delivered):
        self.ws_url, self.tokens, self.send_times, self.delivered = ws_url, tokens, send_times, delivered
        self.api_url = ws_url.replace("ws://", "http://", 1).removesuffix("/ws/alerts")
        self.index = {p: i for i, p in enumerate(hits)}
        self.seen = [bytearray(len(hits)) for _ in tokens]
        self.on_socket = [bytearray(len(hits)) for _ in tokens]  # a duplicate is the socket sending one twice
        self.recent: list[deque] = [deque() for _ in tokens]  # (created_at, id) of the last minutes' alerts held
        self.http: httpx.AsyncClient | None = None
        self.catch_ups: set[asyncio.Task] = set()
        self.result = OperatorResult(operators=len(tokens), received=[0] * len(tokens))
        self.open: set[int] = set()
        self.stopping = False

    async def run(self, ready, stop) -> OperatorResult:
        self.http = httpx.AsyncClient(base_url=self.api_url, timeout=60, limits=httpx.Limits(max_connections=20))
        tasks = [asyncio.create_task(self._screen(i, t)) for i, t in enumerate(self.tokens)]
        while len(self.open) < len(self.tokens) and not stop.is_set():
            await asyncio.sleep(0.1)
        self.result.connected = len(self.open)
        ready.set()
        while not stop.is_set():
            await asyncio.sleep(0.2)
        self.stopping = True
        for task in tasks:
            task.cancel()
        for task in list(self.catch_ups):
            task.cancel()
        await asyncio.gather(*tasks, *self.catch_ups, return_exceptions=True)
        await self.http.aclose()
        return self.result

    async def _screen(self, i: int, token: str) -> None:
        from websockets.asyncio.client import connect
        from websockets.exceptions import ConnectionClosed, WebSocketException

        while not self.stopping:
            try:
                async with connect(self.ws_url, additional_headers={"Authorization": f"Bearer {token}"},
                                   max_queue=None, open_timeout=60) as ws:
                    self.open.add(i)
                    catch_up = asyncio.create_task(self._catch_up(i, token))
                    self.catch_ups.add(catch_up)
                    catch_up.add_done_callback(self.catch_ups.discard)
                    async for message in ws:
                        self._on_message(i, message, time.monotonic())
                self.result.disconnects += 1  # the hub closed it (a screen too slow for its queue is dropped)
            except ConnectionClosed:
                self.result.disconnects += 1
            except (OSError, WebSocketException, TimeoutError) as exc:
                self.result.connect_errors[type(exc).__name__] += 1
            self.open.discard(i)
            await asyncio.sleep(RECONNECT_S)

    async def _catch_up(self, i: int, token: str) -> None:
        held = self.recent[i]
        anchor = None
        if held:
            edge = max(created for created, _ in held) - CATCH_UP_OVERLAP_S
            older = [(created, aid) for created, aid in held if created <= edge]
            anchor = max(older)[1] if older else None
        params = {"after": anchor, "limit": 500} if anchor else {}
        try:
            r = await self.http.get("/api/agency/alerts", params=params, headers={"Authorization": f"Bearer {token}"})
        except httpx.HTTPError as exc:
            self.result.catch_up_errors[type(exc).__name__] += 1
            return
        if r.status_code != 200:
            self.result.catch_up_errors[str(r.status_code)] += 1
            return
        at = time.monotonic()
        for alert in r.json():
            if self._received(i, alert, at, socket=False):
                self.result.caught_up += 1

    def _on_message(self, i: int, message: str, at: float) -> None:
        if not message.startswith(ALERT_PREFIX):
            return  # heartbeats, camera status, alert updates
        self._received(i, json.loads(message)["alert"], at, socket=True)

    def _received(self, i: int, alert: dict, at: float, *, socket: bool) -> bool:
        """Counts an alert the first time this operator holds it; True then."""
        hit = self.index.get(alert["plate"])
        if hit is None:
            self.result.unknown += 1
            return False
        if socket:
            if self.on_socket[i][hit]:  # the socket sent it twice (a catch-up overlapping it is one copy per id)
                self.result.duplicates += 1
            self.on_socket[i][hit] = 1
        if self.seen[i][hit]:
            return False
        self._hold(i, alert)
        self.seen[i][hit] = 1
        self.result.received[i] += 1
        self.result.latency_ms.append((at - self.send_times[hit]) * 1000)
        self.delivered.value += 1  # only this process writes it; the parent reads it to end the drain early
        return True


    def _hold(self, i: int, alert: dict) -> None:
        """What the page's catch-up anchor needs: the alerts of the last few minutes (by creation time)."""
        created = datetime.fromisoformat(alert["created_at"]).timestamp()
        held = self.recent[i]
        held.append((created, alert["id"]))
        while held and held[0][0] < created - 3 * CATCH_UP_OVERLAP_S:
            held.popleft()


def drive_operators(ws_url: str, tokens: list[str], hits: list[str], send_times, delivered, ready, stop,
                    results) -> None:
    """In a spawned process: hold the operators' sockets until `stop`, put the OperatorResult on `results`;
    `delivered` counts the alerts received so far, all operators together."""
    try:
        screens = OperatorScreens(ws_url, tokens, hits, send_times, delivered)
        results.put(("operators", asyncio.run(screens.run(ready, stop))))
    except BaseException as exc:
        ready.set()
        results.put(("operators", RuntimeError(f"operator driver failed: {exc!r}")))
