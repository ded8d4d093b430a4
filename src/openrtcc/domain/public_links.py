"""Signed public links: one-click unsubscribe and sign-up confirmation, checkable without storing a token.

A token is HMAC-SHA256 over a purpose and the subscriber id under the hub's secret key, so a link cannot be
forged for another subscriber or reused for another purpose; a confirmation token also binds its expiry."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime

TOKEN_CHARS = 32


def _mac(key: bytes, purpose: str, subscriber_id: str, extra: str = "") -> str:
    if not key:
        raise ValueError("the hub's secret key is not set")
    raw = hmac.new(key, f"{purpose}:{subscriber_id}:{extra}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")[:TOKEN_CHARS]


def unsubscribe_token(key: bytes, subscriber_id: str) -> str:
    return _mac(key, "unsubscribe", subscriber_id)


def verify_unsubscribe_token(key: bytes, subscriber_id: str, token: str) -> bool:
    # As bytes: compare_digest refuses str with non-ASCII characters, and a link's token comes from anyone.
    return hmac.compare_digest(unsubscribe_token(key, subscriber_id).encode(), (token or "").encode())


def confirm_token(key: bytes, subscriber_id: str, expires_at: datetime) -> str:
    """Valid until `expires_at` (bound into the token: changing the link's expiry breaks it)."""
    stamp = str(int(expires_at.timestamp()))
    return f"{stamp}.{_mac(key, 'confirm', subscriber_id, stamp)}"


def verify_confirm_token(key: bytes, subscriber_id: str, token: str, now: datetime) -> bool:
    """False for a forged, altered or expired token."""
    stamp, _, mac = (token or "").partition(".")
    if not (stamp.isascii() and stamp.isdigit()) or len(stamp) > 12:  # "¹²" is a digit to str.isdigit, not to int
        return False
    if not hmac.compare_digest(_mac(key, "confirm", subscriber_id, stamp).encode(), mac.encode()):
        return False
    return now < datetime.fromtimestamp(int(stamp), UTC)
