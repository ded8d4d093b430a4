"""(being written: see the module's owner in the issue-4 work split)"""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["edge"])
