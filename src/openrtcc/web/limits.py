"""Request-size limits enforced while the body streams in, before any handler parses it."""

from __future__ import annotations

import json


class BodySizeLimit:
    """413 for bodies over the limit: JSON and forms get `json_limit`, multipart uploads `upload_limit`,
    plate-read batches (base64 crops inside JSON) `ingest_limit`, the public tip form (one photo or clip)
    `tip_limit`."""

    def __init__(self, app, json_limit: int, upload_limit: int, ingest_limit: int | None = None,
                 tip_limit: int | None = None):
        self.app = app
        self.json_limit = json_limit
        self.upload_limit = upload_limit
        self.ingest_limit = ingest_limit or json_limit
        self.tip_limit = tip_limit or upload_limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        ctype = headers.get(b"content-type", b"").decode("latin-1").lower()
        limit = self.upload_limit + 64 * 1024 if ctype.startswith("multipart/form-data") else self.json_limit
        if scope["path"].startswith("/api/ingest/") or scope["path"] == "/api/edge/reads":
            limit = self.ingest_limit
        elif scope["path"].startswith("/api/integrations/") and scope["path"].endswith(("/cad", "/gunshot")):
            limit = self.upload_limit  # the webhook reads a few KiB at most itself, and audits what it refuses
        elif scope["path"].startswith(("/api/edge/live/", "/api/edge/clips/")):
            limit = self.upload_limit  # video from edge boxes, not JSON; live segments are capped lower in the route
        elif scope["path"] == "/api/public/tips":
            limit = self.tip_limit + 64 * 1024  # anyone may post here: its own, smaller cap (text and form fields)
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            return await _too_large(send, limit)
        seen = 0
        refused = False

        async def limited_receive():
            nonlocal seen, refused
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    refused = True
                    raise _BodyTooLarge()
            return message

        started = False

        async def guarded_send(message):
            nonlocal started
            if refused:
                # The framework catches our exception while reading the body and answers 400 instead;
                # whatever the app says about a body we cut off is replaced by the 413 below.
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not refused:
                raise
        if refused and not started:
            await _too_large(send, limit)


class _BodyTooLarge(Exception):
    pass


async def _too_large(send, limit: int) -> None:
    body = json.dumps({"error": "too_large", "message": f"request body over the {limit} byte limit"}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
