"""A case's evidence package (BagIt, SHA-256 manifests, signed)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/evidence", tags=["evidence"])
