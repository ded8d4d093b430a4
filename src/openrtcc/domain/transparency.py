"""What the public transparency portal publishes about an agency, and the rules that keep people out of it:
counts and configuration only; users as keyed pseudonyms, plates as keyed hashes, no free text."""

from __future__ import annotations

import hashlib
import hmac
import re

from pydantic import BaseModel

from openrtcc.domain.audit import AuditRecord, canonical_at
from openrtcc.domain.search_purposes import OFFENCES, PURPOSE_BY_CODE

WINDOW_DAYS = 30  # the portal's "last 30 days", whatever an agency's retention is
MISREAD_STATUSES = ("misread", "wrong_state")
DISPOSITIONED = ("confirmed", "misread", "wrong_state", "resolved")
ALERT_STATUSES = ("new", *DISPOSITIONED)
MAX_AUDIT_PAGE = 500

# Audit detail keys whose values may be published, and then only when the value is a number, a flag or a short
# lower-case code (never free text: notes, reasons, case numbers and names fail the pattern or are not listed).
PUBLIC_DETAIL_KEYS = frozenset({
    "purpose", "offence", "count", "kind", "status", "data_kind", "mode", "match_kind", "camera_count",
    "retention_days", "trigger", "role", "tier", "format", "entries", "outcome", "page", "channel", "code",
    "cameras",
})
_CODE = re.compile(r"^[a-z][a-z0-9_.-]{0,47}$")
# Keys that hold a plate or plate pattern somewhere in the trail: published only as a keyed hash.
PLATE_DETAIL_KEYS = frozenset({"plate", "partial", "plate_pattern"})
_FULL_PLATE = re.compile(r"^[A-Z0-9]{2,10}$")


def pseudonym(key: bytes, user_id: str | None) -> str:
    """A stable public name for an account that cannot be turned back into the account without the hub's key."""
    if user_id is None:
        return "system"
    return "user-" + hmac.new(key, f"public-user:{user_id}".encode(), hashlib.sha256).hexdigest()[:10]


def plate_hash(key: bytes, plate: str) -> str:
    """A keyed hash of a normalised plate: the same plate gives the same hash; the hash gives no plate."""
    normal = re.sub(r"[^A-Z0-9]", "", plate.upper())
    return "plate-" + hmac.new(key, f"public-plate:{normal}".encode(), hashlib.sha256).hexdigest()[:16]


def reference(key: bytes, target: str) -> str:
    """A keyed reference to a target (camera, case, alert ...): records about one thing can be grouped."""
    return hmac.new(key, f"public-target:{target}".encode(), hashlib.sha256).hexdigest()[:12]


class PublicAuditRecord(BaseModel):
    seq: int
    at: str
    action: str
    outcome: str
    actor: str  # "user-<hmac>" or "system"
    target_kind: str | None  # "camera", "agency", "alert" ...: the part before the ':'
    target_ref: str | None  # keyed hash of the whole target
    details: dict[str, int | bool | str]
    hash: str  # the record's chain hash: checkable against the signed anchors


def _public_value(key: str, value) -> int | bool | str | None:
    if isinstance(value, bool) or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    if not isinstance(value, str):
        return None
    if key == "offence":
        return value if value in OFFENCES else None
    if key == "purpose":
        return value if value in PURPOSE_BY_CODE else None
    return value if _CODE.match(value) else None


def public_details(key: bytes, details: dict) -> dict[str, int | bool | str]:
    out: dict[str, int | bool | str] = {}
    for name, value in sorted(details.items()):
        if name in PLATE_DETAIL_KEYS and isinstance(value, str) and _FULL_PLATE.match(value.upper()):
            # A masked hint ("AB***3") is never published: hashing it would only look like protection.
            if "*" not in value:
                out[f"{name}_hash"] = plate_hash(key, value)
            continue
        if name in PUBLIC_DETAIL_KEYS:
            kept = _public_value(name, value)
            if kept is not None:
                out[name] = kept
    return out


def public_audit_record(key: bytes, r: AuditRecord) -> PublicAuditRecord:
    """The record as the public sees it: no address, no account, no free text, no plate."""
    kind = r.target.split(":", 1)[0] if r.target and ":" in r.target else None
    return PublicAuditRecord(
        seq=r.seq, at=canonical_at(r.at), action=r.action, outcome=r.outcome, actor=pseudonym(key, r.actor_id),
        target_kind=kind if kind and _CODE.match(kind) else None,
        target_ref=reference(key, r.target) if r.target else None,
        details=public_details(key, r.details or {}), hash=r.hash)


def misread_rate(by_status: dict[str, int]) -> float | None:
    """(misread + wrong state) / dispositioned alerts; None before any alert was dispositioned."""
    done = sum(by_status.get(s, 0) for s in DISPOSITIONED)
    if done == 0:
        return None
    return round(sum(by_status.get(s, 0) for s in MISREAD_STATUSES) / done, 4)



class AgencyRef(BaseModel):
    slug: str
    name: str
    kind: str


class CameraFigures(BaseModel):
    active: int
    by_tier: dict[str, int]  # active cameras per tier
    by_status: dict[str, int]  # every registered camera per status (withdrawn ones too)
    with_edge_box: int


