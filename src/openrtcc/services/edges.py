"""Edge boxes on the hub: authenticating them, their link (hello, health, access logs, holds), and the
owner's view of their boxes (list, revoke, link a camera)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from openrtcc.domain.accounts import Permission
from openrtcc.domain.audit import AuditEntry
from openrtcc.domain.cameras import Camera, CameraStatus, Tier
from openrtcc.domain.edge_protocol import (
    CLOCK_SKEW_ALARM_S,
    AccessLog,
    AccessLogStored,
    Health,
    Hello,
    HoldResult,
    Welcome,
)
from openrtcc.domain.erasures import ErasureKind
from openrtcc.domain.errors import InvalidInput, NotFound, Unauthenticated
from openrtcc.services import command_events, edge_policy, edge_read_access, emergencies, erasures, live_sessions
from openrtcc.services.edge_enrolment import secret_hash
from openrtcc.services.edge_links import EdgeLinks, LinkedEdge
from openrtcc.services.hub import Actor, Hub

REFUSED_KEY = "unknown or revoked edge key"
SILENT_AFTER = timedelta(minutes=2)  # a box reports every ~10 s: silent this long, its cameras show offline


@dataclass(frozen=True, slots=True)
class EdgeBox:
    id: str
    owner_id: str
    name: str
    enrolled_at: datetime
    revoked_at: datetime | None
    last_seen_at: datetime | None
    connected: bool
    software_version: str | None
    clock_skew_ms: int | None
    status: dict

    @property
    def clock_skew_alarm(self) -> bool:
        return self.clock_skew_ms is not None and abs(self.clock_skew_ms) > CLOCK_SKEW_ALARM_S * 1000


def _box(row) -> EdgeBox:
    return EdgeBox(row.id, row.owner_id, row.name, row.enrolled_at, row.revoked_at, row.last_seen_at,
                   bool(row.connected), row.software_version, row.clock_skew_ms, dict(row.status or {}))


def authenticate_edge(hub: Hub, key: str | None, client: str | None) -> EdgeBox:
    """The box a key belongs to. Unknown and revoked keys get the same refusal (a revoked one is audited)."""
    if not key:
        raise Unauthenticated("send the edge key as `Authorization: Bearer <key>`", code="edge_key_missing")
    with hub.uow() as uow:
        row = uow.edges.by_key_hash(secret_hash(key))
        if row is not None and row.revoked_at is not None:
            uow.record(AuditEntry("edge.refused", "denied", None, None, f"edge:{row.id}", client,
                                  {"reason": "revoked"}))
            uow.commit()
        else:
            uow.rollback()
    if row is None or row.revoked_at is not None:
        raise Unauthenticated(REFUSED_KEY, code="edge_key_refused")
    return _box(row)


def _skew_ms(hub: Hub, sent_at: datetime) -> int:
    return int((sent_at - hub.clock.now()).total_seconds() * 1000)


# ---------------------------------------------------------------- the link


def accept_hello(hub: Hub, box: EdgeBox, hello: Hello, client: str | None) -> Welcome:
    """Record the connection, link the hello's cameras that are the owner's integrated ones, and answer."""
    skew = _skew_ms(hub, hello.sent_at)
    with hub.uow() as uow:
        mine = {c.id: c for c in uow.cameras.list_for_owner(box.owner_id)}
        unknown, moved_from = [], set()
        for cam in hello.cameras:
            known = mine.get(cam.camera_id)
            if known is None or known.tier is not Tier.INTEGRATED or known.status is not CameraStatus.ACTIVE:
                unknown.append(cam.camera_id)
            elif known.edge_id != box.id:
                uow.edges.link_camera(known.id, box.owner_id, box.id)
                moved_from.add((known.edge_id, known.id))
        uow.edges.mark_link(box.id, connected=True, at=hub.clock.now(), software_version=hello.software_version,
                            clock_skew_ms=skew)
        uow.record(AuditEntry("edge.connect", "success", box.owner_id, None, f"edge:{box.id}", client,
                              {"software_version": hello.software_version, "cameras": len(hello.cameras),
                               "unknown_cameras": unknown, "clock_skew_ms": skew,
                               "clock_skew_alarm": abs(skew) > CLOCK_SKEW_ALARM_S * 1000}))
        uow.commit()
    edge_policy.camera_changed(hub, *(edge for edge, _ in moved_from))  # the old box stops serving it
    for _, camera_id in moved_from:
        live_sessions.camera_changed(hub, camera_id)
    return Welcome(sent_at=hub.clock.now(), edge_id=box.id, unknown_cameras=unknown)


def link_closed(hub: Hub, box: EdgeBox, client: str | None, reason: str) -> None:
    links = hub.extras.get("edge_links")
    replaced = links is not None and links.is_connected(box.id)  # a newer link of the same box took over
    with hub.uow() as uow:
        uow.edges.mark_link(box.id, connected=replaced, at=hub.clock.now())
        uow.record(AuditEntry("edge.disconnect", "success", box.owner_id, None, f"edge:{box.id}", client,
                              {"reason": reason[:200]}))
        uow.commit()


def refuse_message(hub: Hub, box: EdgeBox, client: str | None, reason: str) -> None:
    """A malformed or out-of-order message: the link is closed and the refusal kept as evidence."""
    with hub.uow() as uow:
        uow.record(AuditEntry("edge.message_refused", "denied", box.owner_id, None, f"edge:{box.id}", client,
                              {"reason": reason[:300]}))
        uow.commit()


def _alarm_keys(alarms: list[dict]) -> set[tuple]:
    return {(a["code"], a.get("camera_id")) for a in alarms}


def record_health(hub: Hub, edge: LinkedEdge, msg: Health) -> None:
    """Camera health rows, the box's status; an alarm raised or cleared is audited once, not every report."""
    now = hub.clock.now()
    with hub.uow() as uow:
        row = uow.edges.get(edge.edge_id)
        linked = {c.id for c in edge_policy.linked_cameras(uow, edge.edge_id, edge.owner_id)}
        uow.edges.save_health(edge.edge_id, [
            {"camera_id": h.camera_id, "online": h.online, "fps": h.fps, "bitrate_kbps": h.bitrate_kbps,
             "last_frame_at": h.last_frame_at, "error": h.error} for h in msg.cameras if h.camera_id in linked], now)
        before = _alarm_keys((row.status or {}).get("alarms", []))
        active = [a.model_dump(mode="json") for a in msg.alarms if not a.cleared]
        status = {"disk": msg.disk.model_dump(mode="json") if msg.disk else None, "alarms": active,
                  "queued_reads": msg.queued_reads, "cameras_reported": len(msg.cameras)}
        uow.edges.set_status(edge.edge_id, status, now, _skew_ms(hub, msg.sent_at))
        raised, cleared = _alarm_keys(active) - before, before - _alarm_keys(active)
        if raised or cleared:
            uow.record(AuditEntry("edge.alarms", "success", edge.owner_id, None, f"edge:{edge.edge_id}", None,
                                  {"raised": sorted(f"{c}:{cam or ''}" for c, cam in raised),
                                   "cleared": sorted(f"{c}:{cam or ''}" for c, cam in cleared)}))
            uow.commit()
        else:
            uow.commit_bookkeeping()
    command_events.cameras_checked(hub, edge.edge_id)  # a camera that went offline or came back shows at once


