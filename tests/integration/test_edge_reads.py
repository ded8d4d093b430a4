"""Plate reads from an edge box: the box's durable queue, its forwarder, and the hub's /api/edge/reads,
against a real hub (uvicorn on loopback, SQLite or PostgreSQL)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
import uvicorn
from sqlalchemy import func, select

from openrtcc.adapters.db.tables import audit_log, plate_read
from openrtcc.domain.reads import ReadIn
from openrtcc.edge.access_log import EdgeAccessLog
from openrtcc.edge.config import EdgeConfig
from openrtcc.edge.hub_http import hub_client
from openrtcc.edge.read_forwarder import ReadForwarder
from openrtcc.edge.read_queue import ReadQueue
from tests.conftest import HARBOR
from tests.edge_hub import free_port
from tests.plate_reads import JPEG, b64


class Box:
    """An owner's enrolled box with one linked camera, made through the real API."""

    def __init__(self, world, anon, share_with: list[str], **camera):
        self.owner = world.owner()
        self.lakeport, self.harbor = world.agency("lakeport"), world.agency("harbor", HARBOR)
        ids = {"lakeport": self.lakeport.id, "harbor": self.harbor.id}
        sharing = {"mode": "always", "share_reads_with": [ids[s] for s in share_with]}
        self.camera = world.camera(self.owner, sharing=sharing, **camera)
        r = self.owner.post("/api/owner/edges/codes", json={"name": "Shop box"})
        assert r.status_code == 201, r.text
        r = anon.post("/api/edge/enrol", json={"code": r.json()["code"], "name": "box-1"})
        assert r.status_code == 201, r.text
        self.edge_id, self.key = r.json()["edge_id"], r.json()["key"]
        self.link(self.camera["id"])

    def link(self, camera_id: str) -> None:
        r = self.owner.put(f"/api/owner/cameras/{camera_id}/edge", json={"edge_id": self.edge_id})
        assert r.status_code == 200, r.text


def a_read(clock, camera_id: str, plate: str = "ABC1234", **kw) -> ReadIn:
    return ReadIn(read_id="unnumbered", camera_id=camera_id, plate=plate, confidence=0.91,
                  captured_at=clock.now() - timedelta(seconds=5), crop=b64(JPEG), **kw)


def rows(hub, **where) -> list:
    engine = hub.extras["engine"]
    with engine.connect() as conn:
        q = select(plate_read.c.agency_id, plate_read.c.read_key, plate_read.c.camera_id, plate_read.c.lat)
        for name, value in where.items():
            q = q.where(plate_read.c[name] == value)
        return list(conn.execute(q))


