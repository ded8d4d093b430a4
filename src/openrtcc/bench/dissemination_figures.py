"""The dissemination benchmark's figures: the hub's delivery log and the receivers' records, paired up.

Zero is the source's commit: the alert's or incident's `created_at`, stamped by the hub's clock in the
transaction that commits it. "Handed" is the delivery log's `handed_at` (the relay, broker or receiver
accepted it: the issue's target); "received" is when the receiving server (for MQTT and WebSocket: the
subscribing client) got it. Webhook receipts name their delivery (`X-RTCC-Delivery`); the other channels'
receipts are paired with their subscriber's sent deliveries in order of hand-over, which can swap two
deliveries to one subscriber handed within the same moment and changes no percentile that matters."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from openrtcc.bench.report import percentile

CHANNELS = ("email", "sms", "push", "webhook", "mqtt", "websocket")


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    id: int
    subscriber_id: str
    channel: str
    status: str
    attempts: int
    handed_at: datetime | None
    notice_id: str
    notice_kind: str  # alert | incident
    source_at: datetime  # the alert's or incident's commit stamp
    stored_at: datetime  # the notice row's created_at: when dissemination matched and stored it


@dataclass(slots=True)
class ChannelFigures:
    handed_ms: list[float] = field(default_factory=list)
    received_ms: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    unmatched_receipts: int = 0


@dataclass(slots=True)
class DisseminationFigures:
    rate: float = 0.0
    incident_rate: float = 0.0
    seconds: float = 0.0
    subscribers: int = 0
    subscriber_mix: dict[str, int] = field(default_factory=dict)  # "audience/channel" -> count
    alerts: int = 0
    incidents: int = 0
    notices: dict[str, int] = field(default_factory=dict)  # kind -> notices stored
    deliveries: dict[str, int] = field(default_factory=dict)  # kind -> deliveries created
    channels: dict[str, ChannelFigures] = field(default_factory=dict)
    complete_ms: list[float] = field(default_factory=list)  # per notice: commit -> its last delivery handed
    stored_ms: list[float] = field(default_factory=list)  # per notice: commit -> notice and deliveries stored
    throughput: float = 0.0  # deliveries handed per second while the load ran
    sent_seconds: float = 0.0
    reads_sent: int = 0
    ingest_ms: list[float] = field(default_factory=list)
    incident_ms: list[float] = field(default_factory=list)
    load_errors: list[str] = field(default_factory=list)
    bad_signatures: int = 0
    sockets: tuple[int, int] = (0, 0)  # connected, wanted
    cpu_s: dict[str, float] = field(default_factory=dict)  # process -> CPU seconds over the run
    wall_s: float = 0.0
    skipped: str | None = None

    def all_handed_ms(self) -> list[float]:
        return sorted(v for c in self.channels.values() for v in c.handed_ms)

    def all_received_ms(self) -> list[float]:
        return sorted(v for c in self.channels.values() for v in c.received_ms)

    def fan_out(self, kind: str) -> float:
        return self.deliveries.get(kind, 0) / self.notices[kind] if self.notices.get(kind) else 0.0

    def status_total(self, status: str) -> int:
        return sum(c.statuses.get(status, 0) for c in self.channels.values())


def _ms(a: datetime, b: datetime) -> float:
    return (b - a).total_seconds() * 1000


def tally(f: DisseminationFigures, rows: list[DeliveryRow], receipts: list, key_to_subscriber: dict[str, str]
          ) -> None:
    """Fill the delivery figures of `f` from the delivery log and the receivers' records."""
    f.channels = {c: ChannelFigures() for c in CHANNELS}
    by_notice: dict[str, list[DeliveryRow]] = defaultdict(list)
    sent_by_subscriber: dict[str, list[DeliveryRow]] = defaultdict(list)
    by_id: dict[int, DeliveryRow] = {}
    for r in rows:
        c = f.channels.setdefault(r.channel, ChannelFigures())
        c.statuses[r.status] += 1
        by_notice[r.notice_id].append(r)
        by_id[r.id] = r
        if r.status == "sent" and r.handed_at is not None:
            c.handed_ms.append(_ms(r.source_at, r.handed_at))
            sent_by_subscriber[r.subscriber_id].append(r)
    kinds = Counter(rs[0].notice_kind for rs in by_notice.values())
    f.notices = dict(kinds)
    f.deliveries = dict(Counter(r.notice_kind for r in rows))
    for rs in by_notice.values():
        f.stored_ms.append(_ms(rs[0].source_at, rs[0].stored_at))
        handed = [r.handed_at for r in rs if r.handed_at is not None]
        if handed and all(r.status in ("sent", "suppressed") for r in rs):
            f.complete_ms.append(_ms(rs[0].source_at, max(handed)))
    _pair_receipts(f, receipts, key_to_subscriber, sent_by_subscriber, by_id)
    handed = sorted(r.handed_at for r in rows if r.handed_at is not None)
    sources = [r.source_at for r in rows]
    if handed and sources:
        span = (handed[-1] - min(sources)).total_seconds()
        f.throughput = len(handed) / span if span > 0 else 0.0
    for c in f.channels.values():
        c.handed_ms.sort()
        c.received_ms.sort()
    f.complete_ms.sort()
    f.stored_ms.sort()


def _pair_receipts(f: DisseminationFigures, receipts: list, key_to_subscriber: dict[str, str],
                   sent_by_subscriber: dict[str, list[DeliveryRow]], by_id: dict[int, DeliveryRow]) -> None:
    by_subscriber: dict[str, list[float]] = defaultdict(list)
    for channel, key, at, delivery_id in receipts:
        c = f.channels.setdefault(channel, ChannelFigures())
        if delivery_id is not None and delivery_id in by_id:  # the receipt names its delivery
            row = by_id[delivery_id]
            c.received_ms.append((at - row.source_at.timestamp()) * 1000)
            continue
        sid = key_to_subscriber.get(f"{channel}:{key}")
        if sid is None:
            c.unmatched_receipts += 1
        else:
            by_subscriber[sid].append(at)
    for sid, times in by_subscriber.items():
        sent = sorted(sent_by_subscriber.get(sid, []), key=lambda r: (r.handed_at, r.id))
        times.sort()
        for row, at in zip(sent, times, strict=False):
            f.channels[row.channel].received_ms.append((at - row.source_at.timestamp()) * 1000)
        if len(times) > len(sent):
            f.channels[sent[0].channel if sent else "email"].unmatched_receipts += len(times) - len(sent)


def pcts(values: list[float]) -> str:
    """p50 / p95 / p99 of sorted milliseconds, or a dash."""
    if not values:
        return "-"
    return " / ".join(f"{percentile(values, q):,.0f}" for q in (50, 95, 99)) + " ms"
