"""The box's uploads to the hub: live HLS segments and exported clips, each an HTTPS POST the box opens.

The contract (the hub side is `web/routers/live.py` and `web/routers/edge_clips.py`):

    POST /api/edge/live/{session_id}/segments/init      the fMP4 init segment (ftyp + moov), sent once, first
    POST /api/edge/live/{session_id}/segments/{seq}     media segment seq = 0, 1, 2 ... (moof + mdat)
        Authorization: Bearer <edge key>                 (set by the hub client, see edge/hub_http.py)
        X-Upload-Token: <LiveStart.upload_token>         the session's token, on every upload of the session
        X-Segment-Duration: <seconds, e.g. 0.533>        media segments only
        Content-Type: video/mp4
        body: the segment's bytes (at most MAX_SEGMENT_BYTES)

    POST /api/edge/clips/{request_id}
        Authorization: Bearer <edge key>
        X-Upload-Token: <ClipRequest.upload_token>
        X-Content-SHA256: <hex sha256 of the body>
        Content-Type: video/mp4
        body: the MP4 clip

Answers: 2xx accepted. 401, 403, 404 and 410 mean the hub will not take this session's or request's bytes
(revoked edge key, wrong token, unknown or ended session): the box stops there and does not retry. Anything
else (5xx, a timeout, a dropped connection) is transient: a live segment is dropped (live video does not wait)
and a clip upload is retried a few times.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import httpx

from openrtcc.edge.hls_segmenter import CONTENT_TYPE, HlsSegment

log = logging.getLogger(__name__)

REFUSING_STATUSES = frozenset({401, 403, 404, 410})
MAX_SEGMENT_BYTES = 8 * 1024 * 1024
# Short: a live session must notice a revocation within 5 s even while an upload hangs.
SEGMENT_TIMEOUT = httpx.Timeout(2.0, connect=2.0)
CLIP_TIMEOUT = httpx.Timeout(60.0, connect=5.0)


class UploadStatus(StrEnum):
    OK = "ok"
    REFUSED = "refused"  # the hub will never take it: stop
    FAILED = "failed"  # transient


@dataclass(frozen=True, slots=True)
class UploadOutcome:
    status: UploadStatus
    detail: str

    @property
    def ok(self) -> bool:
        return self.status is UploadStatus.OK


def _outcome(response: httpx.Response) -> UploadOutcome:
    if response.is_success:
        return UploadOutcome(UploadStatus.OK, str(response.status_code))
    status = UploadStatus.REFUSED if response.status_code in REFUSING_STATUSES else UploadStatus.FAILED
    return UploadOutcome(status, f"the hub answered {response.status_code}")


class HubUploads:
    """Posts segments and clips with a hub client whose base URL is the hub and which carries the edge key."""

    def __init__(self, client: httpx.Client, clip_attempts: int = 3, retry_pause_s: float = 1.0):
        self._client = client
        self._clip_attempts = clip_attempts
        self._retry_pause_s = retry_pause_s

    def live_segment(self, session_id: str, upload_token: str, segment: HlsSegment) -> UploadOutcome:
        headers = {"X-Upload-Token": upload_token, "Content-Type": CONTENT_TYPE}
        if segment.seq is not None:
            headers["X-Segment-Duration"] = f"{segment.duration_s:.3f}"
        try:
            response = self._client.post(f"/api/edge/live/{session_id}/segments/{segment.name}",
                                         content=segment.data, headers=headers, timeout=SEGMENT_TIMEOUT)
        except httpx.HTTPError as exc:
            return UploadOutcome(UploadStatus.FAILED, f"upload failed: {type(exc).__name__}")
        return _outcome(response)

    def clip(self, request_id: str, upload_token: str, path: Path, sha256: str) -> UploadOutcome:
        headers = {"X-Upload-Token": upload_token, "X-Content-SHA256": sha256, "Content-Type": CONTENT_TYPE}
        outcome = UploadOutcome(UploadStatus.FAILED, "not attempted")
        for attempt in range(self._clip_attempts):
            if attempt:
                time.sleep(self._retry_pause_s * attempt)
            try:
                with path.open("rb") as body:
                    response = self._client.post(f"/api/edge/clips/{request_id}", content=body, headers=headers,
                                                 timeout=CLIP_TIMEOUT)
            except httpx.HTTPError as exc:
                outcome = UploadOutcome(UploadStatus.FAILED, f"upload failed: {type(exc).__name__}")
                continue
            outcome = _outcome(response)
            if outcome.status is not UploadStatus.FAILED:
                break
            log.warning("clip %s upload attempt %s: %s", request_id, attempt + 1, outcome.detail)
        return outcome


def file_sha256(path: Path) -> tuple[str, int]:
    """Hex SHA-256 and size of a file, read in chunks."""
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as f:
        while chunk := f.read(1024 * 1024):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size
