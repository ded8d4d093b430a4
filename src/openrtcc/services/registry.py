"""The camera registry, owner side: register, change, withdraw, and see who looked."""

from __future__ import annotations

from dataclasses import dataclass, replace

from openrtcc.domain.accounts import Permission
from openrtcc.domain.audit import AuditEntry
from openrtcc.domain.cameras import (
    Camera,
    CameraStatus,
    ContactPreferences,
    SharingPolicy,
    Tier,
    check_in_jurisdiction,
    find_likely_duplicate,
    validate_view,
)
from openrtcc.domain.erasures import ErasureKind
from openrtcc.domain.errors import Conflict, InvalidInput, NotFound
from openrtcc.domain.geo import Point, area_from_geojson, valid_coordinates
from openrtcc.services import command_events, edge_policy, erasures, live_sessions
from openrtcc.services.hub import Actor, Hub


@dataclass(frozen=True, slots=True)
class CameraDraft:
    agency_id: str
    name: str
    lat: float
    lon: float
    address: str
    bearing_deg: float
    fov_deg: float
    range_m: float
    public_facing_attested: bool
    make: str | None
    model: str | None
    owner_retention_days: int
    tier: Tier
    policy: SharingPolicy
    keep: tuple[str, ...] = ()  # policy fields left out of the request: the camera's current values stay


def _checked(uow, draft: CameraDraft) -> tuple[Point, object]:
    if not valid_coordinates(draft.lat, draft.lon):
        raise InvalidInput("latitude must be within -90..90 and longitude within -180..180", code="bad_coordinates")
    if not draft.public_facing_attested:
        raise InvalidInput("only cameras that face public space may be registered: confirm the attestation",
                           code="not_public_facing")
    view = validate_view(draft.bearing_deg, draft.fov_deg, draft.range_m)
    agency = uow.accounts.agency(draft.agency_id)
    if agency is None:
        raise InvalidInput("unknown agency program", code="unknown_agency")
    point = Point(draft.lat, draft.lon)
    check_in_jurisdiction(point, area_from_geojson(agency.jurisdiction), agency.name)  # the row is at hand
    for agency_id in draft.policy.share_reads_with:
        if uow.accounts.agency(agency_id) is None:
            raise InvalidInput("plate reads can be shared only with agencies on this hub", code="unknown_agency")
    return point, view


MAX_BATCH = 200


def register_camera(hub: Hub, owner: Actor, draft: CameraDraft, *, allow_duplicate: bool = False) -> Camera:
    owner.require(Permission.OWN_CAMERAS)
    with hub.uow() as uow:
        cam = _register_one(hub, uow, owner, draft, allow_duplicate, [])
        uow.commit()
        return cam


def register_cameras(hub: Hub, owner: Actor, drafts: list[tuple[CameraDraft, bool]]) -> list[Camera]:
    """Register several cameras at once (a business or HOA with many): all of them, or none.

    Each draft comes with its own allow-duplicate flag. A refusal names the camera at fault in
    `details.index` (0-based) and the message (1-based).
    """
    owner.require(Permission.OWN_CAMERAS)
    if not 1 <= len(drafts) <= MAX_BATCH:
        raise InvalidInput(f"send between 1 and {MAX_BATCH} cameras at once", code="bad_batch")
    with hub.uow() as uow:
        done: list[Camera] = []
        for index, (draft, allow_duplicate) in enumerate(drafts):
            try:
                done.append(_register_one(hub, uow, owner, draft, allow_duplicate, done))
            except (InvalidInput, Conflict) as exc:
                exc.message = f"camera {index + 1}: {exc.message}"
                exc.details = {**exc.details, "index": index}
                raise
        uow.commit()
        return done


def _register_one(hub: Hub, uow, owner: Actor, draft: CameraDraft, allow_duplicate: bool,
                  same_batch: list[Camera]) -> Camera:
    point, view = _checked(uow, draft)
    dup = find_likely_duplicate(point, view, same_batch + uow.cameras.near_owner(owner.user_id, point, 20.0))
    if dup and not allow_duplicate:
        raise Conflict(
            f"this looks like your camera '{dup.name}' registered within 15 m facing the same way; "
            "edit that one, or confirm this is a different camera",
            code="likely_duplicate", details={"duplicate_of": dup.id},
        )
    now = hub.clock.now()
    cam = Camera(hub.ids.new_id(), draft.agency_id, owner.user_id, draft.name.strip(), point,
                 draft.address.strip(), view, draft.tier, draft.policy, True, draft.make, draft.model,
                 draft.owner_retention_days, CameraStatus.ACTIVE, now, now,
                 possible_duplicate_of=dup.id if dup else None)
    uow.cameras.add(cam)
    uow.record(owner.entry("camera.register", f"camera:{cam.id}", agency=draft.agency_id, tier=cam.tier.value,
                           flagged_duplicate_of=cam.possible_duplicate_of))
    return cam


def update_camera(hub: Hub, owner: Actor, camera_id: str, draft: CameraDraft) -> Camera:
    """Owners change anything about their camera; no agency-side path reaches this."""
    owner.require(Permission.OWN_CAMERAS)
    with hub.uow() as uow:
        cam = uow.cameras.get_for_owner(owner.user_id, camera_id)
        if cam is None or cam.status is CameraStatus.WITHDRAWN:
            raise NotFound("no such camera among yours")
        draft = replace(draft, policy=replace(draft.policy, **{k: getattr(cam.policy, k) for k in draft.keep}))
        point, view = _checked(uow, draft)
        changed = replace(cam, agency_id=draft.agency_id, name=draft.name.strip(), location=point,
                          address=draft.address.strip(), view=view, tier=draft.tier, policy=draft.policy,
                          make=draft.make, model=draft.model, owner_retention_days=draft.owner_retention_days,
                          updated_at=hub.clock.now())
        uow.cameras.update(changed)
        uow.record(owner.entry("camera.update", f"camera:{cam.id}", tier=changed.tier.value,
                               sharing=changed.policy.mode.value))
        uow.commit()
    edge_policy.camera_changed(hub, changed.edge_id)  # the box enforces the change from now on
    live_sessions.camera_changed(hub, changed.id)  # and the hub stops relaying what it now refuses
    command_events.sharing_changed(hub, cam, changed)
    return changed


