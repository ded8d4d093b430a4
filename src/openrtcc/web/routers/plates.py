"""Plate search with a purpose and a case number; paged JSON, or the whole result as a CSV or JSON file."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from openrtcc.domain.errors import InvalidInput
from openrtcc.domain.geo import area_from_geojson
from openrtcc.services import plate_search
from openrtcc.services.plate_search import PlateQuery
from openrtcc.web.deps import AgencyActor, HubDep
from openrtcc.web.plate_export import to_csv, to_json
from openrtcc.web.plate_schemas import PlateReadOut, PlateSearchIn, PlateSearchOut

router = APIRouter(prefix="/api/agency/plates", tags=["plate search"])


def _query(body: PlateSearchIn) -> PlateQuery:
    area = None
    if body.area is not None:
        try:
            area = area_from_geojson(body.area)
        except ValueError as exc:
            raise InvalidInput(f"area: {exc}", code="bad_geometry") from exc
    return PlateQuery(body.given(), body.plate, body.partial, body.lookalikes, body.lat, body.lon, body.radius_m,
                      area, body.since, body.until, body.area, body.approval_id, body.include_shared)


@router.post("/search", response_model=PlateSearchOut)
def search(body: PlateSearchIn, actor: AgencyActor, hub: HubDep,
           format: Literal["csv", "json"] | None = Query(None, description="Export the whole result as a file.")):
    q = _query(body)
    if format is None:
        page = plate_search.search_plates(hub, actor, q, cursor=body.cursor, page_size=body.page_size)
        return PlateSearchOut(results=[PlateReadOut(**vars_of(r)) for r in page.reads], next_cursor=page.next_cursor)
    reads, truncated = plate_search.export_plates(hub, actor, q, format)
    name = f"plate-search-{''.join(ch for ch in body.case_number or '' if ch.isalnum() or ch in '-_')[:40]}.{format}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"',
               "X-Export-Truncated": "1" if truncated else "0"}
    if format == "csv":
        return Response(to_csv(reads), media_type="text/csv; charset=utf-8", headers=headers)
    return Response(to_json(reads, truncated, body.purpose, body.case_number), media_type="application/json",
                    headers=headers)


def vars_of(r) -> dict:
    return {name: getattr(r, name) for name in PlateReadOut.model_fields}
