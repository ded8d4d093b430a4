"""Detection windows: a wide frame read as overlapping square tiles, so far plates keep enough pixels.

The detector sees a fixed 416x416 input. A whole 1280x720 frame is shrunk to a third, and a plate 35
pixels wide (a car across the street, a vehicle waiting in the next lane) becomes 11 pixels, which the
detector does not find. Tiles no larger than `max_side` pixels keep at least 416/max_side of each plate
(0.58 at 720: the same plate is 20 pixels). Neighbouring tiles overlap by at least `overlap` of a tile, so a plate
that one tile cuts lies whole in the next; a detection is then kept from the tile that holds it whole.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

Box = tuple[int, int, int, int]
Detection = tuple[tuple[float, float, float, float], float]  # (x1, y1, x2, y2), score


def detection_windows(width: int, height: int, max_side: int = 720, overlap: float = 0.2,
                      max_tiles: int = 4) -> list[Box]:
    """Square-ish tiles covering the frame; the whole frame when it is already small enough. A frame that
    would need more than `max_tiles` gets larger tiles instead (each detection costs the same whatever the
    tile's size): a 1080p stream is read as two 1080-pixel tiles; a substream is the cheaper way."""
    side = max_side
    while len(_starts(width, side, overlap)) * len(_starts(height, side, overlap)) > max_tiles:
        side = round(side * 1.1)
    if side >= max(width, height):
        return [(0, 0, width, height)]
    return [(x, y, min(width, x + side), min(height, y + side))
            for y in _starts(height, side, overlap) for x in _starts(width, side, overlap)]


def _starts(length: int, side: int, overlap: float) -> list[int]:
    if length <= side:
        return [0]
    count = math.ceil((length - side) / (side * (1 - overlap))) + 1
    step = (length - side) / (count - 1)
    return [round(i * step) for i in range(count)]


def merge_detections(found: Sequence[tuple[Box, Sequence[Detection]]], width: int, height: int,
                     margin: int = 3) -> list[Detection]:
    """One detection per plate from every tile's detections (boxes already in frame pixels): a box that
    touches its tile's inner border may be cut, so a whole one of the same plate wins over it, then the
    higher score."""
    ranked = []
    for window, detections in found:
        for box, score in detections:
            ranked.append((not _cut(box, window, width, height, margin), score, box))
    ranked.sort(key=lambda d: (d[0], d[1]), reverse=True)
    kept: list[Detection] = []
    for _, score, box in ranked:
        if all(_overlap(box, other) < 0.5 for other, _ in kept):
            kept.append((box, score))
    return sorted(kept, key=lambda d: d[1], reverse=True)


def _cut(box, window: Box, width: int, height: int, margin: int) -> bool:
    x1, y1, x2, y2 = box
    wx1, wy1, wx2, wy2 = window
    return ((wx1 > 0 and x1 <= wx1 + margin) or (wy1 > 0 and y1 <= wy1 + margin)
            or (wx2 < width and x2 >= wx2 - margin) or (wy2 < height and y2 >= wy2 - margin))


def _overlap(a, b) -> float:
    """Intersection over the smaller box: a cut box inside the whole one counts as the same plate."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return ix * iy / smaller if smaller > 0 else 0.0


class TiledReader:
    """A PlateReader for video: detects in each frame's `detection_windows` (far plates matter, and each
    frame's cost is known; still photos keep the whole-image reader), and reads only plates that do not
    touch the frame's edge. Those may be cut, and a passing vehicle shows its plate whole in other frames;
    this also keeps out the text cameras burn in along the frame's edge (clock, date, captions), which the
    detector finds on tiles and which would otherwise be OCR'd and tracked like a parked plate."""

    def __init__(self, reader, max_side: int = 720, max_tiles: int = 4):
        self.reader, self.max_side, self.max_tiles = reader, max_side, max_tiles

    def read(self, image, region_hint: str | None = None) -> list:
        height, width = image.shape[:2]
        windows = detection_windows(width, height, self.max_side, max_tiles=self.max_tiles)
        return self.reader.read(image, region_hint, windows=windows, whole_only=True)
