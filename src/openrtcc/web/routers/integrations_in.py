"""Inbound integrations: the signed CAD and gunshot-detection webhooks, and their administration."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from openrtcc.services import integrations_in
from openrtcc.services.integrations_in import MAX_BODY_BYTES, Delivery
from openrtcc.web.deps import AgencyActor, HubDep, hub_of, source_of
from openrtcc.web.incident_schemas import DeliveryOut, IntegrationCreatedOut, IntegrationIn, IntegrationOut

router = APIRouter(prefix="/api/integrations", tags=["integrations"])


@router.post("", status_code=201)
def create(body: IntegrationIn, actor: AgencyActor, hub: HubDep) -> IntegrationCreatedOut:
    integration, secret = integrations_in.create_integration(hub, actor, body.kind, body.name, body.config)
    out = IntegrationOut.of(integration, hub.base_url)
    return IntegrationCreatedOut(**out.model_dump(), secret=secret)


@router.get("")
def list_all(actor: AgencyActor, hub: HubDep) -> list[IntegrationOut]:
    return [IntegrationOut.of(i, hub.base_url) for i in integrations_in.list_integrations(hub, actor)]


@router.post("/{integration_id}/revoke")
def revoke(integration_id: str, actor: AgencyActor, hub: HubDep) -> IntegrationOut:
    return IntegrationOut.of(integrations_in.revoke_integration(hub, actor, integration_id), hub.base_url)


async def _body(request: Request) -> tuple[bytes, bool]:
    """The body, read no further than one byte past the limit (a refusal is audited, so it is the service's)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return b"", True
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > MAX_BODY_BYTES:
            return bytes(body[:MAX_BODY_BYTES + 1]), True
    return bytes(body), False


async def _receive(request: Request, integration_id: str, kind: str) -> DeliveryOut:
    body, oversized = await _body(request)
    delivery = Delivery(integration_id[:64], kind, dict(request.headers), body, source_of(request), oversized)
    got = await run_in_threadpool(integrations_in.receive, hub_of(request), delivery)
    return DeliveryOut(incident_id=got.incident.id, change=got.change, status=got.incident.status.value)


@router.post("/{integration_id}/{kind}")
async def webhook(integration_id: str, kind: Literal["cad", "gunshot"], request: Request) -> DeliveryOut:
    """A signed delivery from a CAD or a gunshot detector: no session, the signature is the credential
    (`X-RTCC-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>`, `X-RTCC-Delivery: <id>`)."""
    return await _receive(request, integration_id, kind)
