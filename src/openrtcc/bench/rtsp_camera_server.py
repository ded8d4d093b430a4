"""Test cameras: a real RTSP server (GStreamer's rtsp-server) run by Debian's /usr/bin/python3, which has the
`gi` bindings that a uv virtualenv lacks; `CameraServer` starts it from the virtualenv (tests, `rtcc bench edge`).

Mounts, on 127.0.0.1 and the given port (0: one the kernel picks; printed as `READY <port>` on stdout):
  /cars       the --file H.264 mp4, looping forever in real time: the next loop follows the last frame of the
              previous one and timestamps keep increasing (the clip's access units are read into memory once
              and fed by an appsrc); shared: every client joins the one stream where it is
  /cars-once  the same file from its start for each client (its own pipeline), ending with it
  /NAME       for each --loop NAME=FILE: that mp4 looping as /cars does
  /pattern    a moving 1280x720 test pattern (SMPTE bars scrolling), H.264 at 25 fps, 2 Mbit/s, a keyframe
              every second, shared
  /clock      1280x720 at 25 fps whose top band encodes the sender's wall clock in milliseconds, drawn as the
              frame is made (see openrtcc/bench/clock_pattern.py for the encoding and its decoder), shared
  /clock_sub  the same clock as the camera's 640x360 substream (25 fps, 600 kbit/s), encoded once however
              many clients, shared: a video wall's tile is drawn from it, as a real wall uses substreams
  /static     a still test pattern encoded to H.264 (an empty scene: nothing ever moves), never ending
  /noisy      the SMPTE pattern, whose corner patch of random noise changes in every frame (as leaves or rain
              do), otherwise still, never ending
Exit status 3 with a line on stderr when GStreamer or one of its plugins is missing.

This file imports only the standard library at module level, so the virtualenv can import `CameraServer`.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

SYSTEM_PYTHON = Path("/usr/bin/python3")
INSTALL = ("apt-get install -y gstreamer1.0-rtsp gir1.2-gst-rtsp-server-1.0 python3-gst-1.0 "
           "gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav")
MISSING_EXIT = 3
NEEDED_ELEMENTS = ("qtdemux", "h264parse", "rtph264pay", "videotestsrc", "x264enc", "appsrc", "appsink")
X264 = "x264enc tune=zerolatency speed-preset=ultrafast"


class CameraServerUnavailable(RuntimeError):
    """GStreamer's RTSP server (or a plugin it needs) is not installed; the message says what to install."""


