"""Plate search results as CSV and JSON files; CSV cells cannot start a spreadsheet formula."""

from __future__ import annotations

import csv
import io
import json

from openrtcc.domain.reads import PlateRead

COLUMNS = ("captured_at", "plate", "state", "region", "confidence", "camera_id", "lat", "lon", "heading_deg",
           "vehicle_make", "vehicle_colour", "vehicle_type", "id", "source_id")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def row(r: PlateRead) -> dict:
    return {"captured_at": r.captured_at.isoformat(), "plate": r.plate, "state": r.state, "region": r.region,
            "confidence": r.confidence, "camera_id": r.camera_id, "lat": r.lat, "lon": r.lon,
            "heading_deg": r.heading_deg, "vehicle_make": r.vehicle_make, "vehicle_colour": r.vehicle_colour,
            "vehicle_type": r.vehicle_type, "id": r.id, "source_id": r.source_id}


def safe_cell(value: object) -> object:
    """Text a spreadsheet would run as a formula (=, +, -, @, tab, CR first) is prefixed with a quote (OWASP)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return "" if value is None else value


def to_csv(reads: list[PlateRead]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for r in reads:
        doc = row(r)
        writer.writerow([safe_cell(doc[c]) for c in COLUMNS])
    return out.getvalue()


def to_json(reads: list[PlateRead], truncated: bool, purpose: str, case_number: str) -> str:
    return json.dumps({"purpose": purpose, "case_number": case_number, "count": len(reads), "truncated": truncated,
                       "reads": [row(r) for r in reads]}, separators=(",", ":"))
