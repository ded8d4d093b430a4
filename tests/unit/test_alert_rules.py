"""Alert rules, read messages and export cells: pure, table-driven."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from openrtcc.domain.alerts import AlertStatus, disposition_status, entry_snapshot, kind_rank
from openrtcc.domain.errors import Conflict, InvalidInput
from openrtcc.domain.hotlists import HotListEntry
from openrtcc.domain.reads import ReadBatch, ReadIn, check_batch, content_hash, read_state, sniff_image
from openrtcc.services.plate_search import plate_hint
from openrtcc.web.plate_export import safe_cell

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
S = AlertStatus


@pytest.mark.parametrize("current,disposition,expected", [
    (S.NEW, "confirmed", S.CONFIRMED), (S.NEW, "misread", S.MISREAD), (S.NEW, "wrong_state", S.WRONG_STATE),
    (S.NEW, "resolved", S.RESOLVED), (S.CONFIRMED, "resolved", S.RESOLVED),
    (S.CONFIRMED, "misread", Conflict), (S.CONFIRMED, "confirmed", Conflict), (S.MISREAD, "confirmed", Conflict),
    (S.WRONG_STATE, "resolved", Conflict), (S.RESOLVED, "confirmed", Conflict),
    (S.NEW, "new", InvalidInput), (S.NEW, "arrest", InvalidInput), (S.NEW, "CONFIRMED", InvalidInput),
])
def test_disposition_moves(current, disposition, expected):
    if isinstance(expected, type):
        with pytest.raises(expected):
            disposition_status(current, disposition, None)
    else:
        assert disposition_status(current, disposition, "checked") is expected


def test_a_long_note_is_refused():
    with pytest.raises(InvalidInput):
        disposition_status(S.NEW, "confirmed", "x" * 501)


def test_match_kinds_rank_best_first_and_unknown_last():
    assert [kind_rank(k) for k in ("exact", "lookalike", "one_edit", "partial")] == sorted(
        kind_rank(k) for k in ("exact", "lookalike", "one_edit", "partial"))
    assert kind_rank("exact") < kind_rank("partial") < kind_rank("something_new")


def test_the_entry_snapshot_is_json_ready():
    e = HotListEntry("ABC123", "CA", "stolen_vehicle", expires_at=NOW, make="TOYT")
    snap = entry_snapshot(e)
    assert snap["expires_at"] == "2026-11-20T15:00:00+00:00" and snap["make"] == "TOYT" and snap["state"] == "CA"


def read(**kw) -> dict:
    return {"read_id": "r-1", "plate": "abc 123", "confidence": 0.9, "captured_at": NOW.isoformat(), **kw}


@pytest.mark.parametrize("fields,default,expected", [
    ({"state": "ca"}, "WI", "CA"), ({"state": "US-MN"}, None, "MN"), ({"region": "US-IL"}, "WI", "IL"),
    ({"region": "BR"}, "WI", "WI"), ({}, "WI", "WI"), ({}, None, None), ({"state": ""}, None, None),
])
def test_the_state_a_read_is_matched_under(fields, default, expected):
    assert read_state(ReadIn.model_validate(read(**fields)), default) == expected


@pytest.mark.parametrize("skew,ok", [(timedelta(minutes=4, seconds=59), True), (timedelta(minutes=5, seconds=1), False),
                                     (timedelta(days=-3), True)])
def test_clock_skew_bound(skew, ok):
    batch = ReadBatch(version=1, reads=[ReadIn.model_validate(read(captured_at=(NOW + skew).isoformat()))])
    if ok:
        check_batch(batch, NOW)
    else:
        with pytest.raises(InvalidInput):
            check_batch(batch, NOW)


def test_content_hash_tells_a_retry_from_a_change():
    base = ReadIn.model_validate(read())
    assert content_hash(base) == content_hash(ReadIn.model_validate(read(plate="ABC-123")))  # same plate
    assert content_hash(base) == content_hash(ReadIn.model_validate(read(captured_at="2026-11-20T16:00:00+01:00")))
    assert content_hash(base) != content_hash(ReadIn.model_validate(read(confidence=0.91)))
    assert content_hash(base) != content_hash(ReadIn.model_validate(read(state="CA")))


@pytest.mark.parametrize("head,expected", [
    (b"\xff\xd8\xff\xe0rest", "image/jpeg"), (b"\x89PNG\r\n\x1a\nrest", "image/png"), (b"GIF89a", None),
    (b"<svg", None), (b"<html>", None), (b"", None), (b"\xff\xd8", None),
])
def test_images_are_sniffed_from_their_bytes(head, expected):
    assert (sniff_image(head) or (None,))[0] == expected


@pytest.mark.parametrize("value,expected", [
    ("=1+1", "'=1+1"), ("+red", "'+red"), ("-2", "'-2"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"),
    ("\rx", "'\rx"), ("Toyota", "Toyota"), (None, ""), (-87.5, -87.5), (0.9, 0.9),
])
def test_csv_cells_cannot_start_a_formula(value, expected):
    assert safe_cell(value) == expected


@pytest.mark.parametrize("plate,hint", [("ABC123", "ABC###"), ("AB", "AB"), ("7TQ*", "7TQ#"), ("*BC12*", "*BC###")])
def test_searched_plates_are_minimised_for_the_audit_trail(plate, hint):
    assert plate_hint(plate) == hint
