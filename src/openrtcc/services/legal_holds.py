"""Legal holds on a case and evidence locks: a held case keeps its clips and uploads past retention, and a
read locked into it is copied (with its alerts and image keys) so that it outlives the read's own expiry."""

from __future__ import annotations

from datetime import UTC

from openrtcc.domain.accounts import Permission, has_permission
from openrtcc.domain.erasures import ErasureKind
from openrtcc.domain.errors import Conflict, DomainError, Forbidden, NotFound
from openrtcc.domain.retention import CaseRead, LegalHold, validate_case_number, validate_reason
from openrtcc.services import erasures
from openrtcc.services.hub import Actor, Hub
from openrtcc.services.search_rules import plate_hint

# Holds are evidence work; administrators and auditors read them beside the deletion reports.
_READERS = (Permission.HOLD_EVIDENCE, Permission.RUN_RETENTION, Permission.READ_AUDIT)


def _refused(hub: Hub, actor: Actor, action: str, target: str | None, exc: DomainError, **details) -> DomainError:
    """A refusal leaves its own audit record; the caller raises the error it gets back."""
    with hub.uow() as uow:
        uow.record(actor.entry(action, target, outcome="denied", reason=exc.code, **details))
        uow.commit()
    return exc


def _holder_agency(hub: Hub, actor: Actor, action: str, target: str | None, **details) -> str:
    if actor.agency_id is None or not has_permission(actor.role, Permission.HOLD_EVIDENCE):
        raise _refused(hub, actor, action, target, Forbidden(
            f"the {actor.role} role may not hold evidence", code="permission_denied"), **details)
    return actor.agency_id


def reader_agency(actor: Actor) -> str:
    if actor.agency_id is None or not any(has_permission(actor.role, p) for p in _READERS):
        raise Forbidden(f"the {actor.role} role may not see legal holds", code="permission_denied")
    return actor.agency_id


def place_hold(hub: Hub, actor: Actor, case_number: str, reason: str) -> LegalHold:
    """Keep the case's evidence past retention until released; one active hold per case."""
    agency_id = _holder_agency(hub, actor, "retention.hold_place", None)
    try:
        case, why = validate_case_number(case_number), validate_reason(reason)
    except DomainError as exc:
        raise _refused(hub, actor, "retention.hold_place", None, exc) from None
    with hub.uow() as uow:
        if uow.retention.active_hold(agency_id, case) is not None:
            uow.rollback()
            raise _refused(hub, actor, "retention.hold_place", None, Conflict(
                f"case {case} is already under a legal hold", code="already_held"), case_number=case)
        hold = LegalHold(hub.ids.new_id(), agency_id, case, why, actor.user_id, hub.clock.now(), None, None)
        uow.retention.add_hold(hold)
        uow.record(actor.entry("retention.hold_place", hold.id, case_number=case, reason=why))
        uow.commit()
    return hold


def release_hold(hub: Hub, actor: Actor, hold_id: str) -> LegalHold:
    """Release a hold: the case's evidence and locked reads then expire with the next purge if past retention."""
    agency_id = _holder_agency(hub, actor, "retention.hold_release", hold_id)
    with hub.uow() as uow:
        hold = uow.retention.hold(agency_id, hold_id)
        if hold is None or not hold.active:
            uow.rollback()
            exc = NotFound("no such legal hold", code="no_hold") if hold is None else Conflict(
                "this legal hold was already released", code="already_released")
            raise _refused(hub, actor, "retention.hold_release", hold_id, exc)
        now = hub.clock.now()
        uow.retention.release_hold(hold_id, actor.user_id, now)
        uow.record(actor.entry("retention.hold_release", hold_id, case_number=hold.case_number))
        erasures.note(hub, ErasureKind.HOLD_RELEASED, target=hold_id, agency_id=agency_id, by=actor.user_id)
        uow.commit()
    return LegalHold(hold.id, hold.agency_id, hold.case_number, hold.reason, hold.created_by, hold.created_at,
                     actor.user_id, now)


def list_holds(hub: Hub, actor: Actor, active_only: bool = False) -> list[LegalHold]:
    agency_id = reader_agency(actor)
    with hub.uow() as uow:
        return uow.retention.holds(agency_id, active_only)


def lock_read(hub: Hub, actor: Actor, case_number: str, read_id: str) -> CaseRead:
    """Copy a read (with its alerts) into a held case. The case must be under a legal hold: a lock without one
    would be a way round the 30 days."""
    agency_id = _holder_agency(hub, actor, "retention.read_lock", read_id)
    try:
        case = validate_case_number(case_number)
    except DomainError as exc:
        raise _refused(hub, actor, "retention.read_lock", read_id, exc) from None
    with hub.uow() as uow:
        exc = _lock_refusal(uow, agency_id, case, read_id)
        if exc is not None:
            uow.rollback()
            raise _refused(hub, actor, "retention.read_lock", read_id, exc, case_number=case)
        read = uow.reads.get(agency_id, read_id)
        alerts = uow.retention.alerts_of_read(agency_id, read_id)
        document = {"read": _read_document(read), "alerts": alerts}
        now = hub.clock.now()
        row_id = uow.retention.lock_read(agency_id, case, read_id, alerts[0]["id"] if alerts else None, document,
                                         read.crop_key, read.snapshot_key, actor.user_id, now)
        uow.record(actor.entry("retention.read_lock", read_id, case_number=case, plate=plate_hint(read.plate),
                               alerts=len(alerts)))
        uow.commit()
    return CaseRead(row_id, agency_id, case, read_id, document["alerts"][0]["id"] if alerts else None, document,
                    read.crop_key, read.snapshot_key, actor.user_id, now)


def _lock_refusal(uow, agency_id: str, case: str, read_id: str) -> DomainError | None:
    if uow.retention.active_hold(agency_id, case) is None:
        return Conflict(f"case {case} has no legal hold: place one first", code="no_legal_hold")
    if uow.reads.get(agency_id, read_id) is None:  # another agency's read is as absent as an expired one
        return NotFound("no such plate read (it may have expired)", code="no_read")
    if uow.retention.case_read(agency_id, case, read_id) is not None:
        return Conflict("this read is already locked into the case", code="already_locked")
    return None


def case_reads(hub: Hub, actor: Actor, case_number: str) -> list[CaseRead]:
    """The reads locked into a case; a view of plates, so it is audited."""
    agency_id = reader_agency(actor)
    case = validate_case_number(case_number)
    with hub.uow() as uow:
        rows = uow.retention.case_reads(agency_id, case)
        uow.record(actor.entry("retention.case_reads_view", case, case_number=case, count=len(rows)))
        uow.commit()
    return rows


def _read_document(read) -> dict:
    return {"id": read.id, "source_id": read.source_id, "camera_id": read.camera_id, "plate": read.plate,
            "state": read.state, "region": read.region, "confidence": read.confidence,
            "candidates": [{"text": c.text, "confidence": c.confidence} for c in read.candidates],
            "lat": read.lat, "lon": read.lon, "heading_deg": read.heading_deg, "vehicle_make": read.vehicle_make,
            "vehicle_colour": read.vehicle_colour, "vehicle_type": read.vehicle_type, "crop_key": read.crop_key,
            "snapshot_key": read.snapshot_key, "content_hash": read.content_hash,
            "captured_at": read.captured_at.astimezone(UTC).isoformat(),
            "received_at": read.received_at.astimezone(UTC).isoformat()}
