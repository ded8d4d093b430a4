"""Sends the queue's plate reads to the hub (`POST /api/edge/reads`, the ReadBatch message) and removes each
from the box only when the hub has answered `stored` or `duplicate` for it.

Network errors, timeouts, 429 and 5xx: the batch is sent again later, with back-off, or after the
Retry-After the hub named (a busy serving process sheds load that way); nothing is dropped (a batch the hub
stored but whose answer was lost comes back `duplicate`). A refusal that names one read
(409, 422) quarantines that read with the hub's answer, kept on the box and alarmed, so it cannot block the
queue; a refusal that names none is narrowed down by halving the batch. A refused key (401/403) waits.

Sharing is decided twice on the box: when a read is queued (a camera shared with nobody: the read is
queued as local-only and is never sent) and again here, just before sending (sharing turned off since:
the read becomes local-only). A read is thus sent only if sharing was on both when it was captured and
when it leaves. The hub checks a third time against its own camera row.
"""

from __future__ import annotations

import base64
import logging
import random
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx

from openrtcc.domain.reads import MAX_BATCH
from openrtcc.edge.alarms import Alarms
from openrtcc.edge.read_queue import QueuedRead, ReadQueue

log = logging.getLogger(__name__)

PATH = "/api/edge/reads"
MAX_BATCH_BYTES = 8 * 1024 * 1024  # of images, before base64; well under the hub's ingest body limit
QUARANTINE_ALARM = "reads_quarantined"
KEEP_FOR = timedelta(days=30)  # the project's retention promise, for reads that never leave the box
PURGE_EVERY = timedelta(hours=1)
STAMPED_AHEAD = timedelta(minutes=5)  # the hub's own tolerance (domain/reads.py MAX_CLOCK_AHEAD)
_INDEX = re.compile(r"^reads\.(\d+)\b")


@dataclass
class SendResult:
    sent: int = 0
    delivered: int = 0
    kept_local: int = 0
    quarantined: int = 0
    retry_after_s: float = 0.0  # > 0: the hub could not be reached or refused for now; wait this long


