"""The dissemination pipeline on both backends, with senders that record what they are handed: a plate hit
reaches police units only; an incident reaches the public inside its area and not outside; failures are retried
with back-off and dead-lettered; a re-announced alert goes out once; deliveries left by a stop are sent by the
next hub; a sign-up's confirmation goes out; public messages are rate-limited."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest

from openrtcc.bootstrap import build_hub
from openrtcc.config import Settings
from openrtcc.domain.alerts import AlertRaised
from openrtcc.domain.command_events import IncidentChanged
from openrtcc.domain.dissemination import ChannelKind, SendOutcome
from openrtcc.domain.incidents import IncidentSource, IncidentStatus, IncidentView
from openrtcc.services import dissemination
from tests.integration import db_probe as db
from tests.plate_reads import NCIC_LIST, import_list, new_source, post_reads, read_body

AREA = {"type": "Circle", "center": [-87.92, 43.0], "radius_m": 800}


@pytest.fixture
def settings(tmp_path, database_url) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=database_url, smtp_host=None,
                    max_upload_bytes=2 * 1024 * 1024, tile_url="", delivery_max_attempts=3,
                    outbound_allow_private=True)  # the webhook and broker subscribers are on loopback


class RecordingSender:
    """A channel that records each message handed to it; `fail` outcomes first, each retryable."""

    def __init__(self, fail: int = 0):
        self.got, self.fail = [], fail
        self._lock = threading.Lock()

    def send(self, messages):
        out = []
        with self._lock:
            for m in messages:
                if self.fail > 0:
                    self.fail -= 1
                    out.append(SendOutcome(m.delivery_id, False, "receiver answered 503"))
                else:
                    self.got.append(m)
                    out.append(SendOutcome(m.delivery_id, True))
        return out


@pytest.fixture
def channels(hub):
    rec = {kind: RecordingSender() for kind in ChannelKind}
    hub.extras["channels"] = rec
    worker = hub.extras["dissemination"]
    worker.start()
    yield rec
    worker.stop()


def subscriber(world, audience="police_unit", channel="email", address="unit12@lakeport.test", slug="lakeport",
               **kw) -> dict:
    body = {"audience": audience, "channel": channel, "name": kw.pop("name", "Unit 12"), "address": address, **kw}
    r = world.admin(slug).post("/api/dissemination/subscribers", json=body)
    assert r.status_code == 201, r.text
    world.hub.extras["dissemination"].index(fresh=True)  # rebuilt in the background: wait for it here
    return r.json()


def public_subscriber(hub, world, address: str, geofence: dict | None, channel="email", status="active") -> str:
    """What the public sign-up's double opt-in leaves behind: a public subscriber (written here through the repository)."""
    sid, agency_id = hub.ids.new_id(), world.agency().id
    with hub.uow() as uow:
        uow.dissemination.add_subscriber(dict(
            id=sid, agency_id=agency_id, audience="public", channel=channel, address=address, name=None,
            categories=[], geofence=geofence, secret=None, status=status, created_by=None,
            created_at=hub.clock.now()))
        uow.commit_bookkeeping()
    dissemination.subscribers_changed(hub)
    hub.extras["dissemination"].index(fresh=True)
    return sid


def drain(hub) -> None:
    assert hub.extras["dissemination"].drain(10)


def retry(hub, clock, seconds: float) -> None:
    clock.advance(seconds=seconds)
    hub.extras["dissemination"].retry_round()
    drain(hub)


def hit(world, anon, clock, read_id="r-1") -> None:
    if not hasattr(world, "_source_key"):
        import_list(world, "NCIC stolen", "ncic", NCIC_LIST)
        world._source_key = new_source(world)[0]
    r = post_reads(anon, world._source_key, [read_body(read_id, "ABC123", clock.now() - timedelta(seconds=5),
                                                       state="CA")])
    assert r.status_code == 200, r.text


def incident(world, clock, lat: float, lon: float, change="opened", iid="inc-1") -> IncidentChanged:
    now = clock.now()
    view = IncidentView(iid, world.agency().id, IncidentSource.CAD, "C-1", "burglary", 2, "Burglary at 1234 Oak Ave",
                        "Caller Ottoline Vask, +14145550177", lat, lon, "1234 Oak Ave, Lakeport", IncidentStatus.NEW,
                        None, None, None, None, None, None, now, now, None, {})
    return IncidentChanged(view, change)


