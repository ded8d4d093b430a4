"""Detection tiles for video plate reading: coverage, overlap, cost cap, and one detection per plate."""

from __future__ import annotations

import pytest

from openrtcc.adapters.alpr.tiles import detection_windows, merge_detections


@pytest.mark.parametrize(("width", "height", "tiles"), [
    (1280, 720, 2), (720, 1280, 2), (640, 480, 1), (720, 720, 1), (1920, 1080, 2), (2560, 1440, 2), (3840, 2160, 2),
])
def test_tiles_cover_the_frame_with_overlap_and_a_bounded_count(width, height, tiles):
    windows = detection_windows(width, height)
    assert len(windows) == tiles
    for x1, y1, x2, y2 in windows:
        assert 0 <= x1 < x2 <= width and 0 <= y1 < y2 <= height
    # Every pixel is in some tile, and neighbouring tiles share at least a fifth of a tile.
    xs = sorted({(w[0], w[2]) for w in windows})
    assert xs[0][0] == 0 and xs[-1][1] == width
    for (a1, a2), (b1, b2) in zip(xs, xs[1:]):
        assert a2 - b1 >= 0.2 * (a2 - a1) - 1
    ys = sorted({(w[1], w[3]) for w in windows})
    assert ys[0][0] == 0 and ys[-1][1] == height


def test_720p_tiles_keep_far_plates_larger_than_the_whole_frame_does():
    (x1, y1, x2, y2), _ = detection_windows(1280, 720)
    assert 416 / max(x2 - x1, y2 - y1) >= 1.7 * 416 / 1280


def test_a_plate_cut_by_one_tile_is_kept_whole_from_the_other():
    left, right = (0, 0, 720, 720), (560, 0, 1280, 720)
    whole = ((600.0, 400.0, 700.0, 440.0), 0.6)
    cut = ((600.0, 400.0, 718.5, 440.0), 0.9)  # touches the left tile's inner border: maybe cut
    assert merge_detections([(left, [cut]), (right, [whole])], 1280, 720) == [whole]


def test_separate_plates_all_stay_and_the_frame_edge_is_not_a_cut():
    left, right = (0, 0, 720, 720), (560, 0, 1280, 720)
    a = ((2.0, 600.0, 80.0, 630.0), 0.7)  # at the frame's edge: not a tile cut
    b = ((900.0, 300.0, 960.0, 320.0), 0.8)
    same_b = ((901.0, 301.0, 959.0, 321.0), 0.5)
    assert merge_detections([(left, [a]), (right, [b, same_b])], 1280, 720) == [b, a]
