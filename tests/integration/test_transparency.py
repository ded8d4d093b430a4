"""The public transparency portal on both backends: figures generated from live data (cameras, plate reading, hot
lists, grants, searches by purpose, alert outcomes and the misread rate), JSON and CSV alike, a public audit view
with people pseudonymised and plates hashed, no personal data anywhere, and crawlers kept off the database."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select

from openrtcc.adapters.db.tables import alert_tally, audit_log, search_log
from openrtcc.domain.audit import AuditEntry
from openrtcc.services.public_cache import PublicLimits
from tests.conftest import HARBOR
from tests.plate_reads import NCIC_LIST, earlier, import_list, new_source, post_reads, read_body

API = "/api/public/transparency"
OWNER_NAME = "Quintessa"
ADDRESS = "4417 Wintergreen Lane, Lakeport"
CASE = "CASE-ZX-90817"
NOTE = "tailed the blue van near the chapel"
PLATES = ("QZX4821", "ABC123", "8OS5521", "HBR1234")


@pytest.fixture
def seeded(world, anon, clock, hub):
    """An agency with cameras, a plate camera's reads and alerts, a hot list, searches, a grant and old tallies."""
    lake, harbor = world.agency("lakeport"), world.agency("harbor", HARBOR)
    owner = world.owner(OWNER_NAME)
    cam = world.camera(owner, address=ADDRESS, sharing={"mode": "always", "share_reads_with": [harbor.id]})
    gone = world.camera(owner, name="Garage camera", address=ADDRESS, bearing_deg=270)
    assert owner.delete(f"/api/owner/cameras/{gone['id']}").status_code == 200
    import_list(world, "NCIC stolen", "ncic", NCIC_LIST)
    key, _ = new_source(world)
    at = earlier(clock, hours=2)
    reads = [read_body("r1", "QZX 4821", at, camera_id=cam["id"]), read_body("r2", "ABC123", at, state="CA"),
             read_body("r3", "ABC123", at + timedelta(minutes=1), state="CA", camera_id=cam["id"])]
    assert post_reads(anon, key, reads).status_code == 200
    analyst = world.staff("analyst")
    alerts = analyst.get("/api/agency/alerts").json()
    assert len(alerts) == 2
    r = analyst.post(f"/api/agency/alerts/{alerts[0]['id']}/disposition", json={"disposition": "misread", "note": NOTE})
    assert r.status_code == 200, r.text
    now = clock.now()
    search = {"plate": "QZX4821", "purpose": "stolen_vehicle", "offence": "240", "case_number": CASE, "note": NOTE}
    for _ in range(2):
        assert analyst.post("/api/agency/plates/search", json=search).status_code == 200
    r = analyst.post("/api/agency/plates/search", json={**search, "purpose": "protest_activity", "offence": "NONE"})
    assert (r.status_code, r.json()["error"]) == (403, "purpose_prohibited")
    with hub.uow() as uow:
        user_id = uow.accounts.by_email(analyst.email).id
        uow.conn.execute(insert(search_log).values(  # older than the window: not counted
            agency_id=lake.id, user_id=user_id, kind="area", purpose="criminal_investigation", offence="120",
            case_number=CASE, outcome="done", at=now - timedelta(days=31)))
        uow.conn.execute(insert(alert_tally).values(agency_id=lake.id, day="2026-08-01", status="confirmed", count=3))
        uow.conn.execute(insert(alert_tally).values(agency_id=lake.id, day="2026-08-01", status="misread", count=1))
        uow.record(AuditEntry("plate.search", "success", user_id, lake.id, f"case:{CASE}", "203.0.113.77",
                              {"purpose": "stolen_vehicle", "offence": "240", "case": CASE, "plate": "QZX4821",
                               "note": NOTE, "count": 2, "mode": "exact"}))
        uow.commit()
    until = (now + timedelta(days=30)).isoformat()
    grant = {"to_agency": "harbor", "data_kind": "plate_reads", "purposes": ["stolen_vehicle", "missing_person"],
             "expires_at": until}
    assert world.admin().post("/api/sharing/grants", json=grant).status_code == 201
    hotlists = {**grant, "data_kind": "hot_lists", "purposes": ["hot_list_follow_up"]}
    r = world.admin().post("/api/sharing/grants", json=hotlists)
    assert r.status_code == 201, r.text
    assert world.admin().post(f"/api/sharing/grants/{r.json()['id']}/revoke").status_code == 200  # not published
    shared = import_list(world, "Harbor stolen", "custom",
                         f"plate,state,reason,owner,expires_at\nHBR1234,WI,stolen,Harbor PD,{now.year + 1}-01-01\n", slug="harbor")
    r = world.admin("harbor").post("/api/sharing/grants", json={**hotlists, "to_agency": "lakeport"})
    assert r.status_code == 201, r.text
    r = world.admin().post(f"/api/sharing/hotlists/{shared['id']}/opt-in")
    assert r.status_code == 200, r.text
    r = world.admin().put("/api/agency/governance", json={"policy_text": "Reads are kept 30 days. No facial recognition."})
    assert r.status_code == 200, r.text
    return {"lake": lake, "harbor": harbor, "owner": owner, "analyst": analyst, "user_id": user_id}


