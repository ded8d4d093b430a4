"""Signed webhooks, both ways: HMAC-SHA256 over the timestamp and the exact body, with replay protection.

Header `X-RTCC-Signature: t=<unix seconds>,v1=<hex hmac>`; header `X-RTCC-Delivery: <unique id>`. The
signature covers `f"{t}.{delivery}.".encode() + body`, so neither the time, the id nor one byte of the body
can change. A receiver refuses a signature older or newer than the tolerance, and a delivery id it has seen
(the caller keeps those for at least the tolerance)."""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime

from openrtcc.domain.errors import Forbidden, InvalidInput

SIGNATURE_HEADER = "X-RTCC-Signature"
DELIVERY_HEADER = "X-RTCC-Delivery"
TOLERANCE_S = 300
_DELIVERY = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")
_PART = re.compile(r"^(t|v1)=([0-9a-f]+)$")


@dataclass(frozen=True, slots=True)
class VerifiedDelivery:
    delivery_id: str
    sent_at: int  # unix seconds, as signed


def signature(secret: str, timestamp: int, delivery_id: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.{delivery_id}.".encode() + body, hashlib.sha256)
    return mac.hexdigest()


def sign(secret: str, now: datetime, delivery_id: str, body: bytes) -> dict[str, str]:
    """The headers that sign one delivery."""
    if not _DELIVERY.match(delivery_id):
        raise InvalidInput("a delivery id is 8-128 letters, digits or ._:-", code="bad_delivery_id")
    t = int(now.timestamp())
    return {SIGNATURE_HEADER: f"t={t},v1={signature(secret, t, delivery_id, body)}", DELIVERY_HEADER: delivery_id}


def verify(secret: str, headers: dict[str, str], body: bytes, now: datetime,
           tolerance_s: int = TOLERANCE_S) -> VerifiedDelivery:
    """Check one delivery's signature and age; the caller then refuses a delivery id it has seen.

    `headers` is looked up case-insensitively. Every refusal is Forbidden with a code saying why:
    unsigned, bad_signature, stale_signature."""
    lower = {k.lower(): v for k, v in headers.items()}
    raw = lower.get(SIGNATURE_HEADER.lower())
    delivery = lower.get(DELIVERY_HEADER.lower())
    if not raw or not delivery:
        raise Forbidden(f"unsigned: {SIGNATURE_HEADER} and {DELIVERY_HEADER} headers are required",
                        code="unsigned")
    if not _DELIVERY.match(delivery):
        raise Forbidden("the delivery id is malformed", code="bad_signature")
    parts = {}
    for piece in raw.split(","):
        m = _PART.match(piece.strip())
        if m is None:
            raise Forbidden(f"malformed {SIGNATURE_HEADER}: expected t=<seconds>,v1=<hex>", code="bad_signature")
        parts[m.group(1)] = m.group(2)
    if "t" not in parts or "v1" not in parts or len(parts["t"]) > 12:
        raise Forbidden(f"malformed {SIGNATURE_HEADER}: expected t=<seconds>,v1=<hex>", code="bad_signature")
    t = int(parts["t"])
    expected = signature(secret, t, delivery, body)
    if not hmac.compare_digest(expected, parts["v1"]):
        raise Forbidden("the signature does not match the body", code="bad_signature")
    if abs(now.timestamp() - t) > tolerance_s:
        raise Forbidden(f"the signature is more than {tolerance_s} s from the hub's clock (replayed or a clock "
                        "off)", code="stale_signature")
    return VerifiedDelivery(delivery, t)
