"""A computer-aided-dispatch call as the CAD webhook sends it, and the per-integration map from the CAD's
call-type codes to the hub's categories, priorities and (for some codes) an automatic emergency."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator

from openrtcc.domain.cameras import MAX_EMERGENCY_RADIUS_M
from openrtcc.domain.errors import InvalidInput
from openrtcc.domain.incidents import CATEGORY, IncidentDraft, IncidentSource

CAD_MESSAGE_VERSION = 1
MAX_CODES = 2000
CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._/-]{0,31}$")
MAX_EMERGENCY_MINUTES = 24 * 60


class StrictMessage(BaseModel):
    # Strict: a priority sent as "2" or a latitude as "37.8" is a CAD bug the integrator should see at once.
    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True, allow_inf_nan=False,
                              frozen=True)


class CadLocation(StrictMessage):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    address: str | None = Field(None, max_length=200, description="As the CAD has it (a street address or a "
                                                                   "block); shown to operators only.")


class CadCall(StrictMessage):
    """One call for service, sent when it opens and again on every update; `status: closed` closes it."""

    version: Literal[1] = CAD_MESSAGE_VERSION
    incident_number: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$",
                                 description="The CAD's own number: one hub incident per number.")
    call_type: str = Field(min_length=1, max_length=32, description="The CAD's call-type code, e.g. 217 or SHOTS.")
    description: str | None = Field(None, max_length=4000)
    priority: int | None = Field(None, ge=1, le=5, description="1 (most urgent) .. 5; absent: the code map's.")
    location: CadLocation
    received_at: AwareDatetime = Field(description="When the CAD received the call (ISO 8601 with an offset).")
    status: Literal["open", "closed"] = "open"

    @field_validator("call_type")
    @classmethod
    def _code(cls, v: str) -> str:
        if not CODE.match(v):
            raise ValueError("a call type is 1-32 letters, digits, spaces or ._/-")
        return v


class EmergencyRule(StrictMessage):
    """An emergency declared with the incident: emergency-only cameras within the radius open until it expires."""

    radius_m: float = Field(gt=0, le=MAX_EMERGENCY_RADIUS_M)
    minutes: int = Field(ge=1, le=MAX_EMERGENCY_MINUTES)


class CodeRule(StrictMessage):
    category: str = Field(description="The hub's category slug, e.g. shots_fired.")
    priority: int = Field(3, ge=1, le=5)
    label: str | None = Field(None, max_length=120, description="The incident title, e.g. 'Shots fired'.")
    emergency: EmergencyRule | None = None

    @field_validator("category")
    @classmethod
    def _slug(cls, v: str) -> str:
        return _category(v)


class CadCodeMap(StrictMessage):
    """An integration's configuration: `codes` maps each call type to a rule; unknown codes take the defaults."""

    default_category: str = "other"
    default_priority: int = Field(3, ge=1, le=5)
    codes: dict[str, CodeRule] = Field(default_factory=dict, max_length=MAX_CODES)

    @field_validator("default_category")
    @classmethod
    def _slug(cls, v: str) -> str:
        return _category(v)

    @field_validator("codes")
    @classmethod
    def _codes(cls, v: dict[str, CodeRule]) -> dict[str, CodeRule]:
        bad = [k for k in v if not CODE.match(k)]
        if bad:
            raise ValueError(f"call-type codes are 1-32 letters, digits, spaces or ._/- (not {bad[0]!r})")
        return v


def _category(v: str) -> str:
    if not CATEGORY.match(v):
        raise ValueError("a category is a slug of 2-40 lower-case letters, digits, '-' or '_'")
    return v


def field_problems(exc: ValidationError) -> list[dict]:
    """Pydantic's errors as the API reports them: the field's dotted path and what is wrong with it."""
    problems = []
    for e in exc.errors(include_url=False):
        if e.get("type") == "json_invalid":
            problems.append({"field": "", "message": f"not valid JSON: {(e.get('ctx') or {}).get('error', '')}"})
        else:
            problems.append({"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]})
    return problems[:20]


def parse_model(model: type[BaseModel], body: bytes, what: str):
    """Parse a webhook body; a refusal lists every field at fault (422), without echoing the body."""
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        problems = field_problems(exc)
        first = problems[0]
        raise InvalidInput(f"malformed {what}: {first['field'] or 'body'}: {first['message']}",
                           code="malformed_payload", details={"problems": problems}) from None


def parse_code_map(config: dict) -> CadCodeMap:
    try:
        return CadCodeMap.model_validate(config, strict=False)
    except ValidationError as exc:
        problems = field_problems(exc)
        raise InvalidInput(f"bad code map: {problems[0]['field']}: {problems[0]['message']}", code="bad_config",
                           details={"problems": problems}) from None


@dataclass(frozen=True, slots=True)
class MappedCall:
    draft: IncidentDraft
    emergency: EmergencyRule | None


def map_call(call: CadCall, codes: CadCodeMap) -> MappedCall:
    """The incident a call opens (or updates to): category and title from the code map, the CAD's priority
    when it sends one (the dispatcher's judgement) or else the code's; an unknown code takes the map's
    default category and is flagged in the details so that someone adds it to the map."""
    rule = codes.codes.get(call.call_type)
    details: dict = {"call_type": call.call_type, "received_at": call.received_at.isoformat()}
    if rule is None:
        details["unmapped_code"] = True
    category = rule.category if rule else codes.default_category
    priority = call.priority or (rule.priority if rule else codes.default_priority)
    title = (rule.label if rule and rule.label else f"CAD call {call.call_type}")
    draft = IncidentDraft(category=category, priority=priority, title=f"{title} ({call.incident_number})"[:200],
                          lat=call.location.lat, lon=call.location.lon, description=call.description,
                          address=call.location.address, source=IncidentSource.CAD,
                          external_id=call.incident_number, details=details)
    return MappedCall(draft, rule.emergency if rule else None)
