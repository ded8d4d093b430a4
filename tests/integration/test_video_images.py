"""Image sizes read from headers alone (the bomb check), for every format and variant OpenCV writes."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest

from openrtcc.adapters.video.images import image_size
from openrtcc.adapters.video.media_kind import MediaKind, UnreadableMedia, sniff


@pytest.mark.parametrize("ext, params, kind", [
    (".jpg", [], MediaKind.JPEG),
    (".jpg", [cv2.IMWRITE_JPEG_PROGRESSIVE, 1], MediaKind.JPEG),
    (".png", [], MediaKind.PNG),
    (".webp", [cv2.IMWRITE_WEBP_QUALITY, 80], MediaKind.WEBP),  # lossy: VP8
    (".webp", [cv2.IMWRITE_WEBP_QUALITY, 101], MediaKind.WEBP),  # lossless: VP8L
])
@pytest.mark.parametrize("width, height", [(37, 21), (1280, 720), (4097, 3)])
def test_the_header_gives_the_size(ext, params, kind, width, height):
    rng = np.random.default_rng(width)
    ok, data = cv2.imencode(ext, rng.integers(0, 255, (height, width, 3), dtype=np.uint8), params)
    assert ok
    assert sniff(data.tobytes()[:32]) is kind
    assert image_size(io.BytesIO(data.tobytes()), kind) == (width, height)


@pytest.mark.parametrize("data, kind", [
    (b"\xff\xd8\xff\xe0\x00\x10JFIF", MediaKind.JPEG),  # cut before any frame header
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDX", MediaKind.PNG),
    (b"RIFF\x00\x00\x00\x00WEBPVP8Z", MediaKind.WEBP),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00\x00\x00\x00\x00\x00\x05", MediaKind.PNG),  # width 0
])
def test_a_broken_header_is_corrupt(data, kind):
    with pytest.raises(UnreadableMedia, match="corrupt"):
        image_size(io.BytesIO(data), kind)
