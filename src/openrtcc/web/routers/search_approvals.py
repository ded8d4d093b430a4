"""Supervisor approvals of searches over more cameras than the agency allows, and search purposes."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/search-approvals", tags=["search approvals"])
