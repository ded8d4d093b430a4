"""What a live session's relay holds, in terms every store of it shares: who may upload and watch (LiveMeta),
the segments, and the state a playlist and the session's status are made from (LiveView)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from openrtcc.domain.errors import Unavailable

KEEP_SEGMENTS = 10
MAX_TOTAL_BYTES = 512 * 1024 * 1024
# Session ids name keys and subjects in a shared store: anything else (dots, wildcards) is no session of ours.
SESSION_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


class LiveBufferFull(Unavailable):
    """The hub holds as much live video as it allows itself; the upload is refused (503, the box retries)."""


@dataclass(frozen=True, slots=True)
class LiveMeta:
    """Who may upload to a session and who may watch it, as the session row says."""

    session_id: str
    camera_id: str
    edge_id: str
    agency_id: str
    user_id: str
    token_hash: str
    purpose: str = ""
    case_number: str | None = None


@dataclass(frozen=True, slots=True)
class Segment:
    seq: int
    duration_s: float
    data: bytes


@dataclass(frozen=True, slots=True)
class SegmentInfo:
    """A segment as the playlist lists it (its bytes are fetched on their own)."""

    seq: int
    duration_s: float


@dataclass(frozen=True, slots=True)
class LiveView:
    """A session's relay state at one moment, as a shared store reads it back."""

    meta: LiveMeta
    last_viewed_at: datetime
    last_upload_at: datetime
    has_init: bool
    segments: tuple[SegmentInfo, ...]
    confirmed: bool
    viewers: frozenset[str]

    @property
    def last_seq(self) -> int | None:
        return self.segments[-1].seq if self.segments else None


def newest_kept(seqs: list[int], seq: int, keep: int) -> list[int] | None:
    """The segment numbers to keep once `seq` arrives (sorted, the newest `keep`), or None when `seq` is far
    too old to be of use to any player."""
    if seq in seqs:
        return sorted(seqs)
    if seqs and seq < max(seqs) - keep:
        return None
    return sorted([*seqs, seq])[-keep:]
