"""Clips of recorded video from integrated cameras: asked by agency users, uploaded by the box, listed and
downloaded as case evidence.

Box -> hub contract (the box side is edge/hub_uploads.py):
    POST /api/edge/clips/{request_id}   Authorization: Bearer <edge key>; X-Upload-Token: <ClipRequest token>;
    X-Content-SHA256: hex digest of the body; Content-Type: video/mp4; body: the clip.
    201 landed; 401/403/404/410: never for this request; 422 sha256_mismatch: nothing kept.
"""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from openrtcc.services import edge_clips
from openrtcc.services.edge_clips import ClipAsk
from openrtcc.web.deps import AgencyActor, HubDep
from openrtcc.web.edge_uploads import BlockingBody, edge_of
from openrtcc.web.file_download import file_chunks
from openrtcc.web.live_schemas import ClipIn, ClipOut

router = APIRouter(tags=["clips"])


@router.post("/api/cameras/{camera_id}/clips", status_code=201)
def request_clip(camera_id: str, body: ClipIn, actor: AgencyActor, hub: HubDep) -> ClipOut:
    clip_id = edge_clips.request_clip(hub, actor, ClipAsk(camera_id, body.purpose, body.case_number, body.start,
                                                          body.end))
    return ClipOut.of(edge_clips.get_clip(hub, actor, clip_id))


@router.get("/api/clips")
def list_clips(actor: AgencyActor, hub: HubDep, case_number: str | None = Query(None, max_length=64),
               ) -> list[ClipOut]:
    return [ClipOut.of(r) for r in edge_clips.list_clips(hub, actor, case_number)]


@router.get("/api/clips/{clip_id}")
def get_clip(clip_id: str, actor: AgencyActor, hub: HubDep) -> ClipOut:
    return ClipOut.of(edge_clips.get_clip(hub, actor, clip_id))


@router.get("/api/clips/{clip_id}/download")
def download(clip_id: str, actor: AgencyActor, hub: HubDep) -> StreamingResponse:
    row, media_type, stream = edge_clips.open_clip(hub, actor, clip_id)
    name = row.storage_key.rsplit("/", 1)[-1]
    return StreamingResponse(file_chunks(stream), media_type=media_type, headers={
        "Content-Disposition": f'attachment; filename="{name}"', "X-Content-SHA256": row.sha256})


@router.post("/api/edge/clips/{request_id}", status_code=201, tags=["edge"])
async def upload_clip(request_id: str, request: Request) -> dict:
    """The box's clip: streamed into the media store, its SHA-256 checked against X-Content-SHA256."""
    box = await edge_of(request)
    h = request.headers
    return await run_in_threadpool(edge_clips.receive_clip, request.app.state.hub, box.id, request_id,
                                   h.get("x-upload-token"), h.get("x-content-sha256"), BlockingBody(request))
