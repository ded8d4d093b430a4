"""The last few HLS segments of each open live session, in the hub's memory, and the playlist over them.

This is the embedded hub's LiveSegmentStore (domain/ports.py); in city mode the same port is a JetStream
bucket every hub process shares (adapters/bus/jetstream_live_segments.py).

Live video is never written to disk or database on the hub: a box uploads ~0.5 s fMP4 segments, the hub
keeps the newest `keep` of each session for the viewer's player, and forgets them as newer ones arrive or
the session ends. Memory is bounded three ways: segments per session, bytes per segment (checked where
they are received) and bytes over all sessions (an upload that would pass it is refused, so a flood of
sessions cannot exhaust the hub).
"""

from __future__ import annotations

import math
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime

from openrtcc.domain.live_video import (  # noqa: F401 (LiveMeta, Segment: this module's callers import them here)
    KEEP_SEGMENTS,
    MAX_TOTAL_BYTES,
    LiveBufferFull,
    LiveMeta,
    Segment,
)


@dataclass(slots=True)
class LiveBuffer:
    meta: LiveMeta
    last_viewed_at: datetime
    last_upload_at: datetime  # the box's last upload; at first, when the session was opened here
    init: bytes | None = None
    segments: deque = field(default_factory=lambda: deque(maxlen=KEEP_SEGMENTS))
    confirmed: bool = False  # the box said LiveStarted
    viewers: set = field(default_factory=set)  # users whose watching is on record (the owner sees each)

    @property
    def size(self) -> int:
        return len(self.init or b"") + sum(len(s.data) for s in self.segments)

    @property
    def last_seq(self) -> int | None:
        return self.segments[-1].seq if self.segments else None

    @property
    def has_init(self) -> bool:
        return self.init is not None

    def segment(self, seq: int) -> Segment | None:
        return next((s for s in self.segments if s.seq == seq), None)


class LiveSegments:
    """Thread-safe: uploads, playlist polls and edge-message handlers touch it from different threads."""

    def __init__(self, keep: int = KEEP_SEGMENTS, max_total_bytes: int = MAX_TOTAL_BYTES):
        self.keep, self.max_total_bytes = keep, max_total_bytes
        self._lock = threading.Lock()
        self._buffers: dict[str, LiveBuffer] = {}
        self._total = 0

    def open(self, meta: LiveMeta, now: datetime) -> LiveBuffer:
        with self._lock:
            buf = self._buffers.get(meta.session_id)
            if buf is None:
                buf = LiveBuffer(meta, now, now, segments=deque(maxlen=self.keep), viewers={meta.user_id})
                self._buffers[meta.session_id] = buf
            return buf

    def get(self, session_id: str) -> LiveBuffer | None:
        with self._lock:
            return self._buffers.get(session_id)

    def put_init(self, session_id: str, data: bytes, now: datetime) -> None:
        with self._lock:
            buf = self._buffers[session_id]
            self._make_room(len(data) - len(buf.init or b""))
            self._total += len(data) - len(buf.init or b"")
            buf.init = data
            buf.last_upload_at = now

    def put_segment(self, session_id: str, seg: Segment, now: datetime) -> None:
        """Keep a segment (a re-sent one replaces its earlier copy); the oldest beyond `keep` is dropped."""
        with self._lock:
            buf = self._buffers[session_id]
            old = buf.segment(seg.seq)
            if old is not None:
                buf.segments.remove(old)
                self._total -= len(old.data)
            elif buf.last_seq is not None and seg.seq < buf.last_seq - self.keep:
                return  # too old to be of use to any player
            self._make_room(len(seg.data))
            if len(buf.segments) == buf.segments.maxlen:
                self._total -= len(buf.segments[0].data)
            buf.segments.append(seg)
            buf.segments = deque(sorted(buf.segments, key=lambda s: s.seq), maxlen=self.keep)
            self._total += len(seg.data)
            buf.last_upload_at = now

    def viewed(self, session_id: str, now: datetime) -> None:
        with self._lock:
            buf = self._buffers.get(session_id)
            if buf is not None:
                buf.last_viewed_at = now

    def confirm(self, session_id: str) -> None:
        with self._lock:
            buf = self._buffers.get(session_id)
            if buf is not None:
                buf.confirmed = True

    def add_viewer(self, session_id: str, user_id: str) -> None:
        with self._lock:
            buf = self._buffers.get(session_id)
            if buf is not None:
                buf.viewers.add(user_id)

    def init_data(self, session_id: str) -> bytes | None:
        buf = self.get(session_id)
        return buf.init if buf is not None else None

    def segment_data(self, session_id: str, seq: int) -> bytes | None:
        with self._lock:
            buf = self._buffers.get(session_id)
            seg = buf.segment(seq) if buf is not None else None
        return seg.data if seg is not None else None

    def changed_since(self, session_id: str, last_seq: int | None) -> bool:
        buf = self.get(session_id)
        return buf is None or buf.last_seq != last_seq

    def drop(self, session_id: str) -> None:
        with self._lock:
            buf = self._buffers.pop(session_id, None)
            if buf is not None:
                self._total -= buf.size

    @property
    def total_bytes(self) -> int:
        with self._lock:
            return self._total

    def _make_room(self, extra: int) -> None:
        if self._total + extra > self.max_total_bytes:
            raise LiveBufferFull("the hub holds as much live video as it may; try again shortly")


def render_playlist(buf, can_block: bool = True) -> str:
    """A live HLS media playlist (fMP4, version 7) over the segments held. Blocking reload lets hls.js ask
    for the next segment's playlist at once and get it the moment the segment lands (no polling delay).
    Without `can_block` the playlist does not offer it, so players poll: hls.js sends `_HLS_msn` whenever a
    playlist says CAN-BLOCK-RELOAD, low-latency mode or not, and each such request holds a connection."""
    segments = list(buf.segments)
    target = max([1] + [math.ceil(s.duration_s) for s in segments])
    lines = ["#EXTM3U", "#EXT-X-VERSION:7", f"#EXT-X-TARGETDURATION:{target}"]
    if can_block:
        lines.append("#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES")
    lines += ["#EXT-X-INDEPENDENT-SEGMENTS", f"#EXT-X-MEDIA-SEQUENCE:{segments[0].seq if segments else 0}"]
    if buf.has_init:
        lines.append('#EXT-X-MAP:URI="init.mp4"')
    previous = None
    for s in segments:
        # A segment lost on the way keeps its place as a gap, so every later segment keeps its number
        # (players count segments from MEDIA-SEQUENCE by position) and the player skips it, not stalls.
        for missing in range(previous + 1, s.seq) if previous is not None else ():
            lines += ["#EXT-X-GAP", f"#EXTINF:{s.duration_s:.3f},", f"segments/{missing}.m4s"]
        lines += [f"#EXTINF:{s.duration_s:.3f},", f"segments/{s.seq}.m4s"]
        previous = s.seq
    return "\n".join(lines) + "\n"
