"""`POST /api/edge/reads`: plate reads from an owner's edge box, authenticated by the box's key."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from openrtcc.domain.audit_scope import mark_covered
from openrtcc.domain.reads import ReadBatch
from openrtcc.services.edge_reads import authenticate_edge_reads, ingest_edge_reads
from openrtcc.services.read_admission import Busy, read_admission
from openrtcc.web.deps import bearer_key
from openrtcc.web.routers.ingest import read_batch_of

router = APIRouter(tags=["edge"])


class EdgeReadAckOut(BaseModel):
    read_id: str
    status: Literal["stored", "duplicate", "not_shared"]
    id: str | None = None  # the hub's id of the stored read (one of them when several agencies store it)


class EdgeReadsOut(BaseModel):
    version: int = 1
    stored: int
    duplicate: int
    not_shared: int
    results: list[EdgeReadAckOut]


@router.post("/api/edge/reads", response_model=EdgeReadsOut,
             openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
                 "schema": ReadBatch.model_json_schema(ref_template="#/components/schemas/{model}")}}}})
async def edge_reads(request: Request) -> EdgeReadsOut:
    """The same batch as `/api/ingest/reads`; each read is stored for every agency the camera's owner shares
    its reads with. Per read: `stored`, `duplicate`, or `not_shared` (stored nowhere: the box keeps it).
    503 `busy` with Retry-After: this hub process cannot answer in time now; nothing was read or stored."""
    hub, client = request.app.state.hub, request.client.host if request.client else None
    admission = read_admission(hub)
    try:
        arrived = admission.enter()
    except Busy as exc:
        _shed(hub, exc)
        raise
    try:
        hub.metrics.gauge("rtcc_edge_reads_in_flight", admission.in_flight)
        edge = await run_in_threadpool(_authenticated, hub, admission, arrived, bearer_key(request.headers), client)
        batch = await read_batch_of(request)
        acks = await run_in_threadpool(ingest_edge_reads, hub, edge, batch, client)
    finally:
        admission.leave()
    counts = {s: sum(1 for a in acks if a.status == s) for s in ("stored", "duplicate", "not_shared")}
    return EdgeReadsOut(**counts, results=[EdgeReadAckOut(read_id=a.read_id, status=a.status, id=a.id or None)
                                           for a in acks])


def _authenticated(hub, admission, arrived: float, key: str | None, client: str | None):
    try:
        admission.started(arrived)
    except Busy as exc:
        _shed(hub, exc)
        raise
    return authenticate_edge_reads(hub, key, client)


def _shed(hub, exc: Busy) -> None:
    # Refused before the key was checked or the body read: nothing was accessed or stored. Recording each such
    # refusal would spend on the audit log the capacity the refusal saves; the metric counts them.
    mark_covered()
    hub.metrics.count("rtcc_edge_reads_shed_total", reason=exc.reason)
