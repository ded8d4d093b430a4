"""Test helpers for plate reads: a read source created through the API, read bodies, batch posts."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta

from fastapi.testclient import TestClient

# The smallest valid-looking JPEG and PNG heads: the hub sniffs the type from the first bytes.
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 32


def new_source(world, slug: str = "lakeport", **overrides) -> tuple[str, dict]:
    """(key, source) made by the agency's administrator through the API."""
    body = {"name": "Main St plate camera", "kind": "lpr_camera", **overrides}
    r = world.admin(slug).post("/api/agency/read-sources", json=body)
    assert r.status_code == 201, r.text
    doc = r.json()
    return doc.pop("key"), doc


def read_body(read_id: str, plate: str, captured_at: datetime, **overrides) -> dict:
    body = {"read_id": read_id, "plate": plate, "confidence": 0.93, "captured_at": captured_at.isoformat(),
            "lat": 43.0, "lon": -87.92}
    body.update(overrides)
    return body


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def post_reads(client: TestClient, key: str | None, reads: list[dict], version: int = 1, **kw):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return client.post("/api/ingest/reads", json={"version": version, "reads": reads}, headers=headers, **kw)


def earlier(clock, **kw) -> datetime:
    return clock.now() - timedelta(**kw)


def import_list(world, name: str, fmt: str, text: str, slug: str = "lakeport") -> dict:
    """A hot list imported through the API by the agency's administrator."""
    r = world.admin(slug).post("/api/agency/hotlists/import", data={"name": name, "format": fmt},
                               files={"file": (f"{name}.csv", text.encode(), "text/csv")})
    assert r.status_code == 201, r.text
    return r.json()["list"]


NCIC_LIST = ("LIC,LIS,LIY,LIT,VMA,VCO,NIC,ORI,OCA\n"
             "ABC123,CA,2027,PC,TOYT,BLK,V123456789,CA0010000,24-0815\n"
             "8OS5521,WI,2027,PC,FORD,WHI,V987654321,WI0410000,24-0999\n")
