"""City mode: edge links, live view and clips when several serve processes share the load.

Two Hub objects built from the same city settings (one PostgreSQL database, one NATS server), each served by
its own uvicorn on loopback, stand for two `rtcc serve` processes: a box's link lands on one of them, an
officer's requests and the box's uploads on either. The box's side is played by the test over the real
WebSocket and HTTP (tests/edge_box_link.py)."""

from __future__ import annotations

import hashlib
import threading
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from websockets.exceptions import ConnectionClosed

from openrtcc.adapters.bus.jetstream_live_segments import live_bucket
from openrtcc.adapters.bus.nats_edge_links import links_bucket
from openrtcc.bootstrap import build_hub
from openrtcc.domain.edge_protocol import LiveStarted
from openrtcc.web.app import create_app
from tests.conftest import Session, World
from tests.edge_box_link import LinkedBox, clip_mp4, fmp4_segments, integrated_camera, playlist_segments
from tests.edge_hub import serve, wait_for
from tests.integration import db_probe as db

START = {"purpose": "robbery in progress at the corner shop", "case_number": "LP-2026-0077"}


class Process:
    """One serve process: its hub, its app and the loopback server in front of it."""

    def __init__(self, settings, clock):
        self.hub = build_hub(settings, clock=clock, run_migrations=False, fast_hashing=True, role="serve")
        self.app = create_app(settings, self.hub)
        self.server, self.thread, port = serve(self.app)
        self.url = f"http://127.0.0.1:{port}"
        self.links = self.hub.extras["edge_links"]

    def client(self, session: Session) -> Session:
        """The same signed-on user, their requests landing on this process."""
        return Session(TestClient(self.app), session.token, session.email)

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.hub.extras["nats"].close()
        self.hub.extras["engine"].dispose()


class TwoProcesses:
    def __init__(self, settings, clock):
        self.settings = settings
        self.a, self.b = Process(settings, clock), Process(settings, clock)
        self.world = World(self.a.hub, self.a.app, clock)
        self.anon = TestClient(self.a.app)

    def close(self) -> None:
        link = self.a.hub.extras["nats"]
        for bucket in (links_bucket(self.settings.nats_namespace), live_bucket(self.settings.nats_namespace)):
            try:  # the session's NATS server is shared by every test: leave no memory reserved behind
                link.call(lambda bucket=bucket: link.js.delete_key_value(bucket))
            except Exception:
                pass
        self.a.close()
        self.b.close()


@pytest.fixture
def city(city_settings, clock):
    c = TwoProcesses(city_settings, clock)
    yield c
    c.close()


def _scene(city, role: str = "officer"):
    owner = city.world.owner("Olga")
    cam = integrated_camera(city.world, owner)
    box = LinkedBox(city.a.url, owner, city.anon)
    box.connect([cam["id"]])
    return owner, cam, box, city.world.staff(role)


def _link_again(box: LinkedBox, url: str, camera_id: str) -> LinkedBox:
    """The same box (its key) opening a new link, to another process."""
    again = object.__new__(LinkedBox)
    again.edge_id, again.key, again.url, again.ws = box.edge_id, box.key, url, None
    again.http = box.http
    again.connect([camera_id])
    return again


def _closed(box: LinkedBox) -> bool:
    try:
        while True:
            box.ws.recv(timeout=5)
    except ConnectionClosed:
        return True
    except TimeoutError:
        return False


