"""Plate detector: an open-image-models YOLOv9 end-to-end export (NMS inside the graph)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from openrtcc.adapters.alpr.sessions import open_session
from openrtcc.domain.model_registry import ModelTask

LETTERBOX_FILL = 114  # the grey the model was trained with around letterboxed images


@dataclass(frozen=True, slots=True)
class Detection:
    box: tuple[float, float, float, float]  # x1, y1, x2, y2 in the image's pixels
    score: float


class PlateDetector:
    def __init__(self, path: Path, threads: int = 0, use_gpu: bool = True):
        self.session = open_session(path, ModelTask.PLATE_DETECTION, threads, use_gpu)
        inp = self.session.get_inputs()[0]
        self.input_name = inp.name
        height, width = inp.shape[2], inp.shape[3]
        if not (isinstance(height, int) and isinstance(width, int)):
            raise ValueError(f"{path.name}: the detector needs a fixed input size, got {inp.shape}")
        self.size = (height, width)

    def detect(self, bgr: np.ndarray, min_score: float = 0.25) -> list[Detection]:
        """Plates in a BGR image, best first."""
        tensor, scale, (pad_x, pad_y) = self._letterbox(bgr)
        rows = self.session.run(None, {self.input_name: tensor})[0]
        h, w = bgr.shape[:2]
        found = []
        for row in np.asarray(rows, dtype=np.float32).reshape(-1, 7):
            score = float(row[6])
            if score < min_score:
                continue
            x1 = float(np.clip((row[1] - pad_x) / scale, 0, w))
            y1 = float(np.clip((row[2] - pad_y) / scale, 0, h))
            x2 = float(np.clip((row[3] - pad_x) / scale, 0, w))
            y2 = float(np.clip((row[4] - pad_y) / scale, 0, h))
            if x2 - x1 >= 2 and y2 - y1 >= 2:
                found.append(Detection((x1, y1, x2, y2), score))
        return sorted(found, key=lambda d: d.score, reverse=True)

    def _letterbox(self, bgr: np.ndarray) -> tuple[np.ndarray, float, tuple[float, float]]:
        target_h, target_w = self.size
        h, w = bgr.shape[:2]
        scale = min(target_h / h, target_w / w)
        new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
        resized = cv2.resize(bgr, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
        pad_x, pad_y = (target_w - new_w) / 2, (target_h - new_h) / 2
        top, left = round(pad_y - 0.1), round(pad_x - 0.1)
        canvas = np.full((target_h, target_w, 3), LETTERBOX_FILL, dtype=np.uint8)
        canvas[top:top + new_h, left:left + new_w] = resized
        rgb = canvas[:, :, ::-1].astype(np.float32) / 255.0
        return np.ascontiguousarray(rgb.transpose(2, 0, 1)[None]), scale, (left, top)
