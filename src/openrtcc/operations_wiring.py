"""Composition of what operators watch: the readiness probes of the process's dependencies and the process-level
metrics (role and version, database pool, NATS link, readiness).

Called by the composition root after the metrics are installed (integration_wiring) and after the media store
and the NATS link exist.
"""

from __future__ import annotations

from openrtcc import __version__
from openrtcc.adapters.db.pool_usage import pool_usage
from openrtcc.adapters.readiness_probes import DatabaseProbe, JetStreamProbe
from openrtcc.config import Settings
from openrtcc.process_roles import background_for, city_mode
from openrtcc.services.health import readiness_checks
from openrtcc.services.hub import Hub


def wire(hub: Hub, settings: Settings, role: str) -> None:
    checks = readiness_checks(hub)
    engine = hub.extras.get("engine")
    if engine is not None:
        checks.add("database", DatabaseProbe(engine))
    link = hub.extras.get("nats")
    if link is not None:
        checks.add("nats", JetStreamProbe(link))
    media_probe = getattr(hub.media, "probe", None)  # the MediaStore port's: the folder, or the object store
    if callable(media_probe):
        checks.add("media", media_probe)
    _process_metrics(hub, role, engine, link)


def _process_metrics(hub: Hub, role: str, engine, link) -> None:
    metrics = hub.metrics
    metrics.gauge("rtcc_process_info", 1, role=role if city_mode(hub) else "embedded", version=__version__)
    refreshers = hub.extras.setdefault("metric_refreshers", [])

    def refresh() -> None:
        usage = pool_usage(engine) if engine is not None else None
        if usage is not None:
            metrics.gauge("rtcc_db_pool_connections", usage[0], state="in_use")
            metrics.gauge("rtcc_db_pool_connections", usage[1], state="capacity")
        if link is not None:
            metrics.gauge("rtcc_nats_connected", 1 if link.connected else 0)
        metrics.gauge("rtcc_ready", 1 if readiness_checks(hub).report(background_for(hub, role)).ready else 0)

    refreshers.append(refresh)
    if link is not None:
        async def reconnected() -> None:
            metrics.count("rtcc_nats_reconnects_total")

        link.on_reconnect(reconnected)
