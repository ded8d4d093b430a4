"""The tamper-evident audit chain: each record carries the hash of the one before it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

GENESIS_HASH = "0" * 64


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """What happened, before it is placed in the chain."""

    action: str
    outcome: str  # success | denied | failed
    actor_id: str | None
    agency_id: str | None
    target: str | None
    source: str | None  # client address
    details: dict


@dataclass(frozen=True, slots=True)
class AuditRecord:
    seq: int
    at: datetime
    action: str
    outcome: str
    actor_id: str | None
    agency_id: str | None
    target: str | None
    source: str | None
    details: dict
    prev_hash: str
    hash: str


def canonical_at(at: datetime) -> str:
    """UTC, microseconds: finer than the 1/100 s that CJIS asks for."""
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def record_hash(seq: int, at: datetime, entry: AuditEntry, prev_hash: str) -> str:
    body = json.dumps(
        {
            "seq": seq,
            "at": canonical_at(at),
            "action": entry.action,
            "outcome": entry.outcome,
            "actor": entry.actor_id,
            "agency": entry.agency_id,
            "target": entry.target,
            "source": entry.source,
            "details": entry.details,
            "prev": prev_hash,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
    )
    return hashlib.sha256(body.encode()).hexdigest()


def chain(seq: int, at: datetime, entry: AuditEntry, prev_hash: str) -> AuditRecord:
    h = record_hash(seq, at, entry, prev_hash)
    return AuditRecord(seq, at, entry.action, entry.outcome, entry.actor_id, entry.agency_id, entry.target,
                       entry.source, entry.details, prev_hash, h)


@dataclass(frozen=True, slots=True)
class ChainProblem:
    seq: int
    reason: str


def verify_records(records, expected_prev: str = GENESIS_HASH, expected_seq: int = 1) -> tuple[ChainProblem | None, int, str]:
    """Walk records in seq order; return the first problem (or None), the count checked and the last hash.

    `records` may be any iterable so that a long chain is checked in streamed batches.
    """
    prev = expected_prev
    seq = expected_seq
    count = 0
    for r in records:
        if r.seq != seq:
            return ChainProblem(seq, f"record {seq} is missing (next present is {r.seq})"), count, prev
        if r.prev_hash != prev:
            return ChainProblem(r.seq, f"record {r.seq} does not link to record {r.seq - 1}"), count, prev
        entry = AuditEntry(r.action, r.outcome, r.actor_id, r.agency_id, r.target, r.source, r.details)
        if record_hash(r.seq, r.at, entry, r.prev_hash) != r.hash:
            return ChainProblem(r.seq, f"record {r.seq} was altered (its hash does not match its content)"), count, prev
        prev = r.hash
        seq += 1
        count += 1
    return None, count, prev
