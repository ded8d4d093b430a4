"""Live alerts over WebSocket: agency-scoped, for roles that may view alerts, Origin-checked, with heartbeats."""

from __future__ import annotations

from datetime import datetime

import pytest
from starlette.websockets import WebSocketDisconnect

from openrtcc.web.alert_stream import AlertStream
from tests.plate_reads import NCIC_LIST, earlier, import_list, new_source, post_reads, read_body

ORIGIN = "http://127.0.0.1:8000"  # the settings' base URL


@pytest.fixture
def stream(app, hub) -> AlertStream:
    """The app's fan-out with a short heartbeat, so an idle socket answers within the test's patience."""
    app.state.alert_stream = AlertStream(hub.bus, heartbeat_s=0.2)
    yield app.state.alert_stream
    app.state.alert_stream.unsubscribe()


def next_alert(ws, heartbeats: int = 25) -> dict:
    for _ in range(heartbeats):
        message = ws.receive_json()
        if message["type"] == "alert":
            return message["alert"]
        assert message == {"type": "heartbeat"}
    raise AssertionError("no alert arrived")


def stream_audit(hub) -> list:
    with hub.uow() as uow:
        records = [(a.outcome, a.details.get("reason"), a.actor_id) for a in uow.audit.iter_records()
                   if a.action == "alert.stream"]
        uow.rollback()
    return records


def test_alerts_reach_the_agencys_clients_only(world, anon, stream, clock):
    import_list(world, "NCIC stolen", "ncic", NCIC_LIST)
    import_list(world, "Harbor stolen", "ncic", NCIC_LIST, slug="harbor")
    key, _ = new_source(world)
    harbor_key, _ = new_source(world, slug="harbor")
    officer, harbor = world.staff("officer"), world.staff("supervisor", slug="harbor")
    with officer.client.websocket_connect("/ws/alerts", headers=officer.headers) as ours, \
            harbor.client.websocket_connect("/ws/alerts", headers=harbor.headers) as theirs:
        assert ours.receive_json() == {"type": "heartbeat"}  # idle: a heartbeat, not silence
        sent = earlier(clock, seconds=3)
        r = post_reads(anon, key, [read_body("r-1", "ABC123", sent, state="CA", heading_deg=90.0)])
        assert r.status_code == 200, r.text
        alert = next_alert(ours)
        assert (alert["plate"], alert["state"], alert["match_kind"], alert["status"]) == ("ABC123", "CA", "exact",
                                                                                          "new")
        assert alert["record"]["make"] == "TOYT" and alert["list_name"] == "NCIC stolen"
        assert (alert["lat"], alert["lon"], alert["heading_deg"]) == (43.0, -87.92, 90.0)
        assert datetime.fromisoformat(alert["captured_at"]) == sent
        assert post_reads(anon, harbor_key, [read_body("h-1", "8OS5521", earlier(clock, seconds=2),
                                                       state="WI")]).status_code == 200
        # Harbor's first alert is its own: Lakeport's never reached it.
        assert next_alert(theirs)["plate"] == "8OS5521"
        listed = officer.get("/api/agency/alerts").json()
        assert [a["id"] for a in listed] == [alert["id"]]


def test_refused_handshakes_are_audited(world, stream, hub):
    officer, auditor = world.staff("officer"), world.staff("auditor")
    refusals = [
        (auditor.client, auditor.headers, "permission_denied"),
        (officer.client, {**officer.headers, "Origin": "https://evil.example"}, "cross_origin"),
        (officer.client, {}, "origin_required"),  # the session cookie alone, and no Origin: not our page
        (officer.client, {"Authorization": "Bearer not-a-session"}, "not_logged_on"),
        (world.owner().client, {"Origin": ORIGIN}, "permission_denied"),
    ]
    for client, headers, _ in refusals:
        with pytest.raises(WebSocketDisconnect) as refused:
            with client.websocket_connect("/ws/alerts", headers=headers) as ws:
                ws.receive_json()
        assert refused.value.code == 1008
    # The page's own connection: the session cookie, from our origin.
    with officer.client.websocket_connect("/ws/alerts", headers={"Origin": ORIGIN}) as ws:
        assert ws.receive_json() == {"type": "heartbeat"}
    records = stream_audit(hub)
    assert [r[1] for r in records[:-1]] == [r[2] for r in refusals]
    assert all(r[0] == "denied" for r in records[:-1]) and records[-1][0] == "success"


def test_an_open_socket_ends_with_its_session(world, app, hub, clock):
    """The idle lock applies to a live screen too: the socket's own checks do not count as activity, and
    the socket closes once the session has ended, however the session ended."""
    app.state.alert_stream = AlertStream(hub.bus, heartbeat_s=0.05, session_recheck_s=0.05)
    try:
        officer, analyst = world.staff("officer"), world.staff("analyst")
        with officer.client.websocket_connect("/ws/alerts", headers=officer.headers) as ws:
            for _ in range(5):  # several re-checks pass while the session is good
                assert ws.receive_json() == {"type": "heartbeat"}
            clock.advance(minutes=31)
            with pytest.raises(WebSocketDisconnect) as closed:
                for _ in range(100):
                    ws.receive_json()
            assert closed.value.code == 1008
        # It was the idle lock that ended it, and the socket's re-checks did not keep the session alive.
        assert officer.get("/api/auth/me").status_code == 401

        clock.advance(minutes=-31)  # back to when the analyst's session was fresh
        with analyst.client.websocket_connect("/ws/alerts", headers=analyst.headers) as ws:
            assert ws.receive_json() == {"type": "heartbeat"}
            assert analyst.post("/api/auth/logoff").status_code == 204
            with pytest.raises(WebSocketDisconnect) as closed:
                for _ in range(100):
                    ws.receive_json()
            assert closed.value.code == 1008
    finally:
        app.state.alert_stream.unsubscribe()
