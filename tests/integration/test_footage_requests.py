"""Footage requests on both backends, with email to a real SMTP server on loopback.

An analyst asks the owners near an incident; each owner approves, declines or uploads a clip;
clips are checked by content and size, stored with their SHA-256 and listed as case evidence.
"""

from __future__ import annotations

import asyncio
import hashlib
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from email import message_from_bytes
from email.policy import default as default_policy

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from openrtcc.adapters.db.tables import evidence_item, footage_request, notification, outbox
from openrtcc.config import Settings
from openrtcc.domain.errors import Conflict
from openrtcc.domain.geo import Point, destination
from openrtcc.services.accounts import authenticate
from openrtcc.services.footage import upload_clip
from openrtcc.services.outbox import MAX_ATTEMPTS, dispatch_due
from tests.conftest import HARBOR

HOME = Point(43.0, -87.92)
BASE_URL = "https://rtcc.lakeport.test"
MP4 = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41" + bytes(range(256)) * 64
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x7f" * 3000 + b"\xff\xd9"


# --- a real SMTP server -------------------------------------------------------------------------

class Mailbox:
    """aiosmtpd handler that keeps every delivered message."""

    def __init__(self):
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):
        msg = message_from_bytes(envelope.content, policy=default_policy)
        self.messages.append((list(envelope.rcpt_tos), msg))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list:
        return [m for rcpts, m in self.messages if address in rcpts]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_smtp(port: int) -> tuple[Controller, Mailbox]:
    box = Mailbox()
    ctl = Controller(box, hostname="127.0.0.1", port=port)
    ctl.start()
    return ctl, box


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def settings(tmp_path, database_url, smtp_port) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=database_url, smtp_host="127.0.0.1",
                    smtp_port=smtp_port, smtp_from="rtcc@lakeport.test", base_url=BASE_URL + "/",
                    max_upload_bytes=64 * 1024, tile_url="")


@pytest.fixture
def mailbox(smtp_port):
    ctl, box = start_smtp(smtp_port)
    yield box
    ctl.stop()


# --- helpers ------------------------------------------------------------------------------------

def iso(dt) -> str:
    return dt.isoformat().replace("+00:00", "Z")


def request_body(clock, **overrides) -> dict:
    now = clock.now()
    body = {"case_number": "24-5001", "purpose": "armed robbery at the corner shop", "lat": HOME.lat,
            "lon": HOME.lon, "radius_m": 150, "window_start": iso(now - timedelta(hours=3)),
            "window_end": iso(now - timedelta(hours=2))}
    body.update(overrides)
    return body


def count(hub, table) -> int:
    with hub.extras["engine"].connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def media_files(settings) -> list:
    root = settings.media_dir
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def open_request(analyst, clock, **overrides) -> str:
    r = analyst.post("/api/agency/footage-requests", json=request_body(clock, **overrides))
    assert r.status_code == 201, r.text
    return r.json()["id"]


def upload(owner, rid: str, cam: dict, data: bytes, name: str = "clip.mp4", ctype: str = "video/mp4"):
    return owner.post(f"/api/owner/requests/{rid}/cameras/{cam['id']}/clip", files={"file": (name, data, ctype)})


def answer(owner, rid: str, cam: dict, what: str, note: str | None = None):
    return owner.post(f"/api/owner/requests/{rid}/cameras/{cam['id']}/answer", json={"answer": what, "note": note})


@pytest.fixture
def scene(world):
    """Two owners near the incident (one with two cameras), one owner too far, one in another agency."""
    world.agency("harbor", jurisdiction=HARBOR)
    alice = world.owner("Alice", share_contact="never")
    bob = world.owner("Bob")
    far = world.owner("Faraway")
    cams = {
        "alice_1": world.camera(alice, **_at(destination(HOME, 90, 40))),
        "alice_2": world.camera(alice, **_at(destination(HOME, 180, 60)), bearing_deg=0),
        "bob": world.camera(bob, **_at(destination(HOME, 0, 100))),
        "far": world.camera(far, **_at(destination(HOME, 0, 400))),
        "harbor": world.camera(far, "harbor", lat=43.0, lon=-87.75),
    }
    return {"alice": alice, "bob": bob, "far": far, "cams": cams, "analyst": world.staff("analyst"), "world": world}


