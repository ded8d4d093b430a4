"""`POST /api/ingest/reads`: plate reads from a source, authenticated by the source's key."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from openrtcc.domain.reads import ReadBatch
from openrtcc.services.ingest import ingest_reads
from openrtcc.services.read_sources import authenticate_source
from openrtcc.web.deps import bearer_key
from openrtcc.web.plate_schemas import IngestOut, ReadAckOut

router = APIRouter(tags=["ingest"])


async def read_batch_of(request: Request) -> ReadBatch:
    """The request body as a ReadBatch; a malformed one is a 422 naming the field, as FastAPI's own are."""
    try:
        return ReadBatch.model_validate_json(await request.body())
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False, include_input=False)) from None


@router.post("/api/ingest/reads", response_model=IngestOut,
             openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
                 "schema": ReadBatch.model_json_schema(ref_template="#/components/schemas/{model}")}}}})
async def ingest(request: Request) -> IngestOut:
    """A batch of up to 500 reads (`{"version": 1, "reads": [...]}`), stored all or nothing.

    The key is checked before the body is read, so an unauthenticated caller learns nothing about it."""
    hub, client = request.app.state.hub, request.client.host if request.client else None
    source = await run_in_threadpool(authenticate_source, hub, bearer_key(request.headers), client)
    batch = await read_batch_of(request)
    acks = await run_in_threadpool(ingest_reads, hub, source, batch, client)
    stored = sum(1 for a in acks if a.status == "stored")
    return IngestOut(stored=stored, duplicate=len(acks) - stored,
                     results=[ReadAckOut(read_id=a.read_id, status=a.status, id=a.id) for a in acks])
