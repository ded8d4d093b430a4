"""Plate OCR: a fast-plate-ocr model (fixed character slots, one softmax per slot, a region head)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import yaml

from openrtcc.adapters.alpr.sessions import open_session
from openrtcc.domain.model_registry import ModelTask


@dataclass(frozen=True, slots=True)
class OcrConfig:
    alphabet: str
    pad_char: str
    slots: int
    height: int
    width: int
    regions: tuple[str, ...]

    @classmethod
    def load(cls, path: Path) -> OcrConfig:
        raw = yaml.safe_load(path.read_text())
        if not isinstance(raw, dict):
            raise ValueError(f"{path.name}: not a plate OCR config")
        try:
            config = cls(alphabet=str(raw["alphabet"]), pad_char=str(raw["pad_char"]),
                         slots=int(raw["max_plate_slots"]), height=int(raw["img_height"]),
                         width=int(raw["img_width"]), regions=tuple(raw.get("plate_regions") or ()))
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError(f"{path.name}: plate OCR config lacks or garbles {e}") from None
        if raw.get("image_color_mode", "rgb") != "rgb" or raw.get("keep_aspect_ratio", False):
            raise ValueError(f"{path.name}: only RGB models with a plain resize are supported")
        return config


@dataclass(frozen=True, slots=True)
class OcrOutput:
    """One crop's raw answer: per-slot probabilities over the alphabet, region probabilities."""

    slot_probs: np.ndarray  # [slots, len(alphabet)]
    region_probs: np.ndarray  # [len(regions)], empty when the model has no region head


class PlateOcr:
    def __init__(self, model: Path, config: Path, threads: int = 0, use_gpu: bool = True):
        self.config = OcrConfig.load(config)
        self.session = open_session(model, ModelTask.PLATE_OCR, threads, use_gpu)
        self.input_name = self.session.get_inputs()[0].name
        self.output_names = [o.name for o in self.session.get_outputs()]
        if "plate" not in self.output_names:
            raise ValueError(f"{model.name}: expected an output named 'plate', got {self.output_names}")

    def prepare(self, bgr_crop: np.ndarray) -> np.ndarray:
        c = self.config
        resized = cv2.resize(bgr_crop, (c.width, c.height), interpolation=cv2.INTER_LINEAR)
        return cv2.cvtColor(resized, cv2.COLOR_BGR2RGB)

    def run(self, bgr_crops: list[np.ndarray]) -> list[OcrOutput]:
        """OCR a batch of BGR plate crops (any size; each is resized to the model's input)."""
        if not bgr_crops:
            return []
        batch = np.stack([self.prepare(c) for c in bgr_crops]).astype(np.uint8)
        outputs = dict(zip(self.output_names, self.session.run(None, {self.input_name: batch}), strict=True))
        plate = np.asarray(outputs["plate"], dtype=np.float32).reshape(len(bgr_crops), self.config.slots, -1)
        region = outputs.get("region")
        if region is None:
            return [OcrOutput(p, np.zeros(0, np.float32)) for p in plate]
        return [OcrOutput(p, _as_probabilities(r)) for p, r in zip(plate, np.asarray(region, np.float32), strict=True)]


def _as_probabilities(values: np.ndarray) -> np.ndarray:
    """The region head of the published models ends in a softmax already; other exports give logits."""
    if values.min() >= 0 and abs(float(values.sum()) - 1.0) < 1e-3:
        return values
    e = np.exp(values - values.max())
    return e / e.sum()
