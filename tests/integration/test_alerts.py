"""Alerts on both backends: raised on hot-list hits (and not on other states' plates), kept per agency,
closed by a person's disposition, crops shown only to those who may see alerts, each access audited."""

from __future__ import annotations

import pytest

from tests.plate_reads import JPEG, NCIC_LIST, b64, earlier, import_list, new_source, post_reads, read_body


@pytest.fixture
def alerted(world, anon, clock):
    """A stolen-vehicle list, a source, and reads that hit it in each way (or do not)."""
    ncic = import_list(world, "NCIC stolen", "ncic", NCIC_LIST)
    custom = import_list(world, "Burglary suspects", "custom",
                         "plate,state,reason,owner,expires_at\n7XY*,,seen leaving burglary 24-1102,Det. Moss,"
                         f"{(clock.now().year + 1)}-01-01\n")
    key, _ = new_source(world)
    at = earlier(clock, seconds=20)
    reads = [
        read_body("r-exact", "ABC 123", at, state="CA", crop=b64(JPEG)),
        read_body("r-other-state", "ABC123", at, state="NV"),
        read_body("r-lookalike", "BOS5521", at, state="WI"),
        read_body("r-partial", "7XY0042", at),
        read_body("r-miss", "QQQ777", at, state="CA"),
    ]
    r = post_reads(anon, key, reads)
    assert r.status_code == 200, r.text
    return {"ncic": ncic, "custom": custom, "key": key, "ids": {a["read_id"]: a["id"] for a in r.json()["results"]}}


def by_plate(alerts: list[dict]) -> dict:
    return {a["plate"]: a for a in alerts}


def test_hits_raise_alerts_with_the_record_and_the_kind_of_match(world, alerted, hub):
    officer = world.staff("officer")
    r = officer.get("/api/agency/alerts")
    assert r.status_code == 200, r.text
    alerts = by_plate(r.json())
    assert sorted(alerts) == ["7XY0042", "ABC123", "BOS5521"]  # not the Nevada ABC123, not the miss
    exact = alerts["ABC123"]
    assert (exact["match_kind"], exact["state"], exact["status"]) == ("exact", "CA", "new")
    assert exact["list_name"] == "NCIC stolen" and exact["list_id"] == alerted["ncic"]["id"]
    assert exact["record"]["make"] == "TOYT" and exact["record"]["colour"] == "BLK"
    assert exact["record"]["ncic_number"] == "V123456789" and exact["record"]["plate"] == "ABC123"
    assert exact["crop_url"] == f"/api/agency/alerts/{exact['id']}/crop" and exact["snapshot_url"] is None
    assert alerts["BOS5521"]["match_kind"] == "lookalike" and alerts["BOS5521"]["record"]["plate"] == "8OS5521"
    partial = alerts["7XY0042"]
    assert partial["match_kind"] == "partial" and partial["record"]["reason"] == "seen leaving burglary 24-1102"
    assert partial["record"]["owner"] == "Det. Moss" and partial["crop_url"] is None
    assert officer.get(f"/api/agency/alerts/{exact['id']}").json()["plate"] == "ABC123"
    with hub.uow() as uow:
        pending = uow.activity.due(hub.clock.now(), 100, topic="alert.raised")
        uow.rollback()
    assert pending == []  # announced after commit and marked delivered


def test_a_retried_batch_raises_no_second_alert(world, anon, alerted, clock):
    r = post_reads(anon, alerted["key"], [read_body("r-exact", "ABC 123", earlier(clock, seconds=20), state="CA",
                                                    crop=b64(JPEG))])
    assert r.json()["results"][0]["status"] == "duplicate"
    assert len(world.staff("analyst").get("/api/agency/alerts").json()) == 3


def test_after_returns_only_the_alerts_raised_since(world, anon, alerted, clock):
    officer = world.staff("officer")
    newest = officer.get("/api/agency/alerts").json()[0]
    assert officer.get(f"/api/agency/alerts?after={newest['id']}").json() == []
    clock.advance(seconds=5)
    r = post_reads(anon, alerted["key"], [read_body("r-later", "ABC123", earlier(clock, seconds=1), state="CA")])
    assert r.status_code == 200
    later = officer.get(f"/api/agency/alerts?after={newest['id']}").json()
    assert [a["plate"] for a in later] == ["ABC123"] and later[0]["id"] != newest["id"]
    assert officer.get("/api/agency/alerts?after=no-such-alert").status_code == 404
    assert officer.get("/api/agency/alerts?status=bogus").status_code == 422
    assert [a["plate"] for a in officer.get("/api/agency/alerts?status=new&limit=1").json()] == ["ABC123"]


