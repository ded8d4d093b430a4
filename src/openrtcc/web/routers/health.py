"""`/healthz` (the process is alive and answering) and `/readyz` (it can do its work now: send it traffic).

A load balancer takes a serve process out of rotation while /readyz fails; a supervisor restarts a process
whose /healthz stops answering. Neither needs a log-on, and neither says more than which dependency failed.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from openrtcc.services.health import readiness

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
def healthz(request: Request) -> dict:
    hub = request.app.state.hub
    return {"status": "ok", "process": hub.extras.get("process_name", "embedded")}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    hub = request.app.state.hub
    report = await run_in_threadpool(readiness, hub)
    return JSONResponse(report.as_json(), status_code=200 if report.ready else 503)
