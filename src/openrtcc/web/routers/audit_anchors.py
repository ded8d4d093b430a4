"""Signed audit-chain heads and the hub's public key, for anyone to check the chain against."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/public/audit", tags=["audit anchors"])
