"""The FastAPI application: routers, limits, security headers, static assets and pages."""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.gzip import GZipMiddleware

from openrtcc import __version__
from openrtcc.config import Settings
from openrtcc.process_roles import SERVE, background_for
from openrtcc.services.hub import Hub
from openrtcc.web import errors
from openrtcc.web.assets import vendor_dir
from openrtcc.web.limits import BodySizeLimit
from openrtcc.web.notice_sockets import install as install_notice_sockets
from openrtcc.web.access_log_redaction import install_access_log_redaction
from openrtcc.web.request_ids import install_request_ids
from openrtcc.web.request_metrics import install_request_metrics
from openrtcc.web.request_audit import install_request_audit
from openrtcc.web.security_headers import SecurityHeaders
from openrtcc.web.routers import admin, agency, auth, footage, owner, pages, programs
from openrtcc.web.routers import hotlists as hotlist_routes
from openrtcc.web.routers import alert_socket, alerts, ingest, plates, read_sources
from openrtcc.web.routers import edge_clips, edge_link, edge_reads, edges, emergencies, live
from openrtcc.web.routers import dissemination, incidents, integrations_in, notices_socket, public, tips, video_wall
from openrtcc.web.routers import health, metrics, plate_integrations
from openrtcc.web.routers import audit_anchors, evidence_export, governance, retention
from openrtcc.web.routers import search_approvals, sharing, transparency

STATIC_DIR = Path(__file__).parent / "static"


def create_app(settings: Settings, hub: Hub) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        tasks = background_for(hub, SERVE)  # embedded: everything; city mode: what each serving process does
        for task in tasks:
            task.start()
        yield
        for task in reversed(tasks):
            task.stop()

    app = FastAPI(title="OpenRTCC hub", version=__version__, lifespan=lifespan,
                  description="Community camera registry, owner portal and agency map.")
    app.state.settings = settings
    app.state.hub = hub
    install_notice_sockets(hub)  # the WebSocket channel's sender, beside the channels dissemination built
    errors.install(app)
    for r in (auth.router, programs.router, owner.router, agency.router, footage.router, admin.router, pages.router):
        app.include_router(r)
    for r in (ingest.router, read_sources.router, alerts.router, alert_socket.router, plates.router):
        app.include_router(r)
    app.include_router(hotlist_routes.router)
    for r in (edge_link.router, edges.router, edge_reads.router, emergencies.router, live.router, edge_clips.router):
        app.include_router(r)
    for r in (incidents.router, integrations_in.router, video_wall.router, dissemination.router,
              notices_socket.router, public.router, tips.router, plate_integrations.router, metrics.router,
              health.router):
        app.include_router(r)
    for r in (governance.router, retention.router, search_approvals.router, sharing.router, transparency.router,
              evidence_export.router, audit_anchors.router):
        app.include_router(r)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.mount("/vendor", StaticFiles(directory=vendor_dir()), name="vendor")

    install_request_audit(app, hub)  # innermost: any API request its handler did not audit is audited here
    tile_origin = _origin(settings.tile_url)
    app.add_middleware(
        SecurityHeaders,
        content_security_policy="default-src 'self'; img-src 'self' data: blob:"
        + (f" {tile_origin}" if tile_origin else "")
        + "; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'"
        # Live view: hls.js feeds the <video> through Media Source Extensions, whose object URL is a blob:.
        + "; media-src 'self' blob:",
    )
    # Level 1, as nginx uses by default: the 40,000-camera map payload (3.4 MB of JSON) compresses in a
    # quarter of level 9's time (66 vs 262 ms on the benchmark machine) for a body 10% larger.
    app.add_middleware(GZipMiddleware, minimum_size=2048, compresslevel=1)
    app.add_middleware(BodySizeLimit, json_limit=settings.max_json_bytes, upload_limit=settings.max_upload_bytes,
                       ingest_limit=settings.max_ingest_bytes, tip_limit=settings.tip_max_bytes)
    install_request_metrics(app, hub)  # last added = outermost: requests refused by the limits count too
    install_request_ids(app)  # outermost of all: every record logged for a request carries its id
    install_access_log_redaction()
    return app


def _origin(url: str) -> str:
    if not url.startswith(("http://", "https://")):
        return ""
    scheme, rest = url.split("://", 1)
    host = rest.split("/", 1)[0].replace("{s}.", "*.")
    return f"{scheme}://{host}"
