"""`rtcc bench edge --parts record`: N concurrent 720p camera streams received over RTSP, remuxed and written
encrypted by the box's own capture and recorder, against the real RTSP camera server; whether every stream
kept up with real time, and what it cost in CPU (the box's process and the camera server, separately)."""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import av

from openrtcc.bench.report import machine, replace_section
from openrtcc.bench.rtsp_camera_server import CameraServer, CameraServerUnavailable
from openrtcc.domain.clock import SystemClock
from openrtcc.edge.alarms import Alarms
from openrtcc.edge.capture import CameraCapture
from openrtcc.edge.recorder import Recorder
from openrtcc.edge.segment_store import SegmentStore

SECTION_TITLE = "## Edge: recording (rtcc bench edge)"
TARGET_STREAMS = 100
SEGMENT_SECONDS = 10.0
MIN_TIME_RATIO = 0.98  # stream seconds received per wall second, for every stream
WARMUP_TIMEOUT_S = 60.0


@dataclass(frozen=True, slots=True)
class Budget:
    max_bytes: int = 0
    reserve_bytes: int = 512 * 1024 * 1024


@dataclass(slots=True)
class StreamFigures:
    packets: int  # received in the measured window
    stream_seconds: float  # stream time the packets covered
    written: int  # packets written to segments in the window
    dropped: int  # lost by the recorder's queue (too slow) or not recorded


@dataclass(slots=True)
class RecordingFigures:
    streams: int
    seconds: float  # the measured window (the requested length, as it came out)
    source_fps: float
    source_size: tuple[int, int]
    per_stream: list[StreamFigures] = field(default_factory=list)
    online: int = 0
    segments: int = 0
    bytes_written: int = 0
    box_cpu_s: float = 0.0
    capture_cpu_s: float = 0.0  # of that: the capture threads (RTSP receive + demux + fan-out)
    pump_cpu_s: float = 0.0  # of that: the recording pump and sealer (remux + encrypt + write + fsync)
    server_cpu_s: float = 0.0
    backlog_max: int = 0  # packets waiting in a recorder's queue at the end
    errors: int = 0
    requested_s: float = 0.0
    load_at_start: float = 0.0

    def fps(self) -> list[float]:
        return sorted(s.packets / self.seconds for s in self.per_stream)

    def time_ratios(self) -> list[float]:
        return sorted(s.stream_seconds / self.seconds for s in self.per_stream)

    @property
    def dropped(self) -> int:
        return sum(s.dropped for s in self.per_stream)

    @property
    def kept_real_time(self) -> bool:
        ratios = self.time_ratios()
        return (self.online == self.streams and bool(ratios) and ratios[0] >= MIN_TIME_RATIO
                and self.dropped == 0 and self.backlog_max <= self.source_fps)

    @property
    def passed(self) -> bool:
        return self.kept_real_time and self.streams >= TARGET_STREAMS


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, from /proc/<pid>/stat (no psutil)."""
    return cpu_seconds_of(Path(f"/proc/{pid}/stat"))


def thread_cpu_seconds() -> dict[int, float]:
    """utime + stime of each thread of this process, by native thread id."""
    out = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            out[int(tid)] = cpu_seconds_of(Path(f"/proc/self/task/{tid}/stat"))
        except (OSError, ValueError):
            pass
    return out


def cpu_seconds_of(stat: Path) -> float:
    fields = stat.read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def threads_cpu(before: dict[int, float], after: dict[int, float], prefix: str) -> float:
    ids = {t.native_id for t in threading.enumerate() if t.name.startswith(prefix)}
    return sum(after.get(i, 0.0) - before.get(i, 0.0) for i in ids)


def source_figures(video: Path) -> tuple[float, tuple[int, int]]:
    """The clip's frames per second (packets over its duration) and frame size."""
    with av.open(str(video)) as c:
        stream = c.streams.video[0]
        stamps = [p.pts for p in c.demux(stream) if p.size and p.pts is not None]
        size = (stream.codec_context.width, stream.codec_context.height)
        frame = float((stamps[1] - stamps[0]) * stream.time_base) if len(stamps) > 1 else 0.0
        duration = float((max(stamps) - min(stamps)) * stream.time_base) + frame
    return len(stamps) / duration, size


