"""A box as the hub meets one, for the hub-side live and clip tests: enrolled through the real API, linked
over the real WebSocket (`/api/edge/link` on a loopback uvicorn), uploading over real HTTP. The test plays
the box's part of the protocol itself, so it can send what a broken or hostile box would."""

from __future__ import annotations

import io
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime

import av
import httpx
import numpy as np
from websockets.sync.client import connect

from openrtcc.domain.edge_protocol import EdgeCamera, Hello, parse_hub_message

ALWAYS = {"mode": "always", "share_live": True, "share_recorded": True}


def integrated_camera(world, owner, sharing: dict | None = None, slug: str = "lakeport", **overrides) -> dict:
    return world.camera(owner, slug=slug, tier="integrated", sharing=sharing or ALWAYS, **overrides)


class LinkedBox:
    def __init__(self, hub_url: str, owner, anon, name: str = "box"):
        r = owner.post("/api/owner/edges/codes", json={"name": name})
        assert r.status_code == 201, r.text
        r = anon.post("/api/edge/enrol", json={"code": r.json()["code"], "name": name, "software_version": "t"})
        assert r.status_code == 201, r.text
        self.edge_id, self.key = r.json()["edge_id"], r.json()["key"]
        self.url = hub_url
        self.http = httpx.Client(base_url=hub_url, headers={"Authorization": f"Bearer {self.key}"}, timeout=10)
        self.ws = None

    def connect(self, camera_ids: list[str]) -> None:
        self._stack = ExitStack()
        self.ws = self._stack.enter_context(connect(self.url.replace("http://", "ws://") + "/api/edge/link",
                                                    additional_headers={"Authorization": f"Bearer {self.key}"},
                                                    open_timeout=5))
        hello = Hello(sent_at=datetime.now(UTC), software_version="test",
                      cameras=[EdgeCamera(camera_id=c, name=c[:8], recording=True, plate_reading=False)
                               for c in camera_ids])
        self.ws.send(hello.model_dump_json())
        welcome = self.expect("welcome")
        assert not welcome.unknown_cameras, welcome

    def expect(self, kind: str, timeout: float = 5.0):
        """The next message of this type from the hub (policy and emergency pushes in between are skipped)."""
        while True:
            message = parse_hub_message(self.ws.recv(timeout=timeout))
            if message.type == kind:
                return message

    def send(self, message) -> None:
        self.ws.send(message.model_dump_json())

    def upload(self, session_id: str, name: str, data: bytes, token: str, duration: float | None = 0.5,
               content_type: str = "video/mp4") -> httpx.Response:
        headers = {"X-Upload-Token": token, "Content-Type": content_type}
        if duration is not None and name != "init":
            headers["X-Segment-Duration"] = f"{duration:.3f}"
        return self.http.post(f"/api/edge/live/{session_id}/segments/{name}", content=data, headers=headers)

    def close(self) -> None:
        if self.ws is not None:
            self._stack.close()
            self.ws = None
        self.http.close()


@contextmanager
def camera_behind_box(hub_url: str, world, anon, staff_role: str):
    """An owner's integrated camera behind a connected box, and a staff member of the camera's agency:
    yields (owner, camera, box, staff)."""
    owner = world.owner("Olga")
    cam = integrated_camera(world, owner)
    box = LinkedBox(hub_url, owner, anon)
    box.connect([cam["id"]])
    try:
        yield owner, cam, box, world.staff(staff_role)
    finally:
        box.close()


def fmp4_segments(count: int = 3, width: int = 320, height: int = 240, fps: int = 10) -> tuple[bytes, list[bytes]]:
    """A real fMP4 init segment and `count` media segments (H.264, a keyframe each), as a box would cut."""
    from openrtcc.edge.hls_segmenter import HlsSegmenter

    seg = HlsSegmenter(width, height, frame_rate=fps, segment_seconds=0.5)
    out = []
    for i in range(int(fps * 0.5 * count) + 1):
        img = np.full((height, width, 3), (i * 9) % 255, np.uint8)
        out += seg.push(av.VideoFrame.from_ndarray(img, format="bgr24"), i / fps)
    out += seg.close()
    init = next(s.data for s in out if s.seq is None)
    return init, [s.data for s in out if s.seq is not None][:count]


def clip_mp4(frames: int = 20) -> bytes:
    """A real H.264 MP4, as the box's clip export sends."""
    out = io.BytesIO()
    with av.open(out, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(np.full((120, 160, 3), i * 10 % 255, np.uint8), format="bgr24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return out.getvalue()


def playlist_segments(text: str) -> list[str]:
    return [line for line in text.splitlines() if line and not line.startswith("#")]

