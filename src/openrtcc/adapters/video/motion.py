"""Motion gating: a frame difference on a small grey image decides whether the plate detector runs at all."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class MotionSettings:
    # Grey levels a pixel must change by: above the flicker of compression and sensor noise on a blurred
    # 160x90 image, below a car's body against the road.
    pixel_delta: int = 20
    # Share of the small image that must change: 0.2% is about 30 pixels at 160x90, i.e. a plate-sized
    # patch of the full frame; a swaying leaf or a compression pulse stays under it.
    min_changed: float = 0.002


class MotionGate:
    """`has_motion(grey_small)` for each decoded frame in order; the first frame counts as motion (there
    is nothing to compare it with, and a scene must be looked at once)."""

    def __init__(self, settings: MotionSettings | None = None):
        self.settings = settings or MotionSettings()
        self._previous: np.ndarray | None = None
        self.changed = 0.0  # the last frame's changed share, for logs and tuning

    def has_motion(self, grey_small: np.ndarray) -> bool:
        current = cv2.GaussianBlur(grey_small, (5, 5), 0)
        previous, self._previous = self._previous, current
        if previous is None or previous.shape != current.shape:
            self.changed = 1.0
            return True
        diff = cv2.absdiff(current, previous)
        self.changed = float(np.count_nonzero(diff > self.settings.pixel_delta)) / diff.size
        return self.changed >= self.settings.min_changed
