"""`/metrics`: Prometheus exposition, for a scraper holding the metrics token (or on loopback)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
