"""A case's evidence as a signed BagIt package: its clips, its locked plate reads with their images, its audit
excerpt and a chain-of-custody manifest, hashed as written and signed with the hub's key; the export audited."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC

from openrtcc import __version__
from openrtcc.domain.accounts import Permission
from openrtcc.domain.anchors import SignedAnchor
from openrtcc.domain.audit import AuditRecord, canonical_at
from openrtcc.domain.bagit import BagSink
from openrtcc.domain.errors import Conflict, DomainError, NotFound, Unavailable
from openrtcc.domain.evidence_package import (
    ANCHOR_FILE,
    CUSTODY_FILE,
    EXCERPT_FILE,
    audit_line,
    audit_line_problem,
    build_tag_files,
    export_case_number,
)
from openrtcc.services.audit_anchors import signer
from openrtcc.services.hub import Actor, Hub

MAX_AUDIT_RECORDS = 100_000
MAX_CASE_READS = 100_000
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")
_EXT = re.compile(r"\.[A-Za-z0-9]{1,5}$")
_DIGEST_NAME = re.compile(r"/([0-9a-f]{64})\.[A-Za-z0-9]{1,5}$")  # reads/<agency>/<xx>/<sha256>.<ext>


@dataclass(frozen=True, slots=True)
class CaseEvidence:
    """Everything the package holds, read in one snapshot."""

    agency: object
    case: str
    items: list
    reads: list
    holds: list
    audit: list[AuditRecord]
    head: tuple[int, str]
    anchor: SignedAnchor | None

    @property
    def empty(self) -> bool:
        return not (self.items or self.reads or self.holds)


@dataclass(frozen=True, slots=True)
class ExportSummary:
    case_number: str
    export_id: str
    files: int  # payload files
    payload_bytes: int
    manifest_sha256: str
    key_id: str
    clips: int
    reads: int
    audit_records: int


def export_case(hub: Hub, actor: Actor, case_number: str, sink: BagSink) -> ExportSummary:
    """Writes the package into `sink` and audits the export; the caller hands the package out only when this
    returns (on an error the sink's partial package is the caller's to discard)."""
    try:
        actor.require(Permission.EXPORT_EVIDENCE)
        case = export_case_number(case_number)
    except DomainError as exc:  # refused before anything was read: recorded all the same (the CLI too)
        raise _failed(hub, actor, (case_number or "")[:64], exc, outcome="denied") from None
    evidence = _gather(hub, actor.agency_id, case)
    if evidence.empty:
        raise _failed(hub, actor, case, NotFound(f"case {case} has no evidence, locked reads or legal hold in your "
                                                 "agency", code="no_evidence"))
    export_id, now = hub.ids.new_id(), hub.clock.now()
    try:
        payload, custody = _write_payload(hub, sink, evidence)
        custody_doc = _custody(hub, actor, evidence, export_id, now, custody)
        payload.append((CUSTODY_FILE, *sink.add_bytes(CUSTODY_FILE, custody_doc)))
        tags = build_tag_files(payload, _bag_info(hub, actor, evidence, export_id, now), signer(hub), now)
        for name, data in tags.files:
            sink.add_bytes(name, data)
    except (DomainError, OSError) as exc:
        if isinstance(exc, OSError):
            exc = Unavailable(f"the package could not be written: {exc.strerror or exc}", code="export_failed")
        raise _failed(hub, actor, case, exc) from None
    summary = ExportSummary(case, export_id, len(payload), sum(size for _, size, _ in payload), tags.manifest_sha256,
                            tags.key_id, len(evidence.items), len(evidence.reads), len(evidence.audit))
    with hub.uow() as uow:
        uow.record(actor.entry("evidence.export", f"case:{case}", case=case, export=export_id, files=summary.files,
                               bytes=summary.payload_bytes, manifest_sha256=summary.manifest_sha256,
                               key_id=summary.key_id))
        uow.commit()
    return summary


def _failed(hub: Hub, actor: Actor, case: str, exc: DomainError, outcome: str = "failed") -> DomainError:
    """A refused or failed export leaves its own record (with the case, so the next excerpt shows it)."""
    with hub.uow() as uow:
        uow.record(actor.entry("evidence.export", f"case:{case}", outcome=outcome, case=case, reason=exc.code))
        uow.commit()
    return exc


def _gather(hub: Hub, agency_id: str, case: str) -> CaseEvidence:
    with hub.uow().reading() as uow:
        items = uow.footage.evidence_for_case(agency_id, case)
        reads = uow.retention.case_reads(agency_id, case, limit=MAX_CASE_READS)
        holds = [h for h in uow.retention.holds(agency_id) if h.case_number == case]
        targets = sorted({f"evidence:{i.id}" for i in items} | {f"edge_clip:{i.id}" for i in items}
                         | {f"footage_request:{i.request_id}" for i in items if i.request_id}
                         | {f"alert:{r.alert_id}" for r in reads if r.alert_id})
        audit = uow.audit.for_case(agency_id, case, targets, MAX_AUDIT_RECORDS)
        return CaseEvidence(uow.accounts.agency(agency_id), case, items, reads, holds, audit, uow.audit.head(),
                            uow.anchors.latest())


def _safe(name: str) -> str:
    return _SAFE.sub("_", name).strip("._") or "item"


def _ext(key: str) -> str:
    found = _EXT.search(key)
    return found.group(0).lower() if found else ".bin"


def _copy_media(hub: Hub, sink: BagSink, path: str, key: str, what: str) -> tuple[int, str]:
    try:
        stream = hub.media.open(key)
    except FileNotFoundError:
        raise Conflict(f"the file of {what} is missing from the media store; nothing was exported",
                       code="evidence_missing") from None
    with stream:
        return sink.add(path, stream)


def _write_payload(hub: Hub, sink: BagSink, ev: CaseEvidence) -> tuple[list, dict]:
    """Payload files as (path, size, sha256) and what the custody manifest says of each."""
    payload: list[tuple[str, int, str]] = []
    clips = []
    for item in ev.items:
        path = f"data/clips/{_safe(item.id)}{_ext(item.storage_key)}"
        size, digest = _copy_media(hub, sink, path, item.storage_key, f"evidence item {item.id}")
        if (size, digest) != (item.size_bytes, item.sha256):
            raise Conflict(f"evidence item {item.id} no longer matches the SHA-256 recorded when it was collected; "
                           "nothing was exported", code="evidence_altered")
        payload.append((path, size, digest))
        clips.append(_clip_entry(item, path))
    reads = [_write_read(hub, sink, r, payload) for r in ev.reads]
    lines = [audit_line(r) for r in ev.audit]
    for line in lines:
        problem = audit_line_problem(json.loads(line))
        if problem:
            raise Conflict(f"an audit record of this case fails its hash ({problem}): run `rtcc audit verify`; "
                           "nothing was exported", code="audit_altered")
    payload.append((EXCERPT_FILE, *sink.add_bytes(EXCERPT_FILE, b"".join(lines))))
    if ev.anchor is not None:
        payload.append((ANCHOR_FILE, *sink.add_bytes(ANCHOR_FILE, ev.anchor.document_bytes())))
    return payload, {"clips": clips, "reads": reads}


def _clip_entry(item, path: str) -> dict:
    return {"path": path, "evidence_id": item.id, "source": "owner_upload" if item.request_id else "edge_clip",
            "request_id": item.request_id, "camera_id": item.camera_id, "camera_name": item.camera_name,
            "owner_id": item.owner_id, "media_type": item.media_type, "original_name": item.original_name,
            "size_bytes": item.size_bytes, "sha256": item.sha256, "collected_at": _at(item.uploaded_at)}


def _write_read(hub: Hub, sink: BagSink, r, payload: list) -> dict:
    """The locked read as JSON, and its crop and snapshot; an image's name carries its SHA-256, checked."""
    base = f"data/reads/{_safe(r.read_id)}"
    doc = {"case_number": r.case_number, "read_id": r.read_id, "alert_id": r.alert_id, "locked_by": r.locked_by,
           "locked_at": _at(r.locked_at), "locked": r.document}
    body = json.dumps(doc, indent=2, sort_keys=True, default=str).encode() + b"\n"
    payload.append((f"{base}.json", *sink.add_bytes(f"{base}.json", body)))
    entry = {"path": f"{base}.json", "read_id": r.read_id, "alert_id": r.alert_id, "locked_by": r.locked_by,
             "locked_at": _at(r.locked_at), "images": []}
    for kind, key in (("crop", r.crop_key), ("snapshot", r.snapshot_key)):
        if not key:
            continue
        path = f"{base}-{kind}{_ext(key)}"
        size, digest = _copy_media(hub, sink, path, key, f"the {kind} of read {r.read_id}")
        named = _DIGEST_NAME.search(key)
        if named and named.group(1) != digest:
            raise Conflict(f"the {kind} of read {r.read_id} no longer matches the SHA-256 it was stored under; "
                           "nothing was exported", code="evidence_altered")
        payload.append((path, size, digest))
        entry["images"].append({"kind": kind, "path": path, "sha256": digest, "size_bytes": size})
    return entry


