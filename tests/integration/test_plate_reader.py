"""The plate reader on the real models and a few labelled images of the evaluation sets."""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from openrtcc.adapters.alpr.model_files import OCR_MODEL
from openrtcc.adapters.alpr.reader import OnnxPlateReader, ReaderOptions
from openrtcc.domain.ports import PlateReader
from tests.services import require_service

SHARED = Path(__file__).resolve().parents[3] / "shared"
MODELS = SHARED / "models" / "alpr"
DATA = SHARED / "data" / "alpr"


@pytest.fixture(scope="module")
def reader() -> OnnxPlateReader:
    require_service((MODELS / OCR_MODEL).is_file() and DATA.is_dir(), "plate-reader models and evaluation data",
                    "place the offline copies at ../shared/models/alpr and ../shared/data/alpr")
    return OnnxPlateReader.from_dir(MODELS, ReaderOptions(threads=1))


def _labelled(name: str, stem: str) -> tuple[np.ndarray, str, tuple[float, float]]:
    parts = (DATA / name / f"{stem}.txt").read_text().split()
    x, y, w, h = (float(v) for v in parts[1:5])
    return cv2.imread(str(DATA / name / parts[0])), parts[5], (x + w / 2, y + h / 2)


@pytest.mark.parametrize(("set_name", "stem", "region"), [
    ("us_dev", "0b86cecf-67d1-4fc0-87c9-b36b0ee228bb", "US"),
    ("br", "AYO9034", "BR"),
    ("eu", "eu10", None),
])
def test_reads_the_labelled_plate_where_it_is(reader, set_name, stem, region):
    image, label, (cx, cy) = _labelled(set_name, stem)
    readings = reader.read(image)
    assert readings, "no plate found"
    best = readings[0]
    assert best.text == label
    x1, y1, x2, y2 = best.box
    assert x1 <= cx <= x2 and y1 <= cy <= y2
    assert [r.confidence for r in readings] == sorted((r.confidence for r in readings), reverse=True)
    assert 0 < best.confidence <= 1 and len(best.char_confidences) == len(best.text)
    assert best.candidates[0].text == best.text
    # The detection score discounts the candidates as it does the plate (it once reached only the plate).
    assert best.candidates[0].confidence == best.confidence
    assert all(0 <= c.confidence <= 1 for c in best.candidates)
    assert len({c.text for c in best.candidates}) == len(best.candidates)
    if region:
        assert best.region == region


def test_a_crop_is_read_with_the_state_hint(reader):
    image = cv2.imread(str(DATA / "us_plate_crops" / "img" / "ak1165.jpg"))
    reading = reader.read_crop(image, "US-AK")
    assert reading is not None and reading.text == "FUW999"
    assert reading.box == (0, 0, image.shape[1], image.shape[0])


def test_an_empty_scene_has_no_plates_and_bad_arrays_are_refused(reader):
    assert reader.read(np.full((480, 640, 3), 128, np.uint8)) == []
    for bad in (np.zeros((480, 640), np.uint8), np.zeros((480, 640, 3), np.float32), np.zeros((2, 2, 3), np.uint8)):
        with pytest.raises(ValueError, match="image"):
            reader.read(bad)


def test_one_reader_serves_several_threads(reader):
    image, label, _ = _labelled("br", "AYO9034")
    results: list[str] = []

    def read() -> None:
        results.append(reader.read(image)[0].text)

    threads = [threading.Thread(target=read) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [label] * 3


def test_it_is_a_plate_reader(reader):
    port: PlateReader = reader
    assert callable(port.read)
