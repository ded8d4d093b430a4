"""The demo city's plate reads: a plate camera source, a small watch list, and an hour of reads with a few hits.

Everything goes through the real use cases (source creation, hot-list import, batch ingest), so the alerts
page shows alerts raised exactly as live ones are, each with a generated plate crop.
"""

from __future__ import annotations

import base64
import random
from datetime import timedelta

import cv2
import numpy as np

from openrtcc.domain.cameras import Camera, Tier
from openrtcc.domain.reads import ReadBatch
from openrtcc.services.hotlists import import_hot_list
from openrtcc.services.hub import Actor, Hub
from openrtcc.services.ingest import ingest_reads
from openrtcc.services.read_sources import create_source

STATE = "WI"
# (plate as listed, state, reason, owner): what a detective would put on a short-lived custom list.
WATCH_LIST = (
    ("LKP4512", STATE, "Silver sedan seen leaving the hit-and-run on Lake Drive", "Det. R. Moss"),
    ("BRG8820", STATE, "Van used in the commercial burglary on Harbor St", "Det. A. Chen"),
    ("7TQ*", "", "Partial plate from a witness: dark pickup after the armed robbery", "Det. A. Chen"),
    ("AMB0917", "IL", "Missing person's car (Illinois plate)", "Sgt. P. Brandt"),
)
# (plate as read, state as read): the hits of the hour, one of each kind, and one that must not alert.
HITS = (("LKP4512", STATE), ("8RG882O", STATE), ("7TQ5530", STATE), ("AMB0917", "MN"))
READS_PER_HOUR = 60


def crop_png(plate: str) -> str:
    """A plate-like crop with the text drawn on it, base64 PNG, as an edge box would send."""
    image = np.full((40, 150, 3), 238, np.uint8)
    cv2.rectangle(image, (1, 1), (148, 38), (40, 40, 40), 2)
    cv2.putText(image, plate, (8, 29), cv2.FONT_HERSHEY_SIMPLEX, 0.85, (20, 20, 20), 2, cv2.LINE_AA)
    return base64.b64encode(cv2.imencode(".png", image)[1].tobytes()).decode()


def _plate(rng: random.Random) -> str:
    letters = "ABCDEFGHJKLMNPRSTUVWXYZ"
    return "".join(rng.choice(letters) for _ in range(3)) + "".join(rng.choice("0123456789") for _ in range(4))


def seed_plate_reads(hub: Hub, admin: Actor, cameras: list[Camera], seed: int) -> int:
    """Source, watch list and an hour of reads for the admin's agency; returns how many alerts were raised."""
    rng = random.Random(seed)
    year = hub.clock.now().year + 1
    lines = "".join(f"{p},{s},{r},{o},{year}-06-30\n" for p, s, r, o in WATCH_LIST)
    import_hot_list(hub, admin, name="Lakeport detectives watch list", fmt="custom",
                    data=("plate,state,reason,owner,expires_at\n" + lines).encode())
    source, _ = create_source(hub, admin, "Lake Drive plate camera", "lpr_camera", STATE)
    posts = [c for c in cameras if c.agency_id == admin.agency_id and c.tier is Tier.INTEGRATED][:6] or \
        [c for c in cameras if c.agency_id == admin.agency_id][:6]
    now = hub.clock.now()
    hit_at = {READS_PER_HOUR - 1 - 9 * n: hit for n, hit in enumerate(HITS)}
    reads = []
    for n in range(READS_PER_HOUR):
        plate, state = hit_at.get(n, (_plate(rng), STATE))
        cam = posts[n % len(posts)]
        reads.append({"read_id": f"demo-{n:04d}", "camera_id": cam.id, "plate": plate, "state": state,
                      "confidence": round(rng.uniform(0.82, 0.99), 2),
                      "captured_at": (now - timedelta(minutes=READS_PER_HOUR - n)).isoformat(),
                      "lat": cam.location.lat, "lon": cam.location.lon, "heading_deg": cam.view.bearing_deg,
                      "vehicle_colour": rng.choice(("silver", "black", "white", "blue", None)),
                      "vehicle_type": rng.choice(("car", "car", "car", "truck")), "crop": crop_png(plate)})
    ingest_reads(hub, source, ReadBatch.model_validate({"version": 1, "reads": reads}), "demo")
    with hub.uow() as uow:
        alerts = len(uow.alerts.newest(admin.agency_id, after=None, status=None, limit=100))
        uow.rollback()
    return alerts
