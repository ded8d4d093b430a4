"""Edge links across hub processes over NATS: which process holds each box's link, and sending through it.

A box's WebSocket lands on one serve process (the holder). While the link is up the holder
- subscribes to `<ns>.edge.<edge_id>`: any process's `send` is a NATS request there; the holder queues the
  message on the box's socket and answers "1" (no responder: the box is not connected, as in one process);
- keeps `edge_id -> {token, process}` in the KV bucket `<NS>_EDGE_LINKS` (memory storage, entries expire
  after LINK_TTL_S unless refreshed), which every process mirrors through a watch, so `is_connected` and
  `connected_ids` are answered from memory;
- when it takes a link over, publishes `close` on the box's subject with its connection token: the process
  holding an older link of the box closes it (a box that reconnects to another process replaces its old link,
  as a newer connection does in one process). A `close` with no token (revocation) closes it wherever held.

Announcing and withdrawing run in order on the NATS link's loop, so the transport's loop never waits on NATS.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
import time
from collections.abc import Callable

import nats.errors
from nats.js.api import KeyValueConfig, StorageType
from nats.js.errors import BadRequestError, KeyWrongLastSequenceError

from openrtcc.adapters.bus.nats_link import NatsLink, NatsUnavailable

log = logging.getLogger(__name__)

LINK_TTL_S = 45.0  # a holder that died without a word stops counting as connected after this long
REFRESH_EVERY_S = LINK_TTL_S / 3
DELIVER_TIMEOUT_S = 3.0
REFRESH_BATCH = 100
OP_HEADER, HOLDER_HEADER = "Rtcc-Op", "Rtcc-Holder"
EDGE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")  # ids name subjects and keys: no dots or wildcards


def links_bucket(namespace: str) -> str:
    return f"{namespace.upper()}_EDGE_LINKS"


def edge_subject(namespace: str, edge_id: str) -> str:
    return f"{namespace}.edge.{edge_id}"


class NatsEdgeRelay:
    """The EdgeLinkRelay of a city-mode hub process. `bind` gives it the process's own links (EdgeLinks's
    deliver_here and close_here); `start` creates the bucket and starts the mirror."""

    def __init__(self, link: NatsLink, *, namespace: str, process_name: str, replicas: int = 1):
        self.link, self.namespace, self.process_name = link, namespace, process_name
        self.bucket = links_bucket(namespace)
        self._replicas = replicas
        self._deliver_here: Callable[[str, str], bool] = lambda edge_id, text: False
        self._close_here: Callable[[str, str | None], None] = lambda edge_id, token: None
        self._lock = threading.Lock()
        self._mirror: dict[str, tuple[str, float]] = {}  # edge id -> (holder's token, monotonic time last heard)
        # Touched only on the link's loop:
        self._held: dict[str, tuple[str, object, int | None]] = {}  # edge id -> (token, subscription, kv rev)
        self._ops: asyncio.Queue | None = None
        self._kv = None
        self._watch_task: asyncio.Task | None = None
        self._watcher = None

    def bind(self, deliver_here: Callable[[str, str], bool], close_here: Callable[[str, str | None], None]) -> None:
        self._deliver_here, self._close_here = deliver_here, close_here

    def start(self) -> NatsEdgeRelay:
        self.link.call(self._setup)
        self.link.on_reconnect(self._after_reconnect)
        return self

    # ------------------------------------------------------------------ EdgeLinkRelay

    def announce(self, edge_id: str, token: str) -> None:
        if EDGE_ID.fullmatch(edge_id):
            self._remember(edge_id, token)
            self._queue(("announce", edge_id, token))

    def withdraw(self, edge_id: str, token: str) -> None:
        if EDGE_ID.fullmatch(edge_id):
            with self._lock:
                if self._mirror.get(edge_id, ("",))[0] == token:
                    del self._mirror[edge_id]
            self._queue(("withdraw", edge_id, token))

    def deliver(self, edge_id: str, message_json: str) -> bool:
        if not EDGE_ID.fullmatch(edge_id):
            return False
        subject = edge_subject(self.namespace, edge_id)

        async def ask() -> bool:
            try:
                reply = await self.link.nc.request(subject, message_json.encode(), timeout=DELIVER_TIMEOUT_S)
            except nats.errors.NoRespondersError:
                return False
            return reply.data == b"1"

        try:
            return self.link.call(ask, DELIVER_TIMEOUT_S + 1)
        except NatsUnavailable:  # the holder or NATS did not answer: as good as not connected, for the caller
            log.warning("edge %s: no answer from the process holding its link", edge_id)
            return False

    def close_everywhere(self, edge_id: str) -> None:
        if not EDGE_ID.fullmatch(edge_id):
            return
        subject = edge_subject(self.namespace, edge_id)
        try:
            self.link.call(lambda: self._publish_close(subject, ""), DELIVER_TIMEOUT_S)
        except NatsUnavailable:
            log.warning("edge %s: could not tell the other hub processes to close its link", edge_id)

    def is_connected(self, edge_id: str) -> bool:
        with self._lock:
            entry = self._mirror.get(edge_id)
        return entry is not None and time.monotonic() - entry[1] < LINK_TTL_S

    def connected_ids(self) -> list[str]:
        now = time.monotonic()
        with self._lock:
            return [e for e, (_, seen) in self._mirror.items() if now - seen < LINK_TTL_S]

    # ------------------------------------------------------------------ on the link's loop

    async def _setup(self) -> None:
        await self._open_bucket()
        self._ops = asyncio.Queue()
        asyncio.get_running_loop().create_task(self._run_ops())
        asyncio.get_running_loop().create_task(self._refresh_forever())
        self._watch_task = asyncio.get_running_loop().create_task(self._watch())

    async def _open_bucket(self) -> None:
        config = KeyValueConfig(bucket=self.bucket, ttl=LINK_TTL_S, history=1, storage=StorageType.MEMORY,
                                replicas=self._replicas, direct=True)
        try:
            self._kv = await self.link.js.create_key_value(config)
        except BadRequestError:  # made by another process with other settings: use it as it is
            self._kv = await self.link.js.key_value(self.bucket)

    def _queue(self, op: tuple) -> None:
        self.link.loop.call_soon_threadsafe(self._ops.put_nowait, op)

    async def _run_ops(self) -> None:
        while True:
            kind, edge_id, token = await self._ops.get()
            try:
                await (self._take(edge_id, token) if kind == "announce" else self._let_go(edge_id, token))
            except Exception as exc:  # NATS away: the refresh and the reconnect re-announce what is held
                log.warning("edge %s: %s of its link not shared (%s)", edge_id, kind, type(exc).__name__)

    async def _take(self, edge_id: str, token: str) -> None:
        subject = edge_subject(self.namespace, edge_id)
        old = self._held.pop(edge_id, None)
        if old is not None:
            await old[1].unsubscribe()
        sub = await self.link.nc.subscribe(subject, cb=self._on_message(edge_id, token))
        self._held[edge_id] = (token, sub, None)
        rev = await self._kv.put(edge_id, self._value(token))
        self._held[edge_id] = (token, sub, rev)
        await self._publish_close(subject, token, flush=False)  # an older link held elsewhere lets go

    async def _let_go(self, edge_id: str, token: str) -> None:
        held = self._held.get(edge_id)
        if held is None or held[0] != token:
            return  # a newer link of the box is held here now
        del self._held[edge_id]
        await held[1].unsubscribe()
        try:
            await self._kv.delete(edge_id, last=held[2])  # unless another process holds it by now
        except Exception:
            pass

    async def _publish_close(self, subject: str, token: str, flush: bool = True) -> None:
        await self.link.nc.publish(subject, b"", headers={OP_HEADER: "close", HOLDER_HEADER: token})
        if flush:  # a revocation returns once the server has it
            await self.link.nc.flush(timeout=DELIVER_TIMEOUT_S)

    def _on_message(self, edge_id: str, token: str):
        async def received(msg) -> None:
            headers = msg.headers or {}
            if headers.get(OP_HEADER) == "close":
                holder = headers.get(HOLDER_HEADER) or None
                if holder != token:
                    if holder:
                        self._remember(edge_id, holder)  # before our link's close asks whether it was replaced
                    self._close_here(edge_id, holder)
                return
            ok = self._deliver_here(edge_id, msg.data.decode())
            if msg.reply:
                await msg.respond(b"1" if ok else b"0")

        return received

    async def _refresh_forever(self) -> None:
        while True:
            await asyncio.sleep(REFRESH_EVERY_S)
            await self._refresh()

    async def _refresh(self) -> None:
        """Keep this process's entries alive (in batches: a process may hold thousands of links)."""
        held = list(self._held.items())
        for i in range(0, len(held), REFRESH_BATCH):
            await asyncio.gather(*(self._refresh_one(edge_id, *h) for edge_id, h in held[i:i + REFRESH_BATCH]))

    async def _refresh_one(self, edge_id: str, token: str, sub, rev: int | None) -> None:
        try:
            new_rev = await self._kv.update(edge_id, self._value(token), last=rev) if rev else \
                await self._kv.put(edge_id, self._value(token))
        except KeyWrongLastSequenceError:
            entry = await self._current(edge_id)
            if entry is not None and json.loads(entry.value).get("token") != token:
                return  # taken over elsewhere: its close reaches our link
            new_rev = await self._kv.put(edge_id, self._value(token))  # expired meanwhile: claim it again
        except Exception as exc:  # NATS away: the reconnect re-announces everything held here
            log.warning("edge links: refresh of %s failed (%s)", edge_id, type(exc).__name__)
            return
        if self._held.get(edge_id, ("",))[0] == token:
            self._held[edge_id] = (token, sub, new_rev)

    async def _current(self, edge_id: str):
        try:
            return await self._kv.get(edge_id)
        except Exception:
            return None

    async def _watch(self) -> None:
        while True:
            try:
                watcher = self._watcher = await self._kv.watchall()
                while True:
                    try:
                        entry = await watcher.updates(timeout=REFRESH_EVERY_S)
                    except (TimeoutError, asyncio.TimeoutError, nats.errors.TimeoutError):
                        continue
                    if entry is not None:
                        self._mirror_entry(entry)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the watch broke (NATS away): start again
                log.warning("edge links: watch restarted (%s)", type(exc).__name__)
                await asyncio.sleep(1.0)

    def _mirror_entry(self, entry) -> None:
        if entry.operation in ("DEL", "PURGE"):
            with self._lock:
                self._mirror.pop(entry.key, None)
            return
        try:
            token = json.loads(entry.value)["token"]
        except (ValueError, KeyError, TypeError):
            return
        age = max(0.0, time.time() - entry.created.timestamp()) if entry.created else 0.0
        with self._lock:
            self._mirror[entry.key] = (token, time.monotonic() - min(age, LINK_TTL_S))

    async def _after_reconnect(self) -> None:
        """NATS came back (perhaps a new server, memory empty): share every link held here again."""
        if self._watch_task is not None:
            self._watch_task.cancel()
        if self._watcher is not None:
            try:
                await self._watcher.stop()  # its consumer, before the new watch makes another
            except Exception:
                pass
        try:
            await self._open_bucket()  # kept in memory: a restarted server has none
        except Exception as exc:
            log.warning("edge links: bucket not reopened (%s)", type(exc).__name__)
        self._watch_task = asyncio.get_running_loop().create_task(self._watch())
        for edge_id, (token, sub, _) in list(self._held.items()):
            try:
                self._held[edge_id] = (token, sub, await self._kv.put(edge_id, self._value(token)))
            except Exception as exc:
                log.warning("edge links: re-announce failed (%s)", type(exc).__name__)
                return

    # ------------------------------------------------------------------ helpers

    def _remember(self, edge_id: str, token: str) -> None:
        with self._lock:
            self._mirror[edge_id] = (token, time.monotonic())

    def _value(self, token: str) -> bytes:
        return json.dumps({"token": token, "process": self.process_name}).encode()
