"""The dissemination benchmark's figures as a table on the terminal and a docs/benchmarks.md section."""

from __future__ import annotations

from datetime import UTC, datetime

from openrtcc.bench.dissemination_figures import CHANNELS, DisseminationFigures, pcts
from openrtcc.bench.report import machine, percentile

SECTION_TITLE = "## Dissemination (rtcc bench dissemination)"
TARGET_P99_MS = 1000.0


def verdict(f: DisseminationFigures) -> str:
    handed = f.all_handed_ms()
    if not handed:
        return "-"
    return "PASS" if percentile(handed, 99) <= TARGET_P99_MS else "FAIL"


def rows(f: DisseminationFigures) -> list[list[str]]:
    handed, received = f.all_handed_ms(), f.all_received_ms()
    out = [
        [f"Commit -> handed to the channel, all {len(handed):,} deliveries: p50 / p95 / p99", pcts(handed),
         f"p99 <= {TARGET_P99_MS:,.0f} ms", verdict(f)],
        ["Commit -> every delivery of the notice handed (per notice)", pcts(f.complete_ms), "-", "-"],
        [f"Commit -> received by the server, {len(received):,} receipts", pcts(received), "-", "-"],
    ]
    for name in CHANNELS:
        c = f.channels.get(name)
        if c is None or not (c.statuses or c.received_ms):
            continue
        out.append([f"  {name}: handed / received (p50 / p95 / p99)",
                    f"{pcts(c.handed_ms)}; {pcts(c.received_ms)}", "-", "-"])
    sent, suppressed = f.status_total("sent"), f.status_total("suppressed")
    failed, dead, queued = f.status_total("failed"), f.status_total("dead"), f.status_total("queued")
    out += [
        ["Commit -> notice and deliveries stored (matching, one transaction)", pcts(f.stored_ms), "-", "-"],
        ["Deliveries handed per second while the load ran", f"{f.throughput:,.0f}/s", "-", "-"],
        ["Mean fan-out: deliveries per plate alert / per incident",
         f"{f.fan_out('alert'):,.1f} / {f.fan_out('incident'):,.1f}", "-", "-"],
        ["Deliveries: sent / suppressed (rate limit) / failed (to retry) / dead / still queued",
         f"{sent:,} / {suppressed:,} / {failed:,} / {dead:,} / {queued:,}", "-", "-"],
        [f"Alerts (plate hits) / incidents sent in {f.sent_seconds:.1f} s; notices stored (alert / incident)",
         f"{f.alerts:,} / {f.incidents:,}; {f.notices.get('alert', 0):,} / {f.notices.get('incident', 0):,}",
         "-", "-"],
        ["Ingest POST / incident POST round trip p50 / p99",
         f"{_p2(f.ingest_ms)}; {_p2(f.incident_ms)}", "-", "-"],
        ["Webhooks refused by the receiver (bad signature); sockets connected",
         f"{f.bad_signatures}; {f.sockets[0]} of {f.sockets[1]}", "-", "-"],
        ["CPU seconds over the run: " + ", ".join(f.cpu_s), ", ".join(f"{v:,.1f}" for v in f.cpu_s.values()),
         "-", "-"],
    ]
    return out


def _p2(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{percentile(values, 50):,.0f} / {percentile(values, 99):,.0f} ms"


def print_table(f: DisseminationFigures) -> None:
    if f.skipped:
        print(f"not measured: {f.skipped}")
        return
    table = [["measurement", "result", "target", "verdict"], *rows(f)]
    widths = [max(len(r[i]) for r in table) for i in range(4)]
    for n, r in enumerate(table):
        print("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)))
        if n == 0:
            print("  ".join("-" * w for w in widths))
    for e in f.load_errors[:5]:
        print(f"load error: {e}")


HOW = """How it was measured: `uv run rtcc bench dissemination --rate {rate:g} --seconds {seconds:g} --subscribers
{subscribers}` builds a hub on a fresh temporary data dir (SQLite, WAL) served by uvicorn on 127.0.0.1, starts
Debian's Mosquitto on a free loopback port and, in a separate process, the receiving servers: aiosmtpd (email),
an HTTP receiver for webhooks (each HMAC-SHA256 signature verified with the subscriber's secret) and for ntfy
push (apprise's `ntfy://` plugin), a Twilio-speaking HTTPS server reached through an HTTP CONNECT proxy
(apprise's `twilio://` plugin talks to api.twilio.com; the hub's HTTPS_PROXY names the proxy), an MQTT
subscriber on the broker and the WebSocket screens of `/ws/notices` subscribers. {subscribers:,} active
subscribers ({mix}) with geofences over a 16 x 16 km city (residents: a 0.5-1.5 km circle and 1-4 categories or
all; police units: their district of 16, plus citywide webhook, MQTT and WebSocket links; vendors: 1-3 km patrol
circles; partners: 0.3-1 km). A third process sends the load for {seconds:g} s: {alerts:g} plate hits/s through
`POST /api/ingest/reads` (batches every 100 ms, one unlisted read per hit beside them; a hit raises an alert,
which goes to police units only) and {incidents:g} incidents/s through `POST /api/incidents` (a supervisor's
session; an incident goes to every audience whose area and categories match). Zero is the commit stamp of the
alert or incident (`created_at`, taken by the hub's clock in the committing transaction); "handed" is the
delivery log's `handed_at` (relay, broker or receiver accepted it; the worker stamps a batch's deliveries
together once every channel of the batch has answered, so a fast channel's figure includes the batch's
slowest); "received" is the receiving server's wall clock (for MQTT and WebSocket, the subscribing client's).
Webhook receipts are paired by their X-RTCC-Delivery id, the others with their subscriber's deliveries in order
of hand-over. Public email/SMS/push are rate-limited per subscriber (suppressed, logged). After the load the run
waits (up to 20 s) for the queue to drain. All processes share this machine's cores; CPU is per process
(`/proc`), the hub's including its web server, dissemination worker and channel senders. Nearest-rank
percentiles. Wall time of the whole run: {wall:.0f} s."""


def section(f: DisseminationFigures, when: datetime | None = None) -> str:
    when = when or datetime.now(UTC)
    lines = [SECTION_TITLE, "", f"Run {when:%Y-%m-%d %H:%M} UTC on {machine()}.", ""]
    if f.skipped:
        return "\n".join(lines + [f"Not measured: {f.skipped}.", ""])
    lines += ["| measurement | result | target | verdict |", "| --- | --- | --- | --- |"]
    lines += [f"| {' | '.join(r)} |" for r in rows(f)]
    mix = ", ".join(f"{k} {v:,}" for k, v in f.subscriber_mix.items())
    lines += ["", HOW.format(rate=f.rate + f.incident_rate, seconds=f.seconds, subscribers=f.subscribers, mix=mix,
                             alerts=f.rate, incidents=f.incident_rate, wall=f.wall_s), ""]
    if f.load_errors:
        lines += ["Load errors (first few): " + "; ".join(f"`{e[:120]}`" for e in f.load_errors[:3]), ""]
    return "\n".join(lines)
