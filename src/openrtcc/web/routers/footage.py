"""Footage requests and case evidence, agency side."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from openrtcc.services import footage
from openrtcc.services.footage import FootageRequestDraft
from openrtcc.web.deps import AgencyActor, HubDep
from openrtcc.web.file_download import file_chunks
from openrtcc.web.schemas import FootageRequestIn

router = APIRouter(prefix="/api/agency", tags=["footage"])


def _evidence(e) -> dict:
    return {"id": e.id, "request_id": e.request_id, "case_number": e.case_number, "camera_id": e.camera_id,
            "camera_name": e.camera_name, "media_type": e.media_type, "size_bytes": e.size_bytes,
            "sha256": e.sha256, "original_name": e.original_name, "uploaded_at": e.uploaded_at}


@router.post("/footage-requests", status_code=201)
def open_request(body: FootageRequestIn, actor: AgencyActor, hub: HubDep) -> dict:
    rid, cams, owners = footage.open_request(hub, actor, FootageRequestDraft(
        body.case_number, body.purpose, body.lat, body.lon, body.radius_m, body.window_start, body.window_end))
    return {"id": rid, "cameras_asked": cams, "owners_notified": owners}


@router.get("/footage-requests")
def list_requests(actor: AgencyActor, hub: HubDep) -> list[dict]:
    return [{"id": r.id, "case_number": r.case_number, "purpose": r.purpose, "lat": r.incident_lat,
             "lon": r.incident_lon, "radius_m": r.radius_m, "window_start": r.window_start,
             "window_end": r.window_end, "status": r.status, "created_at": r.created_at}
            for r in footage.agency_requests(hub, actor)]


@router.get("/footage-requests/{request_id}")
def get_request(request_id: str, actor: AgencyActor, hub: HubDep) -> dict:
    req, targets, evidence = footage.agency_request(hub, actor, request_id)
    return {
        "id": req.id, "case_number": req.case_number, "purpose": req.purpose, "lat": req.incident_lat,
        "lon": req.incident_lon, "radius_m": req.radius_m, "window_start": req.window_start,
        "window_end": req.window_end, "status": req.status, "created_at": req.created_at,
        "cameras": [{"camera_id": t.camera_id, "camera_name": t.camera_name, "address": t.address,
                     "answer": t.answer, "answered_at": t.answered_at} for t in targets],
        "evidence": [_evidence(e) for e in evidence],
    }


@router.get("/cases/{case_number:path}/evidence")
def case_evidence(case_number: str, actor: AgencyActor, hub: HubDep) -> list[dict]:
    """Case numbers may hold '/' (LP/2026/0042), so the path takes everything up to /evidence."""
    return [_evidence(e) for e in footage.case_evidence(hub, actor, case_number)]


@router.get("/evidence/{item_id}/content")
def evidence_content(item_id: str, actor: AgencyActor, hub: HubDep) -> StreamingResponse:
    item, stream = footage.open_evidence(hub, actor, item_id)
    return StreamingResponse(file_chunks(stream), media_type=item.media_type, headers={
        "Content-Disposition": f'attachment; filename="{item.id}"', "X-Content-SHA256": item.sha256})
