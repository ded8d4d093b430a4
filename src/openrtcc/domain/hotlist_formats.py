"""The three hot-list file formats, parsed whole into entries or refused with the line and field at fault.

Pure functions, text in and entries out: the import service stores nothing unless the whole file parses.

- NCIC extract: a header row naming NCIC field codes (LIC plate, LIS state, LIY plate year, LIT plate
  type, VMA make, VCO colour, NIC NCIC number, ORI originating agency, OCA case number; MKE message key
  optional; other codes ignored). Delimiter sniffed from the header among `,` `|` tab `;`. LIC and LIS
  are required on every line (an NCIC record always names the state). Category: from MKE when present
  (NCIC_MESSAGE_KEYS; an unknown key is a bad line), else from the NIC's file letter (NIC_FILES), else
  NCIC_DEFAULT_CATEGORY (extracts without either come from the vehicle file).
- Vendor CSV: `PlateNumber;PlateState;Category;EffectiveDate;ExpiryDate;Priority`, header required,
  semicolons. Categories through VENDOR_CATEGORIES; an unknown one is a bad line, never guessed.
- Custom: `plate,state,reason,owner,expires_at[,category]`; reason, owner and a future expiry required.
Dates: ISO 8601 (`2026-11-20`, `2026-11-20T08:00`, with `Z` or an offset) and the vendor forms
`11/20/2026`, `11/20/2026 08:00[:00]`, `20261120`; a time without offset is UTC. A date alone starts
at 00:00 UTC as an effective date and, as an expiry, covers that whole day (expires at the next 00:00).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from openrtcc.domain.errors import InvalidInput
from openrtcc.domain.hotlists import Category, HotListEntry, ListFormat
from openrtcc.domain.plates import is_pattern, normalize_plate, normalize_plate_pattern, normalize_state

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_ENTRIES = 5_000_000
NCIC_DEFAULT_CATEGORY = Category.STOLEN_VEHICLE
NIC_FILES = {"V": Category.STOLEN_VEHICLE, "L": Category.STOLEN_PLATE, "W": Category.WANTED_PERSON,
             "M": Category.MISSING_PERSON, "H": Category.PROTECTIVE_ORDER}
NCIC_MESSAGE_KEYS = {"EV": Category.STOLEN_VEHICLE, "EL": Category.STOLEN_PLATE, "EW": Category.WANTED_PERSON,
                     "EM": Category.MISSING_PERSON, "EMD": Category.MISSING_PERSON,
                     "EME": Category.MISSING_PERSON, "EMI": Category.MISSING_PERSON,
                     "EMJ": Category.MISSING_PERSON, "EMV": Category.MISSING_PERSON,
                     "EPO": Category.PROTECTIVE_ORDER, "ETO": Category.PROTECTIVE_ORDER,
                     "EGM": Category.GANG_TERRORIST, "ETM": Category.GANG_TERRORIST}
VENDOR_CATEGORIES = {
    **{cat.value: cat for cat in Category},
    "stolen": Category.STOLEN_VEHICLE, "sv": Category.STOLEN_VEHICLE, "stolen_auto": Category.STOLEN_VEHICLE,
    "sp": Category.STOLEN_PLATE, "stolen_tag": Category.STOLEN_PLATE, "stolen_license_plate": Category.STOLEN_PLATE,
    "amber": Category.AMBER_ALERT, "wanted": Category.WANTED_PERSON, "warrant": Category.WANTED_PERSON,
    "felony_warrant": Category.WANTED_PERSON, "missing": Category.MISSING_PERSON,
    "silver_alert": Category.MISSING_PERSON, "protection_order": Category.PROTECTIVE_ORDER,
    "gang": Category.GANG_TERRORIST, "terrorist": Category.GANG_TERRORIST, "sex_offender": Category.SEX_OFFENDER,
}
VENDOR_COLUMNS = ("platenumber", "platestate", "category", "effectivedate", "expirydate", "priority")
CUSTOM_COLUMNS = ("plate", "state", "reason", "owner", "expires_at")
DELIMITERS = ",|\t;"
_CATEGORY_VALUES = frozenset(c.value for c in Category)
_NIC_RE = re.compile(r"^[A-Z][0-9]{9}$")
_CODE_RE = re.compile(r"^[A-Z0-9/ -]{1,40}$")


@dataclass(frozen=True, slots=True)
class ParsedList:
    entries: tuple[HotListEntry, ...]
    records: int  # data lines read
    duplicates: int  # lines identical to an earlier one, dropped


class BadLine(Exception):
    """Raised inside a line parser; turned into InvalidInput naming the line."""

    def __init__(self, field: str, why: str):
        super().__init__(why)
        self.field, self.why = field, why


def parse_hot_list(data: bytes, fmt: ListFormat | str, now: datetime, *, max_bytes: int = MAX_FILE_BYTES,
                   max_entries: int = MAX_ENTRIES) -> ParsedList:
    """The whole file's entries, duplicates dropped; InvalidInput naming the first bad line and field."""
    fmt = ListFormat(fmt)
    if len(data) > max_bytes:
        raise InvalidInput(f"the file is larger than {max_bytes // (1024 * 1024)} MB", code="hot_list_too_large")
    text = _decode(data)
    if not text.strip():
        raise InvalidInput("the file is empty", code="hot_list_empty")
    first = text.splitlines()[0]
    delimiter = _sniff(first) if fmt == ListFormat.NCIC else ";" if fmt == ListFormat.VENDOR else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"', strict=True)
    line_parser = _HEADERS[fmt](_header(reader), now)
    entries: dict[tuple, HotListEntry] = {}
    records = 0
    for line, row in _rows(reader):
        records += 1
        if records > max_entries:
            raise InvalidInput(f"the file has more than {max_entries:,} entries", code="hot_list_too_many")
        try:
            entry = line_parser(row, line)
        except BadLine as bad:
            raise _bad(line, bad.field, bad.why) from None
        entries.setdefault(entry.identity(), entry)
    if records == 0:
        raise InvalidInput("the file has a header but no entries", code="hot_list_empty")
    return ParsedList(tuple(entries.values()), records, records - len(entries))


