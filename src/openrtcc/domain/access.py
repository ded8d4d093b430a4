"""The one access decision: may this agency have live or recorded video from this camera now?

Pure: the hub uses it to avoid asking for what it may not have; the edge uses it as the authority.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import StrEnum

from openrtcc.domain.cameras import CameraStatus, SharingMode, SharingPolicy, Tier
from openrtcc.domain.geo import Point, distance_m


class AccessKind(StrEnum):
    LOCATION = "location"
    LIVE = "live"
    RECORDED = "recorded"


@dataclass(frozen=True, slots=True)
class Emergency:
    """An emergency incident declared by an agency: opens emergency-only sharing nearby until expiry."""

    agency_id: str
    center: Point
    radius_m: float
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class AccessRequest:
    agency_id: str
    kind: AccessKind
    camera_agency_id: str
    camera_location: Point
    camera_tier: Tier
    camera_status: CameraStatus


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    reason: str


def decide_access(
    policy: SharingPolicy,
    request: AccessRequest,
    now: datetime,
    emergencies: list[Emergency],
    utc_offset: timedelta = timedelta(0),
) -> Decision:
    if request.camera_status is not CameraStatus.ACTIVE:
        return Decision(False, "the owner has withdrawn this camera")
    if request.agency_id != request.camera_agency_id:
        return Decision(False, "the camera is not enrolled with this agency")
    if request.kind is AccessKind.LOCATION:
        return Decision(True, "registered location")
    if request.camera_tier is not Tier.INTEGRATED:
        return Decision(False, "registered cameras share no video; ask the owner for footage")
    if request.kind is AccessKind.LIVE and not policy.share_live:
        return Decision(False, "the owner does not share live video")
    if request.kind is AccessKind.RECORDED and not policy.share_recorded:
        return Decision(False, "the owner does not share recorded video")
    if policy.mode is SharingMode.PAUSED:
        return Decision(False, "the owner has paused sharing")
    if policy.mode is SharingMode.ALWAYS:
        return Decision(True, "the owner shares at all times")
    if policy.mode is SharingMode.SCHEDULE:
        local = now.astimezone(timezone(utc_offset))
        if any(w.covers(local) for w in policy.schedule):
            return Decision(True, "inside the owner's sharing schedule")
        return Decision(False, "outside the owner's sharing schedule")
    for e in emergencies:
        if (
            e.agency_id == request.agency_id
            and now < e.expires_at
            and distance_m(e.center, request.camera_location) <= min(e.radius_m, policy.emergency_radius_m)
        ):
            return Decision(True, "an emergency is declared within the owner's radius")
    return Decision(False, "shared only during a declared emergency nearby")
