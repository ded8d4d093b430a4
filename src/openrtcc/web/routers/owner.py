"""The owner portal's API: my cameras, my sharing policy, my access log, footage requests to me."""

from __future__ import annotations

from fastapi import APIRouter, UploadFile

from openrtcc.domain.cameras import ContactPreferences
from openrtcc.domain.footage import OwnerAnswer
from openrtcc.services import footage, registry
from openrtcc.services.registry import CameraDraft
from openrtcc.web.deps import HubDep, OwnerActor
from openrtcc.web.schemas import AccessLogOut, AnswerIn, CameraBatchIn, CameraIn, CameraOwnerOut, ContactIn

router = APIRouter(prefix="/api/owner", tags=["owner"])


def _draft(body: CameraIn) -> CameraDraft:
    return CameraDraft(body.agency_id, body.name, body.lat, body.lon, body.address, body.bearing_deg, body.fov_deg,
                       body.range_m, body.public_facing_attested, body.make, body.model, body.owner_retention_days,
                       body.tier, body.sharing.to_policy(), body.sharing.kept())


@router.get("/cameras")
def my_cameras(owner: OwnerActor, hub: HubDep) -> list[CameraOwnerOut]:
    return [CameraOwnerOut.of(c) for c in registry.list_my_cameras(hub, owner)]


@router.post("/cameras", status_code=201)
def register(body: CameraIn, owner: OwnerActor, hub: HubDep) -> CameraOwnerOut:
    return CameraOwnerOut.of(registry.register_camera(hub, owner, _draft(body), allow_duplicate=body.allow_duplicate))


@router.post("/cameras/batch", status_code=201)
def register_batch(body: CameraBatchIn, owner: OwnerActor, hub: HubDep) -> list[CameraOwnerOut]:
    """Several cameras in one request (a business district or an HOA): all registered, or none."""
    cams = registry.register_cameras(hub, owner, [(_draft(c), c.allow_duplicate) for c in body.cameras])
    return [CameraOwnerOut.of(c) for c in cams]


@router.get("/cameras/{camera_id}")
def my_camera(camera_id: str, owner: OwnerActor, hub: HubDep) -> CameraOwnerOut:
    return CameraOwnerOut.of(registry.get_my_camera(hub, owner, camera_id))


@router.put("/cameras/{camera_id}")
def change(camera_id: str, body: CameraIn, owner: OwnerActor, hub: HubDep) -> CameraOwnerOut:
    return CameraOwnerOut.of(registry.update_camera(hub, owner, camera_id, _draft(body)))


@router.delete("/cameras/{camera_id}")
def withdraw(camera_id: str, owner: OwnerActor, hub: HubDep) -> CameraOwnerOut:
    """Revoke: the camera leaves the program at once. The access log stays readable."""
    return CameraOwnerOut.of(registry.withdraw_camera(hub, owner, camera_id))


@router.get("/cameras/{camera_id}/access-log")
def access_log(camera_id: str, owner: OwnerActor, hub: HubDep) -> list[AccessLogOut]:
    return [AccessLogOut(at=e.at, agency=e.agency, kind=e.kind, purpose=e.purpose, case_number=e.case_number, scope=e.scope) for e in registry.camera_access_log(hub, owner, camera_id)]


@router.get("/profile")
def profile(owner: OwnerActor, hub: HubDep) -> dict:
    user, prof = registry.owner_profile(hub, owner)
    return {"email": user.email, "display_name": user.display_name, "kind": prof.kind,
            "organisation": prof.organisation,
            "contact": {"share_contact": prof.share_contact, "preferred_channel": prof.preferred_channel,
                        "phone": prof.phone}}


@router.put("/profile/contact", status_code=204)
def set_contact(body: ContactIn, owner: OwnerActor, hub: HubDep) -> None:
    registry.update_contact(hub, owner, ContactPreferences(body.share_contact, body.preferred_channel, body.phone))


@router.get("/requests")
def requests(owner: OwnerActor, hub: HubDep) -> list[dict]:
    return [{"request_id": r.id, "agency": agency, "case_number": r.case_number, "purpose": r.purpose,
             "window_start": r.window_start, "window_end": r.window_end, "created_at": r.created_at,
             "camera_id": r.camera_id, "camera_name": r.camera_name, "answer": r.answer, "note": r.note}
            for r, agency in footage.owner_requests(hub, owner)]


@router.post("/requests/{request_id}/cameras/{camera_id}/answer")
def answer(request_id: str, camera_id: str, body: AnswerIn, owner: OwnerActor, hub: HubDep) -> dict:
    new = footage.answer_request(hub, owner, request_id, camera_id, OwnerAnswer(body.answer), body.note)
    return {"answer": new.value}


@router.post("/requests/{request_id}/cameras/{camera_id}/clip", status_code=201)
def upload(request_id: str, camera_id: str, file: UploadFile, owner: OwnerActor, hub: HubDep) -> dict:
    return footage.upload_clip(hub, owner, request_id, camera_id, file.file, file.filename or "upload")


@router.get("/notifications")
def notifications(owner: OwnerActor, hub: HubDep) -> list[dict]:
    return [{"id": n.id, "kind": n.kind, "subject": n.subject, "body": n.body, "link": n.link,
             "created_at": n.created_at, "read_at": n.read_at} for n in registry.my_notifications(hub, owner)]


@router.post("/notifications/{notification_id}/read", status_code=204)
def notification_read(notification_id: str, owner: OwnerActor, hub: HubDep) -> None:
    registry.mark_notification_read(hub, owner, notification_id)
