"""Seed the demo city: two agencies, their staff, thousands of owners' cameras and some recent history.

Bulk rows go in through the repositories in a few audited units of work (seconds, not minutes);
the history goes through the real use cases so that it looks, and is audited, exactly as live use.
"""

from __future__ import annotations

import logging
import random
import secrets
import time
from dataclasses import dataclass

from openrtcc.demo.command_center import seed_command_center
from openrtcc.demo.governance import seed_governance
from openrtcc.demo.history import Incident, seed_history
from openrtcc.demo.plate_reads import seed_plate_reads
from openrtcc.demo.population import DemoOwnerPlan, Population, build_population
from openrtcc.demo.territory import AGENCIES, CITY, COUNTY, AgencyPlan, lakeport_territory
from openrtcc.domain.accounts import Role, User
from openrtcc.domain.audit import AuditEntry
from openrtcc.domain.cameras import SharingMode, SharingPolicy, Tier
from openrtcc.domain.errors import Conflict, InvalidInput
from openrtcc.services.hub import Actor, Hub

log = logging.getLogger(__name__)

DEMO_SEED = 42
MIN_CAMERAS = 100
STAFF_ROLES = (Role.ADMIN, Role.SUPERVISOR, Role.ANALYST, Role.OFFICER, Role.AUDITOR)
STAFF_NAMES = {
    CITY.slug: ("Renee Okafor", "Sgt. Paul Brandt", "Dana Whitfield", "Ofc. Luis Serrano", "Irene Holm"),
    COUNTY.slug: ("Martin Voss", "Sgt. Carla Diaz", "Sam Ortega", "Dep. Kevin Lund", "Ada Prentice"),
}
RESIDENT = DemoOwnerPlan("resident@demo.lakeport.example", "Maria Lopez", "resident", None, (-1_800.0, 3_300.0),
                         2, SharingPolicy(SharingMode.EMERGENCY_ONLY, share_live=False, share_recorded=True))
BUSINESS = DemoOwnerPlan("business@demo.lakeport.example", "Lakeside Coffee Roasters", "business",
                         "Lakeside Coffee Roasters", (1_600.0, 450.0), 4,
                         SharingPolicy(SharingMode.ALWAYS, share_live=True, share_recorded=True))
HOA = DemoOwnerPlan("hoa@demo.lakeport.example", "Willow Creek Homeowners Association", "hoa",
                    "Willow Creek Homeowners Association", (-9_000.0, 2_000.0), 16,
                    SharingPolicy(SharingMode.ALWAYS, share_live=True, share_recorded=True))
DEMO_OWNERS = [RESIDENT, BUSINESS, HOA]


@dataclass(frozen=True, slots=True)
class StaffMember:
    plan: AgencyPlan
    user: User


def seed_demo_city(hub: Hub, cameras: int = 6000, seed: int = DEMO_SEED) -> dict:
    """Seed Lakeport once; returns the demo log-ins: {"password", "totp_secret", "accounts": [...]}.

    A database that already holds the demo city is refused rather than seeded twice.
    """
    if cameras < MIN_CAMERAS:
        raise InvalidInput(f"the demo city needs at least {MIN_CAMERAS} cameras", code="too_few_cameras")
    started = time.perf_counter()
    password = f"lakeport-{secrets.token_hex(4)}"
    totp_secret = hub.totp.new_secret()
    password_hash = hub.passwords.hash(password)  # once: every demo log-in shares it
    agency_ids, staff = _seed_agencies(hub, password_hash, totp_secret)
    population = build_population(seed, cameras, hub.ids, hub.clock.now(), lakeport_territory(), agency_ids,
                                  DEMO_OWNERS, password_hash)
    _seed_population(hub, population, agency_ids)
    owner_ids = {o.user.email: o.user.id for o in population.owners}
    requests = seed_history(hub, _incidents(staff, population), owner_ids, _actor(staff, CITY, Role.OFFICER))
    alerts = seed_plate_reads(hub, _actor(staff, CITY, Role.ADMIN), population.cameras, seed)
    cad_feed = seed_command_center(hub, CITY.slug, _actor(staff, CITY, Role.ANALYST),
                                   *_cad_sites(population, agency_ids[CITY.slug], seed))
    governance = seed_governance(hub, _roles(staff, CITY), _roles(staff, COUNTY),
                                 _incidents(staff, population)[0].case_number)
    integrated = sum(c.tier is Tier.INTEGRATED for c in population.cameras)
    log.info("demo city seeded: %s cameras (%s integrated), %s owners, %s footage requests in %.1f s",
             len(population.cameras), integrated, len(population.owners), requests, time.perf_counter() - started)
    return {
        "password": password,
        "totp_secret": totp_secret,
        "accounts": _accounts(staff),
        "cad_feed": cad_feed.to_json(),
        "summary": f"Lakeport: {len(population.cameras)} cameras ({integrated} integrated), "
                   f"{len(population.owners)} owners, 2 agencies, {requests} footage requests, "
                   f"{alerts} plate alerts to verify at /alerts (Lakeport officer or analyst); {governance}",
    }


