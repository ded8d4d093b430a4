"""What Lakeport's owners buy and what they are called: camera models, names, and how each kind shares."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import time

from openrtcc.domain.cameras import ScheduleWindow, SharingMode, SharingPolicy


@dataclass(frozen=True, slots=True)
class CameraModel:
    make: str
    model: str
    fov_deg: float
    range_m: tuple[float, float]


DOORBELL = [
    CameraModel("Ring", "Video Doorbell Pro 2", 150, (12, 15)),
    CameraModel("Google", "Nest Doorbell (wired)", 145, (12, 15)),
    CameraModel("Eufy", "Video Doorbell E340", 160, (12, 15)),
]
HOME = [
    CameraModel("Ring", "Spotlight Cam Pro", 140, (15, 25)),
    CameraModel("Ring", "Floodlight Cam Wired Pro", 140, (15, 30)),
    CameraModel("Arlo", "Pro 5S 2K", 160, (15, 25)),
    CameraModel("Google", "Nest Cam Outdoor", 130, (15, 25)),
    CameraModel("Wyze", "Cam v3", 130, (12, 20)),
    CameraModel("Reolink", "RLC-810A", 87, (20, 30)),
    CameraModel("Reolink", "Duo 2 PoE", 180, (15, 30)),
    CameraModel("Eufy", "SoloCam S340", 135, (15, 25)),
    CameraModel("Lorex", "4K Spotlight IP", 112, (20, 40)),
]
PRO = [
    CameraModel("Axis", "P3265-LVE", 100, (25, 40)),
    CameraModel("Axis", "M3106-L Mk II", 97, (15, 25)),
    CameraModel("Axis", "Q6135-LE", 60, (80, 150)),
    CameraModel("Hanwha Vision", "XNO-6080R", 90, (25, 45)),
    CameraModel("Hanwha Vision", "QNV-C8083R", 100, (20, 35)),
    CameraModel("Hikvision", "DS-2CD2387G2-LU", 102, (25, 40)),
    CameraModel("Dahua", "IPC-HFW2831T-ZS", 95, (25, 50)),
    CameraModel("Ubiquiti", "G4 Bullet", 87, (20, 30)),
    CameraModel("Ubiquiti", "G5 Turret Ultra", 109, (15, 30)),
    CameraModel("Avigilon", "H5A Bullet", 92, (30, 60)),
    CameraModel("Verkada", "CB52-E", 104, (25, 45)),
    CameraModel("Axis", "M3077-PLVE", 360, (10, 15)),
    CameraModel("Genetec", "AutoVu SharpV", 30, (20, 35)),
]

FIRST_NAMES = [
    "Maria", "James", "Aisha", "Tom", "Priya", "Daniel", "Grace", "Luis", "Hannah", "Kwame", "Olga", "Sam",
    "Mei", "Patrick", "Fatima", "Erik", "Rosa", "Jamal", "Ingrid", "Carlos", "Nora", "Dmitri", "Leah", "Omar",
    "Beth", "Tyrone", "Yuki", "Marek", "Ana", "Victor", "Joy", "Hector", "Lena", "Andre", "Sofia", "Raj",
]
LAST_NAMES = [
    "Lopez", "Kowalski", "Johnson", "Nguyen", "Schmidt", "Okafor", "Brennan", "Patel", "Hansen", "Washington",
    "Garcia", "Novak", "Kim", "Lindqvist", "Murphy", "Haddad", "Reyes", "Olson", "Jablonski", "Thompson",
    "Mueller", "Castillo", "Wright", "Sato", "Petersen", "Bailey", "Ramirez", "Fischer", "Walker", "Chen",
]
SHOP_OWNERS = ["Harbor", "Lakeside", "Northshore", "Main Street", "Old Town", "Riverside", "Union", "Beacon",
               "Cornerstone", "Bayview", "Pioneer", "Anchor", "Lighthouse", "Prairie", "Keystone", "Summit"]
SHOP_KINDS = ["Coffee", "Hardware", "Pharmacy", "Dental", "Auto Repair", "Bakery", "Market", "Laundromat",
              "Tavern", "Florist", "Bank", "Fitness", "Pizza", "Liquor", "Books", "Vet Clinic", "Cleaners",
              "Tire & Brake", "Credit Union", "Daycare", "Storage", "Gas & Go", "Deli", "Print Shop"]
HOA_NAMES = ["Willow Creek", "Prairie Commons", "Foxglove Meadows", "Heron Pointe", "Stonebridge", "Maple Hollow",
             "Cedar Ridge", "Lakeshore Terrace", "Quarry Park", "Timber Ridge", "Pheasant Run", "Aspen Glen",
             "Harbor Village", "Bluffside", "Orchard Grove", "Sunset Hills"]
HOME_CAMERA_NAMES = ["Driveway", "Side yard", "Garage", "Front yard", "Back alley", "Porch"]
SHOP_CAMERA_NAMES = ["Storefront", "Entrance", "Parking lot", "Sidewalk", "Loading dock", "Drive-through",
                     "Corner", "Alley"]
HOA_CAMERA_NAMES = ["Main gate", "Entrance sign", "Clubhouse", "Pool gate", "Mailboxes", "Playground",
                    "Street view", "Exit gate", "Trail head"]


@dataclass(frozen=True, slots=True)
class OwnerKindProfile:
    """How one kind of owner behaves: how many cameras, how often integrated, how they share."""

    kind: str
    weight: float
    cameras: tuple[int, int]
    integrated_chance: float
    modes: dict[SharingMode, float]
    share_contact: dict[str, float]
    retention_days: tuple[int, ...]


KINDS = (
    OwnerKindProfile("resident", 0.73, (1, 3), 0.18,
                     {SharingMode.ALWAYS: 0.25, SharingMode.EMERGENCY_ONLY: 0.45, SharingMode.SCHEDULE: 0.15,
                      SharingMode.PAUSED: 0.15},
                     {"never": 0.2, "on_request": 0.6, "always": 0.2}, (7, 14, 30, 60)),
    OwnerKindProfile("business", 0.24, (2, 8), 0.38,
                     {SharingMode.ALWAYS: 0.45, SharingMode.EMERGENCY_ONLY: 0.25, SharingMode.SCHEDULE: 0.25,
                      SharingMode.PAUSED: 0.05},
                     {"never": 0.05, "on_request": 0.35, "always": 0.6}, (14, 30, 30, 90)),
    OwnerKindProfile("hoa", 0.03, (12, 35), 0.45,
                     {SharingMode.ALWAYS: 0.5, SharingMode.EMERGENCY_ONLY: 0.35, SharingMode.SCHEDULE: 0.1,
                      SharingMode.PAUSED: 0.05},
                     {"never": 0.0, "on_request": 0.3, "always": 0.7}, (30, 30, 60)),
)
KIND_BY_NAME = {k.kind: k for k in KINDS}


def pick(rng: random.Random, weights: dict):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def models_for(kind: str, role: int) -> list[CameraModel]:
    """Residents buy consumer cameras (a doorbell first); businesses and HOAs buy professional ones."""
    if kind == "resident":
        return DOORBELL if role == 0 else HOME
    return PRO


def camera_name(rng: random.Random, kind: str, role: int) -> str:
    if kind == "resident":
        return "Front door" if role == 0 else rng.choice(HOME_CAMERA_NAMES)
    names = SHOP_CAMERA_NAMES if kind == "business" else HOA_CAMERA_NAMES
    base, lap = names[role % len(names)], role // len(names)
    return base if lap == 0 else f"{base} {lap + 1}"


def after_hours() -> tuple[ScheduleWindow, ...]:
    """Closed-shop hours, each night split at midnight because a window may not cross it."""
    windows = []
    for day in range(7):
        windows.append(ScheduleWindow(day, time(0, 0), time(7, 0)))
        windows.append(ScheduleWindow(day, time(20, 0), time(23, 59)))
    return tuple(windows)


def working_hours() -> tuple[ScheduleWindow, ...]:
    """When a household is out: weekdays 08:00-17:30."""
    return tuple(ScheduleWindow(day, time(8, 0), time(17, 30)) for day in range(5))


def sharing_policy(rng: random.Random, profile: OwnerKindProfile) -> SharingPolicy:
    mode = pick(rng, profile.modes)
    schedule = ()
    if mode is SharingMode.SCHEDULE:
        schedule = working_hours() if profile.kind == "resident" else after_hours()
    return SharingPolicy(mode, share_live=rng.random() < 0.7, share_recorded=True, schedule=schedule)


def person_name(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def organisation_name(rng: random.Random, kind: str) -> str | None:
    if kind == "business":
        return f"{rng.choice(SHOP_OWNERS)} {rng.choice(SHOP_KINDS)}"
    if kind == "hoa":
        return f"{rng.choice(HOA_NAMES)} Homeowners Association"
    return None
