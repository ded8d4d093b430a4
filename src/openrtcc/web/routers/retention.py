"""Retention: legal holds, evidence locks, purge runs and their deletion reports."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/retention", tags=["retention"])
