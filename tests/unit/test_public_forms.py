"""The public forms' rules, table-driven: addresses, circles, tip places, media sniffing, rate-limit waits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from openrtcc.domain.dissemination import ChannelKind
from openrtcc.domain.errors import Conflict, InvalidInput
from openrtcc.domain.geo import area_from_geojson
from openrtcc.domain.public_forms import (
    TipStatus,
    address_hint,
    audit_source,
    check_categories,
    check_tip_place,
    check_tip_text,
    circle_geofence,
    client_hash,
    excerpt,
    next_tip_status,
    normalise_address,
    retry_after_s,
    sniff_tip_media,
)
from tests.conftest import LAKEPORT

AREA = area_from_geojson(LAKEPORT)
NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize("channel, raw, stored", [
    (ChannelKind.EMAIL, " Rita@Example.ORG ", "rita@example.org"),
    (ChannelKind.SMS, "+1 (414) 555-0100", "+14145550100"),
    (ChannelKind.SMS, "0044 7700 900123", "+447700900123"),
    (ChannelKind.PUSH, "lakeport_rita-2026", "lakeport_rita-2026"),
])
def test_addresses_are_stored_in_one_form(channel, raw, stored):
    assert normalise_address(channel, raw) == stored


@pytest.mark.parametrize("channel, raw", [
    (ChannelKind.EMAIL, "rita"), (ChannelKind.EMAIL, "rita@localhost"), (ChannelKind.EMAIL, "a b@example.org"),
    (ChannelKind.SMS, "4145550100"), (ChannelKind.SMS, "+1 414 555 01x0"), (ChannelKind.PUSH, "short"),
    (ChannelKind.PUSH, "../../etc/passwd"), (ChannelKind.WEBHOOK, "https://example.org"),
])
def test_bad_addresses_are_refused(channel, raw):
    with pytest.raises(InvalidInput):
        normalise_address(channel, raw)


def test_hints_show_enough_to_recognise_an_address_and_no_more():
    assert address_hint("email", "rita@example.org") == "r***@example.org"
    assert address_hint("sms", "+14145550100") == "+1*** ***00"
    assert address_hint("push", "lakeport_rita") == "la***"


def test_a_circle_must_be_centred_in_the_jurisdiction_with_a_sensible_radius():
    assert circle_geofence(43.0, -87.92, 750.4, AREA) == {"type": "Circle", "center": [-87.92, 43.0], "radius_m": 750}
    for lat, lon, radius in ((40.7, -74.0, 500), (43.0, -87.92, 50), (43.0, -87.92, 50_000),
                             (43.0, -87.92, float("nan")), (91.0, 0.0, 500)):
        with pytest.raises(InvalidInput):
            circle_geofence(lat, lon, radius, AREA)


def test_categories_are_known_ones_in_a_fixed_order():
    assert check_categories(["fire", "burglary", "fire"]) == ["burglary", "fire"]
    assert check_categories([]) == []
    with pytest.raises(InvalidInput):
        check_categories(["plate_alert"])


@pytest.mark.parametrize("hits, limit, wait", [
    ([], 1, None),
    ([NOW - timedelta(minutes=10)], 2, None),
    ([NOW - timedelta(minutes=10), NOW - timedelta(minutes=5)], 2, 3000),
    ([NOW - timedelta(minutes=70), NOW - timedelta(minutes=5)], 2, None),  # the older one left the window
    ([NOW - timedelta(minutes=50), NOW - timedelta(minutes=40), NOW - timedelta(minutes=5)], 2, 1200),
])
def test_the_wait_is_until_enough_hits_leave_the_hour(hits, limit, wait):
    assert retry_after_s(hits, limit, NOW) == wait


def test_client_hashes_are_keyed_and_never_hold_the_address():
    a, b = client_hash(b"k" * 32, "203.0.113.9"), client_hash(b"j" * 32, "203.0.113.9")
    assert a != b and len(a) == 64 and "203" not in audit_source(b"k" * 32, "203.0.113.9")
    assert len(audit_source(b"k" * 32, "203.0.113.9")) <= 64


def test_tip_text_and_place():
    assert check_tip_text("  Saw it  ") == "Saw it"
    for bad in ("", "   ", "x" * 4001):
        with pytest.raises(InvalidInput):
            check_tip_text(bad)
    assert check_tip_place(None, None, "  ", AREA).text is None
    assert check_tip_place(43.0000004, -87.92, "Main St", AREA).lat == 43.0
    for lat, lon in ((43.0, None), (40.7, -74.0), (float("inf"), -87.92)):
        with pytest.raises(InvalidInput):
            check_tip_place(lat, lon, None, AREA)


@pytest.mark.parametrize("head, kind", [
    (b"\xff\xd8\xff\xe0" + b"\x00" * 60, "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 56, "image/png"),
    (b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x00" * 48, "image/webp"),
    (b"\x00\x00\x00\x20ftypisom" + b"\x00" * 52, "video/mp4"),
    (b"\x00\x00\x00\x14ftypqt  " + b"\x00" * 52, "video/quicktime"),
    (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01webm" + b"\x00" * 50, "video/webm"),
])
def test_tip_media_is_known_by_its_bytes(head, kind):
    assert sniff_tip_media(head)[0] == kind


@pytest.mark.parametrize("head", [b"GIF89a" + b"\x00" * 58, b"%PDF-1.7" + b"\x00" * 56, b"RIFF\x00\x00\x00\x00AVI " +
                                  b"\x00" * 52, b"\x1a\x45\xdf\xa3matroska" + b"\x00" * 52, b"<svg>" + b"\x00" * 59])
def test_other_files_are_refused(head):
    with pytest.raises(InvalidInput):
        sniff_tip_media(head)


def test_tip_status_moves():
    assert next_tip_status(TipStatus.NEW, TipStatus.REVIEWED) is TipStatus.REVIEWED
    assert next_tip_status(TipStatus.REVIEWED, TipStatus.PROMOTED) is TipStatus.PROMOTED
    for current, wanted in ((TipStatus.PROMOTED, TipStatus.DISMISSED), (TipStatus.DISMISSED, TipStatus.REVIEWED),
                            (TipStatus.REVIEWED, TipStatus.REVIEWED)):
        with pytest.raises(Conflict):
            next_tip_status(current, wanted)


def test_excerpts_are_one_short_line():
    assert excerpt("a\n\nb   c") == "a b c"
    assert len(excerpt("word " * 100)) == 140 and excerpt("word " * 100).endswith("…")
