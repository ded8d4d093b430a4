"""The edge box's configuration (`edge.toml`): a typed tree that refuses unknown keys and unsafe values.

The owner writes it (or `rtcc edge discover` drafts the camera entries). What it allows per camera is a
ceiling: the hub delivers the owner's portal policy, and the box applies the stricter of the two.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from openrtcc.domain.errors import InvalidInput
from openrtcc.domain.privacy_masks import MAX_MASKS, validate_mask

GIB = 1024 ** 3
CameraKey = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class EdgeSection(_Section):
    name: str = Field("edge", min_length=1, max_length=120, description="How the box is named in the portal.")
    data_dir: Path = Field(Path("rtcc-edge"), description="Recordings, keys, the read queue and the access log.")
    hub_url: str = Field(description="The hub's address, https://... (http:// only to a loopback address).")
    hub_ca_file: Path | None = Field(None, description="CA bundle that signs the hub's certificate; unset: the "
                                                       "system's CAs.")

    @field_validator("hub_url")
    @classmethod
    def _hub_url(cls, v: str) -> str:
        parts = urlsplit(v)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValueError("hub_url must be an https:// URL")
        if parts.username or parts.password or parts.query or parts.fragment:
            raise ValueError("hub_url must not carry credentials, a query or a fragment")
        if parts.scheme == "http" and parts.hostname not in ("127.0.0.1", "::1", "localhost"):
            raise ValueError("hub_url must use https:// (plain http is allowed only to a loopback address)")
        return v.rstrip("/")


class RecordingSection(_Section):
    segment_seconds: float = Field(10.0, ge=1, le=300, description="Length of each recorded segment.")
    retention_days: int = Field(30, ge=1, le=30, description="Days of video kept; the owner may choose fewer, "
                                                              "never more than 30.")
    max_bytes: int = Field(0, ge=0, description="Disk budget for video; 0: the filesystem's free space minus "
                                                "reserve_bytes.")
    reserve_bytes: int = Field(1 * GIB, ge=0, description="Space always left free, so plate reads and logs can "
                                                          "still be written when video cannot.")


class PlateReadingSection(_Section):
    model_dir: Path | None = Field(None, description="Plate-reader model files; unset: RTCC_MODEL_DIR, the cache.")
    region: str | None = Field(None, pattern=r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$",
                               description="Where plates are expected from, e.g. US-CA.")
    frames_per_second: float = Field(6.0, gt=0, le=30, description="Frames sampled for plate reading.")
    threads: int = Field(0, ge=0, le=64, description="onnxruntime threads; 0: one per core.")


class CameraLimits(_Section):
    """The owner's local ceiling: what this box will ever share for the camera, whatever the portal says."""

    live: bool = True
    recorded: bool = True
    plate_reads: bool = True


class CameraSection(_Section):
    id: CameraKey = Field(description="The registry camera id this feed integrates (shown in the portal).")
    name: str = Field(min_length=1, max_length=120)
    url: str = Field(repr=False, description="rtsp:// or rtsps:// URL of the main stream (may hold credentials).")
    substream_url: str | None = Field(None, repr=False, description="A lower-resolution stream for plate reading "
                                                                    "and live view.")
    record: bool = True
    plate_reading: bool = False
    limits: CameraLimits = CameraLimits()
    privacy_masks: list[list[tuple[float, float]]] = Field(default_factory=list, max_length=MAX_MASKS,
                                                            description="Polygons in frame fractions (0..1).")

    @field_validator("url", "substream_url")
    @classmethod
    def _rtsp(cls, v: str | None) -> str | None:
        if v is None:
            return v
        parts = urlsplit(v)
        if parts.scheme not in ("rtsp", "rtsps") or not parts.hostname:
            raise ValueError("a camera URL must be rtsp:// or rtsps:// with a host")
        return v

    @field_validator("privacy_masks")
    @classmethod
    def _masks(cls, v: list) -> list:
        for m in v:
            try:
                validate_mask(m)
            except InvalidInput as exc:
                raise ValueError(exc.message) from exc
        return v


class EdgeConfig(_Section):
    edge: EdgeSection
    recording: RecordingSection = RecordingSection()
    plate_reading: PlateReadingSection = PlateReadingSection()
    cameras: list[CameraSection] = Field(default_factory=list, max_length=256)

    @model_validator(mode="after")
    def _unique_cameras(self):
        seen: set[str] = set()
        for c in self.cameras:
            if c.id in seen:
                raise ValueError(f"camera {c.id} is configured twice")
            seen.add(c.id)
        return self

    def camera(self, camera_id: str) -> CameraSection | None:
        return next((c for c in self.cameras if c.id == camera_id), None)


def load_edge_config(path: Path) -> EdgeConfig:
    """Read and check edge.toml; InvalidInput names the file and the bad key."""
    try:
        doc = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}", code="edge_config") from exc
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"{path} is not valid TOML: {exc}", code="edge_config") from exc
    try:
        config = EdgeConfig.model_validate(doc)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidInput(f"{path}: {where}: {first['msg']}", code="edge_config") from None
    if not config.edge.data_dir.is_absolute():
        config = config.model_copy(update={"edge": config.edge.model_copy(
            update={"data_dir": (Path(path).parent / config.edge.data_dir).resolve()})})
    return config
