"""Lakeport's camera owners and their cameras, generated deterministically from one random seed.

Pure: it builds domain objects and touches no storage, so the layout can be tested on its own.
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from openrtcc.demo.catalogue import (
    KIND_BY_NAME,
    KINDS,
    CameraModel,
    OwnerKindProfile,
    camera_name,
    models_for,
    organisation_name,
    person_name,
    pick,
    sharing_policy,
)
from openrtcc.demo.streets import Frontage, along, house_number_address, nearest_frontage
from openrtcc.demo.territory import DOWNTOWN, FRAME, Territory, density
from openrtcc.domain.accounts import Role, User
from openrtcc.domain.cameras import Camera, CameraStatus, ContactPreferences, SharingPolicy, Tier, ViewCone
from openrtcc.domain.clock import IdFactory
from openrtcc.domain.geo import Point

WITHDRAWN_SHARE = 0.01
PLACEMENT_TRIES = 20


@dataclass(frozen=True, slots=True)
class DemoOwnerPlan:
    """An owner people can log in as, placed where the demo's footage requests happen."""

    email: str
    display_name: str
    kind: str
    organisation: str | None
    anchor: tuple[float, float]
    cameras: int
    integrated: SharingPolicy | None  # None: registered only


@dataclass(slots=True)
class OwnerSeed:
    user: User
    kind: str
    organisation: str | None
    prefs: ContactPreferences


@dataclass(slots=True)
class Population:
    owners: list[OwnerSeed] = field(default_factory=list)
    cameras: list[Camera] = field(default_factory=list)
    sites: dict[str, Point] = field(default_factory=dict)  # demo owner email -> their first camera


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.lower())