def test_a_plate_hit_reaches_police_units_only_and_once(world, anon, hub, clock, channels, backend):
    subscriber(world)
    subscriber(world, channel="webhook", address="http://127.0.0.1:9/hook", audience="private_security",
               name="Acme Patrol")
    public_subscriber(hub, world, "resident@example.org", AREA)
    events = []
    hub.bus.subscribe(AlertRaised, events.append)
    hit(world, anon, clock)
    drain(hub)
    [msg] = channels[ChannelKind.EMAIL].got
    assert msg.address == "unit12@lakeport.test" and "ABC123 (CA)" in msg.subject and "NCIC stolen" in msg.subject
    assert channels[ChannelKind.WEBHOOK].got == []
    [row] = db.rows(hub, "SELECT status, attempts, handed_at FROM delivery")
    assert row.status == "sent" and row.attempts == 1 and row.handed_at is not None
    [audit] = db.rows(hub, "SELECT details FROM audit_log WHERE action = 'notify.notice'")
    assert "email" in str(audit.details) and "ABC123" not in str(audit.details)
    hub.bus.publish(events[0])  # the relay's re-announcement after a stop between commit and publish
    drain(hub)
    assert len(channels[ChannelKind.EMAIL].got) == 1
    assert db.count(hub, "notice") == 1 and db.count(hub, "delivery") == 1


def test_an_incident_reaches_the_public_in_its_area_and_data_channels_follow_updates(world, hub, clock, channels,
                                                                                     backend):
    inside = public_subscriber(hub, world, "inside@example.org", AREA)
    public_subscriber(hub, world, "outside@example.org", {"type": "Circle", "center": [-87.86, 43.05],
                                                          "radius_m": 800})
    hook = subscriber(world, channel="webhook", address="http://127.0.0.1:9/hook", audience="partner_business",
                      name="Harbor Mall", geofence=AREA)
    hub.bus.publish(incident(world, clock, 43.001, -87.921))
    drain(hub)
    [mail] = channels[ChannelKind.EMAIL].got
    assert mail.address == "inside@example.org" and "Burglary reported: the 1200 block of Oak Ave" in mail.subject
    assert "Vask" not in mail.text and "1234" not in mail.text and f"s={inside}" in mail.headers["List-Unsubscribe"]
    [doc] = [m.data for m in channels[ChannelKind.WEBHOOK].got]
    assert doc["type"] == "new" and doc["before"] is None and doc["after"]["ref"] == "inc-1"
    assert channels[ChannelKind.WEBHOOK].got[0].secret and hook["secret"] == channels[ChannelKind.WEBHOOK].got[0].secret
    clock.advance(minutes=5)
    before = incident(world, clock, 43.001, -87.921).incident
    hub.bus.publish(IncidentChanged(incident(world, clock, 43.001, -87.921).incident, "closed", before))
    drain(hub)
    assert len(channels[ChannelKind.EMAIL].got) == 1  # email carries news, not each change
    assert [m.data["type"] for m in channels[ChannelKind.WEBHOOK].got] == ["new", "end"]
    assert channels[ChannelKind.WEBHOOK].got[1].data["before"]["category"] == "Burglary"


def test_failures_are_retried_with_back_off_then_dead_lettered(world, anon, hub, clock, channels, backend):
    channels[ChannelKind.EMAIL].fail = 1
    channels[ChannelKind.SMS].fail = 10
    subscriber(world)
    subscriber(world, channel="sms", address="+14145550100", name="Unit 7")
    hit(world, anon, clock)
    drain(hub)
    rows = {r.channel: r for r in db.rows(hub, "SELECT channel, status, attempts, next_at, last_error FROM delivery")}
    assert rows["email"].status == rows["sms"].status == "failed"
    assert rows["email"].last_error == "receiver answered 503"
    retry(hub, clock, 1)  # not due yet: back-off of 2.5-5 s
    assert channels[ChannelKind.EMAIL].got == []
    retry(hub, clock, 6)
    assert len(channels[ChannelKind.EMAIL].got) == 1
    retry(hub, clock, 11)  # third and last attempt of the SMS
    rows = {r.channel: r for r in db.rows(hub, "SELECT id, channel, status, attempts FROM delivery")}
    assert (rows["email"].status, rows["email"].attempts) == ("sent", 2)
    assert (rows["sms"].status, rows["sms"].attempts) == ("dead", 3)
    assert db.count(hub, "audit_log", "action = 'notify.dead_letter'") == 1
    admin = world.admin()
    dead = admin.get("/api/dissemination/dead-letters").json()
    assert [d["id"] for d in dead] == [rows["sms"].id] and dead[0]["last_error"] == "receiver answered 503"
    channels[ChannelKind.SMS].fail = 0
    assert admin.post("/api/dissemination/dead-letters/retry", json={"ids": [rows["sms"].id]}).json() == {"retried": 1}
    retry(hub, clock, 0)
    assert [m.address for m in channels[ChannelKind.SMS].got] == ["+14145550100"]
    assert admin.get("/api/dissemination/dead-letters").json() == []
    r = admin.post("/api/dissemination/dead-letters/discard", json={"ids": [rows["email"].id]})
    assert r.status_code == 409 and r.json()["error"] == "not_dead"


