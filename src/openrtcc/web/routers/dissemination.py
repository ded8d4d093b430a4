"""Dissemination: subscribers (police units, vendors, partners), bulletins, the delivery log and dead letters."""

from __future__ import annotations

from fastapi import APIRouter, Query

from openrtcc.domain.dissemination import Audience
from openrtcc.services import delivery_log, dissemination_admin
from openrtcc.services.dissemination import BulletinDraft
from openrtcc.services.dissemination_admin import SubscriberDraft
from openrtcc.web.deps import AgencyActor, HubDep
from openrtcc.web.dissemination_schemas import (
    BulletinIn,
    BulletinOut,
    MAX_DELIVERY_ID,
    DeliveryIdsIn,
    DeliveryOut,
    SecretOut,
    SubscriberCreatedOut,
    SubscriberIn,
    SubscriberOut,
    SubscriberPatch,
)

router = APIRouter(prefix="/api/dissemination", tags=["dissemination"])


@router.get("/subscribers")
def list_subscribers(actor: AgencyActor, hub: HubDep, audience: str | None = Query(None, max_length=24),
                     limit: int = Query(200, ge=1, le=500)) -> list[SubscriberOut]:
    return [SubscriberOut.of(s) for s in dissemination_admin.list_subscribers(hub, actor, audience, limit)]


@router.post("/subscribers", status_code=201)
def create_subscriber(body: SubscriberIn, actor: AgencyActor, hub: HubDep) -> SubscriberCreatedOut:
    sub, secret = dissemination_admin.create_subscriber(hub, actor, SubscriberDraft(**body.model_dump()))
    return SubscriberCreatedOut(**SubscriberOut.of(sub).model_dump(), secret=secret)


@router.patch("/subscribers/{subscriber_id}")
def update_subscriber(subscriber_id: str, body: SubscriberPatch, actor: AgencyActor, hub: HubDep) -> SubscriberOut:
    changes = body.model_dump(exclude_unset=True)
    return SubscriberOut.of(dissemination_admin.update_subscriber(hub, actor, subscriber_id, changes))


@router.delete("/subscribers/{subscriber_id}")
def disable_subscriber(subscriber_id: str, actor: AgencyActor, hub: HubDep) -> SubscriberOut:
    """Disabled, not erased: its delivery log stays."""
    return SubscriberOut.of(dissemination_admin.update_subscriber(hub, actor, subscriber_id, {"status": "disabled"}))


@router.post("/subscribers/{subscriber_id}/secret")
def rotate_secret(subscriber_id: str, actor: AgencyActor, hub: HubDep) -> SecretOut:
    return SecretOut(secret=dissemination_admin.rotate_secret(hub, actor, subscriber_id))


def _draft(body: BulletinIn) -> BulletinDraft:
    return BulletinDraft(body.title, body.text, body.category, frozenset(Audience(a) for a in body.audiences),
                         body.lat, body.lon, body.radius_m, body.priority)


@router.post("/bulletins/preview")
def preview_bulletin(body: BulletinIn, actor: AgencyActor, hub: HubDep) -> dict:
    return dissemination_admin.preview_bulletin(hub, actor, _draft(body))


@router.post("/bulletins", status_code=201)
def post_bulletin(body: BulletinIn, actor: AgencyActor, hub: HubDep) -> BulletinOut:
    notice, counts = dissemination_admin.post_bulletin(hub, actor, _draft(body))
    return BulletinOut(notice_id=notice.id, deliveries=counts)


@router.get("/deliveries")
def list_deliveries(actor: AgencyActor, hub: HubDep, status: str | None = Query(None, max_length=16),
                    before: int | None = Query(None, ge=1, le=MAX_DELIVERY_ID), limit: int = Query(100, ge=1, le=500)) -> list[DeliveryOut]:
    return [DeliveryOut.of(r) for r in delivery_log.delivery_log(hub, actor, status, before, limit)]


@router.get("/deliveries/counts")
def delivery_counts(actor: AgencyActor, hub: HubDep) -> dict[str, int]:
    return delivery_log.counts(hub, actor)


@router.get("/dead-letters")
def dead_letters(actor: AgencyActor, hub: HubDep, before: int | None = Query(None, ge=1, le=MAX_DELIVERY_ID),
                 limit: int = Query(100, ge=1, le=500)) -> list[DeliveryOut]:
    return [DeliveryOut.of(r) for r in delivery_log.delivery_log(hub, actor, "dead", before, limit)]


@router.post("/dead-letters/retry")
def retry_dead_letters(body: DeliveryIdsIn, actor: AgencyActor, hub: HubDep) -> dict[str, int]:
    return {"retried": delivery_log.retry_dead_letters(hub, actor, body.ids)}


@router.post("/dead-letters/discard")
def discard_dead_letters(body: DeliveryIdsIn, actor: AgencyActor, hub: HubDep) -> dict[str, int]:
    return {"discarded": delivery_log.discard_dead_letters(hub, actor, body.ids)}
