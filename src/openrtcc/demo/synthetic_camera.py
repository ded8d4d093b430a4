"""A camera for the demo's edge box: a moving test scene encoded with libx264 in-process, in real time.

It stands where the box's RTSP capture stands (a PacketSource with start/stop/health), so the box records,
masks and streams it exactly as it would a real camera, on a machine with no camera and no RTSP server.
Packets look like an RTSP camera's: Annex B H.264 with SPS/PPS on every keyframe, a 90 kHz time base.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from fractions import Fraction

import av
import cv2
import numpy as np

from openrtcc.domain.clock import Clock
from openrtcc.domain.edge_protocol import CameraHealth
from openrtcc.edge.packet_queue import PacketFanout, PacketQueue
from openrtcc.edge.packets import EncodedPacket, StreamInfo

log = logging.getLogger(__name__)

TIME_BASE = Fraction(1, 90_000)  # RTP's video clock, as a real camera's stream has
START_CODE = b"\x00\x00\x01"
PARAMETER_SETS = (7, 8)  # SPS, PPS
HEALTH_WINDOW_S = 5.0


def parameter_sets(annex_b: bytes) -> bytes:
    """The SPS and PPS NAL units of a keyframe, as the extradata an RTSP camera's SDP would give."""
    units = [u for u in annex_b.split(START_CODE) if u]
    wanted = [u.rstrip(b"\x00") for u in units if u[0] & 0x1F in PARAMETER_SETS]
    return b"".join(b"\x00\x00\x00\x01" + u for u in wanted)


