"""The public transparency portal's data (no log-in): generated from the live configuration and audit data.

    GET /api/public/transparency                      agencies on this hub, with links
    GET /api/public/transparency/{slug}[.csv]         an agency's figures (JSON, or CSV; also ?format=csv)
    GET /api/public/transparency/{slug}/audit         its recent audit records, people pseudonymised
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from openrtcc.domain.transparency import MAX_AUDIT_PAGE, PublicAuditRecord, TransparencyReport, report_rows
from openrtcc.services import transparency
from openrtcc.web.deps import HubDep, Source
from openrtcc.web.public_csv import csv_response, csv_text
from openrtcc.web.routers.pages import PAGES, TEMPLATES

router = APIRouter(tags=["transparency"])
API = transparency.API
CACHE = {"Cache-Control": "public, max-age=60"}  # proxies may answer crawlers too
Format = Annotated[Literal["json", "csv"], Query()]
Limit = Annotated[int, Query(ge=1, le=MAX_AUDIT_PAGE)]
Before = Annotated[int | None, Query(ge=1, le=2**62)]
PORTAL_PAGE = next(p for p in PAGES if p.path == "/transparency")


@router.get(API)
def agencies(hub: HubDep, client: Source, response: Response) -> list[dict]:
    response.headers.update(CACHE)
    return transparency.agencies(hub, client)


@router.get(API + "/{slug}.csv", response_class=Response)
def report_csv(slug: str, hub: HubDep, client: Source) -> Response:
    return csv_response(f"transparency-{slug}.csv", transparency.report(hub, slug, client, report_as_csv), CACHE)


@router.get(API + "/{slug}", response_model=TransparencyReport)
def report(slug: str, hub: HubDep, client: Source, response: Response, format: Format = "json"):
    if format == "csv":
        return report_csv(slug, hub, client)
    response.headers.update(CACHE)
    return transparency.report(hub, slug, client)


@router.get(API + "/{slug}/audit", response_model=list[PublicAuditRecord])
def audit(slug: str, hub: HubDep, client: Source, response: Response, limit: Limit = 100, before: Before = None,
          format: Format = "json"):
    """Newest first; `before` pages back by sequence number. No address, account, plate or free text."""
    if format == "csv":
        return csv_response(f"audit-{slug}.csv", transparency.audit_view(hub, slug, client, limit, before,
                                                                         audit_as_csv), CACHE)
    response.headers.update(CACHE)
    return transparency.audit_view(hub, slug, client, limit, before)


@router.get("/transparency/{slug}", include_in_schema=False, response_class=HTMLResponse)
def page(slug: str, request: Request) -> HTMLResponse:
    """The portal page opened on one agency (a link to share); the figures come from the JSON API."""
    s = request.app.state.settings
    return TEMPLATES.TemplateResponse(request, "transparency.html", {
        "deployment_name": s.deployment_name, "banner": s.use_banner, "tile_url": s.tile_url,
        "tile_attribution": s.tile_attribution, "page": PORTAL_PAGE, "slug": slug})


def report_as_csv(found: TransparencyReport) -> str:
    return csv_text(("section", "item", "value"), report_rows(found))


def audit_as_csv(records: list[PublicAuditRecord]) -> str:
    return csv_text(("seq", "at", "action", "outcome", "actor", "target_kind", "target_ref", "details", "hash"),
                    [(r.seq, r.at, r.action, r.outcome, r.actor, r.target_kind or "", r.target_ref or "",
                      " ".join(f"{k}={v}" for k, v in r.details.items()), r.hash) for r in records])
