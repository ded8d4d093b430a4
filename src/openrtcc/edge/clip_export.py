"""Export a camera's recorded footage in a time range as one MP4 with its SHA-256.

Without privacy masks the packets are remuxed as recorded (no transcoding), starting at the keyframe at or
before `start`. With masks every frame is decoded, blacked out and encoded again (H.264, libx264), cut at
exactly `start`. Every segment is verified before a byte is written: tampered footage is never exported.
The output is fragmented MP4 written front to back, hashed as it goes.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import BinaryIO

import av

from openrtcc.domain.privacy_masks import PrivacyMask
from openrtcc.edge.day_keys import DayKeyDestroyed, DayKeyError
from openrtcc.edge.masks import apply_masks
from openrtcc.edge.sealed_files import TamperedSegment
from openrtcc.edge.segment_store import SegmentStore

MAX_CLIP = timedelta(hours=6)
OUT_TIME_BASE = Fraction(1, 90000)
EPSILON_S = 0.001  # a frame stamped at the range's edge, give or take the rounding of timestamps, is in it
_MP4_OPTIONS = {"movflags": "frag_keyframe+empty_moov+default_base_moof"}


class ClipError(Exception):
    """A clip cannot be made; `code`: bad_range, nothing_recorded, day_shredded, tampered, unreadable."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class ClipExport:
    size_bytes: int
    sha256: str
    started_at: datetime
    ended_at: datetime


@dataclass(slots=True)
class _Timed:
    packet: av.Packet
    rel: float  # seconds after the requested start (negative before it)
    rel_dts: float
    base: tuple[float, int, float]  # the segment's (start relative to the clip, first pts, time base)

    def rel_of(self, pts: int) -> float:
        seg_rel, p0, tb = self.base
        return seg_rel + (pts - p0) * tb


class _HashingSink:
    """Non-seekable on purpose: the muxer writes fragmented MP4 front to back, so the hash is of the bytes."""

    def __init__(self, f: BinaryIO):
        self._f = f
        self.sha = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self._f.write(data)
        self.sha.update(data)
        self.size += len(data)
        return len(data)

    def flush(self) -> None:
        self._f.flush()


def export_clip(store: SegmentStore, camera_id: str, start: datetime, end: datetime,
                masks: Sequence[PrivacyMask], out: BinaryIO | Path) -> ClipExport:
    if start.tzinfo is None or end.tzinfo is None or not start < end or end - start > MAX_CLIP:
        raise ClipError("bad_range", f"a clip is a timezone-aware range, start before end, at most {MAX_CLIP}")
    segments = [s for s in store.segments(camera_id, start, end) if s.size_bytes > 0 or s.open]
    if not segments:
        raise ClipError("nothing_recorded", f"nothing was recorded on camera {camera_id} in that range")
    for s in segments:  # a first pass, so that nothing is written from a clip that cannot be whole
        _readable(store, s, lambda seg: sum(len(r) for r in store.iter_plaintext(seg)))
    plaintexts = (_readable(store, s, store.read_plaintext) for s in segments)  # one segment in memory at a time
    if isinstance(out, Path):
        return _export_to_path(segments, plaintexts, start, end, masks, out)
    return _mux(segments, plaintexts, start, end, masks, out)


def _readable(store: SegmentStore, segment, read):
    try:
        return read(segment)
    except DayKeyDestroyed as exc:
        raise ClipError("day_shredded", f"footage of {exc.day.isoformat()} has been destroyed "
                                        "(its key was shredded)") from exc
    except TamperedSegment as exc:
        raise ClipError("tampered", f"a recorded segment failed verification, refusing to export: {exc}") from exc
    except (DayKeyError, FileNotFoundError) as exc:
        raise ClipError("unreadable", f"a recorded segment cannot be read: {exc}") from exc


