"""Plate formats per country and US state, and the ISO 3166 code of each OCR region name.

A format is a template of character classes: `D` a digit, `L` a letter, `A` either. They are priors,
not rules: a plate that fits no format is still read (vanity plates, dealer plates, old series)."""

from __future__ import annotations

REGION_ISO: dict[str, str] = {
    "Albania": "AL", "Andorra": "AD", "Argentina": "AR", "Armenia": "AM", "Australia": "AU", "Austria": "AT",
    "Azerbaijan": "AZ", "Bahrain": "BH", "Belarus": "BY", "Belgium": "BE", "Bosnia and Herzegovina": "BA",
    "Brazil": "BR", "Bulgaria": "BG", "Cambodia": "KH", "Canada": "CA", "Croatia": "HR", "Cyprus": "CY",
    "Czech Republic": "CZ", "Denmark": "DK", "Estonia": "EE", "Finland": "FI", "France": "FR", "Georgia": "GE",
    "Germany": "DE", "Gibraltar": "GI", "Greece": "GR", "Guernsey": "GG", "Hungary": "HU", "Iceland": "IS",
    "Indonesia": "ID", "Ireland": "IE", "Israel": "IL", "Italy": "IT", "Latvia": "LV", "Liechtenstein": "LI",
    "Lithuania": "LT", "Luxembourg": "LU", "Malaysia": "MY", "Malta": "MT", "Mexico": "MX", "Moldova": "MD",
    "Monaco": "MC", "Montenegro": "ME", "Netherlands": "NL", "New Zealand": "NZ", "North Macedonia": "MK",
    "Norway": "NO", "Poland": "PL", "Portugal": "PT", "Qatar": "QA", "Romania": "RO", "San Marino": "SM",
    "Serbia": "RS", "Singapore": "SG", "Slovakia": "SK", "Slovenia": "SI", "Spain": "ES", "Sweden": "SE",
    "Switzerland": "CH", "Thailand": "TH", "Turkey": "TR", "United States": "US", "Ukraine": "UA",
    "United Kingdom": "GB", "Vietnam": "VN",
}


def region_code(name: str | None) -> str | None:
    """ISO 3166-1 code of an OCR region name (`'Brazil'` -> `'BR'`); None for 'Unknown' or unlisted."""
    return REGION_ISO.get(name or "")

# Classes a template position may hold.
DIGITS = "0123456789"
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
CLASSES = {"D": DIGITS, "L": LETTERS, "A": DIGITS + LETTERS}


def expand(spec: str) -> tuple[str, ...]:
    """Templates from a compact spec: `'L{1,2}D{3}'` -> `('LDDD', 'LLDDD')`; `'DLLLDDD'` is itself."""
    templates = [""]
    i = 0
    while i < len(spec):
        cls = spec[i]
        if cls not in CLASSES:
            raise ValueError(f"unknown class {cls!r} in {spec!r}")
        lo = hi = 1
        if i + 1 < len(spec) and spec[i + 1] == "{":
            end = spec.index("}", i)
            bounds = spec[i + 2:end].split(",")
            lo, hi = int(bounds[0]), int(bounds[-1])
            i = end
        templates = [t + cls * n for t in templates for n in range(lo, hi + 1)]
        i += 1
    return tuple(sorted(set(templates), key=lambda t: (len(t), t)))


def _formats(*specs: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(t for s in specs for t in expand(s)))