def test_deliveries_left_by_a_stop_are_sent_by_the_next_hub(world, hub, settings, clock, backend):
    subscriber(world, channel="mqtt", address="mqtt://127.0.0.1:1883/homes", name="Precinct board")
    # The first hub stores the bulletin's deliveries and stops before its worker sends them.
    r = world.admin().post("/api/dissemination/bulletins", json={
        "title": "Road closed", "text": "Main St closed for the parade", "audiences": ["police_unit"]})
    assert r.status_code == 201, r.text
    assert r.json()["deliveries"] == {"police_unit/mqtt": 1}
    assert db.rows(hub, "SELECT status FROM delivery")[0].status == "queued"
    second = build_hub(settings, clock=clock, run_migrations=False, fast_hashing=True)
    rec = RecordingSender()
    second.extras["channels"] = {ChannelKind.MQTT: rec}
    worker = second.extras["dissemination"]
    worker.start()
    try:
        retry(second, clock, 5)  # its claim (30 s) has not run out: the first hub might still send it
        assert rec.got == []
        retry(second, clock, 30)
        [msg] = rec.got
        assert msg.topic == "homes/events" and msg.data["after"]["title"] == "Road closed"
    finally:
        worker.stop()
        second.extras["engine"].dispose()
    assert db.rows(hub, "SELECT status FROM delivery")[0].status == "sent"


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # no query of its own: the pipeline is covered on both
def test_send_direct_confirms_a_pending_sign_up(world, hub, clock, channels, backend):
    sid = public_subscriber(hub, world, "new@example.org", AREA, status="pending")
    with hub.uow() as uow:
        dissemination.send_direct(hub, uow, sid, "Confirm your alerts", "Open https://x.test/subscribe/confirm")
        uow.commit_bookkeeping()
    retry(hub, clock, 0)
    [msg] = channels[ChannelKind.EMAIL].got
    assert (msg.address, msg.subject) == ("new@example.org", "Confirm your alerts") and "confirm" in msg.text
    hub.bus.publish(incident(world, clock, 43.0, -87.92))
    drain(hub)
    assert len(channels[ChannelKind.EMAIL].got) == 1  # pending: no incident news before it is confirmed


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # the limit is kept in memory
def test_public_messages_over_the_hourly_limit_are_suppressed(world, hub, clock, channels, backend):
    public_subscriber(hub, world, "busy@example.org", None, channel="sms")
    for i in range(8):
        hub.bus.publish(incident(world, clock, 43.0, -87.92, iid=f"inc-{i}"))
        clock.advance(minutes=1)
    drain(hub)
    assert len(channels[ChannelKind.SMS].got) == 6
    assert db.count(hub, "delivery", "status = 'suppressed'") == 2
    counts = world.admin().get("/api/dissemination/deliveries/counts").json()
    assert counts["sent"] == 6 and counts["suppressed"] == 2


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # the limit is kept in memory
def test_a_channel_limit_holds_the_rest_for_the_next_second(world, hub, settings, clock, backend):
    for i in range(3):
        subscriber(world, channel="sms", address=f"+1414555010{i}", name=f"Unit {i}")
    limited = build_hub(settings.model_copy(update={"channel_per_second": {"sms": 2}}), clock=clock,
                        run_migrations=False, fast_hashing=True)
    rec = RecordingSender()
    limited.extras["channels"] = {ChannelKind.SMS: rec}
    worker = limited.extras["dissemination"]
    worker.start()
    try:
        limited.bus.publish(incident(world, clock, 43.0, -87.92))
        drain(limited)
        assert len(rec.got) == 2
        [held] = db.rows(hub, "SELECT status, last_error FROM delivery WHERE status = 'queued'")
        assert held.last_error == "waiting for the channel's rate limit"
        retry(limited, clock, 1)
        assert sorted(m.address for m in rec.got) == ["+14145550100", "+14145550101", "+14145550102"]
    finally:
        worker.stop()
        limited.extras["engine"].dispose()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # the worker's own retry; storage covered on both
def test_a_batch_the_database_refuses_is_stored_when_it_is_back_and_never_half(world, hub, clock, channels, backend):
    public_subscriber(hub, world, "resident@example.org", AREA)
    db.break_audit_inserts(hub)  # the notice's audit record cannot be written: the whole batch is refused
    hub.bus.publish(incident(world, clock, 43.0, -87.92, iid="inc-down"))
    time.sleep(0.2)
    assert db.count(hub, "notice") == 0 and db.count(hub, "delivery") == 0 and channels[ChannelKind.EMAIL].got == []
    db.repair_audit_inserts(hub)
    drain(hub)
    [msg] = channels[ChannelKind.EMAIL].got
    assert msg.address == "resident@example.org" and db.count(hub, "notice") == 1
