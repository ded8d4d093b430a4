"""Video frames from files (mp4, mkv) and rtsp:// streams through PyAV, decoded lazily to what each step needs."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import av
import cv2
import numpy as np

from openrtcc.adapters.video.media_kind import MAX_PIXELS, UnreadableMedia

log = logging.getLogger(__name__)

STREAM_SCHEMES = ("rtsp", "rtsps")
GATE_STEP = 8  # the motion gate looks at an image 8 times smaller each way: 160x90 for 720p
DEFAULT_FPS = 15.0  # when neither the container nor the timestamps tell
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
        # Averaged, not sampled: each small pixel is the mean of an 8x8 block, so pixel-level noise
        # (sensor grain, snow, compression) is smoothed away instead of sampled into the gate.
        size = (max(1, f.width // GATE_STEP), max(1, f.height // GATE_STEP))
        return cv2.resize(luma, size, interpolation=cv2.INTER_AREA)


class VideoSource:
    """An opened video: iterate it for VideoFrame in presentation order. `close()` releases it."""

    def __init__(self, target: str, open_timeout_s: float = 5.0, read_timeout_s: float = 5.0):
        self.target = target
        self.live = is_stream_url(target)
        # TCP: RTP over UDP loses packets (and whole plates) on a busy network. A short probe: the stream's
        # parameters arrive with its first key frame, and a longer probe only delays the first read.
        options = {"rtsp_transport": "tcp", "analyzeduration": "1000000"} if self.live else {}
        began = time.monotonic()
        try:
            self.container = av.open(target, options=options, timeout=(open_timeout_s, read_timeout_s))
        except av.error.FFmpegError as e:
            if self.live and time.monotonic() - began >= open_timeout_s * 0.9:
                # FFmpeg reports its own timeout as whatever the interrupted call last saw.
                raise UnreadableMedia(f"cannot read the stream: no answer within {open_timeout_s:g} s") from None
            raise UnreadableMedia(_describe(e, self.live)) from None
        try:
            self.stream = self._video_stream()
        except UnreadableMedia:
            self.container.close()
            raise
        self._pending: list[av.Packet] = []
        self.fps = self._frame_rate()

    def _video_stream(self):
        if not self.container.streams.video:
            raise UnreadableMedia("no video stream")
        stream = self.container.streams.video[0]
        w, h = stream.codec_context.width, stream.codec_context.height
        if w * h > MAX_PIXELS:
            raise UnreadableMedia(f"too large: {w}x{h} frames are over {MAX_PIXELS // 1_000_000} megapixels")
        return stream

    def _frame_rate(self) -> float:
        """The stream's frame rate. Files declare it; an RTSP stream often does not (FFmpeg's guess is
        then 60 or 90000), so its first packets' timestamps tell, and those packets are replayed."""
        if self.stream.average_rate:
            return float(self.stream.average_rate)
        if not self.live:
            rate = self.stream.guessed_rate
            return float(rate) if rate and rate <= 120 else DEFAULT_FPS
        stamps = []
        try:
            for packet in self.container.demux(self.stream):
                self._pending.append(packet)
                if packet.pts is not None:
                    stamps.append(packet.pts)
                if len(stamps) >= 6 or len(self._pending) >= 30:
                    break
        except av.error.FFmpegError as e:
            raise UnreadableMedia(_describe(e, self.live)) from None
        steps = sorted(b - a for a, b in zip(stamps, stamps[1:]) if b > a)
        if not steps or self.stream.time_base is None:
            return DEFAULT_FPS
        fps = 1.0 / float(steps[len(steps) // 2] * self.stream.time_base)
        return fps if 1.0 <= fps <= 120.0 else DEFAULT_FPS

    def _packets(self) -> Iterator[av.Packet]:
        pending, self._pending = self._pending, []
        yield from pending
        yield from self.container.demux(self.stream)

    def __iter__(self) -> Iterator[VideoFrame]:
        index, bad, time_s = 0, 0, 0.0
        try:
            for packet in self._packets():
                try:
                    decoded = packet.decode()
                except av.error.InvalidDataError:
                    bad += 1
                    if bad > MAX_BAD_PACKETS:
                        raise UnreadableMedia(f"corrupt video: over {MAX_BAD_PACKETS} undecodable packets")
                    continue
                for frame in decoded:
                    # A stream's first frame may come without a timestamp: it follows the previous one.
                    time_s = float(frame.time) if frame.time is not None else time_s + (index > 0) / self.fps
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
