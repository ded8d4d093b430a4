"""The motion gate on synthetic scenes: still, grainy, a passing vehicle, a patch that never stops moving."""

from __future__ import annotations

import numpy as np
import pytest

from openrtcc.adapters.video.motion import MotionGate

H, W = 90, 160


def road() -> np.ndarray:
    rng = np.random.default_rng(3)
    return (rng.integers(90, 110, (H, W))).astype(np.uint8)  # textured asphalt


def still(n: int):
    return [road() for _ in range(n)]


def grainy(n: int):
    rng = np.random.default_rng(4)
    return [np.clip(road().astype(int) + rng.integers(-3, 4, (H, W)), 0, 255).astype(np.uint8) for _ in range(n)]


def passing_vehicle(n: int, width: int = 24):
    frames = []
    for i in range(n):
        f = road()
        x = 4 * i
        f[40:60, x:x + width] = 200  # a light car body crossing the frame, 4 small pixels a frame
        frames.append(f)
    return frames


def blinking_sign(n: int):
    frames = []
    for i in range(n):
        f = road()
        f[5:15, 5:15] = 250 if i % 2 else 20
        frames.append(f)
    return frames


@pytest.mark.parametrize("scene, frames, expected_motion", [
    (still, 40, 1),  # the first frame only
    (grainy, 40, 1),
    (passing_vehicle, 35, 35),
])
def test_motion_count(scene, frames, expected_motion):
    gate = MotionGate()
    assert sum(gate.has_motion(f) for f in scene(frames)) == expected_motion


def test_a_patch_that_never_stops_changing_becomes_scenery():
    gate = MotionGate()
    seen = [gate.has_motion(f) for f in blinking_sign(150)]
    assert all(seen[:10])  # at first it is motion: the gate cannot know yet
    assert not any(seen[100:])  # after a few seconds it is scenery
    # ...and a vehicle crossing the scene afterwards is still seen
    sign = blinking_sign(160)[150:]
    for f, car in zip(sign, passing_vehicle(10)):
        f[40:60] = car[40:60]
    assert all(gate.has_motion(f) for f in sign)