def _at(p: Point) -> dict:
    return {"lat": p.lat, "lon": p.lon}


# --- opening a request --------------------------------------------------------------------------

def test_request_reaches_every_affected_owner_and_only_them(hub, scene, clock, mailbox):
    analyst, alice, bob, far = scene["analyst"], scene["alice"], scene["bob"], scene["far"]
    r = analyst.post("/api/agency/footage-requests", json=request_body(clock))
    assert r.status_code == 201, r.text
    assert (r.json()["cameras_asked"], r.json()["owners_notified"]) == (3, 2)
    rid = r.json()["id"]

    for owner in (alice, bob):
        notes = owner.get("/api/owner/notifications").json()
        assert len(notes) == 1, notes
        assert notes[0]["kind"] == "footage_request"
        assert "24-5001" in notes[0]["subject"] and "Lakeport Police" in notes[0]["subject"]
        assert notes[0]["link"] == f"/portal#request-{rid}"
        assert notes[0]["read_at"] is None
    assert far.get("/api/owner/notifications").json() == []
    assert far.get("/api/owner/requests").json() == []
    mine = {(q["request_id"], q["camera_id"], q["answer"]) for q in alice.get("/api/owner/requests").json()}
    assert mine == {(rid, scene["cams"]["alice_1"]["id"], "pending"), (rid, scene["cams"]["alice_2"]["id"], "pending")}

    # Nothing is sent inside the request; the outbox dispatcher delivers to the real SMTP server.
    assert mailbox.messages == []
    assert dispatch_due(hub) == 2
    assert sorted(r for rcpts, _ in mailbox.messages for r in rcpts) == sorted([alice.email, bob.email])
    for owner in (alice, bob):
        [msg] = mailbox.to(owner.email)
        assert msg["To"] == owner.email
        assert msg["From"] == "rtcc@lakeport.test"
        assert msg["Subject"] == "Lakeport Police asks for footage (case 24-5001)"
        body = msg.get_content()
        assert f"{BASE_URL}/portal#requests" in body
        assert "armed robbery at the corner shop" in body
        assert "voluntary" in body
    assert dispatch_due(hub) == 0  # delivered once, not again
    assert len(mailbox.messages) == 2

    # The owner marks the notification read; nobody else can.
    note_id = bob.get("/api/owner/notifications").json()[0]["id"]
    assert alice.post(f"/api/owner/notifications/{note_id}/read").status_code == 404
    assert bob.post(f"/api/owner/notifications/{note_id}/read").status_code == 204
    assert bob.get("/api/owner/notifications").json()[0]["read_at"] is not None


def test_agency_sees_its_requests_and_no_other_agencys(scene, clock, world):
    analyst = scene["analyst"]
    rid = open_request(analyst, clock)
    listed = analyst.get("/api/agency/footage-requests").json()
    assert [(q["id"], q["case_number"], q["status"]) for q in listed] == [(rid, "24-5001", "open")]
    detail = analyst.get(f"/api/agency/footage-requests/{rid}").json()
    assert {c["camera_id"]: c["answer"] for c in detail["cameras"]} == {
        scene["cams"][k]["id"]: "pending" for k in ("alice_1", "alice_2", "bob")}
    other = world.staff("analyst", "harbor")
    assert other.get(f"/api/agency/footage-requests/{rid}").status_code == 404
    assert other.get("/api/agency/footage-requests").json() == []
    assert world.staff("officer").post("/api/agency/footage-requests", json=request_body(clock)).status_code == 403
    assert scene["bob"].post("/api/agency/footage-requests", json=request_body(clock)).status_code == 403


