"""The hub never connects to a camera address it is handed: a loopback listener's address goes into every
field where a camera could be described (registration, a box's hello, enrolment, an emergency), the flows run,
and the listener sees no connection. URL-shaped extra fields are refused by the schemas and the protocol."""

from __future__ import annotations

import json
import socket
import threading

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from openrtcc.domain.edge_protocol import Hello
from tests.edge_hub import live_edge_hub, start_box  # noqa: F401  (a fixture)


class Listener:
    """A TCP listener on loopback that counts every connection made to it."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self):
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # what the hub connects to does not vary by database
def test_no_camera_address_is_ever_fetched_by_the_hub(live_edge_hub, world, tmp_path, clock, backend):
    trap = Listener()
    urls = [f"rtsp://127.0.0.1:{trap.port}/stream", f"http://127.0.0.1:{trap.port}/onvif/device_service"]
    try:
        owner = world.owner("Olga")
        agency = world.agency().id
        base = {"agency_id": agency, "name": urls[0][:120], "lat": 43.0, "lon": -87.92, "address": urls[1],
                "bearing_deg": 90, "public_facing_attested": True, "make": urls[0][:80], "model": urls[1][:80],
                "tier": "integrated", "sharing": {"mode": "always", "share_live": True}}
        for extra in ({"url": urls[0]}, {"stream_url": urls[0]}, {"snapshot_url": urls[1]}, {"onvif": urls[1]}):
            r = owner.post("/api/owner/cameras", json=base | extra)
            assert r.status_code == 422, extra  # no field takes a camera address
        cam = owner.post("/api/owner/cameras", json=base)
        assert cam.status_code == 201, cam.text  # URL-shaped text is kept as text
        cam_id = cam.json()["id"]
        code = live_edge_hub.code(owner)

        # A hello whose camera carries a URL is refused by the protocol before anything is looked up.
        from openrtcc.services.edge_enrolment import enrol
        key = enrol(live_edge_hub.hub, code, urls[0][:120], urls[1][:40], "127.0.0.1").key
        hello = json.loads(Hello(sent_at=clock.now(), software_version="t", cameras=[]).model_dump_json())
        hello["cameras"] = [{"camera_id": cam_id, "name": "x", "recording": True, "plate_reading": False,
                             "url": urls[0]}]
        with connect(live_edge_hub.url.replace("http", "ws") + "/api/edge/link", proxy=None,
                     additional_headers={"Authorization": f"Bearer {key}"}) as ws:
            ws.send(json.dumps(hello))
            try:
                ws.recv(timeout=5)
                raise AssertionError("a hello with a camera URL was accepted")
            except ConnectionClosed as closed:
                assert "url" in closed.rcvd.reason and closed.rcvd.code == 1008

        # The whole flow with a real box whose own config points at the trap (the box's business, not the hub's).
        box = start_box(live_edge_hub, owner, tmp_path, [cam_id], camera_url=urls[0])
        try:
            analyst, supervisor = world.staff("analyst"), world.staff("supervisor")
            assert supervisor.post("/api/emergencies", json={
                "lat": 43.0, "lon": -87.92, "radius_m": 500, "reason": urls[1], "expires_in_minutes": 5}
            ).status_code == 201
            assert analyst.get("/api/agency/map/points").status_code == 200
            assert analyst.get("/api/agency/map/offline").status_code == 200
            r = analyst.post("/api/agency/search/radius", json={"lat": 43.0, "lon": -87.92, "radius_m": 100,
                                                                "purpose": "criminal_investigation",
                                                                "offence": "220", "case_number": "24-1"})
            assert [c["id"] for c in r.json()] == [cam_id]
            assert owner.get("/api/owner/edges").status_code == 200
            assert owner.get(f"/api/owner/cameras/{cam_id}/edge-access-log").status_code == 200
        finally:
            box.stop()
        assert trap.connections == 0
    finally:
        trap.close()
