"""The owner's policy as the hub sends it to a box: the whole policy of every camera linked to it, on connect
and after every owner change to one of them."""

from __future__ import annotations

import logging

from openrtcc.domain.cameras import Camera
from openrtcc.domain.edge_protocol import CameraPolicy, PolicyUpdate, Window
from openrtcc.services import edge_read_access
from openrtcc.services.emergencies import send_emergencies
from openrtcc.services.hub import Hub

log = logging.getLogger(__name__)


def camera_policy(cam: Camera) -> CameraPolicy:
    p = cam.policy
    return CameraPolicy(
        camera_id=cam.id, agency_id=cam.agency_id, tier=cam.tier.value, status=cam.status.value,
        lat=cam.location.lat, lon=cam.location.lon, mode=p.mode.value, share_live=p.share_live,
        share_recorded=p.share_recorded,
        schedule=[Window(weekday=w.weekday, start=w.start.strftime("%H:%M"), end=w.end.strftime("%H:%M"))
                  for w in p.schedule],
        emergency_radius_m=p.emergency_radius_m, privacy_masks=[list(m.points) for m in p.privacy_masks],
        share_reads_with=list(p.share_reads_with), retention_days=cam.owner_retention_days)


def linked_cameras(uow, edge_id: str, owner_id: str) -> list[Camera]:
    """Every camera of the owner linked to the box, withdrawn ones included (the box must hear of those)."""
    return [c for c in uow.cameras.list_for_owner(owner_id) if c.edge_id == edge_id]


def policy_update(hub: Hub, cameras: list[Camera]) -> PolicyUpdate:
    return PolicyUpdate(sent_at=hub.clock.now(), utc_offset_minutes=hub.utc_offset_minutes,
                        cameras=[camera_policy(c) for c in cameras])


def push_policy(hub: Hub, edge_id: str) -> bool:
    """Send the box its whole policy now; False when it is not connected (it gets it on connect)."""
    links = hub.extras.get("edge_links")
    if links is None or not links.is_connected(edge_id):
        return False
    with hub.uow() as uow:
        box = uow.edges.get(edge_id)
        cams = linked_cameras(uow, edge_id, box.owner_id) if box is not None else []
        uow.rollback()
    if box is None or box.revoked_at is not None:
        return False
    return links.send(edge_id, policy_update(hub, cams))


def camera_changed(hub: Hub, *edge_ids: str | None) -> None:
    """The owner changed a camera (policy, masks, reads sharing, tier, link, withdrawal): its boxes hear now.

    Called after the change committed; a box that is away gets the whole policy when it reconnects."""
    edge_read_access.changed(hub, edge_ids)  # and every serving process plans the boxes' next reads afresh
    for edge_id in {e for e in edge_ids if e}:
        try:
            push_policy(hub, edge_id)
            send_emergencies(hub, edge_id)  # which emergencies reach the box may change with the camera
        except Exception:  # the change stands; the box is sent its policy again on its next connect
            log.exception("could not send the policy to edge %s", edge_id)