def _bad(line: int, field: str, why: str) -> InvalidInput:
    return InvalidInput(f"line {line}, field {field}: {why}", code="bad_hot_list_line",
                        details={"line": line, "field": field})


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise InvalidInput(f"line {line}: the file is not UTF-8 text (byte {exc.start})", code="bad_hot_list_line",
                           details={"line": line, "field": "encoding"}) from None


def _sniff(header: str) -> str:
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(counts, key=counts.get)
    if counts[best] == 0:
        raise _bad(1, "header", "no delimiter found (expected one of , | tab ;)")
    return best


def _header(reader) -> list[str]:
    try:
        header = next(reader)
    except csv.Error as exc:
        raise _bad(1, "header", str(exc)) from None
    return [h.strip().lower() for h in header]


def _rows(reader) -> Iterator[tuple[int, list[str]]]:
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise _bad(reader.line_num, "format", str(exc)) from None
        if not row or all(not cell.strip() for cell in row):
            continue
        yield reader.line_num, row


# --- one parser per format: header -> (row, line) -> entry --------------------------------------------

def _ncic(header: list[str], now: datetime) -> Callable[[list[str], int], HotListEntry]:
    codes = [h.upper() for h in header]
    for required in ("LIC", "LIS"):
        if required not in codes:
            raise _bad(1, "header", f"the NCIC header must name {required}")
    col = {code: i for i, code in enumerate(codes)}

    def parse(row: list[str], line: int) -> HotListEntry:
        get = _getter(row, col, len(codes))
        plate = _plate(get("LIC"), "LIC", allow_pattern=False)
        state = _state(get("LIS"), "LIS", required=True)
        nic = get("NIC").upper() or None
        if nic is not None and not _NIC_RE.match(nic):
            raise BadLine("NIC", "an NCIC number is one letter and nine digits")
        return HotListEntry(plate=plate, state=state, category=_ncic_category(get("MKE").upper(), nic),
                            year=_year(get("LIY"), now), plate_type=_code(get("LIT"), "LIT", 8),
                            make=_code(get("VMA"), "VMA", 40), colour=_code(get("VCO"), "VCO", 40),
                            ncic_number=nic, ori=_code(get("ORI"), "ORI", 16),
                            case_number=_text(get("OCA"), "OCA", 64), line=line)
    return parse


def _ncic_category(mke: str, nic: str | None) -> str:
    if mke:
        if mke not in NCIC_MESSAGE_KEYS:
            raise BadLine("MKE", f"unknown NCIC message key {mke!r}")
        return NCIC_MESSAGE_KEYS[mke].value
    if nic is not None and nic[0] in NIC_FILES:
        return NIC_FILES[nic[0]].value
    return NCIC_DEFAULT_CATEGORY.value


def _vendor(header: list[str], now: datetime) -> Callable[[list[str], int], HotListEntry]:
    missing = [c for c in VENDOR_COLUMNS if c not in header]
    if missing:
        raise _bad(1, "header", "the vendor header is PlateNumber;PlateState;Category;EffectiveDate;ExpiryDate;"
                                f"Priority (missing {', '.join(missing)})")
    col = {name: i for i, name in enumerate(header)}

    def parse(row: list[str], line: int) -> HotListEntry:
        get = _getter(row, col, len(header))
        name = re.sub(r"[\s\-]+", "_", get("category").lower())
        if name not in VENDOR_CATEGORIES:
            raise BadLine("Category", f"unknown category {get('category')!r}")
        effective = _date(get("effectivedate"), "EffectiveDate", end_of_day=False)
        expires = _date(get("expirydate"), "ExpiryDate", end_of_day=True)
        if effective and expires and expires <= effective:
            raise BadLine("ExpiryDate", "the expiry is not after the effective date")
        return HotListEntry(plate=_plate(get("platenumber"), "PlateNumber", allow_pattern=True),
                            state=_state(get("platestate"), "PlateState", required=False),
                            category=VENDOR_CATEGORIES[name].value, priority=_priority(get("priority")),
                            effective_at=effective, expires_at=expires, line=line)
    return parse


