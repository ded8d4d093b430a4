"""An agency's governance settings: retention, prohibited purposes, search limits, policy text."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/agency/governance", tags=["governance"])
