"""A case's evidence package: the bag's tag files and signature, and checking a package as a court or a defence
expert would (payload against manifests, the hub's signature, the audit excerpt's record hashes)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from openrtcc.domain.anchors import SignatureVerifier, Signer, canonical_json
from openrtcc.domain.audit import AuditEntry, canonical_at, record_hash
from openrtcc.domain.bagit import (
    BAG_INFO,
    BAGIT_DECLARATION,
    BAGIT_TXT,
    MANIFEST,
    TAG_MANIFEST,
    BagContents,
    BagProblem,
    BagReader,
    bag_info_text,
    check_bag,
    manifest_text,
    payload_oxum,
)
from openrtcc.domain.errors import InvalidInput

SIGNATURE_FORMAT = "openrtcc-evidence-signature/1"
SIGNATURE_FILE = "signature.json"
PUBLIC_KEY_FILE = "hub-public-key.pem"
CUSTODY_FILE = "data/chain-of-custody.json"
EXCERPT_FILE = "data/audit/excerpt.jsonl"
ANCHOR_FILE = "data/audit/latest-anchor.json"
_AT_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def export_case_number(case_number: str | None) -> str:
    """A case number as stored by footage requests and clips (2-64 characters): trimmed, no control characters."""
    case = (case_number or "").strip()
    if not 2 <= len(case) <= 64 or not case.isprintable():
        raise InvalidInput("case number: 2 to 64 printable characters", code="bad_case_number",
                           details={"field": "case_number"})
    return case


def audit_line(r) -> bytes:
    """One audit record as a line of the excerpt: the fields its hash covers (same names), and the hash."""
    return canonical_json({"seq": r.seq, "at": canonical_at(r.at.astimezone(UTC)), "action": r.action,
                           "outcome": r.outcome, "actor": r.actor_id, "agency": r.agency_id, "target": r.target,
                           "source": r.source, "details": r.details, "prev": r.prev_hash, "hash": r.hash}) + b"\n"


def audit_line_problem(doc: dict) -> str | None:
    """Why an excerpt line does not hash to the hash it carries, or None."""
    try:
        at = datetime.strptime(doc["at"], _AT_FORMAT).replace(tzinfo=UTC)
        entry = AuditEntry(doc["action"], doc["outcome"], doc["actor"], doc["agency"], doc["target"],
                           doc["source"], doc["details"])
        ok = record_hash(doc["seq"], at, entry, doc["prev"]) == doc["hash"]
    except (KeyError, TypeError, ValueError):
        return "not an audit record"
    return None if ok else f"record {doc['seq']} does not hash to the hash it carries: it was altered"


@dataclass(frozen=True, slots=True)
class TagFiles:
    files: list[tuple[str, bytes]]  # written after the payload, tag manifest last
    manifest_sha256: str
    key_id: str


def build_tag_files(payload: list[tuple[str, int, str]], info: list[tuple[str, object]], signer: Signer,
                    signed_at: datetime) -> TagFiles:
    """bagit.txt, bag-info.txt (with Payload-Oxum and the key id), the payload manifest, the signature over
    bag-info and the manifest, the hub's public key, and the tag manifest over all of them."""
    manifest = manifest_text((path, digest) for path, _, digest in payload)
    bag_info = bag_info_text([*info, ("Payload-Oxum", payload_oxum(size for _, size, _ in payload)),
                              ("Signing-Key-Id", signer.key_id)])
    statement = {"format": SIGNATURE_FORMAT, "algorithm": "Ed25519", "key_id": signer.key_id,
                 "signed_at": canonical_at(signed_at.astimezone(UTC)),
                 BAG_INFO: hashlib.sha256(bag_info).hexdigest(), MANIFEST: hashlib.sha256(manifest).hexdigest()}
    signature = {"statement": statement,
                 "signature": base64.b64encode(signer.sign(canonical_json(statement))).decode()}
    files = [(BAGIT_TXT, BAGIT_DECLARATION), (BAG_INFO, bag_info), (MANIFEST, manifest),
             (SIGNATURE_FILE, json.dumps(signature, indent=2, sort_keys=True).encode() + b"\n"),
             (PUBLIC_KEY_FILE, signer.public_key_pem)]
    tag_manifest = manifest_text((name, hashlib.sha256(data).hexdigest()) for name, data in files)
    return TagFiles([*files, (TAG_MANIFEST, tag_manifest)], statement[MANIFEST], signer.key_id)