class CameraServer:
    """The server process, started from the uv virtualenv. `stop()` (or a with-block) ends it."""

    def __init__(self, video: Path, loops: dict[str, Path] | None = None, port: int = 0,
                 start_timeout_s: float = 30.0):
        if not SYSTEM_PYTHON.is_file():
            raise CameraServerUnavailable(f"Debian's python3 with GStreamer bindings is missing. Install: {INSTALL}")
        command = [str(SYSTEM_PYTHON), str(Path(__file__).resolve()), "--file", str(video), "--port", str(port)]
        for name, path in (loops or {}).items():
            command += ["--loop", f"{name}={path}"]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # Drained all along: a pipe nobody reads fills up with GStreamer's warnings and stalls the server.
        self._stderr: deque[str] = deque(maxlen=200)
        self._drain = threading.Thread(target=self._stderr.extend, args=(self.process.stderr,), daemon=True)
        self._drain.start()
        self.port = self._wait_ready(start_timeout_s)

    def _wait_ready(self, timeout_s: float) -> int:
        timer = threading.Timer(timeout_s, self.process.kill)
        timer.start()
        try:
            first = self.process.stdout.readline()
        finally:
            timer.cancel()
        if first.startswith("READY "):
            return int(first.split()[1])
        self.process.wait(timeout=10)
        self._drain.join(5)
        err = "".join(self._stderr).strip()
        if self.process.returncode == MISSING_EXIT:
            raise CameraServerUnavailable(f"GStreamer RTSP server: {err}. Install: {INSTALL}")
        raise RuntimeError(f"the RTSP camera server did not start (exit {self.process.returncode}): {err}")

    @property
    def pid(self) -> int:
        return self.process.pid

    def url(self, mount: str) -> str:
        return f"rtsp://127.0.0.1:{self.port}/{mount}"

    def stop(self) -> str:
        """End the server; returns what it wrote on stderr."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._drain.join(5)
        return "".join(self._stderr)

    def __enter__(self) -> CameraServer:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


# ---- the server itself (Debian's python3 with gi) -------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class AccessUnit:
    data: bytes
    pts: int  # ns from the clip's first frame
    duration: int  # ns
    delta: bool  # not a keyframe


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--file", required=True, help="an mp4 holding H.264 video (mounted at /cars)")
    parser.add_argument("--loop", action="append", default=[], metavar="NAME=FILE",
                        help="another mp4 to serve in a loop at /NAME")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    try:
        import gi

        gi.require_version("Gst", "1.0")
        gi.require_version("GstRtspServer", "1.0")
        from gi.repository import GLib, Gst, GstRtspServer
    except (ImportError, ValueError) as e:
        print(f"missing GStreamer RTSP server bindings: {e}", file=sys.stderr)
        return MISSING_EXIT
    Gst.init(None)
    missing = [name for name in NEEDED_ELEMENTS if Gst.ElementFactory.find(name) is None]
    if missing:
        print(f"missing GStreamer elements: {', '.join(missing)}", file=sys.stderr)
        return MISSING_EXIT
    loops = {"cars": args.file}
    for spec in args.loop:
        name, _, path = spec.partition("=")
        if not name.isidentifier() or not path:
            print(f"--loop wants NAME=FILE, got {spec!r}", file=sys.stderr)
            return 2
        loops[name] = path
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    try:
        mount_all(Gst, GstRtspServer, server.get_mount_points(), loops, args.file)
    except RuntimeError as e:
        print(str(e), file=sys.stderr)
        return 1
    if server.attach(None) == 0:
        print(f"could not bind the RTSP server to port {args.port}", file=sys.stderr)
        return 1
    print(f"READY {server.get_bound_port()}", flush=True)
    loop = GLib.MainLoop()
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, lambda: loop.quit() or False)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGINT, lambda: loop.quit() or False)
    loop.run()
    return 0


def mount_all(Gst, GstRtspServer, mounts, loops: dict[str, str], once_file: str) -> None:
    for name, path in loops.items():
        caps, units = load_access_units(Gst, path)
        mounts.add_factory(f"/{name}", appsrc_factory(
            GstRtspServer, "( appsrc name=src format=time ! rtph264pay name=pay0 pt=96 config-interval=1 )",
            lambda appsrc, caps=caps, units=units: LoopFeeder(Gst, appsrc, caps, units)))
    location = once_file.replace("\\", "\\\\").replace('"', '\\"')
    mounts.add_factory("/cars-once", launch_factory(
        GstRtspServer, f'( filesrc location="{location}" ! qtdemux ! h264parse ! '
                       "rtph264pay name=pay0 pt=96 config-interval=1 )", shared=False))
    mounts.add_factory("/pattern", launch_factory(
        GstRtspServer, "( videotestsrc pattern=smpte horizontal-speed=4 is-live=true ! "
                       "video/x-raw,width=1280,height=720,framerate=25/1 ! "
                       f"{X264} key-int-max=25 bitrate=2000 ! video/x-h264,profile=baseline ! "
                       "rtph264pay name=pay0 pt=96 config-interval=1 )", shared=True))
    for mount, (width, height, kbps) in (("/clock", (1280, 720, 2000)), ("/clock_sub", (640, 360, 600))):
        mounts.add_factory(mount, appsrc_factory(
            GstRtspServer, "( appsrc name=src is-live=true do-timestamp=true format=time ! "
                           f"{X264} key-int-max=25 bitrate={kbps} ! video/x-h264,profile=baseline ! "
                           "rtph264pay name=pay0 pt=96 config-interval=1 )",
            lambda appsrc, w=width, h=height: ClockFeeder(Gst, appsrc, w, h)))
    for mount, pattern in (("/static", "smpte75"), ("/noisy", "smpte")):
        mounts.add_factory(mount, launch_factory(
            GstRtspServer, f"( videotestsrc pattern={pattern} is-live=true ! "
                           "video/x-raw,width=640,height=360,framerate=15/1 ! "
                           f"{X264} key-int-max=15 ! video/x-h264,profile=baseline ! "
                           "rtph264pay name=pay0 pt=96 config-interval=1 )", shared=False))


def launch_factory(GstRtspServer, launch: str, shared: bool):
    f = GstRtspServer.RTSPMediaFactory()
    f.set_launch(launch)
    # Shared: one pipeline however many clients (100 recorders cost the server one stream's work). Not
    # shared: each client's own pipeline from the start, so tests that expect the clip's beginning get it.
    f.set_shared(shared)
    return f


def appsrc_factory(GstRtspServer, launch: str, make_feeder):
    f = launch_factory(GstRtspServer, launch, shared=True)
    feeders = {}

    def configure(_factory, media):
        appsrc = media.get_element().get_by_name("src")
        feeders[id(media)] = make_feeder(appsrc)  # kept alive as long as its media
        media.connect("unprepared", lambda m: feeders.pop(id(m), None))

    f.connect("media-configure", configure)
    return f


def load_access_units(Gst, path: str) -> tuple[object, list[AccessUnit]]:
    """The clip's H.264 access units (avc, as in the mp4) with their timing, read once into memory."""
    pipeline = Gst.parse_launch(f'filesrc location="{path}" ! qtdemux ! h264parse ! '
                                "video/x-h264,stream-format=avc,alignment=au ! appsink name=sink sync=false")
    sink = pipeline.get_by_name("sink")
    pipeline.set_state(Gst.State.PLAYING)
    units: list[AccessUnit] = []
    caps = None
    try:
        while True:
            sample = sink.emit("try-pull-sample", 5 * Gst.SECOND)
            if sample is None:
                error = pipeline.get_bus().pop_filtered(Gst.MessageType.ERROR)
                if error is not None:
                    raise RuntimeError(f"cannot read {path}: {error.parse_error()[0].message}")
                if sink.get_property("eos"):
                    break
                raise RuntimeError(f"cannot read {path}: no frames within 5 s")
            caps = caps or sample.get_caps()
            buf = sample.get_buffer()
            units.append(AccessUnit(buf.extract_dup(0, buf.get_size()), buf.pts, buf.duration,
                                    bool(buf.get_flags() & Gst.BufferFlags.DELTA_UNIT)))
    finally:
        pipeline.set_state(Gst.State.NULL)
    if not units or caps is None:
        raise RuntimeError(f"no H.264 video in {path}")
    first = units[0].pts
    frame = units[1].pts - first if len(units) > 1 else 40_000_000
    units = [AccessUnit(u.data, u.pts - first, u.duration if u.duration != Gst.CLOCK_TIME_NONE else frame, u.delta)
             for u in units]
    return caps, units


