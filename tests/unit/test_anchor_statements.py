"""Audit anchors, pure: the signed statement's one byte form, parsing hostile documents, and a chain checked
against an anchor (a rewritten record is caught even when every later hash was recomputed)."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from openrtcc.adapters.signing import Ed25519Signer
from openrtcc.domain.anchors import (
    SignedAnchor,
    check_chain_against,
    check_chain_against_all,
    head_statement,
    parse_anchor_document,
    signature_problem,
    valid_day,
)
from openrtcc.domain.audit import GENESIS_HASH, AuditEntry, chain
from openrtcc.domain.errors import InvalidInput
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

T0 = datetime(2026, 11, 20, 23, 59, 59, 123456, tzinfo=UTC)


def records(n: int, start=T0) -> list:
    out, prev = [], GENESIS_HASH
    for seq in range(1, n + 1):
        r = chain(seq, start + timedelta(seconds=seq), AuditEntry("camera.create", "success", "u1", "a1",
                                                                   f"camera:{seq}", "127.0.0.1", {"n": seq}), prev)
        out.append(r)
        prev = r.hash
    return out


def rechain(rs: list, at: int, details: dict) -> list:
    """An intruder's rewrite: record `at` changed and every later hash recomputed, so the chain still links."""
    out, prev = list(rs[:at - 1]), rs[at - 2].hash if at > 1 else GENESIS_HASH
    for r in rs[at - 1:]:
        entry = AuditEntry(r.action, r.outcome, r.actor_id, r.agency_id, r.target, r.source,
                           details if r.seq == at else r.details)
        new = chain(r.seq, r.at, entry, prev)
        out.append(new)
        prev = new.hash
    return out


@pytest.fixture(scope="module")
def key() -> Ed25519Signer:
    return Ed25519Signer(Ed25519PrivateKey.generate())


def signed(key, rs, seq: int) -> SignedAnchor:
    s = head_statement("Lakeport RTCC", seq, rs[seq - 1].hash if seq else GENESIS_HASH, T0, key.key_id)
    return SignedAnchor(s, key.sign(s.canonical()))


def test_the_statement_has_one_canonical_form_and_round_trips(key):
    rs = records(3)
    anchor = signed(key, rs, 3)
    assert anchor.statement.canonical() == (
        b'{"anchored_at":"2026-11-20T23:59:59.123456Z","count":3,"deployment":"Lakeport RTCC","format":'
        b'"openrtcc-audit-anchor/1","hash":"' + rs[2].hash.encode() + b'","key_id":"' + key.key_id.encode()
        + b'","seq":3}')
    back = parse_anchor_document(anchor.document_bytes())
    assert back == anchor
    assert anchor.statement.day == "2026-11-20"  # the UTC day, whatever the hub's local time
    assert signature_problem(back, key) is None


def test_a_chain_checks_against_its_anchor_and_later_records_do_not_matter(key):
    rs = records(6)
    check = check_chain_against(signed(key, rs, 4).statement, iter(rs))
    assert (check.ok, check.checked) == (True, 4)
    assert check_chain_against(signed(key, [], 0).statement, iter(rs)).ok  # an anchor of the empty chain


def test_a_record_rewritten_before_the_anchor_is_caught_even_with_every_hash_recomputed(key):
    rs = records(6)
    anchor = signed(key, rs, 5).statement
    forged = rechain(rs, 2, {"n": 99})
    check = check_chain_against(anchor, iter(forged))
    assert not check.ok
    assert check.problem == ("record 5 does not carry the anchored hash: the chain up to it was rewritten after "
                             "the anchor was signed")
    # Rewritten after the anchor's record: the anchor says nothing about it (the next anchor will).
    assert check_chain_against(anchor, iter(rechain(rs, 6, {"n": 99}))).ok


@pytest.mark.parametrize("damage, problem", [
    (lambda rs: rs[:3], "the chain holds 3 records, but the anchor covers 5: records were removed"),
    (lambda rs: rs[:1] + rs[2:], "record 2 is missing (next present is 3)"),
    (lambda rs: rs[:2] + [replace(rs[2], details={"n": 0})] + rs[3:], "record 3 was altered"),
])
def test_removed_or_altered_records_are_named(key, damage, problem):
    rs = records(6)
    check = check_chain_against(signed(key, rs, 5).statement, iter(damage(rs)))
    assert not check.ok and check.problem.startswith(problem), check.problem