def test_live_asked_on_b_reaches_the_box_linked_to_a_and_its_video_plays_from_b(city, clock):
    owner, cam, box, officer = _scene(city)
    on_b = city.b.client(officer)
    wait_for(lambda: city.b.links.is_connected(box.edge_id), what="B to hear of the link held by A")
    assert box.edge_id in city.b.links.connected_ids()
    try:
        r = on_b.post(f"/api/cameras/{cam['id']}/live", json=START)
        assert r.status_code == 201, r.text
        sid = r.json()["id"]
        start = box.expect("live_start")  # sent by B, through the process holding the link
        assert start.session_id == sid and start.requester.case_number == START["case_number"]
        init, segs = fmp4_segments(3)
        for name, data in (("init", init), ("0", segs[0])):
            assert box.upload(sid, name, data, start.upload_token).status_code == 204  # uploads land on A
        box.send(LiveStarted(sent_at=clock.now(), session_id=sid))
        text = on_b.get(f"/api/live/{sid}/index.m3u8").text
        assert '#EXT-X-MAP:URI="init.mp4"' in text and playlist_segments(text) == ["segments/0.m4s"]
        assert on_b.get(f"/api/live/{sid}/init.mp4").content == init
        assert on_b.get(f"/api/live/{sid}/segments/0.m4s").content == segs[0]
        wait_for(lambda: on_b.get(f"/api/live/{sid}").json()["confirmed_by_box"], what="LiveStarted handled on A")
        status = on_b.get(f"/api/live/{sid}").json()
        assert status["state"] == "live" and status["segments"] == 1

        # A blocking reload on B waits for segment 1 and wakes when it lands on A.
        blocked = {}
        reload = threading.Thread(target=lambda: blocked.update(r=on_b.get(f"/api/live/{sid}/index.m3u8",
                                                                             params={"_HLS_msn": 1})))
        reload.start()
        assert not city.b.hub.extras["live_segments"].changed_since(sid, 0)
        assert box.upload(sid, "1", segs[1], start.upload_token).status_code == 204
        wait_for(lambda: city.b.hub.extras["live_segments"].changed_since(sid, 0), what="B to hear of segment 1")
        reload.join(timeout=5)
        assert playlist_segments(blocked["r"].text) == ["segments/0.m4s", "segments/1.m4s"]
        assert on_b.get(f"/api/live/{sid}/segments/1.m4s").content == segs[1]

        assert on_b.delete(f"/api/live/{sid}").status_code == 204  # stopped on B: the box hears it through A
        assert box.expect("live_stop").session_id == sid
        assert on_b.get(f"/api/live/{sid}/index.m3u8").status_code == 410
        assert box.upload(sid, "2", segs[2], start.upload_token).status_code == 410
        assert city.a.hub.extras["live_segments"].segment_data(sid, 0) is None  # nothing left behind
    finally:
        box.close()


def test_an_idle_session_ends_whichever_process_the_viewer_used(city, clock):
    owner, cam, box, officer = _scene(city)
    on_b = city.b.client(officer)
    try:
        r = officer.post(f"/api/cameras/{cam['id']}/live", json=START)
        sid = r.json()["id"]
        token = box.expect("live_start").upload_token
        init, segs = fmp4_segments(3)
        assert box.upload(sid, "init", init, token).status_code == 204
        clock.advance(seconds=40)
        assert on_b.get(f"/api/live/{sid}/index.m3u8").status_code == 200  # watched on B ...
        clock.advance(seconds=40)
        assert box.upload(sid, "0", segs[0], token).status_code == 204  # ... so A keeps taking the video
        clock.advance(seconds=61)
        gone = box.upload(sid, "1", segs[1], token)  # no one fetched anything for over a minute
        assert gone.status_code == 410 and gone.json()["error"] == "live_ended"
        assert box.expect("live_stop").session_id == sid
        ended = on_b.get(f"/api/live/{sid}").json()
        assert ended["state"] == "ended" and ended["end_reason"] == "no one was watching"
    finally:
        box.close()


def test_a_box_relinking_to_b_takes_over_and_revoking_it_on_b_closes_its_link_on_a(city, clock):
    owner, cam, box, officer = _scene(city)
    owner_b = city.b.client(owner)
    moved = _link_again(box, city.b.url, cam["id"])
    assert _closed(box)  # A let its older link go
    assert city.a.links.is_connected(box.edge_id) and city.b.links.is_connected(box.edge_id)
    assert [e["connected"] for e in owner.get("/api/owner/edges").json()] == [True]
    wait_for(lambda: [r.action for r in db.audit_after(city.a.hub, 0)].count("edge.disconnect") == 1,
             what="A to record its old link's close")
    assert db.scalar(city.a.hub, "SELECT connected FROM edge_box WHERE id = :id", id=box.edge_id)  # still linked
    r = officer.post(f"/api/cameras/{cam['id']}/live", json=START)  # asked on A, held by B now
    assert r.status_code == 201, r.text
    assert moved.expect("live_start").session_id == r.json()["id"]

    back = _link_again(box, city.a.url, cam["id"])  # and back to A
    assert _closed(moved)
    r = owner_b.post(f"/api/owner/edges/{box.edge_id}/revoke")  # revoked on B: A closes the link it holds
    assert r.status_code == 200, r.text
    assert _closed(back)
    wait_for(lambda: not city.a.links.is_connected(box.edge_id) and not city.b.links.is_connected(box.edge_id),
             what="the link to be gone everywhere")
    assert box.edge_id not in city.b.links.connected_ids()
    r = city.b.client(officer).post(f"/api/cameras/{cam['id']}/live", json=START)
    assert r.status_code in (403, 409) and r.json()["error"] in ("edge_offline", "policy_refused", "no_edge")
    box.http.close()


