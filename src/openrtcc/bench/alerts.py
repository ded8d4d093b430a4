"""`rtcc bench alerts`: plate reads posted to a served hub, alerts received over its WebSocket.

Target (issue): ingest -> WebSocket delivery p99 <= 250 ms at 200 reads/s sustained, on loopback.
"""

from __future__ import annotations

import json
import logging
import random
import string
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx

from openrtcc.bench.load import in_child_process
from openrtcc.bench.report import machine, percentile, replace_section
from openrtcc.bench.server import LoopbackServer
from openrtcc.bench.world import add_staff, build_world, staff_session
from openrtcc.domain.accounts import Role
from openrtcc.services.hotlists import import_hot_list
from openrtcc.services.read_sources import create_source
from openrtcc.web.app import create_app

log = logging.getLogger(__name__)
SECTION_TITLE = "## Plate reads to alerts (rtcc bench alerts)"
TARGET_P99_MS = 250.0
TICK_S = 0.1  # a batch every 100 ms: an edge box's send interval
HIT_SHARE = 0.1
LIST_ENTRIES = 20_000
DRAIN_S = 5.0


@dataclass(slots=True)
class AlertFigures:
    rate: float
    seconds: float
    batch: int
    entries: int = LIST_ENTRIES
    reads_sent: int = 0
    send_seconds: float = 0.0
    hits_sent: int = 0
    latency_ms: list[float] = field(default_factory=list)
    post_ms: list[float] = field(default_factory=list)

    @property
    def sustained(self) -> float:
        return self.reads_sent / self.send_seconds if self.send_seconds else 0.0

    @property
    def verdicts(self) -> dict[str, bool]:
        return {"latency": bool(self.latency_ms) and percentile(self.latency_ms, 99) <= TARGET_P99_MS,
                "rate": self.sustained >= 0.98 * self.rate,
                "delivered": len(self.latency_ms) == self.hits_sent}


def _plates(rng: random.Random, n: int) -> list[str]:
    chars = string.ascii_uppercase + string.digits
    out: set[str] = set()
    while len(out) < n:
        out.add("".join(rng.choice(chars) for _ in range(7)))
    return sorted(out)


def drive(base_url: str, key: str, token: str, rate: float, seconds: float, hits: list[str], misses: list[str]):
    """In a child process: send batches on a fixed schedule, time each hit until its alert arrives."""
    from websockets.sync.client import connect

    received: dict[str, float] = {}
    ws = connect(base_url.replace("http://", "ws://") + "/ws/alerts",
                 additional_headers={"Authorization": f"Bearer {token}"})

    def listen():
        try:
            for message in ws:
                doc = json.loads(message)
                if doc["type"] == "alert":
                    received.setdefault(doc["alert"]["plate"], time.monotonic())
        except Exception:  # the socket closes at the end of the run
            return

    threading.Thread(target=listen, daemon=True).start()
    per_batch = max(1, round(rate * TICK_S))
    sent_at: dict[str, float] = {}
    post_ms: list[float] = []
    client = httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {key}"}, timeout=30)
    ticks, n, hit_i = round(seconds / TICK_S), 0, 0
    began = time.monotonic()
    for tick in range(ticks):
        time.sleep(max(0.0, began + tick * TICK_S - time.monotonic()))
        reads, batch_hits = [], []
        for _ in range(per_batch):
            is_hit = hit_i < len(hits) and (n * HIT_SHARE) >= hit_i
            plate = hits[hit_i] if is_hit else misses[n % len(misses)]
            hit_i += is_hit
            batch_hits += [plate] if is_hit else []
            reads.append({"read_id": f"bench-{n}", "plate": plate, "state": "CA", "confidence": 0.9,
                          "captured_at": datetime.now(UTC).isoformat(), "lat": 42.3, "lon": -88.3})
            n += 1
        start = time.monotonic()
        for plate in batch_hits:
            sent_at[plate] = start
        r = client.post("/api/ingest/reads", json={"version": 1, "reads": reads})
        post_ms.append((time.monotonic() - start) * 1000)
        if r.status_code != 200:
            raise RuntimeError(f"ingest answered {r.status_code}: {r.text[:200]}")
    send_seconds = time.monotonic() - began
    deadline = time.monotonic() + DRAIN_S
    while len(received) < len(sent_at) and time.monotonic() < deadline:
        time.sleep(0.05)
    ws.close()
    client.close()
    latency = sorted((received[p] - t) * 1000 for p, t in sent_at.items() if p in received)
    return n, send_seconds, len(sent_at), latency, sorted(post_ms), per_batch


