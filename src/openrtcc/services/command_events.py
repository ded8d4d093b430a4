"""What the command center hears about cameras and emergencies: a camera going offline or back, an owner
changing what a camera shares, an emergency declared, ended or expired. Published on the bus after the
change committed; each event names the agencies whose map shows the camera (its program's agency)."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from openrtcc.domain.cameras import Camera, CameraStatus, SharingMode
from openrtcc.domain.command_events import CameraStatusChanged, EmergencyChanged, SharingChanged
from openrtcc.periodic import PeriodicTask
from openrtcc.services.hub import Hub

log = logging.getLogger(__name__)
STATUS_CHECK_S = 15.0
WATCH_KEY = "camera_status"


def _publish(hub: Hub, event) -> None:
    if hub.bus is None:
        return
    try:
        hub.bus.publish(event)
    except Exception as exc:  # the change stands; screens catch up on their next reload
        log.warning("could not publish %s (%s)", type(event).__name__, type(exc).__name__)


# ---------------------------------------------------------------- emergencies


def emergency_changed(hub: Hub, row, change: str, *, only_if_expired: bool = False) -> None:
    """`row` is the emergency as stored; an expiry watch passes every emergency no longer in force and only
    those past their expiry are announced as expired (one ended early was announced when it ended)."""
    now = hub.clock.now()
    if only_if_expired and row.expires_at > now:
        return
    _publish(hub, EmergencyChanged(row.id, row.agency_id, change, now))


# ---------------------------------------------------------------- owners' sharing


def sharing_change(before: Camera | None, after: Camera) -> str | None:
    """What an owner's change did to sharing, as the command center names it; None when sharing is the same."""
    if after.status is CameraStatus.WITHDRAWN:
        return "revoked"
    if before is None:
        return None
    if before.tier is not after.tier:
        return "tier"
    if after.policy.mode is SharingMode.PAUSED and before.policy.mode is not SharingMode.PAUSED:
        return "paused"
    if before.policy != after.policy or before.agency_id != after.agency_id:
        return "policy"
    return None


def sharing_changed(hub: Hub, before: Camera | None, after: Camera) -> None:
    """After an owner's change committed (update, withdrawal): the agencies that saw the camera hear."""
    change = sharing_change(before, after)
    if change is None:
        return
    agencies = tuple(sorted({after.agency_id} | ({before.agency_id} if before else set())))
    _publish(hub, SharingChanged(after.id, agencies, change, hub.clock.now()))


def box_revoked(hub: Hub, edge_id: str) -> None:
    """The owner revoked a box: its cameras stop sharing video and go offline on every map that showed them."""
    with hub.uow() as uow:
        cams = uow.edges.linked_cameras([edge_id])
        uow.rollback()
    now = hub.clock.now()
    for c in cams:
        _publish(hub, SharingChanged(c.id, (c.agency_id,), "revoked", now))
    cameras_checked(hub, edge_id)


# ---------------------------------------------------------------- camera health


class CameraStatusWatch:
    """Keeps which integrated cameras each map would show offline, and publishes every flip.

    The rule is the map's (`edges.offline_cameras`): offline when the box reports the camera offline, when
    the box has been silent longer than `silent_after`, or when the box was revoked. A box's health report
    checks its own cameras at once; a periodic check over all boxes catches the ones that fell silent."""

    def __init__(self, hub: Hub, silent_after: timedelta):
        self.hub = hub
        self.silent_after = silent_after
        self._lock = threading.Lock()
        self._offline: dict[str, str] = {}  # camera id -> reason
        self._known: set[str] = set()
        self._baseline = False

    def check(self, edge_ids: list[str] | None = None) -> list[CameraStatusChanged]:
        now = self.hub.clock.now()
        with self.hub.uow() as uow:
            rows = uow.edges.camera_states(edge_ids)
            uow.rollback()
        events = []
        with self._lock:
            first = not self._baseline and edge_ids is None
            for r in rows:
                reason = _offline_reason(r, now - self.silent_after)
                was_known, was = r.id in self._known, self._offline.get(r.id)
                self._known.add(r.id)
                if reason is None:
                    self._offline.pop(r.id, None)
                else:
                    self._offline[r.id] = reason
                # A camera seen for the first time is news only if it is offline (it joined the map online).
                if not first and (was_known or reason is not None) and (was is None) != (reason is None):
                    events.append(CameraStatusChanged(r.id, (r.agency_id,), reason is None, now, reason))
            if edge_ids is None:  # cameras withdrawn or unlinked since: forget them
                gone = self._known - {r.id for r in rows}
                self._known -= gone
                for camera_id in gone:
                    self._offline.pop(camera_id, None)
            self._baseline = self._baseline or edge_ids is None
        for e in events:
            _publish(self.hub, e)
        return events


def _offline_reason(r, silent_since) -> str | None:
    if r.revoked_at is not None:
        return "box_revoked"
    if r.last_seen_at is None or r.last_seen_at < silent_since:
        return "box_offline"
    if r.online is False:
        return "camera_error"
    return None


def cameras_checked(hub: Hub, edge_id: str) -> None:
    """After a box's health report or its revocation committed: publish its cameras' flips."""
    watch = hub.extras.get(WATCH_KEY)
    if watch is None:
        return
    try:
        watch.check([edge_id])
    except Exception:  # the periodic check catches up
        log.exception("could not check the cameras of edge %s", edge_id)


def watch_cameras(hub: Hub, silent_after: timedelta) -> CameraStatusWatch:
    """Install the watch and its periodic check (started with the app's background tasks)."""
    watch = CameraStatusWatch(hub, silent_after)
    hub.extras[WATCH_KEY] = watch
    hub.extras.setdefault("background", []).append(PeriodicTask("camera-status", STATUS_CHECK_S, watch.check))
    return watch
