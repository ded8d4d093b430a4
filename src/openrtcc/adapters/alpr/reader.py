"""The plate reader: detector + OCR on onnxruntime, answering `PlateReader.read` with domain readings."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from openrtcc.adapters.alpr.detector import Detection, PlateDetector
from openrtcc.adapters.alpr.model_files import ModelFiles, resolve_model_files
from openrtcc.adapters.alpr.ocr import OcrOutput, PlateOcr
from openrtcc.domain.plate_formats import region_code
from openrtcc.domain.plate_scoring import Scored, decode_argmax, k_best
from openrtcc.domain.plates import PlateCandidate, PlateReading

log = logging.getLogger(__name__)

MAX_PLATES = 8  # plates OCR'd per image; a street scene rarely shows more readable ones
MAX_CANDIDATES = 5


@dataclass(frozen=True, slots=True)
class ReaderOptions:
    threads: int = 0  # onnxruntime intra-op threads per session; 0: one per core
    use_gpu: bool = True  # take a CUDA/TensorRT/ROCm provider when onnxruntime offers one
    min_detection: float = 0.3
    refine: bool = True  # False: the stock pipeline (box as detected, argmax OCR, no priors)


class OnnxPlateReader:
    """Implements the domain's `PlateReader`. Build it once and share it: the sessions are loaded once,
    the reader keeps no per-call state, and onnxruntime sessions accept concurrent `run` calls, so
    `read` and `read_crop` are safe to call from several threads at once."""

    def __init__(self, files: ModelFiles, options: ReaderOptions | None = None):
        self.options = options or ReaderOptions()
        o = self.options
        self.detector = PlateDetector(files.detector, o.threads, o.use_gpu)
        self.ocr = PlateOcr(files.ocr_model, files.ocr_config, o.threads, o.use_gpu)

    @classmethod
    def from_dir(cls, model_dir: Path, options: ReaderOptions | None = None) -> OnnxPlateReader:
        return cls(ModelFiles.in_dir(model_dir), options)

    def read(self, image: np.ndarray, region_hint: str | None = None) -> list[PlateReading]:
        """Plates in a BGR image (as OpenCV and PyAV give), most confident first."""
        _check_image(image)
        detections = self.detector.detect(image, self.options.min_detection)[:MAX_PLATES]
        readings = [r for d in detections if (r := self._read_detection(image, d, region_hint))]
        return sorted(readings, key=lambda r: r.confidence, reverse=True)

    def read_crop(self, crop: np.ndarray, region_hint: str | None = None) -> PlateReading | None:
        """OCR an image that is already one plate (a crop); the box is the whole crop."""
        _check_image(crop)
        h, w = crop.shape[:2]
        out = self.ocr.run([crop])[0]
        return self._reading(out, (0, 0, w, h), 1.0, region_hint)

    def _read_detection(self, image: np.ndarray, det: Detection, hint: str | None) -> PlateReading | None:
        x1, y1, x2, y2 = (int(round(v)) for v in det.box)
        out = self.ocr.run([image[y1:y2, x1:x2]])[0]
        return self._reading(out, (x1, y1, x2, y2), det.score, hint)

    def _reading(self, out: OcrOutput, box, det_score: float, hint: str | None) -> PlateReading | None:
        c = self.ocr.config
        slots = out.slot_probs.tolist()
        best = decode_argmax(slots, c.alphabet, c.pad_char)
        if not best.text:
            return None
        others = [s for s in k_best(slots, c.alphabet, c.pad_char) if s.text != best.text]
        ranked: list[Scored] = [best, *others][:MAX_CANDIDATES]
        region = self._region(out)
        return PlateReading(
            text=best.text, confidence=round(_confidence(best) * det_score ** 0.25, 4), box=tuple(box),
            region=region,
            candidates=tuple(PlateCandidate(s.text, round(_confidence(s), 4)) for s in ranked),
            char_confidences=tuple(round(x, 4) for x in best.char_confidences))

    def _region(self, out: OcrOutput) -> str | None:
        if out.region_probs.size == 0:
            return None
        return region_code(self.ocr.config.regions[int(out.region_probs.argmax())])


def _confidence(s: Scored) -> float:
    """The text's confidence: its weakest character (one unsure character makes a wrong plate)."""
    return min(s.char_confidences) if s.char_confidences else 0.0


def _check_image(image: np.ndarray) -> None:
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError("expected a BGR uint8 image of shape (height, width, 3)")
    if image.shape[0] < 4 or image.shape[1] < 4:
        raise ValueError("image too small to hold a plate")


def build_plate_reader(settings, model_dir: Path | None = None, *, refine: bool = True) -> OnnxPlateReader:
    """The composition root's way to a reader: model files resolved per the settings (an explicit
    `model_dir`, e.g. from the command line, first), sessions per the settings' threads and GPU choice."""
    files = resolve_model_files(
        model_dir or settings.alpr_model_dir, cache_dir=settings.model_cache_dir,
        detector=settings.alpr_detector, detector_sha256=settings.alpr_detector_sha256,
        mirror=settings.model_mirror_url)
    return OnnxPlateReader(files, ReaderOptions(threads=settings.onnx_threads, use_gpu=settings.alpr_use_gpu,
                                                refine=refine))
