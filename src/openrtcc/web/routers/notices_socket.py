"""`/ws/notices`: the WebSocket channel, for a subscriber's own screen, authenticated by its token.

`/ws/notices?subscriber=<id>` with the access token shown once when the subscription was made, as
`Authorization: Bearer <token>` (preferred) or `?token=<token>` (browsers cannot set headers on a WebSocket).
The token is compared by its sha256 with the subscriber's stored hash; the subscription must be an active
websocket one. Every handshake is audited, refusals with their reason; the client only learns it was refused.
Messages: `{"type":"notice","delivery_id","subject","text","notice":{...}}` and `{"type":"heartbeat"}`. A
client that falls QUEUE_LIMIT messages behind is dropped (1013) and reconnects; one whose subscription ends
is closed (1008)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging

from fastapi import APIRouter, WebSocket
from starlette.concurrency import run_in_threadpool
from starlette.websockets import WebSocketDisconnect

from openrtcc.domain.audit import AuditEntry
from openrtcc.domain.dissemination import ChannelKind, SubscriberStatus
from openrtcc.web.notice_sockets import NoticeSockets, install

log = logging.getLogger(__name__)
router = APIRouter()
POLICY_VIOLATION = 1008
TRY_AGAIN_LATER = 1013
HEARTBEAT_S = 15.0
RECHECK_S = 60.0
HEARTBEAT = '{"type":"heartbeat"}'


def _token(ws: WebSocket) -> str:
    auth = ws.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return ws.query_params.get("token", "")


def token_hash(token: str) -> str:
    """What subscriber.secret holds for a websocket subscription."""
    return hashlib.sha256(token.encode()).hexdigest()


def _check(hub, subscriber_id: str, token: str):
    """(subscriber or None, refusal reason or None)."""
    if not subscriber_id or len(subscriber_id) > 36:
        return None, "no_subscriber"
    if not token or len(token) > 256:
        return None, "no_token"
    with hub.uow() as uow:
        sub = uow.dissemination.subscriber_by_id(subscriber_id)
    if sub is None or sub.channel is not ChannelKind.WEBSOCKET or not sub.secret:
        return None, "unknown_subscriber"
    if not hmac.compare_digest(token_hash(token), sub.secret):
        return sub, "bad_token"
    if sub.status is not SubscriberStatus.ACTIVE:
        return sub, f"subscription_{sub.status.value}"
    return sub, None


def _admit(hub, subscriber_id: str, token: str, client: str | None):
    """The subscriber behind the handshake, audited either way; None when refused."""
    sub, reason = _check(hub, subscriber_id, token)
    with hub.uow() as uow:
        uow.record(AuditEntry("notice.stream", "denied" if reason else "success", None,
                              sub.agency_id if sub else None, f"subscriber:{subscriber_id[:36]}", client,
                              {"reason": reason} if reason else {}))
        uow.commit()
    return None if reason else sub


def _still_active(hub, subscriber_id: str, token: str) -> bool:
    return _check(hub, subscriber_id, token)[1] is None


@router.websocket("/ws/notices")
async def notices_socket(ws: WebSocket) -> None:
    hub = ws.app.state.hub
    client = ws.client.host if ws.client else None
    subscriber_id, token = ws.query_params.get("subscriber", ""), _token(ws)
    sub = await run_in_threadpool(_admit, hub, subscriber_id, token, client)
    if sub is None:
        await ws.close(code=POLICY_VIOLATION)
        return
    sockets: NoticeSockets = hub.extras.get("notice_sockets") or install(hub)
    await ws.accept()
    sock = sockets.join(sub.id)
    tasks = {asyncio.create_task(_pump(sock, ws)), asyncio.create_task(_drain(ws)),
             asyncio.create_task(sock.dropped.wait())}
    ended = asyncio.create_task(_ends(hub, sub.id, token))
    tasks.add(ended)
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        sockets.leave(sock)
        for task in tasks:
            task.cancel()
    if ended in done or sock.dropped.is_set():
        code, why = ((POLICY_VIOLATION, "subscription ended") if ended in done
                     else (TRY_AGAIN_LATER, "too slow: reconnect"))
        log.info("notice stream: closing a socket of subscriber %s: %s", sub.id, why)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(ws.close(code=code, reason=why), 2)


async def _pump(sock, ws: WebSocket) -> None:
    while True:
        try:
            message = await asyncio.wait_for(sock.queue.get(), HEARTBEAT_S)
        except TimeoutError:
            message = HEARTBEAT
        await ws.send_text(message)


async def _ends(hub, subscriber_id: str, token: str) -> None:
    """Return once the subscription is no longer active (unsubscribed, disabled, token replaced)."""
    while True:
        await asyncio.sleep(RECHECK_S)
        if not await run_in_threadpool(_still_active, hub, subscriber_id, token):
            return


async def _drain(ws: WebSocket) -> None:
    """Read (and ignore) what the client sends, so that its going away is noticed."""
    try:
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                return
    except WebSocketDisconnect:
        return
