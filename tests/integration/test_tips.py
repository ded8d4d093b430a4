"""Public tips on SQLite and PostgreSQL: sent with and without media (cleaned of EXIF/GPS and tags), refused when
bad, rate-limited per client; the agency's queue (audited views), review, dismiss, promotion to an incident, and
no reach into another agency's tips."""

from __future__ import annotations

import io

import av
import cv2
import numpy as np
import pytest

from openrtcc.config import Settings
from openrtcc.domain.command_events import IncidentChanged, TipReceived
from openrtcc.services.public_signup import keep_public_forms
from tests.conftest import HARBOR

GPS_MARK = b"GPS-43.0001N-87.9201W"


@pytest.fixture
def settings(tmp_path, database_url) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=database_url, smtp_host=None, tile_url="",
                    tips_per_hour=4, tip_max_bytes=64 * 1024)


def jpeg_with_gps() -> bytes:
    """A real JPEG with an EXIF block (APP1) carrying a GPS-looking marker."""
    ok, data = cv2.imencode(".jpg", np.full((48, 64, 3), 90, np.uint8))
    exif = b"Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\x00\x00" + GPS_MARK
    app1 = b"\xff\xe1" + (len(exif) + 2).to_bytes(2, "big") + exif
    return data[:2].tobytes() + app1 + data[2:].tobytes()


def mp4_with_tags() -> bytes:
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as c:
        c.metadata["title"] = "shot-at-43.0001-87.9201"
        s = c.add_stream("libx264", rate=10)
        s.width, s.height, s.pix_fmt = 64, 48, "yuv420p"
        for i in range(5):
            for p in s.encode(av.VideoFrame.from_ndarray(np.full((48, 64, 3), i * 40, np.uint8), format="rgb24")):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return buf.getvalue()


def send(anon, agency_id: str, text: str = "Two people trying car doors on Elm St", files=None, **fields):
    return anon.post("/api/public/tips", data={"agency_id": agency_id, "text": text, **fields}, files=files)


def counts(hub) -> tuple[int, int]:
    with hub.uow() as uow:
        tips = uow.conn.exec_driver_sql("SELECT COUNT(*) FROM tip").scalar_one()
    media = sum(1 for p in hub.media.root.rglob("*") if p.is_file() and "tips" in p.parts)
    return tips, media


def test_a_tip_with_a_photo_lands_in_the_queue_cleaned_announced_and_every_view_audited(hub, anon, world):
    agency = world.agency()
    heard = []
    hub.bus.subscribe(TipReceived, heard.append)
    r = send(anon, agency.id, lat="43.01", lon="-87.93", location_text="Elm St and 3rd", contact="555-0100",
             files={"media": ("IMG_0042.jpg", jpeg_with_gps(), "application/octet-stream")})
    assert r.status_code == 201, r.text
    [event] = heard
    assert event.agency_id == agency.id and event.has_media and event.excerpt.startswith("Two people")

    officer = world.staff("officer")
    [tip] = officer.get("/api/tips?status=new").json()
    assert tip["id"] == event.tip_id and tip["has_media"] and tip["media_type"] == "image/jpeg"
    assert (tip["lat"], tip["lon"], tip["location_text"], tip["status"]) == (43.01, -87.93, "Elm St and 3rd", "new")
    assert "contact" not in tip  # only in the single-tip view
    assert officer.get(f"/api/tips/{tip['id']}").json()["contact"] == "555-0100"
    photo = officer.get(f"/api/tips/{tip['id']}/media")
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"
    assert photo.content.startswith(b"\xff\xd8\xff") and GPS_MARK not in photo.content and b"Exif" not in photo.content
    assert cv2.imdecode(np.frombuffer(photo.content, np.uint8), cv2.IMREAD_COLOR).shape == (48, 64, 3)

    with hub.uow() as uow:
        actions = [(r.action, r.source) for r in uow.audit.iter_records() if r.action.startswith("tip.")]
    assert [a for a, _ in actions] == ["tip.submit", "tip.list", "tip.read", "tip.media_view"]
    assert actions[0][1].startswith("anon:")


def test_a_clip_loses_its_tags_and_a_text_only_tip_needs_no_place(hub, anon, world):
    agency = world.agency()
    assert send(anon, agency.id, files={"media": ("clip.mp4", mp4_with_tags(), "video/mp4")}).status_code == 201
    assert send(anon, agency.id, text="Loud bangs near the park", files={"media": ("", b"", "")}).status_code == 201
    officer = world.staff("analyst")
    text_only, clip = sorted(officer.get("/api/tips").json(), key=lambda t: t["has_media"])
    assert (text_only["has_media"], text_only["lat"], text_only["location_text"]) == (False, None, None)
    video = officer.get(f"/api/tips/{clip['id']}/media").content
    assert clip["media_type"] == "video/mp4" and b"shot-at-43" not in video
    with av.open(io.BytesIO(video)) as c:
        assert sum(1 for _ in c.decode(video=0)) == 5


