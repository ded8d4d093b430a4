"""Still images: dimensions read from the header and checked before anything is decoded, then OpenCV."""

from __future__ import annotations

import os
import struct
from pathlib import Path
from typing import BinaryIO

from openrtcc.adapters.video.media_kind import MAX_PIXELS, MediaKind, UnreadableMedia

# OpenCV's own ceiling, as a second guard behind the header check; it is read when cv2 first decodes.
os.environ.setdefault("OPENCV_IO_MAX_IMAGE_PIXELS", str(MAX_PIXELS))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

# The one stderr line per unreadable file says what is wrong; OpenCV's own warnings would only repeat it.
cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)

MAX_IMAGE_BYTES = 256 * 1024 * 1024  # a 50-megapixel PNG without compression is 150 MB
# JPEG start-of-frame markers (the ones carrying the size): C0-CF except DHT (C4), JPG (C8), DAC (CC).
_SOF = {m for m in range(0xC0, 0xD0)} - {0xC4, 0xC8, 0xCC}
_STANDALONE = {0x01, *range(0xD0, 0xD9)}


def image_size(f: BinaryIO, kind: MediaKind) -> tuple[int, int]:
    """(width, height) from the header of an image file, or UnreadableMedia when the header is broken."""
    f.seek(0)
    reader = {MediaKind.PNG: _png_size, MediaKind.JPEG: _jpeg_size, MediaKind.WEBP: _webp_size}[kind]
    try:
        size = reader(f)
    except (struct.error, IndexError, ValueError):
        size = None
    if size is None or size[0] <= 0 or size[1] <= 0:
        raise UnreadableMedia(f"corrupt {kind.value} (no valid image size in its header)")
    return size


def _png_size(f: BinaryIO) -> tuple[int, int] | None:
    head = f.read(24)
    if head[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", head[16:24])


def _jpeg_size(f: BinaryIO) -> tuple[int, int] | None:
    f.seek(2)
    while True:
        byte = f.read(1)
        if not byte:
            return None
        if byte != b"\xff":
            continue  # not at a marker: damaged, keep scanning as decoders do
        marker = f.read(1)
        while marker == b"\xff":  # fill bytes
            marker = f.read(1)
        if not marker:
            return None
        code = marker[0]
        if code in _STANDALONE or code == 0x00:
            continue
        if code == 0xD9:
            return None
        (length,) = struct.unpack(">H", f.read(2))
        if code in _SOF:
            _precision, height, width = struct.unpack(">BHH", f.read(5))
            return width, height
        f.seek(length - 2, os.SEEK_CUR)


def _webp_size(f: BinaryIO) -> tuple[int, int] | None:
    head = f.read(30)
    chunk = head[12:16]
    if chunk == b"VP8 ":
        w, h = struct.unpack("<HH", head[26:30])
        return w & 0x3FFF, h & 0x3FFF
    if chunk == b"VP8L":
        b = head[21:25]
        return 1 + (b[0] | (b[1] & 0x3F) << 8), 1 + (b[1] >> 6 | b[2] << 2 | (b[3] & 0x0F) << 10)
    if chunk == b"VP8X":
        return 1 + int.from_bytes(head[24:27], "little"), 1 + int.from_bytes(head[27:30], "little")
    return None


def read_image(path: Path, kind: MediaKind) -> np.ndarray:
    """The image as BGR uint8. Refuses more than MAX_PIXELS from the header alone (a decompression bomb
    costs a few bytes read), and a body OpenCV cannot decode."""
    try:
        with path.open("rb") as f:
            width, height = image_size(f, kind)
            if width * height > MAX_PIXELS:
                raise UnreadableMedia(f"too large: {width}x{height} is over {MAX_PIXELS // 1_000_000} megapixels")
            f.seek(0, os.SEEK_END)
            if f.tell() > MAX_IMAGE_BYTES:
                raise UnreadableMedia(f"too large: over {MAX_IMAGE_BYTES // (1024 * 1024)} MB for an image")
            f.seek(0)
            data = f.read()
    except OSError as e:
        raise UnreadableMedia(f"cannot read: {e.strerror or e}") from None
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None or image.ndim != 3 or image.shape[2] != 3:
        raise UnreadableMedia(f"corrupt {kind.value} (cannot be decoded)")
    if image.shape[0] < 4 or image.shape[1] < 4:
        raise UnreadableMedia(f"too small to hold a plate ({image.shape[1]}x{image.shape[0]})")
    return image
