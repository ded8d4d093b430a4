"""The public transparency portal's data (no log-in): generated from the live configuration and audit data."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/public/transparency", tags=["transparency"])