def test_dispositions_follow_the_rules_and_are_audited(world, alerted, hub):
    officer = world.staff("officer")
    alerts = by_plate(officer.get("/api/agency/alerts").json())
    exact, partial = alerts["ABC123"]["id"], alerts["7XY0042"]["id"]
    url = f"/api/agency/alerts/{exact}/disposition"
    r = officer.post(url, json={"disposition": "confirmed", "note": "  crop matches, black Toyota  "})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "confirmed" and r.json()["disposition_note"] == "crop matches, black Toyota"
    r = officer.post(url, json={"disposition": "misread"})
    assert r.status_code == 409 and r.json()["error"] == "alert_closed"
    assert officer.post(url, json={"disposition": "resolved"}).json()["status"] == "resolved"
    r = world.staff("analyst").post(f"/api/agency/alerts/{partial}/disposition", json={"disposition": "misread"})
    assert r.status_code == 200 and r.json()["status"] == "misread"
    for body in ({"disposition": "new"}, {"disposition": "stolen"}, {"disposition": "confirmed", "note": "x" * 501},
                 {"disposition": "confirmed", "by": "someone"}):
        assert officer.post(f"/api/agency/alerts/{alerts['BOS5521']['id']}/disposition", json=body).status_code == 422
    with hub.uow() as uow:
        records = [a for a in uow.audit.iter_records() if a.action == "alert.disposition"]
        uow.rollback()
    assert [(a.target, a.details["was"], a.details["disposition"]) for a in records] == [
        (f"alert:{exact}", "new", "confirmed"), (f"alert:{exact}", "confirmed", "resolved"),
        (f"alert:{partial}", "new", "misread")]
    assert "crop matches" not in str([a.details for a in records])  # the note stays on the alert


def test_who_may_see_and_disposition_alerts(world, alerted):
    alert = by_plate(world.staff("officer").get("/api/agency/alerts").json())["ABC123"]
    auditor, admin = world.staff("auditor"), world.admin()
    assert auditor.get("/api/agency/alerts").status_code == 403
    assert auditor.get(f"/api/agency/alerts/{alert['id']}/crop").status_code == 403
    assert auditor.post(f"/api/agency/alerts/{alert['id']}/disposition",
                        json={"disposition": "confirmed"}).status_code == 403
    assert admin.get("/api/agency/alerts").status_code == 200  # the administrator watches, does not decide
    assert admin.post(f"/api/agency/alerts/{alert['id']}/disposition",
                      json={"disposition": "confirmed"}).status_code == 403
    harbor = world.staff("officer", slug="harbor")
    assert harbor.get("/api/agency/alerts").json() == []
    for path in ("", "/crop"):
        assert harbor.get(f"/api/agency/alerts/{alert['id']}{path}").status_code == 404
    assert harbor.post(f"/api/agency/alerts/{alert['id']}/disposition",
                       json={"disposition": "misread"}).status_code == 404
    assert world.owner().get("/api/agency/alerts").status_code == 403


def test_crops_are_served_as_images_only_and_each_view_is_audited(world, alerted, hub):
    officer = world.staff("officer")
    alerts = by_plate(officer.get("/api/agency/alerts").json())
    r = officer.get(alerts["ABC123"]["crop_url"])
    assert r.status_code == 200 and r.content == JPEG
    assert r.headers["content-type"] == "image/jpeg" and r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["content-security-policy"] == "sandbox"
    assert officer.get(f"/api/agency/alerts/{alerts['7XY0042']['id']}/crop").status_code == 404  # none was sent
    assert officer.get(f"/api/agency/alerts/{alerts['ABC123']['id']}/snapshot").status_code == 404
    assert officer.get(f"/api/agency/alerts/{alerts['ABC123']['id']}/thumbnail").status_code == 422
    with hub.uow() as uow:
        views = [a for a in uow.audit.iter_records() if a.action == "alert.crop"]
        uow.rollback()
    assert [a.target for a in views] == [f"alert:{alerts['ABC123']['id']}"]


def test_an_announcement_lost_between_commit_and_publish_is_relayed_once(world, anon, hub, clock):
    from openrtcc.adapters.bus.in_process import InProcessBus
    from openrtcc.domain.alerts import AlertRaised
    from openrtcc.services.alerts import relay_unpublished

    import_list(world, "NCIC stolen", "ncic", NCIC_LIST)
    key, _ = new_source(world)
    bus, hub.bus = hub.bus, None  # nobody listening when the alert commits: its announcement is not made
    assert post_reads(anon, key, [read_body("r-1", "ABC123", earlier(clock, seconds=2), state="CA")]).status_code == 200
    hub.bus = bus
    heard: list[AlertRaised] = []
    bus.subscribe(AlertRaised, heard.append)
    assert relay_unpublished(hub) == 0  # within the grace period the publisher may still be at work
    clock.advance(seconds=31)
    assert relay_unpublished(hub) == 1 and [e.alert.plate for e in heard] == ["ABC123"]
    clock.advance(seconds=31)
    assert relay_unpublished(hub) == 0 and len(heard) == 1
