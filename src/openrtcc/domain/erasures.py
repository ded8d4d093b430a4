"""The erasure journal's entries: what the hub deleted or revoked, kept outside the database and its backups so
that a restore can delete and revoke it again (restoring a backup never brings deleted data back)."""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

JOURNAL_VERSION = 1


class ErasureKind(StrEnum):
    RETENTION_CUTOFF = "retention_cutoff"  # an agency's data older than `cutoff` went (but the cases held then)
    HUB_LOG_CUTOFF = "hub_log_cutoff"  # hub-wide logs older than `cutoff`, access logs older than `access_cutoff`
    CAMERA_WITHDRAWN = "camera_withdrawn"  # an owner took a camera out of every agency's view
    GRANT_REVOKED = "grant_revoked"  # an agency ended a sharing grant
    HOLD_RELEASED = "hold_released"  # a legal hold released: its case's data may expire again
    EDGE_REVOKED = "edge_revoked"  # an owner revoked an edge box's key
    SOURCE_REVOKED = "source_revoked"  # an agency revoked a read source's key
    INTEGRATION_REVOKED = "integration_revoked"  # an agency revoked an inbound integration's secret


class Erasure(BaseModel):
    """One line of the journal. `target` is the object's id; `owner_id`/`agency_id` scope it as the repositories
    need; `by` is who did it (user id or system actor), never a plate, an address or a key."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    v: int = JOURNAL_VERSION
    kind: ErasureKind
    at: datetime
    target: str | None = Field(None, max_length=200)
    agency_id: str | None = Field(None, max_length=100)
    owner_id: str | None = Field(None, max_length=100)
    by: str | None = Field(None, max_length=200)
    cutoff: datetime | None = None
    access_cutoff: datetime | None = None
    held_cases: tuple[str, ...] = ()

    def line(self) -> bytes:
        return (self.model_dump_json(exclude_defaults=False) + "\n").encode()


def parse_journal(text: str) -> tuple[list[Erasure], int]:
    """(entries, lines that could not be read). Only a last line cut short by a crash is expected to be torn;
    any other bad line is counted so the restore reports it rather than silently skipping an erasure."""
    entries: list[Erasure] = []
    bad = 0
    for raw in text.splitlines():
        if not raw.strip():
            continue
        try:
            entries.append(Erasure.model_validate(json.loads(raw)))
        except ValueError:
            bad += 1
    return entries, bad


def replay_order(entries: list[Erasure]) -> list[Erasure]:
    """In the order they happened: each retention cutoff is replayed with the holds of its own time (a hold placed
    later cannot bring back what an earlier purge deleted), and a hold's release before the purges after it."""
    return sorted(entries, key=lambda e: e.at)