class PlateReadingFigures(BaseModel):
    sources_by_kind: dict[str, int]  # active read sources (edge, lpr_camera, integration)
    sources_revoked: int
    cameras_with_reads: int  # registered cameras that sent a read in the window
    reads: int  # reads captured in the window (fewer once retention is shorter than the window)


class HotListSource(BaseModel):
    name: str
    format: str
    entries: int
    refreshed_at: str | None
    shared_from: str | None = None  # the agency that shares the list in; None: the agency's own


class AccessGrant(BaseModel):
    agency: str
    agency_kind: str
    data_kind: str
    purposes: list[str]
    expires_at: str


class CameraReadShare(BaseModel):
    agency: str
    cameras: int  # cameras whose owners send this agency their plate reads


class AccessFigures(BaseModel):
    grants: list[AccessGrant]  # live sharing grants this agency has given
    camera_read_shares: list[CameraReadShare]
    staff_by_role: dict[str, int]  # enabled accounts of the agency per role


class PurposeCount(BaseModel):
    purpose: str
    label: str
    done: int
    refused: int


class SearchFigures(BaseModel):
    by_purpose: list[PurposeCount]
    by_kind: dict[str, int]
    total: int
    audited: int  # search records in the audit trail over the same days: the cross-check


class AlertFigures(BaseModel):
    by_status: dict[str, int]  # alerts raised in the window, per current status
    misread_rate: float | None
    all_time_by_status: dict[str, int]  # including the tallies of alerts already expired
    all_time_misread_rate: float | None


class SearchRules(BaseModel):
    prohibited_purposes: list[str]  # labels
    camera_limit: int  # a wider area search needs a supervisor's approval
    repeat_search_threshold: int
    repeat_search_window_hours: int


class TransparencyReport(BaseModel):
    agency: AgencyRef
    generated_at: str
    window_days: int
    retention_days: int
    audit_retention_days: int
    cameras: CameraFigures
    plate_reading: PlateReadingFigures
    hot_lists: list[HotListSource]
    access: AccessFigures
    searches: SearchFigures
    alerts: AlertFigures
    search_rules: SearchRules
    policy_text: str
    links: dict[str, str]


def report_rows(r: TransparencyReport) -> list[tuple[str, str, str]]:
    """The report flattened to (section, item, value) rows for the CSV download."""
    rows: list[tuple[str, str, str]] = [
        ("agency", "slug", r.agency.slug), ("agency", "name", r.agency.name), ("agency", "kind", r.agency.kind),
        ("report", "generated_at", r.generated_at), ("report", "window_days", str(r.window_days)),
        ("retention", "days", str(r.retention_days)), ("retention", "audit_days", str(r.audit_retention_days)),
        ("cameras", "active", str(r.cameras.active)), ("cameras", "with_edge_box", str(r.cameras.with_edge_box))]
    rows += [("cameras_by_tier", k, str(v)) for k, v in sorted(r.cameras.by_tier.items())]
    rows += [("cameras_by_status", k, str(v)) for k, v in sorted(r.cameras.by_status.items())]
    p = r.plate_reading
    rows += [("read_sources", k, str(v)) for k, v in sorted(p.sources_by_kind.items())]
    rows += [("read_sources", "revoked", str(p.sources_revoked)),
             ("plate_reading", "cameras_with_reads", str(p.cameras_with_reads)), ("plate_reading", "reads", str(p.reads))]
    rows += [("hot_list", h.name, f"{h.format}; {h.entries} entries; refreshed {h.refreshed_at or 'never'}"
              + (f"; shared by {h.shared_from}" if h.shared_from else "")) for h in r.hot_lists]
    rows += [("access_grant", g.agency, f"{g.data_kind} for {' '.join(g.purposes)} until {g.expires_at}")
             for g in r.access.grants]
    rows += [("camera_read_share", s.agency, str(s.cameras)) for s in r.access.camera_read_shares]
    rows += [("staff_by_role", k, str(v)) for k, v in sorted(r.access.staff_by_role.items())]
    rows += [("searches_by_purpose", c.purpose, f"{c.done} done; {c.refused} refused") for c in r.searches.by_purpose]
    rows += [("searches_by_kind", k, str(v)) for k, v in sorted(r.searches.by_kind.items())]
    rows += [("searches", "total", str(r.searches.total)), ("searches", "audited", str(r.searches.audited))]
    rows += [("alerts_by_status", k, str(v)) for k, v in sorted(r.alerts.by_status.items())]
    rows += [("alerts", "misread_rate", _rate(r.alerts.misread_rate)),
             ("alerts", "all_time_misread_rate", _rate(r.alerts.all_time_misread_rate))]
    rows += [("alerts_all_time_by_status", k, str(v)) for k, v in sorted(r.alerts.all_time_by_status.items())]
    s = r.search_rules
    rows += [("search_rules", "prohibited_purpose", label) for label in s.prohibited_purposes]
    rows += [("search_rules", "camera_limit", str(s.camera_limit)),
             ("search_rules", "repeat_search_threshold", str(s.repeat_search_threshold)),
             ("search_rules", "repeat_search_window_hours", str(s.repeat_search_window_hours)),
             ("policy", "text", r.policy_text)]
    rows += [("link", k, v) for k, v in sorted(r.links.items())]
    return rows


def _rate(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"
