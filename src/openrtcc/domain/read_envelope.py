"""A plate read queued between a serving process and a worker (city mode): the typed, versioned message, its
stable hub id and its queue message id."""

from __future__ import annotations

import hashlib
import uuid
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from openrtcc.domain.reads import ReadIn

QUEUED_READ_VERSION = 1
# Fixed for ever: a read's hub id is derived from it, so changing it would give a retried read a second id.
_READ_ID_NAMESPACE = uuid.UUID("2f7c4a0e-9b1d-4d6e-8a3f-5c0b7e1d9a42")


def hub_read_id(source_id: str, read_key: str) -> str:
    """The hub's id of a source's read: the same on every retry, whichever process takes it in."""
    return str(uuid.uuid5(_READ_ID_NAMESPACE, f"{source_id}/{read_key}"))


def queue_message_id(source_id: str, read_key: str, content_hash: str) -> str:
    """The queue's de-duplication id: a retry of the same read while the first is still queued is dropped by
    the queue. The content is part of it, so a changed read reaches the worker, which refuses it as a
    conflict (audited) instead of the queue silently answering `duplicate` for it."""
    return hashlib.sha256(f"{source_id}\x1f{read_key}\x1f{content_hash}".encode()).hexdigest()


class QueuedRead(BaseModel):
    """What a worker needs to store one read exactly as the serving process accepted it. The images are
    already in the media store (named by their digest); the read travels without them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = QUEUED_READ_VERSION
    id: str = Field(min_length=1, max_length=36)  # hub_read_id(source_id, read.read_id)
    source_id: str = Field(min_length=1, max_length=36)
    agency_id: str = Field(min_length=1, max_length=36)
    source_kind: Literal["edge", "lpr_camera", "integration"]
    default_state: str | None = Field(None, max_length=5)
    client: str | None = Field(None, max_length=64)  # the sender (address), for the audit record (64 as there)
    read: ReadIn
    content_hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    crop_key: str | None = Field(None, max_length=200)
    snapshot_key: str | None = Field(None, max_length=200)
    accepted_at: AwareDatetime

    @property
    def message_id(self) -> str:
        return queue_message_id(self.source_id, self.read.read_id, self.content_hash)
