"""The video wall: the integrated cameras nearest a place that the owners' policies let this agency watch now."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/wall", tags=["command center"])