class LoopFeeder:
    """Feeds a clip's access units into an appsrc, loop after loop, each loop's timestamps following on
    from the last: the sink plays them out in real time, and the stream never ends."""

    def __init__(self, Gst, appsrc, caps, units: list[AccessUnit]):
        self.Gst = Gst
        self.units = units
        self.loop_ns = units[-1].pts + units[-1].duration
        self.index = 0
        self.offset = 0
        appsrc.set_property("caps", caps)
        appsrc.set_property("max-bytes", 2_000_000)
        appsrc.connect("need-data", self.need_data)

    def need_data(self, appsrc, _length) -> None:
        unit = self.units[self.index]
        buf = self.Gst.Buffer.new_wrapped(unit.data)
        buf.pts = buf.dts = self.offset + unit.pts
        buf.duration = unit.duration
        if unit.delta:
            buf.set_flags(self.Gst.BufferFlags.DELTA_UNIT)
        self.index += 1
        if self.index == len(self.units):
            self.index, self.offset = 0, self.offset + self.loop_ns
        appsrc.emit("push-buffer", buf)


class ClockFeeder:
    """Makes I420 frames (1280x720 unless told) at 25 fps, each stamped with the wall clock as it is made (the
    band at the top, scaled with the width), with a grey bar moving down the rest so the picture changes.

    One frame is kept and only its band and bar are redrawn: building each 1.4 MB frame anew (three copies,
    fresh memory each time) cost the server more CPU than encoding it, CPU a wall benchmark's box and browser
    need on the same two cores."""

    FPS = 25
    GREY, BAR = 80, 200

    def __init__(self, Gst, appsrc, width: int = 1280, height: int = 720):
        import clock_pattern  # beside this file; the server runs as a script, so its folder is on sys.path

        self.Gst = Gst
        self.pattern = clock_pattern
        self.frame = 0
        self.next_at = time.monotonic()
        self.WIDTH, self.HEIGHT = w, h = width, height
        self.band_rows = clock_pattern.band_height(h)
        self.bar_rows = max(2, 40 * h // 720)
        self.picture = bytearray([self.GREY]) * (w * h) + bytearray([128]) * (w * h // 2)  # luma, then chroma
        self.grey_bar = bytes([self.GREY]) * (self.bar_rows * w)
        self.white_bar = bytes([self.BAR]) * (self.bar_rows * w)
        self.bar_at: int | None = None  # first row of the bar drawn in the picture
        caps = Gst.Caps.from_string(f"video/x-raw,format=I420,width={w},height={h},framerate={self.FPS}/1")
        appsrc.set_property("caps", caps)
        appsrc.connect("need-data", self.need_data)

    def need_data(self, appsrc, _length) -> None:
        # appsrc's own streaming thread: waiting here paces the live source.
        delay = self.next_at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        self.next_at = max(self.next_at + 1 / self.FPS, time.monotonic() - 1)
        w, pic = self.WIDTH, self.picture
        if self.bar_at is not None:
            pic[self.bar_at * w:(self.bar_at + self.bar_rows) * w] = self.grey_bar
        rows = self.HEIGHT - self.band_rows
        self.bar_at = self.band_rows + (self.frame * 8 * self.HEIGHT // 720) % (rows - self.bar_rows)
        pic[self.bar_at * w:(self.bar_at + self.bar_rows) * w] = self.white_bar
        # The band last: the clock is read as close to the push as possible.
        pic[:self.band_rows * w] = b"".join(self.pattern.band_rows(self.pattern.clock_value(time.time_ns()), w))
        self.frame += 1
        appsrc.emit("push-buffer", self.Gst.Buffer.new_wrapped(bytes(pic)))  # bytes: one copy; a bytearray is slow


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    sys.exit(main())