def test_a_clip_asked_on_b_is_answered_by_the_box_on_a_and_uploaded_to_b(city, clock):
    owner, cam, box, analyst = _scene(city, "analyst")
    on_b = city.b.client(analyst)
    now = clock.now()
    try:
        r = on_b.post(f"/api/cameras/{cam['id']}/clips", json={
            "purpose": "hit and run on Main St", "case_number": "LP-2026-0078",
            "start": (now - timedelta(minutes=30)).isoformat(), "end": (now - timedelta(minutes=20)).isoformat()})
        assert r.status_code == 201 and r.json()["status"] == "requested", r.text
        ask = box.expect("clip_request")
        data = clip_mp4()
        sha = hashlib.sha256(data).hexdigest()
        up = box.http.post(f"{city.b.url}/api/edge/clips/{ask.request_id}", content=data, headers={
            "X-Upload-Token": ask.upload_token, "X-Content-SHA256": sha, "Content-Type": "video/mp4"})
        assert up.status_code == 201, up.text
        got = analyst.get(f"/api/clips/{ask.request_id}/download")  # downloaded from A
        assert got.status_code == 200 and hashlib.sha256(got.content).hexdigest() == sha
    finally:
        box.close()


def test_the_shared_store_keeps_the_newest_segments_in_parts_within_its_byte_budget(city, clock):
    from openrtcc.adapters.bus.jetstream_live_segments import JetStreamLiveSegments
    from openrtcc.domain.live_video import LiveBufferFull, LiveMeta, Segment

    ns = city.settings.nats_namespace + "s"
    a, b = (JetStreamLiveSegments(p.hub.extras["nats"], namespace=ns, keep=3, max_total_bytes=96 * 1024,
                                  chunk_bytes=4096) for p in (city.a, city.b))
    link = city.a.hub.extras["nats"]
    now = clock.now()
    try:
        for sid in ("s1", "s2"):
            a.open(LiveMeta(sid, "cam", "edge", "agency", "user", "0" * 64), now)
        for seq in range(5):
            a.put_segment("s1", Segment(seq, 0.5, bytes([seq]) * 10_000), now)  # three parts each
        assert [s.seq for s in b.get("s1").segments] == [2, 3, 4]
        assert b.segment_data("s1", 1) is None and b.segment_data("s1", 4) == b"\x04" * 10_000
        b.put_segment("s1", Segment(3, 0.52, b"y" * 50), now)  # re-sent, on the other process: replaces
        b.put_segment("s1", Segment(0, 0.5, b"z"), now)  # far too late for any player: ignored
        view = a.get("s1")
        assert [(s.seq, s.duration_s) for s in view.segments] == [(2, 0.5), (3, 0.52), (4, 0.5)]
        assert a.segment_data("s1", 3) == b"y" * 50 and a.segment_data("s1", 0) is None
        with pytest.raises(LiveBufferFull):  # the budget over all sessions refuses ...
            a.put_segment("s2", Segment(0, 0.5, b"x" * 80_000), now)
        assert b.get("s2").segments == () and b.segment_data("s1", 4) == b"\x04" * 10_000  # ... keeps the rest
        b.drop("s1")
        assert a.get("s1") is None and a.segment_data("s1", 4) is None
        a.put_segment("s2", Segment(0, 0.5, b"x" * 60_000), now)  # room again once a session ended
        assert b.segment_data("s2", 0) == b"x" * 60_000
        for bad in ("s1.>", "*", "s2.s0", "a" * 65):  # ids that would name other keys or subjects
            assert b.get(bad) is None and b.segment_data(bad, 0) is None and b.init_data(bad) is None
    finally:
        link.call(lambda: link.js.delete_key_value(f"{ns.upper()}_LIVE"))