def fallback_records(hub) -> int:
    with hub.uow() as uow:
        n = uow.conn.execute(select(func.count()).select_from(audit_log).where(
            audit_log.c.action == "http.request", audit_log.c.target.like("GET /api/public/transparency%"))).scalar_one()
        uow.rollback()
    return n


def secrets_of(world, seeded) -> list[str]:
    return [*PLATES, "QZX 4821", OWNER_NAME, ADDRESS, "Wintergreen", CASE, NOTE, seeded["owner"].email,
            seeded["analyst"].email, world.agency().admin_email, seeded["user_id"], "203.0.113.77", "testclient",
            "V123456789", "24-0815", "+1 414 555 0100"]


def assert_no_personal_data(text: str, secrets: list[str]) -> None:
    for s in secrets:
        assert s.lower() not in text.lower(), f"{s!r} leaked"


def test_the_report_csv_and_audit_view_count_what_is_live_and_name_no_one(world, seeded, anon):
    r = anon.get(f"{API}/lakeport")
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "public, max-age=60"
    doc = r.json()
    assert doc["agency"] == {"slug": "lakeport", "name": "Lakeport Police", "kind": "local"}
    assert (doc["retention_days"], doc["audit_retention_days"], doc["window_days"]) == (30, 365, 30)
    assert doc["cameras"] == {"active": 1, "by_tier": {"registered": 1}, "by_status": {"active": 1, "withdrawn": 1},
                              "with_edge_box": 0}
    assert doc["plate_reading"] == {"sources_by_kind": {"lpr_camera": 1}, "sources_revoked": 0,
                                    "cameras_with_reads": 1, "reads": 3}
    assert [(h["name"], h["format"], h["entries"], h["shared_from"]) for h in doc["hot_lists"]] == [
        ("NCIC stolen", "ncic", 2, None), ("Harbor stolen", "custom", 1, "Harbor Police")]
    assert doc["access"]["grants"] == [{"agency": "Harbor Police", "agency_kind": "local", "data_kind": "plate_reads",
                                        "purposes": ["missing_person", "stolen_vehicle"],
                                        "expires_at": doc["access"]["grants"][0]["expires_at"]}]
    assert doc["access"]["camera_read_shares"] == [{"agency": "Harbor Police", "cameras": 1}]
    assert doc["access"]["staff_by_role"] == {"admin": 1, "analyst": 1}
    searches = doc["searches"]
    assert [(p["purpose"], p["done"], p["refused"]) for p in searches["by_purpose"]] == [
        ("protest_activity", 0, 1), ("stolen_vehicle", 2, 0)]
    assert searches["by_kind"] == {"plate": 2} and searches["total"] == 2
    assert searches["audited"] == 3  # the two searches made, and the record seeded with a whole plate in it
    alerts = doc["alerts"]
    assert alerts["by_status"] == {"new": 1, "confirmed": 0, "misread": 1, "wrong_state": 0, "resolved": 0}
    assert alerts["misread_rate"] == 1.0  # the one checked alert was a misread
    assert alerts["all_time_by_status"]["confirmed"] == 3 and alerts["all_time_by_status"]["misread"] == 2
    assert alerts["all_time_misread_rate"] == 0.4
    assert "Civil immigration enforcement" in doc["search_rules"]["prohibited_purposes"]
    assert doc["policy_text"].startswith("Reads are kept 30 days")
    assert doc["links"]["anchors"] == "/api/public/audit/anchors"
    assert_no_personal_data(r.text, secrets_of(world, seeded))
    other = anon.get(f"{API}/harbor").json()  # nothing of Lakeport's in Harbor's report
    assert other["cameras"]["active"] == 0 and other["searches"]["total"] == 0
    assert [h["name"] for h in other["hot_lists"]] == ["Harbor stolen"]
    assert [(g["agency"], g["data_kind"]) for g in other["access"]["grants"]] == [("Lakeport Police", "hot_lists")]
    assert [a["slug"] for a in anon.get(API).json()] == ["harbor", "lakeport"]
    r = anon.get(f"{API}/lakeport.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert 'filename="transparency-lakeport.csv"' in r.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0] == ["section", "item", "value"]
    found = {(s, i): v for s, i, v in rows[1:]}
    assert found[("cameras_by_tier", "registered")] == "1" and found[("retention", "days")] == "30"
    assert found[("searches_by_purpose", "stolen_vehicle")] == "2 done; 0 refused"
    assert found[("alerts", "misread_rate")] == "1.0000"
    assert anon.get(f"{API}/lakeport?format=csv").text == r.text
    assert_no_personal_data(r.text, secrets_of(world, seeded))
    # the same agency record by record: the public audit view
    r = anon.get(f"{API}/lakeport/audit?limit=500")
    assert r.status_code == 200, r.text
    records = r.json()
    assert records and all(re.fullmatch(r"user-[0-9a-f]{10}|system", x["actor"]) for x in records)
    refused = next(x for x in records if x["action"] == "plate.search" and x["outcome"] == "denied")
    assert refused["details"]["code"] == "purpose_prohibited" and "plate_hash" not in refused["details"]
    search = next(x for x in records if x["action"] == "plate.search" and "plate_hash" in x["details"])
    assert search["details"] == {"purpose": "stolen_vehicle", "offence": "240", "count": 2, "mode": "exact",
                                 "plate_hash": search["details"]["plate_hash"]}
    assert search["details"]["plate_hash"].startswith("plate-") and search["target_kind"] == "case"
    disposition = next(x for x in records if x["action"] == "alert.disposition")
    assert disposition["actor"] == search["actor"]  # one person, one pseudonym: patterns stay visible
    assert len({x["seq"] for x in records}) == len(records)
    assert_no_personal_data(r.text, secrets_of(world, seeded))
    page = anon.get(f"{API}/lakeport/audit?limit=2&before={records[0]['seq']}").json()
    assert [x["seq"] for x in page] == [x["seq"] for x in records[1:3]]
    as_csv = anon.get(f"{API}/lakeport/audit?format=csv&limit=500")
    assert as_csv.status_code == 200 and "plate_hash=plate-" in as_csv.text
    assert_no_personal_data(as_csv.text, secrets_of(world, seeded))


@pytest.mark.parametrize("backend", ["sqlite"])  # in-memory rules; the queries run on both above
def test_answers_are_cached_and_settings_changes_show_at_once(world, anon, hub, clock):
    def builds() -> int:
        with hub.uow() as uow:
            n = uow.conn.execute(select(func.count()).select_from(audit_log)
                                 .where(audit_log.c.action == "transparency.report")).scalar_one()
            uow.rollback()
        return n

    world.agency("lakeport")
    first = anon.get(f"{API}/lakeport").json()
    for _ in range(5):
        assert anon.get(f"{API}/lakeport").json() == first
    assert builds() == 1  # one build, recorded once; the copies touch no row, not even the fallback audit's
    assert fallback_records(hub) == 0
    clock.advance(seconds=61)
    assert anon.get(f"{API}/lakeport").json()["generated_at"] != first["generated_at"]
    assert builds() == 2
    r = world.admin().put("/api/agency/governance", json={"retention_days": 14})
    assert r.status_code == 200, r.text
    assert anon.get(f"{API}/lakeport").json()["retention_days"] == 14


@pytest.mark.parametrize("backend", ["sqlite"])  # in-memory rules; the queries run on both above
def test_a_crawler_is_held_to_its_budget_without_touching_the_database(world, hub, app, clock):
    from fastapi.testclient import TestClient

    world.agency("lakeport")
    hub.extras["public_limits"] = PublicLimits(per_client_per_minute=3)
    crawler = TestClient(app)
    assert [crawler.get(f"{API}/lakeport").status_code for _ in range(3)] == [200, 200, 200]
    refused = [crawler.get(f"{API}/lakeport/audit") for _ in range(4)]
    assert {r.status_code for r in refused} == {429}
    assert refused[0].json()["error"] == "rate_limited" and int(refused[0].headers["retry-after"]) >= 1
    with hub.uow() as uow:
        noted = uow.conn.execute(select(audit_log.c.outcome).where(audit_log.c.action == "public.rate_limited")).all()
        uow.rollback()
    assert noted == [("denied",)]  # the first refusal of the wait is recorded, the rest write nothing
    assert fallback_records(hub) == 0
    clock.advance(seconds=61)
    assert crawler.get(f"{API}/lakeport").status_code == 200


@pytest.mark.parametrize("backend", ["sqlite"])  # in-memory rules; the queries run on both above
def test_unknown_or_malformed_agencies_are_404(world, anon, hub):
    world.agency("lakeport")
    for slug in ("nowhere", "LAKEPORT", "a" * 80, "..%2Fetc", "lake port", "nowhere"):
        r = anon.get(f"{API}/{slug}")
        assert r.status_code == 404 and r.json()["error"] in ("agency_not_found", "not_found"), slug
    with hub.uow() as uow:
        refused = uow.conn.execute(select(audit_log.c.outcome, audit_log.c.details).where(
            audit_log.c.action == "transparency.report")).all()
        uow.rollback()
    assert refused == [("failed", {"code": "agency_not_found"})] * 5  # the second "nowhere" came from the cache
    assert anon.get(f"{API}/nowhere.csv").status_code == 404
    assert anon.get(f"{API}/nowhere/audit").status_code == 404
    assert anon.get(f"{API}/lakeport/audit?limit=0").status_code == 422
    assert anon.get(f"{API}/lakeport/audit?limit=501").status_code == 422
    assert anon.get(f"{API}/lakeport?format=xml").status_code == 422
    assert anon.get(f"{API}/lakeport/audit?before={2**70}").status_code == 422
