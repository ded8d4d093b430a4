"""Plate reads from installations already running: Plate Recognizer Stream webhooks, Frigate links' status."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["plate integrations"])
