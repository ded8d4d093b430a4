"""The audit chain: any altered, missing, reordered or re-linked record is found and named."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from openrtcc.domain.audit import (
    GENESIS_HASH,
    AuditEntry,
    AuditRecord,
    canonical_at,
    chain,
    record_hash,
    verify_records,
)

T0 = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def build(n: int) -> list[AuditRecord]:
    records, prev = [], GENESIS_HASH
    for i in range(1, n + 1):
        entry = AuditEntry(f"action.{i}", "success" if i % 2 else "denied", f"user-{i}", "agency-a",
                           f"camera:{i}", "127.0.0.1", {"i": i, "purpose": "canvass", "nested": {"k": [1, 2]}})
        r = chain(i, T0 + timedelta(seconds=i, microseconds=10_000 * i), entry, prev)
        records.append(r)
        prev = r.hash
    return records


def test_intact_chain_verifies():
    records = build(6)
    problem, count, last = verify_records(records)
    assert problem is None and count == 6 and last == records[-1].hash
    assert records[0].prev_hash == GENESIS_HASH
    assert all(b.prev_hash == a.hash for a, b in zip(records, records[1:], strict=False))


def test_empty_chain_verifies():
    assert verify_records([]) == (None, 0, GENESIS_HASH)


def test_a_stream_can_be_verified_in_batches():
    records = build(6)
    problem, count, last = verify_records(records[:3])
    assert problem is None
    problem, count2, last2 = verify_records(records[3:], expected_prev=last, expected_seq=4)
    assert problem is None and count + count2 == 6 and last2 == records[-1].hash


@pytest.mark.parametrize("field, value", [
    ("action", "camera.read"),
    ("outcome", "failed"),
    ("actor_id", "someone-else"),
    ("actor_id", None),
    ("agency_id", "agency-b"),
    ("target", "camera:999"),
    ("source", "10.0.0.1"),
    ("details", {"i": 3, "purpose": "personal", "nested": {"k": [1, 2]}}),
    ("details", {}),
    ("at", T0 + timedelta(days=1)),
    ("at", T0 + timedelta(seconds=3, microseconds=30_001)),  # a microsecond is enough
])
def test_altering_any_field_of_a_record_is_named(field, value):
    records = build(5)
    records[2] = dataclasses.replace(records[2], **{field: value})
    problem, count, _ = verify_records(records)
    assert problem is not None and problem.seq == 3, problem
    assert "record 3 was altered" in problem.reason
    assert count == 2


def test_a_rewritten_record_with_a_recomputed_hash_breaks_the_next_link():
    records = build(5)
    r = records[1]
    forged_entry = AuditEntry(r.action, "success", r.actor_id, r.agency_id, r.target, r.source, {"forged": True})
    records[1] = chain(r.seq, r.at, forged_entry, r.prev_hash)
    problem, _, _ = verify_records(records)
    assert problem.seq == 3 and "does not link to record 2" in problem.reason


@pytest.mark.parametrize("missing_index, expected_reason", [
    (0, "record 1 is missing (next present is 2)"),
    (2, "record 3 is missing (next present is 4)"),
])
def test_a_missing_record_is_named(missing_index, expected_reason):
    records = build(5)
    del records[missing_index]
    problem, _, _ = verify_records(records)
    assert problem.seq == missing_index + 1
    assert problem.reason == expected_reason


def test_reordered_records_are_found():
    records = build(5)
    records[1], records[2] = records[2], records[1]
    problem, count, _ = verify_records(records)
    assert problem.seq == 2 and "missing" in problem.reason and count == 1


def test_renumbered_records_are_found():
    """Closing a gap by renumbering changes the hashed content, so it cannot hide the deletion."""
    records = build(5)
    del records[2]
    records = records[:2] + [dataclasses.replace(r, seq=r.seq - 1) for r in records[2:]]
    problem, _, _ = verify_records(records)
    assert problem.seq == 3 and "does not link" in problem.reason


def test_a_truncated_tail_cannot_be_seen_from_the_records_alone():
    """Why verify_chain also compares against the stored head: the prefix of a chain is a valid chain."""
    records = build(5)
    problem, count, last = verify_records(records[:3])
    assert problem is None and count == 3 and last != records[-1].hash


def test_hash_is_canonical():
    entry = AuditEntry("a", "success", None, None, None, None, {"b": 1, "a": [1, "é"]})
    same = AuditEntry("a", "success", None, None, None, None, {"a": [1, "é"], "b": 1})
    assert record_hash(1, T0, entry, GENESIS_HASH) == record_hash(1, T0, same, GENESIS_HASH)
    assert record_hash(1, T0, entry, GENESIS_HASH) != record_hash(2, T0, entry, GENESIS_HASH)
    assert record_hash(1, T0, entry, GENESIS_HASH) != record_hash(1, T0, entry, "1" * 64)
    assert len(record_hash(1, T0, entry, GENESIS_HASH)) == 64


def test_timestamps_are_utc_to_better_than_a_hundredth_of_a_second():
    assert canonical_at(datetime(2026, 1, 2, 3, 4, 5, 67_890, tzinfo=UTC)) == "2026-01-02T03:04:05.067890Z"