def _export_to_path(segments, plaintexts, start, end, masks, path: Path) -> ClipExport:
    tmp = path.with_name(path.name + ".part")
    try:
        with open(tmp, "wb") as f:
            result = _mux(segments, plaintexts, start, end, masks, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        return result
    finally:
        tmp.unlink(missing_ok=True)


def _packets(segments, plaintexts, start: datetime, opened: list) -> Iterator[tuple[_Timed, av.VideoStream]]:
    """Every video packet of the segments, timed in seconds relative to `start`. The last two inputs stay
    open (in `opened`, closed by the caller): a packet kept back may outlive its segment's turn."""
    for seg, data in zip(segments, plaintexts):
        try:
            container = av.open(io.BytesIO(data), format=seg.container)
        except (av.FFmpegError, ValueError):
            continue  # a salvaged segment too short to hold a stream
        opened.append(container)
        while len(opened) > 2:
            opened.pop(0).close()
        if not container.streams.video:
            continue
        stream = container.streams.video[0]
        tb = float(stream.time_base)
        seg_rel = (seg.started_at - start).total_seconds()
        p0 = None
        try:
            for pkt in container.demux(stream):
                if pkt.pts is None or pkt.size == 0:
                    continue
                if p0 is None:
                    p0 = pkt.pts
                dts = pkt.dts if pkt.dts is not None else pkt.pts
                yield _Timed(pkt, seg_rel + (pkt.pts - p0) * tb, seg_rel + (dts - p0) * tb, (seg_rel, p0, tb)), stream
        except av.FFmpegError:
            pass  # the torn end of an incomplete segment: keep what demuxed before it


def _from_keyframe(timed: Iterator[tuple[_Timed, av.VideoStream]], length: float):
    """Packets from the keyframe at or before 0 (or the first keyframe after it) up to `length` seconds."""
    pending: list[tuple[_Timed, av.VideoStream]] = []
    started = False
    for item in timed:
        t = item[0]
        if t.rel > length + EPSILON_S:
            if not started:
                yield from pending  # the range falls between two frames: the GOP that shows it
            break
        if not started:
            if t.packet.is_keyframe:
                pending = [item]
            elif pending:
                pending.append(item)
            if t.rel < -EPSILON_S:
                continue
            if not pending:
                continue
            started = True
            yield from pending
            pending = []
            continue
        yield item


def _mux(segments, plaintexts, start, end, masks, f: BinaryIO) -> ClipExport:
    sink = _HashingSink(f)
    length = (end - start).total_seconds()
    first = last = None
    opened: list = []
    try:
        with av.open(sink, mode="w", format="mp4", options=_MP4_OPTIONS) as output:
            packets = _packets(segments, plaintexts, start, opened)
            if masks:
                first, last = _transcode(output, packets, length, masks)
            else:
                first, last = _remux(output, _from_keyframe(packets, length))
    finally:
        for container in opened:
            container.close()
    if first is None:
        raise ClipError("nothing_recorded", "no video was recorded in that range")
    return ClipExport(size_bytes=sink.size, sha256=sink.sha.hexdigest(),
                      started_at=start + timedelta(seconds=first), ended_at=start + timedelta(seconds=last))


def _remux(output, items) -> tuple[float | None, float | None]:
    out_stream = None
    origin = last = None
    last_dts = None
    for t, in_stream in items:
        if out_stream is None:
            out_stream = output.add_stream_from_template(in_stream)
            origin = t.rel
        pkt = t.packet
        pts = round((t.rel - origin) / OUT_TIME_BASE)
        dts = round((t.rel_dts - origin) / OUT_TIME_BASE)
        if last_dts is not None and dts <= last_dts:
            dts = last_dts + 1  # segments cut from one stream may touch or overlap by a tick
        pts = max(pts, dts)
        last_dts = dts
        pkt.pts, pkt.dts, pkt.time_base = pts, dts, OUT_TIME_BASE
        pkt.stream = out_stream
        output.mux(pkt)
        last = t.rel
    return origin, last


def _frames(items, length: float):
    """(frame, seconds after the clip's start, input stream), each segment's decoder drained at its end (a
    decoder that reorders frames holds the last ones back)."""
    stream = base = None
    for t, in_stream in items:
        if in_stream is not stream:
            if stream is not None:
                yield from _decoded(stream, base, None)
            stream = in_stream
        base = t
        if t.rel > length + 1.0:  # past the end, with a second's margin for reordered frames
            break
        yield from _decoded(stream, t, t.packet)
    if stream is not None:
        yield from _decoded(stream, base, None)


def _decoded(stream, timed: _Timed, packet):
    return ((f, timed.rel_of(f.pts), stream) for f in stream.codec_context.decode(packet) if f.pts is not None)


def _transcode(output, items, length: float, masks) -> tuple[float | None, float | None]:
    encoder = first = last = None
    last_pts = -1
    for frame, rel, in_stream in _frames(items, length):
        if rel < -EPSILON_S or rel > length + EPSILON_S:
            continue
        if encoder is None:
            encoder, first = _add_encoder(output, in_stream, frame), rel
        img = apply_masks(frame.to_ndarray(format="bgr24"), masks)
        out = av.VideoFrame.from_ndarray(img, format="bgr24").reformat(format="yuv420p")
        pts = max(round((rel - first) / OUT_TIME_BASE), last_pts + 1)
        out.pts, out.time_base, last_pts = pts, OUT_TIME_BASE, pts
        output.mux(encoder.encode(out))
        last = rel
    if encoder is not None:
        output.mux(encoder.encode(None))
    return first, last


def _add_encoder(output, in_stream, frame):
    rate = in_stream.average_rate or Fraction(25)
    stream = output.add_stream("libx264", rate=rate)
    stream.width, stream.height = frame.width, frame.height
    stream.pix_fmt = "yuv420p"
    stream.codec_context.time_base = OUT_TIME_BASE
    stream.options = {"preset": "veryfast", "crf": "23"}
    return stream
