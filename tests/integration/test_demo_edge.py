"""The demo's edge box: enrolled and linked when the city is seeded, and, run against the served demo hub with
its synthetic cameras, online, recording, and giving an officer masked live video of the always-shared camera."""

from __future__ import annotations

import io
import json

import av
import httpx
import numpy as np
import pyotp
import pytest
from sqlalchemy import select

from openrtcc.adapters.db.tables import camera, edge_box, user
from openrtcc.demo.city import BUSINESS, seed_demo_city
from openrtcc.demo.edge_box import DemoEdge, demo_edge_agent, edge_banner, seed_demo_edge
from openrtcc.edge.credentials import credentials_path
from tests.edge_hub import OffsetClock, live_edge_hub, wait_for  # noqa: F401  (a fixture)

CAMERAS = 100  # the fewest the demo city allows: the box is what is tested here


def _log_on(client: httpx.Client, email: str, password: str, code: str | None = None) -> dict:
    body = {"email": email, "password": password, "accept_banner": True, **({"code": code} if code else {})}
    r = client.post("/api/auth/logon", json=body)
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def _first_frame(init: bytes, segment: bytes) -> np.ndarray:
    with av.open(io.BytesIO(init + segment), format="mp4") as container:
        return next(container.decode(video=0)).to_ndarray(format="bgr24")


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite"])  # the demo runs on the embedded defaults
def test_the_demo_box_connects_records_and_serves_masked_live_video(live_edge_hub, hub, clock, tmp_path):
    logins = seed_demo_city(hub, cameras=CAMERAS)
    url = live_edge_hub.url
    box = seed_demo_edge(hub, BUSINESS.email, tmp_path / "edge", url)
    json.dumps(box)  # kept in demo-logins.json
    # Seeded through the real use cases: the box belongs to the business, three of its cameras are linked.
    with hub.extras["engine"].connect() as conn:
        owner_of_box = conn.execute(select(user.c.email).join(edge_box, edge_box.c.owner_id == user.c.id)
                                    .where(edge_box.c.id == box["edge_id"])).scalar_one()
        linked = conn.execute(select(camera.c.id, camera.c.sharing_mode)
                              .where(camera.c.edge_id == box["edge_id"])).all()
    assert owner_of_box == BUSINESS.email
    assert sorted(m for _, m in linked) == ["always", "emergency_only", "paused"]
    probe = demo_edge_agent(box, tmp_path / "edge", url)
    probe.stop(budget_s=1)  # (one box per folder: the demo's own agent below takes it next)
    assert credentials_path(probe.config).stat().st_mode & 0o077 == 0
    always, emergency, paused = (c["id"] for c in box["cameras"])
    assert any(always in line for line in edge_banner(box, "http://127.0.0.1:8000/"))

    demo = DemoEdge(demo_edge_agent(box, tmp_path / "edge", url, clock=OffsetClock(hub.clock)))
    demo.start_when_listening(live_edge_hub.server)
    try:
        with httpx.Client(base_url=url, timeout=10) as client:
            owner = _log_on(client, BUSINESS.email, logins["password"])

            def online() -> bool:
                boxes = client.get("/api/owner/edges", headers=owner).json()
                return bool(boxes) and boxes[0]["connected"] and all(c["online"] for c in boxes[0]["cameras"])

            wait_for(online, 15, "the demo box and its three cameras online")
            code = pyotp.TOTP(logins["totp_secret"]).at(clock.now())
            officer = _log_on(client, "officer@police.lakeport.example", logins["password"], code)
            for refused in (emergency, paused):  # no emergency declared; paused shares nothing
                r = client.post(f"/api/cameras/{refused}/live", json={"purpose": "demo check"}, headers=officer)
                assert r.status_code == 403, r.text
            r = client.post(f"/api/cameras/{always}/live", json={"purpose": "demo check"}, headers=officer)
            assert r.status_code == 201, r.text
            session = r.json()["id"]

            def a_segment() -> str | None:
                text = client.get(r.json()["playlist_url"], headers=officer).text
                return ([ln for ln in text.splitlines() if ln.endswith(".m4s")] or [None])[-1]

            segment = wait_for(a_segment, 10, "a live segment in the playlist")
            base = f"/api/live/{session}"
            frame = _first_frame(client.get(f"{base}/init.mp4", headers=officer).content,
                                 client.get(f"{base}/{segment}", headers=officer).content)
            h, w = frame.shape[:2]
            masked = frame[int(h * 0.12):int(h * 0.42), int(w * 0.70):int(w * 0.92)]
            assert masked.max() < 40, "the neighbour's house is blacked out"
            assert frame[int(h * 0.02):int(h * 0.1), :int(w * 0.3)].max() > 200  # the camera's name is drawn
    finally:
        demo.stop()
    recorded = [f.read_bytes() for f in (tmp_path / "edge" / "video").rglob("*.seg")]
    assert recorded and all(len(b) > 1000 for b in recorded)  # every camera's stream was recorded...
    assert not any(b[0] == 0x47 and b[188] == 0x47 for b in recorded)  # ...encrypted: no MPEG-TS in the clear


def test_rtcc_demo_enrols_the_box_once_and_again_only_when_fresh(tmp_path, monkeypatch, capsys):
    from openrtcc.cli import main

    for name in ("RTCC_DATABASE_URL", "RTCC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RTCC_DATA_DIR", str(tmp_path))
    args = ["demo", "--seed-only", "--cameras", str(CAMERAS), "--data-dir", str(tmp_path), "--port", "8123"]

    def edge_id() -> str:
        assert json.loads((tmp_path / "edge" / "credentials.json").read_text())["hub_url"] == "http://127.0.0.1:8123"
        return json.loads((tmp_path / "demo-logins.json").read_text())["edge"]["edge_id"]

    assert main(args) == 0
    first = edge_id()
    assert "Live view and clips" in capsys.readouterr().out  # the banner says where to click
    assert main(args) == 0  # a re-run serves the same city and box: no second enrolment
    assert edge_id() == first
    logins = json.loads((tmp_path / "demo-logins.json").read_text())
    agent = demo_edge_agent(logins["edge"], tmp_path / "edge", "http://127.0.0.1:8124")  # served on another port
    assert (agent.credentials.edge_id, agent.credentials.hub_url) == (first, "http://127.0.0.1:8124")
    agent.stop(budget_s=1)
    assert main([*args, "--fresh"]) == 0
    assert edge_id() != first  # a fresh city enrols a fresh box
