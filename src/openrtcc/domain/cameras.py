"""Cameras in the community registry: tiers, owner sharing policy, view cones, duplicates."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from enum import StrEnum

from openrtcc.domain.errors import InvalidInput
from openrtcc.domain.geo import Area, Point, angle_between_deg, bearing_deg, distance_m
from openrtcc.domain.privacy_masks import PrivacyMask

MAX_RANGE_M = 500.0
DEFAULT_EMERGENCY_RADIUS_M = 1000.0  # how near a declared emergency must be to open emergency-only sharing
MAX_EMERGENCY_RADIUS_M = 10_000.0
DUPLICATE_DISTANCE_M = 15.0
DUPLICATE_BEARING_DEG = 30.0


class Tier(StrEnum):
    REGISTERED = "registered"  # the agency sees the location and may ask for footage
    INTEGRATED = "integrated"  # live/recorded access through an edge box, under the owner's policy


class SharingMode(StrEnum):
    ALWAYS = "always"
    EMERGENCY_ONLY = "emergency_only"
    SCHEDULE = "schedule"
    PAUSED = "paused"


class CameraStatus(StrEnum):
    ACTIVE = "active"
    WITHDRAWN = "withdrawn"  # the owner revoked participation; invisible to agencies


@dataclass(frozen=True, slots=True)
class ScheduleWindow:
    """A weekly window in the deployment's local time: weekday 0 = Monday."""

    weekday: int
    start: time
    end: time

    def covers(self, local: datetime) -> bool:
        if local.weekday() != self.weekday:
            return False
        t = local.time()
        if self.start <= self.end:
            return self.start <= t < self.end
        return t >= self.start  # a window crossing midnight is split by the caller


@dataclass(frozen=True, slots=True)
class SharingPolicy:
    """What the owner allows for an integrated camera. Only the owner changes it; the edge box enforces it.

    `emergency_radius_m`: emergency-only sharing opens only for an emergency declared within this distance
    (and within the emergency's own radius). `privacy_masks` are blacked out of every frame before it leaves
    the box. `share_reads_with`: the agencies (ids) that receive plate reads from this camera; empty: none."""

    mode: SharingMode = SharingMode.PAUSED
    share_live: bool = False
    share_recorded: bool = False
    schedule: tuple[ScheduleWindow, ...] = ()
    emergency_radius_m: float = DEFAULT_EMERGENCY_RADIUS_M
    privacy_masks: tuple[PrivacyMask, ...] = ()
    share_reads_with: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ViewCone:
    bearing_deg: float
    fov_deg: float
    range_m: float

    def covers(self, camera: Point, target: Point) -> bool:
        """Whether `target` lies inside the field of view: within range and half the angle."""
        d = distance_m(camera, target)
        if d > self.range_m:
            return False
        if d < 1.0 or self.fov_deg >= 360.0:
            return True
        return angle_between_deg(bearing_deg(camera, target), self.bearing_deg) <= self.fov_deg / 2


@dataclass(frozen=True, slots=True)
class ContactPreferences:
    """How, and whether, the owner's contact details may be given to an agency."""

    share_contact: str = "on_request"  # never | on_request | always
    preferred_channel: str = "email"  # email | phone | portal
    phone: str | None = None


@dataclass(slots=True)
class Camera:
    id: str
    agency_id: str
    owner_id: str
    name: str
    location: Point
    address: str
    view: ViewCone
    tier: Tier
    policy: SharingPolicy
    public_facing_attested: bool
    make: str | None
    model: str | None
    owner_retention_days: int
    status: CameraStatus
    created_at: datetime
    updated_at: datetime
    possible_duplicate_of: str | None = None
    withdrawn_at: datetime | None = None
    edge_id: str | None = None  # the owner's edge box that integrates this camera, once linked
    pk: int | None = field(default=None, compare=False)


def validate_view(bearing: float, fov: float, range_m: float) -> ViewCone:
    if not isinstance(bearing, int | float) or not 0 <= bearing <= 359:
        raise InvalidInput("bearing must be between 0 and 359 degrees", code="bearing_out_of_range")
    if not 1 <= fov <= 360:
        raise InvalidInput("field of view must be between 1 and 360 degrees", code="fov_out_of_range")
    if not 1 <= range_m <= MAX_RANGE_M:
        raise InvalidInput(f"range must be between 1 and {MAX_RANGE_M:.0f} m", code="range_out_of_range")
    return ViewCone(float(bearing), float(fov), float(range_m))


def check_in_jurisdiction(location: Point, jurisdiction: Area, agency_name: str) -> None:
    if not jurisdiction.contains(location):
        raise InvalidInput(
            f"location {location.lat:.6f}, {location.lon:.6f} is outside the jurisdiction of {agency_name}",
            code="outside_jurisdiction",
        )


def find_likely_duplicate(candidate_location: Point, view: ViewCone, owner_cameras: list[Camera]) -> Camera | None:
    """Same owner, within 15 m and a bearing within 30 degrees: probably the same camera twice."""
    for cam in owner_cameras:
        if cam.status is not CameraStatus.ACTIVE:
            continue
        if distance_m(cam.location, candidate_location) > DUPLICATE_DISTANCE_M:
            continue
        if angle_between_deg(cam.view.bearing_deg, view.bearing_deg) <= DUPLICATE_BEARING_DEG:
            return cam
    return None


def cameras_seeing(target: Point, cameras: list[Camera]) -> list[Camera]:
    """Cameras whose field of view covers the target, nearest first."""
    seeing = [c for c in cameras if c.view.covers(c.location, target)]
    return sorted(seeing, key=lambda c: distance_m(c.location, target))
