"""Live HLS segments shared by every hub process: a JetStream key-value bucket held in the NATS server's memory.

A box's upload may land on one serve process and the viewer's playlist poll on another, so city mode keeps the
relay state of each live session in the bucket `<NS>_LIVE` (memory storage: live video is never written to
disk; entries expire after LIVE_TTL_S; a byte budget over all sessions, an upload past it refused):

    <sid>.session   who may upload and watch (LiveMeta), whether the box confirmed, who watched (JSON)
    <sid>.head      the segments held (seq, duration), whether an init segment is, the last upload (JSON)
    <sid>.viewed    when a viewer last fetched (written at most every VIEWED_EVERY per process)
    <sid>.init      the init segment;  <sid>.s<seq>  a media segment (big ones in parts <key>.p<i>)

The head is updated with compare-and-set, so uploads of one session landing on two processes keep every
segment. Every process listens to head updates (a plain NATS subscription on the bucket's subjects) to wake
blocking playlist reloads the moment a segment lands anywhere.
"""

from __future__ import annotations

import asyncio
import json
import logging
import struct
import threading
from collections import OrderedDict
from datetime import datetime, timedelta

from nats.js.api import KeyValueConfig, StorageType
from nats.js.errors import (
    APIError,
    BadRequestError,
    KeyNotFoundError,
    KeyWrongLastSequenceError,
    NoStreamResponseError,
)

from openrtcc.adapters.bus.nats_link import NatsLink, NatsUnavailable
from openrtcc.domain.live_video import (
    KEEP_SEGMENTS,
    MAX_TOTAL_BYTES,
    SESSION_ID,
    LiveBufferFull,
    LiveMeta,
    LiveView,
    Segment,
    SegmentInfo,
    newest_kept,
)

log = logging.getLogger(__name__)

LIVE_TTL_S = 600.0  # a session whose box and viewer both vanished leaves nothing behind for long
VIEWED_EVERY = timedelta(seconds=5)  # far below the viewer-idle limit (a minute)
SESSION_REFRESH = timedelta(minutes=2)  # an open session's record is written again well inside LIVE_TTL_S
CHUNK_BYTES = 1024 * 1024  # below any NATS server's max_payload (1 MiB by default, less our header)
CALL_TIMEOUT_S = 5.0
CAS_TRIES = 8
NEWEST_HEARD = 10_000  # sessions whose newest segment this process remembers hearing of
_DROPPED = object()


def live_bucket(namespace: str) -> str:
    return f"{namespace.upper()}_LIVE"


def _iso(at: datetime) -> str:
    return at.isoformat()


