"""Audit anchors: the chain's head as a signed statement an outside party keeps, and a chain checked against one."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from openrtcc.domain.audit import GENESIS_HASH, AuditRecord, canonical_at, verify_records
from openrtcc.domain.errors import InvalidInput

FORMAT = "openrtcc-audit-anchor/1"
ALGORITHM = "Ed25519"
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_DOCUMENT_BYTES = 64 * 1024  # an anchor is a few hundred bytes; anything far larger is not one


class SignatureVerifier(Protocol):
    """A public key: checks signatures made with its private half."""

    key_id: str  # sha256 (hex) of the raw 32-byte public key

    def verify(self, data: bytes, signature: bytes) -> bool: ...


class Signer(SignatureVerifier, Protocol):
    """The hub's signing key (adapters.signing): anchors and evidence packages are signed with it."""

    public_key_pem: bytes

    def sign(self, data: bytes) -> bytes: ...


class AnchorPublisher(Protocol):
    """Where anchors are written for outside parties to fetch and keep (a folder, served or mirrored)."""

    def has(self, day: str) -> bool: ...
    def publish(self, day: str, document: bytes) -> str:
        """Writes the day's anchor document whole (or not at all); returns where it went."""


def utc_day(at: datetime) -> str:
    """The UTC day an anchor made at `at` belongs to: one anchor per day, wherever the hub is."""
    return at.astimezone(UTC).strftime("%Y-%m-%d")


def canonical_json(doc: dict) -> bytes:
    """The one byte form a dict is signed in: sorted keys, no spaces, ASCII."""
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


@dataclass(frozen=True, slots=True)
class AnchorStatement:
    """What is signed: this deployment's chain had `count` records and record `seq` had hash `hash`."""

    deployment: str
    seq: int
    hash: str
    count: int
    anchored_at: datetime
    key_id: str

    @property
    def day(self) -> str:
        return utc_day(self.anchored_at)

    def as_dict(self) -> dict:
        return {"format": FORMAT, "deployment": self.deployment, "seq": self.seq, "hash": self.hash,
                "count": self.count, "anchored_at": canonical_at(self.anchored_at.astimezone(UTC)),
                "key_id": self.key_id}

    def canonical(self) -> bytes:
        return canonical_json(self.as_dict())


@dataclass(frozen=True, slots=True)
class SignedAnchor:
    statement: AnchorStatement
    signature: bytes

    def document(self) -> dict:
        """The published form: the statement as fields, so a person can read it, and the signature over its
        canonical JSON (recomputed from the fields by whoever checks it)."""
        return {"format": FORMAT, "algorithm": ALGORITHM, "day": self.statement.day,
                "statement": self.statement.as_dict(), "signature": base64.b64encode(self.signature).decode()}

    def document_bytes(self) -> bytes:
        return json.dumps(self.document(), indent=2, sort_keys=True).encode() + b"\n"


def head_statement(deployment: str, seq: int, head_hash: str, at: datetime, key_id: str) -> AnchorStatement:
    """The statement for a chain whose head is (seq, head_hash): records are numbered from 1, so count = seq."""
    return AnchorStatement(deployment, seq, head_hash, seq, at, key_id)


def valid_day(day: str) -> str:
    """A YYYY-MM-DD day that exists, or InvalidInput."""
    if not _DAY.match(day or ""):
        raise InvalidInput("a day is written YYYY-MM-DD", code="bad_day")
    try:
        datetime.strptime(day, "%Y-%m-%d")
    except ValueError:
        raise InvalidInput(f"{day} is not a date", code="bad_day") from None
    return day


def _field(doc: dict, name: str, kind: type):
    value = doc.get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise InvalidInput(f"the anchor's statement has no valid {name!r}", code="bad_anchor")
    return value


