"""The worker process's small web app: it serves no users, only /healthz, /readyz and /metrics, and its
lifespan runs the worker's background work (read storing and matching, dissemination, outbox, retention,
anchors)."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI

from openrtcc import __version__
from openrtcc.config import Settings
from openrtcc.process_roles import WORKER, background_for
from openrtcc.services.hub import Hub
from openrtcc.web import errors
from openrtcc.web.request_ids import install_request_ids
from openrtcc.web.request_metrics import install_request_metrics
from openrtcc.web.routers import health, metrics


def create_worker_app(settings: Settings, hub: Hub) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        tasks = background_for(hub, WORKER)
        for task in tasks:
            task.start()
        yield
        for task in reversed(tasks):
            task.stop()

    app = FastAPI(title="OpenRTCC worker", version=__version__, lifespan=lifespan, openapi_url=None, docs_url=None,
                  redoc_url=None)
    app.state.settings = settings
    app.state.hub = hub
    app.state.process_role = WORKER  # /readyz asks the worker's background work whether it is alive
    errors.install(app)
    app.include_router(health.router)
    app.include_router(metrics.router)
    install_request_metrics(app, hub)
    install_request_ids(app)  # last added = outermost
    return app
