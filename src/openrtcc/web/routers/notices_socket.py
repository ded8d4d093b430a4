"""`/ws/notices`: the WebSocket channel, for a subscriber's own screen, authenticated by its token."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