class JetStreamLiveSegments:
    """The city-mode LiveSegmentStore (domain/ports.py)."""

    def __init__(self, link: NatsLink, *, namespace: str, replicas: int = 1, keep: int = KEEP_SEGMENTS,
                 max_total_bytes: int = MAX_TOTAL_BYTES, chunk_bytes: int = CHUNK_BYTES):
        self.link, self.keep, self.max_total_bytes = link, keep, max_total_bytes
        self.bucket = live_bucket(namespace)
        self.stream = f"KV_{self.bucket}"
        self._replicas = replicas
        self._chunk = chunk_bytes
        self._lock = threading.Lock()
        self._newest: OrderedDict[str, object] = OrderedDict()
        self._viewed_written: dict[str, datetime] = {}
        self._kv = None
        link.call(self._setup, CALL_TIMEOUT_S)
        link.on_reconnect(self._open_bucket)

    # ------------------------------------------------------------------ the port

    def open(self, meta: LiveMeta, now: datetime) -> LiveView:
        session = {"meta": _meta_json(meta), "confirmed": False, "viewers": [meta.user_id], "opened": _iso(now)}
        head = {"init": False, "segs": [], "up": _iso(now), "kept": _iso(now)}

        async def run() -> LiveView | None:
            if await self._create(f"{meta.session_id}.session", session):
                await self._create(f"{meta.session_id}.head", head)
                await self._kv.put(f"{meta.session_id}.viewed", _iso(now).encode())
            return await self._view(meta.session_id)

        return self._call(run) or _view_of(session, head, None)

    def get(self, session_id: str) -> LiveView | None:
        if not SESSION_ID.fullmatch(session_id):
            return None
        return self._call(lambda: self._view(session_id))

    def put_init(self, session_id: str, data: bytes, now: datetime) -> None:
        async def run() -> None:
            await self._put_blob(f"{session_id}.init", data)
            await self._update_head(session_id, lambda head: {**head, "init": True, "up": _iso(now)})

        self._call(run)

    def put_segment(self, session_id: str, seg: Segment, now: datetime) -> None:
        """A re-sent segment replaces its copy; beyond `keep`, the oldest goes; a far too late one is ignored."""
        self._call(lambda: self._put_segment(session_id, seg, now))

    def init_data(self, session_id: str) -> bytes | None:
        if not SESSION_ID.fullmatch(session_id):
            return None
        return self._call(lambda: self._get_blob(f"{session_id}.init"))

    def segment_data(self, session_id: str, seq: int) -> bytes | None:
        if not SESSION_ID.fullmatch(session_id) or seq < 0:
            return None
        return self._call(lambda: self._get_blob(f"{session_id}.s{seq}"))

    def viewed(self, session_id: str, now: datetime) -> None:
        with self._lock:
            last = self._viewed_written.get(session_id)
            if last is not None and now - last < VIEWED_EVERY or not SESSION_ID.fullmatch(session_id):
                return
            self._viewed_written[session_id] = now
        self._call(lambda: self._kv.put(f"{session_id}.viewed", _iso(now).encode()))

    def confirm(self, session_id: str) -> None:
        self._call(lambda: self._update_session(session_id, lambda s: {**s, "confirmed": True}))

    def add_viewer(self, session_id: str, user_id: str) -> None:
        self._call(lambda: self._update_session(
            session_id, lambda s: {**s, "viewers": sorted(set(s["viewers"]) | {user_id})}))

    def drop(self, session_id: str) -> None:
        if not SESSION_ID.fullmatch(session_id):
            return
        with self._lock:
            self._viewed_written.pop(session_id, None)

        async def run() -> None:
            await self._kv.purge(f"{session_id}.head")  # heard by every process: blocked reloads return
            await self.link.js.purge_stream(self.stream, subject=f"$KV.{self.bucket}.{session_id}.>")

        self._call(run)
        self._heard_newest(session_id, _DROPPED)

    def changed_since(self, session_id: str, last_seq: int | None) -> bool:
        with self._lock:
            newest = self._newest.get(session_id, last_seq)
        return newest is _DROPPED or newest != last_seq

    # ------------------------------------------------------------------ on the link's loop

    async def _setup(self) -> None:
        await self._open_bucket()
        await self.link.nc.subscribe(f"$KV.{self.bucket}.*.head", cb=self._heard)
        self._chunk = max(1, min(self._chunk, self.link.nc.max_payload - 4096))

    async def _open_bucket(self) -> None:
        config = KeyValueConfig(bucket=self.bucket, ttl=LIVE_TTL_S, history=1, max_bytes=self.max_total_bytes,
                                storage=StorageType.MEMORY, replicas=self._replicas, direct=True)
        try:
            self._kv = await self.link.js.create_key_value(config)
        except BadRequestError:  # made by another process with other settings: use it as it is
            self._kv = await self.link.js.key_value(self.bucket)

    async def _heard(self, msg) -> None:
        session_id = msg.subject.split(".")[2]
        if msg.headers and msg.headers.get("KV-Operation") in ("DEL", "PURGE"):
            self._heard_newest(session_id, _DROPPED)
            return
        try:
            segs = json.loads(msg.data)["segs"]
        except (ValueError, KeyError, TypeError):
            return
        self._heard_newest(session_id, segs[-1][0] if segs else None)

    def _heard_newest(self, session_id: str, newest: object) -> None:
        with self._lock:
            self._newest[session_id] = newest
            self._newest.move_to_end(session_id)
            while len(self._newest) > NEWEST_HEARD:
                self._newest.popitem(last=False)

    async def _view(self, session_id: str) -> LiveView | None:
        session, head, viewed = await asyncio.gather(
            self._get_json(f"{session_id}.session"), self._get_json(f"{session_id}.head"),
            self._get(f"{session_id}.viewed"))
        if session is None:
            return None
        return _view_of(session[0], head[0] if head else None, viewed.value.decode() if viewed else None)

    async def _put_segment(self, session_id: str, seg: Segment, now: datetime) -> None:
        head = await self._get_json(f"{session_id}.head")
        if head is not None and newest_kept([s for s, _ in head[0]["segs"]], seg.seq, self.keep) is None:
            return  # too old to be of use to any player
        await self._put_blob(f"{session_id}.s{seg.seq}", seg.data)
        dropped: set[int] = set()

        def add(h: dict) -> dict | None:
            held = dict((s, d) for s, d in h["segs"])
            kept = newest_kept(list(held), seg.seq, self.keep)
            if kept is None:
                return None
            held[seg.seq] = seg.duration_s
            dropped.clear()
            dropped.update(set(held) - set(kept))
            return {**h, "segs": [[s, held[s]] for s in kept], "up": _iso(now)}

        head = await self._update_head(session_id, add)
        if head is None:
            dropped.add(seg.seq)
        for seq in dropped:
            await self._drop_blob(f"{session_id}.s{seq}")
        kept_at = head and (head.get("kept") or head.get("up"))
        if head is not None and (kept_at is None or now - datetime.fromisoformat(kept_at) > SESSION_REFRESH):
            await self._update_session(session_id, lambda s: s)  # written again: its expiry starts over
            await self._update_head(session_id, lambda h: {**h, "kept": _iso(now)})

    async def _update_head(self, session_id: str, change) -> dict | None:
        """Compare-and-set the head (another process may be adding a segment of the same session)."""
        return await self._update_json(f"{session_id}.head", change,
                                       {"init": False, "segs": [], "up": None, "kept": None})

    async def _update_session(self, session_id: str, change) -> dict | None:
        return await self._update_json(f"{session_id}.session", change, None)

    async def _update_json(self, key: str, change, missing: dict | None) -> dict | None:
        for _ in range(CAS_TRIES):
            current = await self._get_json(key)
            if current is None and missing is None:
                return None  # the session ended meanwhile
            value, rev = current if current is not None else (missing, 0)
            new = change(value)
            if new is None:
                return None
            try:
                await self._publish(lambda: self._kv.update(key, json.dumps(new).encode(), last=rev))
                return new
            except KeyWrongLastSequenceError:
                continue
        raise LiveBufferFull("the live session is being written by too many at once; try again shortly")

    async def _create(self, key: str, value: dict) -> bool:
        try:
            await self._publish(lambda: self._kv.create(key, json.dumps(value).encode()))
            return True
        except KeyWrongLastSequenceError:
            return False

    async def _put_blob(self, key: str, data: bytes) -> None:
        """Big values in parts, the first (which says how many) written last: a reader never sees half."""
        chunks = [data[i:i + self._chunk] for i in range(0, len(data), self._chunk)] or [b""]
        for i, chunk in enumerate(chunks[1:], 1):
            await self._publish(lambda i=i, chunk=chunk: self._kv.put(f"{key}.p{i}", chunk))
        await self._publish(lambda: self._kv.put(key, struct.pack(">H", len(chunks)) + chunks[0]))

    async def _get_blob(self, key: str) -> bytes | None:
        first = await self._get(key)
        if first is None or len(first.value) < 2:
            return None
        parts = struct.unpack(">H", first.value[:2])[0]
        rest = await asyncio.gather(*(self._get(f"{key}.p{i}") for i in range(1, parts)))
        if any(r is None for r in rest):
            return None  # replaced or dropped while read
        return first.value[2:] + b"".join(r.value for r in rest)

    async def _drop_blob(self, key: str) -> None:
        for subject in (key, f"{key}.>"):
            await self.link.js.purge_stream(self.stream, subject=f"$KV.{self.bucket}.{subject}")

    async def _publish(self, make):
        try:
            return await make()
        except APIError as exc:
            if isinstance(exc, KeyWrongLastSequenceError):
                raise
            if "maximum bytes" in (exc.description or "") or "resources" in (exc.description or ""):
                raise LiveBufferFull("the hub holds as much live video as it may; try again shortly") from None
            raise

    async def _get(self, key: str):
        try:
            return await self._kv.get(key)
        except KeyNotFoundError:
            return None

    async def _get_json(self, key: str) -> tuple[dict, int] | None:
        entry = await self._get(key)
        return (json.loads(entry.value), entry.revision) if entry is not None else None

    def _call(self, make):
        try:
            return self.link.call(make, CALL_TIMEOUT_S)
        except NoStreamResponseError:
            pass  # the bucket is gone (a NATS server restarted, memory lost): make it again, try once more
        try:
            self.link.call(self._open_bucket, CALL_TIMEOUT_S)
            return self.link.call(make, CALL_TIMEOUT_S)
        except NoStreamResponseError as exc:
            raise NatsUnavailable("the live video store (NATS JetStream) is not answering") from exc


def _meta_json(meta: LiveMeta) -> dict:
    return {"session_id": meta.session_id, "camera_id": meta.camera_id, "edge_id": meta.edge_id,
            "agency_id": meta.agency_id, "user_id": meta.user_id, "token_hash": meta.token_hash,
            "purpose": meta.purpose, "case_number": meta.case_number}


def _view_of(session: dict, head: dict | None, viewed: str | None) -> LiveView:
    opened = datetime.fromisoformat(session["opened"])
    head = head or {"init": False, "segs": []}
    return LiveView(
        meta=LiveMeta(**session["meta"]), last_viewed_at=datetime.fromisoformat(viewed) if viewed else opened,
        last_upload_at=datetime.fromisoformat(head["up"]) if head.get("up") else opened, has_init=head["init"],
        segments=tuple(SegmentInfo(s, d) for s, d in head["segs"]), confirmed=session["confirmed"],
        viewers=frozenset(session["viewers"]))
