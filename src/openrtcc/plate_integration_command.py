"""`rtcc plate-integration`: attach Frigate brokers and Plate Recognizer webhooks to read sources."""

from __future__ import annotations


def run_plate_integration(args) -> int:
    raise SystemExit("rtcc plate-integration: not built yet")
