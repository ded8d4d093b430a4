"""One camera's RTSP connection: a thread demuxes the stream with PyAV and fans its packets out to subscribers.

The thread reconnects with exponential back-off (1 s doubling to 30 s, with jitter) after any error, end of
stream or corrupt data, keeps health figures (online, fps, bitrate, last frame) and raises the
`camera_offline` alarm while the camera cannot be read. The URL carries the camera's password: only its
redacted form ever appears in a log, an error or a health report.
"""

from __future__ import annotations

import errno
import logging
import random
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime

import av

from openrtcc.domain.clock import Clock
from openrtcc.domain.edge_protocol import CameraHealth
from openrtcc.edge.alarms import Alarms
from openrtcc.edge.packets import EncodedPacket, StreamInfo
from openrtcc.edge.packet_queue import PacketFanout, PacketQueue
from openrtcc.edge.url_guard import redact

log = logging.getLogger(__name__)

DEFAULT_RATE = 15  # frames/s assumed for timestamp repair when the stream declares none


@dataclass(frozen=True, slots=True)
class CaptureOptions:
    open_timeout_s: float = 3.0  # connect + RTSP handshake; also how long stop() may wait mid-connect
    read_timeout_s: float = 5.0  # no data for this long: the connection is dead (FFmpeg's socket timeout)
    backoff_first_s: float = 1.0
    backoff_max_s: float = 30.0
    stats_window_s: int = 5  # fps and bitrate are averaged over this many whole seconds


class CameraCapture:
    """`start()` the thread, `subscribe()` for packets (a PacketSource), `health()` for the hub, `stop()`."""

    def __init__(self, camera_id: str, url: str, clock: Clock, alarms: Alarms,
                 options: CaptureOptions = CaptureOptions()):
        self.camera_id = camera_id
        self._url = url
        self.redacted_url = redact(url)
        self._clock = clock
        self._alarms = alarms
        self.options = options
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._fanout = PacketFanout()
        self.info: StreamInfo | None = None
        self._online = False
        self._error: str | None = None
        self._last_frame_at: datetime | None = None
        self._buckets: deque[list[int]] = deque(maxlen=options.stats_window_s + 2)  # [second, packets, bytes]
        self._online_since = 0  # whole monotonic second of the first packet of this connection
        self.attempts = 0  # connection attempts, for tests and the bench
        self.packets = 0
        self.last_dts: int | None = None  # of the last packet (the stream's time base: info.time_base)

    # ------------------------------------------------------------ the PacketSource side

    def subscribe(self, max_queue: int = 240) -> PacketQueue:
        return self._fanout.subscribe(max_queue, self.info)

    # ------------------------------------------------------------ lifecycle

    def start(self) -> CameraCapture:
        self._thread = threading.Thread(target=self._run, name=f"capture-{self.camera_id}", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float | None = None) -> bool:
        """Ask the thread to end and wait for it; True when it has. A thread blocked in a connect ends
        within open_timeout_s, one in a read as soon as the next packet arrives (or read_timeout_s)."""
        self._stop.set()
        if self._thread is None:
            return True
        self._thread.join(self.options.open_timeout_s + 1 if timeout is None else timeout)
        self._fanout.close_all()
        return not self._thread.is_alive()

    def health(self) -> CameraHealth:
        """fps and bitrate over the last whole seconds (up to stats_window_s) of the current connection;
        None until it has lasted a whole second."""
        now = int(time.monotonic())
        start = max(self._online_since, now - self.options.stats_window_s)
        seconds = now - start
        fps = kbps = None
        if self._online and seconds > 0:
            recent = [b for b in list(self._buckets) if start <= b[0] < now]
            fps = round(sum(b[1] for b in recent) / seconds, 2)
            kbps = round(sum(b[2] for b in recent) * 8 / 1000 / seconds, 1)
        return CameraHealth(camera_id=self.camera_id, online=self._online, fps=fps, bitrate_kbps=kbps,
                            last_frame_at=self._last_frame_at, error=self._error)

    # ------------------------------------------------------------ the capture thread

    def _run(self) -> None:
        delay = self.options.backoff_first_s
        while not self._stop.is_set():
            try:
                received = self._session()
            except Exception as exc:  # whatever broke, the camera is retried; the thread never dies of it
                # Only the type: an exception's text may hold the URL and its password.
                log.error("camera %s: capture failed (%s); retrying", self.camera_id, type(exc).__name__)
                self._failed(f"the capture failed ({type(exc).__name__})")
                received = False
            if self._stop.is_set():
                break
            if received:
                delay = self.options.backoff_first_s
            self._stop.wait(delay * random.uniform(0.8, 1.2))  # jitter: cameras behind one switch don't retry in step
            delay = min(delay * 2, self.options.backoff_max_s)
        self._online = False

    def _session(self) -> bool:
        """One connection, read until it fails; True when packets were received."""
        self.attempts += 1
        began = time.monotonic()
        try:
            container = av.open(self._url, options=self._ffmpeg_options(), timeout=(self.options.open_timeout_s, None))
        except av.FFmpegError as exc:
            # An interrupted open reports whatever the interrupted call last saw: the clock tells.
            timed_out = time.monotonic() - began >= self.options.open_timeout_s * 0.9
            self._failed(f"no answer within {self.options.open_timeout_s:g} s" if timed_out
                         else self._describe(exc, opening=True))
            return False
        except Exception as exc:  # PyAV raises plain errors for some broken answers too
            self._failed(f"cannot open the stream ({type(exc).__name__})")
            return False
        received = False
        try:
            if not container.streams.video:
                self._failed("the stream holds no video")
                return False
            received = self._read(container, container.streams.video[0])
            if not self._stop.is_set():
                self._failed("the stream ended")
        except av.FFmpegError as exc:
            self._failed(self._describe(exc, opening=False))
        finally:
            try:
                container.close()
            except Exception:  # a dead connection's TEARDOWN may fail: nothing to do about it
                pass
        return received

    def _ffmpeg_options(self) -> dict[str, str]:
        # TCP: RTP over UDP loses packets on a busy network. `timeout` is FFmpeg's socket timeout, so a
        # silent camera fails the read without PyAV's read timeout, whose interrupt callback takes the GIL
        # on every socket call (which 100 cameras cannot afford). A tiny probe: the SDP carries what the
        # muxer and decoders need, and probing for more only delays the first packet by seconds.
        return {"rtsp_transport": "tcp", "timeout": str(int(self.options.read_timeout_s * 1_000_000)),
                "probesize": "32", "analyzeduration": "0", "fflags": "nobuffer"}

    def _read(self, container, stream) -> bool:
        info = stream_info(stream)
        self.info = info
        repair = TimestampRepair(stream)
        gap = True  # a new connection: consumers start a new segment / decoder at its first keyframe
        received = False
        for packet in container.demux(stream):
            if self._stop.is_set():
                break
            if packet.size == 0:
                continue  # the demuxer's end-of-stream flush
            for ready in repair.push(packet):
                self._publish(ready, info, gap)
                gap = False
            if not received:
                received = True
                self._came_online()
        return received

    def _publish(self, packet, info: StreamInfo, gap: bool) -> None:
        now = self._clock.now()
        self._last_frame_at = now
        item = EncodedPacket(packet, packet.pts, packet.dts, packet.is_keyframe, now, gap)
        second = int(time.monotonic())
        buckets = self._buckets
        if not buckets or buckets[-1][0] != second:
            buckets.append([second, 0, 0])
        bucket = buckets[-1]
        bucket[1] += 1
        bucket[2] += packet.size
        self.packets += 1
        self.last_dts = packet.dts
        self._fanout.publish(item, info)

    def _came_online(self) -> None:
        self._online_since = int(time.monotonic()) + 1  # the first whole second
        self._online = True
        self._error = None
        self._alarms.clear("camera_offline", self.camera_id)
        log.info("camera %s online (%s)", self.camera_id, self.redacted_url)

    def _failed(self, reason: str) -> None:
        was_online = self._online
        self._online = False
        self._error = f"{self.redacted_url}: {reason}"[:300]
        self._alarms.raise_("camera_offline", self._error, self.camera_id)
        if was_online:
            log.warning("camera %s offline: %s", self.camera_id, self._error)

    def _describe(self, exc: av.FFmpegError, opening: bool) -> str:
        # str(exc) names the URL (with its password): only the reason is used.
        code = getattr(exc, "errno", None)
        reason = (getattr(exc, "strerror", None) or type(exc).__name__).strip()
        if isinstance(exc, av.ExitError) or code == errno.ETIMEDOUT:
            limit = self.options.open_timeout_s if opening else self.options.read_timeout_s
            return f"no answer within {limit:g} s"
        if code == errno.ECONNREFUSED:
            return "connection refused (nothing listens on that port)"
        if isinstance(exc, av.InvalidDataError):
            return "corrupt or unexpected data: not an RTSP video stream this box can read"
        if "401" in reason:
            return "the camera refused the user name or password (401)"
        return f"cannot read the stream: {reason}"


