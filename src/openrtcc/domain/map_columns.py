"""The camera map's points as columns: the compact form of an agency's map that the map page loads."""

from __future__ import annotations

from dataclasses import dataclass

from openrtcc.domain.cameras import SharingMode, Tier

# A camera's tier and sharing mode travel as one digit each: its position in these lists.
TIER_CODES: tuple[str, ...] = tuple(t.value for t in Tier)
SHARING_CODES: tuple[str, ...] = tuple(m.value for m in SharingMode)
MICRODEGREES = 1_000_000  # coordinates travel as whole millionths of a degree (0.1 m)


@dataclass(frozen=True, slots=True)
class MapColumns:
    """Every active camera of a program, one column per field, joined into text by the database.

    Position k of every column is the same camera: `ids` and `lat`/`lon` are comma-separated (coordinates in
    millionths of a degree), `tiers` and `sharing` hold one code digit per camera (see TIER_CODES and
    SHARING_CODES).
    """

    count: int
    ids: str
    lat: str
    lon: str
    tiers: str
    sharing: str
