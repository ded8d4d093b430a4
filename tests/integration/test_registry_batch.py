"""Registering several cameras in one request: all of them or none, the culprit named."""

from sqlalchemy import func, select

from openrtcc.adapters.db.tables import audit_log, camera
from tests.conftest import camera_body


def _count(hub, table, *where) -> int:
    with hub.extras["engine"].connect() as conn:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


def _three(agency_id: str) -> list[dict]:
    return [camera_body(agency_id, name=f"Shop front {i}", lat=43.0 + i * 0.001, lon=-87.92) for i in range(3)]


def test_a_batch_registers_every_camera_each_with_its_audit_record(world, hub):
    owner = world.owner("Business")
    ag = world.agency()
    before = _count(hub, audit_log, audit_log.c.action == "camera.register")
    r = owner.post("/api/owner/cameras/batch", json={"cameras": _three(ag.id)})
    assert r.status_code == 201, r.text
    assert [c["name"] for c in r.json()] == ["Shop front 0", "Shop front 1", "Shop front 2"]
    assert sorted(c["name"] for c in owner.get("/api/owner/cameras").json()) == [
        "Shop front 0", "Shop front 1", "Shop front 2"]
    assert _count(hub, audit_log, audit_log.c.action == "camera.register") == before + 3


def test_one_bad_camera_refuses_the_whole_batch_and_names_it(world, hub):
    owner = world.owner("Business")
    ag = world.agency()
    cams = _three(ag.id)
    cams[1]["lat"] = 45.0  # outside Lakeport
    r = owner.post("/api/owner/cameras/batch", json={"cameras": cams})
    assert r.status_code == 422, r.text
    assert r.json()["error"] == "outside_jurisdiction"
    assert r.json()["message"].startswith("camera 2: ")
    assert r.json()["details"]["index"] == 1
    assert owner.get("/api/owner/cameras").json() == []
    assert _count(hub, camera) == 0


def test_duplicates_inside_one_batch_are_caught_and_can_be_confirmed(world):
    owner = world.owner("HOA")
    ag = world.agency()
    twins = [camera_body(ag.id, name="Gate A"), camera_body(ag.id, name="Gate A again")]
    r = owner.post("/api/owner/cameras/batch", json={"cameras": twins})
    assert r.status_code == 409, r.text
    assert r.json()["details"]["index"] == 1 and r.json()["error"] == "likely_duplicate"
    assert owner.get("/api/owner/cameras").json() == []
    twins[1]["allow_duplicate"] = True
    r = owner.post("/api/owner/cameras/batch", json={"cameras": twins})
    assert r.status_code == 201, r.text
    first, second = r.json()
    assert second["possible_duplicate_of"] == first["id"] and first["possible_duplicate_of"] is None


def test_batch_size_and_caller_are_checked(world):
    owner = world.owner("Business")
    ag = world.agency()
    assert owner.post("/api/owner/cameras/batch", json={"cameras": []}).status_code == 422
    too_many = [camera_body(ag.id, lat=42.96 + i * 0.0005) for i in range(201)]
    assert owner.post("/api/owner/cameras/batch", json={"cameras": too_many}).status_code in (413, 422)
    analyst = world.staff("analyst")
    r = analyst.post("/api/owner/cameras/batch", json={"cameras": _three(ag.id)})
    assert r.status_code == 403
    assert owner.get("/api/owner/cameras").json() == []
