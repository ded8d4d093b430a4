"""Vehicle colour from the body around the plate (HSV, a small named palette), null when unsure; type is null.

Method: the plate sits on the bumper or tailgate, so the pixels around it (a band a few plate heights
above and one and a half plate widths either side, the plate itself left out) are mostly body paint.
Each pixel is named from a palette by hue, saturation and value; the colour is the most common name if
it holds a clear share of the region, otherwise None. Achromatic names (black, grey, white) need a
larger share than chromatic ones, because shadows, tyres, grilles, windows and the road are achromatic
too, while a saturated hue around a plate is rarely anything but paint.

Vehicle type (car, truck, motorcycle, bus) would need a vehicle detector or classifier; none is shipped
with the project (the plate models find plates, not vehicles), and the plate's size or position does not
tell a van from a car, so the type is always None rather than a guess.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

PALETTE = ("black", "grey", "white", "red", "orange", "yellow", "green", "blue", "purple", "brown")
MIN_CHROMATIC_SHARE = 0.35
MIN_ACHROMATIC_SHARE = 0.55
MIN_PIXELS = 400  # fewer body pixels than this, or than twice the plate's area: no opinion


@dataclass(frozen=True)
class VehicleLook:
    colour: str | None
    colour_confidence: float
    type: str | None = None  # no shipped model can tell it: always None (see the module docstring)


def body_region(shape: tuple[int, ...], box: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """The part of the image around the plate that is mostly vehicle body, clipped to the image."""
    height, width = shape[:2]
    x1, y1, x2, y2 = box
    w, h = max(x2 - x1, 1), max(y2 - y1, 1)
    return (max(0, int(x1 - 1.5 * w)), max(0, int(y1 - 3 * h)),
            min(width, int(x2 + 1.5 * w)), min(height, int(y2 + 0.5 * h)))


def name_pixels(hsv: np.ndarray) -> np.ndarray:
    """Palette index per pixel of an OpenCV HSV image (hue 0-179, saturation and value 0-255)."""
    h, s, v = (hsv[..., i].astype(np.int16) for i in range(3))
    names = np.full(h.shape, PALETTE.index("grey"), np.uint8)
    chromatic = (s >= 60) & (v >= 60)
    hue_bands = (  # upper hue bound (exclusive) -> name; red wraps around 180
        (8, "red"), (20, "orange"), (34, "yellow"), (85, "green"), (130, "blue"), (165, "purple"), (180, "red"))
    lower = 0
    for upper, name in hue_bands:
        names[chromatic & (h >= lower) & (h < upper)] = PALETTE.index(name)
        lower = upper
    names[chromatic & (h < 20) & (v < 130)] = PALETTE.index("brown")  # a dark orange/red is brown paint
    names[~chromatic & (v >= 185) & (s < 40)] = PALETTE.index("white")
    names[v < 55] = PALETTE.index("black")
    return names


def vehicle_look(image: np.ndarray, plate_box: tuple[int, int, int, int]) -> VehicleLook:
    x1, y1, x2, y2 = body_region(image.shape, plate_box)
    region = image[y1:y2, x1:x2]
    px1, py1, px2, py2 = plate_box
    mask = np.ones(region.shape[:2], bool)
    mask[max(0, py1 - y1):max(0, py2 - y1), max(0, px1 - x1):max(0, px2 - x1)] = False
    plate_area = max(px2 - px1, 1) * max(py2 - py1, 1)
    if int(mask.sum()) < max(MIN_PIXELS, 2 * plate_area):  # the plate at the frame's edge: little body
        return VehicleLook(None, 0.0)
    names = name_pixels(cv2.cvtColor(region, cv2.COLOR_BGR2HSV))[mask]
    counts = np.bincount(names, minlength=len(PALETTE)) / names.size
    best = int(counts.argmax())
    name, share = PALETTE[best], float(counts[best])
    needed = MIN_ACHROMATIC_SHARE if name in ("black", "grey", "white") else MIN_CHROMATIC_SHARE
    # A chromatic colour that holds its own share is the paint even when grey trim and road outnumber it.
    chromatic = sorted(((float(counts[i]), PALETTE[i]) for i in range(3, len(PALETTE))), reverse=True)
    (top_share, top_name), (second_share, _) = chromatic[0], chromatic[1]
    if share < needed and top_share >= MIN_CHROMATIC_SHARE:
        name, share, needed = top_name, top_share, MIN_CHROMATIC_SHARE
    # Two strong hues (a two-tone body, or another vehicle behind): no single answer to give.
    ambiguous = name == top_name and second_share >= 0.5 * top_share
    if share < needed or ambiguous:
        return VehicleLook(None, round(share, 3))
    return VehicleLook(name, round(share, 3))