def stream_info(stream) -> StreamInfo:
    ctx = stream.codec_context
    rate = stream.average_rate or (stream.guessed_rate if stream.guessed_rate and stream.guessed_rate <= 120 else None)
    return StreamInfo(codec_name=ctx.name, extradata=bytes(ctx.extradata) if ctx.extradata else None,
                      width=ctx.width, height=ctx.height, time_base=stream.time_base, average_rate=rate)


class TimestampRepair:
    """RTSP's first packets can come without a timestamp (FFmpeg has no RTCP report to place them yet): they
    are held until the first stamped packet and given the times of the frames just before it."""

    MAX_HELD = 30

    def __init__(self, stream):
        rate = stream.average_rate or DEFAULT_RATE
        self.step = max(1, round(1 / (float(rate) * float(stream.time_base)))) if stream.time_base else 1
        self.held: list = []
        self.last: int | None = None

    def push(self, packet) -> list:
        if packet.pts is not None:
            if packet.dts is None:
                packet.dts = packet.pts
            self.last = packet.dts
            if not self.held:
                return [packet]
            held, self.held = self.held, []
            for i, early in enumerate(held):
                early.pts = early.dts = packet.dts - (len(held) - i) * self.step
            return [*held, packet]
        if self.last is not None:
            self.last += self.step
            packet.pts = packet.dts = self.last
            return [packet]
        self.held.append(packet)
        if len(self.held) > self.MAX_HELD:  # a stream that never stamps its packets: number them
            held, self.held = self.held, []
            for i, early in enumerate(held):
                early.pts = early.dts = i * self.step
            self.last = held[-1].dts
            return held
        return []
