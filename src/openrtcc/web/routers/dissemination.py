"""Dissemination: subscribers (police units, vendors, partners), bulletins, the delivery log and dead letters."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/dissemination", tags=["dissemination"])
