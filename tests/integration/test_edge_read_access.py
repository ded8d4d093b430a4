"""A serving process remembers edge boxes' keys and sharing plans between batches (services/edge_read_access.py);
every change that narrows what a box may send takes effect on its very next batch: the box revoked, the
camera's sharing changed, the camera withdrawn or moved to another box, the box's read source revoked."""

from __future__ import annotations

from sqlalchemy import func, select

from openrtcc.adapters.db.tables import audit_log
from openrtcc.services.edge_enrolment import secret_hash
from openrtcc.services.edge_read_access import edge_read_access
from openrtcc.services.read_admission import ReadAdmission
from tests.conftest import camera_body
from tests.integration.test_edge_reads import Box, a_read, rows


def post(anon, clock, box: Box, plate: str, key: str | None = None, camera_id: str | None = None):
    read = a_read(clock, camera_id or box.camera["id"], plate=plate).model_dump(mode="json", exclude={"crop"})
    read["read_id"] = f"{plate}-1"
    return anon.post("/api/edge/reads", json={"version": 1, "reads": [read]},
                     headers={"Authorization": f"Bearer {key or box.key}"})


def remembered(hub, box: Box) -> bool:
    access = edge_read_access(hub)
    return access.box(secret_hash(box.key)) is not None and access.camera(box.edge_id, box.camera["id"]) is not None


def count(hub, action: str) -> int:
    with hub.extras["engine"].connect() as conn:
        return conn.execute(select(func.count()).select_from(audit_log).where(audit_log.c.action == action)).scalar()


def test_a_revoked_box_is_refused_on_its_next_batch_and_audited(world, anon, hub, clock, backend):
    box = Box(world, anon, share_with=["lakeport"])
    assert post(anon, clock, box, "KEEP1").json()["stored"] == 1
    assert remembered(hub, box)  # the next batch would not ask the database
    assert box.owner.post(f"/api/owner/edges/{box.edge_id}/revoke").status_code == 200
    r = post(anon, clock, box, "GONE1")
    assert r.status_code == 401 and r.json()["error"] == "edge_key_refused", r.text
    assert [row.read_key for row in rows(hub)] == ["KEEP1-1"]
    assert count(hub, "edge.refused") == 1  # the refusal of a revoked key is evidence, as before


def test_sharing_changes_and_withdrawal_apply_to_the_next_batch(world, anon, hub, clock, backend):
    box = Box(world, anon, share_with=["lakeport"])
    assert post(anon, clock, box, "ONE1").json()["stored"] == 1
    assert remembered(hub, box)
    body = camera_body(box.lakeport.id, sharing={"mode": "always", "share_reads_with": [box.harbor.id]})
    assert box.owner.put(f"/api/owner/cameras/{box.camera['id']}", json=body).status_code == 200
    assert post(anon, clock, box, "TWO1").json()["stored"] == 1
    body = camera_body(box.lakeport.id, sharing={"mode": "always", "share_reads_with": []})
    assert box.owner.put(f"/api/owner/cameras/{box.camera['id']}", json=body).status_code == 200
    assert post(anon, clock, box, "THREE1").json()["not_shared"] == 1
    body = camera_body(box.lakeport.id, sharing={"mode": "always", "share_reads_with": [box.lakeport.id]})
    assert box.owner.put(f"/api/owner/cameras/{box.camera['id']}", json=body).status_code == 200
    assert post(anon, clock, box, "FOUR1").json()["stored"] == 1
    assert remembered(hub, box)
    assert box.owner.delete(f"/api/owner/cameras/{box.camera['id']}").status_code in (200, 204)
    assert post(anon, clock, box, "FIVE1").json()["not_shared"] == 1
    assert sorted((row.read_key, row.agency_id) for row in rows(hub)) == [
        ("FOUR1-1", box.lakeport.id), ("ONE1-1", box.lakeport.id), ("TWO1-1", box.harbor.id)]


def test_a_camera_moved_to_another_box_is_refused_from_the_first(world, anon, hub, clock, backend):
    box = Box(world, anon, share_with=["lakeport"])
    assert post(anon, clock, box, "HERE1").json()["stored"] == 1
    assert remembered(hub, box)
    r = box.owner.post("/api/owner/edges/codes", json={"name": "Second box"})
    r = anon.post("/api/edge/enrol", json={"code": r.json()["code"], "name": "box-2"})
    second_id, second_key = r.json()["edge_id"], r.json()["key"]
    r = box.owner.put(f"/api/owner/cameras/{box.camera['id']}/edge", json={"edge_id": second_id})
    assert r.status_code == 200, r.text
    r = post(anon, clock, box, "THERE1")
    assert r.status_code == 422 and r.json()["error"] == "camera_not_on_edge", r.text
    assert post(anon, clock, box, "MOVED1", key=second_key).json()["stored"] == 1
    assert sorted(row.read_key for row in rows(hub)) == ["HERE1-1", "MOVED1-1"]


def test_a_busy_serving_process_sheds_a_batch_unread_with_retry_after(world, anon, hub, clock, backend):
    box = Box(world, anon, share_with=["lakeport"])
    admission = hub.extras["read_admission"] = ReadAdmission(budget_s=1.0, floor=1)
    admission.enter()  # a batch in flight that this process cannot finish in time with another behind it
    audited = count(hub, "http.request") + count(hub, "reads.ingest")
    r = post(anon, clock, box, "SHED1")
    assert r.status_code == 503 and r.json()["error"] == "busy", r.text
    assert r.headers["retry-after"] == "1"
    assert rows(hub) == [] and count(hub, "http.request") + count(hub, "reads.ingest") == audited
    assert 'rtcc_edge_reads_shed_total{reason="busy"} 1.0' in hub.metrics.exposition().decode()
    admission.leave()
    assert post(anon, clock, box, "SHED1").json()["stored"] == 1  # the box's second try, once capacity is back
    assert admission.in_flight == 0
