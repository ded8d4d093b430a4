"""`/ws/command` (also at `/ws/alerts`, its first name): the agency's command events, live, over WebSocket, for
agency staff who may view alerts. One socket, two paths: the /alerts page reads its `alert` messages and
ignores the rest; the /command page reads them all."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading

from fastapi import APIRouter, WebSocket
from starlette.concurrency import run_in_threadpool
from starlette.websockets import WebSocketDisconnect

from openrtcc.domain.accounts import AGENCY_ROLES, Permission, has_permission
from openrtcc.domain.audit import AuditEntry
from openrtcc.domain.errors import DomainError
from openrtcc.services.accounts import authenticate
from openrtcc.web.alert_stream import AlertStream

log = logging.getLogger(__name__)
router = APIRouter()
SESSION_COOKIE = "rtcc_session"
POLICY_VIOLATION = 1008
TRY_AGAIN_LATER = 1013
_stream_lock = threading.Lock()


def alert_stream(app) -> AlertStream:
    """One fan-out per app, subscribed to the hub's bus on first use (tests may install their own first)."""
    with _stream_lock:
        if getattr(app.state, "alert_stream", None) is None:
            app.state.alert_stream = AlertStream(app.state.hub.bus)
        return app.state.alert_stream


LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


def _origin_of(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}".lower()


def allowed_origins(base_url: str) -> set[str]:
    """The deployment's own origin; on loopback, under each loopback name (a demo opened as localhost)."""
    origin = _origin_of(base_url)
    scheme, _, hostport = origin.partition("://")
    host, sep, port = hostport.rpartition(":") if not hostport.endswith("]") else (hostport, "", "")
    if not sep:
        host, port = hostport, ""
    if host not in LOOPBACK_NAMES:
        return {origin}
    return {f"{scheme}://{name}{':' + port if port else ''}" for name in LOOPBACK_NAMES}


def _refusal(ws: WebSocket) -> str | None:
    """Why this handshake is refused before the session is looked at, or None."""
    hub = ws.app.state.hub
    origin = ws.headers.get("origin")
    if origin is not None and origin.lower() not in allowed_origins(hub.base_url):
        return "cross_origin"  # a page of another site riding on the user's cookie
    auth = ws.headers.get("authorization", "")
    if not auth.lower().startswith("bearer ") and origin is None:
        return "origin_required"  # browsers always send Origin; a cookie without one is not from our page
    return None


def _token(ws: WebSocket) -> str | None:
    auth = ws.headers.get("authorization", "")
    return auth[7:].strip() if auth.lower().startswith("bearer ") else ws.cookies.get(SESSION_COOKIE)


def _audit(hub, path: str, outcome: str, actor_id, agency_id, client, **details) -> None:
    with hub.uow() as uow:
        uow.record(AuditEntry("alert.stream", outcome, actor_id, agency_id, f"ws:{path}", client, details))
        uow.commit()


def _admit(hub, ws: WebSocket, client: str | None):
    """The actor behind the handshake, audited either way; None when refused."""
    reason = _refusal(ws)
    actor = None
    if reason is None:
        token = _token(ws)
        try:
            actor = authenticate(hub, token, client).actor if token else None
        except DomainError as exc:
            reason = exc.code
        else:
            if actor is None:
                reason = "not_logged_on"
            elif actor.role not in AGENCY_ROLES or not has_permission(actor.role, Permission.VIEW_ALERTS):
                reason = "permission_denied"
    if reason is not None:
        _audit(hub, ws.url.path, "denied", actor.user_id if actor else None, actor.agency_id if actor else None, client,
               reason=reason)
        return None
    _audit(hub, ws.url.path, "success", actor.user_id, actor.agency_id, client)
    return actor


@router.websocket("/ws/command")
@router.websocket("/ws/alerts")
async def command_socket(ws: WebSocket) -> None:
    hub = ws.app.state.hub
    client = ws.client.host if ws.client else None
    actor = await run_in_threadpool(_admit, hub, ws, client)
    if actor is None:
        await ws.close(code=POLICY_VIOLATION)
        return
    stream = alert_stream(ws.app)
    await ws.accept()
    sub = stream.join(actor.agency_id)
    pump = asyncio.create_task(stream.pump(sub, ws.send_text))
    listen = asyncio.create_task(_drain(ws))
    dropped = asyncio.create_task(sub.dropped.wait())
    expired = asyncio.create_task(_session_ends(hub, _token(ws), client, stream.session_recheck_s))
    try:
        done, _ = await asyncio.wait({pump, listen, dropped, expired}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stream.leave(sub)
        for task in (pump, listen, dropped, expired):
            task.cancel()
            # A send that fails as it is cancelled (the client already gone) is expected, not an error to report.
            task.add_done_callback(_collect)
    if expired in done and not expired.cancelled():
        log.info("alert stream: closed for user %s, session ended (%s)", actor.user_id, expired.result())
        with contextlib.suppress(Exception):
            await asyncio.wait_for(ws.close(code=POLICY_VIOLATION, reason="session ended: log on again"), 2)
        return
    for task in done:
        if not task.cancelled() and task.exception() is not None:  # a send to a vanished client
            log.debug("alert stream ended: %s", type(task.exception()).__name__)
    if dropped in done:
        log.warning("alert stream: dropped a client of agency %s that fell %s alerts behind", actor.agency_id,
                    stream.queue_limit)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(ws.close(code=TRY_AGAIN_LATER, reason="too slow: reconnect"), 2)


def _collect(task: asyncio.Task) -> None:
    if not task.cancelled():
        task.exception()


async def _session_ends(hub, token: str, client: str | None, every_s: float) -> str:
    """Return (with the reason) once the session behind the socket has ended: logged off, idle-locked,
    past its 12 hours, or the account locked. The check does not count as the user's activity."""
    while True:
        await asyncio.sleep(every_s)
        try:
            await run_in_threadpool(authenticate, hub, token, client, activity=False)
        except DomainError as exc:
            return exc.code


async def _drain(ws: WebSocket) -> None:
    """Read (and ignore) what the client sends, so that its going away is noticed."""
    try:
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                return
    except WebSocketDisconnect:
        return
