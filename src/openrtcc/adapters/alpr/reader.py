"""The plate reader: detector + OCR on onnxruntime, answering `PlateReader.read` with domain readings."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from openrtcc.adapters.alpr.crops import views_in_image, views_of_crop
from openrtcc.adapters.alpr.detector import Detection, PlateDetector
from openrtcc.adapters.alpr.model_files import ModelFiles, resolve_model_files
from openrtcc.adapters.alpr.ocr import OcrOutput, PlateOcr
from openrtcc.adapters.alpr.tiles import merge_detections
from openrtcc.domain.plate_formats import region_code
from openrtcc.domain.plate_scoring import Scored, decode_argmax, k_best, reading_region, region_weights, rescore
from openrtcc.domain.plates import PlateCandidate, PlateReading

log = logging.getLogger(__name__)

MAX_PLATES = 8  # plates OCR'd per image; a street scene rarely shows more readable ones
MAX_CANDIDATES = 5
EDGE_MARGIN_PX = 3
EDGE_PENALTY = 0.5 ** 4  # confidence takes det_score ** 0.25: this halves it
MIN_PLATE_CHARS = 2  # a lone character is a fragment (a sticker, a badge), not a plate


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

    def read(self, image: np.ndarray, region_hint: str | None = None,
             windows: Sequence[tuple[int, int, int, int]] | None = None, whole_only: bool = False) -> list[PlateReading]:
        """Plates in a BGR image (as OpenCV and PyAV give), most confident first. `windows` (x1, y1, x2, y2):
        detect in each of these parts of the image instead of the whole (see tiles.py); OCR reads the
        plates from the whole image either way. `whole_only`: plates touching the image's edge (maybe cut)
        are not read at all (video: a later frame shows them whole)."""
        _check_image(image)
        detections = self._detect(image, windows)
        if whole_only:
            detections = [d for d in detections if not _at_edge(d.box, image.shape[1], image.shape[0])]
        detections = detections[:MAX_PLATES]
        if not self.options.refine:
            views = [[image[y1:y2, x1:x2]] for x1, y1, x2, y2 in (_int_box(d.box) for d in detections)]
        else:
            views = [views_in_image(image, d.box) for d in detections]
        height, width = image.shape[:2]
        # A plate cut by the frame's edge may be missing characters: its read is worth less than a whole one.
        scores = [d.score * (EDGE_PENALTY if self.options.refine and _at_edge(d.box, width, height) else 1.0)
                  for d in detections]
        readings = self._read_views(views, [_int_box(d.box) for d in detections], scores, region_hint)
        return sorted(readings, key=lambda r: r.confidence, reverse=True)

    def _detect(self, image: np.ndarray, windows) -> list[Detection]:
        height, width = image.shape[:2]
        if not windows or list(windows) == [(0, 0, width, height)]:
            return self.detector.detect(image, self.options.min_detection)
        found = []
        for x1, y1, x2, y2 in windows:
            part = self.detector.detect(image[y1:y2, x1:x2], self.options.min_detection)
            found.append(((x1, y1, x2, y2), [((d.box[0] + x1, d.box[1] + y1, d.box[2] + x1, d.box[3] + y1), d.score)
                                             for d in part]))
        return [Detection(box, score) for box, score in merge_detections(found, width, height)]

    def read_crop(self, crop: np.ndarray, region_hint: str | None = None) -> PlateReading | None:
        """OCR an image that is already one plate (a crop); the box is the whole crop."""
        _check_image(crop)
        h, w = crop.shape[:2]
        views = views_of_crop(crop) if self.options.refine else [crop]
        readings = self._read_views([views], [(0, 0, w, h)], [1.0], region_hint)
        return readings[0] if readings else None

    def _read_views(self, views: list[list[np.ndarray]], boxes, scores, hint) -> list[PlateReading]:
        """OCR every view of every plate in one batch, then decide each plate's text."""
        outputs = iter(self.ocr.run([v for plate in views for v in plate]))
        readings = []
        for plate_views, box, score in zip(views, boxes, scores, strict=True):
            outs = [next(outputs) for _ in plate_views]
            reading = self._decide(outs, box, score, hint)
            if reading is not None:
                readings.append(reading)
        return readings

    def _decide(self, outs: list[OcrOutput], box, det_score: float, hint: str | None) -> PlateReading | None:
        c = self.ocr.config
        region_probs = self._region_probs(outs)
        if self.options.refine:
            weights = region_weights(hint, region_probs)
            ranked = rescore([o.slot_probs.tolist() for o in outs], c.alphabet, c.pad_char, weights)
        else:
            slots = outs[0].slot_probs.tolist()
            best = decode_argmax(slots, c.alphabet, c.pad_char)
            ranked = [best, *(s for s in k_best(slots, c.alphabet, c.pad_char) if s.text != best.text)]
        ranked = [s for s in ranked if len(s.text) >= MIN_PLATE_CHARS]
        if not ranked:
            return None
        best = ranked[0]
        # Whether a plate is there at all bears on every text read from it alike: the candidates take the
        # same detection factor as the plate, so the top candidate's confidence is the plate's.
        detected = det_score ** 0.25
        candidates = tuple(PlateCandidate(s.text, round(_confidence(s) * detected, 4)) for s in ranked[:MAX_CANDIDATES])
        return PlateReading(
            text=best.text, confidence=candidates[0].confidence, box=tuple(box),
            region=reading_region(best.text, hint, region_probs), candidates=candidates,
            char_confidences=tuple(round(x, 4) for x in best.char_confidences))

    def _region_probs(self, outs: list[OcrOutput]) -> dict[str, float]:
        """The OCR region head's belief, averaged over the views, keyed by ISO code (unknowns dropped)."""
        names = self.ocr.config.regions
        if not names or outs[0].region_probs.size != len(names):
            return {}
        mean = np.mean([o.region_probs for o in outs], axis=0)
        probs: dict[str, float] = {}
        for name, p in zip(names, mean.tolist(), strict=True):
            if (code := region_code(name)) is not None:
                probs[code] = probs.get(code, 0.0) + p
        return probs


def _confidence(s: Scored) -> float:
    """The text's confidence: its weakest character (one unsure character makes a wrong plate)."""
    return min(s.char_confidences) if s.char_confidences else 0.0


def _at_edge(box, width: int, height: int, margin: int = EDGE_MARGIN_PX) -> bool:
    x1, y1, x2, y2 = box
    return x1 <= margin or y1 <= margin or x2 >= width - margin or y2 >= height - margin


def _int_box(box) -> tuple[int, int, int, int]:
    return tuple(int(round(v)) for v in box)


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
