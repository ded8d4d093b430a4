"""`rtcc alpr read`: plates in images, videos and rtsp:// streams, one JSON line per image or vehicle pass.

stdout carries only the JSON lines (other tools parse it); everything else goes to stderr. A source that
cannot be read gets one stderr line naming it and why, and the rest are still read; the exit status is
non-zero only when nothing could be read (1), or when the reader itself cannot start (2)."""

from __future__ import annotations

import json
import logging
import re
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from openrtcc.adapters.video.media_kind import UnreadableMedia, kind_of_file
from openrtcc.domain.plates import PlateReading
from openrtcc.services.plate_passes import PassFound, PassOptions, PassStats, find_passes

log = logging.getLogger(__name__)

_REGION = re.compile(r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")


class ReaderUnavailable(Exception):
    """The plate reader cannot be built (model files missing or broken, bad settings)."""


def run_alpr(args) -> int:
    if args.alpr_command != "read":
        raise ValueError(f"unknown alpr command {args.alpr_command!r}")
    try:
        region = _region(args.region)
        media_dir = _media_dir(args.media_dir)
    except ValueError as e:
        print(f"rtcc alpr read: {e}", file=sys.stderr)
        return 2
    session = ReadSession(Path(args.model_dir) if args.model_dir else None, region, media_dir, sys.stdout)
    read_any = False
    with stop_on_signals() as stop:
        for target in args.paths:
            if stop.is_set():
                break
            try:
                session.read(target, stop)
                read_any = True
            except UnreadableMedia as e:
                print(f"{target}: {e}", file=sys.stderr, flush=True)
            except ReaderUnavailable as e:
                print(f"rtcc alpr read: cannot start the plate reader: {e}", file=sys.stderr)
                return 2
    return 0 if read_any else 1


def _region(value: str | None) -> str | None:
    if value is None:
        return None
    region = value.strip().upper()
    if not _REGION.match(region):
        raise ValueError(f"--region {value!r}: expected a country or country-state code such as US-CA or BR")
    return region


def _media_dir(value: str | None) -> Path | None:
    if value is None:
        return None
    path = Path(value)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ValueError(f"--media-dir {value}: {e.strerror or e}") from None
    return path


@contextmanager
def stop_on_signals() -> Iterator[threading.Event]:
    """SIGINT and SIGTERM ask for a clean finish (passes in progress are still emitted); a second one
    interrupts at once."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def ask(signum, _frame):
        if stop.is_set():
            raise KeyboardInterrupt
        log.info("signal %s: finishing", signal.Signals(signum).name)
        stop.set()

    previous = {s: signal.signal(s, ask) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


class ReadSession:
    """Reads one source after another with one plate reader, built on first need."""

    def __init__(self, model_dir: Path | None, region: str | None, media_dir: Path | None, out: TextIO):
        self.model_dir, self.region, self.media_dir, self.out = model_dir, region, media_dir, out
        self._reader = None

    @property
    def reader(self):
        if self._reader is None:
            from openrtcc.adapters.alpr.model_files import ModelFilesError
            from openrtcc.adapters.alpr.reader import build_plate_reader
            from openrtcc.config import Settings

            try:
                self._reader = build_plate_reader(Settings(), self.model_dir)
            except (ModelFilesError, ValueError, OSError) as e:
                raise ReaderUnavailable(str(e)) from None
        return self._reader

    def read(self, target: str, stop: threading.Event) -> None:
        from openrtcc.adapters.video.video_frames import check_stream_url, is_stream_url

        if is_stream_url(target):
            self.read_video(check_stream_url(target), stop)
            return
        kind = kind_of_file(Path(target))
        if kind.is_image:
            self.read_image(target, kind)
        else:
            self.read_video(target, stop)

    def read_image(self, target: str, kind) -> None:
        from openrtcc.adapters.video.images import read_image

        image = read_image(Path(target), kind)
        readings = sorted(self.reader.read(image, self.region), key=lambda r: r.confidence, reverse=True)
        self._emit({"source": target, "frame": None, "plates": [plate_json(r) for r in readings]})

    def read_video(self, target: str, stop: threading.Event) -> None:
        from openrtcc.adapters.video.motion import MotionGate
        from openrtcc.adapters.video.video_frames import VideoSource

        reader = self.reader  # before opening: a stream must not wait on model loading
        source = VideoSource(target)
        stats = PassStats()
        options = PassOptions(fps=source.fps, live=source.live, region_hint=self.region)
        try:
            for found in find_passes(source, reader, MotionGate(), options, stats, should_stop=stop.is_set):
                self._emit(self._pass_line(target, found))
        finally:
            source.close()
            log.info("%s: %d frames (%.0f/s), motion in %d, reader on %d (%.0f ms each), %d live skips, "
                     "%d passes", target, stats.frames, stats.frames_per_second, stats.motion_frames,
                     stats.read_frames, 1000 * stats.read_seconds / max(stats.read_frames, 1),
                     stats.lag_skipped, stats.passes)

    def _pass_line(self, target: str, found: PassFound) -> dict:
        from openrtcc.adapters.video.pass_media import write_pass_media
        from openrtcc.adapters.video.vehicle_colour import vehicle_look

        p = found.vehicle_pass
        c = p.consensus
        plate = PlateReading(text=c.text, confidence=c.confidence, box=p.best.reading.box, region=c.region,
                             candidates=c.candidates)
        line = {"source": target, "frame": p.best.frame, "plates": [plate_json(plate)]}
        look = vehicle_look(found.image, p.best.reading.box) if found.image is not None else None
        line["vehicle"] = {"colour": look.colour if look else None, "type": None}
        if self.media_dir is not None and found.image is not None:
            try:
                crop, snapshot = write_pass_media(self.media_dir, target, p.best.frame, found.image,
                                                  p.best.reading.box)
                line["crop"], line["snapshot"] = str(crop), str(snapshot)
            except OSError as e:
                log.warning("%s: frame %d: could not write the pass's images: %s", target, p.best.frame, e)
        return line

    def _emit(self, line: dict) -> None:
        # One line, flushed: a consumer of a live stream sees each pass as soon as it completes.
        self.out.write(json.dumps(line, separators=(",", ":")) + "\n")
        self.out.flush()


def plate_json(r: PlateReading) -> dict:
    return {"text": r.text, "confidence": r.confidence, "box": [int(v) for v in r.box], "region": r.region,
            "candidates": [{"text": c.text, "confidence": c.confidence} for c in r.candidates]}