def bad_requests(clock) -> list[tuple[dict, str]]:
    now = clock.now()
    return [
        (request_body(clock, window_start=iso(now - timedelta(hours=1)), window_end=iso(now - timedelta(hours=2))),
         "bad_window"),
        (request_body(clock, window_start=iso(now - timedelta(hours=1)), window_end=iso(now - timedelta(hours=1))),
         "bad_window"),
        (request_body(clock, window_start=iso(now - timedelta(days=8)), window_end=iso(now - timedelta(hours=1))),
         "bad_window"),
        (request_body(clock, window_start=iso(now + timedelta(hours=1)), window_end=iso(now + timedelta(hours=2))),
         "bad_window"),
        (request_body(clock, window_start="2026-11-20T10:00:00", window_end="2026-11-20T11:00:00"), "invalid_input"),
        (request_body(clock, window_start="yesterday"), "invalid_input"),
        (request_body(clock, case_number="a"), "invalid_input"),
        (request_body(clock, case_number="24 5001"), "bad_case_number"),
        (request_body(clock, case_number="<script>"), "bad_case_number"),
        (request_body(clock, case_number="-24-5001"), "bad_case_number"),
        (request_body(clock, case_number="x" * 65), "invalid_input"),
        (request_body(clock, purpose="ab"), "invalid_input"),
        (request_body(clock, purpose="   "), "invalid_input"),
        (request_body(clock, radius_m=0), "invalid_input"),
        (request_body(clock, radius_m=2001), "invalid_input"),
        (request_body(clock, lat=91), "bad_coordinates"),
        (request_body(clock, lat=43.05, lon=-87.98), "no_cameras"),  # an area with no cameras
        (request_body(clock, lat=43.0, lon=-87.75), "no_cameras"),  # another agency's cameras only
        ({k: v for k, v in request_body(clock).items() if k != "case_number"}, "invalid_input"),
        (request_body(clock, agency_id="harbor"), "invalid_input"),
    ]


def test_bad_requests_are_refused_and_nothing_is_written(hub, scene, clock, mailbox):
    analyst = scene["analyst"]
    for body, code in bad_requests(clock):
        r = analyst.post("/api/agency/footage-requests", json=body)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["error"] == code, (body, r.text)
        assert r.json()["message"], r.text
    assert analyst.get("/api/agency/footage-requests").json() == []
    assert count(hub, footage_request) == 0
    assert count(hub, notification) == 0
    assert count(hub, outbox) == 0
    assert dispatch_due(hub) == 0 and mailbox.messages == []
    for who in ("alice", "bob"):
        assert scene[who].get("/api/owner/requests").json() == []
        cam = scene["cams"]["bob" if who == "bob" else "alice_1"]
        assert scene[who].get(f"/api/owner/cameras/{cam['id']}/access-log").json() == []


# --- owner answers ------------------------------------------------------------------------------

def test_owner_answers_follow_the_state_rules(scene, clock):
    analyst, alice, bob = scene["analyst"], scene["alice"], scene["bob"]
    a1, a2, b = scene["cams"]["alice_1"], scene["cams"]["alice_2"], scene["cams"]["bob"]
    rid = open_request(analyst, clock)

    r = answer(bob, rid, b, "declined", "no camera on that side")
    assert r.status_code == 200 and r.json() == {"answer": "declined"}
    for again in ("approved", "declined"):
        r = answer(bob, rid, b, again)
        assert r.status_code == 409, r.text
        assert r.json()["error"] == "answer_final"
    r = upload(bob, rid, b, MP4)
    assert r.status_code == 409
    assert r.json()["error"] == "answer_final"

    assert answer(alice, rid, a1, "approved").json() == {"answer": "approved"}
    assert answer(alice, rid, a1, "approved").status_code == 409  # already approved: nothing to change
    assert upload(alice, rid, a1, MP4).status_code == 201
    assert answer(alice, rid, a1, "declined").status_code == 409  # an upload cannot be taken back by a click
    assert answer(alice, rid, a2, "uploaded").status_code == 422
    assert answer(alice, rid, a2, "maybe").status_code == 422

    detail = analyst.get(f"/api/agency/footage-requests/{rid}").json()
    assert {c["camera_id"]: c["answer"] for c in detail["cameras"]} == {
        a1["id"]: "uploaded", a2["id"]: "pending", b["id"]: "declined"}
    notes = {q["camera_id"]: q["note"] for q in bob.get("/api/owner/requests").json()}
    assert notes == {b["id"]: "no camera on that side"}


