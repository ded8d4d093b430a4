"""The demo's edge box: the coffee roaster's box, enrolled and linked as an owner would, run beside the hub.

Seeding goes through the real use cases: a one-time code from the owner's portal traded for the box's key
(`enrol`), three of the owner's cameras linked to the box with policies that show the range (always shared
with a privacy mask, emergency-only, paused). Serving runs the real edge agent in the demo's process over the
real link on loopback, its cameras being synthetic ones; its data and key stay in the demo's data dir, so a
second `rtcc demo` reuses them instead of enrolling again.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import replace
from pathlib import Path

from openrtcc import __version__
from openrtcc.demo.synthetic_camera import SyntheticCamera
from openrtcc.domain.accounts import Role
from openrtcc.domain.cameras import Camera, SharingMode, SharingPolicy
from openrtcc.domain.clock import Clock, SystemClock
from openrtcc.domain.privacy_masks import PrivacyMask
from openrtcc.edge.agent import EdgeAgent
from openrtcc.edge.config import CameraSection, EdgeConfig
from openrtcc.edge.credentials import Credentials, credentials_path, load_credentials, save_credentials
from openrtcc.services import edge_enrolment, edges, registry
from openrtcc.services.hub import Actor, Hub

log = logging.getLogger(__name__)

BOX_NAME = "Lakeside Coffee back office"
EDGE_DIR = "edge"
# The neighbour's house front in the synthetic scene (top right): blacked out before video leaves the box.
NEIGHBOUR_MASK = PrivacyMask(((0.64, 0.06), (0.98, 0.06), (0.98, 0.48), (0.64, 0.48)))
POLICIES = (  # (what the banner calls it, the owner's policy) for the box's cameras, in order
    ("always shared, privacy mask", SharingPolicy(SharingMode.ALWAYS, share_live=True, share_recorded=True,
                                                  privacy_masks=(NEIGHBOUR_MASK,))),
    ("emergency-only", SharingPolicy(SharingMode.EMERGENCY_ONLY, share_live=True, share_recorded=True)),
    ("paused", SharingPolicy(SharingMode.PAUSED)),
)


def seed_demo_edge(hub: Hub, owner_email: str, edge_dir: Path, hub_url: str) -> dict:
    """Enrol the owner's box and link cameras to it; the key goes to edge_dir. Returns the box as the
    demo's log-in file keeps it: {"edge_id", "name", "cameras": [{"id", "name", "address", "sharing"}]}."""
    with hub.uow() as uow:
        user = uow.accounts.by_email(owner_email)
    owner = Actor(user.id, Role.OWNER, None, "demo")
    code = edge_enrolment.create_code(hub, owner, BOX_NAME)
    enrolled = edge_enrolment.enrol(hub, code.code, BOX_NAME, __version__, "demo")
    save_credentials(_config(edge_dir, hub_url, []), Credentials(enrolled.edge_id, enrolled.key, hub_url))
    cameras = [c for c in registry.list_my_cameras(hub, owner) if c.edge_id is None][:len(POLICIES)]
    linked = []
    for cam, (sharing, policy) in zip(cameras, POLICIES, strict=False):
        registry.update_camera(hub, owner, cam.id, _draft(cam, policy))
        edges.link_camera(hub, owner, cam.id, enrolled.edge_id)
        linked.append({"id": cam.id, "name": cam.name, "address": cam.address, "sharing": sharing})
    return {"edge_id": enrolled.edge_id, "name": enrolled.name, "cameras": linked}


def _draft(cam: Camera, policy: SharingPolicy) -> registry.CameraDraft:
    return registry.CameraDraft(cam.agency_id, cam.name, cam.location.lat, cam.location.lon, cam.address,
                                cam.view.bearing_deg, cam.view.fov_deg, cam.view.range_m, cam.public_facing_attested,
                                cam.make, cam.model, cam.owner_retention_days, cam.tier, policy)


