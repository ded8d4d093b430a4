"""Black out the owner's privacy masks in a frame, before the frame is read, streamed or exported."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from openrtcc.domain.privacy_masks import PrivacyMask


def apply_masks(frame: np.ndarray, masks: Sequence[PrivacyMask]) -> np.ndarray:
    """Fill every mask with black, in place, and return the frame. Points are fractions of the frame."""
    if not masks:
        return frame
    h, w = frame.shape[:2]
    polygons = [np.array([[round(x * (w - 1)), round(y * (h - 1))] for x, y in m.points], dtype=np.int32)
                for m in masks]
    cv2.fillPoly(frame, polygons, (0, 0, 0))
    return frame
