"""`/metrics`: Prometheus exposition, for a scraper holding the metrics token (or on loopback)."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST

from openrtcc.domain.errors import Forbidden, NotFound, Unauthenticated
from openrtcc.services.hub import Hub
from openrtcc.web.deps import bearer_key, source_of

router = APIRouter(include_in_schema=False)


@router.get("/metrics")
def metrics(request: Request) -> Response:
    """The hub's figures; gauges that cost nothing to read (edge links, Frigate links) are read at scrape time."""
    _check_scraper(request)
    hub: Hub = request.app.state.hub
    exposition = getattr(hub.metrics, "exposition", None)
    if exposition is None:
        raise NotFound("metrics are off in this process", code="metrics_off")
    _refresh_gauges(hub)
    return Response(exposition(), media_type=CONTENT_TYPE_LATEST)


def _check_scraper(request: Request) -> None:
    token = request.app.state.settings.metrics_token
    if token:
        given = bearer_key(request.headers) or ""
        # Digests compared, so the comparison takes the same time whatever the lengths.
        if not hmac.compare_digest(hashlib.sha256(given.encode()).digest(), hashlib.sha256(token.encode()).digest()):
            raise Unauthenticated("send the metrics token as `Authorization: Bearer <token>`", code="metrics_token")
        return
    if not _loopback(source_of(request)):
        raise Forbidden("/metrics answers loopback clients only unless RTCC_METRICS_TOKEN is set",
                        code="metrics_loopback_only")


def _loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _refresh_gauges(hub: Hub) -> None:
    for refresh in hub.extras.get("metric_refreshers", ()):  # process figures (operations_wiring)
        refresh()
    links = hub.extras.get("edge_links")
    if links is not None:
        hub.metrics.gauge("rtcc_edge_links", len(links.connected_ids()))
    frigate = hub.extras.get("frigate_links")
    if frigate is not None:
        hub.metrics.gauge("rtcc_plate_integrations_connected", frigate.connected_count(), kind="frigate")
        hub.metrics.gauge("rtcc_queue_depth", frigate.pending_events(), queue="frigate")
