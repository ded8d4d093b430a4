"""Continuous recording of one camera: its packets remuxed, never transcoded, into MPEG-TS segments written
through the segment store's encrypting writer.

A segment is cut at the first keyframe once it holds `segment_seconds` of stream time, and whenever the
stream restarts or packets were lost (so every segment starts with a keyframe and plays on its own). The
muxer hands its output over after every packet and the writer seals it about once a second, so a crash
loses at most the last second. When the store has no room (StorageFull) or the disk fails, this camera
stops writing video, the capture goes on for the plate reader and live view, and opening a segment is
retried every `retry_s` seconds; the store raises the alarm.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime

import av

from openrtcc.domain.clock import Clock
from openrtcc.edge.alarms import Alarms
from openrtcc.edge.packets import EncodedPacket, PacketSource, StreamInfo
from openrtcc.edge.segment_store import SegmentStore, SegmentWriter, StorageError, StorageFull
from openrtcc.edge.recording_pump import RecordingPump, default_pump
from openrtcc.edge.stream_template import StreamTemplate

log = logging.getLogger(__name__)

FLUSH_EVERY_S = 1.0
IDLE_CLOSE_S = 10.0  # no packet for this long: the open segment is closed rather than left open
MAX_QUEUE = 600  # packets (about 20 s at 30 frames/s): a slow disk costs a gap, never the capture


@dataclass(slots=True)
class RecorderStats:
    segments: int = 0
    bytes: int = 0  # sealed (encrypted) bytes of finished segments
    packets: int = 0  # written
    unrecorded: int = 0  # received while the store had no room, or before a keyframe
    errors: int = 0


class _OpenSegment:
    """One segment being written: the muxer over the store's writer."""

    def __init__(self, writer: SegmentWriter, template: StreamTemplate, first: EncodedPacket):
        self.writer = writer
        self.info = template.info
        self.start_dts = first.dts
        self.started_at = first.captured_at
        self.last_at = first.captured_at
        self.flushed_at = self.last_mono = time.monotonic()
        # Every packet goes to the writer as it is muxed (flush_packets), so what the writer has is what was
        # received, and its flush() about once a second seals it.
        self.out = av.open(writer, "w", format="mpegts", options={"flush_packets": "1"})
        self.stream = self.out.add_stream_from_template(template.stream)

    def write(self, item: EncodedPacket) -> None:
        packet = av.Packet(item.packet)  # a copy: the capture's packet is shared with other consumers
        packet.pts, packet.dts = item.pts, item.dts
        packet.time_base = self.info.time_base
        packet.is_keyframe = item.keyframe
        packet.stream = self.stream
        self.out.mux_one(packet)
        self.last_at = item.captured_at
        self.last_mono = time.monotonic()

    def seconds(self, item: EncodedPacket) -> float:
        return float((item.dts - self.start_dts) * self.info.time_base)

    def end_muxing(self) -> None:
        self.out.close()  # the trailer: the muxer's last bytes, into the writer

    def abandon(self, ended_at: datetime | None) -> None:
        """After a write failed: whatever was sealed stays, as an incomplete segment."""
        try:
            self.out.close()
        except Exception:  # the writer refuses further writes: expected here
            pass
        try:
            self.writer.abort(ended_at)
        except Exception:
            log.exception("could not mark segment %s incomplete", self.writer.segment.id)


