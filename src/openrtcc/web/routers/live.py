"""Live view: agency users start and stop sessions and play them; the box uploads the segments.

Box -> hub contract (the box side is edge/hub_uploads.py):
    POST /api/edge/live/{session_id}/segments/init     fMP4 init segment (ftyp + moov), first
    POST /api/edge/live/{session_id}/segments/{seq}    media segment 0, 1, 2 ... (styp/moof + mdat)
    Authorization: Bearer <edge key>; X-Upload-Token: <LiveStart.upload_token>;
    X-Segment-Duration: seconds (media segments); Content-Type: video/mp4.
    204 taken; 401/403/404/410: never for this session (stop); 413/422: a bad segment; 503: hub full (drop it).
"""

from __future__ import annotations

import asyncio
import time

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from openrtcc.domain.errors import NotFound
from openrtcc.services import live_sessions
from openrtcc.services.live_segments import render_playlist
from openrtcc.web.deps import AgencyActor, HubDep
from openrtcc.web.edge_uploads import edge_of, read_capped
from openrtcc.web.live_schemas import LiveOut, LiveStartIn, LiveStatusOut

router = APIRouter(tags=["live"])

PLAYLIST_TYPE = "application/vnd.apple.mpegurl"
# A blocking playlist request is held at most this long (HLS asks for three target durations).
BLOCKING_RELOAD_S = 3.0
# While held, the request looks at what this process heard every tick and reads the store again when it heard
# news, or at the latest every RELOAD_READ_S (a shared store's news may come late or not at all).
RELOAD_TICK_S = 0.02
RELOAD_READ_S = 0.5


@router.post("/api/cameras/{camera_id}/live", status_code=201)
def start(camera_id: str, body: LiveStartIn, actor: AgencyActor, hub: HubDep) -> LiveOut:
    """Ask the camera's box for live video; the owner's policy decides, and the owner sees the access."""
    s = live_sessions.start_live(hub, actor, camera_id, body.purpose, body.case_number, body.profile)
    return LiveOut(id=s.id, camera_id=s.camera_id, playlist_url=s.playlist_url, status_url=f"/api/live/{s.id}")


@router.get("/api/live/{session_id}")
def status(session_id: str, actor: AgencyActor, hub: HubDep) -> LiveStatusOut:
    return LiveStatusOut(**live_sessions.session_status(hub, actor, session_id))


@router.delete("/api/live/{session_id}", status_code=204)
def stop(session_id: str, actor: AgencyActor, hub: HubDep) -> Response:
    live_sessions.stop_live(hub, actor, session_id)
    return Response(status_code=204)


@router.get("/api/live/{session_id}/index.m3u8")
async def playlist(session_id: str, actor: AgencyActor, hub: HubDep,
                   msn: int | None = Query(None, alias="_HLS_msn", ge=0),
                   poll: bool = Query(False, description="a playlist for players that poll: no blocking reload "
                                                          "offered, `_HLS_msn` not held")) -> Response:
    """The live playlist. With `_HLS_msn` (LL-HLS blocking reload) the answer waits for that segment, unless
    the player polls (a wall tile: sixteen held requests would take a browser's six connections to the hub)."""
    buf = await run_in_threadpool(live_sessions.watch, hub, actor, session_id)
    if poll:
        return Response(render_playlist(buf, can_block=False), media_type=PLAYLIST_TYPE)
    store = live_sessions.live_segments(hub)
    deadline = time.monotonic() + BLOCKING_RELOAD_S
    read_at = time.monotonic() + RELOAD_READ_S
    while msn is not None and (buf.last_seq is None or buf.last_seq < msn) and time.monotonic() < deadline:
        await asyncio.sleep(RELOAD_TICK_S)
        if not store.changed_since(session_id, buf.last_seq) and time.monotonic() < read_at:
            continue
        fresh = await run_in_threadpool(store.get, session_id)
        if fresh is None:
            break  # ended meanwhile: the next request is told so
        buf, read_at = fresh, time.monotonic() + RELOAD_READ_S
    return Response(render_playlist(buf), media_type=PLAYLIST_TYPE)


@router.get("/api/live/{session_id}/init.mp4")
def init_segment(session_id: str, actor: AgencyActor, hub: HubDep) -> Response:
    data = live_sessions.watched_init(hub, actor, session_id)
    if data is None:
        raise NotFound("no video from the box yet")
    return Response(data, media_type="video/mp4")


@router.get("/api/live/{session_id}/segments/{seq}.m4s")
def media_segment(session_id: str, seq: int, actor: AgencyActor, hub: HubDep) -> Response:
    data = live_sessions.watched_segment(hub, actor, session_id, seq)
    if data is None:
        raise NotFound("that segment is not held (too old, or not arrived)")
    return Response(data, media_type="video/mp4")


@router.post("/api/edge/live/{session_id}/segments/{name}", status_code=204, tags=["edge"])
async def upload_segment(session_id: str, name: str, request: Request) -> Response:
    """A segment of a live session from the box serving it (edge key and the session's upload token)."""
    box = await edge_of(request)
    data = await read_capped(request, live_sessions.MAX_SEGMENT_BYTES)
    h = request.headers
    try:
        duration = float(h["x-segment-duration"]) if "x-segment-duration" in h else None
    except ValueError:
        duration = None
    await run_in_threadpool(live_sessions.receive_upload, request.app.state.hub, box.id, session_id, name,
                            h.get("x-upload-token"), h.get("content-type"), duration, data)
    return Response(status_code=204)