def _seed_agencies(hub: Hub, password_hash: str, totp_secret: str) -> tuple[dict[str, str], list[StaffMember]]:
    """Both agencies and a pre-enrolled account for every agency role, in one audited transaction."""
    with hub.uow() as uow:
        if uow.accounts.agency_by_slug(CITY.slug):
            raise Conflict("this database already holds the demo city: start again with --fresh",
                           code="demo_already_seeded")
        now = hub.clock.now()
        agency_ids, staff = {}, []
        for plan in AGENCIES:
            agency_id = agency_ids[plan.slug] = hub.ids.new_id()
            uow.accounts.add_agency(agency_id, plan.slug, plan.name, plan.jurisdiction, now)
            for role, name in zip(STAFF_ROLES, STAFF_NAMES[plan.slug], strict=True):
                user = User(hub.ids.new_id(), f"{role.value}@{plan.email_domain}", name, role, agency_id,
                            password_hash, totp_secret, True, None, None, False, now, None)
                staff.append(StaffMember(plan, user))
            uow.record(AuditEntry("demo.seed", "success", None, agency_id, f"agency:{agency_id}", "cli",
                                  {"step": "agency", "slug": plan.slug, "staff": len(STAFF_ROLES)}))
        uow.accounts.add_users([s.user for s in staff])
        uow.commit()
    return agency_ids, staff


def _seed_population(hub: Hub, population: Population, agency_ids: dict[str, str]) -> None:
    """Owners, their profiles and every camera: bulk inserts in one audited transaction."""
    with hub.uow() as uow:
        uow.accounts.add_users([o.user for o in population.owners])
        uow.accounts.add_owner_profiles([(o.user.id, o.kind, o.organisation, o.prefs) for o in population.owners])
        uow.cameras.add_many(population.cameras)
        for slug, agency_id in agency_ids.items():
            mine = [c for c in population.cameras if c.agency_id == agency_id]
            uow.record(AuditEntry("demo.seed", "success", None, agency_id, f"agency:{agency_id}", "cli",
                                  {"step": "cameras", "slug": slug, "cameras": len(mine),
                                   "integrated": sum(c.tier is Tier.INTEGRATED for c in mine)}))
        uow.record(AuditEntry("demo.seed", "success", None, None, "demo:lakeport", "cli",
                              {"step": "owners", "owners": len(population.owners)}))
        uow.commit()


def _actor(staff: list[StaffMember], plan: AgencyPlan, role: Role) -> Actor:
    member = next(s for s in staff if s.plan is plan and s.user.role is role)
    return Actor(member.user.id, role, member.user.agency_id, "demo")


def _roles(staff: list[StaffMember], plan: AgencyPlan) -> dict[str, Actor]:
    return {role.value: _actor(staff, plan, role) for role in STAFF_ROLES}


def _incidents(staff: list[StaffMember], population: Population) -> list[Incident]:
    year = f"{staff[0].user.created_at:%y}"
    sites = population.sites
    return [
        Incident(_actor(staff, CITY, Role.ANALYST), f"{CITY.case_prefix}-{year}-004512",
                 "Commercial burglary: suspect left on foot southbound", sites[BUSINESS.email], 150.0, 26.0,
                 BUSINESS.email),
        Incident(_actor(staff, CITY, Role.SUPERVISOR), f"{CITY.case_prefix}-{year}-004519",
                 "Hit-and-run: silver sedan left eastbound", sites[RESIDENT.email], 120.0, 5.0, RESIDENT.email,
                 "crash_investigation", "NONE"),
        Incident(_actor(staff, COUNTY, Role.ANALYST), f"{COUNTY.case_prefix}-{year}-000871",
                 "Vandalism at a subdivision clubhouse", sites[HOA.email], 200.0, 70.0, HOA.email,
                 "criminal_investigation", "290"),
    ]


def _cad_sites(population: Population, agency_id: str, seed: int) -> tuple[tuple, list[tuple]]:
    """Where the demo CAD's calls come from: first beside the business's live camera, then city cameras."""
    business = next(c for c in population.cameras if c.location == population.sites[BUSINESS.email])
    city = [c for c in population.cameras if c.agency_id == agency_id]
    others = random.Random(seed).sample(city, min(24, len(city)))
    return (business.location, business.address), [(c.location, c.address) for c in others]


def _accounts(staff: list[StaffMember]) -> list[dict]:
    accounts = [{"role": s.user.role.value, "email": s.user.email, "agency": s.plan.name} for s in staff]
    for plan in DEMO_OWNERS:
        accounts.append({"role": "owner", "email": plan.email, "agency": "",
                         "who": f"{plan.display_name} ({plan.kind}, {plan.cameras} cameras)"})
    return accounts
