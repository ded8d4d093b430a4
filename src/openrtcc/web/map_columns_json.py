"""The map's points as columns in JSON, written around the text the database joined (no per-camera work)."""

from __future__ import annotations

import json

from openrtcc.domain.map_columns import SHARING_CODES, TIER_CODES, MapColumns

_CODES = f'"tier_codes":{json.dumps(list(TIER_CODES))},"sharing_codes":{json.dumps(list(SHARING_CODES))}'


def map_columns_json(c: MapColumns) -> bytes:
    if c.count and c.ids.count(",") != c.count - 1:  # ids are ours and never hold a comma; never misalign
        raise ValueError("a camera id holds a comma: the map's id column would not line up")
    # Coordinates and codes are numbers and digits made by the database; ids go through the JSON encoder, so
    # no stored text can break out of its string.
    return "".join((
        '{"format":"columns","count":', str(c.count), ',"ids":', json.dumps(c.ids), ',"lat":[', c.lat,
        '],"lon":[', c.lon, '],"tier":', json.dumps(c.tiers), ',"sharing":', json.dumps(c.sharing), ",", _CODES, "}",
    )).encode()