def test_approved_then_declined_is_allowed(scene, clock):
    alice, a1 = scene["alice"], scene["cams"]["alice_1"]
    rid = open_request(scene["analyst"], clock)
    assert answer(alice, rid, a1, "approved").status_code == 200
    assert answer(alice, rid, a1, "declined").json() == {"answer": "declined"}
    assert upload(alice, rid, a1, MP4).status_code == 409


def test_another_owner_cannot_answer_or_upload_for_my_camera(hub, scene, clock, settings):
    analyst, alice, bob, far = scene["analyst"], scene["alice"], scene["bob"], scene["far"]
    b = scene["cams"]["bob"]
    rid = open_request(analyst, clock)
    for intruder in (alice, far):
        assert answer(intruder, rid, b, "declined").status_code == 404
        assert upload(intruder, rid, b, MP4).status_code == 404
    # Their own camera that the request did not ask about is no way in either.
    assert upload(far, rid, scene["cams"]["far"], MP4).status_code == 404
    assert answer(bob, "no-such-request", b, "approved").status_code == 404
    assert analyst.post(f"/api/owner/requests/{rid}/cameras/{b['id']}/answer",
                        json={"answer": "approved"}).status_code == 403
    assert [q["answer"] for q in bob.get("/api/owner/requests").json()] == ["pending"]
    assert count(hub, evidence_item) == 0
    assert media_files(settings) == []


# --- uploads and evidence -----------------------------------------------------------------------

def test_good_clips_become_case_evidence_and_download_byte_identical(hub, scene, clock, settings):
    analyst, alice, bob = scene["analyst"], scene["alice"], scene["bob"]
    a1, b = scene["cams"]["alice_1"], scene["cams"]["bob"]
    rid = open_request(analyst, clock)

    r = upload(alice, rid, a1, MP4, name="../../etc/passwd porch.mp4")
    assert r.status_code == 201, r.text
    video = r.json()
    assert video["sha256"] == hashlib.sha256(MP4).hexdigest()
    assert (video["size_bytes"], video["media_type"]) == (len(MP4), "video/mp4")
    # A JPEG still sent with a lying name and type is stored as what it is.
    r = upload(bob, rid, b, JPEG, name="still.mp4", ctype="video/mp4")
    assert r.status_code == 201, r.text
    still = r.json()
    assert (still["sha256"], still["media_type"]) == (hashlib.sha256(JPEG).hexdigest(), "image/jpeg")

    items = analyst.get("/api/agency/cases/24-5001/evidence").json()
    assert [(e["id"], e["sha256"], e["camera_id"], e["request_id"]) for e in items] == [
        (video["id"], video["sha256"], a1["id"], rid), (still["id"], still["sha256"], b["id"], rid)]
    assert "/" not in items[0]["original_name"]
    assert analyst.get("/api/agency/cases/24-9999/evidence").json() == []
    assert [e["id"] for e in analyst.get(f"/api/agency/footage-requests/{rid}").json()["evidence"]] == [
        video["id"], still["id"]]

    for item, data, ctype in ((video, MP4, "video/mp4"), (still, JPEG, "image/jpeg")):
        r = analyst.get(f"/api/agency/evidence/{item['id']}/content")
        assert r.status_code == 200
        assert r.content == data
        assert r.headers["x-content-sha256"] == hashlib.sha256(r.content).hexdigest() == item["sha256"]
        assert r.headers["content-type"] == ctype
    assert len(media_files(settings)) == 2

    # Another agency, an owner and an officer without the evidence permission get nothing.
    harbor = scene["world"].staff("analyst", "harbor")
    assert harbor.get(f"/api/agency/evidence/{video['id']}/content").status_code == 404
    assert harbor.get("/api/agency/cases/24-5001/evidence").json() == []
    assert alice.get(f"/api/agency/evidence/{video['id']}/content").status_code == 403
    officer = scene["world"].staff("officer")
    assert officer.get(f"/api/agency/evidence/{video['id']}/content").status_code == 403


