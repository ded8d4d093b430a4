"""The agency's dissemination admin on both backends: who may manage subscribers and send bulletins, one
agency never sees or touches another's, secrets shown once, public addresses masked, webhook and broker URLs
that reach inside refused (SSRF), bad input refused with a clear error, every change audited."""

from __future__ import annotations

import hashlib

import pytest

from openrtcc.services import dissemination
from tests.integration import db_probe as db

HOOK = "https://93.184.215.14/rtcc-hook?key=abc"  # a literal public address: no DNS needed


def patch(session, url: str, body: dict):
    return session.client.patch(url, headers=session.headers, json=body)


def create(session, **kw):
    body = {"audience": "private_security", "channel": "webhook", "name": "Acme Patrol", "address": HOOK, **kw}
    return session.post("/api/dissemination/subscribers", json=body)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # secrets and display: one backend is enough
def test_secrets_are_shown_once_and_urls_are_shown_without_credentials(world, hub, backend):
    admin = world.admin()
    r = create(admin)
    assert r.status_code == 201, r.text
    hook = r.json()
    assert len(hook["secret"]) >= 40 and hook["address"] == "https://93.184.215.14/rtcc-hook"
    sock = create(admin, channel="websocket", address="", audience="police_unit", name="Dispatch screen").json()
    [stored] = db.rows(hub, "SELECT secret FROM subscriber WHERE id = :i", i=sock["id"])
    assert stored.secret == hashlib.sha256(sock["secret"].encode()).hexdigest()  # only the token's hash is kept
    broker = create(admin, channel="mqtt", address="mqtt://bob:pw@93.184.215.14:1883/homes", audience="police_unit")
    assert broker.json()["address"] == "mqtt://93.184.215.14:1883/homes" and broker.json()["secret"] is None
    listed = {s["id"]: s for s in admin.get("/api/dissemination/subscribers").json()}
    assert "secret" not in listed[hook["id"]] and listed[hook["id"]]["address"] == hook["address"]
    rotated = admin.post(f"/api/dissemination/subscribers/{hook['id']}/secret").json()["secret"]
    assert rotated != hook["secret"]
    actions = [r.action for r in db.rows(hub, "SELECT action FROM audit_log WHERE action LIKE 'dissemination.%' "
                                              "ORDER BY seq")]
    assert actions == ["dissemination.subscriber.create"] * 3 + ["dissemination.subscriber.list",
                                                                 "dissemination.subscriber.rotate_secret"]
    assert HOOK not in str(db.rows(hub, "SELECT details FROM audit_log"))


BAD = [
    ({"channel": "webhook", "address": "http://127.0.0.1:8000/api"}, "unsafe_outbound_url"),
    ({"channel": "webhook", "address": "http://10.0.0.5/hook"}, "unsafe_outbound_url"),
    ({"channel": "webhook", "address": "http://169.254.169.254/latest/meta-data"}, "unsafe_outbound_url"),
    ({"channel": "mqtt", "address": "mqtt://192.168.1.10:1883/x"}, "unsafe_outbound_url"),
    ({"channel": "webhook", "address": "file:///etc/passwd"}, "unsafe_outbound_url"),
    ({"channel": "email", "address": "not-an-email"}, "bad_address"),
    ({"channel": "sms", "address": "4145550100"}, "bad_address"),
    ({"channel": "websocket", "address": "https://x.example"}, "bad_address"),
    ({"audience": "public", "channel": "email", "address": "a@b.example"}, None),
    ({"geofence": {"type": "Circle", "center": [-87.9, 43], "radius_m": 5}}, "bad_geofence"),
    ({"categories": ["Burglary!"]}, "bad_categories"),
    ({"channel": "mqtt", "address": "mqtt://u:pw@10.1.1.1:1883/x"}, "unsafe_outbound_url"),
]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # plain validation: one backend is enough
def test_bad_subscriptions_are_refused(world, hub, backend):
    admin = world.admin()
    for body, code in BAD:
        r = create(admin, **body)
        assert r.status_code == 422, (body, r.text)
        if code:
            assert r.json()["error"] == code and "pw" not in r.text, (body, r.text)
    assert db.count(hub, "subscriber") == 0


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # roles decide: one backend is enough
def test_who_may_do_what(world, hub, backend):
    admin, supervisor = world.admin(), world.staff("supervisor")
    analyst, officer, auditor = world.staff("analyst"), world.staff("officer"), world.staff("auditor")
    assert create(supervisor).status_code == 201
    for s in (analyst, officer, auditor):
        assert create(s).json()["error"] == "permission_denied"
        assert s.get("/api/dissemination/deliveries").status_code == 403
    bulletin = {"title": "Parade", "text": "Main St closed 9-12", "audiences": ["public", "police_unit"]}
    assert analyst.post("/api/dissemination/bulletins", json=bulletin).status_code == 201
    assert officer.post("/api/dissemination/bulletins", json=bulletin).status_code == 403
    owner = world.owner()
    assert owner.get("/api/dissemination/subscribers").json()["error"] == "agency_only"
    assert admin.get("/api/dissemination/subscribers").status_code == 200
    [audit] = db.rows(hub, "SELECT actor_id, details FROM audit_log WHERE action = 'dissemination.bulletin'")
    assert audit.actor_id and "Parade" in str(audit.details)


