"""The box's control link to the hub: a WebSocket it opens outbound (owners' routers have no open ports).

Hello first; then the hub's policy and emergencies go to the PolicyGate, requests (live, clips, holds) to the
handlers other parts register with `on`, and what the box has to say (`send`, the access log) goes up. The
link runs in its own thread with its own event loop and reconnects with back-off and jitter."""

from __future__ import annotations

import asyncio
import logging
import random
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from pydantic import ValidationError
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus, WebSocketException

from openrtcc import __version__
from openrtcc.domain.clock import Clock
from openrtcc.domain.edge_protocol import (
    CLOCK_SKEW_ALARM_S,
    AccessLog,
    AccessLogStored,
    EdgeCamera,
    Emergencies,
    Hello,
    PolicyUpdate,
    Welcome,
    parse_hub_message,
)
from openrtcc.edge.access_log import EdgeAccessLog
from openrtcc.edge.alarms import Alarms
from openrtcc.edge.config import EdgeConfig
from openrtcc.edge.credentials import Credentials
from openrtcc.edge.hub_http import link_url, tls_context
from openrtcc.edge.policy_gate import PolicyGate

log = logging.getLogger(__name__)
WELCOME_TIMEOUT_S = 15.0
ACCESS_LOG_EVERY_S = 1.0
MAX_MESSAGE_BYTES = 4 * 1024 * 1024


def cameras_from_config(config: EdgeConfig) -> list[EdgeCamera]:
    """What Hello says about the cameras: ids, names and roles, never their URLs."""
    return [EdgeCamera(camera_id=c.id, name=c.name, recording=c.record, plate_reading=c.plate_reading)
            for c in config.cameras]