def test_a_second_clip_for_the_same_camera_is_added(scene, clock):
    alice, a1 = scene["alice"], scene["cams"]["alice_1"]
    rid = open_request(scene["analyst"], clock)
    assert upload(alice, rid, a1, MP4).status_code == 201
    assert upload(alice, rid, a1, JPEG, name="still.jpg", ctype="image/jpeg").status_code == 201
    assert len(scene["analyst"].get("/api/agency/cases/24-5001/evidence").json()) == 2


BAD_UPLOADS = [
    (b"this is just a text file pretending\n" * 10, "clip.mp4", 422, "unsupported_media"),
    (b"", "empty.mp4", 422, "unsupported_media"),
    (b"<html><script>alert(1)</script></html>", "x.jpg", 422, "unsupported_media"),
    (MP4[:4] + b"ftyp", "short.mp4", 422, "unsupported_media"),
    (MP4 + b"\0" * (64 * 1024), "big.mp4", 413, "too_large"),  # just over the limit: caught while streaming
    (MP4 + b"\0" * (512 * 1024), "huge.mp4", 413, "too_large"),  # far over: refused before it is read
]


def test_bad_uploads_leave_nothing_behind(hub, scene, clock, settings):
    alice, a1 = scene["alice"], scene["cams"]["alice_1"]
    rid = open_request(scene["analyst"], clock)
    for data, name, status, code in BAD_UPLOADS:
        r = upload(alice, rid, a1, data, name=name)
        assert r.status_code == status, (name, r.text)
        assert r.json()["error"] == code, (name, r.text)
        assert media_files(settings) == [], name
        assert count(hub, evidence_item) == 0, name
    assert scene["analyst"].get("/api/agency/cases/24-5001/evidence").json() == []
    assert [q["answer"] for q in alice.get("/api/owner/requests").json()] == ["pending", "pending"]
    # The owner can still send a good clip afterwards.
    assert upload(alice, rid, a1, MP4).status_code == 201


def test_upload_exactly_at_the_limit_is_accepted(scene, clock, settings):
    data = (MP4 * 64)[: settings.max_upload_bytes]
    rid = open_request(scene["analyst"], clock)
    r = upload(scene["alice"], rid, scene["cams"]["alice_1"], data)
    assert r.status_code == 201, r.text
    assert r.json()["size_bytes"] == settings.max_upload_bytes
    assert r.json()["sha256"] == hashlib.sha256(data).hexdigest()


# --- email delivery when the SMTP server is down ------------------------------------------------

def test_email_waits_in_the_outbox_while_smtp_is_down_and_goes_later(hub, scene, clock, smtp_port):
    bob = scene["bob"]
    open_request(scene["analyst"], clock, lat=destination(HOME, 0, 100).lat, radius_m=30)  # Bob's camera only

    assert dispatch_due(hub) == 0  # nothing listens on the port yet
    with hub.extras["engine"].connect() as conn:
        [row] = conn.execute(select(outbox)).all()
    assert row.dispatched_at is None and row.attempts == 1
    assert row.last_error and "Connection" in row.last_error
    first_retry = row.next_attempt_at
    assert first_retry > clock.now()

    ctl, box = start_smtp(smtp_port)
    try:
        assert dispatch_due(hub) == 0  # the server is up, but the back-off has not passed
        assert box.messages == []
        clock.t = first_retry + timedelta(seconds=1)
        assert dispatch_due(hub) == 1
        [msg] = box.to(bob.email)
        assert "24-5001" in msg["Subject"]
        assert dispatch_due(hub) == 0
        assert len(box.messages) == 1
    finally:
        ctl.stop()
    with hub.extras["engine"].connect() as conn:
        [row] = conn.execute(select(outbox)).all()
    assert row.dispatched_at == clock.now()


