"""The pure sharing rules: deny by default, one-to-one grants per kind and purpose with an expiry, the
federal rules, prohibited purposes, and which shared hot lists apply to matching."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from openrtcc.domain.errors import Forbidden, InvalidInput
from openrtcc.domain.governance import AgencyKind, DataKind
from openrtcc.domain.search_purposes import DEFAULT_PROHIBITED
from openrtcc.domain.sharing import (
    GrantDraft,
    SharedList,
    SharingGrant,
    applying_shared_lists,
    decide_share,
    validate_grant,
)

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
LOCAL, FEDERAL = AgencyKind.LOCAL, AgencyKind.FEDERAL
READS = DataKind.PLATE_READS


def grant(**kw) -> SharingGrant:
    values = dict(id="g1", from_agency_id="A", to_agency_id="B", data_kind=READS,
                  purposes=frozenset({"criminal_investigation"}), created_at=NOW - timedelta(days=1),
                  expires_at=NOW + timedelta(days=30))
    values.update(kw)
    return SharingGrant(**values)


def decide(grants, purpose="criminal_investigation", *, to="B", kind=READS, at=NOW, recipient=LOCAL,
           prohibited=DEFAULT_PROHIBITED):
    return decide_share(grants, "A", to, kind, purpose, at, recipient, prohibited)


def draft(**kw) -> GrantDraft:
    values = dict(from_agency_id="A", to_agency_id="B", data_kind="plate_reads",
                  purposes=["criminal_investigation"], expires_at=NOW + timedelta(days=30))
    values.update(kw)
    return GrantDraft(**values)


def refused(d: GrantDraft, recipient=LOCAL, prohibited=DEFAULT_PROHIBITED) -> tuple[type, str]:
    with pytest.raises((InvalidInput, Forbidden)) as err:
        validate_grant(d, NOW, recipient, prohibited)
    return type(err.value), err.value.code


def test_denied_by_default_and_own_data_needs_no_grant():
    assert decide([]) == decide([], "missing_person")
    assert (decide([]).allowed, decide([]).reason) == (False, "no_grant")
    own = decide_share([], "A", "A", READS, "criminal_investigation", NOW, LOCAL, DEFAULT_PROHIBITED)
    assert (own.allowed, own.reason) == (True, "own_agency")


def test_a_grant_is_one_to_one_one_kind_named_purposes():
    g = grant()
    assert (decide([g]).allowed, decide([g]).grant_id) == (True, "g1")
    assert decide([g], to="C").reason == "no_grant"  # another recipient gets nothing
    assert decide([g], kind=DataKind.CAMERA_LOCATIONS).reason == "no_grant"  # another kind of data neither
    assert decide([g], "stolen_vehicle").reason == "purpose_not_granted"
    assert decide([g], "free text is no purpose").reason == "purpose_not_granted"


def test_expiry_with_the_clock_and_revocation():
    g = grant()
    assert decide([g], at=g.expires_at - timedelta(microseconds=1)).allowed
    assert decide([g], at=g.expires_at).reason == "expired"  # the expiry itself is already outside
    revoked = replace(g, revoked_at=NOW - timedelta(minutes=1))
    assert decide([revoked]).reason == "revoked"
    assert (g.status(NOW), revoked.status(NOW), g.status(g.expires_at)) == ("live", "revoked", "expired")
    renewed = grant(id="g2", expires_at=NOW + timedelta(days=200))
    assert decide([revoked, renewed]).grant_id == "g2"
    assert decide([grant(), renewed]).grant_id == "g2"  # the one that lasts longest answers


def test_a_purpose_the_source_prohibits_later_is_denied_whatever_the_grant_says():
    g = grant(purposes=frozenset({"criminal_investigation", "civil_traffic"}))
    assert decide([g], "civil_traffic").allowed
    assert decide([g], "civil_traffic", prohibited=DEFAULT_PROHIBITED | {"civil_traffic"}).reason == \
        "prohibited_by_source"


def test_a_federal_recipient_needs_the_one_to_one_acknowledgement():
    plain = grant()
    assert decide([plain], recipient=FEDERAL).reason == "federal_needs_one_to_one"  # became federal after
    acknowledged = grant(federal_one_to_one=True)
    assert decide([acknowledged], recipient=FEDERAL).allowed


def test_validate_grant_accepts_a_complete_grant_and_cleans_it():
    v = validate_grant(draft(purposes=[" criminal_investigation ", "stolen_vehicle", ""], note="  MOU 2026-4 "),
                       NOW, LOCAL, DEFAULT_PROHIBITED)
    assert (v.data_kind, v.purposes, v.note, v.federal_one_to_one) == (
        READS, frozenset({"criminal_investigation", "stolen_vehicle"}), "MOU 2026-4", False)
    far = validate_grant(draft(expires_at=NOW + timedelta(days=365)), NOW, LOCAL, DEFAULT_PROHIBITED)
    assert far.expires_at == NOW + timedelta(days=365)


@pytest.mark.parametrize(("changes", "expected"), [
    ({"to_agency_id": "A"}, (InvalidInput, "self_grant")),
    ({"data_kind": "faces"}, (InvalidInput, "bad_data_kind")),
    ({"purposes": []}, (InvalidInput, "purposes_required")),
    ({"purposes": ["  "]}, (InvalidInput, "purposes_required")),
    ({"purposes": ["any lawful purpose"]}, (InvalidInput, "unknown_purpose")),
    ({"purposes": ["criminal_investigation", "immigration_enforcement"]}, (Forbidden, "purpose_prohibited")),
    ({"purposes": ["protest_activity"]}, (Forbidden, "purpose_prohibited")),
    ({"data_kind": "hot_lists"}, (InvalidInput, "hotlist_purpose_required")),
    ({"expires_at": None}, (InvalidInput, "expiry_required")),
    ({"expires_at": datetime(2026, 12, 1, 12, 0)}, (InvalidInput, "bad_expiry")),  # no time zone
    ({"expires_at": NOW}, (InvalidInput, "bad_expiry")),
    ({"expires_at": NOW - timedelta(days=1)}, (InvalidInput, "bad_expiry")),
    ({"expires_at": NOW + timedelta(days=365, seconds=1)}, (InvalidInput, "expiry_too_long")),
    ({"federal_one_to_one": True}, (InvalidInput, "not_federal")),
    ({"note": "x" * 501}, (InvalidInput, "bad_note")),
    ({"note": "MOU\x00 7"}, (InvalidInput, "bad_note")),
])
def test_each_grant_rule_refuses_with_its_own_code(changes, expected):
    assert refused(draft(**changes)) == expected


def test_federal_grant_rules():
    assert refused(draft(), recipient=FEDERAL) == (Forbidden, "federal_acknowledgement_required")
    assert refused(draft(federal_one_to_one=True, expires_at=NOW + timedelta(days=91)), recipient=FEDERAL) == (
        InvalidInput, "expiry_too_long")
    assert refused(draft(federal_one_to_one=True, purposes=["immigration_enforcement"]), recipient=FEDERAL) == (
        Forbidden, "purpose_prohibited")
    ok = validate_grant(draft(federal_one_to_one=True, expires_at=NOW + timedelta(days=90)), NOW, FEDERAL,
                        DEFAULT_PROHIBITED)
    assert ok.federal_one_to_one


def test_a_source_that_allows_a_commonly_prohibited_purpose_may_grant_it():
    v = validate_grant(draft(purposes=["civil_traffic"]), NOW, LOCAL, frozenset())
    assert v.purposes == {"civil_traffic"}


def test_shared_lists_apply_while_a_hot_list_grant_for_hit_follow_up_lives():
    hot = grant(data_kind=DataKind.HOT_LISTS, purposes=frozenset({"hot_list_follow_up"}))
    listed = SharedList("L1", 3, "A", (hot,), LOCAL, DEFAULT_PROHIBITED)
    assert applying_shared_lists([listed], "B", NOW) == [(listed, hot.expires_at)]
    assert applying_shared_lists([listed], "B", hot.expires_at) == []
    reads_only = SharedList("L1", 3, "A", (grant(),), LOCAL, DEFAULT_PROHIBITED)  # a grant of reads, not lists
    assert applying_shared_lists([reads_only], "B", NOW) == []
    assert applying_shared_lists([replace(listed, grants=())], "B", NOW) == []
    assert applying_shared_lists([replace(listed, recipient_kind=FEDERAL)], "B", NOW) == []
