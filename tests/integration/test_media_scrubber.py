"""The tip media scrubber with the real OpenCV and PyAV: metadata out, picture kept (and upright)."""

from __future__ import annotations

import io
import zlib

import av
import cv2
import numpy as np
import pytest

from openrtcc.adapters.video.media_scrubber import OpenCvAvScrubber
from openrtcc.domain.errors import InvalidInput

SCRUB = OpenCvAvScrubber().scrub


def with_exif(jpeg: bytes, tiff: bytes) -> bytes:
    exif = b"Exif\x00\x00" + tiff
    return jpeg[:2] + b"\xff\xe1" + (len(exif) + 2).to_bytes(2, "big") + exif + jpeg[2:]


def decode(data: bytes) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)


def test_a_rotated_phone_photo_stays_upright_without_its_exif():
    image = np.zeros((40, 80, 3), np.uint8)
    image[:, :40] = 255
    rotate_90 = b"MM\x00\x2a\x00\x00\x00\x08\x00\x01\x01\x12\x00\x03\x00\x00\x00\x01\x00\x06\x00\x00\x00\x00\x00\x00"
    photo = with_exif(cv2.imencode(".jpg", image)[1].tobytes(), rotate_90 + b"GPS-43N-87W")
    clean = SCRUB(photo, "image/jpeg")
    assert b"Exif" not in clean and b"GPS-43N" not in clean
    assert decode(clean).shape == (80, 40, 3)  # the orientation went into the pixels


def test_png_text_chunks_go_and_transparency_stays():
    png = cv2.imencode(".png", np.full((10, 12, 4), 200, np.uint8))[1].tobytes()
    chunk = b"tEXtComment\x00taken at 43.0N -87.9W"
    text = len(chunk[4:]).to_bytes(4, "big") + chunk + zlib.crc32(chunk).to_bytes(4, "big")
    tagged = png[:33] + text + png[33:]  # after the IHDR chunk
    clean = SCRUB(tagged, "image/png")
    assert b"taken at" in tagged and b"taken at" not in clean and decode(clean).shape == (10, 12, 4)


def test_webp_is_re_encoded():
    webp = cv2.imencode(".webp", np.full((16, 16, 3), 30, np.uint8))[1].tobytes()
    assert decode(SCRUB(webp, "image/webp")).shape == (16, 16, 3)


@pytest.mark.parametrize("fmt, media_type", [("mp4", "video/mp4"), ("mov", "video/quicktime")])
def test_clips_lose_their_tags_and_keep_every_frame(fmt, media_type):
    buf = io.BytesIO()
    with av.open(buf, "w", format=fmt) as c:
        c.metadata["title"] = "shot-at-43.0001-87.9201"
        s = c.add_stream("libx264", rate=10)
        s.width, s.height, s.pix_fmt = 64, 48, "yuv420p"
        for i in range(6):
            for p in s.encode(av.VideoFrame.from_ndarray(np.full((48, 64, 3), i * 30, np.uint8), format="rgb24")):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    clip = buf.getvalue()
    clean = SCRUB(clip, media_type)
    assert b"shot-at-43" in clip and b"shot-at-43" not in clean
    assert clean.find(b"moov") < clean.find(b"mdat")  # index first: playback starts before the clip has loaded
    with av.open(io.BytesIO(clean)) as c:
        assert sum(1 for _ in c.decode(video=0)) == 6


@pytest.mark.parametrize("data, media_type", [
    (b"\xff\xd8\xff\xe0" + b"\x01" * 400, "image/jpeg"),
    (b"\x00\x00\x00\x20ftypisom" + b"\x00" * 400, "video/mp4"),
    (b"\x1a\x45\xdf\xa3" + b"\x00" * 400, "video/webm"),
])
def test_files_that_cannot_be_decoded_are_refused(data, media_type):
    with pytest.raises(InvalidInput):
        SCRUB(data, media_type)