class Recorder:
    """`start()` subscribes to the capture and records (driven by the box's RecordingPump) until `stop()`."""

    def __init__(self, capture: PacketSource, segment_store: SegmentStore, segment_seconds: float, clock: Clock,
                 alarms: Alarms, *, retry_s: float = 10.0, pump: RecordingPump | None = None):
        self.camera_id = capture.camera_id
        self._capture = capture
        self._store = segment_store
        self.segment_seconds = segment_seconds
        self._clock = clock
        self._alarms = alarms
        self.retry_s = retry_s
        self.stats = RecorderStats()
        self._segment: _OpenSegment | None = None
        self._template: StreamTemplate | None = None  # of the current stream, reused by its segments
        self._paused_until = 0.0  # monotonic: no room for video until then
        self._unrecordable: StreamInfo | None = None  # a stream the muxer refused
        self._pump = pump or default_pump()
        self._stop = threading.Event()
        self._done = threading.Event()
        self._subscription = None

    def start(self) -> Recorder:
        self._subscription = self._capture.subscribe(max_queue=MAX_QUEUE)
        self._pump.add(self)
        return self

    def stop(self, timeout: float = 5.0) -> bool:
        """Write what is queued, close the open segment (complete); True once done."""
        self._stop.set()
        self._pump.wake()
        done = self._done.wait(timeout) if self._subscription is not None else True
        if self._subscription is not None:
            self._subscription.close()
        return done

    @property
    def recording(self) -> bool:
        return self._segment is not None

    @property
    def backlog(self) -> int:
        """Packets waiting in this recorder's queue."""
        return len(self._subscription) if self._subscription is not None else 0

    @property
    def dropped(self) -> int:
        """Packets its queue lost (the recorder fell behind) or skipped (waiting for a keyframe)."""
        return getattr(self._subscription, "dropped", 0)

    def tick(self) -> bool:
        """The pump's turn for this camera; False once stopped and finished."""
        if self._done.is_set():
            return False
        stopping = self._stop.is_set()
        try:
            self._drain()
            seg, now = self._segment, time.monotonic()
            if seg is not None and now - seg.last_mono >= IDLE_CLOSE_S:
                self._finish()  # the camera went quiet: its segment ends with its last packet
            elif seg is not None and now - seg.flushed_at >= FLUSH_EVERY_S:
                self._flush()
        finally:
            if stopping:
                self._close()
        return not stopping

    def _close(self) -> None:
        try:
            self._finish()
            if self._template is not None:
                self._template.close()
                self._template = None
        finally:
            self._pump.seal_later(self._done.set)  # after this recorder's last segment is sealed

    def _drain(self) -> None:
        """Everything queued since the last turn (the pump's clock, not each packet, wakes the recorder:
        thousands of wake-ups a second cost the box more than the remuxing itself)."""
        sub = self._subscription
        take = getattr(sub, "get_all", None)
        while True:
            items = take(0) if take else [p for p in [sub.get(0)] if p is not None]
            if not items:
                return
            info = sub.info
            for item in items:
                self.record(item, info)

    def record(self, item: EncodedPacket, info: StreamInfo) -> None:
        """One packet: cut, open or write as needed (the recorder thread's step; public for tests)."""
        seg = self._segment
        if seg is not None and (item.gap_before or info is not seg.info):
            self._finish()
            seg = None
        elif seg is not None and item.keyframe and seg.seconds(item) >= self.segment_seconds:
            self._finish(item.captured_at)
            seg = None
        if seg is None:
            seg = self._open(item, info)
            if seg is None:
                self.stats.unrecorded += 1
                return
        try:
            seg.write(item)
        except (StorageFull, StorageError) as exc:
            self._storage_failed(exc, item.captured_at)
            return
        except av.FFmpegError as exc:  # e.g. timestamps going backwards: start afresh at the next keyframe
            self.stats.errors += 1
            log.warning("camera %s: segment cut after a muxer error: %s", self.camera_id, type(exc).__name__)
            self._finish()
            return
        self.stats.packets += 1

    def _open(self, item: EncodedPacket, info: StreamInfo) -> _OpenSegment | None:
        if not item.keyframe or time.monotonic() < self._paused_until or item.dts is None:
            return None
        if info is self._unrecordable:
            return None
        writer = None
        try:
            template = self._template_for(info, item)
            writer = self._store.open_segment(self.camera_id, item.captured_at, "mpegts")
            self._segment = _OpenSegment(writer, template, item)
        except (av.FFmpegError, ValueError) as exc:  # not a stream this box can record
            if writer is not None:
                writer.abort(item.captured_at)
            self.stats.errors += 1
            self._unrecordable = info  # tried again when the camera reconnects, not at every keyframe
            log.warning("camera %s: cannot record this stream: %s", self.camera_id, exc)
            return None
        except (StorageFull, StorageError) as exc:
            if writer is not None:
                writer.abort(item.captured_at)
            self._storage_failed(exc, item.captured_at)
            return None
        if self._paused_until:
            self._paused_until = 0.0
            log.info("camera %s: recording again", self.camera_id)
        return self._segment

    def _template_for(self, info: StreamInfo, keyframe: EncodedPacket) -> StreamTemplate:
        if self._template is None or self._template.info is not info:
            if self._template is not None:
                self._template.close()
                self._template = None
            self._template = StreamTemplate(info, keyframe)
        return self._template

    def _flush(self) -> None:
        seg = self._segment
        seg.flushed_at = time.monotonic()
        try:
            seg.writer.flush()
        except (StorageFull, StorageError) as exc:
            self._storage_failed(exc, seg.last_at)

    def _finish(self, ended_at: datetime | None = None) -> None:
        seg, self._segment = self._segment, None
        if seg is None:
            return
        try:
            seg.end_muxing()
        except (StorageFull, StorageError) as exc:
            self._storage_failed(exc, seg.last_at, seg)
            return
        except av.FFmpegError:
            self.stats.errors += 1
            seg.abandon(seg.last_at)
            return
        ended = ended_at or seg.last_at
        self._pump.seal_later(lambda: self._seal(seg.writer, ended))

    def _seal(self, writer: SegmentWriter, ended_at: datetime) -> None:
        """The sealing thread's part: final record, fsync, index row. Off the pump's thread, so that a
        slow disk's fsync (or all cameras cutting at once) never holds up the other cameras' muxing."""
        try:
            done = writer.close(ended_at)
        except (StorageFull, StorageError) as exc:
            self.stats.errors += 1
            log.warning("camera %s: segment %s kept incomplete: %s", self.camera_id, writer.segment.id, exc)
            return
        self.stats.segments += 1
        self.stats.bytes += done.size_bytes

    def _storage_failed(self, exc: Exception, at: datetime, seg: _OpenSegment | None = None) -> None:
        seg = seg or self._segment
        self._segment = None
        if seg is not None:
            seg.abandon(at)
        self.stats.errors += 1
        if not self._paused_until:
            log.warning("camera %s: video not recorded (%s); retrying every %g s", self.camera_id, exc, self.retry_s)
        self._paused_until = time.monotonic() + self.retry_s
