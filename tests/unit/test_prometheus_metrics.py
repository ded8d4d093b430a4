"""The metrics adapter takes only declared metrics, their declared labels and allowed values: a plate, an
address, a raw path or an id is refused (raised when strict, dropped and logged once otherwise)."""

from __future__ import annotations

import logging

import pytest

from openrtcc.adapters.metrics.prometheus import LabelRefused, PrometheusMetrics


@pytest.fixture
def metrics() -> PrometheusMetrics:
    m = PrometheusMetrics(strict=True)
    m.routes.install(["/api/cameras/{camera_id}/live", "/metrics"])
    return m


def test_declared_samples_are_exposed(metrics):
    metrics.count("rtcc_deliveries_total", channel="email", outcome="sent")
    metrics.observe("rtcc_delivery_seconds", 0.2, channel="mqtt")
    metrics.count("rtcc_http_requests_total", route="/api/cameras/{camera_id}/live", method="POST", status="201")
    metrics.gauge("rtcc_edge_links", 3)
    text = metrics.exposition().decode()
    assert 'rtcc_deliveries_total{channel="email",outcome="sent"} 1.0' in text
    assert 'rtcc_delivery_seconds_bucket{channel="mqtt",le="0.25"} 1.0' in text
    assert 'route="/api/cameras/{camera_id}/live",status="201"' in text and "rtcc_edge_links 3.0" in text


@pytest.mark.parametrize("name, labels", [
    ("rtcc_alerts_raised_total", {"match_kind": "ABC123"}),  # a plate where a kind belongs
    ("rtcc_alerts_raised_total", {"match_kind": "exact", "plate": "ABC123"}),  # an undeclared label
    ("rtcc_alerts_raised_total", {}),  # a missing label
    ("rtcc_http_requests_total", {"route": "/api/cameras/3f2a9c/live", "method": "GET", "status": "200"}),
    ("rtcc_http_requests_total", {"route": "/metrics", "method": "GET", "status": "200\n"}),
    ("rtcc_incidents_opened_total", {"source": "100 Main St"}),
    ("rtcc_deliveries_total", {"channel": "email", "outcome": "someone@example.org"}),
    ("rtcc_reads_by_plate_total", {}),  # an undeclared metric
])
def test_values_outside_the_allowed_sets_are_refused(metrics, name, labels):
    with pytest.raises(LabelRefused) as exc:
        metrics.count(name, **labels)
    for value in labels.values():
        assert value not in str(exc.value)  # the refusal never quotes what it refused


def test_a_counter_is_not_a_gauge(metrics):
    with pytest.raises(LabelRefused):
        metrics.gauge("rtcc_alerts_raised_total", 1, match_kind="exact")


def test_in_production_a_refused_sample_is_dropped_and_logged_once(caplog):
    metrics = PrometheusMetrics()
    with caplog.at_level(logging.ERROR):
        for _ in range(3):
            metrics.count("rtcc_alerts_raised_total", match_kind="ABC123")
    assert len(caplog.records) == 1 and "ABC123" not in caplog.text
    assert "ABC123" not in metrics.exposition().decode()
