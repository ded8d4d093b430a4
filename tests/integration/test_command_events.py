"""What the command center hears about cameras: a box's health report flipping a camera offline and back, a
box falling silent, an owner pausing, changing or withdrawing a camera and revoking a box; each event names
the camera's agency, and agrees with the map's own offline list."""

from __future__ import annotations

from openrtcc.domain.command_events import CameraStatusChanged, SharingChanged
from openrtcc.domain.edge_protocol import CameraHealth, Health
from openrtcc.services import edges
from openrtcc.services.edge_links import LinkedEdge
from tests.conftest import camera_body

SHARED = {"mode": "always", "share_live": True, "share_recorded": True}


def _health(hub, edge: LinkedEdge, camera_id: str, online: bool) -> None:
    edges.record_health(hub, edge, Health(sent_at=hub.clock.now(), cameras=[
        CameraHealth(camera_id=camera_id, online=online, error=None if online else "no frames for 20 s")]))


def test_camera_status_and_sharing_changes_reach_the_bus(world, hub, anon, clock, backend):
    status, sharing = [], []
    hub.bus.subscribe(CameraStatusChanged, status.append)
    hub.bus.subscribe(SharingChanged, sharing.append)
    owner = world.owner("Olga")
    cam = world.camera(owner, tier="integrated", sharing=SHARED)
    agency = world.agency().id
    code = owner.post("/api/owner/edges/codes", json={"name": "Garage box"}).json()["code"]
    box = anon.post("/api/edge/enrol", json={"code": code}).json()
    assert owner.put(f"/api/owner/cameras/{cam['id']}/edge", json={"edge_id": box["edge_id"]}).status_code == 200
    linked = LinkedEdge(box["edge_id"], _owner_id(hub, agency, cam["id"]))
    watch = hub.extras["camera_status"]
    offline_on_map = lambda: world.staff("officer").get("/api/agency/map/offline").json()  # noqa: E731

    _health(hub, linked, cam["id"], True)
    watch.check()  # the first full round only learns the state
    assert status == []
    _health(hub, linked, cam["id"], False)
    assert [(e.camera_id, e.online, e.reason, e.agency_ids) for e in status] == [
        (cam["id"], False, "camera_error", (agency,))]
    _health(hub, linked, cam["id"], True)
    assert [e.online for e in status] == [False, True]
    _health(hub, linked, cam["id"], True)  # no flip, no event
    assert len(status) == 2

    clock.advance(minutes=3)  # the box fell silent
    assert [e.reason for e in watch.check()] == ["box_offline"]
    assert cam["id"] in str(offline_on_map())  # the map says the same
    assert watch.check() == []
    _health(hub, linked, cam["id"], True)
    assert status[-1].online is True

    paused = camera_body(agency, tier="integrated", sharing=SHARED | {"mode": "paused", "share_live": False})
    assert owner.put(f"/api/owner/cameras/{cam['id']}", json=paused).status_code == 200
    resumed = camera_body(agency, tier="integrated", sharing=SHARED | {"emergency_radius_m": 300})
    assert owner.put(f"/api/owner/cameras/{cam['id']}", json=resumed).status_code == 200
    assert owner.post(f"/api/owner/edges/{box['edge_id']}/revoke").status_code == 200
    assert (status[-1].reason, status[-1].online) == ("box_revoked", False)  # offline on the map at once
    tiered = camera_body(agency, tier="registered", sharing=SHARED | {"mode": "paused", "share_live": False})
    assert owner.put(f"/api/owner/cameras/{cam['id']}", json=tiered).status_code == 200
    assert owner.put(f"/api/owner/cameras/{cam['id']}", json=tiered).status_code == 200  # nothing changed
    assert owner.delete(f"/api/owner/cameras/{cam['id']}").status_code in (200, 204)
    assert [(e.camera_id, e.change, e.agency_ids) for e in sharing] == [
        (cam["id"], "paused", (agency,)), (cam["id"], "policy", (agency,)), (cam["id"], "revoked", (agency,)),
        (cam["id"], "tier", (agency,)), (cam["id"], "revoked", (agency,))]  # the box, then the camera itself

def _owner_id(hub, agency_id: str, camera_id: str) -> str:
    with hub.uow() as uow:
        cam = uow.cameras.get_for_agency(agency_id, camera_id)
        uow.rollback()
    return cam.owner_id
