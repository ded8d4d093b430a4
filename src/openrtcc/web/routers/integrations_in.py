"""Inbound integrations: the signed CAD and gunshot-detection webhooks, and their administration."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/integrations", tags=["integrations"])