class SyntheticScene:
    """Draws the frames: a street-like backdrop, a 'car' crossing it, the camera's name and the time."""

    def __init__(self, name: str, width: int, height: int):
        self.name, self.width, self.height = name, width, height
        backdrop = np.full((height, width, 3), (70, 90, 60), np.uint8)  # verge
        cv2.rectangle(backdrop, (0, height * 55 // 100), (width, height * 85 // 100), (60, 60, 60), -1)  # road
        for x in range(0, width, 60):
            cv2.line(backdrop, (x, height * 70 // 100), (x + 30, height * 70 // 100), (220, 220, 220), 3)
        # A house front across the top right: where the demo's privacy mask goes (the neighbour's windows).
        cv2.rectangle(backdrop, (width * 66 // 100, height * 8 // 100), (width * 96 // 100, height * 46 // 100),
                      (120, 150, 190), -1)
        for wx in (70, 80):
            cv2.rectangle(backdrop, (width * wx // 100, height * 15 // 100),
                          (width * (wx + 6) // 100, height * 30 // 100), (240, 230, 160), -1)
        self._backdrop = backdrop

    def draw(self, index: int, fps: int, stamp: str) -> np.ndarray:
        frame = self._backdrop.copy()
        w, h = self.width, self.height
        x = int((index * 6) % (w + 160)) - 120  # crosses the frame every ~12 s at 10 fps
        cv2.rectangle(frame, (x, h * 60 // 100), (x + 110, h * 78 // 100), (40, 40, 200), -1)
        cv2.rectangle(frame, (x + 20, h * 52 // 100), (x + 85, h * 62 // 100), (40, 40, 170), -1)
        cv2.putText(frame, self.name, (12, 30), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (255, 255, 255), 2, cv2.LINE_AA)
        cv2.putText(frame, stamp, (12, h - 14), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (255, 255, 255), 2, cv2.LINE_AA)
        cv2.putText(frame, f"frame {index}", (w - 170, h - 14), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (200, 200, 200),
                    1, cv2.LINE_AA)
        return frame


class SyntheticCamera:
    """`start()` the encoding thread, `subscribe()` for packets (a PacketSource), `health()`, `stop()`."""

    def __init__(self, camera_id: str, name: str, clock: Clock, *, width: int = 640, height: int = 360,
                 fps: int = 10, keyframe_every_s: float = 1.0, bitrate_kbps: int = 400):
        self.camera_id = camera_id
        self._clock = clock
        self.fps = fps
        self.info: StreamInfo | None = None
        self._scene = SyntheticScene(name, width, height)
        self._encoder = self._open_encoder(width, height, fps, max(1, round(fps * keyframe_every_s)), bitrate_kbps)
        self._fanout = PacketFanout()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._sent: deque[tuple[float, int]] = deque()  # (monotonic, bytes) of the last seconds, for health
        self._last_frame_at = None
        self.packets = 0

    @staticmethod
    def _open_encoder(width: int, height: int, fps: int, gop: int, bitrate_kbps: int):
        ctx = av.CodecContext.create("libx264", "w")
        ctx.width, ctx.height, ctx.pix_fmt = width, height, "yuv420p"
        ctx.time_base = TIME_BASE
        ctx.framerate = Fraction(fps)
        ctx.gop_size = gop
        ctx.bit_rate = bitrate_kbps * 1000
        # ultrafast + zerolatency: a few percent of a core, no B-frames (pts == dts), a packet per frame.
        ctx.options = {"preset": "ultrafast", "tune": "zerolatency",
                       "x264-params": f"keyint={gop}:min-keyint={gop}:scenecut=0"}
        ctx.open()
        return ctx

    # ------------------------------------------------------------ the PacketSource side

    def subscribe(self, max_queue: int = 240) -> PacketQueue:
        return self._fanout.subscribe(max_queue, self.info)

    # ------------------------------------------------------------ lifecycle

    def start(self) -> SyntheticCamera:
        self._thread = threading.Thread(target=self._run, name=f"synthetic-{self.camera_id}", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float | None = None) -> bool:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2.0 if timeout is None else timeout)
        self._fanout.close_all()
        return self._thread is None or not self._thread.is_alive()

    def health(self) -> CameraHealth:
        """fps and bitrate over the last few seconds, as the RTSP capture reports them."""
        now = time.monotonic()
        recent = [(t, n) for t, n in list(self._sent) if t >= now - HEALTH_WINDOW_S]
        if not recent or now - recent[-1][0] > 2.0:
            return CameraHealth(camera_id=self.camera_id, online=False, last_frame_at=self._last_frame_at,
                                error="the synthetic camera is not running")
        window = min(HEALTH_WINDOW_S, max(1.0, now - recent[0][0]))
        return CameraHealth(camera_id=self.camera_id, online=True, fps=round(len(recent) / window, 2),
                            bitrate_kbps=round(sum(n for _, n in recent) * 8 / 1000 / window, 1),
                            last_frame_at=self._last_frame_at, error=None)

    # ------------------------------------------------------------ the encoding thread

    def _run(self) -> None:
        began, index = time.monotonic(), 0
        step = 90_000 // self.fps
        while not self._stop.is_set():
            try:
                self._encode(index, index * step)
            except Exception:  # the demo's camera must not die of one bad frame
                log.exception("synthetic camera %s: a frame failed", self.camera_id)
            index += 1
            self._stop.wait(max(0.0, began + index / self.fps - time.monotonic()))  # real time

    def _encode(self, index: int, pts: int) -> None:
        now = self._clock.now()
        image = self._scene.draw(index, self.fps, now.strftime("%Y-%m-%d %H:%M:%S UTC"))
        frame = av.VideoFrame.from_ndarray(image, format="bgr24").reformat(format="yuv420p")
        frame.pts, frame.time_base = pts, TIME_BASE
        for packet in self._encoder.encode(frame):
            self._publish(packet, now)

    def _publish(self, packet, now) -> None:
        if packet.pts is None:
            return
        packet.dts = packet.pts if packet.dts is None else packet.dts
        packet.time_base = TIME_BASE
        if self.info is None:
            if not packet.is_keyframe:
                return
            self.info = StreamInfo(codec_name="h264", extradata=parameter_sets(bytes(packet)) or None,
                                   width=self._encoder.width, height=self._encoder.height, time_base=TIME_BASE,
                                   average_rate=Fraction(self.fps))
        self._last_frame_at = now
        first = self.packets == 0
        self.packets += 1
        moment = time.monotonic()
        self._sent.append((moment, packet.size))
        while self._sent and self._sent[0][0] < moment - HEALTH_WINDOW_S - 1:
            self._sent.popleft()
        item = EncodedPacket(packet, packet.pts, packet.dts, packet.is_keyframe, now, first)
        self._fanout.publish(item, self.info)
