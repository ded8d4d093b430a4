"""Prometheus metrics over a per-hub registry: every metric declared with fixed labels and allowed values."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from openrtcc.domain.retention import DELETED_KINDS

log = logging.getLogger(__name__)

CHANNELS = frozenset({"email", "sms", "push", "webhook", "mqtt", "websocket"})
DELIVERY_OUTCOMES = frozenset({"sent", "failed", "dead", "suppressed", "queued", "discarded"})
MATCH_KINDS = frozenset({"exact", "state_blind", "lookalike", "one_edit", "partial"})
INCIDENT_SOURCES = frozenset({"operator", "cad", "gunshot", "tip"})
SOURCE_KINDS = frozenset({"edge", "lpr_camera", "integration"})
INTEGRATION_KINDS = frozenset({"frigate", "plate_recognizer"})
INTEGRATION_OUTCOMES = frozenset({"read", "duplicate", "ignored", "malformed", "unknown_camera", "refused",
                                  "unauthorised", "failed"})
QUEUES = frozenset({"dissemination", "deliveries_due", "frigate"})
RETENTION_OUTCOMES = frozenset({"done", "refused", "failed"})
RETENTION_KINDS = frozenset(DELETED_KINDS)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "OTHER"})
# Three digits, nothing else: a status can never carry a value from the request.
STATUS = re.compile(r"[1-5][0-9]{2}")
UNMATCHED_ROUTE = "unmatched"  # a request no route took: its raw path would carry whatever the client sent
PROCESS_ROLES = frozenset({"serve", "worker", "embedded"})
VERSION = re.compile(r"[0-9A-Za-z.+-]{1,40}")
POOL_STATES = frozenset({"in_use", "capacity"})

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class RouteTemplates:
    """The route templates of the application (`/api/cameras/{camera_id}/live`), set once the app is built:
    the only values the `route` label takes, so a raw path (with its ids) can never become a label."""

    def __init__(self) -> None:
        self._templates: frozenset[str] = frozenset({UNMATCHED_ROUTE})

    def install(self, templates: Iterable[str]) -> None:
        self._templates = frozenset(templates) | {UNMATCHED_ROUTE}

    def __contains__(self, value: object) -> bool:
        return value in self._templates


Allowed = frozenset | re.Pattern | RouteTemplates


@dataclass(frozen=True)
class MetricSpec:
    name: str
    kind: str  # counter | histogram | gauge
    help: str
    labels: dict[str, Allowed] = field(default_factory=dict)
    buckets: tuple[float, ...] = LATENCY_BUCKETS


def catalogue(routes: RouteTemplates) -> list[MetricSpec]:
    """Every metric the hub exposes. A name or label not here is refused: adding one is a code change."""
    return [
        MetricSpec("rtcc_http_requests_total", "counter", "HTTP requests by route template, method and status.",
                   {"route": routes, "method": METHODS, "status": STATUS}),
        MetricSpec("rtcc_http_request_duration_seconds", "histogram", "HTTP request latency by route template.",
                   {"route": routes, "method": METHODS}),
        MetricSpec("rtcc_reads_ingested_total", "counter", "Plate reads stored, by the kind of source that sent them.",
                   {"source_kind": SOURCE_KINDS}),
        MetricSpec("rtcc_read_intake_seconds", "histogram",
                   "Plate read accepted by a serving process -> stored by a worker (city mode).", {},
                   (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0, 60.0, 300.0, 3600.0)),
        MetricSpec("rtcc_read_queue_pending", "gauge", "Plate reads queued for the workers and not yet handed out."),
        MetricSpec("rtcc_edge_reads_shed_total", "counter", "Edge read batches refused unread (503 Retry-After) by "
                   "a serving process too busy to answer them in time.", {"reason": frozenset({"busy", "late"})}),
        MetricSpec("rtcc_edge_reads_in_flight", "gauge", "Edge read batches this serving process is working on."),
        MetricSpec("rtcc_alerts_raised_total", "counter", "Hot-list alerts raised, by kind of match.",
                   {"match_kind": MATCH_KINDS}),
        MetricSpec("rtcc_incidents_opened_total", "counter", "Incidents opened, by where they came from.",
                   {"source": INCIDENT_SOURCES}),
        MetricSpec("rtcc_deliveries_total", "counter", "Dissemination deliveries by channel and outcome.",
                   {"channel": CHANNELS, "outcome": DELIVERY_OUTCOMES}),
        MetricSpec("rtcc_delivery_seconds", "histogram", "Delivery queued -> handed to the channel.",
                   {"channel": CHANNELS}, (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 15.0, 60.0, 300.0)),
        MetricSpec("rtcc_plate_integration_messages_total", "counter",
                   "Messages from Frigate and Plate Recognizer, by what became of them.",
                   {"kind": INTEGRATION_KINDS, "outcome": INTEGRATION_OUTCOMES}),
        MetricSpec("rtcc_plate_integrations_connected", "gauge", "Frigate broker links connected now.",
                   {"kind": INTEGRATION_KINDS}),
        MetricSpec("rtcc_websocket_clients", "gauge", "WebSocket clients connected now, by route template.",
                   {"route": routes}),
        MetricSpec("rtcc_edge_links", "gauge", "Edge boxes linked to this hub now."),
        MetricSpec("rtcc_queue_depth", "gauge", "Work waiting in an in-process queue.", {"queue": QUEUES}),
        MetricSpec("rtcc_retention_runs_total", "counter", "Retention purges by outcome (refused: the clock check).",
                   {"outcome": RETENTION_OUTCOMES}),
        MetricSpec("rtcc_retention_deleted_total", "counter", "Rows and files the retention purge deleted, by kind.",
                   {"kind": RETENTION_KINDS}),
        MetricSpec("rtcc_retention_last_success_timestamp_seconds", "gauge",
                   "When the last retention purge that deleted what was due finished (Unix time)."),
        MetricSpec("rtcc_process_info", "gauge", "Always 1: the process's role and the hub's version.",
                   {"role": PROCESS_ROLES, "version": VERSION}),
        MetricSpec("rtcc_db_pool_connections", "gauge",
                   "Database connections of this process: checked out now (in_use) and the most it opens (capacity).",
                   {"state": POOL_STATES}),
        MetricSpec("rtcc_nats_connected", "gauge", "1 while this process's NATS connection is up (city mode)."),
        MetricSpec("rtcc_nats_reconnects_total", "counter", "Times this process's NATS connection came back."),
        MetricSpec("rtcc_ready", "gauge", "1 while this process answers /readyz with 200 (as of the last check)."),
    ]


class LabelRefused(ValueError):
    """A metric name, label name or label value outside the declared sets."""


class PrometheusMetrics:
    """domain.ports.Metrics over its own CollectorRegistry (one per hub, so that two hubs in one process,
    as in tests, never mix figures). `strict`: a refused label raises (tests); otherwise the sample is
    dropped and the refusal logged once per metric and label, without the value."""

    def __init__(self, *, strict: bool = False) -> None:
        self.strict = strict
        self.routes = RouteTemplates()
        self.registry = CollectorRegistry(auto_describe=True)
        self._specs = {s.name: s for s in catalogue(self.routes)}
        self._metrics = {s.name: _declare(s, self.registry) for s in self._specs.values()}
        self._warned: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def count(self, name: str, amount: float = 1.0, **labels: str) -> None:
        metric = self._labelled(name, "counter", labels)
        if metric is not None:
            metric.inc(amount)

    def observe(self, name: str, value: float, **labels: str) -> None:
        metric = self._labelled(name, "histogram", labels)
        if metric is not None:
            metric.observe(value)

    def gauge(self, name: str, value: float, **labels: str) -> None:
        metric = self._labelled(name, "gauge", labels)
        if metric is not None:
            metric.set(value)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)

    def _labelled(self, name: str, kind: str, labels: dict[str, str]):
        spec = self._specs.get(name)
        problem = _problem(spec, kind, labels)
        if problem is not None:
            self._refuse(name, problem)
            return None
        metric = self._metrics[name]
        return metric.labels(**labels) if spec.labels else metric

    def _refuse(self, name: str, problem: str) -> None:
        if self.strict:
            raise LabelRefused(f"metric {name}: {problem}")
        with self._lock:
            first = (name, problem) not in self._warned
            self._warned.add((name, problem))
        if first:
            log.error("metric %s: %s; sample dropped", name, problem)


def _declare(spec: MetricSpec, registry: CollectorRegistry):
    names = list(spec.labels)
    if spec.kind == "counter":
        return Counter(spec.name, spec.help, names, registry=registry)
    if spec.kind == "histogram":
        return Histogram(spec.name, spec.help, names, registry=registry, buckets=spec.buckets)
    return Gauge(spec.name, spec.help, names, registry=registry)


def _problem(spec: MetricSpec | None, kind: str, labels: dict[str, str]) -> str | None:
    """Why a sample is refused (never quoting the value: it may be the very thing that must not leak)."""
    if spec is None:
        return "not a declared metric"
    if spec.kind != kind:
        return f"is a {spec.kind}, not a {kind}"
    if set(labels) != set(spec.labels):
        return f"takes the labels {sorted(spec.labels)}"
    for label, value in labels.items():
        allowed = spec.labels[label]
        ok = isinstance(value, str) and (allowed.fullmatch(value) is not None if isinstance(allowed, re.Pattern)
                                         else value in allowed)
        if not ok:
            return f"label {label} refused a value outside its allowed set"
    return None
