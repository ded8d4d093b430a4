"""`/healthz` (the process is alive and answering) and `/readyz` (it can do its work now: send it traffic).

A load balancer takes a serve process out of rotation while /readyz fails (and while it drains on SIGTERM); a
supervisor restarts a process whose /healthz stops answering. Neither needs a log-on, neither touches a
dependency more than once a second however often it is asked, and neither says more than which check failed.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from openrtcc.process_roles import SERVE, background_for
from openrtcc.services.health import readiness

router = APIRouter(include_in_schema=False)
NO_STORE = {"Cache-Control": "no-store"}


@router.get("/healthz")
def healthz(request: Request) -> JSONResponse:
    hub = request.app.state.hub
    return JSONResponse({"status": "ok", "process": hub.extras.get("process_name", "embedded")}, headers=NO_STORE)


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    hub = request.app.state.hub
    # The background work this process runs: a worker's, a serve process's, or both in the embedded default.
    background = background_for(hub, getattr(request.app.state, "process_role", SERVE))
    report = await run_in_threadpool(readiness, hub, background)
    return JSONResponse(report.as_json(), status_code=200 if report.ready else 503, headers=NO_STORE)
