"""Plate Recognizer Stream's webhook (`{"hook", "data": {"camera_id", "timestamp", "results"}}`) as plate reads.

Stream posts one recognition per call, as JSON, or as a multipart form whose `json` field holds the same
document and whose `upload` part is the frame. Its fields are documented at
https://guides.platerecognizer.com/docs/stream/results; we keep what a read needs and ignore the rest."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator

from openrtcc.domain.errors import InvalidInput
from openrtcc.domain.reads import MAX_SNAPSHOT_BYTES, ReadBatch, sniff_image

MAX_RESULTS = 50
MAX_JSON_BYTES = 512 * 1024
MAX_BODY_BYTES = MAX_SNAPSHOT_BYTES + MAX_JSON_BYTES + 64 * 1024  # the frame, the document, the form's framing
# Stream's vehicle types, folded into the four the hub knows.
VEHICLE_TYPES = {"sedan": "car", "suv": "car", "van": "car", "pickup truck": "truck", "big truck": "truck",
                 "bus": "bus", "motorcycle": "motorcycle", "car": "car", "truck": "truck"}


class PlateRecognizerConfig(BaseModel):
    """A Plate Recognizer integration's settings."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    cameras: dict[str, str] = Field(min_length=1, max_length=500,
                                    description="Stream's camera_id -> the registry's camera id.")
    min_score: float = Field(0.0, ge=0, le=1, description="Plates read with a lower score are ignored.")

    @field_validator("cameras")
    @classmethod
    def _names(cls, v: dict[str, str]) -> dict[str, str]:
        for name, camera_id in v.items():
            if not 1 <= len(name) <= 64 or not 1 <= len(camera_id) <= 36:
                raise ValueError("each camera maps a Stream camera_id (1-64 characters) to a camera id")
        return v


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", allow_inf_nan=False, frozen=True)


class _Region(_Lenient):
    code: str | None = Field(None, max_length=16)


class _Vehicle(_Lenient):
    type: str | None = Field(None, max_length=40)


class _Candidate(_Lenient):
    plate: str = Field(max_length=32)
    score: float = Field(ge=0, le=1)


class _Named(_Lenient):
    color: str | None = Field(None, max_length=40)
    make: str | None = Field(None, max_length=60)


class StreamResult(_Lenient):
    plate: str = Field(min_length=1, max_length=32)
    score: float = Field(ge=0, le=1)
    region: _Region | None = None
    vehicle: _Vehicle | None = None
    candidates: list[_Candidate] = Field(default_factory=list, max_length=50)
    color: list[_Named] = Field(default_factory=list, max_length=20)
    model_make: list[_Named] = Field(default_factory=list, max_length=20)
    direction: float | None = None


class StreamData(_Lenient):
    camera_id: str = Field(min_length=1, max_length=64)
    timestamp: AwareDatetime
    results: list[StreamResult] = Field(max_length=MAX_RESULTS)


class StreamWebhook(_Lenient):
    hook: dict = Field(default_factory=dict)
    data: StreamData


def parse_webhook(document: bytes | str) -> StreamWebhook | None:
    """The webhook document; None for Stream's other events (a heartbeat, a clip), which carry no plates;
    InvalidInput naming the first bad field (never echoing the values)."""
    if len(document) > MAX_JSON_BYTES:
        raise InvalidInput(f"the JSON document is over {MAX_JSON_BYTES // 1024} KiB", code="too_large")
    try:
        doc = json.loads(document)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"not valid JSON: {exc.msg if hasattr(exc, 'msg') else 'undecodable'}",
                           code="bad_json") from None
    hook = doc.get("hook") if isinstance(doc, dict) else None
    if isinstance(hook, dict) and hook.get("event") not in (None, "recognition"):
        return None
    try:
        return StreamWebhook.model_validate(doc)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidInput(f"{where or 'document'}: {first['msg']}", code="bad_webhook",
                           details={"field": where}) from None


def read_id(camera_id: str, at: datetime, plate: str) -> str:
    """The same recognition sent again (Stream retries a failed webhook) gets the same id: a duplicate."""
    digest = hashlib.sha256(f"{camera_id}\x1f{at.isoformat()}\x1f{plate.upper()}".encode()).hexdigest()
    return f"pr:{digest[:40]}"


def reads_of(hook: StreamWebhook, config: PlateRecognizerConfig, frame: bytes | None) -> ReadBatch | None:
    """The batch of reads of one recognition (None when every plate scored under the minimum); the frame,
    when Stream sent one, is each read's snapshot. InvalidInput for a camera the integration does not map."""
    camera = config.cameras.get(hook.data.camera_id)
    if camera is None:
        raise InvalidInput("this Stream camera_id is not in the integration's camera map", code="unknown_camera")
    if frame is not None and sniff_image(frame) is None:
        raise InvalidInput("the upload is neither JPEG nor PNG", code="bad_upload")
    snapshot = base64.b64encode(frame).decode() if frame else None
    reads = [_read(hook.data, r, camera, snapshot) for r in hook.data.results if r.score >= config.min_score]
    if not reads:
        return None
    try:
        return ReadBatch(version=1, reads=reads)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"][2:])  # reads.<i>.<field>: the i-th result's field
        raise InvalidInput(f"data.results.{first['loc'][1]}.{where}: {first['msg']}", code="bad_webhook") from None


def _read(data: StreamData, r: StreamResult, camera_id: str, snapshot: str | None) -> dict:
    doc = {
        "read_id": read_id(data.camera_id, data.timestamp, r.plate), "camera_id": camera_id,
        "plate": r.plate.upper(), "confidence": r.score, "captured_at": data.timestamp.isoformat(),
        "region": _region(r.region.code if r.region else None),
        "candidates": [{"text": c.plate.upper(), "confidence": c.score} for c in r.candidates
                       if c.plate.upper() != r.plate.upper()][:10],
        "vehicle_type": VEHICLE_TYPES.get((r.vehicle.type or "").lower()) if r.vehicle else None,
        "vehicle_colour": (r.color[0].color or None) if r.color else None,
        "vehicle_make": (r.model_make[0].make or None) if r.model_make else None,
        "heading_deg": r.direction % 360 if r.direction is not None else None,
        "snapshot": snapshot,
    }
    if doc["vehicle_colour"]:
        doc["vehicle_colour"] = doc["vehicle_colour"][:20]
    if doc["vehicle_make"]:
        doc["vehicle_make"] = doc["vehicle_make"][:40]
    return {k: v for k, v in doc.items() if v is not None}


def _region(code: str | None) -> str | None:
    """Stream's `us-ca` as ISO 3166 `US-CA`; anything else it may say (`unknown`) as no region."""
    if not code:
        return None
    code = code.upper()
    head, _, tail = code.partition("-")
    if len(head) == 2 and head.isalpha() and (not tail or (1 <= len(tail) <= 3 and tail.isalnum())):
        return code
    return None
