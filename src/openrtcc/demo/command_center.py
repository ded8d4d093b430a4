"""The demo's command center: a CAD integration whose simulated calls arrive over the real signed webhook
while the demo runs, an incident an operator opened, and a public tip waiting in the queue.

The feed posts to the hub's own URL exactly as an outside CAD would (HMAC-signed, one delivery id per
call), so what an operator sees on /command is the path a city's CAD takes."""

from __future__ import annotations

import json
import logging
import random
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from openrtcc.domain.geo import Point
from openrtcc.domain.incidents import IncidentDraft
from openrtcc.domain.webhook_signing import sign
from openrtcc.services import incidents, integrations_in, tips
from openrtcc.services.hub import Actor, Hub

log = logging.getLogger(__name__)

FIRST_CALL_S = 20.0  # soon after start, so that a newcomer sees one arrive
CALL_EVERY_S = 120.0
CAD_CODES = {
    "default_category": "other",
    "default_priority": 3,
    "codes": {
        "459": {"category": "burglary", "priority": 2, "label": "Burglary"},
        "211": {"category": "robbery", "priority": 1, "label": "Armed robbery",
                "emergency": {"radius_m": 300, "minutes": 60}},
        "SHOTS": {"category": "shots_fired", "priority": 1, "label": "Shots fired",
                  "emergency": {"radius_m": 400, "minutes": 45}},
        "10-50": {"category": "traffic", "priority": 3, "label": "Traffic collision"},
        "SUSP": {"category": "suspicious_activity", "priority": 4, "label": "Suspicious person"},
        "MISS": {"category": "missing_person", "priority": 2, "label": "Missing person"},
    },
}
# (call type, what the caller said): the feed cycles through them at demo camera sites.
CALLS = (
    ("459", "Caller reports the rear door of a shop forced open; nobody seen inside."),
    ("SUSP", "Person trying car door handles along the block, dark hoodie, on foot."),
    ("10-50", "Two-car collision, no injuries reported, one lane blocked."),
    ("211", "Clerk reports a robbery at gunpoint; suspect left on foot towards the park."),
    ("MISS", "Eight-year-old child separated from a parent near the shops, red jacket."),
    ("SHOTS", "Several callers report three to four shots heard near the intersection."),
)


@dataclass(frozen=True, slots=True)
class CadFeedPlan:
    integration_id: str
    secret: str
    sites: list[tuple[float, float, str]]  # lat, lon, address: where calls come from (first: the live camera)

    def to_json(self) -> dict:
        return {"integration_id": self.integration_id, "secret": self.secret, "sites": self.sites}


def seed_command_center(hub: Hub, agency_slug: str, operator: Actor, first_site: tuple[Point, str],
                        other_sites: list[tuple[Point, str]]) -> CadFeedPlan:
    """The CAD integration (its secret kept in the demo's log-ins file), an open incident and a tip."""
    integration, secret = integrations_in.create_for_agency(hub, agency_slug, "cad", "Lakeport CAD (demo feed)",
                                                           CAD_CODES)
    point, address = first_site
    incidents.create_incident(hub, operator, IncidentDraft(
        category="suspicious_activity", priority=3, title="Loitering reported behind the coffee roasters",
        lat=point.lat + 0.0004, lon=point.lon - 0.0003, address=address,
        description="Business owner called the non-emergency line: two people checking the back doors."))
    tips.submit_tip(hub, tips.TipForm(
        agency_id=operator.agency_id, text="A grey van has been parked on the corner for three nights with "
        "the engine running; people carry boxes from it into the empty unit next door.",
        location_text="corner by the coffee roasters"), None, "demo")
    sites = [(point.lat, point.lon, address)] + [(p.lat, p.lon, a) for p, a in other_sites]
    return CadFeedPlan(integration.id, secret, sites)


def cad_call(plan: dict, seq: int, now: datetime, rng: random.Random) -> dict:
    """The seq-th simulated call: a CAD payload as the webhook takes it."""
    code, description = CALLS[seq % len(CALLS)]
    lat, lon, address = plan["sites"][0] if seq == 0 else rng.choice(plan["sites"][1:] or plan["sites"])
    return {
        "version": 1, "incident_number": f"LPD-{now:%y%m%d}-{uuid.uuid4().hex[:6].upper()}",
        "call_type": code, "description": description,
        "location": {"lat": round(lat + rng.uniform(-0.0003, 0.0003), 6),
                     "lon": round(lon + rng.uniform(-0.0003, 0.0003), 6), "address": address},
        "received_at": now.isoformat(),
    }


class DemoCadFeed:
    """Posts a signed CAD call to the hub every CALL_EVERY_S seconds while it serves."""

    def __init__(self, plan: dict, hub_url: str, now=lambda: datetime.now(UTC)):
        self.plan, self.url, self.now = plan, f"{hub_url}/api/integrations/{plan['integration_id']}/cad", now
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start_when_listening(self, server) -> None:
        self._thread = threading.Thread(target=self._run, args=(server,), name="demo-cad-feed", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5.0)

    def _run(self, server) -> None:
        rng, seq = random.Random(), 0
        if self._stop.wait(FIRST_CALL_S) or not server.started:
            return
        with httpx.Client(timeout=10.0, trust_env=False) as client:
            while not self._stop.is_set():
                self.send(client, seq, rng)
                seq += 1
                if self._stop.wait(CALL_EVERY_S):
                    return

    def send(self, client: httpx.Client, seq: int, rng: random.Random) -> int | None:
        """Post the seq-th call, signed; the hub's HTTP status, or None when it did not answer."""
        call = cad_call(self.plan, seq, self.now(), rng)
        body = json.dumps(call).encode()
        headers = sign(self.plan["secret"], self.now(), f"demo-{uuid.uuid4().hex}", body)
        try:
            r = client.post(self.url, content=body, headers={**headers, "Content-Type": "application/json"})
        except httpx.HTTPError as exc:
            log.warning("demo CAD feed: the hub did not answer (%s)", type(exc).__name__)
            return None
        if r.status_code >= 300:
            log.warning("demo CAD feed: call refused (%s %s)", r.status_code, r.text[:200])
        else:
            log.info("demo CAD feed: call %s (%s) sent to the command center", call["incident_number"],
                     call["call_type"])
        return r.status_code


class Together:
    """Several things that start once the hub listens and stop after it (the box and the CAD feed)."""

    def __init__(self, *parts):
        self.parts = [p for p in parts if p is not None]

    def start_when_listening(self, server) -> None:
        for part in self.parts:
            part.start_when_listening(server)

    def stop(self) -> None:
        for part in reversed(self.parts):
            part.stop()