def test_a_wrong_key_or_an_edited_statement_fails_the_signature(key):
    rs = records(3)
    anchor = signed(key, rs, 3)
    other = Ed25519Signer(Ed25519PrivateKey.generate())
    assert "names signing key" in signature_problem(anchor, other)
    # A forger who signs with their own key but names ours.
    forged = SignedAnchor(anchor.statement, other.sign(anchor.statement.canonical()))
    assert "does not match its statement" in signature_problem(forged, key)
    doc = anchor.document()
    doc["statement"]["seq"] = doc["statement"]["count"] = 2
    assert "does not match its statement" in signature_problem(parse_anchor_document(json.dumps(doc)), key)


def _doc(key, **statement_changes) -> str:
    doc = signed(key, records(2), 2).document()
    doc["statement"].update(statement_changes)
    return json.dumps(doc)


@pytest.mark.parametrize("raw, message", [
    ("not json", "not JSON"),
    ("[]", "not an audit anchor"),
    ('{"format": "openrtcc-audit-anchor/1", "algorithm": "RSA"}', "not an audit anchor"),
    ("x" * 70_000, "far too large"),
])
def test_documents_that_are_not_anchors_are_refused(raw, message):
    with pytest.raises(InvalidInput) as err:
        parse_anchor_document(raw)
    assert message in err.value.message and err.value.code == "bad_anchor"


@pytest.mark.parametrize("changes, message", [
    ({"seq": "2"}, "no valid 'seq'"),
    ({"seq": True}, "no valid 'seq'"),
    ({"count": 7}, "seq and count must be equal"),
    ({"seq": -1, "count": -1}, "not negative"),
    ({"hash": "ABC"}, "64 lower-case hex"),
    ({"anchored_at": "yesterday"}, "not a UTC time"),
    ({"deployment": None}, "no valid 'deployment'"),
    ({"format": "other/1"}, "not an audit anchor statement"),
])
def test_statements_with_bad_fields_are_refused(key, changes, message):
    with pytest.raises(InvalidInput) as err:
        parse_anchor_document(_doc(key, **changes))
    assert message in err.value.message


def test_bad_signatures_are_refused_before_any_check(key):
    doc = json.loads(_doc(key))
    for sig, message in (("@@@", "not base64"), (base64.b64encode(b"short").decode(), "64 bytes")):
        doc["signature"] = sig
        with pytest.raises(InvalidInput) as err:
            parse_anchor_document(json.dumps(doc))
        assert message in err.value.message


@pytest.mark.parametrize("day", ["2026-13-01", "2026-02-30", "20261120", "../../etc", ""])
def test_days_are_real_dates(day):
    with pytest.raises(InvalidInput):
        valid_day(day)


def test_a_year_of_anchors_is_checked_in_one_pass_and_each_is_judged_on_its_own(key):
    rs = records(8)
    anchors = [signed(key, rs, seq).statement for seq in (6, 2, 4, 0)]
    assert [(c.anchor.seq, c.ok) for c in check_chain_against_all(anchors, iter(rs))] == [
        (0, True), (2, True), (4, True), (6, True)]
    forged = rechain(rs, 5, {"n": 99})  # before the anchor of 6, after those of 2 and 4
    checks = check_chain_against_all(anchors, iter(forged))
    assert [(c.anchor.seq, c.ok) for c in checks] == [(0, True), (2, True), (4, True), (6, False)]
    assert "rewritten after the anchor was signed" in checks[-1].problem
    checks = check_chain_against_all(anchors, iter(rs[:3]))  # cut after record 3
    assert [c.problem and c.problem.startswith("the chain holds 3 records") for c in checks] == [
        None, None, True, True]
    checks = check_chain_against_all(anchors, iter(rs[:2] + rs[3:]))  # record 3 gone
    assert [c.ok for c in checks] == [True, True, False, False]
    assert checks[2].problem == "record 3 is missing (next present is 4)"
