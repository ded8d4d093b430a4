"""The versioned messages between an edge box and the hub, over the link the box opens outbound.

Every message carries `v` (the protocol version), `type` (the discriminator) and `sent_at` (the sender's
clock, from which the other side measures skew). Unknown fields and unknown types are refused, never
guessed at. Binary payloads (live segments, clips) do not travel here: they go over HTTPS uploads that a
message announces, each with a one-use token.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter, model_serializer

EDGE_PROTOCOL_VERSION = 1
MAX_CAMERAS_PER_EDGE = 256
MAX_ACCESS_ENTRIES = 500
# More than this between an edge's clock and the hub's is reported as skew: recordings and reads would be
# dated wrongly, and schedule and emergency decisions on the box would open or close at the wrong time.
CLOCK_SKEW_ALARM_S = 5.0

Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")]
Text = Annotated[str, Field(max_length=300)]


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    v: Literal[1] = EDGE_PROTOCOL_VERSION
    sent_at: AwareDatetime


# ---------------------------------------------------------------- edge -> hub


class EdgeCamera(BaseModel):
    """A camera as the box knows it. The stream URL never leaves the box: the hub is not handed it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    camera_id: Id = Field(description="The registry camera this feed integrates (the owner links them).")
    name: Text
    recording: bool
    plate_reading: bool
    width: int | None = Field(None, ge=1, le=16384)
    height: int | None = Field(None, ge=1, le=16384)


class Hello(_Message):
    """First message on every connection: who the box is running and what cameras it has."""

    type: Literal["hello"] = "hello"
    software_version: Text
    cameras: list[EdgeCamera] = Field(default_factory=list, max_length=MAX_CAMERAS_PER_EDGE)


