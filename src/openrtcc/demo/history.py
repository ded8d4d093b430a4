"""A little recent history for the demo: searches, footage requests, owners' answers and an upload.

All of it goes through the real use cases, so every step is audited and notifies owners as it would live.
"""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from openrtcc.domain.accounts import Role
from openrtcc.domain.footage import OwnerAnswer
from openrtcc.domain.geo import Point, destination
from openrtcc.services import footage, search
from openrtcc.services.footage import FootageRequestDraft
from openrtcc.services.hub import Actor, Hub
from openrtcc.services.search_rules import PurposeIn


@dataclass(frozen=True, slots=True)
class Incident:
    """A past incident near one demo owner, handled by one agency's investigator."""

    staff: Actor
    case_number: str
    purpose: str
    near: Point
    radius_m: float
    hours_ago: float
    owner_email: str
    search_purpose: str = "criminal_investigation"  # a code of domain.search_purposes
    offence: str = "220"  # a NIBRS code: burglary


def still_png(width: int = 160, height: int = 90) -> bytes:
    """A small grey-gradient PNG: a stand-in for the still an owner sends."""
    row = b"\x00" + bytes(x * 255 // width for x in range(width))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(row * height))
            + chunk(b"IEND", b""))


def _owner(owner_id: str) -> Actor:
    return Actor(owner_id, Role.OWNER, None, "demo")


def open_incident(hub: Hub, incident: Incident, now: datetime) -> tuple[str, list]:
    """Search around the incident, then ask the owners there for footage; returns the request and its targets."""
    spot = destination(incident.near, 200.0, 30.0)
    purpose = PurposeIn(incident.search_purpose, incident.offence, incident.case_number, incident.purpose)
    search.search_radius(hub, incident.staff, spot.lat, spot.lon, incident.radius_m, purpose)
    end = now - timedelta(hours=incident.hours_ago)
    draft = FootageRequestDraft(incident.case_number, incident.purpose, spot.lat, spot.lon, incident.radius_m,
                                end - timedelta(hours=2), end)
    request_id, _, _ = footage.open_request(hub, incident.staff, draft)
    _, targets, _ = footage.agency_request(hub, incident.staff, request_id)
    return request_id, targets


def answer_as_demo_owner(hub: Hub, request_id: str, targets: list, owner_id: str, *, upload: bool,
                         note: str) -> None:
    """The demo owner answers: the first camera sends a still (or approves), the second declines."""
    mine = [t for t in targets if t.owner_id == owner_id]
    owner = _owner(owner_id)
    for i, target in enumerate(mine[:2]):
        if i == 0 and upload:
            footage.upload_clip(hub, owner, request_id, target.camera_id, io.BytesIO(still_png()),
                                f"{target.camera_name.lower().replace(' ', '-')}-still.png")
        elif i == 0:
            footage.answer_request(hub, owner, request_id, target.camera_id, OwnerAnswer.APPROVED, note)
        else:
            footage.answer_request(hub, owner, request_id, target.camera_id, OwnerAnswer.DECLINED,
                                   "Nothing of use on this one at that hour.")


def answer_as_neighbours(hub: Hub, request_id: str, targets: list, skip_owner: str) -> None:
    """A couple of neighbours answer too; the rest stay pending, as they would a day later."""
    others = [t for t in targets if t.owner_id != skip_owner]
    for i, target in enumerate(others[:3]):
        answer = OwnerAnswer.DECLINED if i == 1 else OwnerAnswer.APPROVED
        note = None if answer is OwnerAnswer.APPROVED else "Nothing useful on it that night, sorry."
        footage.answer_request(hub, _owner(target.owner_id), request_id, target.camera_id, answer, note)


def seed_history(hub: Hub, incidents: list[Incident], owner_ids: dict[str, str], patrol: Actor) -> int:
    """Play the incidents through the real use cases; returns how many footage requests were opened."""
    now = hub.clock.now()
    search.map_points(hub, patrol)
    first = incidents[0].near
    search.cameras_that_could_see(hub, patrol, first.lat, first.lon,
                                  PurposeIn(incidents[0].search_purpose, incidents[0].offence,
                                            incidents[0].case_number, "checking which cameras see the corner"))
    for n, incident in enumerate(incidents):
        request_id, targets = open_incident(hub, incident, now)
        owner_id = owner_ids[incident.owner_email]
        answer_as_demo_owner(hub, request_id, targets, owner_id, upload=n == 0,
                             note="The clip from about that time shows the street clearly.")
        answer_as_neighbours(hub, request_id, targets, owner_id)
    return len(incidents)
