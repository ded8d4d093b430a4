"""Sharing between agencies: grants (deny by default), hot lists shared in and their opt-ins."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/sharing", tags=["sharing"])
