"""Edge boxes: enrolment (the box trades a one-time code for its key) and the owner's boxes in the portal."""

from __future__ import annotations

import dataclasses

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from openrtcc.services import edge_enrolment, edges
from openrtcc.services.edge_enrolment import TooManyAttempts
from openrtcc.web.deps import AgencyActor, HubDep, OwnerActor, Source
from openrtcc.web.edge_schemas import CameraEdgeIn, CodeIn, CodeOut, EdgeOut, EnrolIn, EnrolOut
from openrtcc.web.schemas import CameraOwnerOut

router = APIRouter(tags=["edge"])


@router.post("/api/owner/edges/codes", status_code=201)
def new_code(owner: OwnerActor, hub: HubDep, body: CodeIn | None = None) -> CodeOut:
    """A one-time enrolment code, valid 15 minutes; shown once."""
    code = edge_enrolment.create_code(hub, owner, body.name if body else None)
    return CodeOut(code=f"{code.code[:5]}-{code.code[5:]}", expires_at=code.expires_at)


@router.get("/api/owner/edges")
def my_edges(owner: OwnerActor, hub: HubDep) -> list[EdgeOut]:
    return [EdgeOut.of(v) for v in edges.my_edges(hub, owner)]


@router.post("/api/owner/edges/{edge_id}/revoke")
def revoke(edge_id: str, owner: OwnerActor, hub: HubDep) -> dict:
    box = edges.revoke_edge(hub, owner, edge_id)
    return {"id": box.id, "revoked_at": box.revoked_at}


@router.put("/api/owner/cameras/{camera_id}/edge")
def link_camera(camera_id: str, body: CameraEdgeIn, owner: OwnerActor, hub: HubDep) -> CameraOwnerOut:
    return CameraOwnerOut.of(edges.link_camera(hub, owner, camera_id, body.edge_id))


@router.get("/api/owner/cameras/{camera_id}/edge-access-log")
def edge_access_log(camera_id: str, owner: OwnerActor, hub: HubDep) -> list[dict]:
    """The box's own log of this camera, newest first: shown beside the hub's log in the portal."""
    return [dataclasses.asdict(e) for e in edges.edge_access_log(hub, owner, camera_id)]


@router.post("/api/edge/enrol", status_code=201, response_model=EnrolOut)
async def enrol(body: EnrolIn, hub: HubDep, client: Source):
    """The box's side: no session, the code is the credential. Unknown, expired and used codes get one answer."""
    try:
        done = await run_in_threadpool(edge_enrolment.enrol, hub, body.code, body.name, body.software_version, client)
    except TooManyAttempts as exc:
        return JSONResponse({"error": exc.code, "message": exc.message, "details": exc.details}, status_code=429,
                            headers={"Retry-After": str(max(1, exc.details["retry_after_s"]))})
    return EnrolOut(edge_id=done.edge_id, key=done.key, name=done.name)


@router.get("/api/agency/map/offline")
def offline(actor: AgencyActor, hub: HubDep) -> dict:
    """Ids of the program's cameras that are offline (their box says so, or the box is silent): a small list
    beside the 40,000-point map payload, which stays as it is."""
    return {"offline": edges.offline_cameras(hub, actor)}