class CameraHealth(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    camera_id: Id
    online: bool
    fps: float | None = Field(None, ge=0, le=1000)
    bitrate_kbps: float | None = Field(None, ge=0, le=1_000_000)
    last_frame_at: AwareDatetime | None = None
    error: Text | None = None


class EdgeAlarm(BaseModel):
    """Something the owner and the agency should know: disk_full, clock_jump, storage_error, camera_offline,
    key_missing. `cleared` true says it is over."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: Annotated[str, Field(pattern=r"^[a-z_]{3,40}$")]
    message: Text
    camera_id: Id | None = None
    raised_at: AwareDatetime
    cleared: bool = False


class DiskUsage(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    used_bytes: int = Field(ge=0)
    budget_bytes: int = Field(ge=0)
    oldest_recording_at: AwareDatetime | None = None


class Health(_Message):
    type: Literal["health"] = "health"
    cameras: list[CameraHealth] = Field(default_factory=list, max_length=MAX_CAMERAS_PER_EDGE)
    disk: DiskUsage | None = None
    alarms: list[EdgeAlarm] = Field(default_factory=list, max_length=64)
    queued_reads: int = Field(0, ge=0)


class AccessEntry(BaseModel):
    """One line of the box's own access log: every request the box answered, allowed or refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    entry_id: Id
    at: AwareDatetime
    camera_id: Id | None = None
    agency_id: Id | None = None
    user_id: Id | None = None
    kind: Literal["live", "clip", "hold", "reads", "policy"]
    outcome: Literal["allowed", "refused", "ended"]
    reason: Text
    purpose: Text | None = None
    case_number: Annotated[str, Field(max_length=64)] | None = None


class AccessLog(_Message):
    type: Literal["access_log"] = "access_log"
    entries: list[AccessEntry] = Field(max_length=MAX_ACCESS_ENTRIES)


class LiveStarted(_Message):
    type: Literal["live_started"] = "live_started"
    session_id: Id


class LiveEnded(_Message):
    """The box ended (or refused) a live session: policy changed, camera offline, stop asked."""

    type: Literal["live_ended"] = "live_ended"
    session_id: Id
    reason: Text
    refused: bool = False


class ClipResult(_Message):
    """Outcome of a clip request. `ready`: the clip was uploaded; its SHA-256 lets the hub check the bytes."""

    type: Literal["clip_result"] = "clip_result"
    request_id: Id
    status: Literal["ready", "refused", "failed"]
    reason: Text | None = None
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")] | None = None
    size_bytes: int | None = Field(None, ge=0)


class HoldResult(_Message):
    type: Literal["hold_result"] = "hold_result"
    hold_id: Id
    status: Literal["held", "released", "refused"]
    reason: Text | None = None


EdgeToHub = Annotated[
    Hello | Health | AccessLog | LiveStarted | LiveEnded | ClipResult | HoldResult, Field(discriminator="type")]


# ---------------------------------------------------------------- hub -> edge


class Welcome(_Message):
    """The hub's answer to Hello. `sent_at` is the hub's clock: the box measures its skew from it."""

    type: Literal["welcome"] = "welcome"
    edge_id: Id
    unknown_cameras: list[Id] = Field(default_factory=list, description="Hello cameras the hub refused to link.")


class Window(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    weekday: int = Field(ge=0, le=6)
    start: Annotated[str, Field(pattern=r"^\d{2}:\d{2}$")]
    end: Annotated[str, Field(pattern=r"^\d{2}:\d{2}$")]


class CameraPolicy(BaseModel):
    """The owner's policy for one camera as the hub holds it. The box applies the stricter of this and its
    local configuration."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    camera_id: Id
    agency_id: Id
    tier: Literal["registered", "integrated"]
    status: Literal["active", "withdrawn"]
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    mode: Literal["always", "emergency_only", "schedule", "paused"]
    share_live: bool
    share_recorded: bool
    schedule: list[Window] = Field(default_factory=list, max_length=64)
    emergency_radius_m: float = Field(ge=0, le=100_000)
    privacy_masks: list[list[tuple[float, float]]] = Field(default_factory=list, max_length=16)
    share_reads_with: list[Id] = Field(default_factory=list, max_length=64)
    retention_days: int = Field(ge=0, le=3650, description="The owner's retention for this camera's video.")


class PolicyUpdate(_Message):
    """The whole policy of every camera linked to the box (not a delta: a missed update cannot linger)."""

    type: Literal["policy"] = "policy"
    utc_offset_minutes: int = Field(ge=-14 * 60, le=14 * 60)
    cameras: list[CameraPolicy] = Field(max_length=MAX_CAMERAS_PER_EDGE)


class EmergencyNotice(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    emergency_id: Id
    agency_id: Id
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    radius_m: float = Field(gt=0, le=100_000)
    expires_at: AwareDatetime


class Emergencies(_Message):
    """Every emergency in force that concerns the box's cameras (the whole set, not a delta)."""

    type: Literal["emergencies"] = "emergencies"
    emergencies: list[EmergencyNotice] = Field(max_length=256)


class Requester(BaseModel):
    """Who asks, as the hub verified them; the box logs it and decides with its own copy of the policy."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    agency_id: Id
    user_id: Id
    purpose: Annotated[str, Field(min_length=1, max_length=300)]
    case_number: Annotated[str, Field(max_length=64)] | None = None


LiveProfile = Literal["full", "tile"]


class LiveStart(_Message):
    """`profile`: how the box encodes the session: `full` (up to 1280 wide, the camera's rate) or `tile` (a
    small picture for one tile of a video wall: 640 wide, ~12 fps, ~600 kbit/s), so that a 16-tile wall
    costs the box, the hub and the browser little. Sent only when not `full`: a box from before the field
    existed (which refuses unknown fields) still takes every full-size request."""

    type: Literal["live_start"] = "live_start"
    session_id: Id
    camera_id: Id
    requester: Requester
    upload_token: Annotated[str, Field(min_length=32, max_length=128)]
    profile: LiveProfile = "full"

    @model_serializer(mode="wrap")
    def _omit_default_profile(self, handler):
        data = handler(self)
        if data.get("profile") == "full":
            del data["profile"]
        return data


class LiveStop(_Message):
    type: Literal["live_stop"] = "live_stop"
    session_id: Id
    reason: Text


class ClipRequest(_Message):
    type: Literal["clip_request"] = "clip_request"
    request_id: Id
    camera_id: Id
    requester: Requester
    start: AwareDatetime
    end: AwareDatetime
    upload_token: Annotated[str, Field(min_length=32, max_length=128)]


class HoldRequest(_Message):
    """Keep (or, with release, stop keeping) a camera's footage in a time range past retention and
    eviction, for a case."""

    type: Literal["hold"] = "hold"
    hold_id: Id
    camera_id: Id
    requester: Requester
    start: AwareDatetime
    end: AwareDatetime
    release: bool = False


class AccessLogStored(_Message):
    """The hub stored these entries of the box's access log. Until this arrives the box keeps them marked
    unsent and sends them again: an entry is never lost to a link that broke before the hub committed it."""

    type: Literal["access_log_stored"] = "access_log_stored"
    entry_ids: list[Id] = Field(max_length=MAX_ACCESS_ENTRIES)


HubToEdge = Annotated[
    Welcome | PolicyUpdate | Emergencies | LiveStart | LiveStop | ClipRequest | HoldRequest | AccessLogStored,
    Field(discriminator="type")]

EDGE_TO_HUB: TypeAdapter = TypeAdapter(EdgeToHub)
HUB_TO_EDGE: TypeAdapter = TypeAdapter(HubToEdge)


def parse_edge_message(data: str | bytes):
    """An edge -> hub message from JSON; raises pydantic.ValidationError naming the bad field."""
    return EDGE_TO_HUB.validate_json(data)


def parse_hub_message(data: str | bytes):
    """A hub -> edge message from JSON; raises pydantic.ValidationError naming the bad field."""
    return HUB_TO_EDGE.validate_json(data)
