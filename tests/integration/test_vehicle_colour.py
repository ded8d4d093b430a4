"""Vehicle colour from the body around the plate: a named colour when clear, None when unsure."""

from __future__ import annotations

import numpy as np
import pytest

from openrtcc.adapters.video.vehicle_colour import vehicle_look

PLATE = (300, 300, 400, 330)  # x1, y1, x2, y2


def car(bgr_body: tuple[int, int, int], bgr_other: tuple[int, int, int] | None = None) -> np.ndarray:
    """A 640x480 scene: grey road, a body of one paint (or two halves) around a white plate."""
    image = np.full((480, 640, 3), 110, np.uint8)
    image[200:360, 120:580] = bgr_body
    if bgr_other is not None:
        image[200:360, 350:580] = bgr_other
    x1, y1, x2, y2 = PLATE
    image[y1:y2, x1:x2] = 245
    image[y1 + 8:y2 - 8, x1 + 10:x2 - 10:12] = 10  # characters
    return image


@pytest.mark.parametrize("body, other, expected", [
    ((30, 30, 200), None, "red"),
    ((190, 90, 20), None, "blue"),
    ((40, 160, 40), None, "green"),
    ((30, 200, 220), None, "yellow"),
    ((240, 240, 240), None, "white"),
    ((25, 25, 25), None, "black"),
    ((150, 150, 150), None, "grey"),
    ((30, 30, 200), (190, 90, 20), None),  # half red, half blue: no clear colour, so no answer
])
def test_colour(body, other, expected):
    look = vehicle_look(car(body, other), PLATE)
    assert look.colour == expected
    assert look.type is None


def test_too_little_body_around_the_plate_gives_no_opinion():
    image = np.full((40, 120, 3), (30, 30, 200), np.uint8)
    assert vehicle_look(image, (10, 5, 110, 35)).colour is None