def _at(value) -> str | None:
    return canonical_at(value.astimezone(UTC)) if value is not None else None


def _custody(hub: Hub, actor: Actor, ev: CaseEvidence, export_id: str, now, files: dict) -> bytes:
    anchor = ev.anchor.statement.as_dict() if ev.anchor else None
    doc = {
        "format": "openrtcc-chain-of-custody/1", "export_id": export_id, "case_number": ev.case,
        "deployment": hub.deployment_name,
        "agency": {"id": ev.agency.id, "slug": ev.agency.slug, "name": ev.agency.name},
        "exported_by": {"user_id": actor.user_id, "role": str(actor.role)}, "exported_at": _at(now),
        "clips": files["clips"], "reads": files["reads"],
        "legal_holds": [{"id": h.id, "reason": h.reason, "placed_by": h.created_by, "placed_at": _at(h.created_at),
                         "released_by": h.released_by, "released_at": _at(h.released_at)} for h in ev.holds],
        "audit": {"excerpt": EXCERPT_FILE, "records": len(ev.audit), "truncated": len(ev.audit) >= MAX_AUDIT_RECORDS,
                  "chain_head": {"seq": ev.head[0], "hash": ev.head[1]}, "latest_anchor": anchor,
                  "latest_anchor_file": ANCHOR_FILE if anchor else None},
    }
    return json.dumps(doc, indent=2, sort_keys=True).encode() + b"\n"