def test_bad_tips_are_refused_clearly_and_leave_nothing_behind(hub, anon, world):
    agency = world.agency()
    cases = [
        ({"text": "   "}, None, 422, "empty_tip"),
        ({"text": "x" * 4001}, None, 422, "tip_too_long"),
        ({"lat": "40.7", "lon": "-74.0"}, None, 422, "outside_jurisdiction"),
        ({"lat": "43.0"}, None, 422, "bad_location"),
        ({}, ("a.jpg", b"GIF89a" + b"\x00" * 100, "image/jpeg"), 422, "unsupported_media"),
        ({}, ("doc.pdf", b"%PDF-1.7\n" + b"\x00" * 100, "application/pdf"), 422, "unsupported_media"),
        ({}, ("big.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * (80 * 1024), "image/jpeg"), 413, "too_large"),
        ({}, ("broken.jpg", b"\xff\xd8\xff\xe0" + b"\x01" * 500, "image/jpeg"), 422, "bad_media"),
        ({"agency_id": "nope"}, None, 404, "no_such_program"),
    ]
    for fields, file, status, code in cases:
        body = {"text": "Something happened", **fields}
        r = send(anon, fields.pop("agency_id", agency.id), files={"media": file} if file else None,
                 **{k: v for k, v in body.items() if k != "agency_id"})
        assert (r.status_code, r.json()["error"]) == (status, code), (fields, r.text)
    assert counts(hub) == (0, 0)


def test_tips_are_rate_limited_per_client(hub, anon, world, clock):
    agency = world.agency()
    for _ in range(4):
        assert send(anon, agency.id).status_code == 201
    r = send(anon, agency.id, files={"media": ("p.jpg", jpeg_with_gps(), "image/jpeg")})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 3000
    assert counts(hub) == (4, 0)
    clock.advance(hours=1, seconds=1)
    assert send(anon, agency.id).status_code == 201


def test_promote_review_dismiss_and_no_reach_across_agencies(hub, anon, world):
    lakeport = world.agency()
    world.agency("harbor", HARBOR)
    opened = []
    hub.bus.subscribe(IncidentChanged, opened.append)
    send(anon, lakeport.id, lat="43.0", lon="-87.92")
    send(anon, lakeport.id, text="No place given")
    officer, other, owner = world.staff("officer"), world.staff("supervisor", "harbor"), world.owner()
    located, unplaced = sorted(officer.get("/api/tips").json(), key=lambda t: t["lat"] is None)

    for path in ("", "/media"):
        assert other.get(f"/api/tips/{located['id']}{path}").status_code == 404
    assert other.post(f"/api/tips/{located['id']}/promote", json={"category": "burglary", "title": "x"}).status_code == 404
    assert other.get("/api/tips").json() == []
    assert owner.get("/api/tips").status_code == 403
    assert world.admin().get("/api/tips").status_code == 403  # administrators manage users, not tips

    r = officer.post(f"/api/tips/{located['id']}/promote",
                     json={"category": "burglary", "priority": 2, "title": "Car break-ins on Elm St"})
    assert r.status_code == 201, r.text
    incident_id = r.json()["incident_id"]
    assert r.json()["tip"]["status"] == "promoted" and r.json()["tip"]["incident_id"] == incident_id
    [event] = opened
    assert (event.change, event.incident.id, event.incident.source.value, event.incident.external_id) == \
        ("opened", incident_id, "tip", located["id"])
    assert (event.incident.lat, event.incident.lon) == (43.0, -87.92)
    again = officer.post(f"/api/tips/{located['id']}/promote", json={"category": "burglary", "title": "again"})
    assert again.status_code == 409 and again.json()["error"] == "tip_closed"
    assert officer.post(f"/api/tips/{located['id']}/dismiss", json={}).status_code == 409

    r = officer.post(f"/api/tips/{unplaced['id']}/promote", json={"category": "burglary", "title": "x"})
    assert r.status_code == 422 and r.json()["error"] == "location_needed"
    assert officer.post(f"/api/tips/{unplaced['id']}/review").json()["status"] == "reviewed"
    done = officer.post(f"/api/tips/{unplaced['id']}/dismiss", json={"note": "duplicate of a CAD call"})
    assert done.json()["status"] == "dismissed" and done.json()["reviewer_name"] == "Officer"
    assert officer.get("/api/tips?status=open").json() == []
    assert len(officer.get("/api/tips?status=all").json()) == 2
    assert officer.get("/api/tips?status=bogus").status_code == 422


def test_tips_are_deleted_with_their_media_after_a_year_unless_promoted(hub, anon, world, clock):
    agency = world.agency()
    send(anon, agency.id, lat="43.0", lon="-87.92", files={"media": ("p.jpg", jpeg_with_gps(), "image/jpeg")})
    send(anon, agency.id, files={"media": ("q.jpg", jpeg_with_gps(), "image/jpeg")})
    officer = world.staff("supervisor")
    located = next(t for t in officer.get("/api/tips").json() if t["lat"] is not None)
    assert officer.post(f"/api/tips/{located['id']}/promote", json={"category": "robbery", "title": "Robbery at the corner shop"}).status_code == 201
    clock.advance(days=364)
    keep_public_forms(hub)
    assert counts(hub) == (2, 2)
    clock.advance(days=2)
    keep_public_forms(hub)
    assert counts(hub) == (1, 1)  # the promoted one stays with its incident
    with hub.uow() as uow:
        assert uow.conn.exec_driver_sql("SELECT id FROM tip").scalars().all() == [located["id"]]