class HubLink:
    def __init__(self, config: EdgeConfig, credentials: Credentials, gate: PolicyGate, *, clock: Clock,
                 alarms: Alarms, access_log: EdgeAccessLog | None = None,
                 cameras: Callable[[], list[EdgeCamera]] | None = None, software_version: str = __version__,
                 min_backoff_s: float = 1.0, max_backoff_s: float = 60.0):
        self._config, self._creds, self._gate = config, credentials, gate
        self._clock, self._alarms, self._access_log = clock, alarms, access_log
        self._cameras = cameras or (lambda: cameras_from_config(config))
        self._version = software_version
        self._backoff = (min_backoff_s, max_backoff_s)
        self._handlers: dict[type, list[Callable]] = {}
        self._connect_listeners: list[Callable[[], None]] = []
        self._malformed_listeners: list[Callable[[str | bytes, str], None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._outbox: asyncio.Queue | None = None
        self._stopping: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._ordered = ThreadPoolExecutor(1, thread_name_prefix="hub-link-policy")  # policy in the order sent
        self._requests = ThreadPoolExecutor(4, thread_name_prefix="hub-link-request")
        self.connected = threading.Event()
        self.clock_skew_s: float | None = None
        self.unknown_cameras: list[str] = []  # configured cameras the hub would not link (last welcome)
        self.last_close_reason: str | None = None

    # ------------------------------------------------------------ for the other parts of the agent

    def on(self, message_type: type, handler: Callable[[object], None]) -> None:
        """Run `handler(message)` in a worker thread for each message of this type from the hub."""
        self._handlers.setdefault(message_type, []).append(handler)

    def on_connect(self, listener: Callable[[], None]) -> None:
        self._connect_listeners.append(listener)

    def on_malformed(self, listener: Callable[[str | bytes, str], None]) -> None:
        """`listener(raw, problem)` in a worker thread for each hub message that fails validation (so that a
        request the hub did not vouch for in full is still refused, logged and answered)."""
        self._malformed_listeners.append(listener)

    def send(self, message) -> bool:
        """Queue a message for the hub, from any thread; False when the link is down (it is not kept)."""
        loop, outbox = self._loop, self._outbox
        if loop is None or outbox is None or not self.connected.is_set():
            return False
        loop.call_soon_threadsafe(outbox.put_nowait, message)
        return True

    def start(self) -> None:
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), name="hub-link", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        if self._loop is not None and self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        if self._thread is not None:
            self._thread.join(timeout_s)
        self._ordered.shutdown(wait=False, cancel_futures=True)
        self._requests.shutdown(wait=False, cancel_futures=True)

    # ------------------------------------------------------------ the connection loop

    async def _main(self) -> None:
        self._loop, self._stopping = asyncio.get_running_loop(), asyncio.Event()
        delay = self._backoff[0]
        while not self._stopping.is_set():
            good = await self._connect_once()
            delay = self._backoff[0] if good else min(delay * 2, self._backoff[1])
            wait = delay * random.uniform(0.5, 1.0)  # jitter: a hub restart is not met by every box at once
            try:
                await asyncio.wait_for(self._stopping.wait(), wait)
            except TimeoutError:
                pass

    async def _connect_once(self) -> bool:
        """One connection, until it ends; True when it got as far as the hub's welcome."""
        url = link_url(self._config)
        try:
            async with connect(url, additional_headers={"Authorization": f"Bearer {self._creds.key}"},
                               ssl=tls_context(self._config), open_timeout=10, max_size=MAX_MESSAGE_BYTES,
                               ping_interval=20, ping_timeout=20, proxy=None) as ws:
                return await self._session(ws)
        except InvalidStatus as exc:
            status = exc.response.status_code
            reason = ("the hub refused this box's key (revoked?): enrol the box again" if status in (401, 403)
                      else f"the hub answered the link with HTTP {status}")
            self._down(reason)
        except (OSError, TimeoutError, WebSocketException) as exc:
            self._down(f"cannot reach the hub: {type(exc).__name__}: {exc}"[:300])
        except Exception as exc:  # anything else (a welcome that does not parse): retried; the thread lives on
            log.exception("hub link failed")
            self._down(f"hub link failed: {type(exc).__name__}"[:300])
        return False

    def _down(self, reason: str) -> None:
        if self.connected.is_set():
            log.warning("hub link down: %s", reason)
        self.connected.clear()
        self.last_close_reason = reason
        self._alarms.raise_("hub_unreachable", reason)

    async def _session(self, ws: ClientConnection) -> bool:
        await ws.send(Hello(sent_at=self._clock.now(), software_version=self._version,
                            cameras=self._cameras()).model_dump_json())
        welcome = parse_hub_message(await asyncio.wait_for(ws.recv(), WELCOME_TIMEOUT_S))
        if not isinstance(welcome, Welcome):
            raise WebSocketException(f"the hub answered hello with {welcome.type}")
        self._welcomed(welcome)
        self._outbox = asyncio.Queue()
        self.connected.set()
        for listener in list(self._connect_listeners):
            self._requests.submit(listener)
        tasks = [asyncio.create_task(self._read(ws)), asyncio.create_task(self._write(ws)),
                 asyncio.create_task(self._forward_access_log(ws)), asyncio.create_task(self._stopping.wait())]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self.connected.clear()
            for task in tasks:
                task.cancel()
        for task in done:
            if not task.cancelled() and task.exception() is not None:
                self._down(f"link lost: {type(task.exception()).__name__}: {task.exception()}"[:300])
        if ws.close_reason:
            self.last_close_reason = ws.close_reason
        return True

    def _welcomed(self, welcome: Welcome) -> None:
        self.clock_skew_s = (self._clock.now() - welcome.sent_at).total_seconds()
        self._alarms.clear("hub_unreachable")
        if abs(self.clock_skew_s) > CLOCK_SKEW_ALARM_S:
            self._alarms.raise_("clock_skew", f"this box's clock is {self.clock_skew_s:+.1f} s off the hub's: "
                                              "set up NTP, or schedules and emergencies open at the wrong time")
        else:
            self._alarms.clear("clock_skew")
        self.unknown_cameras = list(welcome.unknown_cameras)
        if welcome.unknown_cameras:
            log.warning("the hub does not know these cameras as the owner's integrated ones: %s",
                        ", ".join(welcome.unknown_cameras))

    async def _read(self, ws: ClientConnection) -> None:
        async for raw in ws:
            try:
                message = parse_hub_message(raw)
            except ValidationError as exc:
                log.warning("ignored a malformed message from the hub: %s", exc.errors(include_input=False)[:1])
                first = exc.errors(include_url=False, include_input=False)[0]
                problem = f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
                for listener in self._malformed_listeners:
                    self._requests.submit(self._guarded, lambda text, fn=listener: fn(text, problem), raw)
                continue
            self._dispatch(message)

    def _dispatch(self, message) -> None:
        if isinstance(message, PolicyUpdate):
            self._ordered.submit(self._guarded, self._gate.apply_policy, message)
        elif isinstance(message, Emergencies):
            self._ordered.submit(self._guarded, self._gate.apply_emergencies, message)
        elif isinstance(message, AccessLogStored):
            self._ordered.submit(self._guarded, self._stored, message)
            return
        handlers = self._handlers.get(type(message), [])
        if not handlers and not isinstance(message, PolicyUpdate | Emergencies):
            log.warning("no handler for %s from the hub", type(message).__name__)
        for handler in handlers:
            self._requests.submit(self._guarded, handler, message)

    @staticmethod
    def _guarded(fn, message) -> None:
        try:
            fn(message)
        except Exception:  # a failing handler must not take the link down with it
            log.exception("handling %s from the hub failed", type(message).__name__)

    async def _write(self, ws: ClientConnection) -> None:
        while True:
            message = await self._outbox.get()
            await ws.send(message.model_dump_json())

    async def _forward_access_log(self, ws: ClientConnection) -> None:
        """Entries go up until the hub says it stored them (AccessLogStored); the hub stores each entry id
        once, so sending again after a cut or a lost answer is harmless, and losing one is not possible."""
        if self._access_log is None:
            return await asyncio.Event().wait()
        while True:
            self._access_log.recorded.clear()
            entries = await asyncio.to_thread(self._access_log.unsent)
            if entries:
                await ws.send(AccessLog(sent_at=self._clock.now(), entries=entries).model_dump_json())
            # Woken by a new entry or by the hub's answer (which marks entries sent); otherwise send again.
            await asyncio.to_thread(self._access_log.recorded.wait, ACCESS_LOG_EVERY_S)

    def _stored(self, message: AccessLogStored) -> None:
        if self._access_log is not None:
            self._access_log.mark_sent(list(message.entry_ids))
            self._access_log.recorded.set()