@dataclass(frozen=True, slots=True)
class PackageCheck:
    ok: bool
    problem: str | None
    path: str | None  # the file the problem is in
    key_id: str | None
    key_given: bool  # checked with a key the checker brought, not only the one inside the package
    files: int = 0
    info: tuple = ()


def verify_package(bag: BagReader, load_key: Callable[[bytes], SignatureVerifier],
                   trusted: SignatureVerifier | None = None) -> PackageCheck:
    """Checks a package; `load_key` turns the PEM inside the bag into a key (used when no `trusted` key is given).
    The first problem is named with its file; signatures are checked before the tag manifest so that a forged
    or replaced signature reads as one."""
    used: list[SignatureVerifier] = []
    try:
        contents = check_bag(bag, lambda c: used.append(_check_signature(c, load_key, trusted)))
        _check_excerpt(contents, bag)
    except BagProblem as problem:
        key = used[0] if used else trusted
        return PackageCheck(False, problem.message, problem.path, key.key_id if key else None, trusted is not None)
    return PackageCheck(True, None, None, used[0].key_id, trusted is not None, len(contents.payload),
                        tuple(contents.info))


def _check_signature(c: BagContents, load_key: Callable[[bytes], SignatureVerifier],
                     trusted: SignatureVerifier | None) -> SignatureVerifier:
    if SIGNATURE_FILE not in c.tags:
        raise BagProblem(f"{SIGNATURE_FILE} is missing: the package is not signed", SIGNATURE_FILE)
    try:
        doc = json.loads(c.tags[SIGNATURE_FILE])
        statement, signature = doc["statement"], base64.b64decode(doc["signature"], validate=True)
        named_key = statement["key_id"]
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise BagProblem(f"bad signature: {SIGNATURE_FILE} is not a signature document", SIGNATURE_FILE) from None
    key = trusted or _bag_key(c, load_key)
    if named_key != key.key_id:
        raise BagProblem(f"bad signature: signed by key {str(named_key)[:16]}..., not by the key given "
                         f"({key.key_id[:16]}...)", SIGNATURE_FILE)
    if statement.get("format") != SIGNATURE_FORMAT or not key.verify(canonical_json(statement), signature):
        raise BagProblem(f"bad signature: {SIGNATURE_FILE} does not verify under key {key.key_id[:16]}...",
                         SIGNATURE_FILE)
    for name in (BAG_INFO, MANIFEST):
        if statement.get(name) != hashlib.sha256(c.tags[name]).hexdigest():
            raise BagProblem(f"bad signature: {name} was changed after the package was signed", name)
    return key


def _bag_key(c: BagContents, load_key: Callable[[bytes], SignatureVerifier]) -> SignatureVerifier:
    if PUBLIC_KEY_FILE not in c.tags:
        raise BagProblem(f"{PUBLIC_KEY_FILE} is missing: give the hub's public key to check the signature",
                         PUBLIC_KEY_FILE)
    try:
        return load_key(c.tags[PUBLIC_KEY_FILE])
    except InvalidInput as exc:
        raise BagProblem(f"{PUBLIC_KEY_FILE}: {exc.message}", PUBLIC_KEY_FILE) from None


def _check_excerpt(c: BagContents, bag: BagReader) -> None:
    """The excerpt is covered by the manifest; this checks the records were intact when exported."""
    if EXCERPT_FILE not in c.payload:
        return
    with bag.open(EXCERPT_FILE) as f:
        for number, line in enumerate(f, 1):
            try:
                problem = audit_line_problem(json.loads(line))
            except ValueError:
                problem = "not JSON"
            if problem:
                raise BagProblem(f"{EXCERPT_FILE} line {number}: {problem}", EXCERPT_FILE)
