"""The command-center socket (`/ws/command`, also `/ws/alerts`): every command event of the agency, in the
documented shapes, and never another agency's; each event serialised once whatever the number of screens."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import pytest

from openrtcc.domain.command_events import (
    CameraStatusChanged,
    EmergencyChanged,
    SharingChanged,
    TipReceived,
)
from openrtcc.web.alert_stream import AlertStream
from tests.plate_reads import NCIC_LIST, earlier, import_list, new_source, post_reads, read_body

AT = datetime(2026, 11, 21, 19, 30, tzinfo=UTC)


@pytest.fixture
def stream(app, hub) -> AlertStream:
    app.state.alert_stream = AlertStream(hub.bus, heartbeat_s=0.2)
    yield app.state.alert_stream
    app.state.alert_stream.unsubscribe()


def next_event(ws, heartbeats: int = 25) -> dict:
    for _ in range(heartbeats):
        message = ws.receive_json()
        if message["type"] != "heartbeat":
            return message
    raise AssertionError("no event arrived")


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # the database plays no part here
def test_each_kind_of_event_reaches_its_agencys_screens_only(world, stream, hub):
    lakeport, harbor = world.agency("lakeport").id, world.agency("harbor").id
    officer, theirs = world.staff("officer"), world.staff("officer", slug="harbor")
    with officer.client.websocket_connect("/ws/command", headers=officer.headers) as ours, \
            officer.client.websocket_connect("/ws/alerts", headers=officer.headers) as old_path, \
            theirs.client.websocket_connect("/ws/command", headers=theirs.headers) as harbor_ws:
        # Harbor's events first: had any of them reached Lakeport, Lakeport's first message would show it.
        hub.bus.publish(TipReceived("t-harbor", harbor, AT, False, "someone at the marina"))
        hub.bus.publish(CameraStatusChanged("cam-1", (lakeport,), False, AT, "box_offline"))
        hub.bus.publish(SharingChanged("cam-2", (lakeport, harbor), "revoked", AT))
        hub.bus.publish(TipReceived("t-1", lakeport, AT, True, "a grey van circling"))
        hub.bus.publish(EmergencyChanged("e-1", lakeport, "declared", AT))
        at = AT.isoformat().replace("+00:00", "Z")
        expected = [
            {"type": "camera_status", "camera_id": "cam-1", "online": False, "at": at, "reason": "box_offline"},
            {"type": "sharing", "camera_id": "cam-2", "change": "revoked", "at": at},
            {"type": "tip", "tip_id": "t-1", "at": at, "has_media": True, "excerpt": "a grey van circling"},
            {"type": "emergency", "emergency_id": "e-1", "change": "declared", "at": at},
        ]
        for ws in (ours, old_path):
            assert [next_event(ws) for _ in expected] == expected
        assert next_event(harbor_ws)["tip_id"] == "t-harbor"
        assert next_event(harbor_ws) == {"type": "sharing", "camera_id": "cam-2", "change": "revoked", "at": at}
        hub.bus.publish(EmergencyChanged("e-2", harbor, "ended", AT))
        assert next_event(harbor_ws)["emergency_id"] == "e-2"
        hub.bus.publish(EmergencyChanged("e-3", lakeport, "expired", AT))
        assert next_event(ours)["emergency_id"] == "e-3"  # e-2 (Harbor's) did not come first


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # the database plays no part here
def test_one_text_for_every_screen_of_every_agency_it_is_for(world, stream, hub):
    lakeport, harbor, other = world.agency("lakeport").id, world.agency("harbor").id, world.agency("bayside").id

    async def scenario():
        screens = [stream.join(lakeport), stream.join(lakeport), stream.join(harbor)]
        elsewhere = stream.join(other)
        hub.bus.publish(SharingChanged("cam-9", (lakeport, harbor), "paused", AT))
        await asyncio.sleep(0.05)  # the hand-overs to this loop run
        texts = [s.queue.get_nowait() for s in screens]
        assert elsewhere.queue.empty()
        for s in (*screens, elsewhere):
            stream.leave(s)
        return texts

    texts = asyncio.run(scenario())
    assert json.loads(texts[0])["camera_id"] == "cam-9"
    assert texts[0] is texts[1] is texts[2]  # serialised once, the same text handed to each screen


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # the database plays no part here
def test_the_old_alerts_page_ignores_what_it_does_not_know(world, stream, hub):
    """/alerts reads only `alert` messages: other types on its socket must not break the page's JSON."""
    officer = world.staff("officer")
    with officer.client.websocket_connect("/ws/alerts", headers=officer.headers) as ws:
        hub.bus.publish(TipReceived("t-1", world.agency().id, AT, False, 'quote " and \\ backslash'))
        assert next_event(ws)["excerpt"] == 'quote " and \\ backslash'


def test_incidents_and_alert_actions_arrive_as_operators_act(world, stream, anon, clock):
    import_list(world, "NCIC stolen", "ncic", NCIC_LIST)
    key, _ = new_source(world)
    supervisor, harbor = world.staff("supervisor"), world.staff("supervisor", slug="harbor")
    place = {"lat": 43.0, "lon": -87.92}
    with supervisor.client.websocket_connect("/ws/command", headers=supervisor.headers) as ws:
        r = harbor.post("/api/incidents", json={"category": "robbery", "priority": 2, "title": "Harbor's", **place})
        assert r.status_code == 201, r.text
        r = supervisor.post("/api/incidents", json={"category": "shots_fired", "priority": 1,
                                                    "title": "Shots fired at Main and 3rd", **place})
        assert r.status_code == 201, r.text
        opened = next_event(ws)  # Harbor's incident, opened first, never came
        assert (opened["type"], opened["change"]) == ("incident", "opened")
        assert opened["incident"] == {**r.json(), "timeline": None}  # the incidents API's own shape
        assert supervisor.post(f"/api/incidents/{r.json()['id']}/acknowledge").status_code == 200
        updated = next_event(ws)
        assert (updated["change"], updated["incident"]["status"]) == ("updated", "acknowledged")

        assert post_reads(anon, key, [read_body("r-1", "ABC123", earlier(clock, seconds=3), state="CA")]
                          ).status_code == 200
        raised = next_event(ws)
        assert (raised["type"], raised["alert"]["plate"]) == ("alert", "ABC123")
        r = supervisor.post(f"/api/agency/alerts/{raised['alert']['id']}/escalate", json={"note": "armed"})
        assert r.status_code == 200, r.text
        changed = next_event(ws)
        assert (changed["type"], changed["action"]) == ("alert_update", "escalate")
        assert changed["alert"]["escalated_at"] is not None and changed["alert"]["id"] == raised["alert"]["id"]