def record_access_log(hub: Hub, edge: LinkedEdge, msg: AccessLog, links: EdgeLinks | None = None) -> None:
    """The box's own log, mirrored; a re-sent entry (same entry id) is stored once. The box marks entries
    sent only when the hub says, after the commit, that it stored them."""
    entries = [e.model_dump() for e in msg.entries]
    with hub.uow() as uow:
        new = uow.edges.add_access(edge.edge_id, entries, hub.clock.now())
        if new:
            uow.record(AuditEntry("edge.access_log", "success", edge.owner_id, None, f"edge:{edge.edge_id}", None,
                                  {"received": len(entries), "new": new}))
            uow.commit()
        else:
            uow.commit_bookkeeping()
    if links is not None:
        links.send(edge.edge_id, AccessLogStored(sent_at=hub.clock.now(), entry_ids=[e.entry_id for e in msg.entries]))


def record_hold_result(hub: Hub, edge: LinkedEdge, msg: HoldResult) -> None:
    with hub.uow() as uow:
        found = uow.edges.confirm_hold(edge.edge_id, msg.hold_id, hub.clock.now(), msg.status == "held")
        uow.record(AuditEntry("edge.hold_result", "success" if found else "failed", edge.owner_id, None,
                              f"hold:{msg.hold_id}", None, {"status": msg.status, "known": found}))
        uow.commit()


def register_edge_handlers(hub, links: EdgeLinks) -> None:
    """Register this module's handlers for messages from edge boxes on `links`."""
    links.on(Health, lambda edge, msg: record_health(hub, edge, msg))
    links.on(AccessLog, lambda edge, msg: record_access_log(hub, edge, msg, links))
    links.on(HoldResult, lambda edge, msg: record_hold_result(hub, edge, msg))
    links.on_connect(lambda edge: edge_policy.push_policy(hub, edge.edge_id))
    emergencies.register_edge_handlers(hub, links)  # after the policy: a box hears its cameras first
    command_events.watch_cameras(hub, SILENT_AFTER)


# ---------------------------------------------------------------- the owner's boxes


@dataclass(frozen=True, slots=True)
class BoxView:
    box: EdgeBox
    linked: bool  # a link is open to this hub process now
    cameras: list[tuple[Camera, object]]  # (camera, its health row or None)


