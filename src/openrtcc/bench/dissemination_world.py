"""The dissemination benchmark's subscribers: residents, police units, security vendors and partner businesses
over the bench city, each with a channel, an area and categories, as a real agency's list would hold them.

Residents (most of the list) take email, SMS or push for the few categories they care about within a
neighbourhood around home; police units take everything in their district, by email, SMS and push, and a few
citywide machine links (a dispatch webhook, an MQTT bridge, the command-center screens on WebSocket);
vendors take webhooks, MQTT and email over their patrol areas; partner businesses a small circle around their
premises. Every address points at the benchmark's receivers (delivery_receivers.py)."""

from __future__ import annotations

import hashlib
import random
import secrets
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from openrtcc.bench.world import BenchWorld
from openrtcc.domain.dissemination import Audience, ChannelKind, SubscriberStatus
from openrtcc.domain.geo import BBox, Point

A, C = Audience, ChannelKind
INCIDENT_CATEGORIES = ("robbery", "burglary", "shots_fired", "missing_person", "traffic_hazard", "fire",
                       "suspicious_activity")
ALERT_CATEGORY = "plate_alert"  # what services/dissemination files plate hits under
DISTRICTS_PER_SIDE = 4  # the city's 16 police districts
# (audience, channel, share of the list, area kind). The shares of the fixed rows below are per subscriber
# of the list; residents' email takes what is left. Citywide rows are counts, not shares.
MIX: tuple[tuple[Audience, ChannelKind, float, str], ...] = (
    (A.PUBLIC, C.SMS, 0.20, "home"),
    (A.PUBLIC, C.PUSH, 0.18, "home"),
    (A.POLICE_UNIT, C.EMAIL, 0.0016, "district"),
    (A.POLICE_UNIT, C.SMS, 0.0012, "district"),
    (A.POLICE_UNIT, C.PUSH, 0.0012, "district"),
    (A.PRIVATE_SECURITY, C.WEBHOOK, 0.04, "patrol"),
    (A.PRIVATE_SECURITY, C.MQTT, 0.02, "patrol"),
    (A.PRIVATE_SECURITY, C.EMAIL, 0.02, "patrol"),
    (A.PARTNER_BUSINESS, C.EMAIL, 0.04, "premises"),
    (A.PARTNER_BUSINESS, C.WEBHOOK, 0.02, "premises"),
    (A.PARTNER_BUSINESS, C.MQTT, 0.02, "premises"),
)
CITYWIDE: tuple[tuple[Audience, ChannelKind, int], ...] = (
    (A.POLICE_UNIT, C.WEBHOOK, 3), (A.POLICE_UNIT, C.MQTT, 3), (A.POLICE_UNIT, C.WEBSOCKET, 10))
RADIUS_M = {"home": (500.0, 1_500.0), "patrol": (1_000.0, 3_000.0), "premises": (300.0, 1_000.0)}


@dataclass(slots=True)
class Population:
    rows: list[dict] = field(default_factory=list)  # subscriber table rows
    webhook_secrets: dict[str, str] = field(default_factory=dict)  # receiver path key -> signing secret
    sockets: list[tuple[str, str]] = field(default_factory=list)  # (subscriber id, access token)
    by_key: dict[str, str] = field(default_factory=dict)  # "channel:receipt key" -> subscriber id
    counts: Counter = field(default_factory=Counter)  # (audience, channel) -> subscribers


@dataclass(frozen=True, slots=True)
class Endpoints:
    http_port: int  # webhooks
    mqtt_port: int  # the benchmark's Mosquitto


def _circle(p: Point, radius_m: float) -> dict:
    return {"type": "Circle", "center": [p.lon, p.lat], "radius_m": round(radius_m)}


def _district(box: BBox, i: int) -> dict:
    row, col = divmod(i % DISTRICTS_PER_SIDE ** 2, DISTRICTS_PER_SIDE)
    dlat = (box.max_lat - box.min_lat) / DISTRICTS_PER_SIDE
    dlon = (box.max_lon - box.min_lon) / DISTRICTS_PER_SIDE
    s, w = box.min_lat + row * dlat, box.min_lon + col * dlon
    ring = [[w, s], [w + dlon, s], [w + dlon, s + dlat], [w, s + dlat], [w, s]]
    return {"type": "Polygon", "coordinates": [ring]}


def _categories(rng: random.Random, audience: Audience) -> list[str]:
    if audience is A.POLICE_UNIT:
        return []  # everything, plate hits included
    if rng.random() < 0.4:
        return []  # every category (plate hits never reach them: police units only)
    return sorted(rng.sample(INCIDENT_CATEGORIES, rng.randint(1, 4)))


def build_population(world: BenchWorld, total: int, ends: Endpoints, now: datetime, seed: int = 5) -> Population:
    rng = random.Random(seed)
    pop = Population()
    fixed = [(a, c, max(1, round(share * total)), area) for a, c, share, area in MIX]
    citywide = [(a, c, n, "city") for a, c, n in CITYWIDE]
    email_residents = total - sum(n for *_, n, _ in fixed) - sum(n for *_, n, _ in citywide)
    plan = [(A.PUBLIC, C.EMAIL, max(0, email_residents), "home"), *fixed, *citywide]
    n = 0
    for audience, channel, count, area in plan:
        for _ in range(count):
            _add(pop, world, rng, ends, now, n, audience, channel, area)
            n += 1
    return pop


def _area(rng: random.Random, world: BenchWorld, kind: str, n: int) -> dict | None:
    if kind == "city":
        return None
    if kind == "district":
        return _district(world.city_box, n)
    low, high = RADIUS_M[kind]
    return _circle(world.random_point(rng, world.city_box), rng.uniform(low, high))


def _add(pop: Population, world: BenchWorld, rng: random.Random, ends: Endpoints, now: datetime, n: int,
         audience: Audience, channel: ChannelKind, area: str) -> None:
    sid = str(uuid.uuid4())
    secret = None
    if channel is C.EMAIL:
        address = key = f"{audience.value.replace('_', '-')}-{n}@subscribers.bench.example"
    elif channel is C.SMS:
        address = key = f"+1555{n:07d}"
    elif channel is C.PUSH:
        address = key = f"bench-{n}"
    elif channel is C.WEBHOOK:
        key = str(n)
        address = f"http://127.0.0.1:{ends.http_port}/hooks/{key}"
        secret = pop.webhook_secrets[key] = secrets.token_urlsafe(32)
    elif channel is C.MQTT:
        address = f"mqtt://127.0.0.1:{ends.mqtt_port}/bench/{n}"
        key = f"bench/{n}/events"
    else:  # WebSocket: the screen connects with the token; the subscriber keeps its hash
        address, key = "", sid
        token = secrets.token_urlsafe(32)
        secret = hashlib.sha256(token.encode()).hexdigest()
        pop.sockets.append((sid, token))
    pop.by_key[f"{channel.value}:{key}"] = sid
    pop.counts[(audience, channel)] += 1
    pop.rows.append(dict(
        id=sid, agency_id=world.city_id, audience=audience.value, channel=channel.value, address=address,
        name=f"Bench {audience.value} {n}", categories=_categories(rng, audience),
        geofence=_area(rng, world, area, n), secret=secret, status=SubscriberStatus.ACTIVE.value,
        confirm_hash=None, confirm_expires_at=None, created_by=None, created_at=now, confirmed_at=now,
        unsubscribed_at=None))
