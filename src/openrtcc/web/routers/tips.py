"""The command center's tip queue: list, read, review, dismiss or promote a tip to an incident."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/tips", tags=["tips"])
