"""May this agency user have video from this integrated camera now? The hub's check before it asks the box.

The box decides again with its own copy of the policy and is the authority; the hub asks first so that it
never sends a request the owner's policy refuses, and records every request it does send.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from openrtcc.domain.access import AccessKind, AccessRequest, Decision, Emergency, decide_access
from openrtcc.domain.cameras import Camera
from openrtcc.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from openrtcc.domain.geo import Point
from openrtcc.services.footage import CASE_NUMBER_RE
from openrtcc.services.hub import Actor, Hub


def check_reason(purpose: str, case_number: str | None, *, case_required: bool) -> tuple[str, str | None]:
    """The purpose (and case number) every access to video carries: trimmed and checked."""
    purpose = (purpose or "").strip()
    if len(purpose) < 3:
        raise InvalidInput("state the purpose of this access", code="purpose_required")
    case_number = (case_number or "").strip() or None
    if case_number is None and case_required:
        raise InvalidInput("a case number is required", code="case_number_required")
    if case_number is not None and not CASE_NUMBER_RE.match(case_number):
        raise InvalidInput("case number: 2-64 letters, digits, '-', '/' or '.'", code="bad_case_number")
    return purpose[:300], case_number


def active_emergencies(uow, agency_id: str, now: datetime) -> list[Emergency]:
    return [Emergency(r.agency_id, Point(r.lat, r.lon), r.radius_m, r.expires_at)
            for r in uow.emergencies.active(agency_id, now)]


def decide_for(hub: Hub, uow, cam: Camera, agency_id: str, kind: AccessKind, now: datetime) -> Decision:
    request = AccessRequest(agency_id, kind, cam.agency_id, cam.location, cam.tier, cam.status)
    return decide_access(cam.policy, request, now, active_emergencies(uow, agency_id, now),
                         timedelta(minutes=hub.utc_offset_minutes))


def camera_for_video(hub: Hub, uow, actor: Actor, camera_id: str, kind: AccessKind, now: datetime) -> Camera:
    """The agency's camera, provided the owner's policy allows `kind` now and its box is connected."""
    cam = uow.cameras.get_for_agency(actor.agency_id, camera_id)
    if cam is None:
        raise NotFound("no such camera in your agency")
    decision = decide_for(hub, uow, cam, actor.agency_id, kind, now)
    if not decision.allowed:
        raise Forbidden(decision.reason, code="policy_refused")
    if cam.edge_id is None:
        raise Conflict("this camera is not linked to an edge box yet, so it has no video to give",
                       code="no_edge")
    if not hub.extras["edge_links"].is_connected(cam.edge_id):
        raise Conflict("the camera's edge box is not connected to the hub now; try again later",
                       code="edge_offline")
    return cam


def new_upload_token() -> tuple[str, str]:
    """(token for the box, sha256 kept by the hub)."""
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_matches(token: str | None, expected_hash: str) -> bool:
    return bool(token) and hmac.compare_digest(token_hash(token), expected_hash)