def withdraw_camera(hub: Hub, owner: Actor, camera_id: str) -> Camera:
    """Revocation: the camera leaves every agency's view at once. Its access log stays for the owner."""
    owner.require(Permission.OWN_CAMERAS)
    with hub.uow() as uow:
        cam = uow.cameras.get_for_owner(owner.user_id, camera_id)
        if cam is None:
            raise NotFound("no such camera among yours")
        if cam.status is CameraStatus.WITHDRAWN:
            raise Conflict("this camera is already withdrawn", code="already_withdrawn")
        now = hub.clock.now()
        cam = replace(cam, status=CameraStatus.WITHDRAWN, withdrawn_at=now, updated_at=now)
        uow.cameras.update(cam)
        uow.record(owner.entry("camera.withdraw", f"camera:{cam.id}"))
        erasures.note(hub, ErasureKind.CAMERA_WITHDRAWN, target=cam.id, owner_id=owner.user_id, by=owner.user_id)
        uow.commit()
    edge_policy.camera_changed(hub, cam.edge_id)
    live_sessions.camera_changed(hub, cam.id)
    command_events.sharing_changed(hub, None, cam)
    return cam


def list_my_cameras(hub: Hub, owner: Actor) -> list[Camera]:
    owner.require(Permission.OWN_CAMERAS)
    with hub.uow() as uow:
        cams = uow.cameras.list_for_owner(owner.user_id)
        uow.record(owner.entry("camera.list_own", f"user:{owner.user_id}", count=len(cams)))
        uow.commit()
        return cams


def get_my_camera(hub: Hub, owner: Actor, camera_id: str) -> Camera:
    owner.require(Permission.OWN_CAMERAS)
    with hub.uow() as uow:
        cam = uow.cameras.get_for_owner(owner.user_id, camera_id)
        if cam is None:
            raise NotFound("no such camera among yours")
        uow.record(owner.entry("camera.read_own", f"camera:{cam.id}"))
        uow.commit()
        return cam


@dataclass(frozen=True, slots=True)
class AccessLogEntry:
    at: object
    agency: str
    kind: str
    purpose: str
    case_number: str | None
    scope: str  # "this camera" | "all cameras in the program"


def camera_access_log(hub: Hub, owner: Actor, camera_id: str, limit: int = 500) -> list[AccessLogEntry]:
    owner.require(Permission.OWN_CAMERAS)
    with hub.uow() as uow:
        cam = uow.cameras.get_for_owner(owner.user_id, camera_id)
        if cam is None:
            raise NotFound("no such camera among yours")
        # Program-wide entries count only from the moment the camera joined: a map viewed before that
        # did not show it (timestamps keep microseconds on both backends, so no slack is needed).
        rows = uow.activity.access_for_camera(cam.pk, cam.agency_id, cam.created_at, cam.withdrawn_at, limit)
        uow.record(owner.entry("camera.access_log", f"camera:{cam.id}", count=len(rows)))
        uow.commit()
    return [AccessLogEntry(r.at, r.agency_name, r.kind, r.purpose, r.case_number,
                           "this camera" if r.camera_pk else "all cameras in the program") for r in rows]


def owner_profile(hub: Hub, owner: Actor):
    owner.require(Permission.OWN_CAMERAS)
    with hub.uow() as uow:
        user = uow.accounts.by_id(owner.user_id)
        prof = uow.accounts.owner_profile(owner.user_id)
        uow.record(owner.entry("owner.profile_read", f"user:{owner.user_id}"))
        uow.commit()
        return user, prof


def update_contact(hub: Hub, owner: Actor, prefs: ContactPreferences) -> None:
    owner.require(Permission.OWN_CAMERAS)
    with hub.uow() as uow:
        uow.accounts.update_owner_profile(owner.user_id, phone=prefs.phone, share_contact=prefs.share_contact,
                                          preferred_channel=prefs.preferred_channel)
        uow.record(owner.entry("owner.contact_update", f"user:{owner.user_id}", share=prefs.share_contact))
        uow.commit()


def list_programs(hub: Hub, source: str | None) -> list:
    """Agencies whose registration programs owners can join (public information)."""
    with hub.uow() as uow:
        rows = uow.accounts.agencies()
        uow.record(AuditEntry("agency.list_programs", "success", None, None, None, source, {}))
        uow.commit()
        return rows


def my_notifications(hub: Hub, owner: Actor) -> list:
    with hub.uow() as uow:
        rows = uow.activity.notifications(owner.user_id)
        uow.record(owner.entry("notification.list", f"user:{owner.user_id}", count=len(rows)))
        uow.commit()
        return rows


def mark_notification_read(hub: Hub, owner: Actor, notification_id: str) -> None:
    with hub.uow() as uow:
        if not uow.activity.mark_read(owner.user_id, notification_id, hub.clock.now()):
            raise NotFound("no such notification")
        uow.record(owner.entry("notification.read", f"notification:{notification_id}"))
        uow.commit()
