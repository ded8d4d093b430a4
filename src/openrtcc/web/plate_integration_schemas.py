"""Request and response shapes of the plate-integration API (Frigate links, Plate Recognizer webhooks)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from openrtcc.services.plate_integrations import PlateIntegration


class PlateIntegrationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    read_source_id: str = Field(max_length=36, description="The agency's read source its reads count as.")
    kind: Literal["frigate", "plate_recognizer"]
    config: dict = Field(description="Frigate: broker_url, username, topic_prefix, cameras {name: camera id}, "
                                     "min_score, settle_s. Plate Recognizer: cameras {camera_id: camera id}, "
                                     "min_score.")
    password: str | None = Field(None, max_length=256, repr=False, description="The Frigate broker's password.")


class PlateIntegrationOut(BaseModel):
    id: str
    read_source_id: str
    kind: str
    config: dict
    status: dict = Field(description="Frigate: connected, last message, last read, last error, counts.")
    created_at: datetime
    disabled_at: datetime | None
    enabled: bool
    webhook_url: str | None = Field(None, description="Plate Recognizer: where Stream posts (webhook_targets).")

    @classmethod
    def of(cls, i: PlateIntegration, base_url: str) -> PlateIntegrationOut:
        url = (f"{base_url.rstrip('/')}/api/ingest/plate-recognizer/{i.id}" if i.kind == "plate_recognizer"
               else None)
        return cls(id=i.id, read_source_id=i.read_source_id, kind=i.kind, config=i.config, status=i.status,
                   created_at=i.created_at, disabled_at=i.disabled_at, enabled=i.enabled, webhook_url=url)


class PlateIntegrationCreatedOut(PlateIntegrationOut):
    token: str | None = Field(None, description="Plate Recognizer: the webhook token, shown this once (the hub "
                                                "keeps its SHA-256). Send it as `Authorization: Token <token>`.")
