"""Decoded frames from a camera subscription, for the parts of the box that look at pictures (plate reading,
live view): `decode_frames(subscription, every_s)` yields (BGR image, captured_at), optionally decimated.

The subscription delivers from a keyframe after every gap (see packet_queue.py); a packet the decoder
rejects (corrupt data) makes it wait for the next keyframe. A reconnection with new stream parameters gets a
new decoder. Only the frames that are yielded are converted to BGR (the costly step).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime

import av
import numpy as np

from openrtcc.edge.packets import EncodedPacket, PacketSubscription, StreamInfo

log = logging.getLogger(__name__)

POLL_S = 0.5  # how often a waiting iterator notices that its subscription was closed
STREAM_JUMP_S = 10.0  # stream time moving back, or forward by more than this: a new timeline


class FrameDecoder:
    """Decodes one camera's packets into av.VideoFrame, with the wall-clock time each packet arrived."""

    def __init__(self, threads: int = 1):
        self._threads = threads
        self._info: StreamInfo | None = None
        self._ctx = None
        self._synced = False
        self._arrivals: dict[int, datetime] = {}  # pts -> captured_at, for frames that come out later
        self.rejected = 0

    def decode(self, item: EncodedPacket, info: StreamInfo | None) -> list[tuple[av.VideoFrame, datetime]]:
        if info is not None and (self._ctx is None or info != self._info):
            self._open(info)
        if item.gap_before:
            self._synced = False
        if self._ctx is None or (not self._synced and not item.keyframe):
            return []
        self._synced = True
        if item.pts is not None:
            self._arrivals[item.pts] = item.captured_at
            if len(self._arrivals) > 64:
                del self._arrivals[next(iter(self._arrivals))]
        try:
            frames = self._ctx.decode(item.packet)
        except av.FFmpegError as exc:
            self.rejected += 1
            self._synced = False  # references may be broken: wait for the next keyframe
            log.debug("undecodable packet skipped: %s", type(exc).__name__)
            return []
        return [(f, self._arrivals.pop(f.pts, item.captured_at)) for f in frames]

    def stream_time(self, frame: av.VideoFrame) -> float | None:
        """The frame's time in seconds on the camera's timeline, when it has one."""
        tb = self._info.time_base if self._info is not None else None
        return float(frame.pts * tb) if frame.pts is not None and tb else None

    def _open(self, info: StreamInfo) -> None:
        ctx = av.CodecContext.create(info.codec_name, "r")
        if info.extradata:
            ctx.extradata = info.extradata
        ctx.thread_count = self._threads
        self._ctx, self._info, self._synced = ctx, info, False
        self._arrivals.clear()


def decode_frames(subscription: PacketSubscription, every_s: float | None = None, *,
                  threads: int = 1) -> Iterator[tuple[np.ndarray, datetime]]:
    """(BGR frame, captured_at) for each decoded frame, or at most one per `every_s` seconds of stream time.
    Ends when the subscription is closed (close it from another thread to stop a consumer)."""
    decoder = FrameDecoder(threads)
    decimator = Decimator(every_s)
    while True:
        item = subscription.get(timeout=POLL_S)
        if item is None:
            if getattr(subscription, "closed", False):
                return
            continue
        for frame, captured_at in decoder.decode(item, subscription.info):
            if decimator.take(decoder.stream_time(frame), captured_at, item.gap_before):
                yield frame.to_ndarray(format="bgr24"), captured_at


class Decimator:
    """Keeps one frame per `every_s` of the stream's own time (arrival time when frames carry none), so
    bursts of buffered packets are thinned as evenly as the camera filmed them."""

    def __init__(self, every_s: float | None):
        self.every_s = every_s
        self._next: float | None = None
        self._last: float | None = None

    def take(self, stream_time: float | None, captured_at: datetime, gap: bool) -> bool:
        if not self.every_s:
            return True
        t = stream_time if stream_time is not None else captured_at.timestamp()
        if gap or self._next is None or self._last is None or not (self._last <= t <= self._last + STREAM_JUMP_S):
            self._next = t  # a new timeline (first frame, reconnection, timestamps reset)
        self._last = t
        if t + 1e-6 < self._next:
            return False
        self._next += self.every_s
        if self._next <= t:  # far behind (a stall): count from this frame
            self._next = t + self.every_s
        return True
