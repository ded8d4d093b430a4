"""Motion gating: a frame difference on a small grey image decides whether the plate detector runs at all."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class MotionSettings:
    # Grey levels a pixel must change by. The gate's image is 8x8-block averaged and blurred, so grain,
    # snow and compression flicker are mostly gone from it; 10 still catches a car creeping to a booth.
    pixel_delta: int = 10
    # Share of the small image that must change: 0.2% is about 30 pixels at 160x90, i.e. a plate-sized
    # patch of the full frame; a swaying leaf or a compression pulse stays under it.
    min_changed: float = 0.002
    # Pixels that keep changing for seconds on end (leaves, rain, a flag, a blinking sign) are restless,
    # not traffic: they stop counting. `restless_rate` is the weight of each frame in a pixel's running
    # activity (0.02: a pixel changing in 40% of frames reaches `restless_at` in about 2 s); a vehicle's
    # edges cross a pixel in well under a second.
    restless_rate: float = 0.02
    restless_at: float = 0.25


class MotionGate:
    """`has_motion(grey_small)` for each decoded frame in order; the first frame counts as motion (there
    is nothing to compare it with, and a scene must be looked at once)."""

    def __init__(self, settings: MotionSettings | None = None):
        self.settings = settings or MotionSettings()
        self._previous: np.ndarray | None = None
        self._activity: np.ndarray | None = None  # per pixel: running share of frames it changed in
        self.changed = 0.0  # the last frame's changed share, for logs and tuning

    def has_motion(self, grey_small: np.ndarray) -> bool:
        current = cv2.GaussianBlur(grey_small, (5, 5), 0)
        previous, self._previous = self._previous, current
        if previous is None or previous.shape != current.shape:
            self.changed = 1.0
            return True
        moved = cv2.absdiff(current, previous) > self.settings.pixel_delta
        if self._activity is None or self._activity.shape != moved.shape:
            self._activity = np.zeros(moved.shape, np.float32)
        calm = self._activity < self.settings.restless_at
        rate = self.settings.restless_rate
        self._activity *= 1.0 - rate
        self._activity += rate * moved
        self.changed = float(np.count_nonzero(moved & calm)) / moved.size
        return self.changed >= self.settings.min_changed
