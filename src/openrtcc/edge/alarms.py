"""The box's alarms: raised by the part that notices (recorder, retention, capture, clock), reported to the
hub in every Health message, and cleared when the condition is over."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from openrtcc.domain.edge_protocol import EdgeAlarm

log = logging.getLogger(__name__)


class Alarms:
    def __init__(self, now: Callable[[], datetime]):
        self._now = now
        self._lock = threading.Lock()
        self._active: dict[tuple[str, str | None], EdgeAlarm] = {}
        self._cleared: list[EdgeAlarm] = []  # cleared since the last report, so the hub hears the end too

    def raise_(self, code: str, message: str, camera_id: str | None = None) -> None:
        key = (code, camera_id)
        with self._lock:
            if key in self._active and self._active[key].message == message:
                return
            self._active[key] = EdgeAlarm(code=code, message=message, camera_id=camera_id, raised_at=self._now())
        log.warning("alarm %s%s: %s", code, f" ({camera_id})" if camera_id else "", message)

    def clear(self, code: str, camera_id: str | None = None) -> None:
        with self._lock:
            alarm = self._active.pop((code, camera_id), None)
            if alarm is not None:
                self._cleared.append(alarm.model_copy(update={"cleared": True, "raised_at": self._now()}))
        if alarm is not None:
            log.info("alarm %s cleared%s", code, f" ({camera_id})" if camera_id else "")

    def is_active(self, code: str, camera_id: str | None = None) -> bool:
        with self._lock:
            return (code, camera_id) in self._active

    def active(self) -> list[EdgeAlarm]:
        with self._lock:
            return list(self._active.values())

    def take_report(self) -> list[EdgeAlarm]:
        """Active alarms plus those cleared since the last report (which are then forgotten)."""
        with self._lock:
            report = list(self._active.values()) + self._cleared
            self._cleared = []
        return report
