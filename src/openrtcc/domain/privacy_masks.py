"""Privacy masks: owner-drawn polygons blacked out of every frame before it leaves the edge box.

Points are fractions of the frame's width and height (0..1), so a mask drawn on a preview fits the main
stream and the substream alike."""

from __future__ import annotations

from dataclasses import dataclass

from openrtcc.domain.errors import InvalidInput

MAX_MASKS = 16
MAX_POINTS = 32


@dataclass(frozen=True, slots=True)
class PrivacyMask:
    points: tuple[tuple[float, float], ...]

    def to_json(self) -> list[list[float]]:
        return [[x, y] for x, y in self.points]


def _twice_area(points: tuple[tuple[float, float], ...]) -> float:
    return abs(sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(points, points[1:] + points[:1])))


def validate_mask(points: object) -> PrivacyMask:
    """A polygon of 3..32 points inside the unit square with a non-zero area; anything else is refused."""
    if not isinstance(points, list | tuple) or not 3 <= len(points) <= MAX_POINTS:
        raise InvalidInput(f"a privacy mask is a polygon of 3 to {MAX_POINTS} points", code="mask_invalid")
    cleaned: list[tuple[float, float]] = []
    for p in points:
        if (not isinstance(p, list | tuple) or len(p) != 2
                or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in p)):
            raise InvalidInput("each mask point is [x, y]", code="mask_invalid")
        x, y = float(p[0]), float(p[1])
        if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
            raise InvalidInput("mask points are fractions of the frame, between 0 and 1", code="mask_invalid")
        cleaned.append((x, y))
    mask = PrivacyMask(tuple(cleaned))
    if _twice_area(mask.points) < 1e-6:
        raise InvalidInput("a privacy mask must cover some area", code="mask_invalid")
    return mask


def validate_masks(masks: object) -> tuple[PrivacyMask, ...]:
    if not isinstance(masks, list | tuple) or len(masks) > MAX_MASKS:
        raise InvalidInput(f"at most {MAX_MASKS} privacy masks per camera", code="mask_invalid")
    return tuple(validate_mask(m) for m in masks)
