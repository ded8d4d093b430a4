"""A request id for every HTTP request and WebSocket: the caller's `X-Request-Id` when it is a plain token (a
load balancer's or a client's), otherwise a new one. It is echoed in the response's `X-Request-Id` and carried by
every log record written on the request's behalf, so one request can be followed across the proxy's log, the
hub's and a client's bug report."""

from __future__ import annotations

import re
import uuid

from openrtcc.log_setup import REQUEST_ID

HEADER = b"x-request-id"
# Bounded and plain: an id is written into logs and headers, so it can carry neither a line break nor markup.
VALID_ID = re.compile(rb"[A-Za-z0-9-]{8,128}")


def request_id_of(headers: list[tuple[bytes, bytes]]) -> str:
    for name, value in headers:
        if name == HEADER and VALID_ID.fullmatch(value):
            return value.decode("ascii")
    return uuid.uuid4().hex


class RequestIds:
    """Pure ASGI middleware, outermost: sets the request id before anything else runs or logs."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        request_id = request_id_of(scope.get("headers") or [])
        token = REQUEST_ID.set(request_id)

        async def with_id(message):
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != HEADER]
                message = {**message, "headers": [*headers, (HEADER, request_id.encode("ascii"))]}
            await send(message)

        try:
            await self.app(scope, receive, with_id)
        finally:
            REQUEST_ID.reset(token)


def install_request_ids(app) -> None:
    """Add last, so that it wraps every other middleware."""
    app.add_middleware(RequestIds)
