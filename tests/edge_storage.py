"""Test support for edge storage: record the sample clip through a SegmentStore as the recorder would
(PyAV remux into MPEG-TS, a new segment at every keyframe), keeping a copy of the bytes the muxer wrote."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import av

from tests.alpr_cli import VIDEO as CARS
from tests.services import require_service


def require_sample_clip() -> None:
    require_service(CARS.is_file(), "the 720p sample clip cars.mp4", "place the offline data at ../shared/data/alpr")


class EdgeClock:
    """The injected wall clock, with a monotonic clock beside it: tests move them together or apart."""

    def __init__(self, start: datetime = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)):
        self.t = start
        self.mono = 1000.0

    def now(self) -> datetime:
        return self.t

    def monotonic(self) -> float:
        return self.mono

    def advance(self, **kw) -> None:
        """Time passes: both clocks move."""
        step = timedelta(**kw)
        self.t += step
        self.mono += step.total_seconds()

    def jump(self, **kw) -> None:
        """Someone sets the wall clock: only it moves."""
        self.t += timedelta(**kw)


@dataclass
class Budget:
    max_bytes: int = 0
    reserve_bytes: int = 0


class _Tee:
    def __init__(self, writer):
        self.writer = writer
        self.copy = bytearray()

    def write(self, b) -> int:
        self.copy += b
        return self.writer.write(b)

    def flush(self) -> None:
        self.writer.flush()


@dataclass
class Recorded:
    segment: object
    plaintext: bytes
    packets: int


def record_clip(store, camera_id: str, started_at: datetime, *, max_segments: int | None = None,
                flush_every: int = 0, on_flush=None) -> list[Recorded]:
    """Remux cars.mp4 into one segment per GOP, dated from started_at by the packets' timestamps."""
    recorded: list[Recorded] = []
    with av.open(str(CARS)) as inp:
        vs = inp.streams.video[0]
        tb = float(vs.time_base)
        p0 = None
        out = tee = writer = None
        n = 0
        for pkt in inp.demux(vs):
            if pkt.dts is None:
                continue
            p0 = pkt.pts if p0 is None else p0
            at = started_at + timedelta(seconds=(pkt.pts - p0) * tb)
            if pkt.is_keyframe and out is not None:
                out.close()
                recorded.append(Recorded(writer.close(at), bytes(tee.copy), n))
                out = None
                if max_segments and len(recorded) >= max_segments:
                    return recorded
            if out is None:
                writer = store.open_segment(camera_id, at)
                tee = _Tee(writer)
                out = av.open(tee, mode="w", format="mpegts")
                os_ = out.add_stream_from_template(vs)
                n = 0
            pkt.stream = os_
            out.mux(pkt)
            n += 1
            if flush_every and n % flush_every == 0:
                tee.flush()
                if on_flush:
                    on_flush(writer, tee)
        out.close()
        recorded.append(Recorded(writer.close(at + timedelta(seconds=1 / 30)), bytes(tee.copy), n))
    return recorded


def wait_for(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.02)