def run_bench(rate: float, seconds: float, data_dir: Path, entries: int = LIST_ENTRIES) -> AlertFigures:
    rng = random.Random(11)
    world = build_world(data_dir)
    hub = world.hub
    listed = _plates(rng, entries)
    ncic = "LIC,LIS,VMA,VCO\n" + "".join(f"{p},CA,TOYT,BLK\n" for p in listed)
    import_hot_list(hub, world.admin, name="Bench stolen vehicles", fmt="ncic", data=ncic.encode())
    hits = rng.sample(listed, min(len(listed), int(rate * seconds * HIT_SHARE) + 10))
    misses = [p for p in _plates(random.Random(12), 5_000) if p not in set(listed)]
    _, key = create_source(hub, world.admin, "Bench edge box", "edge", None)
    email = add_staff(world, Role.OFFICER, "bench-officer")
    try:
        with LoopbackServer(create_app(world.settings, hub)) as base_url:
            session = staff_session(base_url, email, world.password)
            token = session.headers["Authorization"].removeprefix("Bearer ")
            session.close()
            log.info("sending %s reads/s for %s s", rate, seconds)
            result = in_child_process(drive, base_url, key, token, rate, seconds, hits, misses)
    finally:
        hub.extras["engine"].dispose()
    figures = AlertFigures(rate, seconds, result[5], entries=entries)
    figures.reads_sent, figures.send_seconds, figures.hits_sent, figures.latency_ms, figures.post_ms = result[:5]
    return figures


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def rows(f: AlertFigures) -> list[list[str]]:
    v, p, q = f.verdicts, f.latency_ms, f.post_ms
    lat = f"{percentile(p, 50):.1f} / {percentile(p, 95):.1f} / {percentile(p, 99):.1f} ms" if p else "none received"
    return [
        [f"Ingest -> WebSocket alert, {len(p):,} alerts: p50 / p95 / p99", lat, f"p99 <= {TARGET_P99_MS:.0f} ms",
         _verdict(v["latency"])],
        [f"Sustained ingest ({f.batch} reads per batch every {TICK_S * 1000:.0f} ms, {f.reads_sent:,} reads)",
         f"{f.sustained:,.1f} reads/s", f">= {f.rate:,.0f} reads/s", _verdict(v["rate"])],
        ["Alerts received / hits sent", f"{len(p):,} / {f.hits_sent:,}", "all", _verdict(v["delivered"])],
        ["Ingest POST round trip (acknowledged after commit): p50 / p99",
         f"{percentile(q, 50):.1f} / {percentile(q, 99):.1f} ms" if q else "-", "-", "-"],
    ]


HOW = """How it was measured: `uv run rtcc bench alerts --rate {rate:g} --seconds {seconds:g}` builds a fresh hub
(embedded default: SQLite in WAL mode) with a hot list of {entries:,} NCIC entries, a read source and an officer,
and serves it with uvicorn on 127.0.0.1 from a background thread. A separate (spawned) process holds the
clients: one WebSocket client on `/ws/alerts` (officer's bearer session) and a sender that POSTs
`/api/ingest/reads` batches on a fixed 100 ms schedule, about {share:.0%} of the reads being listed plates.
Each hit's latency runs from just before its batch's POST to the moment the client process reads the alert
from the WebSocket (both on the same monotonic clock), so it covers authentication, validation, the insert of
reads, matching, the alert and outbox rows, the audit record, the commit, the bus and the WebSocket send.
Sustained rate: reads sent / sending time. Nearest-rank percentiles."""


def section(f: AlertFigures) -> str:
    lines = [SECTION_TITLE, "", f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}.", "",
             "| measurement | result | target | verdict |", "| --- | --- | --- | --- |"]
    lines += [f"| {' | '.join(r)} |" for r in rows(f)]
    lines += ["", HOW.format(rate=f.rate, seconds=f.seconds, entries=f.entries, share=HIT_SHARE), ""]
    return "\n".join(lines)


def run_alerts_bench(args) -> int:
    with tempfile.TemporaryDirectory(prefix="rtcc-bench-alerts-") as tmp:
        figures = run_bench(args.rate, args.seconds, Path(tmp))
    table = [["measurement", "result", "target", "verdict"], *rows(figures)]
    widths = [max(len(r[i]) for r in table) for i in range(4)]
    for r in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)))
    replace_section(Path(args.output), SECTION_TITLE, section(figures))
    print(f"\nresults written to {args.output}")
    return 0 if all(figures.verdicts.values()) else 1
