"""A pass's evidence on disk: the plate crop and the full-frame snapshot of its best frame, as JPEG."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

import cv2
import numpy as np

JPEG_QUALITY = 90
CROP_MARGIN = 0.15  # of the plate's size on each side, so the crop shows the plate's edges and mount


def media_stem(source: str, frame: int) -> str:
    """A file name stem unique per source and frame: the source's readable tail plus a hash of all of it,
    so `a/cam.mp4` and `b/cam.mp4`, or two cameras' URLs, never overwrite each other's evidence."""
    tail = re.sub(r"[^A-Za-z0-9_-]+", "_", Path(source.rstrip("/")).stem)[-40:] or "source"
    digest = hashlib.sha256(source.encode()).hexdigest()[:8]
    return f"{tail}-{digest}-f{frame:06d}"


def plate_crop(image: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    x1, y1, x2, y2 = box
    mx, my = round((x2 - x1) * CROP_MARGIN), round((y2 - y1) * CROP_MARGIN)
    h, w = image.shape[:2]
    return image[max(0, y1 - my):min(h, y2 + my), max(0, x1 - mx):min(w, x2 + mx)]


def write_pass_media(media_dir: Path, source: str, frame: int, image: np.ndarray,
                     box: tuple[int, int, int, int]) -> tuple[Path, Path]:
    """Writes `<stem>-crop.jpg` and `<stem>-snapshot.jpg`; each appears whole or not at all."""
    stem = media_stem(source, frame)
    crop, snapshot = media_dir / f"{stem}-crop.jpg", media_dir / f"{stem}-snapshot.jpg"
    _write_jpeg(crop, plate_crop(image, box))
    _write_jpeg(snapshot, image)
    return crop, snapshot


def _write_jpeg(path: Path, image: np.ndarray) -> None:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise OSError(f"cannot encode {path.name} as JPEG")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.tobytes())
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
