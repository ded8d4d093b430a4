"""Video frames from files (mp4, mkv) and rtsp:// streams through PyAV, decoded lazily to what each step needs."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import av
import numpy as np

from openrtcc.adapters.video.media_kind import MAX_PIXELS, UnreadableMedia

log = logging.getLogger(__name__)

STREAM_SCHEMES = ("rtsp", "rtsps")
GATE_STEP = 8  # the motion gate looks at every 8th pixel of every 8th row: 160x90 for 720p
MAX_BAD_PACKETS = 50  # a file this broken mid-way is abandoned rather than chewed through
# Planar formats whose first plane is the luma (grey) image, so the gate needs no colour conversion.
_LUMA_FIRST = {"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "nv12", "nv21", "gray"}


def is_stream_url(target: str) -> bool:
    return "://" in target


def check_stream_url(url: str) -> str:
    """The URL if it is one we read (rtsp, rtsps with a host), else UnreadableMedia saying why."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in STREAM_SCHEMES:
        raise UnreadableMedia(f"unsupported URL scheme {parts.scheme!r} (only rtsp:// and rtsps://)")
    if not parts.hostname:
        raise UnreadableMedia("URL without a host")
    return url


@dataclass
class VideoFrame:
    """One decoded frame; the BGR image and the small grey image are made only when asked for."""

    index: int
    time_s: float
    _frame: av.VideoFrame = field(repr=False)
    _bgr: np.ndarray | None = field(default=None, repr=False)

    def bgr(self) -> np.ndarray:
        if self._bgr is None:
            self._bgr = self._frame.to_ndarray(format="bgr24")
        return self._bgr

    def grey_small(self) -> np.ndarray:
        f = self._frame
        if f.format.name in _LUMA_FIRST:
            plane = f.planes[0]
            luma = np.frombuffer(plane, np.uint8).reshape(-1, plane.line_size)[: f.height, : f.width]
        else:
            luma = f.to_ndarray(format="gray")
        return np.ascontiguousarray(luma[::GATE_STEP, ::GATE_STEP])


class VideoSource:
    """An opened video: iterate it for VideoFrame in presentation order. `close()` releases it."""

    def __init__(self, target: str, open_timeout_s: float = 5.0, read_timeout_s: float = 5.0):
        self.target = target
        self.live = is_stream_url(target)
        options = {"rtsp_transport": "tcp"} if self.live else {}
        try:
            self.container = av.open(target, options=options, timeout=(open_timeout_s, read_timeout_s))
        except av.error.FFmpegError as e:
            raise UnreadableMedia(_describe(e, self.live)) from None
        try:
            self.stream = self._video_stream()
        except UnreadableMedia:
            self.container.close()
            raise
        rate = self.stream.average_rate or self.stream.guessed_rate
        self.fps = float(rate) if rate else 15.0

    def _video_stream(self):
        if not self.container.streams.video:
            raise UnreadableMedia("no video stream")
        stream = self.container.streams.video[0]
        w, h = stream.codec_context.width, stream.codec_context.height
        if w * h > MAX_PIXELS:
            raise UnreadableMedia(f"too large: {w}x{h} frames are over {MAX_PIXELS // 1_000_000} megapixels")
        return stream

    def __iter__(self) -> Iterator[VideoFrame]:
        index, bad = 0, 0
        try:
            for packet in self.container.demux(self.stream):
                try:
                    decoded = packet.decode()
                except av.error.InvalidDataError:
                    bad += 1
                    if bad > MAX_BAD_PACKETS:
                        raise UnreadableMedia(f"corrupt video: over {MAX_BAD_PACKETS} undecodable packets")
                    continue
                for frame in decoded:
                    time_s = float(frame.time) if frame.time is not None else index / self.fps
                    yield VideoFrame(index, time_s, frame)
                    index += 1
        except av.error.FFmpegError as e:
            if index == 0:
                raise UnreadableMedia(_describe(e, self.live)) from None
            # Frames were read: the source ended badly (a stream dropped, a file cut short). What was
            # read stands; the caller finishes its passes.
            log.warning("%s: stopped after %d frames: %s", self.target, index, e)
        if index == 0:
            raise UnreadableMedia("no decodable video frames")

    def close(self) -> None:
        self.container.close()


def _describe(e: av.error.FFmpegError, live: bool) -> str:
    reason = getattr(e, "strerror", None) or str(e)
    if live:
        return f"cannot read the stream: {reason}"
    return f"corrupt or unreadable video: {reason}"
