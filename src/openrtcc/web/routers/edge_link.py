"""`WS /api/edge/link`: the control link an edge box opens outbound (one JSON message per frame).

The key is checked before the handshake is accepted; the first message must be Hello. Messages from the box
are handled in a worker thread in the order sent; messages for the box come from `EdgeLinks.send`."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from fastapi import APIRouter, WebSocket
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.websockets import WebSocketDisconnect

from openrtcc.domain.edge_protocol import Hello, parse_edge_message
from openrtcc.domain.errors import DomainError
from openrtcc.services import edges
from openrtcc.services.edge_links import LinkedEdge
from openrtcc.web.deps import bearer_key

log = logging.getLogger(__name__)
router = APIRouter(tags=["edge"])
POLICY_VIOLATION = 1008
HELLO_TIMEOUT_S = 15.0


class _Closed(Exception):
    """The box went away or broke the protocol; `reason` says which."""

    def __init__(self, reason: str, refused: bool = False):
        super().__init__(reason)
        self.reason, self.refused = reason, refused


def _problem(exc: ValidationError) -> str:
    first = exc.errors(include_url=False, include_input=False)[0]
    where = ".".join(str(p) for p in first["loc"])
    return f"malformed message: {where}: {first['msg']}"[:120]


async def _receive(ws: WebSocket):
    try:
        frame = await ws.receive()
    except WebSocketDisconnect:
        raise _Closed("the box closed the link") from None
    if frame["type"] == "websocket.disconnect":
        raise _Closed("the box closed the link")
    data = frame.get("text") if frame.get("text") is not None else frame.get("bytes")
    try:
        return parse_edge_message(data or b"")
    except ValidationError as exc:
        raise _Closed(_problem(exc), refused=True) from None


async def _read(ws: WebSocket, hub, edge: LinkedEdge) -> None:
    links = hub.extras["edge_links"]
    while True:
        message = await _receive(ws)
        if isinstance(message, Hello):
            raise _Closed("hello is sent once, first", refused=True)
        try:
            await run_in_threadpool(links.handle, edge, message)
        except Exception:  # one failed message must not cut the box off; its next report repeats the state
            log.exception("edge %s: handling %s failed", edge.edge_id, type(message).__name__)


async def _write(ws: WebSocket, queue: asyncio.Queue) -> None:
    while True:
        message = await queue.get()
        if message is None:
            raise _Closed("the hub closed the link: replaced by a newer one or the key was revoked")
        # A message relayed from another hub process arrives as its JSON already.
        await ws.send_text(message if isinstance(message, str) else message.model_dump_json())


@router.websocket("/api/edge/link")
async def edge_link(ws: WebSocket) -> None:
    hub = ws.app.state.hub
    client = ws.client.host if ws.client else None
    try:
        box = await run_in_threadpool(edges.authenticate_edge, hub, bearer_key(ws.headers), client)
    except DomainError:
        await ws.close(code=POLICY_VIOLATION)  # before accepting: the handshake is answered with 403
        return
    await ws.accept()
    try:
        hello = await asyncio.wait_for(_receive(ws), HELLO_TIMEOUT_S)
        if not isinstance(hello, Hello):
            raise _Closed("the first message must be hello", refused=True)
    except (_Closed, TimeoutError) as exc:
        reason = exc.reason if isinstance(exc, _Closed) else "no hello in time"
        await run_in_threadpool(edges.refuse_message, hub, box, client, reason)
        with contextlib.suppress(Exception):
            await ws.close(code=POLICY_VIOLATION, reason=reason)
        return
    welcome = await run_in_threadpool(edges.accept_hello, hub, box, hello, client)
    await ws.send_text(welcome.model_dump_json())
    await _serve(ws, hub, box, client)


async def _serve(ws: WebSocket, hub, box, client: str | None) -> None:
    links = hub.extras["edge_links"]
    edge, queue = LinkedEdge(box.id, box.owner_id), asyncio.Queue()
    links.attach(edge, asyncio.get_running_loop(), queue)
    tasks = [asyncio.create_task(_read(ws, hub, edge)), asyncio.create_task(_write(ws, queue))]
    reason = "closed"
    try:
        await run_in_threadpool(links.connected_edge, edge)
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        exc = next(iter(done)).exception()
        reason = exc.reason if isinstance(exc, _Closed) else f"link error: {type(exc).__name__}"
        if isinstance(exc, _Closed) and exc.refused:
            await run_in_threadpool(edges.refuse_message, hub, box, client, reason)
    finally:
        for task in tasks:
            task.cancel()
        links.detach(edge.edge_id, queue)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(ws.close(code=POLICY_VIOLATION if reason != "closed" else 1000,
                                            reason=reason[:120]), 2)
        await run_in_threadpool(edges.link_closed, hub, box, client, reason)
