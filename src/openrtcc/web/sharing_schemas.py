"""Request and response shapes of the sharing API: grants between agencies and hot lists shared in."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from openrtcc.domain.governance import DataKind
from openrtcc.services.shared_hotlists import OptIn, SharedHotListView
from openrtcc.services.sharing import GrantRequest, GrantView


class GrantIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to_agency: str = Field(min_length=1, max_length=64, description="The recipient agency's slug.")
    data_kind: Literal["plate_reads", "hot_lists", "camera_locations"]
    purposes: list[str] = Field(min_length=1, max_length=16,
                                description="Purpose codes of the taxonomy; a grant for any purpose is not made.")
    expires_at: AwareDatetime = Field(description="When the grant ends: at most 365 days ahead, 90 for a federal "
                                                  "recipient.")
    federal_one_to_one: bool = Field(False, description="Required (true) for a federal recipient, refused otherwise.")
    note: str | None = Field(None, max_length=500)

    def request(self) -> GrantRequest:
        return GrantRequest(self.to_agency, self.data_kind, [p[:64] for p in self.purposes], self.expires_at,
                            self.federal_one_to_one, self.note)


class AgencyRef(BaseModel):
    slug: str
    name: str


class GrantOut(BaseModel):
    id: str
    direction: Literal["given", "received"]
    from_agency: AgencyRef
    to_agency: AgencyRef
    data_kind: DataKind
    purposes: list[str]
    note: str | None
    federal_one_to_one: bool
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    status: Literal["live", "expired", "revoked"]

    @classmethod
    def of(cls, v: GrantView) -> GrantOut:
        g = v.grant
        return cls(id=g.id, direction=v.direction, from_agency=AgencyRef(slug=v.from_agency[0], name=v.from_agency[1]),
                   to_agency=AgencyRef(slug=v.to_agency[0], name=v.to_agency[1]), data_kind=g.data_kind,
                   purposes=sorted(g.purposes), note=g.note, federal_one_to_one=g.federal_one_to_one,
                   created_at=g.created_at, expires_at=g.expires_at, revoked_at=g.revoked_at, status=v.status)


class OtherAgencyOut(BaseModel):
    slug: str
    name: str
    kind: str


class PurposeOut(BaseModel):
    code: str
    label: str
    prohibited: bool = Field(description="My agency prohibits it: no grant may name it.")


class SharedHotListOut(BaseModel):
    list_id: str
    name: str
    format: str
    entry_count: int
    version: int
    refreshed_at: datetime | None
    stale: bool
    source: AgencyRef
    grant_expires_at: datetime | None = Field(description="None: no grant in force any more.")
    opted_in_at: datetime | None = Field(description="None: not opted in.")
    applies: bool = Field(description="Opted in and the grant lives: the list matches this agency's reads now.")

    @classmethod
    def of(cls, v: SharedHotListView) -> SharedHotListOut:
        return cls(list_id=v.list_id, name=v.name, format=v.format, entry_count=v.entry_count, version=v.version,
                   refreshed_at=v.refreshed_at, stale=v.stale, source=AgencyRef(slug=v.source[0], name=v.source[1]),
                   grant_expires_at=v.grant_expires_at, opted_in_at=v.opted_in_at, applies=v.applies)


class OptInOut(BaseModel):
    list: SharedHotListOut
    reads_checked: int = Field(description="Stored reads of the window back-checked against the list.")
    alerts: int = Field(description="Alerts the back-check raised.")

    @classmethod
    def of(cls, r: OptIn) -> OptInOut:
        return cls(list=SharedHotListOut.of(r.list), reads_checked=r.back_check.reads_checked,
                   alerts=r.back_check.alerts)