# Current standard passenger series, with the older series still on the road. Left out where unsure:
# a state without an entry gets no prior rather than a wrong one.
US_STATE_FORMATS: dict[str, tuple[str, ...]] = {
    "AK": _formats("LLLDDD"), "AZ": _formats("LLLDDDD", "LLLDDD"), "CA": _formats("DLLLDDD", "DLDDDDD", "DDDDDLD"),
    "CT": _formats("LLDDDDD", "DLLLDD", "DDDLLL"), "DC": _formats("LLDDDD"), "DE": _formats("D{1,6}"),
    "GA": _formats("LLLDDDD", "DDDLLL"), "HI": _formats("LLLDDD"), "IL": _formats("LLDDDDD", "LDDDDDD", "LLLDDDD"),
    "IA": _formats("LLLDDD", "DDDLLL"), "KS": _formats("DDDLLL"), "KY": _formats("DDDLLL", "LLLDDD"),
    "LA": _formats("DDDLLL", "LLLDDD"), "ME": _formats("DDDDLL"), "MD": _formats("DLLDDDD", "LLLDDD"),
    "MA": _formats("DLLLDD", "DLLDDD", "DDDLLD"), "MI": _formats("LLLDDDD", "DLLLDD"), "MN": _formats("DDDLLL", "LLLDDD"),
    "MO": _formats("LLDLDL"), "NJ": _formats("LDDLLL", "LLLDDL"), "NM": _formats("LLLDDD", "DDDLLL"),
    "NY": _formats("LLLDDDD"), "NC": _formats("LLLDDDD"), "ND": _formats("DDDLLL", "LLLDDD"),
    "OH": _formats("LLLDDDD"), "OK": _formats("LLLDDD", "DDDLLL"), "OR": _formats("DDDLLL", "LLLDDD"),
    "PA": _formats("LLLDDDD"), "RI": _formats("D{5,6}", "LLDDD"), "TX": _formats("LLLDDDD", "LLDLDDD"),
    "VA": _formats("LLLDDDD"), "WA": _formats("LLLDDDD", "DDDLLL"), "WI": _formats("LLLDDDD", "DDDLLL"),
}

COUNTRY_FORMATS: dict[str, tuple[str, ...]] = {
    "BR": _formats("LLLDDDD", "LLLDLDD"),  # old series ABC1234; Mercosur ABC1D23
    "AR": _formats("LLDDDLL", "LLLDDD"),  # Mercosur AB123CD; 1995 series ABC123
    "UY": _formats("LLLDDDD"), "PY": _formats("LLLLDDD"),
    "DE": _formats("L{1,3}L{1,2}D{1,4}"), "FR": _formats("LLDDDLL"), "IT": _formats("LLDDDLL"),
    "ES": _formats("DDDDLLL"), "GB": _formats("LLDDLLL"), "SK": _formats("LLDDDLL"), "HR": _formats("LLDDDLL", "LLDDDDL{1,2}"),
    "RS": _formats("LLDDDLL"), "CZ": _formats("DLADDDD"), "BE": _formats("DLLLDDD"), "PT": _formats("DDLLDD", "LLDDLL", "DDDDLL", "LLDDDD"),
    "SE": _formats("LLLDDD", "LLLDDL"), "NO": _formats("LLDDDDD"), "DK": _formats("LLDDDDD"), "FI": _formats("LLLDDD"),
    "PL": _formats("LLDDDDD", "LLDDDLL", "LLLDDDD", "LLLDDLL", "LLDLDDD"), "RO": _formats("LLDDLLL", "LDDLLL"),
    "UA": _formats("LLDDDDLL"), "BG": _formats("LLDDDDLL", "LDDDDLL"), "NL": _formats(
        "LLDDLL", "DDLLDD", "DDLLLD", "DLLLDD", "LLDDDL", "LDDDLL", "LLLDDL", "DLLDDD", "DDDLLD"),
    "AT": _formats("L{1,2}D{1,5}L{1,2}"), "HU": _formats("LLLDDD", "LLLLDDD"), "CH": _formats("LLD{1,6}"),
    "CA": _formats("LLLLDDD", "LLLDDD", "DDDLLL", "LDDLLL"),
}


# A plate known only to be American (the OCR's region head says "United States", no state hint) fits
# one of the states' series: their union is the prior, looser than any one state's but still a prior.
US_ANY_STATE: tuple[str, ...] = tuple(dict.fromkeys(t for fs in US_STATE_FORMATS.values() for t in fs))


def formats_for(region: str | None) -> tuple[str, ...]:
    """The templates of a region (`US-CA`, `BR`, `US` for any state), or () when none are known (then no
    prior applies)."""
    if not region:
        return ()
    region = region.upper()
    if region == "US":
        return US_ANY_STATE
    if region.startswith("US-"):
        return US_STATE_FORMATS.get(region[3:], ())
    return COUNTRY_FORMATS.get(region, ())


def fits(text: str, templates: tuple[str, ...]) -> bool:
    return any(len(t) == len(text) and all(ch in CLASSES[c] for ch, c in zip(text, t, strict=True))
               for t in templates)
