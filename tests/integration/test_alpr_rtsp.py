"""rtsp:// sources against a real RTSP server: passes emitted as they complete, a clean stop on SIGINT, an
empty scene kept off the reader, and a dead URL failing fast."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import threading
import time

import pytest

from openrtcc.adapters.alpr.reader import OnnxPlateReader, ReaderOptions
from openrtcc.adapters.video.motion import MotionGate
from openrtcc.adapters.video.video_frames import VideoSource
from openrtcc.services.plate_passes import PassOptions, PassStats, find_passes
from tests.alpr_cli import MODELS, assert_contract, cli_command, cli_env, require_alpr_files, run_read
from tests.rtsp import rtsp_server  # noqa: F401  (the fixture)


@pytest.fixture(scope="module", autouse=True)
def _files():
    require_alpr_files()


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_live_stream_emits_passes_as_they_complete_and_stops_on_a_signal(rtsp_server, stop):  # noqa: F811
    url = rtsp_server.url("cars")
    proc = subprocess.Popen(cli_command(url), env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    lines: list[str] = []
    first = threading.Event()

    def collect():
        for line in proc.stdout:
            lines.append(line)
            first.set()

    reader_thread = threading.Thread(target=collect, daemon=True)
    reader_thread.start()
    try:
        # The first car leaves the booth about 5 s into the stream: its line comes while the stream runs.
        assert first.wait(60), f"no pass within 60 s: {proc.stderr.read() if proc.poll() is not None else ''}"
        assert proc.poll() is None, "the stream was still live: the line came as the pass completed"
        proc.send_signal(stop)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    reader_thread.join(5)
    stderr = proc.stderr.read()
    assert f"signal {stop.name}: finishing" in stderr
    parsed = [json.loads(line) for line in lines]
    assert parsed
    for line in parsed:
        assert_contract(line)
        assert line["source"] == url and line["vehicle"]["type"] is None


@pytest.mark.parametrize("mount", ["static", "noisy"])
def test_an_empty_scene_on_a_stream_costs_the_reader_almost_nothing(rtsp_server, mount):  # noqa: F811
    """A still scene, and one with a patch of snow changing in every frame (grain, rain): the gate's
    block-averaged image smooths the snow away, so neither wakes the reader after the first frame."""
    reader = OnnxPlateReader.from_dir(MODELS, ReaderOptions(threads=1))
    source = VideoSource(rtsp_server.url(mount))
    stats = PassStats()
    try:
        assert 14 <= source.fps <= 16
        passes = list(find_passes(source, reader, MotionGate(), PassOptions(fps=source.fps, live=True), stats,
                                  should_stop=lambda: stats.frames >= 45))
    finally:
        source.close()
    assert passes == []
    assert stats.frames == 45
    assert stats.read_frames <= 1  # the first frame only


def test_dead_stream_urls_fail_fast_naming_the_url():
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)  # accepts connections, never answers a word of RTSP
    refused = socket.socket()
    refused.bind(("127.0.0.1", 0))
    closed_port = refused.getsockname()[1]
    refused.close()
    silent_url = f"rtsp://127.0.0.1:{silent.getsockname()[1]}/cam"
    closed_url = f"rtsps://127.0.0.1:{closed_port}/cam"
    began = time.monotonic()
    try:
        done = run_read(silent_url, closed_url, timeout=60)
    finally:
        silent.close()
    assert time.monotonic() - began < 30
    assert done.returncode == 1 and done.stdout == ""
    (silent_line,) = done.stderr_lines_naming(silent_url)
    assert "no answer within 5 s" in silent_line
    (closed_line,) = done.stderr_lines_naming(closed_url)
    assert "cannot read the stream" in closed_line
