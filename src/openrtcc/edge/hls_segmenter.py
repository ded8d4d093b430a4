"""Low-latency H.264 encoding cut into fMP4 HLS segments: one init segment, then a media segment per GOP.

One libx264 encoder (ultrafast, zerolatency, no B-frames) feeds one fragmented-MP4 muxer; a keyframe is
forced every `segment_seconds` of frame time, and the muxer starts a fragment at each keyframe, so every
fragment (moof + mdat) is one HLS media segment of about that length. fMP4 rather than MPEG-TS: hls.js
appends it to Media Source Extensions as it comes, without transmuxing, and the 0.5 s segments need no
per-segment program tables. A segment is complete (and handed out) when the keyframe that starts the next
one reaches the muxer, so a segment costs its own length in latency and no more.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from fractions import Fraction

import av
from av.video.frame import PictureType

MAX_LIVE_WIDTH = 1280
TIME_BASE = Fraction(1, 90_000)
FRAGMENTED_MP4 = "frag_keyframe+empty_moov+default_base_moof"
CONTENT_TYPE = "video/mp4"


@dataclass(frozen=True, slots=True)
class HlsSegment:
    """`seq` None: the init segment (ftyp + moov); otherwise media segment number `seq` (0, 1, ...)."""

    seq: int | None
    data: bytes
    duration_s: float

    @property
    def name(self) -> str:
        return "init" if self.seq is None else str(self.seq)


def live_size(width: int, height: int, max_width: int = MAX_LIVE_WIDTH) -> tuple[int, int]:
    """The encoded size: the source's, scaled down (aspect kept) when wider than `max_width`; even sides."""
    if width > max_width:
        height = round(height * max_width / width)
        width = max_width
    return max(2, width - width % 2), max(2, height - height % 2)


class _Sink(io.RawIOBase):
    """What the muxer writes, kept until whole top-level boxes can be cut from it."""

    def __init__(self) -> None:
        super().__init__()
        self.buffer = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.buffer += data
        return len(data)


def _take_boxes(buffer: bytearray) -> list[tuple[bytes, bytes]]:
    """Remove and return every complete top-level box (type, bytes) at the start of `buffer`."""
    boxes = []
    while len(buffer) >= 8:
        size = int.from_bytes(buffer[0:4], "big")
        header = 8
        if size == 1:  # 64-bit size follows the type
            if len(buffer) < 16:
                break
            size, header = int.from_bytes(buffer[8:16], "big"), 16
        if size < header or len(buffer) < size:
            break
        boxes.append((bytes(buffer[4:8]), bytes(buffer[:size])))
        del buffer[:size]
    return boxes


class HlsSegmenter:
    """Feed frames with their time in seconds; get back the segments they completed."""

    def __init__(self, width: int, height: int, frame_rate: float = 15.0, segment_seconds: float = 0.5,
                 crf: int = 26, max_kbps: int = 2000, max_width: int = MAX_LIVE_WIDTH):
        self.width, self.height = live_size(width, height, max_width)
        self.segment_seconds = segment_seconds
        self._sink = _Sink()
        self._container = av.open(self._sink, "w", format="mp4", options={"movflags": FRAGMENTED_MP4})
        stream = self._container.add_stream("libx264", rate=Fraction(frame_rate).limit_denominator(1001))
        stream.width, stream.height, stream.pix_fmt = self.width, self.height, "yuv420p"
        stream.time_base = TIME_BASE
        ctx = stream.codec_context
        ctx.time_base = TIME_BASE  # frame times as stamped, not rounded to the nominal rate
        ctx.max_b_frames = 0
        ctx.gop_size = max(2, round(4 * frame_rate * segment_seconds))  # forced keyframes come first
        ctx.thread_count = 1  # one core per session at most; the box also records and reads plates
        stream.options = {"preset": "ultrafast", "tune": "zerolatency", "crf": str(crf),
                          "maxrate": f"{max_kbps}k", "bufsize": f"{max_kbps}k",
                          "x264-params": "scenecut=0:bframes=0:repeat-headers=0"}
        self._stream = stream
        self._init_sent = False
        self._pending: list[bytes] = []  # boxes of a media segment not yet complete (styp, moof)
        self._seq = 0
        self._last_pts: int | None = None
        self._next_key_pts = 0
        self._segment_start_pts: int | None = None
        self._frame_pts = round(1 / frame_rate / TIME_BASE)
        self._closed = False

    def push(self, frame: av.VideoFrame, t: float) -> list[HlsSegment]:
        """Encode one frame shown at `t` seconds (session time); any size or pixel format is converted."""
        pts = round(t / TIME_BASE)
        if self._last_pts is not None and pts <= self._last_pts:
            pts = self._last_pts + 1  # a jittery or reset source clock must not stall the muxer
        frame.pts, frame.time_base = pts, TIME_BASE
        frame.pict_type = PictureType.I if pts >= self._next_key_pts else PictureType.NONE
        if pts >= self._next_key_pts:
            self._next_key_pts = pts + round(self.segment_seconds / TIME_BASE)
        if self._last_pts is not None:
            self._frame_pts = max(1, pts - self._last_pts)
        self._last_pts = pts
        out: list[HlsSegment] = []
        for packet in self._stream.encode(frame):
            out += self._mux(packet)
        return out

    def close(self) -> list[HlsSegment]:
        """Flush the encoder and the muxer; returns the last segment(s)."""
        if self._closed:
            return []
        self._closed = True
        out: list[HlsSegment] = []
        try:
            for packet in self._stream.encode(None):
                out += self._mux(packet)
        finally:
            self._container.close()
        end = (self._last_pts or 0) + self._frame_pts
        return out + self._collect(end)

    def _mux(self, packet: av.Packet) -> list[HlsSegment]:
        # The fragment the muxer writes now ends where this keyframe begins.
        at = round(packet.pts * packet.time_base / TIME_BASE) if packet.pts is not None else None
        boundary = at if packet.is_keyframe else None
        self._container.mux(packet)
        out = self._collect(boundary)
        if packet.is_keyframe:
            self._segment_start_pts = at
        return out

    def _collect(self, boundary_pts: int | None) -> list[HlsSegment]:
        out = []
        for kind, data in _take_boxes(self._sink.buffer):
            if not self._init_sent:
                self._pending.append(data)
                if kind == b"moov":
                    out.append(HlsSegment(None, b"".join(self._pending), 0.0))
                    self._pending, self._init_sent = [], True
            elif kind in (b"styp", b"moof"):
                self._pending.append(data)
            elif kind == b"mdat" and self._pending:
                start = self._segment_start_pts or 0
                end = boundary_pts if boundary_pts is not None else (self._last_pts or 0) + self._frame_pts
                out.append(HlsSegment(self._seq, b"".join(self._pending) + data, float((end - start) * TIME_BASE)))
                self._pending, self._seq = [], self._seq + 1
        return out