def run_recording_bench(args) -> int:
    video = Path(args.video)
    if not video.is_file():
        print(f"rtcc bench edge: no video at {video}", file=sys.stderr)
        return 2
    source_fps, size = source_figures(video)
    try:
        server = CameraServer(video)
    except CameraServerUnavailable as e:
        print(f"rtcc bench edge: {e}", file=sys.stderr)
        return 2
    with server, tempfile.TemporaryDirectory(prefix="rtcc-bench-rec-") as data_dir:
        figures = RecordingFigures(args.streams, float(args.seconds), source_fps, size,
                                   requested_s=float(args.seconds), load_at_start=os.getloadavg()[0])
        measure(server, Path(data_dir), figures)
    print_summary(figures)
    replace_section(Path(args.output), SECTION_TITLE, section(figures))
    return 0 if figures.kept_real_time else 1


def measure(server: CameraServer, data_dir: Path, f: RecordingFigures) -> None:
    clock = SystemClock()
    alarms = Alarms(clock.now)
    store = SegmentStore(data_dir, Budget(), alarms, clock)
    captures = [CameraCapture(f"bench-{i:03d}", server.url("cars"), clock, alarms) for i in range(f.streams)]
    recorders = [Recorder(c, store, SEGMENT_SECONDS, clock, alarms) for c in captures]
    try:
        for c, r in zip(captures, recorders, strict=True):
            r.start()  # subscribed before the capture starts: from its first keyframe on
            c.start()
        warm_up(recorders)
        measure_window(server, captures, recorders, f)
    finally:
        for c in captures:
            c.stop(timeout=0)  # all told at once; stopping them one by one would wait on each in turn
        for r in recorders:
            r.stop()
        for c in captures:
            c.stop()
    f.errors = sum(r.stats.errors for r in recorders)
    segments = store.segments()
    f.segments = len(segments)
    f.bytes_written = sum(s.size_bytes for s in segments)
    store.close()


def measure_window(server: CameraServer, captures: list[CameraCapture], recorders: list[Recorder],
                   f: RecordingFigures) -> None:
    before = snapshot(captures, recorders)
    box0, server0, threads0 = cpu_seconds(os.getpid()), cpu_seconds(server.pid), thread_cpu_seconds()
    t0 = time.monotonic()
    time.sleep(f.seconds)
    after = snapshot(captures, recorders)
    f.seconds = time.monotonic() - t0
    f.box_cpu_s = cpu_seconds(os.getpid()) - box0
    f.server_cpu_s = cpu_seconds(server.pid) - server0
    threads1 = thread_cpu_seconds()
    f.capture_cpu_s = threads_cpu(threads0, threads1, "capture-")
    f.pump_cpu_s = threads_cpu(threads0, threads1, "recording-")
    f.online = sum(c.health().online for c in captures)
    f.backlog_max = max(r.backlog for r in recorders)
    for b, a in zip(before, after, strict=True):
        f.per_stream.append(StreamFigures(a[0] - b[0], a[1] - b[1], a[2] - b[2], a[3] - b[3]))


def warm_up(recorders: list[Recorder]) -> None:
    """Until every recorder writes (each stream's first keyframe arrived), then a few seconds more."""
    deadline = time.monotonic() + WARMUP_TIMEOUT_S
    while time.monotonic() < deadline and not all(r.recording for r in recorders):
        time.sleep(0.2)
    time.sleep(2.0)


def snapshot(captures: list[CameraCapture], recorders: list[Recorder]) -> list[tuple[int, float, int, int]]:
    """Per stream: packets received, its latest stream time (s), packets written, packets lost."""
    rows = []
    for c, r in zip(captures, recorders, strict=True):
        info, last = c.info, c.last_dts
        t = float(last * info.time_base) if info is not None and last is not None else 0.0
        rows.append((c.packets, t, r.stats.packets, r.dropped + r.stats.unrecorded))
    return rows


def print_summary(f: RecordingFigures) -> None:
    for row in rows(f):
        print(f"{row[0]}: {row[1]}  [{row[2]}]")
    print("PASS" if f.passed else ("kept real time" if f.kept_real_time else "FAIL: streams fell behind"))