def _config(edge_dir: Path, hub_url: str, cameras: list[dict]) -> EdgeConfig:
    """The box's edge.toml, in code: plate reading off (a fresh machine has no model files), a small disk
    budget, and camera URLs that are never opened (the synthetic cameras stand in for them)."""
    return EdgeConfig.model_validate({
        "edge": {"name": BOX_NAME, "data_dir": str(edge_dir), "hub_url": hub_url},
        "recording": {"segment_seconds": 10, "retention_days": 2, "max_bytes": 512 * 1024 ** 2,
                      "reserve_bytes": 256 * 1024 ** 2},
        "cameras": [{"id": c["id"], "name": c["name"], "url": f"rtsp://synthetic.invalid/{c['id']}",
                     "plate_reading": False} for c in cameras],
    })


def demo_edge_agent(box: dict, edge_dir: Path, hub_url: str, clock: Clock | None = None) -> EdgeAgent:
    """The box's agent with synthetic cameras. The demo's hub may listen on another port than at seeding:
    the saved key is kept and only the address beside it follows."""
    config = _config(edge_dir, hub_url, box["cameras"])
    _follow_hub(config)
    clock = clock or SystemClock()

    def synthetic(section: CameraSection) -> SyntheticCamera:
        return SyntheticCamera(section.id, section.name, clock)

    return EdgeAgent(config, clock=clock, sources=synthetic)


def _follow_hub(config: EdgeConfig) -> None:
    """Point the saved key at the address the demo's hub listens on now (its permissions checked first)."""
    try:
        saved_url = str(json.loads(credentials_path(config).read_text(encoding="utf-8"))["hub_url"])
    except (OSError, ValueError, KeyError, TypeError):
        return  # missing or unreadable: the agent's load_credentials says so, and how to recover
    if saved_url != config.edge.hub_url:
        at_seeding = config.model_copy(update={"edge": config.edge.model_copy(update={"hub_url": saved_url})})
        save_credentials(config, replace(load_credentials(at_seeding), hub_url=config.edge.hub_url))


class DemoEdge:
    """Runs the box once the hub listens, and stops it when the hub stops."""

    def __init__(self, agent: EdgeAgent):
        self.agent = agent
        self._thread: threading.Thread | None = None
        self._started = threading.Event()

    def start_when_listening(self, server) -> None:
        """`server`: the uvicorn.Server about to run; the box starts as soon as it has started."""
        def wait_and_start() -> None:
            while not server.started:
                if server.should_exit:
                    return
                time.sleep(0.1)
            self.agent.start()
            self._started.set()
            log.info("demo edge box %s running with %s synthetic camera(s)", self.agent.credentials.edge_id,
                     len(self.agent.cameras))
        self._thread = threading.Thread(target=wait_and_start, name="demo-edge-start", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._thread.join(5.0)
        if self._started.is_set():
            self.agent.stop()


def box_hub_url(host: str, port: int) -> str | None:
    """Where the in-process box reaches the hub: loopback (the box refuses plain http anywhere else)."""
    if host in ("127.0.0.1", "localhost", "0.0.0.0"):
        return f"http://127.0.0.1:{port}"
    if host in ("::1", "::"):
        return f"http://[::1]:{port}"
    return None


def edge_banner(box: dict | None, url: str) -> list[str]:
    """The banner's lines about the box: which camera to try live view on, and where."""
    if not box:
        return ["No edge box in this demo city (seeded by an older version, or not served on loopback): "
                "`rtcc demo --fresh` on 127.0.0.1 adds one.", ""]
    cams = box["cameras"]
    lines = [f"Edge box '{box['name']}' (simulated in this process; owner business@demo.lakeport.example) "
             f"integrates {len(cams)} synthetic cameras:"]
    lines += [f"  {c['name']:<36} {c['sharing']:<28} {c['address']}" for c in cams]
    if cams:
        lines += [f"  Live view: log on as officer@police.lakeport.example, search the map at {cams[0]['address']},",
                  f"  click 'Live view and clips' on '{cams[0]['name']}' (or open {url.rstrip('/')}/live?camera="
                  f"{cams[0]['id']}); the neighbour's house is masked black. Clips work after a minute of recording.",
                  "  The owner's portal (business@...) shows the box online, its cameras' health and both access logs."]
    return [*lines, ""]
