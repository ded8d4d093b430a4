"""The edge link over a real uvicorn hub on loopback with the box's real websockets client: hello and
welcome, the policy on connect and after an owner change, refusals before and after the handshake, clock
skew, health and the offline map, the box's access log mirrored once, revocation."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from openrtcc.domain.access import AccessKind
from openrtcc.domain.edge_protocol import CameraHealth, Health, Hello
from tests.edge_hub import live_edge_hub, start_box, wait_for  # noqa: F401  (a fixture)

ALWAYS_LIVE = {"mode": "always", "share_live": True, "share_recorded": True}


def _integrated(world, owner, **kw) -> str:
    return world.camera(owner, tier="integrated", sharing=kw.pop("sharing", ALWAYS_LIVE), **kw)["id"]


def _put_sharing(owner, cam_id: str, **sharing) -> dict:
    cam = owner.get(f"/api/owner/cameras/{cam_id}").json()
    body = {k: cam[k] for k in ("agency_id", "name", "lat", "lon", "address", "bearing_deg", "fov_deg", "range_m",
                                "make", "model", "owner_retention_days", "tier")}
    body |= {"public_facing_attested": True, "sharing": {**{k: cam["sharing"][k] for k in
                                                            ("mode", "share_live", "share_recorded")}, **sharing}}
    r = owner.put(f"/api/owner/cameras/{cam_id}", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def test_policy_on_connect_and_after_owner_change_then_revocation(live_edge_hub, world, tmp_path, clock, backend):
    owner = world.owner("Olga")
    cam = _integrated(world, owner)
    registered = world.camera(owner, bearing_deg=200)["id"]  # not integrated: the box may not claim it
    agency = world.agency().id
    bob = world.owner("Bob")
    bobs = _integrated(world, bob, bearing_deg=10)  # another owner's: never linked to Olga's box
    box = start_box(live_edge_hub, owner, tmp_path, [cam, registered, bobs, "not-a-camera"])
    try:
        assert sorted(box.link.unknown_cameras) == sorted([registered, bobs, "not-a-camera"])
        assert bob.get(f"/api/owner/cameras/{bobs}").json()["edge_id"] is None
        now = box.clock.now
        wait_for(lambda: box.gate.decide(cam, agency, AccessKind.LIVE, now()).allowed, what="the policy on connect")
        assert owner.get(f"/api/owner/cameras/{cam}").json()["edge_id"] == box.creds.edge_id  # linked by hello
        listed = owner.get("/api/owner/edges").json()[0]
        assert listed["connected"] and listed["clock_skew_alarm"] is False
        assert [c["id"] for c in listed["cameras"]] == [cam]

        _put_sharing(owner, cam, mode="paused", privacy_masks=[[[0, 0], [0.25, 0], [0.25, 0.25]]])
        wait_for(lambda: not box.gate.decide(cam, agency, AccessKind.LIVE, now()).allowed, 1.0,
                 "the paused policy within a second")
        assert [m.points for m in box.gate.masks(cam)] == [((0, 0), (0.25, 0), (0.25, 0.25))]

        assert owner.post(f"/api/owner/edges/{box.creds.edge_id}/revoke").status_code == 200
        wait_for(lambda: not box.link.connected.is_set(), 5.0, "the link to close on revocation")
        wait_for(lambda: "refused this box's key" in (box.link.last_close_reason or ""), 5.0, "the refused reconnect")
        assert box.alarms.is_active("hub_unreachable")
        assert owner.get("/api/owner/edges").json()[0]["connected"] is False
    finally:
        box.stop()


def _raw(url: str, key: str):
    return connect(url.replace("http", "ws") + "/api/edge/link", additional_headers={"Authorization": f"Bearer {key}"},
                   open_timeout=5, proxy=None)


def _hello(clock, **extra) -> str:
    doc = json.loads(Hello(sent_at=clock.now(), software_version="test", cameras=[]).model_dump_json())
    return json.dumps({**doc, **extra})


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # the protocol is the subject, not the database
def test_wrong_key_is_refused_before_the_handshake(live_edge_hub, backend):
    with pytest.raises(InvalidStatus) as refused:
        with _raw(live_edge_hub.url, "rtcc_edge_wrong"):
            pass
    assert refused.value.response.status_code == 403


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # the protocol is the subject, not the database
@pytest.mark.parametrize("first, reason", [
    ('{"v": 1, "type": "health", "sent_at": "2026-11-20T15:00:00Z"}', "first message must be hello"),
    ("not json at all", "malformed message"),
])
def test_first_message_must_be_a_valid_hello(live_edge_hub, world, clock, first, reason, backend):
    from openrtcc.services.edge_enrolment import enrol

    key = enrol(live_edge_hub.hub, live_edge_hub.code(world.owner()), "raw", "t", "10.9.9.9").key
    with _raw(live_edge_hub.url, key) as ws:
        ws.send(first)
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=5)
    assert closed.value.rcvd.code == 1008 and reason in closed.value.rcvd.reason


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # the protocol is the subject, not the database
def test_malformed_message_after_hello_closes_the_link_with_its_reason(live_edge_hub, world, clock, backend):
    from openrtcc.services.edge_enrolment import enrol

    key = enrol(live_edge_hub.hub, live_edge_hub.code(world.owner()), "raw", "t", "10.9.9.8").key
    with _raw(live_edge_hub.url, key) as ws:
        ws.send(_hello(clock))
        assert json.loads(ws.recv(timeout=5))["type"] == "welcome"
        ws.send(json.dumps({"v": 1, "type": "health", "sent_at": clock.now().isoformat(), "queued_reads": -5}))
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                ws.recv(timeout=5)  # the policy and emergencies sent on connect come first
    assert closed.value.rcvd.code == 1008 and "queued_reads" in closed.value.rcvd.reason
    with live_edge_hub.hub.uow() as uow:
        refusals = [r.details for r in uow.audit.iter_records() if r.action == "edge.message_refused"]
        uow.rollback()
    assert refusals and "queued_reads" in refusals[-1]["reason"]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # the protocol is the subject, not the database
def test_clock_skew_is_seen_on_both_sides(live_edge_hub, world, tmp_path, backend):
    owner = world.owner("Olga")
    box = start_box(live_edge_hub, owner, tmp_path, [], skew_s=90)
    try:
        assert box.alarms.is_active("clock_skew") and box.link.clock_skew_s == pytest.approx(90, abs=1)
        listed = owner.get("/api/owner/edges").json()[0]
        assert listed["clock_skew_alarm"] and listed["clock_skew_ms"] == pytest.approx(90_000, abs=1000)
    finally:
        box.stop()


def test_health_marks_cameras_offline_on_the_map_and_silence_does_too(live_edge_hub, world, tmp_path, clock,
                                                                      backend):
    owner = world.owner("Olga")
    cam, other = _integrated(world, owner), _integrated(world, owner, bearing_deg=180)
    analyst = world.staff("analyst")
    box = start_box(live_edge_hub, owner, tmp_path, [cam, other])
    try:
        def report(online: bool, alarm: bool) -> None:
            box.alarms.raise_("disk_full", "disk full") if alarm else box.alarms.clear("disk_full")
            assert box.link.send(Health(sent_at=box.clock.now(), alarms=box.alarms.take_report(), queued_reads=3,
                                        cameras=[CameraHealth(camera_id=cam, online=online, fps=12.5),
                                                 CameraHealth(camera_id=other, online=True, fps=25)]))

        report(False, True)
        offline = lambda: analyst.get("/api/agency/map/offline").json()["offline"]  # noqa: E731
        wait_for(lambda: offline() == [cam], what="the offline camera on the map")
        listed = owner.get("/api/owner/edges").json()[0]
        assert {c["id"]: c["online"] for c in listed["cameras"]} == {cam: False, other: True}
        assert [a["code"] for a in listed["alarms"]] == ["disk_full"] and listed["queued_reads"] == 3
        report(True, True)  # the same alarm again: audited once
        report(True, False)
        wait_for(lambda: owner.get("/api/owner/edges").json()[0]["alarms"] == [], what="the alarm cleared")
        assert offline() == []
        with live_edge_hub.hub.uow() as uow:
            alarms = [r.details for r in uow.audit.iter_records() if r.action == "edge.alarms"]
            uow.rollback()
        assert alarms == [{"raised": ["disk_full:"], "cleared": []}, {"raised": [], "cleared": ["disk_full:"]}]
        clock.advance(minutes=3)  # the box has been silent for longer than two minutes
        assert sorted(offline()) == sorted([cam, other])
        assert world.staff("analyst", "harbor").get("/api/agency/map/offline").json()["offline"] == []
    finally:
        box.stop()


def test_the_boxs_access_log_reaches_the_owner_once(live_edge_hub, world, tmp_path, backend):
    owner = world.owner("Olga")
    cam = _integrated(world, owner)
    box = start_box(live_edge_hub, owner, tmp_path, [cam])
    try:
        agency = world.agency().id
        entry = box.access_log.record(kind="live", outcome="refused", reason="the owner has paused sharing",
                                      camera_id=cam, agency_id=agency, user_id="u1", purpose="pursuit")
        log = lambda: owner.get(f"/api/owner/cameras/{cam}/edge-access-log").json()  # noqa: E731
        wait_for(lambda: len(log()) == 1, what="the box's entry on the hub")
        from openrtcc.domain.edge_protocol import AccessLog
        assert box.link.send(AccessLog(sent_at=box.clock.now(), entries=[entry, entry]))  # re-sent: kept once
        box.access_log.record(kind="clip", outcome="allowed", reason="ok", camera_id=cam, agency_id=agency)
        wait_for(lambda: len(log()) == 2, what="the second entry")
        got = log()
        assert [e["kind"] for e in got] == ["clip", "live"] and got[1]["reason"] == "the owner has paused sharing"
        assert got[1]["agency"] == "Lakeport Police"
        assert world.owner("Bob").get(f"/api/owner/cameras/{cam}/edge-access-log").status_code == 404
        # marked sent on the box only by the hub's answer after its commit (AccessLogStored)
        wait_for(lambda: box.access_log.unsent() == [], what="the hub's acknowledgement of both entries")
    finally:
        box.stop()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # the protocol is the subject, not the database
def test_hold_results_confirm_the_hold(live_edge_hub, world, tmp_path, clock, backend):
    from sqlalchemy import insert, select

    from openrtcc.adapters.db.tables import edge_hold
    from openrtcc.domain.edge_protocol import HoldResult

    owner = world.owner("Olga")
    cam = _integrated(world, owner)
    box = start_box(live_edge_hub, owner, tmp_path, [cam])
    supervisor = world.staff("supervisor")
    user = supervisor.get("/api/auth/me").json()
    engine = live_edge_hub.hub.extras["engine"]
    with engine.begin() as conn:  # a hold as the hub's clip service records it (not this module's to make)
        conn.execute(insert(edge_hold).values(
            id="hold-1", camera_id=cam, edge_id=box.creds.edge_id, agency_id=world.agency().id, case_number="26-9",
            start_at=clock.now() - timedelta(hours=1), end_at=clock.now(), created_by=user["id"],
            created_at=clock.now()))
    try:
        assert box.link.send(HoldResult(sent_at=box.clock.now(), hold_id="hold-1", status="held"))
        def confirmed():
            with engine.connect() as conn:
                return conn.execute(select(edge_hold.c.confirmed_at).where(edge_hold.c.id == "hold-1")).scalar_one()
        wait_for(lambda: confirmed() is not None, what="the hold confirmed")
        assert box.link.send(HoldResult(sent_at=box.clock.now(), hold_id="hold-1", status="released"))
        wait_for(lambda: confirmed() is None, what="the release")
    finally:
        box.stop()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # the link's behaviour is the subject
def test_the_box_rides_out_a_hub_outage(live_edge_hub, world, tmp_path, backend):
    owner = world.owner("Olga")
    cam = _integrated(world, owner)
    box = start_box(live_edge_hub, owner, tmp_path, [cam])
    try:
        live_edge_hub.stop()
        wait_for(lambda: box.alarms.is_active("hub_unreachable"), 10.0, "the outage noticed")
        assert not box.link.connected.is_set() and box.link.send(object()) is False  # nothing queued into a void
        entry = box.access_log.record(kind="live", outcome="refused", reason="during the outage", camera_id=cam)
        live_edge_hub.restart()
        wait_for(box.link.connected.is_set, 10.0, "the link back (back-off <= 1 s here)")
        assert not box.alarms.is_active("hub_unreachable")
        log = lambda: owner.get(f"/api/owner/cameras/{cam}/edge-access-log").json()  # noqa: E731
        wait_for(lambda: [e["reason"] for e in log()] == [entry.reason], what="the entry logged while cut off")
    finally:
        box.stop()