def test_back_off_grows_with_each_failure(hub, scene, clock):
    open_request(scene["analyst"], clock, lat=destination(HOME, 0, 100).lat, radius_m=30)
    delays = []
    for _ in range(3):
        assert dispatch_due(hub) == 0
        with hub.extras["engine"].connect() as conn:
            row = conn.execute(select(outbox)).one()
        delays.append(row.next_attempt_at - clock.now())
        clock.t = row.next_attempt_at
    assert delays[0] < delays[1] < delays[2]
    assert row.attempts == 3


def test_mail_that_keeps_failing_stops_and_does_not_hold_up_newer_mail(hub, scene, clock, smtp_port):
    bob_only = {"lat": destination(HOME, 0, 100).lat, "radius_m": 30}
    open_request(scene["analyst"], clock, **bob_only)
    for _ in range(MAX_ATTEMPTS):
        assert dispatch_due(hub) == 0
        with hub.extras["engine"].connect() as conn:
            clock.t = conn.execute(select(outbox.c.next_attempt_at)).scalar_one()
    assert dispatch_due(hub) == 0
    with hub.extras["engine"].connect() as conn:
        dead = conn.execute(select(outbox)).one()
    assert dead.attempts == MAX_ATTEMPTS and dead.dispatched_at is None  # kept for the operator to see

    analyst = scene["world"].log_on(scene["analyst"].email, secret=scene["analyst"].totp_secret)  # hours later
    open_request(analyst, clock, case_number="24-5002", **bob_only)
    ctl, box = start_smtp(smtp_port)
    try:
        assert dispatch_due(hub, limit=1) == 1  # the dead letter does not take the only slot
        assert [m["Subject"] for _, m in box.messages] == ["Lakeport Police asks for footage (case 24-5002)"]
    finally:
        ctl.stop()


# --- slow I/O never holds the database -----------------------------------------------------------

class HeldSmtp(Mailbox):
    """Accepts the message, then holds the client until released: a slow or hanging relay."""

    def __init__(self):
        super().__init__()
        self.arrived, self.release = threading.Event(), threading.Event()

    async def handle_DATA(self, server, session, envelope):
        self.arrived.set()
        await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 20)
        return await super().handle_DATA(server, session, envelope)


def test_a_slow_smtp_relay_blocks_neither_writes_nor_sends_twice(hub, scene, clock, smtp_port, world):
    open_request(scene["analyst"], clock, lat=destination(HOME, 0, 100).lat, radius_m=30)
    box = HeldSmtp()
    ctl = Controller(box, hostname="127.0.0.1", port=smtp_port)
    ctl.start()
    worker = ThreadPoolExecutor(1)
    try:
        sending = worker.submit(dispatch_due, hub)
        assert box.arrived.wait(10)
        started = time.monotonic()
        world.camera(scene["bob"], name="while mail is out", lat=43.02, lon=-87.95)  # a write, meanwhile
        assert time.monotonic() - started < 2
        assert dispatch_due(hub) == 0  # a second dispatcher leaves the claimed email alone
        box.release.set()
        assert sending.result(timeout=20) == 1
    finally:
        box.release.set()
        worker.shutdown()
        ctl.stop()
    assert len(box.messages) == 1


