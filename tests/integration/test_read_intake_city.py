"""City mode: plate reads taken in by a serving hub, queued in NATS JetStream, stored once by a worker hub.

Two Hub objects built from the same city settings (one PostgreSQL database, one NATS server) stand for a
`rtcc serve` process and a `rtcc worker` process; the worker's consumer is the real pull loop."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from nats.js.errors import NotFoundError

from openrtcc.adapters.bus.jetstream_reads import dead_stream, reads_stream
from openrtcc.adapters.bus.nats_server import NatsServerProcess
from openrtcc.bootstrap import build_hub
from openrtcc.domain.read_envelope import QueuedRead, hub_read_id
from openrtcc.domain.reads import ReadIn, content_hash
from openrtcc.services.audit_trail import verify_chain
from openrtcc.services.edge_enrolment import secret_hash
from openrtcc.services.edge_read_access import edge_read_access
from openrtcc.web.app import create_app
from tests.conftest import World, camera_body
from tests.edge_hub import wait_for
from tests.integration import db_probe as db
from tests.integration.test_edge_reads import Box
from tests.plate_reads import JPEG, NCIC_LIST, b64, earlier, import_list, new_source, post_reads, read_body


class City:
    """A serving hub (its app, the world made through it) and a worker hub on the same deployment."""

    def __init__(self, settings, clock):
        self.serve = build_hub(settings, clock=clock, run_migrations=False, fast_hashing=True, role="serve")
        self.worker = build_hub(settings, clock=clock, run_migrations=False, fast_hashing=True, role="worker")
        self.app = create_app(settings, self.serve)
        self.anon = TestClient(self.app)
        self.world = World(self.serve, self.app, clock)
        self.consumer = self.worker.extras["read_consumer"]
        self.ns = settings.nats_namespace

    def close(self) -> None:
        self.consumer.stop()
        for hub in (self.serve, self.worker):
            hub.extras["nats"].close()
            hub.extras["engine"].dispose()

    def stream_messages(self, name: str) -> int:
        link = self.serve.extras["nats"]
        return link.call(lambda: link.js.stream_info(name)).state.messages

    def consumer_deliveries(self) -> int:
        link = self.serve.extras["nats"]
        try:
            return link.call(lambda: link.js.consumer_info(reads_stream(self.ns), "store")).delivered.stream_seq
        except NotFoundError:  # the worker has not made it yet
            return 0

    def reads(self, where: str = "1=1", **params) -> int:
        return db.count(self.serve, "plate_read", where, **params)

    def wait_stored(self, n: int) -> None:
        wait_for(lambda: self.reads() == n, 10.0, f"{n} reads stored")


@pytest.fixture
def city(city_settings, clock):
    c = City(city_settings, clock)
    yield c
    c.close()


def audit(hub, action: str) -> list:
    return [r for r in db.audit_after(hub, 0) if r.action == action]


def test_a_batch_is_queued_then_stored_once_by_the_worker_with_its_alert(city, clock):
    key, source = new_source(city.world, default_state="WI")
    import_list(city.world, "stolen", "ncic", NCIC_LIST)
    reads = [read_body("cam1-0001", "ABC 123", earlier(clock, seconds=5), state="CA", crop=b64(JPEG)),
             read_body("cam1-0002", "QRS 777", earlier(clock, seconds=4)),
             read_body("cam1-0003", "B0S 55", earlier(clock, seconds=3))]
    r = post_reads(city.anon, key, reads)
    assert r.status_code == 200, r.text
    assert [a["status"] for a in r.json()["results"]] == ["stored"] * 3
    ids = [a["id"] for a in r.json()["results"]]
    assert ids == [hub_read_id(source["id"], f"cam1-000{i}") for i in (1, 2, 3)]
    assert city.reads() == 0 and city.stream_messages(reads_stream(city.ns)) == 3  # queued, durable, not stored

    r = post_reads(city.anon, key, reads)  # the box lost the answer and sends again while the reads are queued
    assert r.status_code == 200 and [a["status"] for a in r.json()["results"]] == ["duplicate"] * 3
    assert [a["id"] for a in r.json()["results"]] == ids
    assert city.stream_messages(reads_stream(city.ns)) == 3  # the queue dropped the retry

    db.break_audit_inserts(city.serve)  # the database refuses the worker's transaction for a while
    city.consumer.start()
    wait_for(lambda: city.consumer_deliveries() >= 3, 5.0, "the worker to try")
    assert city.reads() == 0 and city.stream_messages(reads_stream(city.ns)) == 3  # kept, not set aside
    assert city.stream_messages(dead_stream(city.ns)) == 0
    db.repair_audit_inserts(city.serve)
    city.wait_stored(3)
    wait_for(lambda: city.stream_messages(reads_stream(city.ns)) == 0, 5.0, "the queue emptied by the acks")
    assert {r.id for r in db.rows(city.serve, "SELECT id FROM plate_read")} == set(ids)
    row = db.rows(city.serve, "SELECT plate, state, crop_key FROM plate_read WHERE id = :id", id=ids[0])[0]
    assert (row.plate, row.state) == ("ABC123", "CA") and row.crop_key.endswith(".jpg")
    assert db.count(city.serve, "alert") == 1
    [ingest] = audit(city.serve, "reads.ingest")  # the worker's record covers the request
    assert ingest.details == {"stored": 3, "duplicate": 0, "conflict": 0, "alerts": 1, "queued": True}
    assert ingest.target == f"source:{source['id']}" and "ABC" not in str(ingest.details)

    r = post_reads(city.anon, key, reads)  # and again once stored: answered from the database
    assert [a["status"] for a in r.json()["results"]] == ["duplicate"] * 3
    assert [a["id"] for a in r.json()["results"]] == ids
    changed = [dict(reads[1], plate="QRS 778")]
    r = post_reads(city.anon, key, changed)
    assert r.status_code == 409 and r.json()["error"] == "read_id_conflict"
    r = post_reads(city.anon, key, [read_body("cam1-0001", "ABC 123", earlier(clock, seconds=5), camera_id=str(
        uuid.uuid4()))])
    assert r.status_code == 409  # a changed read is refused before its camera is looked at
    r = post_reads(city.anon, key, [read_body("cam1-0009", "ABC 124", earlier(clock, seconds=1),
                                              camera_id=str(uuid.uuid4()))])
    assert r.status_code == 422 and r.json()["error"] == "unknown_camera"
    clock.advance(seconds=5)
    assert city.reads() == 3 and db.count(city.serve, "alert") == 1
    assert verify_chain(city.serve).ok


def test_reads_wait_for_a_stopped_worker_and_are_stored_exactly_once(city, clock):
    key, source = new_source(city.world)
    import_list(city.world, "stolen", "ncic", NCIC_LIST)
    first = read_body("r-1", "ABC 123", earlier(clock, seconds=9), state="CA")
    assert post_reads(city.anon, key, [first, read_body("r-2", "XYZ 1", earlier(clock, seconds=8))]).status_code == 200
    # The same read id with other content while the first is still queued: the queue takes it, the worker
    # refuses it as a conflict on the record (the first one wins).
    r = post_reads(city.anon, key, [dict(first, plate="ABC 128")])
    assert r.status_code == 200 and r.json()["results"][0]["status"] == "stored"
    box = Box(city.world, city.anon, ["lakeport"])
    r = city.anon.post("/api/edge/reads", headers={"Authorization": f"Bearer {box.key}"}, json={
        "version": 1, "reads": [read_body("e-1", "8OS 5521", earlier(clock, seconds=7), state="WI",
                                          camera_id=box.camera["id"])]})
    assert r.status_code == 200 and r.json()["stored"] == 1, r.text
    clock.advance(minutes=1)
    assert city.reads() == 0 and city.stream_messages(reads_stream(city.ns)) == 4

    city.consumer.unacked_batches = 1  # the worker commits its first batch and dies before acknowledging it
    city.consumer.start()
    assert city.consumer.alive()  # what the worker's /readyz asks
    city.wait_stored(3)
    wait_for(lambda: city.stream_messages(reads_stream(city.ns)) == 0, 10.0, "redelivered batch acknowledged")
    assert city.consumer.unacked_batches == 0
    assert city.reads("read_key = 'r-1' AND plate = 'ABC123'") == 1
    assert city.reads("read_key = 'e-1'") == 1
    assert db.count(city.serve, "alert") == 2  # ABC123 and 8OS5521, once each despite the redelivery
    # Refused on each delivery: once in the batch that was committed, again when it came back unacknowledged.
    conflicts = audit(city.serve, "reads.conflict")
    assert conflicts and all(c.outcome == "denied" and c.details["read_id"] == "r-1" for c in conflicts)
    ingests = audit(city.serve, "reads.ingest")
    assert sum(a.details["stored"] for a in ingests) == 3
    assert verify_chain(city.serve).ok


def test_a_poison_message_is_set_aside_and_the_queue_keeps_flowing(city, clock):
    key, source = new_source(city.world)
    link = city.serve.extras["nats"]
    agency = city.world.agency().id
    read = ReadIn(read_id="ghost-1", plate="GHOST1", confidence=0.9, captured_at=earlier(clock, seconds=3))
    orphan = QueuedRead(id=hub_read_id("no-such-source", "ghost-1"), source_id=str(uuid.uuid4()), agency_id=agency,
                        source_kind="lpr_camera", read=read, content_hash=content_hash(read),
                        accepted_at=clock.now())
    link.call(lambda: link.js.publish(f"{city.ns}.reads.{agency}", b"{not json", headers={"Nats-Msg-Id": "junk"}))
    link.call(lambda: link.js.publish(f"{city.ns}.reads.{agency}", orphan.model_dump_json().encode()))
    r = post_reads(city.anon, key, [read_body("ok-1", "GOOD 1", earlier(clock, seconds=2)),
                                    read_body("ok-2", "GOOD 2", earlier(clock, seconds=1))])
    assert r.status_code == 200

    city.consumer.start()
    city.wait_stored(2)
    wait_for(lambda: city.stream_messages(dead_stream(city.ns)) == 2, 10.0, "two dead letters")
    wait_for(lambda: city.stream_messages(reads_stream(city.ns)) == 0, 5.0, "the queue emptied")
    dead = audit(city.serve, "reads.dead_letter")
    assert sorted(d.details["reason"] for d in dead) == ["refused", "undecodable"]
    assert all(d.outcome == "failed" and "GHOST" not in str(d.details) for d in dead)
    assert city.reads("read_key = 'ghost-1'") == 0

    r = post_reads(city.anon, key, [read_body("ok-3", "GOOD 3", earlier(clock, seconds=1))])  # still flowing
    assert r.status_code == 200
    city.wait_stored(3)
    assert verify_chain(city.serve).ok


def test_nats_down_refuses_with_503_and_nothing_is_lost_after_it_returns(city_settings, clock, tmp_path):
    nats = NatsServerProcess(tmp_path / "own-nats").start()
    try:
        city = City(city_settings.model_copy(update={"nats_url": nats.url}), clock)
        try:
            key, _ = new_source(city.world)
            city.consumer.start()
            assert post_reads(city.anon, key, [read_body("n-0", "NAT 0", earlier(clock, seconds=4))]).status_code == 200
            city.wait_stored(1)
            batch = [read_body("n-1", "NAT 1", earlier(clock, seconds=3)),
                     read_body("n-2", "NAT 2", earlier(clock, seconds=2))]
            nats.kill()
            wait_for(lambda: not city.serve.extras["nats"].connected, 5.0, "the link to notice")
            r = post_reads(city.anon, key, batch)
            assert r.status_code == 503 and r.json()["error"] == "bus_unavailable", r.text
            assert city.reads() == 1

            nats.start()  # the same store: what JetStream acknowledged before the kill is still there
            wait_for(lambda: city.serve.extras["nats"].connected, 10.0, "the link back")
            r = post_reads(city.anon, key, batch)  # the box sends what it kept
            assert r.status_code == 200 and r.json()["stored"] == 2, r.text
            city.wait_stored(3)
            r = post_reads(city.anon, key, batch + [read_body("n-3", "NAT 3", earlier(clock, seconds=1))])
            assert [a["status"] for a in r.json()["results"]] == ["duplicate", "duplicate", "stored"]
            city.wait_stored(4)
            assert city.reads("read_key = 'n-1'") == 1
        finally:
            city.close()
    finally:
        nats.stop()


def test_a_box_revoked_or_unshared_on_one_serving_process_is_refused_by_another(city_settings, city, clock):
    """Each serving process remembers boxes' keys and sharing plans; a change made through one is broadcast on
    the bus and the others forget before the box's next batch (well within the memory's 60 s bound)."""
    other = build_hub(city_settings, clock=clock, run_migrations=False, fast_hashing=True, role="serve")
    try:
        other_anon, memory = TestClient(create_app(city_settings, other)), edge_read_access(other)
        box = Box(city.world, city.anon, share_with=["lakeport"])
        city.consumer.start()

        def post(plate: str):
            read = read_body(plate.replace(" ", "-"), plate, earlier(clock, seconds=2)) | {"camera_id": box.camera["id"]}
            return other_anon.post("/api/edge/reads", json={"version": 1, "reads": [read]},
                                   headers={"Authorization": f"Bearer {box.key}"})

        r = post("EDG 1")
        assert r.status_code == 200 and r.json()["stored"] == 1, r.text
        assert memory.box(secret_hash(box.key)) and memory.camera(box.edge_id, box.camera["id"])
        body = camera_body(box.lakeport.id, sharing={"mode": "always", "share_reads_with": []})
        assert box.owner.put(f"/api/owner/cameras/{box.camera['id']}", json=body).status_code == 200
        wait_for(lambda: memory.camera(box.edge_id, box.camera["id"]) is None, 5.0, "the other process to forget")
        assert post("EDG 2").json()["not_shared"] == 1
        assert box.owner.post(f"/api/owner/edges/{box.edge_id}/revoke").status_code == 200
        wait_for(lambda: memory.box(secret_hash(box.key)) is None, 5.0, "the other process to forget the key")
        r = post("EDG 3")
        assert r.status_code == 401 and r.json()["error"] == "edge_key_refused", r.text
        city.wait_stored(1)
    finally:
        other.extras["nats"].close()
        other.extras["engine"].dispose()


def test_queued_reads_are_typed_and_versioned(clock):
    read = ReadIn(read_id="k-1", plate="abc 123", confidence=0.5, captured_at=clock.now() - timedelta(seconds=1))
    q = QueuedRead(id=hub_read_id("s", "k-1"), source_id="s", agency_id="a", source_kind="edge", read=read,
                   content_hash=content_hash(read), accepted_at=clock.now())
    again = QueuedRead.model_validate_json(q.model_dump_json())
    assert again == q and again.read.plate == "ABC123"
    assert hub_read_id("s", "k-1") == q.id and hub_read_id("s", "k-2") != q.id
    changed = read.model_copy(update={"plate": "ABC124"})
    assert QueuedRead(**{**q.model_dump(), "read": changed, "content_hash": content_hash(changed)}).message_id \
        != q.message_id
    with pytest.raises(ValueError):
        QueuedRead.model_validate_json(q.model_dump_json().replace('"version":1', '"version":2'))
