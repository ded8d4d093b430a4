"""Plate reads: the versioned batch message a source sends, its checks, and a read as the hub stores it."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from openrtcc.domain.errors import InvalidInput
from openrtcc.domain.geo import BBox
from openrtcc.domain.plates import PlateCandidate, normalize_plate, normalize_state, state_of_region

READ_MESSAGE_VERSION = 1
MAX_BATCH = 500
MAX_CANDIDATES = 10
# Edge boxes keep time by NTP; more than this ahead of the hub is a broken clock, and a read dated in
# the future would sort above every real one in searches and alert lists.
MAX_CLOCK_AHEAD = timedelta(minutes=5)
MAX_CROP_BYTES = 256 * 1024  # a plate crop is a few KiB; this leaves room for a generous one
MAX_SNAPSHOT_BYTES = 2 * 1024 * 1024
VEHICLE_TYPES = ("car", "truck", "motorcycle", "bus")


def sniff_image(data: bytes) -> tuple[str, str] | None:
    """(media type, extension) from the bytes themselves; only JPEG and PNG are images we keep."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg", "jpg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png", "png"
    return None


def _image(limit: int):
    def decode(value: object) -> bytes | None:
        if value is None:
            return None
        if not isinstance(value, str):
            raise ValueError("an image is sent as a base64 string")
        if len(value) > limit * 4 // 3 + 8:
            raise ValueError(f"the image is larger than {limit // 1024} KiB")
        try:
            data = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError("the image is not valid base64") from exc
        if len(data) > limit:
            raise ValueError(f"the image is larger than {limit // 1024} KiB")
        if sniff_image(data) is None:
            raise ValueError("the image is neither JPEG nor PNG")
        return data

    return BeforeValidator(decode)


CropImage = Annotated[bytes | None, _image(MAX_CROP_BYTES)]
SnapshotImage = Annotated[bytes | None, _image(MAX_SNAPSHOT_BYTES)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False, frozen=True)


class CandidateIn(_Strict):
    text: str = Field(max_length=32)
    confidence: float = Field(ge=0, le=1)

    @field_validator("text")
    @classmethod
    def _plate(cls, v: str) -> str:
        return _normalised(v)


def _normalised(text: str) -> str:
    try:
        return normalize_plate(text)
    except InvalidInput as exc:
        raise ValueError(exc.message) from exc


class ReadIn(_Strict):
    """One plate read. `read_id` is the source's idempotency key: the same id is the same read."""

    read_id: str = Field(min_length=1, max_length=128, pattern=r"^[\x21-\x7e]+$",
                         description="The source's own id for this read (printable ASCII, no spaces).")
    camera_id: str | None = Field(None, max_length=36, description="A registered camera of the agency.")
    plate: str = Field(max_length=32, description="As read; normalised by the hub (spaces, dashes dropped).")
    state: str | None = Field(None, max_length=5, description="NCIC state/province code, e.g. CA or US-CA.")
    region: str | None = Field(None, max_length=8, pattern=r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$",
                               description="ISO 3166 code of the plate's region as the reader saw it.")
    confidence: float = Field(ge=0, le=1)
    candidates: list[CandidateIn] = Field(default_factory=list, max_length=MAX_CANDIDATES)
    captured_at: AwareDatetime
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    heading_deg: float | None = Field(None, ge=0, lt=360)
    vehicle_make: str | None = Field(None, max_length=40)
    vehicle_colour: str | None = Field(None, max_length=20)
    vehicle_type: Literal["car", "truck", "motorcycle", "bus"] | None = None
    crop: CropImage = Field(None, description="The plate crop, base64 JPEG or PNG.")
    snapshot: SnapshotImage = Field(None, description="The full frame, base64 JPEG or PNG.")

    @field_validator("plate")
    @classmethod
    def _plate(cls, v: str) -> str:
        return _normalised(v)

    @field_validator("state")
    @classmethod
    def _state(cls, v: str | None) -> str | None:
        try:
            return normalize_state(v)
        except InvalidInput as exc:
            raise ValueError(exc.message) from exc

    @model_validator(mode="after")
    def _position(self):
        if (self.lat is None) != (self.lon is None):
            raise ValueError("lat and lon come together or not at all")
        return self


class ReadBatch(_Strict):
    """What `POST /api/ingest/reads` takes: a versioned batch, stored all or nothing."""

    version: Literal[1] = Field(description="Message version; this hub speaks 1.")
    reads: list[ReadIn] = Field(min_length=1, max_length=MAX_BATCH)


def check_batch(batch: ReadBatch, now: datetime) -> None:
    """What the message alone cannot know: the hub's clock, and ids repeated within the batch."""
    seen: dict[str, int] = {}
    for i, r in enumerate(batch.reads):
        if r.captured_at > now + MAX_CLOCK_AHEAD:
            raise InvalidInput(f"reads.{i}.captured_at: {r.captured_at.isoformat()} is ahead of the hub's clock "
                               f"by more than {int(MAX_CLOCK_AHEAD.total_seconds() // 60)} minutes",
                               code="clock_skew", details={"index": i, "field": "captured_at"})
        if r.read_id in seen:
            raise InvalidInput(f"reads.{i}.read_id: {r.read_id!r} repeats reads.{seen[r.read_id]}",
                               code="duplicate_read_id", details={"index": i, "field": "read_id"})
        seen[r.read_id] = i


def content_hash(r: ReadIn) -> str:
    """A digest of everything the read says, so a retried send can be told from a conflicting one."""
    doc = r.model_dump(mode="json", exclude={"crop", "snapshot"})
    doc["captured_at"] = r.captured_at.astimezone(UTC).isoformat()
    for name in ("crop", "snapshot"):
        data = getattr(r, name)
        doc[name] = hashlib.sha256(data).hexdigest() if data else None
    return hashlib.sha256(json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class PlateRead:
    """A read as stored: plate normalised, with its look-alike key; `state` as read, else the source's."""

    id: str
    agency_id: str
    source_id: str
    read_key: str
    camera_id: str | None
    plate: str
    plate_key: str
    state: str | None
    region: str | None
    confidence: float
    candidates: tuple[PlateCandidate, ...]
    lat: float | None
    lon: float | None
    heading_deg: float | None
    vehicle_make: str | None
    vehicle_colour: str | None
    vehicle_type: str | None
    crop_key: str | None
    snapshot_key: str | None
    content_hash: str
    captured_at: datetime
    received_at: datetime


def read_state(r: ReadIn, default_state: str | None) -> str | None:
    """The state a read is matched under: as read, else from its region, else where the source stands."""
    return r.state or state_of_region(r.region) or default_state


@dataclass(frozen=True, slots=True)
class ReadScan:
    """What a plate search asks the store for; the exact area test is the caller's (bbox is a prefilter)."""

    plate: str | None = None
    plate_key: str | None = None
    like: str | None = None  # SQL LIKE pattern over the normalised plate
    bbox: BBox | None = None
    since: datetime | None = None
    until: datetime | None = None
