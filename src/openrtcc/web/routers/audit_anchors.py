"""Signed audit-chain heads and the hub's public key, public, for anyone to check the chain against."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from openrtcc.services import audit_anchors
from openrtcc.web.anchor_schemas import AnchorDocumentOut, AnchorListOut, AnchorSummaryOut
from openrtcc.web.deps import HubDep, Source

router = APIRouter(prefix="/api/public/audit", tags=["audit anchors"])
PREFIX = "/api/public/audit"
Day = Annotated[str, Path(pattern=r"^\d{4}-\d{2}-\d{2}$", description="YYYY-MM-DD (UTC)")]


@router.get("/anchors")
def list_anchors(hub: HubDep, client: Source, response: Response,
                 limit: Annotated[int, Query(ge=1, le=audit_anchors.MAX_LISTED)] = 100,
                 before: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}-\d{2}$")] = None) -> AnchorListOut:
    """The most recent daily anchors, newest first (`before` pages back)."""
    anchors = audit_anchors.public_anchors(hub, client, limit, before)
    response.headers["Cache-Control"] = "public, max-age=300"
    return AnchorListOut(anchors=[_summary(a) for a in anchors], public_key_url=f"{PREFIX}/public-key",
                         public_key_id=audit_anchors.signer(hub).key_id)


def _summary(anchor) -> AnchorSummaryOut:
    s = anchor.statement.as_dict()
    return AnchorSummaryOut(day=anchor.statement.day, seq=s["seq"], hash=s["hash"], anchored_at=s["anchored_at"],
                            key_id=s["key_id"], url=f"{PREFIX}/anchors/{anchor.statement.day}")


@router.get("/anchors/{day}")
def get_anchor(day: Day, hub: HubDep, client: Source, response: Response) -> AnchorDocumentOut:
    """One day's signed anchor, as written to the anchor folder; it never changes once made."""
    anchor = audit_anchors.public_anchor(hub, day, client)
    response.headers["Cache-Control"] = "public, max-age=86400, immutable"
    return AnchorDocumentOut(**anchor.document())


@router.get("/public-key", response_class=Response,
            responses={200: {"content": {"application/x-pem-file": {}}, "description": "PEM public key"}})
def get_public_key(hub: HubDep, client: Source) -> Response:
    """The Ed25519 public key (PEM) that checks the anchors and evidence packages; its id in X-Key-Id."""
    key = audit_anchors.public_key(hub, client)
    return Response(key.public_key_pem, media_type="application/x-pem-file",
                    headers={"X-Key-Id": key.key_id, "Cache-Control": "public, max-age=3600"})
