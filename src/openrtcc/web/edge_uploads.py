"""What the box's HTTPS uploads share: the edge key checked before the body is read, and the body read
with a cap (live segments into memory) or streamed to a blocking reader (clips into the media store)."""

from __future__ import annotations

import anyio.from_thread
from fastapi import Request
from starlette.concurrency import run_in_threadpool

from openrtcc.adapters.storage.local_media import TooLarge
from openrtcc.services.edges import EdgeBox, authenticate_edge
from openrtcc.web.deps import bearer_key


async def edge_of(request: Request) -> EdgeBox:
    client = request.client.host if request.client else None
    return await run_in_threadpool(authenticate_edge, request.app.state.hub, bearer_key(request.headers), client)


def _too_large(limit: int) -> TooLarge:
    return TooLarge(f"the upload is larger than the {limit} byte limit")


async def read_capped(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise _too_large(limit)
    return bytes(body)


class BlockingBody:
    """The request body as a file-like `read(n)` for code running in a worker thread: each chunk is taken
    from the event loop as the reader asks for it, so a large clip never sits whole in memory."""

    def __init__(self, request: Request):
        self._chunks = request.stream().__aiter__()
        self._buffer = b""
        self._done = False

    def read(self, n: int = -1) -> bytes:
        while not self._done and (n < 0 or len(self._buffer) < n):
            try:
                self._buffer += anyio.from_thread.run(self._chunks.__anext__)
            except StopAsyncIteration:
                self._done = True
        if n < 0:
            n = len(self._buffer)
        out, self._buffer = self._buffer[:n], self._buffer[n:]
        return out