def my_edges(hub: Hub, owner: Actor) -> list[BoxView]:
    owner.require(Permission.OWN_CAMERAS)
    links = hub.extras.get("edge_links")
    with hub.uow() as uow:
        boxes = [_box(r) for r in uow.edges.for_owner(owner.user_id)]
        cams = [c for c in uow.cameras.list_for_owner(owner.user_id) if c.edge_id]
        health = uow.edges.health_for([c.id for c in cams])
        uow.record(owner.entry("edge.list_own", f"user:{owner.user_id}", count=len(boxes)))
        uow.commit()
    return [BoxView(b, bool(links and links.is_connected(b.id)),
                    [(c, health.get(c.id)) for c in cams if c.edge_id == b.id]) for b in boxes]


def _owned_box(uow, owner: Actor, edge_id: str):
    row = uow.edges.get(edge_id)
    if row is None or row.owner_id != owner.user_id:
        raise NotFound("no such edge box among yours")
    return row


def revoke_edge(hub: Hub, owner: Actor, edge_id: str) -> EdgeBox:
    """The key is dead from now on and the open link is closed; the box must be enrolled again."""
    owner.require(Permission.OWN_CAMERAS)
    with hub.uow() as uow:
        row = _owned_box(uow, owner, edge_id)
        uow.edges.revoke(edge_id, hub.clock.now())
        uow.record(owner.entry("edge.revoke", f"edge:{edge_id}", already=row.revoked_at is not None))
        erasures.note(hub, ErasureKind.EDGE_REVOKED, target=edge_id, owner_id=owner.user_id, by=owner.user_id)
        uow.commit()
        row = uow.edges.get(edge_id)
    edge_read_access.changed(hub, (edge_id,))  # its key takes no further batch on any serving process
    links = hub.extras.get("edge_links")
    if links is not None:
        links.send(edge_id, None)  # None tells the transport to close the connection
    live_sessions.edge_revoked(hub, edge_id)
    command_events.box_revoked(hub, edge_id)
    return _box(row)


def link_camera(hub: Hub, owner: Actor, camera_id: str, edge_id: str | None) -> Camera:
    """Say which of the owner's boxes integrates the camera (None: none); both boxes get their new policy."""
    owner.require(Permission.OWN_CAMERAS)
    with hub.uow() as uow:
        cam = uow.cameras.get_for_owner(owner.user_id, camera_id)
        if cam is None:
            raise NotFound("no such camera among yours")
        if edge_id is not None:
            row = _owned_box(uow, owner, edge_id)
            if row.revoked_at is not None:
                raise InvalidInput("this edge box has been revoked", code="edge_revoked")
        uow.edges.link_camera(camera_id, owner.user_id, edge_id)
        uow.record(owner.entry("camera.edge_link", f"camera:{camera_id}", edge=edge_id, previous=cam.edge_id))
        uow.commit()
        before, cam.edge_id = cam.edge_id, edge_id
    edge_policy.camera_changed(hub, before, edge_id)
    live_sessions.camera_changed(hub, camera_id)
    return cam


def offline_cameras(hub: Hub, actor: Actor) -> list[str]:
    """The agency's cameras that their box reports offline, or whose box has gone silent or was revoked."""
    actor.require(Permission.VIEW_CAMERA_MAP)
    with hub.uow() as uow:
        ids = uow.edges.offline_cameras(actor.agency_id, hub.clock.now() - SILENT_AFTER)
        uow.record(actor.entry("camera.map_offline", f"agency:{actor.agency_id}", count=len(ids)))
        uow.commit()
    return ids


@dataclass(frozen=True, slots=True)
class BoxAccessEntry:
    at: datetime
    edge: str
    agency: str | None
    kind: str
    outcome: str
    reason: str
    purpose: str | None
    case_number: str | None


def edge_access_log(hub: Hub, owner: Actor, camera_id: str, limit: int = 500) -> list[BoxAccessEntry]:
    """What the owner's boxes logged about this camera (beside the hub's own log of the same camera)."""
    owner.require(Permission.OWN_CAMERAS)
    with hub.uow() as uow:
        cam = uow.cameras.get_for_owner(owner.user_id, camera_id)
        if cam is None:
            raise NotFound("no such camera among yours")
        boxes = {r.id: r.name for r in uow.edges.for_owner(owner.user_id)}
        rows = uow.edges.access_for_camera(camera_id, list(boxes), limit)
        agencies = {a: uow.accounts.agency(a) for a in {r.agency_id for r in rows if r.agency_id}}
        uow.record(owner.entry("camera.edge_access_log", f"camera:{camera_id}", count=len(rows)))
        uow.commit()
    return [BoxAccessEntry(r.at, boxes[r.edge_id], agencies[r.agency_id].name if agencies.get(r.agency_id) else
                           r.agency_id, r.kind, r.outcome, r.reason, r.purpose, r.case_number) for r in rows]