def _custom(header: list[str], now: datetime) -> Callable[[list[str], int], HotListEntry]:
    missing = [c for c in CUSTOM_COLUMNS if c not in header]
    if missing:
        raise _bad(1, "header", f"a custom list's header is plate,state,reason,owner,expires_at[,category] "
                                f"(missing {', '.join(missing)})")
    col = {name: i for i, name in enumerate(header)}

    def parse(row: list[str], line: int) -> HotListEntry:
        get = _getter(row, col, len(header))
        return custom_entry(get("plate"), get("state"), get("reason"), get("owner"), get("expires_at"),
                            get("category"), now, line)
    return parse


def custom_entry(plate: str, state: str, reason: str, owner: str, expires_at: str, category: str,
                 now: datetime, line: int | None = None) -> HotListEntry:
    """One custom entry, from a file line or from the add-entry form: reason, owner, future expiry."""
    cat = (category or Category.CUSTOM.value).strip().lower()
    if cat not in _CATEGORY_VALUES:
        raise BadLine("category", f"unknown category {category!r}")
    expires = _date(expires_at, "expires_at", end_of_day=True)
    if expires is None:
        raise BadLine("expires_at", "every custom entry needs an expiry")
    if expires <= now:
        raise BadLine("expires_at", "the expiry has already passed")
    return HotListEntry(plate=_plate(plate, "plate", allow_pattern=True), state=_state(state, "state", required=False),
                        category=cat, reason=_text(reason, "reason", 300, required=True),
                        owner=_text(owner, "owner", 120, required=True), expires_at=expires, line=line)


def form_entry(plate: str, state: str, reason: str, owner: str, expires_at: str, category: str,
               now: datetime) -> HotListEntry:
    """A custom entry typed into the hot-lists page: the same rules as a custom file's line."""
    try:
        return custom_entry(plate, state, reason, owner, expires_at, category, now)
    except BadLine as bad:
        raise InvalidInput(f"{bad.field}: {bad.why}", code="bad_hot_list_entry", details={"field": bad.field}) from None


_HEADERS = {ListFormat.NCIC: _ncic, ListFormat.VENDOR: _vendor, ListFormat.CUSTOM: _custom}


# --- fields -----------------------------------------------------------------------------------------

def _getter(row: list[str], col: dict[str, int], width: int) -> Callable[[str], str]:
    if len(row) != width:
        raise BadLine("format", f"{len(row)} fields where the header has {width}")

    def get(name: str) -> str:
        i = col.get(name)
        return row[i].strip() if i is not None else ""
    return get


def _plate(value: str, field: str, *, allow_pattern: bool) -> str:
    if not value:
        raise BadLine(field, "the plate is missing")
    if not allow_pattern and is_pattern(value):
        raise BadLine(field, "partial plates (* and ?) are not part of this format")
    try:
        if allow_pattern and is_pattern(value):
            return normalize_plate_pattern(value)
        return normalize_plate(value)
    except InvalidInput as exc:
        raise BadLine(field, exc.message) from None


def _state(value: str, field: str, *, required: bool) -> str | None:
    try:
        state = normalize_state(value)
    except InvalidInput as exc:
        raise BadLine(field, exc.message) from None
    if state is None and required:
        raise BadLine(field, "the state is missing")
    return state


def _text(value: str, field: str, limit: int, *, required: bool = False) -> str | None:
    if not value:
        if required:
            raise BadLine(field, f"the {field} is missing")
        return None
    if len(value) > limit:
        raise BadLine(field, f"longer than {limit} characters")
    return value


def _code(value: str, field: str, limit: int) -> str | None:
    if not value:
        return None
    value = value.upper()
    if len(value) > limit or not _CODE_RE.match(value):
        raise BadLine(field, f"letters and digits, at most {limit}")
    return value


def _year(value: str, now: datetime) -> int | None:
    if not value or value.upper() == "NX":  # NX: a non-expiring plate
        return None
    if not value.isdigit() or not 1900 <= int(value) <= now.year + 5:
        raise BadLine("LIY", "a four-digit year")
    return int(value)


def _priority(value: str) -> int | None:
    if not value:
        return None
    if not value.isdigit() or not 0 <= int(value) <= 99:
        raise BadLine("Priority", "a whole number from 0 to 99 (lower is more urgent)")
    return int(value)


_DATE_FORMS = ("%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y", "%Y%m%d")


def _date(value: str, field: str, *, end_of_day: bool) -> datetime | None:
    if not value:
        return None
    date_only = len(value) in (8, 10) and ":" not in value
    parsed = None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        for form in _DATE_FORMS:
            try:
                parsed = datetime.strptime(value, form)
                break
            except ValueError:
                continue
    if parsed is None:
        raise BadLine(field, "a date such as 2026-11-20, 2026-11-20T08:00Z or 11/20/2026")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    if date_only and end_of_day:
        parsed += timedelta(days=1)
    return parsed.astimezone(UTC)