class ReadForwarder:
    """`send_once()` sends one batch; `run(stop)` loops until `stop` is set. `client` is a factory of
    httpx clients for the hub (edge/hub_http.hub_client with the box's key); one client is kept and
    rebuilt after a network error."""

    def __init__(self, queue: ReadQueue, edge_id: str, client: Callable[[], httpx.Client],
                 recipients: Callable[[str], tuple[str, ...]], alarms: Alarms | None = None, *,
                 access_log=None, batch_size: int = MAX_BATCH, min_backoff_s: float = 1.0,
                 max_backoff_s: float = 60.0, idle_s: float = 1.0,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC), keep_for: timedelta = KEEP_FOR):
        self._now, self.keep_for = now, keep_for
        self._purged_at: datetime | None = None
        self.queue, self.edge_id, self._make_client, self._recipients = queue, edge_id, client, recipients
        self.alarms = alarms
        self.access_log = access_log  # edge/access_log.EdgeAccessLog: the owner sees what left the box
        self.batch_size = min(batch_size, MAX_BATCH)
        self._limit = self.batch_size
        self.min_backoff_s, self.max_backoff_s, self.idle_s = min_backoff_s, max_backoff_s, idle_s
        self._backoff = 0.0
        self._client: httpx.Client | None = None
        self.wake = threading.Event()  # set by the pipeline after an enqueue: send without waiting

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.purge_if_due()
                result = self.send_once()
            except Exception:  # the loop must outlive any one surprise; the reads stay queued
                log.exception("plate-read forwarder: unexpected error; retrying")
                result = SendResult(retry_after_s=self._next_backoff())
            if result.retry_after_s > 0:
                stop.wait(result.retry_after_s)
            elif result.sent == 0:
                self.wake.wait(self.idle_s)
                self.wake.clear()
        self.close()

    def purge_if_due(self) -> int:
        """At most hourly: reads kept on the box (local-only, quarantined) go after `keep_for`, as video does."""
        now = self._now()
        if self._purged_at is not None and now - self._purged_at < PURGE_EVERY:
            return 0
        self._purged_at = now
        gone = self.queue.purge_kept(now - self.keep_for)
        if gone:
            log.info("plate reads: %d kept on the box past %d days deleted", gone, self.keep_for.days)
        return gone

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def send_once(self) -> SendResult:
        result = SendResult()
        batch = self._local_only_removed(self.queue.peek(self.edge_id, self._limit), result)
        if not batch:
            return result
        batch = _within_bytes(batch)
        result.sent = len(batch)
        try:
            response = self._client_now().post(PATH, json={"version": 1, "reads": [_json(q) for q in batch]})
        except httpx.HTTPError as exc:
            log.warning("plate reads: hub not reachable (%s); %d reads stay queued", type(exc).__name__, len(batch))
            self.close()
            result.retry_after_s = self._next_backoff()
            return result
        self._answered(batch, response, result)
        return result

    def _answered(self, batch: list[QueuedRead], response: httpx.Response, result: SendResult) -> None:
        status = response.status_code
        if status == 200:
            self._backoff = 0.0
            self._limit = min(self.batch_size, self._limit * 2)
            self._acknowledged(batch, response.json(), result)
        elif status in (401, 403):
            log.error("plate reads: the hub refused the box's key (%s); reads stay queued", status)
            result.retry_after_s = self.max_backoff_s
        elif status in (408, 429) or status >= 500:
            asked = retry_after_of(response)
            log.warning("plate reads: hub answered %s; %d reads stay queued", status, len(batch))
            result.retry_after_s = self._next_backoff() if asked is None else self._as_asked(asked)
        else:
            self._refused(batch, response, result)

    def _acknowledged(self, batch: list[QueuedRead], body: dict, result: SendResult) -> None:
        statuses = {r["read_id"]: r["status"] for r in body.get("results", [])}
        done = [q.row_id for q in batch if statuses.get(q.read.read_id) in ("stored", "duplicate")]
        local = [q.row_id for q in batch if statuses.get(q.read.read_id) == "not_shared"]
        self.queue.delivered(done)
        self.queue.keep_local(local)
        result.delivered += len(done)
        result.kept_local += len(local)
        self._log_delivered([q for q in batch if q.row_id in set(done)])

    def _log_delivered(self, delivered: list[QueuedRead]) -> None:
        """One line per camera and agency in the box's own access log: reads left the box for them."""
        if self.access_log is None:
            return
        per_camera: dict[str, int] = {}
        for q in delivered:
            per_camera[q.camera_id] = per_camera.get(q.camera_id, 0) + 1
        for camera_id, count in per_camera.items():
            for agency_id in self._recipients(camera_id):
                self.access_log.record(kind="reads", outcome="allowed", camera_id=camera_id, agency_id=agency_id,
                                       reason=f"{count} plate reads sent to the hub for this agency")

    def _refused(self, batch: list[QueuedRead], response: httpx.Response, result: SendResult) -> None:
        """A 4xx about the batch's content: quarantine the read it names, or narrow the batch down."""
        index = _named_read(response)
        if _error_code(response) == "clock_skew" and not self._stamped_ahead(batch, index):
            # The box's clock runs ahead of the hub's: every read would be refused alike, and each becomes
            # acceptable as the hub's clock catches up. Wait (the link raises the clock_skew alarm).
            log.warning("plate reads: the hub says the box's clock is ahead; %d reads wait", len(batch))
            result.retry_after_s = self.max_backoff_s
            return
        if index is None and len(batch) > 1:
            self._limit = max(1, len(batch) // 2)
            log.warning("plate reads: hub refused a batch of %d (%s) without naming a read; sending %d at a time",
                        len(batch), response.status_code, self._limit)
            return
        culprit = batch[index if index is not None and index < len(batch) else 0]
        error = f"{response.status_code} {response.text[:1500]}"
        self.queue.quarantine(culprit.row_id, error)
        result.quarantined += 1
        log.error("plate reads: the hub refused read %s (%s); kept on the box, quarantined",
                  culprit.read.read_id, response.status_code)
        if self.alarms is not None:
            count = self.queue.counts()["quarantined"]
            self.alarms.raise_(QUARANTINE_ALARM, f"{count} plate reads refused by the hub are kept on the box")

    def _stamped_ahead(self, batch: list[QueuedRead], index: int | None) -> bool:
        """The named read is dated ahead of the box's own clock now: stamped while the clock was wrong (it
        jumped back since), so waiting would not help; it is quarantined like any refused read."""
        if index is None or index >= len(batch):
            return False
        return batch[index].read.captured_at > self._now() + STAMPED_AHEAD

    def _local_only_removed(self, batch: list[QueuedRead], result: SendResult) -> list[QueuedRead]:
        unshared = [q for q in batch if not self._recipients(q.camera_id)]
        if unshared:
            self.queue.keep_local([q.row_id for q in unshared])
            result.kept_local += len(unshared)
        return [q for q in batch if q not in unshared]

    def _client_now(self) -> httpx.Client:
        if self._client is None:
            self._client = self._make_client()
        return self._client

    def _as_asked(self, asked_s: float) -> float:
        """A busy hub names when to come back (Retry-After): not sooner, and spread so that the boxes it refused
        together do not return together; its answer is no failure, so the back-off does not grow."""
        return min(self.max_backoff_s, asked_s) * random.uniform(1.0, 1.5)

    def _next_backoff(self) -> float:
        self._backoff = min(self.max_backoff_s, max(self.min_backoff_s, self._backoff * 2))
        return self._backoff * random.uniform(0.8, 1.2)  # boxes that lost the hub together do not return together


def _json(q: QueuedRead) -> dict:
    doc = q.read.model_dump(mode="json", exclude={"crop", "snapshot"})
    doc["crop"] = base64.b64encode(q.read.crop).decode() if q.read.crop else None
    doc["snapshot"] = base64.b64encode(q.read.snapshot).decode() if q.read.snapshot else None
    return doc


def _within_bytes(batch: list[QueuedRead]) -> list[QueuedRead]:
    total, kept = 0, []
    for q in batch:
        total += len(q.read.crop or b"") + len(q.read.snapshot or b"")
        if kept and total > MAX_BATCH_BYTES:
            break
        kept.append(q)
    return kept


def retry_after_of(response: httpx.Response) -> float | None:
    """Retry-After in seconds (the hub sends whole seconds; an HTTP date or nonsense counts as absent)."""
    try:
        value = float(response.headers.get("retry-after", ""))
    except ValueError:
        return None
    return value if 0 < value < 24 * 3600 else None


def _error_code(response: httpx.Response) -> str | None:
    try:
        return str(response.json().get("error"))
    except (ValueError, AttributeError):
        return None


def _named_read(response: httpx.Response) -> int | None:
    """The index of the read a refusal names: `details.index` (hub rules) or `reads.N.field` (validation)."""
    try:
        details = response.json().get("details") or {}
    except ValueError:
        return None
    if isinstance(details.get("index"), int):
        return details["index"]
    for problem in details.get("problems") or []:
        m = _INDEX.match(str(problem.get("field", "")))
        if m:
            return int(m.group(1))
    return None
