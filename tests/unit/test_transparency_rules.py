"""The public portal's rules: stable keyed pseudonyms and plate hashes, audit details reduced to counts and codes,
the misread rate, the CSV rows (spreadsheet-safe), and the in-memory cache and per-client budget."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from openrtcc.domain.audit import GENESIS_HASH, AuditEntry, chain
from openrtcc.domain.errors import RateLimited
from openrtcc.domain.transparency import misread_rate, plate_hash, pseudonym, public_audit_record, public_details
from openrtcc.services.public_cache import PublicCache, PublicLimits
from openrtcc.web.public_csv import csv_text

KEY = b"k" * 32


class Clock:
    def __init__(self):
        self.t = datetime(2026, 11, 20, 15, tzinfo=UTC)

    def now(self):
        return self.t


def test_pseudonyms_are_stable_keyed_and_short():
    a = pseudonym(KEY, "0b7c-user")
    assert a == pseudonym(KEY, "0b7c-user") and a.startswith("user-") and len(a) == 15
    assert a != pseudonym(KEY, "another-user") and a != pseudonym(b"x" * 32, "0b7c-user")
    assert pseudonym(KEY, None) == "system"


def test_plate_hashes_ignore_spacing_and_case_but_not_the_key():
    h = plate_hash(KEY, "ABC 123")
    assert h == plate_hash(KEY, "abc123") and h.startswith("plate-") and "ABC" not in h
    assert h != plate_hash(KEY, "ABC124") and h != plate_hash(b"y" * 32, "ABC123")


@pytest.mark.parametrize(("details", "expected"), [
    ({"purpose": "stolen_vehicle", "offence": "240", "count": 3}, {"purpose": "stolen_vehicle", "offence": "240",
                                                                     "count": 3}),
    ({"purpose": "hunch about my neighbour"}, {}),  # free text is not a purpose
    ({"offence": "999"}, {}),
    ({"case": "24-0815", "note": "blue van", "reason": "tip from Mrs Smith", "name": "Olga", "email": "o@x.test"}, {}),
    ({"plate": "AB***3"}, {}),  # a masked hint is dropped, never hashed
    ({"plate": "QZX####", "code": "purpose_prohibited", "cameras": 12}, {"code": "purpose_prohibited",
                                                                         "cameras": 12}),
    ({"status": "Misread by Det. Moss"}, {}),  # a listed key with free text in it
    ({"kind": "lpr_camera", "page": True, "bbox": [1, 2, 3, 4], "lat": 43.01}, {"kind": "lpr_camera", "page": True}),
])
def test_audit_details_keep_only_counts_and_codes(details, expected):
    assert public_details(KEY, details) == expected


def test_a_full_plate_in_the_details_is_published_as_its_hash():
    out = public_details(KEY, {"plate": "QZX4821", "partial": "7XY*"})
    assert out == {"plate_hash": plate_hash(KEY, "QZX4821")}


def test_a_public_record_has_no_address_account_or_target_text():
    entry = AuditEntry("camera.read", "success", "user-uuid-1", "agency-1", "case:24-0815", "203.0.113.9",
                       {"purpose": "criminal_investigation", "case": "24-0815"})
    rec = chain(1, datetime(2026, 11, 20, tzinfo=UTC), entry, GENESIS_HASH)
    public = public_audit_record(KEY, rec).model_dump_json()
    for secret in ("user-uuid-1", "24-0815", "203.0.113.9"):
        assert secret not in public
    out = public_audit_record(KEY, rec)
    assert out.target_kind == "case" and out.hash == rec.hash and out.actor == pseudonym(KEY, "user-uuid-1")


def test_misread_rate_counts_only_checked_alerts():
    assert misread_rate({"new": 9}) is None
    assert misread_rate({"new": 5, "confirmed": 3, "misread": 1}) == 0.25
    assert misread_rate({"confirmed": 1, "misread": 1, "wrong_state": 1, "resolved": 1}) == 0.5


def test_csv_cells_a_spreadsheet_would_run_are_quoted_as_text():
    body = csv_text(("item", "value"), [("=HYPERLINK(\"http://evil\")", "-12"), ("@SUM(A1)", "+1 x")])
    assert "'=HYPERLINK" in body and "'@SUM" in body and "'+1 x" in body and ",-12" in body


def test_the_cache_builds_once_per_time_to_live():
    clock, builds = Clock(), []
    cache = PublicCache(clock, PublicLimits(ttl=timedelta(seconds=60)))
    assert cache.get(("r", "a"), lambda: builds.append(1) or "v1") == ("v1", True)
    assert cache.get(("r", "a"), lambda: builds.append(1) or "v2") == ("v1", False)
    clock.t += timedelta(seconds=60)
    assert cache.get(("r", "a"), lambda: builds.append(1) or "v3") == ("v3", True)
    cache.forget(("r",))
    assert cache.get(("r", "a"), lambda: "v4") == ("v4", True) and len(builds) == 2
    clock.t -= timedelta(hours=1)  # a clock set back: the cached copy is not trusted
    assert cache.get(("r", "a"), lambda: "v5") == ("v5", True)


def test_each_client_has_its_own_budget_and_the_first_refusal_is_marked():
    clock = Clock()
    cache = PublicCache(clock, PublicLimits(per_client_per_minute=2, max_clients=2))
    cache.admit("a")
    cache.admit("a")
    with pytest.raises(RateLimited) as first:
        cache.admit("a")
    with pytest.raises(RateLimited) as second:
        cache.admit("a")
    assert first.value.first and not second.value.first and first.value.details["retry_after_s"] >= 1
    cache.admit("b")  # another client is not held back
    clock.t += timedelta(seconds=61)
    cache.admit("a")
    cache.admit("c")
    cache.admit("d")  # over max_clients: the oldest is forgotten, memory stays bounded
    assert len(cache._hits) == 2