class HeldUpload:
    """A clip arriving slowly: the first bytes, then nothing until released."""

    def __init__(self, data: bytes):
        self.data, self.pos = data, 0
        self.waiting, self.release = threading.Event(), threading.Event()

    def read(self, n: int = -1) -> bytes:
        if self.pos >= 64:
            self.waiting.set()
            assert self.release.wait(20)
        end = len(self.data) if n < 0 else min(len(self.data), self.pos + n)
        out, self.pos = self.data[self.pos:end], end
        return out


def owner_actor(hub, session):
    return authenticate(hub, session.token, None).actor


def test_a_slow_upload_does_not_block_other_writes(hub, scene, clock, world):
    alice, a1 = scene["alice"], scene["cams"]["alice_1"]
    rid = open_request(scene["analyst"], clock)
    clip = HeldUpload(MP4)
    worker = ThreadPoolExecutor(1)
    try:
        storing = worker.submit(upload_clip, hub, owner_actor(hub, alice), rid, a1["id"], clip, "slow.mp4")
        assert clip.waiting.wait(10)
        started = time.monotonic()
        world.camera(scene["bob"], name="while the clip uploads", lat=43.02, lon=-87.95)
        assert time.monotonic() - started < 2
        clip.release.set()
        assert storing.result(timeout=20)["sha256"] == hashlib.sha256(MP4).hexdigest()
    finally:
        clip.release.set()
        worker.shutdown()
    assert len(scene["analyst"].get("/api/agency/cases/24-5001/evidence").json()) == 1


def test_a_decline_during_the_upload_wins_and_the_clip_is_discarded(hub, scene, clock, settings):
    alice, a1 = scene["alice"], scene["cams"]["alice_1"]
    rid = open_request(scene["analyst"], clock)
    clip = HeldUpload(MP4)
    worker = ThreadPoolExecutor(1)
    try:
        storing = worker.submit(upload_clip, hub, owner_actor(hub, alice), rid, a1["id"], clip, "late.mp4")
        assert clip.waiting.wait(10)
        assert answer(alice, rid, a1, "declined").status_code == 200  # from another tab
        clip.release.set()
        with pytest.raises(Conflict):
            storing.result(timeout=20)
    finally:
        clip.release.set()
        worker.shutdown()
    assert media_files(settings) == []
    assert count(hub, evidence_item) == 0
    assert {q["camera_id"]: q["answer"] for q in alice.get("/api/owner/requests").json()}[a1["id"]] == "declined"


def test_case_numbers_with_slashes_and_dots_list_their_evidence(scene, clock):
    """Agencies write case numbers like LP/2026/0042: the evidence list must still be reachable."""
    analyst, alice, a1 = scene["analyst"], scene["alice"], scene["cams"]["alice_1"]
    rid = open_request(analyst, clock, case_number="LP/2026/0042.b")
    item = upload(alice, rid, a1, MP4).json()
    for path in ("/api/agency/cases/LP/2026/0042.b/evidence", "/api/agency/cases/LP%2F2026%2F0042.b/evidence"):
        r = analyst.get(path)
        assert r.status_code == 200, (path, r.text)
        assert [(e["id"], e["case_number"]) for e in r.json()] == [(item["id"], "LP/2026/0042.b")]
    assert analyst.get("/api/agency/cases/LP/2026/evidence").json() == []


def test_the_serving_hub_delivers_the_outbox_by_itself(hub, scene, clock, mailbox, settings):
    """While the app runs (its lifespan started), queued emails go out without anyone calling dispatch."""
    import time

    from fastapi.testclient import TestClient

    from openrtcc.web.app import create_app

    open_request(scene["analyst"], clock)
    serving = create_app(settings.model_copy(update={"outbox_interval_s": 0.05}), hub)
    with TestClient(serving):
        deadline = time.monotonic() + 10
        while len(mailbox.messages) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    assert sorted(r for rcpts, _ in mailbox.messages for r in rcpts) == sorted(
        [scene["alice"].email, scene["bob"].email])
    assert dispatch_due(hub) == 0  # marked delivered: nothing left for the next round