def test_one_agency_never_sees_or_touches_anothers(world, hub, backend):
    from tests.conftest import HARBOR

    world.agency("harbor", HARBOR)
    ours = create(world.admin()).json()
    theirs = world.admin("harbor")
    assert theirs.get("/api/dissemination/subscribers").json() == []
    assert patch(theirs, f"/api/dissemination/subscribers/{ours['id']}", {"name": "Mine now"}).status_code == 404
    assert theirs.delete(f"/api/dissemination/subscribers/{ours['id']}").status_code == 404
    assert theirs.post(f"/api/dissemination/subscribers/{ours['id']}/secret").status_code == 404
    with hub.uow() as uow:
        dissemination.send_direct(hub, uow, ours["id"], "Test", "Hello")
        uow.commit_bookkeeping()
    [d] = db.rows(hub, "SELECT id FROM delivery")
    db.execute(hub, f"UPDATE delivery SET status = 'dead' WHERE id = {d.id}")
    assert theirs.get("/api/dissemination/deliveries").json() == []
    assert theirs.get("/api/dissemination/dead-letters").json() == []
    r = theirs.post("/api/dissemination/dead-letters/retry", json={"ids": [d.id]})
    assert r.status_code == 404 and r.json()["error"] == "delivery_not_found"
    assert [x["id"] for x in world.admin().get("/api/dissemination/dead-letters").json()] == [d.id]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # display and rules: one backend is enough
def test_public_subscribers_are_masked_and_only_their_status_can_be_set(world, hub, backend):
    sid, agency_id = hub.ids.new_id(), world.agency().id
    with hub.uow() as uow:
        uow.dissemination.add_subscriber(dict(
            id=sid, agency_id=agency_id, audience="public", channel="email", address="jane.doe@example.org",
            name=None, categories=[], geofence=None, secret=None, status="active", created_by=None,
            created_at=hub.clock.now()))
        uow.commit_bookkeeping()
    admin = world.admin()
    [listed] = admin.get("/api/dissemination/subscribers?audience=public").json()
    assert listed["address"] == "j***@example.org"
    r = patch(admin, f"/api/dissemination/subscribers/{sid}", {"categories": ["fire"]})
    assert r.status_code == 422 and r.json()["error"] == "public_subscriber"
    assert admin.delete(f"/api/dissemination/subscribers/{sid}").json()["status"] == "disabled"
    assert patch(admin, f"/api/dissemination/subscribers/{sid}", {"status": "active"}).json()["status"] == "active"


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # rendering: one backend is enough
def test_bulletin_preview_shows_each_audience_its_words(world, hub, backend):
    admin = world.admin()
    create(admin, audience="partner_business", geofence={"type": "Circle", "center": [-87.92, 43.0], "radius_m": 500})
    body = {"title": "Suspicious van", "text": "Call 414-555-0199 or mail det@lakeport.test about plate ABC1234",
            "audiences": ["partner_business", "police_unit"], "lat": 43.0, "lon": -87.92, "radius_m": 300,
            "category": "suspicious_activity"}
    r = admin.post("/api/dissemination/bulletins/preview", json=body)
    assert r.status_code == 200, r.text
    preview = r.json()
    assert preview["partner_business"]["subscribers"] == 1 and preview["police_unit"]["subscribers"] == 0
    partner = preview["partner_business"]["text"]
    assert "ABC1234" not in partner and "555-0199" not in partner and "det@" not in partner
    assert "ABC1234" in preview["police_unit"]["text"]
    assert db.count(hub, "notice") == 0  # a preview stores nothing
    for bad in ({"audiences": []}, {"lon": None}, {"radius_m": 500, "lat": None, "lon": None},
                {"category": "Bad Category"}, {"lat": 91, "lon": 0}):
        assert admin.post("/api/dissemination/bulletins", json={**body, **bad}).status_code == 422, bad
