"""Hot-list file parsers: the three formats, their categories and dates, and every bad line named."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from openrtcc.domain.errors import InvalidInput
from openrtcc.domain.hotlist_formats import parse_hot_list
from openrtcc.domain.hotlists import ListFreshness, stale_lists

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
NCIC_HEADER = "LIC|LIS|LIY|LIT|VMA|VCO|NIC|ORI|OCA"
VENDOR_HEADER = "PlateNumber;PlateState;Category;EffectiveDate;ExpiryDate;Priority"
CUSTOM_HEADER = "plate,state,reason,owner,expires_at,category"


def parse(text: str | bytes, fmt: str, **kw):
    return parse_hot_list(text.encode() if isinstance(text, str) else text, fmt, NOW, **kw)


def test_ncic_extract_fields_and_categories():
    text = "\n".join([NCIC_HEADER,
                      "ABC-1234|ca|2027|PC|TOYT|BLK|V123456789|CA0123456|24-001",
                      '"MTB 4417"|MT|NX|MC|HOND|RED/BLK|L000000001|MT0000000|',
                      "W1ZARD|NV|||||W000000042||",
                      "NONIC1|NV||||||NV0000000|"])
    parsed = parse(text, "ncic")
    first, plate, wanted, default = parsed.entries
    assert (first.plate, first.state, first.year, first.plate_type, first.make, first.colour, first.ncic_number,
            first.ori, first.case_number, first.category, first.line) == (
        "ABC1234", "CA", 2027, "PC", "TOYT", "BLK", "V123456789", "CA0123456", "24-001", "stolen_vehicle", 2)
    assert (plate.plate, plate.year, plate.colour, plate.category) == ("MTB4417", None, "RED/BLK", "stolen_plate")
    assert wanted.category == "wanted_person"
    assert default.category == "stolen_vehicle"  # NCIC_DEFAULT_CATEGORY: no MKE, no NIC
    assert (parsed.records, parsed.duplicates) == (4, 0)


@pytest.mark.parametrize("delimiter", [",", "|", "\t", ";"])
def test_ncic_delimiter_is_sniffed(delimiter):
    text = delimiter.join(["OCA", "LIC", "LIS"]) + "\n" + delimiter.join(['"24,7"', "AB 123", "WA"]) + "\n"
    (entry,) = parse(text, "ncic").entries
    assert (entry.plate, entry.state, entry.case_number) == ("AB123", "WA", "24,7")


def test_ncic_message_key_column_sets_the_category():
    (entry,) = parse("MKE,LIC,LIS,NIC\nEMD,ABC123,CA,V123456789\n", "ncic").entries
    assert entry.category == "missing_person"  # the message key wins over the NIC's file letter


def test_vendor_csv_categories_dates_and_priorities():
    text = "\n".join([VENDOR_HEADER,
                      "ABC1234;CA;Stolen Vehicle;2026-11-01;2026-12-31;1",
                      "ab?12*;;AMBER;11/19/2026 08:30;;",
                      "XYZ987;US-TX;warrant;20261101;2027-01-01T00:00:00-06:00;7"])
    stolen, partial, warrant = parse(text, "vendor").entries
    assert (stolen.category, stolen.priority, stolen.effective_at, stolen.expires_at) == (
        "stolen_vehicle", 1, datetime(2026, 11, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))  # whole last day
    assert (partial.plate, partial.state, partial.category, partial.effective_at) == (
        "AB?12*", None, "amber_alert", datetime(2026, 11, 19, 8, 30, tzinfo=UTC))
    assert (warrant.state, warrant.category, warrant.expires_at) == (
        "TX", "wanted_person", datetime(2027, 1, 1, 6, 0, tzinfo=UTC))


def test_custom_list_entries_and_duplicates():
    text = "\n".join([CUSTOM_HEADER,
                      "7ABC123,CA,seen at burglary,det. Ruiz,2026-12-01,",
                      "7ABC123,CA,seen at burglary,det. Ruiz,2026-12-01,",
                      "",
                      "*4417,,tail from witness,det. Ruiz,2026-11-21T12:00Z,protective_order"])
    parsed = parse(text, "custom")
    assert [(e.plate, e.category, e.line) for e in parsed.entries] == [("7ABC123", "custom", 2),
                                                                     ("*4417", "protective_order", 5)]
    assert (parsed.records, parsed.duplicates) == (3, 1)
    assert parsed.entries[0].reason == "seen at burglary" and parsed.entries[0].owner == "det. Ruiz"


BAD = [
    # format, file, line, field
    ("ncic", f"{NCIC_HEADER}\nABC123|CA||||||CA0123456|\nABC124|ZZ||||||CA0123456|\n", 3, "LIS"),
    ("ncic", f"{NCIC_HEADER}\nABC123|||||||CA0123456|\n", 2, "LIS"),
    ("ncic", f"{NCIC_HEADER}\n|CA||||||CA0123456|\n", 2, "LIC"),
    ("ncic", f"{NCIC_HEADER}\nAB*123|CA||||||CA0123456|\n", 2, "LIC"),
    ("ncic", f"{NCIC_HEADER}\nABCDEFGHIJK|CA||||||CA0123456|\n", 2, "LIC"),
    ("ncic", f"{NCIC_HEADER}\nABC123|CA|19X5|||||CA0123456|\n", 2, "LIY"),
    ("ncic", f"{NCIC_HEADER}\nABC123|CA||||||CA0123456\n", 2, "format"),
    ("ncic", f"{NCIC_HEADER}\nABC123|CA|||||X12|CA0123456|\n", 2, "NIC"),
    ("ncic", "MKE,LIC,LIS\nXX,ABC123,CA\n", 2, "MKE"),
    ("ncic", "LIC,LIS\n\"ABC,CA\n", 2, "format"),
    ("ncic", "PLATE,STATE\nABC,CA\n", 1, "header"),
    ("ncic", "LICLIS\nABC\n", 1, "header"),
    ("vendor", f"{VENDOR_HEADER}\nABC123;CA;Bicycle;;;\n", 2, "Category"),
    ("vendor", f"{VENDOR_HEADER}\nABC123;CA;stolen;yesterday;;\n", 2, "EffectiveDate"),
    ("vendor", f"{VENDOR_HEADER}\nABC123;CA;stolen;2026-12-01;2026-11-01;\n", 2, "ExpiryDate"),
    ("vendor", f"{VENDOR_HEADER}\nABC123;CA;stolen;;;high\n", 2, "Priority"),
    ("vendor", f"{VENDOR_HEADER}\nA*;CA;stolen;;;\n", 2, "PlateNumber"),
    ("vendor", "PlateNumber,PlateState,Category,EffectiveDate,ExpiryDate,Priority\nABC,CA,stolen,,,\n", 1, "header"),
    ("custom", f"{CUSTOM_HEADER}\nABC123,CA,,det. Ruiz,2026-12-01,\n", 2, "reason"),
    ("custom", f"{CUSTOM_HEADER}\nABC123,CA,why,,2026-12-01,\n", 2, "owner"),
    ("custom", f"{CUSTOM_HEADER}\nABC123,CA,why,det. Ruiz,,\n", 2, "expires_at"),
    ("custom", f"{CUSTOM_HEADER}\nABC123,CA,why,det. Ruiz,2026-11-20T14:00Z,\n", 2, "expires_at"),
    ("custom", f"{CUSTOM_HEADER}\nABC123,CA,why,det. Ruiz,2026-12-01,bogus\n", 2, "category"),
    ("custom", "plate,state,reason,owner\nABC123,CA,why,det. Ruiz\n", 1, "header"),
]


@pytest.mark.parametrize("fmt, text, line, field", BAD, ids=[f"{b[0]}-{b[3]}-{i}" for i, b in enumerate(BAD)])
def test_bad_line_is_named(fmt, text, line, field):
    with pytest.raises(InvalidInput) as err:
        parse(text, fmt)
    assert err.value.details == {"line": line, "field": field}
    assert err.value.message.startswith(f"line {line}")


@pytest.mark.parametrize("data, code", [
    (b"", "hot_list_empty"), (b"  \n\n", "hot_list_empty"), (b"LIC,LIS\n", "hot_list_empty"),
    (b"LIC,LIS\n\n\n", "hot_list_empty"), (b"LIC,LIS\nABC123,CA\n" * 10, "hot_list_too_large"),
])
def test_whole_file_problems(data, code):
    with pytest.raises(InvalidInput) as err:
        parse(data, "ncic", max_bytes=100)
    assert err.value.code == code


def test_encoding_error_names_the_line():
    with pytest.raises(InvalidInput) as err:
        parse(b"LIC,LIS\nABC123,CA\nAB\xe9123,CA\n", "ncic")
    assert err.value.details == {"line": 3, "field": "encoding"}


def test_entry_limit():
    with pytest.raises(InvalidInput) as err:
        parse("LIC,LIS\n" + "".join(f"ABC{i:03},CA\n" for i in range(11)), "ncic", max_entries=10)
    assert err.value.code == "hot_list_too_many"


def test_bom_and_crlf_are_accepted():
    (entry,) = parse(b"\xef\xbb\xbfLIC,LIS\r\nABC123,CA\r\n", "ncic").entries
    assert (entry.plate, entry.state) == ("ABC123", "CA")


H = 3600


@pytest.mark.parametrize("hours, refreshed_ago, alarm, due", [
    (None, 10 * H, False, False),  # not a feed
    (6, 5 * H, False, False),
    (6, 6 * H, False, True),
    (6, 7 * H, True, False),  # alarm already raised
    (6, None, False, True),  # never imported: counted from creation (7 h ago)
])
def test_stale_lists(hours, refreshed_ago, alarm, due):
    from datetime import timedelta

    refreshed = None if refreshed_ago is None else NOW - timedelta(seconds=refreshed_ago)
    fl = ListFreshness("l1", hours, refreshed, NOW - timedelta(hours=7), NOW if alarm else None)
    assert stale_lists([fl], NOW) == (["l1"] if due else [])
