"""The map's points as columns (`/api/agency/map/points?format=columns`), on both backends: the same cameras as
the rows form, lined up column by column, audited and logged for owners the same way."""

from __future__ import annotations

from tests.conftest import HARBOR
from tests.integration import db_probe as db

COLUMNS = "/api/agency/map/points?format=columns"


def decoded(doc: dict) -> dict[str, tuple]:
    """{id: (lat, lon, tier, sharing_mode)}, read the way the map page reads the columns."""
    ids = doc["ids"].split(",") if doc["count"] else []
    assert len(ids) == len(doc["lat"]) == len(doc["lon"]) == len(doc["tier"]) == len(doc["sharing"]) == doc["count"]
    return {cid: (doc["lat"][k] / 1e6, doc["lon"][k] / 1e6, doc["tier_codes"][int(doc["tier"][k])],
                  doc["sharing_codes"][int(doc["sharing"][k])]) for k, cid in enumerate(ids)}


def test_columns_hold_the_same_cameras_as_rows_each_field_in_line(world):
    world.agency("harbor", jurisdiction=HARBOR)
    owner = world.owner()
    made = [world.camera(owner, name=f"cam {k}", lat=43.0 + k * 0.00123456, lon=-87.92 - k * 0.00067891,
                         tier=("integrated", "registered")[k % 2],
                         sharing={"mode": mode, "share_live": mode != "paused", "share_recorded": True})
            for k, mode in enumerate(("always", "schedule", "emergency_only", "paused", "always"))]
    gone = world.camera(owner, name="gone", lat=43.02, lon=-87.95)
    theirs = world.camera(owner, "harbor", name="harbor cam", lat=43.0, lon=-87.75)
    assert owner.delete(f"/api/owner/cameras/{gone['id']}").status_code == 200

    officer = world.staff("officer")
    r = officer.get(COLUMNS)
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    columns = decoded(r.json())
    rows = {p[0]: tuple(p[1:]) for p in officer.get("/api/agency/map/points").json()["points"]}
    assert columns == rows
    assert set(columns) == {c["id"] for c in made}  # not the withdrawn one, not Harbor's
    assert columns[made[1]["id"]] == (43.001235, -87.920679, "registered", "schedule")  # to 0.1 m
    assert decoded(world.staff("analyst", "harbor").get(COLUMNS).json()) == {
        theirs["id"]: (43.0, -87.75, "registered", "paused")}  # a new camera shares nothing yet


def test_an_empty_program_gives_empty_columns(world):
    doc = world.staff("officer").get(COLUMNS).json()
    assert (doc["count"], doc["ids"], doc["lat"], doc["lon"], doc["tier"], doc["sharing"]) == (0, "", [], [], "", "")


def test_columns_are_audited_and_logged_for_owners_like_the_map(world):
    owner = world.owner()
    cam = world.camera(owner)
    analyst = world.staff("analyst")
    head = db.audit_head_seq(world.hub)
    overview = "camera_pk IS NULL AND purpose = 'camera map overview'"
    logged = db.count(world.hub, "camera_access", overview)
    assert analyst.get(COLUMNS).status_code == 200
    added = db.audit_after(world.hub, head)
    assert [(a.action, a.outcome, a.details) for a in added] == [("camera.map", "success", {"count": 1})]
    assert db.count(world.hub, "camera_access", overview) == logged + 1
    entries = owner.get(f"/api/owner/cameras/{cam['id']}/access-log").json()
    assert [e["purpose"] for e in entries] == ["camera map overview"]


def test_columns_are_refused_to_those_without_the_map_and_to_unknown_formats(world, anon):
    owner = world.owner()
    world.camera(owner)
    assert owner.get(COLUMNS).status_code == 403
    assert anon.get(COLUMNS).status_code == 401
    r = world.staff("officer").get("/api/agency/map/points?format=binary")
    assert r.status_code == 422 and "format" in r.text
