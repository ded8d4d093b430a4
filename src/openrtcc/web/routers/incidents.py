"""Incidents: opened by operators, listed, and moved by operator actions (acknowledge, assign, escalate, disposition)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/incidents", tags=["incidents"])