def _bag_info(hub: Hub, actor: Actor, ev: CaseEvidence, export_id: str, now) -> list[tuple[str, object]]:
    info: list[tuple[str, object]] = [
        ("Source-Organization", ev.agency.name), ("External-Identifier", ev.case),
        ("External-Description", f"Evidence of case {ev.case} exported from {hub.deployment_name}: "
                                 f"{len(ev.items)} clips, {len(ev.reads)} locked plate reads, "
                                 f"{len(ev.audit)} audit records"),
        ("Internal-Sender-Identifier", export_id), ("Bagging-Date", now.astimezone(UTC).strftime("%Y-%m-%d")),
        ("Bag-Software-Agent", f"OpenRTCC {__version__}"), ("Exported-By", actor.user_id),
    ]
    for h in ev.holds:
        state = f"released {_at(h.released_at)}" if h.released_at else "active"
        info.append(("Legal-Hold", f"{h.id} placed {_at(h.created_at)} ({state}): {h.reason}"))
    info.append(("Audit-Chain-Head", f"record {ev.head[0]} {ev.head[1]}"))
    if ev.anchor is not None:
        s = ev.anchor.statement
        info.append(("Audit-Anchor", f"{s.day} record {s.seq} {s.hash} key {s.key_id}"))
    return info
