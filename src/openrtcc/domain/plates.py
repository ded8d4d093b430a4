"""The one plate normaliser, state codes and look-alike characters, shared by hot-list import,
matching, search, the plate reader and its scoring (so that a plate means the same thing everywhere)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from openrtcc.domain.errors import InvalidInput

MAX_PLATE_LENGTH = 10  # NCIC's LIC field and the OCR's slot count both stop at 10
WILDCARD_ANY = "*"  # any run of characters, possibly empty (vendor hot lists write partial plates so)
WILDCARD_ONE = "?"  # exactly one character

# Characters OCR and people confuse on plates. Each group folds to its first member, so that
# `lookalike_key("8O5") == lookalike_key("B0S")`. The groups are deliberately small: a larger group
# turns every near plate into a hit, and each hit stops a car.
LOOKALIKE_GROUPS: tuple[str, ...] = ("0ODQ", "1IL", "2Z", "5S", "8B", "6G", "UV")
_FOLD = {ch: group[0] for group in LOOKALIKE_GROUPS for ch in group}

US_STATES = frozenset(
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM "
    "NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY AS GU MP PR VI".split()
)
CANADIAN_PROVINCES = frozenset("AB BC MB NB NL NS NT NU ON PE QC SK YT".split())
# NCIC's LIS codes beyond the US and Canada: federal/government plates and Mexico as a whole.
NCIC_OTHER = frozenset("US MX".split())
STATE_CODES = US_STATES | CANADIAN_PROVINCES | NCIC_OTHER


def normalize_plate(text: str) -> str:
    """Upper-case alphanumerics only: `' 7ab-c 123 '` -> `'7ABC123'`. Raises for nothing left or too long.

    Spaces, dashes, dots and diacritics are not part of a plate's identity; every place that stores or
    compares a plate goes through here, at import and at match alike."""
    if not isinstance(text, str):
        raise InvalidInput("a plate must be text", code="invalid_plate")
    folded = unicodedata.normalize("NFKD", text).upper()
    plate = "".join(ch for ch in folded if ch.isascii() and ch.isalnum())
    if not plate:
        raise InvalidInput("a plate needs at least one letter or digit", code="invalid_plate")
    if len(plate) > MAX_PLATE_LENGTH:
        raise InvalidInput(f"a plate has at most {MAX_PLATE_LENGTH} characters", code="invalid_plate")
    return plate


def normalize_plate_pattern(text: str) -> str:
    """A plate that may hold wildcards (`*` any run, `?` one character); at least 3 known characters,
    so that a pattern such as `*` or `A*` cannot turn every read into a hit."""
    if not isinstance(text, str):
        raise InvalidInput("a plate must be text", code="invalid_plate")
    folded = unicodedata.normalize("NFKD", text).upper()
    kept = []
    for ch in folded:
        if ch in (WILDCARD_ANY, WILDCARD_ONE) or (ch.isascii() and ch.isalnum()):
            if ch == WILDCARD_ANY and kept and kept[-1] == WILDCARD_ANY:
                continue
            kept.append(ch)
    pattern = "".join(kept)
    known = sum(1 for ch in pattern if ch not in (WILDCARD_ANY, WILDCARD_ONE))
    if known < 3:
        raise InvalidInput("a partial plate needs at least 3 known characters", code="invalid_plate")
    if len(pattern.replace(WILDCARD_ANY, "")) > MAX_PLATE_LENGTH:
        raise InvalidInput(f"a plate has at most {MAX_PLATE_LENGTH} characters", code="invalid_plate")
    return pattern


def is_pattern(plate: str) -> bool:
    return WILDCARD_ANY in plate or WILDCARD_ONE in plate


def lookalike_key(plate: str) -> str:
    """Fold look-alike characters together (`B`->`8`, `O`->`0`, ...); input already normalised."""
    return "".join(_FOLD.get(ch, ch) for ch in plate)


def lookalikes(ch: str) -> str:
    """The characters that look like `ch`, itself included."""
    for group in LOOKALIKE_GROUPS:
        if ch in group:
            return group
    return ch


def normalize_state(code: str | None) -> str | None:
    """A 2-letter NCIC state/province code (`ca` -> `CA`), `US-CA` accepted; None or '' for unknown.
    An unrecognised code is refused rather than guessed: state-aware matching depends on it."""
    if code is None:
        return None
    value = code.strip().upper()
    if not value:
        return None
    if value.startswith(("US-", "CA-", "MX-")) and len(value) == 5:
        value = value[3:]
    if value not in STATE_CODES:
        raise InvalidInput(f"unknown state or province code {code!r}", code="invalid_state")
    return value


def state_of_region(region: str | None) -> str | None:
    """The NCIC state of a read's region (`US-CA` -> `CA`), or None when the region names no state."""
    if not region or "-" not in region:
        return None
    try:
        return normalize_state(region)
    except InvalidInput:
        return None


@dataclass(frozen=True)
class PlateCandidate:
    text: str
    confidence: float


@dataclass(frozen=True)
class PlateReading:
    """One plate found in one image: the reader's answer, best candidate first.

    `box` is (x1, y1, x2, y2) in pixels of the image read; `region` an ISO 3166 code (`US-CA`, `BR`)
    or None; `char_confidences` belong to `text`."""

    text: str
    confidence: float
    box: tuple[int, int, int, int]
    region: str | None = None
    candidates: tuple[PlateCandidate, ...] = ()
    char_confidences: tuple[float, ...] = field(default=(), compare=False)
