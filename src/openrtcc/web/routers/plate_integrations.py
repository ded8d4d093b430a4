"""Plate reads from installations already running: Plate Recognizer Stream webhooks, Frigate links' status."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from openrtcc.adapters.storage.local_media import TooLarge
from openrtcc.domain.errors import DomainError, InvalidInput
from openrtcc.domain.plate_recognizer import MAX_BODY_BYTES, MAX_JSON_BYTES
from openrtcc.domain.reads import MAX_SNAPSHOT_BYTES
from openrtcc.services import plate_integrations as service
from openrtcc.web.deps import AgencyActor, HubDep, source_of
from openrtcc.web.plate_integration_schemas import PlateIntegrationCreatedOut, PlateIntegrationIn, PlateIntegrationOut
from openrtcc.web.plate_schemas import IngestOut, ReadAckOut

router = APIRouter(tags=["plate integrations"])


@router.post("/api/agency/plate-integrations", status_code=201)
def create(body: PlateIntegrationIn, actor: AgencyActor, hub: HubDep, request: Request) -> PlateIntegrationCreatedOut:
    integration, token = service.create_integration(hub, actor, body.read_source_id, body.kind, body.config,
                                                    body.password)
    out = PlateIntegrationOut.of(integration, request.app.state.settings.base_url)
    return PlateIntegrationCreatedOut(**out.model_dump(), token=token)


@router.get("/api/agency/plate-integrations")
def list_integrations(actor: AgencyActor, hub: HubDep, request: Request) -> list[PlateIntegrationOut]:
    base = request.app.state.settings.base_url
    return [PlateIntegrationOut.of(i, base) for i in service.list_integrations(hub, actor)]


@router.post("/api/agency/plate-integrations/{integration_id}/disable")
def disable(integration_id: str, actor: AgencyActor, hub: HubDep, request: Request) -> PlateIntegrationOut:
    integration = service.disable_integration(hub, actor, integration_id)
    return PlateIntegrationOut.of(integration, request.app.state.settings.base_url)


@router.post("/api/ingest/plate-recognizer/{integration_id}", response_model=IngestOut)
async def plate_recognizer(integration_id: str, request: Request) -> IngestOut:
    """A Stream webhook (JSON, or multipart with `json` and `upload`), authenticated by the integration's
    token as `Authorization: Token <token>` (Stream's webhook_header). The token is checked before the body
    is read."""
    return await _webhook(request, integration_id, _header_token(request.headers.get("authorization", "")))


@router.post("/api/ingest/plate-recognizer/{integration_id}/{token}", response_model=IngestOut)
async def plate_recognizer_token_in_path(integration_id: str, token: str, request: Request) -> IngestOut:
    """The same, for a Stream set up without a webhook header: the token is the URL's last segment."""
    return await _webhook(request, integration_id, token)


async def _webhook(request: Request, integration_id: str, token: str | None) -> IngestOut:
    hub, client = request.app.state.hub, source_of(request)
    integration = await run_in_threadpool(service.authenticate_plate_recognizer, hub, integration_id, token, client)
    try:
        document, frame = await _document_and_frame(request)
    except DomainError as exc:
        await run_in_threadpool(service.refused, hub, integration, exc.code, client)
        raise
    acks = await run_in_threadpool(service.ingest_plate_recognizer, hub, integration, document, frame, client)
    stored = sum(1 for a in acks if a.status == "stored")
    return IngestOut(stored=stored, duplicate=len(acks) - stored,
                     results=[ReadAckOut(read_id=a.read_id, status=a.status, id=a.id) for a in acks])


def _header_token(value: str) -> str | None:
    scheme, _, token = value.strip().partition(" ")
    return token.strip() or None if scheme.lower() in ("token", "bearer") else None


async def _document_and_frame(request: Request) -> tuple[bytes | str, bytes | None]:
    """The webhook's JSON document and, from a multipart form, its frame; sizes checked before parsing."""
    declared = request.headers.get("content-length")
    if declared is None or not declared.isdigit():
        raise InvalidInput("send the body with a Content-Length", code="length_required")
    if int(declared) > MAX_BODY_BYTES:
        raise TooLarge(f"a webhook is at most {MAX_BODY_BYTES // 1024} KiB")
    if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        return await request.body(), None
    try:
        form = await request.form(max_files=1, max_fields=8, max_part_size=MAX_JSON_BYTES)
    except Exception:  # the multipart parser's own errors: a body that is not the form it claims to be
        raise InvalidInput("the multipart form cannot be read", code="bad_form") from None
    document, upload = form.get("json"), form.get("upload")
    if not isinstance(document, str):
        raise InvalidInput("the form needs a `json` field with Stream's document", code="bad_form")
    frame = None
    if isinstance(upload, UploadFile):
        frame = await upload.read(MAX_SNAPSHOT_BYTES + 1)
        if len(frame) > MAX_SNAPSHOT_BYTES:
            raise TooLarge(f"the upload is larger than {MAX_SNAPSHOT_BYTES // 1024} KiB")
    return document, frame
