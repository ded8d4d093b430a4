"""Public uploads without their metadata: photos re-encoded by OpenCV (no EXIF, no GPS), clips remuxed by PyAV
without the container's tags (phones put the place a clip was shot there)."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import av
import cv2
import numpy as np

from openrtcc.adapters.video.media_kind import MAX_PIXELS
from openrtcc.domain.errors import InvalidInput

JPEG_QUALITY = 92
WEBP_QUALITY = 90
_IMAGE_EXT = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}
_CONTAINER = {"video/mp4": "mp4", "video/quicktime": "mov", "video/webm": "webm"}


class OpenCvAvScrubber:
    def scrub(self, data: bytes, media_type: str) -> bytes:
        if media_type in _IMAGE_EXT:
            return _reencode_photo(data, media_type)
        if media_type in _CONTAINER:
            return _remux_clip(data, _CONTAINER[media_type])
        raise InvalidInput(f"cannot clean a {media_type} file", code="unsupported_media")


def _reencode_photo(data: bytes, media_type: str) -> bytes:
    """Decoding applies the EXIF orientation, so the re-encoded picture stands the right way up without it."""
    flags = cv2.IMREAD_UNCHANGED if media_type == "image/png" else cv2.IMREAD_COLOR
    # Only the pixels are kept: EXIF, GPS, XMP and comments do not survive a decode and encode.
    image = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
    if image is None or image.size == 0:
        raise InvalidInput("the photo could not be read: it is damaged or not really an image", code="bad_media")
    if image.shape[0] * image.shape[1] > MAX_PIXELS:
        raise InvalidInput("the photo has too many pixels (at most 50 million)", code="bad_media")
    params = {"image/jpeg": [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY],
              "image/webp": [cv2.IMWRITE_WEBP_QUALITY, WEBP_QUALITY]}.get(media_type, [])
    ok, encoded = cv2.imencode(_IMAGE_EXT[media_type], image, params)
    if not ok:
        raise InvalidInput("the photo could not be processed", code="bad_media")
    return encoded.tobytes()


def _remux_clip(data: bytes, fmt: str) -> bytes:
    """The same audio and video packets in a new container that carries none of the original's tags; MP4 and
    MOV with their index first (faststart), so the command center's player starts before the whole clip loads.
    Written to a private temporary file because faststart rewrites the file; only the clean output goes there."""
    options = {"movflags": "+faststart"} if fmt in ("mp4", "mov") else {}
    try:
        with tempfile.TemporaryDirectory(prefix="rtcc-tip-") as folder:
            path = Path(folder) / f"clip.{fmt}"
            with av.open(io.BytesIO(data)) as source, av.open(str(path), "w", format=fmt, options=options) as target:
                _copy_packets(source, target)
            return path.read_bytes()
    except av.error.FFmpegError as exc:
        raise InvalidInput("the clip could not be read: it is damaged or not really a video", code="bad_media") from exc


def _copy_packets(source, target) -> None:
    streams = {}
    for s in source.streams:
        if s.type in ("video", "audio"):
            streams[s.index] = target.add_stream_from_template(s)
            streams[s.index].metadata.clear()
    if not streams:
        raise InvalidInput("the clip has no video or sound", code="bad_media")
    for packet in source.demux(*[source.streams[i] for i in streams]):
        if packet.dts is None:
            continue
        packet.stream = streams[packet.stream.index]
        target.mux(packet)
