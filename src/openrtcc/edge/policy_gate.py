"""The box's authority: the owner's policy as the hub last delivered it, capped by edge.toml, decided by the
domain's one access decision.

Until the hub has delivered a policy for a camera, nothing of it is shared. The last policy is kept on disk
so that a restarted box that cannot reach the hub still knows (and still refuses what it must).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path

from openrtcc.domain.access import AccessKind, AccessRequest, Decision, Emergency, decide_access
from openrtcc.domain.cameras import CameraStatus, ScheduleWindow, SharingMode, SharingPolicy, Tier
from openrtcc.domain.edge_protocol import CameraPolicy, Emergencies, PolicyUpdate
from openrtcc.domain.geo import Point
from openrtcc.domain.privacy_masks import PrivacyMask, validate_mask
from openrtcc.edge.config import EdgeConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Snapshot:
    policies: dict[str, CameraPolicy]
    emergencies: tuple[Emergency, ...]
    utc_offset: timedelta


def _sharing_policy(p: CameraPolicy) -> SharingPolicy:
    return SharingPolicy(
        SharingMode(p.mode), p.share_live, p.share_recorded,
        tuple(ScheduleWindow(w.weekday, time.fromisoformat(w.start), time.fromisoformat(w.end)) for w in p.schedule),
        p.emergency_radius_m, tuple(validate_mask([list(pt) for pt in m]) for m in p.privacy_masks),
        tuple(p.share_reads_with))


class PolicyGate:
    def __init__(self, config: EdgeConfig, state_file: Path | None = None):
        self._config = config
        self._state_file = state_file
        self._lock = threading.Lock()
        self._listeners: list[Callable[[], None]] = []
        self._snap = _Snapshot({}, (), timedelta(0))
        self._local_masks = {c.id: tuple(validate_mask([list(p) for p in m]) for m in c.privacy_masks)
                             for c in config.cameras}
        if state_file is not None and state_file.is_file():
            self._load(state_file)

    # ------------------------------------------------------------ updates from the hub

    def apply_policy(self, update: PolicyUpdate) -> None:
        policies = {p.camera_id: p for p in update.cameras if self._config.camera(p.camera_id) is not None}
        with self._lock:
            self._snap = _Snapshot(policies, self._snap.emergencies, timedelta(minutes=update.utc_offset_minutes))
        self._save(update)
        self._notify()

    def apply_emergencies(self, message: Emergencies) -> None:
        found = tuple(Emergency(e.agency_id, Point(e.lat, e.lon), e.radius_m, e.expires_at)
                      for e in message.emergencies)
        with self._lock:
            self._snap = _Snapshot(self._snap.policies, found, self._snap.utc_offset)
        self._notify()

    def on_change(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Called (from the thread that applied it) after every policy or emergency update."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    # ------------------------------------------------------------ decisions

    def decide(self, camera_id: str, agency_id: str, kind: AccessKind, now: datetime) -> Decision:
        local = self._config.camera(camera_id)
        if local is None:
            return Decision(False, "no such camera on this box")
        if kind is AccessKind.LIVE and not local.limits.live:
            return Decision(False, "the owner does not share live video from this box")
        if kind is AccessKind.RECORDED and not local.limits.recorded:
            return Decision(False, "the owner does not share recorded video from this box")
        snap = self._snap
        policy = snap.policies.get(camera_id)
        if policy is None:
            return Decision(False, "the box holds no sharing policy for this camera yet")
        request = AccessRequest(agency_id, kind, policy.agency_id, Point(policy.lat, policy.lon), Tier(policy.tier),
                                CameraStatus(policy.status))
        return decide_access(_sharing_policy(policy), request, now, list(snap.emergencies), snap.utc_offset)

    def masks(self, camera_id: str) -> tuple[PrivacyMask, ...]:
        """Every mask for the camera: the box's own and the owner's from the portal."""
        policy = self._snap.policies.get(camera_id)
        hub = tuple(validate_mask([list(p) for p in m]) for m in policy.privacy_masks) if policy else ()
        return self._local_masks.get(camera_id, ()) + hub

    def read_recipients(self, camera_id: str) -> tuple[str, ...]:
        """The agencies this camera's plate reads may go to; empty: they stay on the box."""
        local = self._config.camera(camera_id)
        policy = self._snap.policies.get(camera_id)
        if local is None or not local.limits.plate_reads or policy is None or policy.status != "active":
            return ()
        return tuple(policy.share_reads_with)

    def retention_days(self, camera_id: str) -> int:
        """The box's retention, shortened by the owner's setting in the portal when it is shorter."""
        days = self._config.recording.retention_days
        policy = self._snap.policies.get(camera_id)
        if policy is not None and policy.retention_days > 0:
            days = min(days, policy.retention_days)
        return days

    # ------------------------------------------------------------ persistence

    def _notify(self) -> None:
        for listener in list(self._listeners):
            try:
                listener()
            except Exception:  # one broken listener must not stop the others from closing sessions
                log.exception("policy listener failed")

    def _save(self, update: PolicyUpdate) -> None:
        if self._state_file is None:
            return
        tmp = self._state_file.with_suffix(".tmp")
        tmp.write_text(update.model_dump_json(), encoding="utf-8")
        os.replace(tmp, self._state_file)

    def _load(self, path: Path) -> None:
        try:
            update = PolicyUpdate.model_validate_json(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            log.warning("ignoring the saved policy %s (%s): nothing is shared until the hub sends one", path, exc)
            return
        self._snap = _Snapshot({p.camera_id: p for p in update.cameras if self._config.camera(p.camera_id)},
                               (), timedelta(minutes=update.utc_offset_minutes))

