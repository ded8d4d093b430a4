"""A client that goes away while sending its body: nothing is done and nothing is logged as an error."""

from __future__ import annotations

import asyncio
import logging


def test_a_batch_cut_off_mid_body_is_no_server_error(app, world, caplog):
    r = world.admin().post("/api/agency/read-sources", json={"name": "Plate camera", "default_state": "WI"})
    assert r.status_code == 201, r.text
    key = r.json()["key"]
    body = b'{"version": 1, "reads": [{"read_id": "r1", "plate": "ABC'
    sent: list[dict] = []
    incoming = [{"type": "http.request", "body": body, "more_body": True}, {"type": "http.disconnect"}]

    async def receive():
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": "/api/ingest/reads", "raw_path": b"/api/ingest/reads", "query_string": b"", "root_path": "",
             "headers": [(b"host", b"hub.test"), (b"content-type", b"application/json"),
                         (b"content-length", b"4000"), (b"authorization", f"Bearer {key}".encode())],
             "client": ("127.0.0.1", 50000), "server": ("hub.test", 80)}
    with caplog.at_level(logging.INFO):
        asyncio.run(_lifespan_free_call(app, scope, receive, send))
    starts = [m for m in sent if m["type"] == "http.response.start"]
    assert starts and starts[0]["status"] < 500
    assert world.hub is not None and _reads(world.hub) == 0  # nothing of the cut-off batch was stored
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def _lifespan_free_call(app, scope, receive, send):
    await app(scope, receive, send)


def _reads(hub) -> int:
    from sqlalchemy import text

    with hub.uow() as uow:
        n = uow.conn.execute(text("SELECT count(*) FROM plate_read")).scalar_one()
        uow.rollback()
    return n
