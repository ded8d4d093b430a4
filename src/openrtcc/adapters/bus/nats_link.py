"""One process's connection to NATS, for code that runs in threads.

nats-py is asyncio; the hub's use cases run in worker threads. `NatsLink` owns one event loop in a daemon
thread and one client connection on it, and lets any thread run a coroutine there and wait for its answer
(`call`). The connection reconnects by itself for as long as the process lives; while it is down, calls fail
after their timeout with `NatsUnavailable`, which callers turn into a refusal (nothing acknowledged) or a
retry.

Typical use:
    link = NatsLink(settings.nats_url, name="serve@host:123")
    link.start(timeout_s=5)                       # raises NatsUnavailable when no server answers in time
    ack = link.call(lambda: link.js.publish("rtcc.reads.x", data, headers={"Nats-Msg-Id": key}))
    link.ensure_stream(StreamConfig(name="RTCC_READS", subjects=["rtcc.reads.>"], ...))
    link.close()
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TypeVar

import nats
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import StreamConfig
from nats.js.errors import BadRequestError, NotFoundError

from openrtcc.domain.errors import Unavailable

log = logging.getLogger(__name__)
T = TypeVar("T")
DEFAULT_TIMEOUT_S = 10.0


class NatsUnavailable(Unavailable):
    """NATS did not answer in time (down, partitioned, or JetStream has no quorum)."""

    def __init__(self, message: str = "the message bus (NATS) is unavailable"):
        super().__init__(message, code="bus_unavailable")


class NatsLink:
    def __init__(self, url: str, *, name: str = "rtcc", reconnect_wait_s: float = 0.5):
        self.url = url
        self.name = name
        self.reconnect_wait_s = reconnect_wait_s
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run_loop, name=f"nats:{name}", daemon=True)
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        self._closed = False
        self._on_reconnect: list[Callable[[], Awaitable[None]]] = []

    # ------------------------------------------------------------------ lifecycle

    def start(self, timeout_s: float = 5.0) -> NatsLink:
        """Connect, trying again until `timeout_s` has passed; then NatsUnavailable."""
        if not self._thread.is_alive():
            self._thread.start()
        deadline = time.monotonic() + timeout_s
        last: Exception | None = None
        while time.monotonic() < deadline:
            try:
                self._submit(self._connect(), max(0.5, deadline - time.monotonic()))
                return self
            except Exception as exc:  # refused, timed out: the server may still be starting
                last = exc
                time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))
        raise NatsUnavailable(f"no NATS server answered at the configured address within {timeout_s:g} s"
                              + (f" ({type(last).__name__})" if last else ""))

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._nc is not None and self._thread.is_alive():
            try:
                self._submit(self._nc.drain(), 5.0)
            except Exception:  # already gone: nothing left to flush
                pass
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)

    @property
    def connected(self) -> bool:
        return self._nc is not None and self._nc.is_connected

    @property
    def nc(self) -> Client:
        if self._nc is None:
            raise NatsUnavailable()
        return self._nc

    @property
    def js(self) -> JetStreamContext:
        if self._js is None:
            raise NatsUnavailable()
        return self._js

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return self._loop

    def on_reconnect(self, callback: Callable[[], Awaitable[None]]) -> None:
        """A coroutine function run on the link's loop after each reconnect (re-create a consumer, say)."""
        self._on_reconnect.append(callback)

    # ------------------------------------------------------------------ calls from threads

    def call(self, make: Callable[[], Awaitable[T]], timeout_s: float = DEFAULT_TIMEOUT_S) -> T:
        """Run `make()` on the link's loop and wait for its result; NatsUnavailable when it takes too long or
        the connection is down. Never call from the link's own loop (it would wait on itself)."""
        async def run() -> T:
            return await make()

        try:
            return self._submit(run(), timeout_s)
        except (FutureTimeout, TimeoutError, nats.errors.TimeoutError, nats.errors.ConnectionClosedError,
                nats.errors.NoServersError, nats.errors.StaleConnectionError, nats.js.errors.ServiceUnavailableError) as exc:
            raise NatsUnavailable(f"the message bus (NATS) did not answer in time ({type(exc).__name__})") from exc
        except nats.errors.NoRespondersError as exc:
            raise NatsUnavailable("the message bus (NATS) has no JetStream answering (starting, or no quorum)") \
                from exc

    def spawn(self, coro: Awaitable[object]) -> None:
        """Start a long-running coroutine on the link's loop (a consumer loop); it must handle its own errors."""
        asyncio.run_coroutine_threadsafe(coro, self._loop)  # type: ignore[arg-type]

    def ensure_stream(self, config: StreamConfig, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        """Create the stream, or bring an existing one's settings up to `config` (idempotent; every process
        calls it at start, so whichever starts first creates it)."""
        async def ensure() -> None:
            try:
                await self.js.stream_info(config.name)
            except NotFoundError:
                try:
                    await self.js.add_stream(config)
                    return
                except BadRequestError:  # another process created it between the two calls
                    pass
            await self.js.update_stream(config)

        self.call(ensure, timeout_s)

    # ------------------------------------------------------------------ internals

    def _submit(self, coro: Awaitable[T], timeout_s: float) -> T:
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)  # type: ignore[arg-type]
        try:
            return future.result(timeout_s)
        except FutureTimeout:
            future.cancel()
            raise

    def _run_loop(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()

    async def _connect(self) -> None:
        if self._nc is not None and not self._nc.is_closed:
            return
        servers = [s.strip() for s in self.url.split(",") if s.strip()]
        self._nc = await nats.connect(
            servers=servers, name=self.name, connect_timeout=2, allow_reconnect=True,
            max_reconnect_attempts=-1, reconnect_time_wait=self.reconnect_wait_s,
            error_cb=self._error, disconnected_cb=self._disconnected, reconnected_cb=self._reconnected)
        self._js = self._nc.jetstream()

    async def _error(self, exc: Exception) -> None:
        log.warning("nats: %s", type(exc).__name__)

    async def _disconnected(self) -> None:
        if not self._closed:
            log.warning("nats: disconnected; reconnecting")

    async def _reconnected(self) -> None:
        log.info("nats: reconnected")
        for callback in list(self._on_reconnect):
            try:
                await callback()
            except Exception:  # one listener's failure must not stop the others
                log.exception("nats: reconnect callback failed")