def parse_statement(doc: dict) -> AnchorStatement:
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise InvalidInput(f"not an audit anchor statement (format {FORMAT} expected)", code="bad_anchor")
    seq, count = _field(doc, "seq", int), _field(doc, "count", int)
    head, key_id = _field(doc, "hash", str), _field(doc, "key_id", str)
    if seq < 0 or count != seq:
        raise InvalidInput("the anchor's seq and count must be equal and not negative", code="bad_anchor")
    if not _HEX64.match(head) or not _HEX64.match(key_id):
        raise InvalidInput("the anchor's hash and key_id must be 64 lower-case hex digits", code="bad_anchor")
    try:
        at = datetime.strptime(_field(doc, "anchored_at", str), "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    except ValueError:
        raise InvalidInput("the anchor's anchored_at is not a UTC time", code="bad_anchor") from None
    return AnchorStatement(_field(doc, "deployment", str), seq, head, count, at, key_id)


def parse_anchor_document(raw: bytes | str) -> SignedAnchor:
    """An anchor document as published (file or endpoint); InvalidInput naming what is wrong."""
    if len(raw) > MAX_DOCUMENT_BYTES:
        raise InvalidInput("this file is far too large to be an audit anchor", code="bad_anchor")
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("the anchor is not JSON", code="bad_anchor") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or doc.get("algorithm") != ALGORITHM:
        raise InvalidInput(f"not an audit anchor ({FORMAT}, {ALGORITHM} expected)", code="bad_anchor")
    statement = parse_statement(doc.get("statement"))
    try:
        signature = base64.b64decode(str(doc.get("signature", "")), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("the anchor's signature is not base64", code="bad_anchor") from None
    if len(signature) != 64:
        raise InvalidInput("the anchor's signature is not an Ed25519 signature (64 bytes)", code="bad_anchor")
    return SignedAnchor(statement, signature)


def signature_problem(anchor: SignedAnchor, key: SignatureVerifier) -> str | None:
    """Why the anchor is not signed by `key`, or None."""
    if anchor.statement.key_id != key.key_id:
        return (f"the anchor names signing key {anchor.statement.key_id[:16]}..., but the public key given is "
                f"{key.key_id[:16]}...")
    if not key.verify(anchor.statement.canonical(), anchor.signature):
        return "the anchor's signature does not match its statement: the anchor was altered or forged"
    return None


@dataclass(frozen=True, slots=True)
class AnchorCheck:
    """The chain checked against one anchor."""

    anchor: AnchorStatement
    checked: int  # records checked, from 1 up to the anchor's seq
    problem: str | None

    @property
    def ok(self) -> bool:
        return self.problem is None


def check_chain_against(anchor: AnchorStatement, records: Iterable[AuditRecord]) -> AnchorCheck:
    """Records 1..anchor.seq (in seq order; later ones are ignored) must link and hash correctly, and the
    record at anchor.seq must carry the anchored hash: a record rewritten before the anchor, even with every
    later hash recomputed, changes that hash."""
    return check_chain_against_all([anchor], records)[0]


def check_chain_against_all(anchors: Iterable[AnchorStatement], records: Iterable[AuditRecord]) -> list[AnchorCheck]:
    """Many anchors (a year of daily ones) against the chain in one pass over it, in the order of their seq."""
    pending = sorted(anchors, key=lambda a: a.seq)
    results: list[AnchorCheck] = []
    prev, expected, broken = GENESIS_HASH, 1, None
    feed = iter(records)
    for anchor in pending:
        while broken is None and expected <= anchor.seq:
            record = next(feed, None)
            if record is None:
                break
            problem, _, last = verify_records((record,), prev, expected)
            if problem is not None:
                broken = problem.reason
                break
            prev, expected = last, expected + 1
        results.append(_against(anchor, broken, expected - 1, prev))
    return results


def _against(anchor: AnchorStatement, broken: str | None, walked: int, last_hash: str) -> AnchorCheck:
    checked = min(walked, anchor.seq)
    if broken is not None:
        return AnchorCheck(anchor, checked, broken)
    if walked < anchor.seq:
        return AnchorCheck(anchor, checked, f"the chain holds {walked} records, but the anchor covers {anchor.seq}: "
                                            "records were removed")
    if walked == anchor.seq and last_hash != anchor.hash:
        return AnchorCheck(anchor, checked, f"record {anchor.seq} does not carry the anchored hash: the chain up to "
                                            "it was rewritten after the anchor was signed")
    return AnchorCheck(anchor, checked, None)