class Hub:
    """The test's hub on a fixed loopback port, started and stopped at will (an outage, then a return)."""

    def __init__(self, app):
        self.app, self.port, self.server, self.thread = app, free_port(), None, None
        self.url = f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.server = uvicorn.Server(uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning",
                                                    access_log=False, lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert self.thread.is_alive() and time.monotonic() < deadline, "the hub did not start"
            time.sleep(0.02)

    def stop(self) -> None:
        if self.server is not None:
            self.server.should_exit = True
            self.thread.join(timeout=10)
            self.server = None


@pytest.fixture
def live(app):
    h = Hub(app)
    yield h
    h.stop()


def forwarder(queue: ReadQueue, box: Box, url: str, recipients: tuple[str, ...] = ("agency",), **kw) -> ReadForwarder:
    """The box's forwarder with the box's own HTTPS client factory, and the box's sharing decision fixed."""
    config = EdgeConfig.model_validate({"edge": {"hub_url": url}})
    return ReadForwarder(queue, box.edge_id, lambda: hub_client(config, box.key, timeout_s=5),
                         lambda _camera: recipients, min_backoff_s=0.01, max_backoff_s=0.05, **kw)


def test_hub_outage_then_return_delivers_every_read_exactly_once(world, anon, hub, clock, live, tmp_path, backend):
    box = Box(world, anon, share_with=["lakeport"])
    queue = ReadQueue(tmp_path / "reads.db")
    for n in range(7):
        queue.enqueue(box.camera["id"], a_read(clock, box.camera["id"], plate=f"OUT{n}"), shared=True, now=clock.now())
    log = EdgeAccessLog(tmp_path / "access.sqlite3", now=clock.now)
    fwd = forwarder(queue, box, live.url, (box.lakeport.id,), batch_size=3, access_log=log)
    down = fwd.send_once()
    assert down.retry_after_s > 0 and down.delivered == 0
    assert queue.pending() == 7 and rows(hub) == []
    live.start()
    while queue.pending():
        assert fwd.send_once().retry_after_s == 0
    stored = rows(hub)
    assert sorted(r.read_key for r in stored) == sorted(f"{box.edge_id}:{box.camera['id']}:{n}" for n in range(1, 8))
    assert {r.agency_id for r in stored} == {box.lakeport.id}
    assert {r.camera_id for r in stored} == {box.camera["id"]}
    assert all(r.lat == pytest.approx(43.0) for r in stored)  # placed at the camera by the hub
    # The owner's view on the box: what left it, for whom.
    entries = [e for e in log.latest(100) if e.kind == "reads"]
    assert sum(int(e.reason.split()[0]) for e in entries) == 7
    assert {(e.camera_id, e.agency_id, e.outcome) for e in entries} == {(box.camera["id"], box.lakeport.id, "allowed")}


def test_a_batch_sent_again_after_a_lost_answer_is_duplicate_not_doubled(world, anon, hub, clock, backend, tmp_path):
    box = Box(world, anon, share_with=["lakeport", "harbor"])
    queue = ReadQueue(tmp_path / "reads.db")
    for n in range(3):
        queue.enqueue(box.camera["id"], a_read(clock, box.camera["id"], plate=f"DUP{n}"), shared=True, now=clock.now())
    from openrtcc.edge.read_forwarder import _json

    body = {"version": 1, "reads": [_json(q) for q in queue.peek(box.edge_id, 10)]}
    headers = {"Authorization": f"Bearer {box.key}"}
    first = anon.post("/api/edge/reads", json=body, headers=headers)
    assert first.status_code == 200, first.text
    assert first.json()["stored"] == 3
    # The box never saw that answer: the same batch again.
    again = anon.post("/api/edge/reads", json=body, headers=headers)
    assert again.status_code == 200, again.text
    assert again.json()["duplicate"] == 3 and again.json()["stored"] == 0
    # Shared with two agencies: one row per agency per read, no more.
    stored = rows(hub)
    assert len(stored) == 6
    assert sorted(r.agency_id for r in stored) == sorted([box.lakeport.id, box.harbor.id] * 3)
    for agency in (box.lakeport, box.harbor):
        r = world.staff("analyst", agency.slug).post("/api/agency/plates/search", json={
            "purpose": "stolen_vehicle", "offence": "240", "case_number": "24-3003", "plate": "DUP1"})
        assert r.status_code == 200, r.text
        assert [x["plate"] for x in r.json()["results"]] == ["DUP1"]
    # Each agency sees the box as one of its read sources, and may refuse its reads from now on.
    harbor = world.admin("harbor")
    [source] = [s for s in harbor.get("/api/agency/read-sources").json() if s["kind"] == "edge"]
    assert harbor.post(f"/api/agency/read-sources/{source['id']}/revoke").status_code == 200
    queue.enqueue(box.camera["id"], a_read(clock, box.camera["id"], plate="LATE1"), shared=True, now=clock.now())
    late = [_json(q) for q in queue.peek(box.edge_id, 10) if q.read.plate == "LATE1"]
    r = anon.post("/api/edge/reads", json={"version": 1, "reads": late}, headers=headers)
    assert r.status_code == 200 and r.json()["stored"] == 1, r.text
    assert [row.agency_id for row in rows(hub) if row.read_key == late[0]["read_id"]] == [box.lakeport.id]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # decided before the database stores
def test_sharing_off_nothing_reaches_the_hub(world, anon, hub, clock, live, tmp_path, backend):
    box = Box(world, anon, share_with=[])
    live.start()
    queue = ReadQueue(tmp_path / "reads.db")
    cam = box.camera["id"]
    queue.enqueue(cam, a_read(clock, cam, plate="LOC1"), shared=False, now=clock.now())  # off when captured
    queue.enqueue(cam, a_read(clock, cam, plate="LOC2"), shared=True, now=clock.now())  # off before sending
    done = forwarder(queue, box, live.url, recipients=()).send_once()
    assert done.sent == 0 and done.kept_local == 1
    assert queue.counts() == {"pending": 0, "local": 2, "quarantined": 0}
    # And the hub refuses to store what its own camera row does not share, whatever a box sends.
    queue2 = ReadQueue(tmp_path / "reads2.db")
    queue2.enqueue(cam, a_read(clock, cam, plate="LOC3"), shared=True, now=clock.now())
    done = forwarder(queue2, box, live.url).send_once()
    assert done.sent == 1 and done.kept_local == 1 and done.delivered == 0
    assert rows(hub) == []


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # decided before the database stores
def test_a_read_for_a_camera_not_on_this_edge_is_refused_and_quarantined(world, anon, hub, clock, live, tmp_path,
                                                                        backend):
    box = Box(world, anon, share_with=["lakeport"])
    other = world.camera(box.owner, name="Not on the box", bearing_deg=270, sharing={"mode": "always",
                                                                    "share_reads_with": [box.lakeport.id]})
    stranger = world.camera(world.owner("Sam"), name="Someone else's")
    live.start()
    headers = {"Authorization": f"Bearer {box.key}"}
    for cam in (other, stranger):
        body = {"version": 1, "reads": [a_read(clock, cam["id"]).model_dump(mode="json", exclude={"crop"})]}
        body["reads"][0]["read_id"] = f"{box.edge_id}:{cam['id']}:1"
        r = anon.post("/api/edge/reads", json=body, headers=headers)
        assert r.status_code == 422, r.text
        assert r.json()["error"] == "camera_not_on_edge" and body["reads"][0]["read_id"] in r.json()["message"]
    queue = ReadQueue(tmp_path / "reads.db")
    good = box.camera["id"]
    queue.enqueue(good, a_read(clock, good, plate="GOOD1"), shared=True, now=clock.now())
    queue.enqueue(other["id"], a_read(clock, other["id"], plate="BAD1"), shared=True, now=clock.now())
    queue.enqueue(good, a_read(clock, good, plate="GOOD2"), shared=True, now=clock.now())
    fwd = forwarder(queue, box, live.url)
    while queue.pending():
        fwd.send_once()
    assert queue.counts()["quarantined"] == 1
    [(camera_id, seq, error)] = queue.quarantined()
    assert camera_id == other["id"] and seq == 1 and "camera_not_on_edge" in error
    assert sorted(r.read_key for r in rows(hub)) == [f"{box.edge_id}:{good}:1", f"{box.edge_id}:{good}:2"]
    with hub.extras["engine"].connect() as conn:
        refused = conn.execute(select(func.count()).select_from(audit_log)
                               .where(audit_log.c.action == "edge.reads.refused")).scalar()
    assert refused >= 3


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # decided before the database stores
def test_a_refused_or_missing_key_stores_nothing(world, anon, hub, clock, backend):
    box = Box(world, anon, share_with=["lakeport"])
    body = {"version": 1, "reads": [a_read(clock, box.camera["id"]).model_dump(mode="json", exclude={"crop"})]}
    for headers in ({}, {"Authorization": "Bearer not-a-key"}):
        r = anon.post("/api/edge/reads", json=body, headers=headers)
        assert r.status_code == 401, r.text
    assert rows(hub) == []
