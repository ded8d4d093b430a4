"""`rtcc integration`: create and list inbound integrations (CAD, gunshot detection)."""

from __future__ import annotations


def run_integration(args) -> int:
    raise SystemExit("rtcc integration: not built yet")