def rows(f: RecordingFigures) -> list[list[str]]:
    fps = f.fps() or [0.0]
    ratios = f.time_ratios() or [0.0]
    core = f.box_cpu_s / f.seconds if f.seconds else 0.0
    verdict = "PASS" if f.passed else "FAIL"
    w, h = f.source_size
    mb = f.bytes_written / 1e6
    return [
        [f"{w}x{h} H.264 streams recorded at once (capture + remux + AES-256-GCM + write)", f"{f.streams}",
         f">= {TARGET_STREAMS}, each in real time: {verdict}"],
        ["Streams online at the end", f"{f.online} / {f.streams}", "all"],
        ["Received frames/s per stream: min / median / max (source clip)",
         f"{fps[0]:.2f} / {statistics.median(fps):.2f} / {fps[-1]:.2f} ({f.source_fps:.2f})", "= source"],
        ["Stream seconds received per wall second: min / median",
         f"{ratios[0]:.3f} / {statistics.median(ratios):.3f}", f">= {MIN_TIME_RATIO}"],
        ["Packets dropped (slow recorder) or not recorded; largest backlog at the end",
         f"{f.dropped}; {f.backlog_max} packets", "0; < 1 s"],
        ["Segments and encrypted bytes written (whole run)",
         f"{f.segments} segments, {mb:,.0f} MB", "-"],
        ["CPU of the box's process (all its threads), share of one core",
         f"{core * 100:.0f}% ({core * 100 / max(f.streams, 1):.2f}% per stream)", "<= 200% (2 cores)"],
        ["of which: capture threads (RTSP receive, demux, fan-out) / recording pump and sealer (remux, "
         "encrypt, write)",
         f"{share(f.capture_cpu_s, f.seconds)} / {share(f.pump_cpu_s, f.seconds)}", "-"],
        ["CPU of the RTSP camera server (GStreamer, one shared pipeline)",
         f"{f.server_cpu_s / f.seconds * 100:.0f}%" if f.seconds else "-", "-"],
        ["Recorder errors", f"{f.errors}", "0"],
    ]


def share(cpu_s: float, seconds: float) -> str:
    return f"{cpu_s / seconds * 100:.0f}%" if seconds else "-"


HOW = """How it was measured: `uv run rtcc bench edge --parts record --streams {streams} --seconds {seconds:g}`
starts the RTSP camera server (openrtcc/bench/rtsp_camera_server.py: GStreamer's rtsp-server under Debian's
python3, `/cars` = the 20 s 720p sample clip looping in real time, one shared pipeline) and, in this
process, {streams} `CameraCapture`s (a thread each: PyAV/FFmpeg demuxing RTSP over TCP) each followed by a
`Recorder` (packets remuxed without transcoding into MPEG-TS, {seg:g} s segments cut at keyframes; all
recorders driven by one pump thread, 4 turns a second; finished segments sealed and fsynced by another)
writing through a real `SegmentStore` (AES-256-GCM sealed chunks under a per-day key, SQLite segment
index) on a temporary directory. After every stream has started writing and 2 s more, the counters are
read, then again {seconds:g} s later: received
frames/s per stream, stream time received per wall second (a stream that falls behind real time shows
< 1), packets lost, CPU time (utime + stime from /proc/<pid>/stat) of this process, of its capture
threads and of its recording pump (/proc/self/task), and of the server process. Kept real time: every
stream online, every stream >= {ratio} stream seconds per second, nothing dropped, no recorder queue
holding over 1 s of video. All streams share the server's one pipeline, so their keyframes arrive together
and every recorder cuts a segment in the same turn: the worst case for the pump (real cameras' keyframes
are spread out)."""


def section(f: RecordingFigures, when: datetime | None = None) -> str:
    when = when or datetime.now(UTC)
    lines = [SECTION_TITLE, "", f"Run {when:%Y-%m-%d %H:%M} UTC on {machine()}; load average {f.load_at_start:.1f} "
             f"when the run began; window {f.seconds:.1f} s.", "",
             "| measurement | result | target |", "| --- | --- | --- |"]
    lines += [f"| {' | '.join(r)} |" for r in rows(f)]
    lines += ["", HOW.format(streams=f.streams, seconds=f.requested_s, seg=SEGMENT_SECONDS, ratio=MIN_TIME_RATIO), ""]
    return "\n".join(lines)