class CityBuilder:
    """Places owners' sites on the street grid and their cameras along the frontage, facing the street."""

    def __init__(self, rng: random.Random, ids: IdFactory, now: datetime, territory: Territory,
                 agency_ids: dict[str, str]):
        self.rng, self.ids, self.now = rng, ids, now
        self.territory, self.agency_ids = territory, agency_ids
        self.population = Population()

    # --- where ------------------------------------------------------------------------------------

    def _random_spot(self, kind: str) -> tuple[float, float]:
        t, rng = self.territory, self.rng
        while True:
            x, y = rng.uniform(t.min_x, t.max_x), rng.uniform(t.min_y, t.max_y)
            weight = density(x, y)
            if kind == "business":
                weight *= weight  # shops crowd downtown and the avenues
            elif kind == "hoa" and math.hypot(x - DOWNTOWN[0], y - DOWNTOWN[1]) < 3_500:
                continue  # subdivisions are suburban
            if rng.random() < weight:
                return x, y

    def _site(self, kind: str, anchor: tuple[float, float] | None) -> Frontage:
        x, y = anchor or self._random_spot(kind)
        return nearest_frontage(x, y, arterial_only=kind == "business")

    def _camera_frontage(self, kind: str, site: Frontage, role: int) -> Frontage:
        rng = self.rng
        if kind == "resident":
            return along(site, rng.uniform(-6, 6))
        if kind == "business":
            return along(site, rng.uniform(-25, 25))
        # An association watches its gates and the streets inside the subdivision.
        if role == 0:
            return site
        angle, reach = rng.uniform(0, 2 * math.pi), 350 * math.sqrt(rng.random())
        return nearest_frontage(site.x + reach * math.cos(angle), site.y + reach * math.sin(angle))

    # --- what -------------------------------------------------------------------------------------

    def _camera(self, f: Frontage, site: Frontage, owner: OwnerSeed, role: int, tier: Tier, policy: SharingPolicy,
                since: datetime) -> Camera | None:
        rng = self.rng
        model: CameraModel = rng.choice(models_for(owner.kind, role))
        setback = rng.uniform(4, 9)
        nx, ny = f.normal
        point = FRAME.to_point(f.x + nx * setback, f.y + ny * setback)
        plan = self.territory.agency_at(point)
        if plan is None:
            return None  # in the lake, or outside both jurisdictions
        # Face the street, never so far askew that the street in front leaves the field of view.
        facing = math.degrees(math.atan2(-nx, -ny))
        jitter = min(35.0, model.fov_deg * 0.4)
        bearing = round(facing + rng.uniform(-jitter, jitter)) % 360
        created = min(self.now, since + timedelta(days=rng.uniform(0, 10)))
        return Camera(
            id=self.ids.new_id(), agency_id=self.agency_ids[plan.slug], owner_id=owner.user.id,
            name=camera_name(rng, owner.kind, role), location=point,
            address=self._address(owner.kind, f, site),
            view=ViewCone(float(bearing), float(model.fov_deg), float(round(rng.uniform(*model.range_m)))),
            tier=tier, policy=policy, public_facing_attested=True, make=model.make, model=model.model,
            owner_retention_days=rng.choice(KIND_BY_NAME[owner.kind].retention_days),
            status=CameraStatus.ACTIVE, created_at=created, updated_at=created,
        )

    @staticmethod
    def _address(kind: str, f: Frontage, site: Frontage) -> str:
        """A home or a shop has one address for all its cameras; a subdivision's cameras stand on many streets."""
        where = f if kind == "hoa" else site
        return house_number_address(where)

    def _owner(self, profile: OwnerKindProfile, seq: int, *, email: str | None = None,
               display_name: str | None = None, organisation: str | None = None,
               password_hash: str | None = None) -> OwnerSeed:
        rng = self.rng
        org = organisation or organisation_name(rng, profile.kind)
        name = display_name or (org if org else person_name(rng))
        if email is None:
            local = {"resident": _slug(name), "business": "manager", "hoa": "board"}[profile.kind]
            email = f"{local}.{seq}@{_slug(org) if org else 'mail'}.lakeport.example"
        joined = self.now - timedelta(days=rng.uniform(20, 1_000))
        user = User(self.ids.new_id(), email, name, Role.OWNER, None, password_hash, None, False, None, None,
                    False, joined, None)
        prefs = ContactPreferences(pick(rng, profile.share_contact), rng.choice(["email", "email", "phone", "portal"]),
                                   f"+1 414 555 {100 + seq % 100:04d}")
        return OwnerSeed(user, profile.kind, org, prefs)

    # --- who --------------------------------------------------------------------------------------

    def add_owner(self, profile: OwnerKindProfile, seq: int, cameras: int, *, plan: DemoOwnerPlan | None = None,
                  password_hash: str | None = None) -> int:
        """Add one owner with up to `cameras` cameras; returns how many were placed."""
        rng = self.rng
        if plan:
            owner = self._owner(profile, seq, email=plan.email, display_name=plan.display_name,
                                organisation=plan.organisation, password_hash=password_hash)
        else:
            owner = self._owner(profile, seq)
        if plan:
            tier = Tier.INTEGRATED if plan.integrated else Tier.REGISTERED
            policy = plan.integrated or SharingPolicy()
        else:
            integrated = rng.random() < profile.integrated_chance
            tier = Tier.INTEGRATED if integrated else Tier.REGISTERED
            policy = sharing_policy(rng, profile) if integrated else SharingPolicy()
        placed = self._place_cameras(owner, profile.kind, cameras, tier, policy, plan)
        if placed:
            self.population.owners.append(owner)
        return len(placed)

    def _place_cameras(self, owner: OwnerSeed, kind: str, count: int, tier: Tier, policy: SharingPolicy,
                       plan: DemoOwnerPlan | None) -> list[Camera]:
        placed: list[Camera] = []
        site = None
        for _ in range(PLACEMENT_TRIES):
            site = self._site(kind, plan.anchor if plan else None)
            first = self._camera(self._camera_frontage(kind, site, 0), site, owner, 0, tier, policy,
                                 owner.user.created_at)
            if first is not None:
                placed.append(first)
                break
        for role in range(1, count if placed else 0):
            for _ in range(PLACEMENT_TRIES):
                cam = self._camera(self._camera_frontage(kind, site, role), site, owner, role, tier, policy,
                                   owner.user.created_at)
                if cam is not None:
                    placed.append(cam)
                    break
        if plan and placed:
            self.population.sites[plan.email] = placed[0].location
        elif placed:
            self._withdraw_some(placed)
        self.population.cameras.extend(placed)
        return placed

    def _withdraw_some(self, cameras: list[Camera]) -> None:
        """A few owners have since left the program; the demo owners never have."""
        for cam in cameras:
            if self.rng.random() < WITHDRAWN_SHARE:
                cam.status, cam.withdrawn_at, cam.updated_at = CameraStatus.WITHDRAWN, self.now, self.now

    def fill(self, total: int, first_seq: int) -> None:
        """Add random owners of every kind until the city holds `total` cameras."""
        seq = first_seq
        while len(self.population.cameras) < total:
            profile = self.rng.choices(KINDS, weights=[k.weight for k in KINDS])[0]
            wanted = min(self.rng.randint(*profile.cameras), total - len(self.population.cameras))
            self.add_owner(profile, seq, wanted)
            seq += 1


def build_population(seed: int, cameras: int, ids: IdFactory, now: datetime, territory: Territory,
                     agency_ids: dict[str, str], demo_owners: list[DemoOwnerPlan],
                     demo_password_hash: str | None) -> Population:
    """The whole city: the demo owners first (at their fixed sites), then random owners up to `cameras`."""
    builder = CityBuilder(random.Random(seed), ids, now, territory, agency_ids)
    for seq, plan in enumerate(demo_owners):
        builder.add_owner(KIND_BY_NAME[plan.kind], seq, plan.cameras, plan=plan, password_hash=demo_password_hash)
    builder.fill(cameras, len(demo_owners))
    return builder.population
