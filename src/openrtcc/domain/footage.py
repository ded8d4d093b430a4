"""Footage requests: an investigator asks the owners near an incident; each owner answers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from openrtcc.domain.errors import Conflict, InvalidInput

MAX_REQUEST_WINDOW = timedelta(days=7)
MAX_REQUEST_RADIUS_M = 2_000.0
MAX_EVIDENCE_BYTES = 512 * 1024 * 1024


class OwnerAnswer(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"
    UPLOADED = "uploaded"


# An owner may approve then upload, or decline; an upload also counts as consent.
_ALLOWED = {
    OwnerAnswer.PENDING: {OwnerAnswer.APPROVED, OwnerAnswer.DECLINED, OwnerAnswer.UPLOADED},
    OwnerAnswer.APPROVED: {OwnerAnswer.UPLOADED, OwnerAnswer.DECLINED},
    OwnerAnswer.UPLOADED: {OwnerAnswer.UPLOADED},
    OwnerAnswer.DECLINED: set(),
}


def next_answer(current: OwnerAnswer, wanted: OwnerAnswer) -> OwnerAnswer:
    if wanted not in _ALLOWED[current]:
        raise Conflict(f"cannot change an answer from {current} to {wanted}", code="answer_final")
    return wanted


def check_window(start: datetime, end: datetime, now: datetime) -> None:
    if end <= start:
        raise InvalidInput("the time window must end after it starts", code="bad_window")
    if end - start > MAX_REQUEST_WINDOW:
        raise InvalidInput("the time window may span at most 7 days", code="bad_window")
    if start > now:
        raise InvalidInput("footage cannot be requested for the future", code="bad_window")


# (media type, file extension, magic test). Checked on content, never on the client's word.
def sniff_media_type(head: bytes) -> tuple[str, str] | None:
    if len(head) >= 12 and head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand.startswith(b"qt"):
            return "video/quicktime", "mov"
        return "video/mp4", "mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return ("video/webm", "webm") if b"webm" in head[:64] else ("video/x-matroska", "mkv")
    if head.startswith(b"RIFF") and head[8:12] == b"AVI ":
        return "video/x-msvideo", "avi"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg", "jpg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png", "png"
    return None


@dataclass(frozen=True, slots=True)
class EvidenceItem:
    id: str
    request_id: str
    case_number: str
    camera_id: str
    media_type: str
    size_bytes: int
    sha256: str
    original_name: str
    uploaded_at: datetime
