"""Hot lists, agency side: import a file, see each list's freshness and stale alarm, hand-kept entries."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, UploadFile
from pydantic import BaseModel, ConfigDict, Field

from openrtcc.domain.errors import InvalidInput
from openrtcc.domain.hotlist_formats import MAX_FILE_BYTES
from openrtcc.services import hotlists
from openrtcc.services.hotlists import CustomEntryDraft, HotListView
from openrtcc.web.deps import AgencyActor, HubDep

router = APIRouter(prefix="/api/agency/hotlists", tags=["hot lists"])


class CustomEntryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    plate: str = Field(max_length=32, description="Plate; * and ? allowed for a partial plate.")
    state: str = Field("", max_length=5, description="NCIC state code; empty for any state.")
    reason: str = Field(max_length=300)
    owner: str = Field(max_length=120, description="Who answers for this entry.")
    expires_at: str = Field(max_length=40, description="ISO date or date-time; must be in the future.")
    category: str = Field("custom", max_length=32)


def _list(v: HotListView) -> dict:
    return {"id": v.id, "name": v.name, "format": v.format, "version": v.version, "entry_count": v.entry_count,
            "stale_after_hours": v.stale_after_hours, "refreshed_at": v.refreshed_at,
            "stale_alarm_at": v.stale_alarm_at, "stale": v.stale_alarm_at is not None, "created_at": v.created_at}


def _entry(entry_id: int, e) -> dict:
    return {"id": entry_id, "plate": e.plate, "state": e.state, "category": e.category, "priority": e.priority,
            "reason": e.reason, "owner": e.owner, "make": e.make, "colour": e.colour, "year": e.year,
            "plate_type": e.plate_type, "ncic_number": e.ncic_number, "ori": e.ori, "case_number": e.case_number,
            "effective_at": e.effective_at, "expires_at": e.expires_at, "line": e.line}


@router.get("")
def list_lists(actor: AgencyActor, hub: HubDep) -> list[dict]:
    return [_list(v) for v in hotlists.list_hot_lists(hub, actor)]


@router.post("/import", status_code=201)
def import_list(file: UploadFile, actor: AgencyActor, hub: HubDep, name: Annotated[str, Form(max_length=120)],
                format: Annotated[str, Form(max_length=16)],
                stale_after_hours: Annotated[int | None, Form()] = None) -> dict:
    data = file.file.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise InvalidInput(f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB", code="hot_list_too_large")
    result = hotlists.import_hot_list(hub, actor, name=name, fmt=format, data=data,
                                      stale_after_hours=stale_after_hours)
    return {"list": _list(result.list), "records": result.records, "duplicates": result.duplicates,
            "added": result.added, "removed": result.removed,
            "back_check": {"reads_checked": result.back_check.reads_checked,
                           "alerts": result.back_check.alerts}}


@router.get("/{list_id}")
def get_list(list_id: str, actor: AgencyActor, hub: HubDep) -> dict:
    return _list(hotlists.get_hot_list(hub, actor, list_id))


@router.get("/{list_id}/entries")
def entries(list_id: str, actor: AgencyActor, hub: HubDep, limit: Annotated[int, Query(ge=1, le=500)] = 100,
            offset: Annotated[int, Query(ge=0)] = 0) -> list[dict]:
    return [_entry(i, e) for i, e in hotlists.list_entries(hub, actor, list_id, limit=limit, offset=offset)]


@router.post("/{list_id}/entries", status_code=201)
def add_entry(list_id: str, body: CustomEntryIn, actor: AgencyActor, hub: HubDep) -> dict:
    e = hotlists.add_custom_entry(hub, actor, list_id, CustomEntryDraft(
        body.plate, body.state, body.reason, body.owner, body.expires_at, body.category))
    return {"plate": e.plate, "state": e.state, "category": e.category, "expires_at": e.expires_at}


@router.delete("/{list_id}/entries/{entry_id}", status_code=204)
def remove_entry(list_id: str, entry_id: int, actor: AgencyActor, hub: HubDep) -> None:
    hotlists.remove_custom_entry(hub, actor, list_id, entry_id)
