"""The benchmark's world: a fresh hub on a temporary data dir, two adjacent agencies, staff and owners.

Staff and owners get their sessions through the real HTTP API, as a browser or a script would.
"""

from __future__ import annotations

import random
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pyotp

from openrtcc.bootstrap import build_hub
from openrtcc.config import Settings
from openrtcc.domain.accounts import Role, User
from openrtcc.domain.audit import AuditEntry
from openrtcc.domain.cameras import (
    Camera,
    CameraStatus,
    ContactPreferences,
    SharingMode,
    SharingPolicy,
    Tier,
    ViewCone,
)
from openrtcc.domain.geo import BBox, Point, bbox_around
from openrtcc.domain.governance import AgencyGovernance
from openrtcc.services.accounts import create_agency_user
from openrtcc.services.admin import create_agency
from openrtcc.services.hub import Actor, Hub

# A city of 16 x 16 km (Chicago is about 600 km2, DC 177 km2) and a county beside it, twice as wide.
CITY_CENTER = Point(42.30, -88.30)
CITY_HALF_SIDE_M = 8_000.0
OWNERS_PER_BULK_CAMERA = 1 / 25


def _polygon(box: BBox) -> dict:
    ring = [[box.min_lon, box.min_lat], [box.max_lon, box.min_lat], [box.max_lon, box.max_lat],
            [box.min_lon, box.max_lat], [box.min_lon, box.min_lat]]
    return {"type": "Polygon", "coordinates": [ring]}


@dataclass(slots=True)
class BenchWorld:
    hub: Hub
    settings: Settings
    password: str
    city_id: str
    county_id: str
    city_box: BBox
    county_box: BBox
    admin: Actor

    def random_point(self, rng: random.Random, box: BBox, margin: float = 0.0) -> Point:
        dlat = (box.max_lat - box.min_lat) * margin
        dlon = (box.max_lon - box.min_lon) * margin
        return Point(rng.uniform(box.min_lat + dlat, box.max_lat - dlat),
                     rng.uniform(box.min_lon + dlon, box.max_lon - dlon))


def build_world(data_dir: Path, **overrides: object) -> BenchWorld:
    """`overrides`: settings a benchmark sets beyond the defaults (its SMTP relay, channel URLs ...)."""
    settings = Settings(**{"data_dir": data_dir, "database_url": None, "smtp_host": None, "tile_url": "",
                           **overrides})
    hub = build_hub(settings)
    password = f"bench-{secrets.token_hex(8)}"
    city = bbox_around(CITY_CENTER, CITY_HALF_SIDE_M)
    width = city.max_lon - city.min_lon
    county = BBox(city.min_lat, city.min_lon - 1.5 * width, city.max_lat, city.min_lon)  # shares the west edge
    city_id = create_agency(hub, slug="bench-city", name="Bench City Police", jurisdiction=_polygon(city),
                            admin_email="admin@city.bench.example", admin_password=password)
    county_id = create_agency(hub, slug="bench-county", name="Bench County Sheriff", jurisdiction=_polygon(county),
                              admin_email="admin@county.bench.example", admin_password=password)
    with hub.uow() as uow:
        # The benchmark measures the search, not a supervisor's approval: no camera limit in the way.
        uow.governance.save(AgencyGovernance(city_id, search_camera_limit=100_000), None, hub.clock.now())
        uow.record(AuditEntry("governance.update", "success", None, city_id, f"agency:{city_id}", "bench",
                              {"search_camera_limit": 100_000}))
        uow.commit()
    with hub.uow() as uow:
        admin = uow.accounts.by_email("admin@city.bench.example")
        uow.rollback()
    return BenchWorld(hub, settings, password, city_id, county_id, city, county,
                      Actor(admin.id, Role.ADMIN, city_id, "bench"))


def add_staff(world: BenchWorld, role: Role, name: str) -> str:
    email = f"{name}@city.bench.example"
    create_agency_user(world.hub, world.admin, email=email, display_name=name.title(), role=role,
                       password=world.password)
    return email


def staff_session(base_url: str, email: str, password: str) -> httpx.Client:
    """Log on through the API and enrol the authenticator, as a new analyst does at first log-on."""
    client = httpx.Client(base_url=base_url, timeout=30)
    r = client.post("/api/auth/logon", json={"email": email, "password": password, "accept_banner": True})
    r.raise_for_status()
    client.headers["Authorization"] = f"Bearer {r.json()['token']}"
    secret = client.post("/api/auth/totp/start").raise_for_status().json()["secret"]
    client.post("/api/auth/totp/confirm", json={"code": pyotp.TOTP(secret).now()}).raise_for_status()
    return client


def owner_session(base_url: str, password: str, n: int) -> httpx.Client:
    """Sign up and log on as an owner through the API; the client then carries the bearer token."""
    client = httpx.Client(base_url=base_url, timeout=30)
    email = f"owner{n}-{uuid.uuid4().hex[:8]}@owners.bench.example"
    client.post("/api/auth/signup", json={"email": email, "password": password, "display_name": f"Owner {n}",
                                          "kind": "business"}).raise_for_status()
    r = client.post("/api/auth/logon", json={"email": email, "password": password, "accept_banner": True})
    client.headers["Authorization"] = f"Bearer {r.raise_for_status().json()['token']}"
    return client


def bulk_owners(world: BenchWorld, count: int) -> list[str]:
    """Owners for the bulk-imported cameras: no password, as for owners an agency imports."""
    now = world.hub.clock.now()
    users = [User(str(uuid.uuid4()), f"bulk{i}@owners.bench.example", f"Bulk owner {i}", Role.OWNER, None, None,
                  None, False, None, None, False, now, None) for i in range(count)]
    with world.hub.uow() as uow:
        uow.accounts.add_users(users)
        uow.accounts.add_owner_profiles([(u.id, "resident", None, ContactPreferences()) for u in users])
        uow.record(AuditEntry("bench.bulk_owners", "success", None, None, None, "bench", {"owners": count}))
        uow.commit()
    return [u.id for u in users]


def bulk_camera(rng: random.Random, world: BenchWorld, agency_id: str, box: BBox, owner_id: str, n: int) -> Camera:
    now = world.hub.clock.now() - timedelta(days=rng.uniform(0, 700))
    integrated = rng.random() < 0.3
    policy = SharingPolicy(rng.choice(list(SharingMode)), True, True) if integrated else SharingPolicy()
    return Camera(str(uuid.uuid4()), agency_id, owner_id, f"Camera {n}", world.random_point(rng, box),
                  f"{100 + n % 9_000} Bench Ave", ViewCone(float(rng.randrange(360)), 90.0, 30.0),
                  Tier.INTEGRATED if integrated else Tier.REGISTERED, policy, True, "Axis", "P3265-LVE", 14,
                  CameraStatus.ACTIVE, now, now)
