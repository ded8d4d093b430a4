"""Public endpoints, no log-on: alert sign-up with double opt-in, one-click unsubscribe, and the tip form."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/public", tags=["public"])
