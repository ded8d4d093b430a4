"""Sharing between agencies, as pure rules: deny by default; one-to-one grants per kind of data and purpose,
each with an expiry; a federal recipient only through an explicitly acknowledged one-to-one grant."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from openrtcc.domain.errors import Forbidden, InvalidInput
from openrtcc.domain.governance import AgencyKind, DataKind
from openrtcc.domain.search_purposes import PURPOSE_BY_CODE

MAX_GRANT = timedelta(days=365)
MAX_FEDERAL_GRANT = timedelta(days=90)  # a federal grant is renewed on purpose, never left to run for a year
MAX_GRANT_NOTE = 500
# Matching a shared hot list against my reads is follow-up of hot-list alerts: a hot-list grant names it.
HOTLIST_MATCH_PURPOSE = "hot_list_follow_up"


@dataclass(frozen=True, slots=True)
class SharingGrant:
    id: str
    from_agency_id: str
    to_agency_id: str
    data_kind: DataKind
    purposes: frozenset[str]
    created_at: datetime
    expires_at: datetime
    federal_one_to_one: bool = False
    revoked_at: datetime | None = None
    note: str | None = None
    created_by: str | None = None
    revoked_by: str | None = None

    def live(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at

    def status(self, now: datetime) -> str:
        return "revoked" if self.revoked_at is not None else "expired" if now >= self.expires_at else "live"


@dataclass(frozen=True, slots=True)
class GrantDraft:
    """What a source agency's administrator asks for; validate_grant turns it into the stored values."""

    from_agency_id: str
    to_agency_id: str
    data_kind: str
    purposes: Sequence[str]
    expires_at: datetime | None
    federal_one_to_one: bool = False
    note: str | None = None


@dataclass(frozen=True, slots=True)
class ValidGrant:
    data_kind: DataKind
    purposes: frozenset[str]
    expires_at: datetime
    federal_one_to_one: bool
    note: str | None


@dataclass(frozen=True, slots=True)
class ShareDecision:
    allowed: bool
    reason: str  # own_agency | granted | prohibited_by_source | no_grant | revoked | expired | purpose_not_granted
    #              | federal_needs_one_to_one
    grant_id: str | None = None


def _invalid(message: str, code: str, field: str) -> InvalidInput:
    return InvalidInput(message, code=code, details={"field": field})


def _data_kind(value: str) -> DataKind:
    try:
        return DataKind(value)
    except ValueError:
        kinds = ", ".join(k.value for k in DataKind)
        raise _invalid(f"kind of data must be one of {kinds}", "bad_data_kind", "data_kind") from None


def _purposes(codes: Sequence[str], kind: DataKind, prohibited_by_source: frozenset[str]) -> frozenset[str]:
    cleaned = frozenset(str(c).strip() for c in codes if str(c).strip())
    if not cleaned:
        raise _invalid("name each purpose the grant is for: a grant for any purpose is not made",
                       "purposes_required", "purposes")
    unknown = sorted(cleaned - set(PURPOSE_BY_CODE))
    if unknown:
        raise _invalid(f"purpose {unknown[0][:48]!r} is not in the purpose list", "unknown_purpose", "purposes")
    banned = sorted(cleaned & prohibited_by_source)
    if banned:
        raise Forbidden(f"your agency prohibits the purpose {banned[0]}: it cannot be shared for it either",
                        code="purpose_prohibited", details={"field": "purposes", "purposes": banned})
    if kind is DataKind.HOT_LISTS and HOTLIST_MATCH_PURPOSE not in cleaned:
        raise _invalid(f"a hot-list grant is used to match reads: include the purpose {HOTLIST_MATCH_PURPOSE}",
                       "hotlist_purpose_required", "purposes")
    return cleaned


def _expiry(expires_at: datetime | None, now: datetime, federal: bool) -> datetime:
    if expires_at is None:
        raise _invalid("a grant needs an expiry date", "expiry_required", "expires_at")
    if expires_at.tzinfo is None:
        raise _invalid("the expiry needs a time zone (UTC: ...Z)", "bad_expiry", "expires_at")
    if expires_at <= now:
        raise _invalid("the expiry must be in the future", "bad_expiry", "expires_at")
    longest = MAX_FEDERAL_GRANT if federal else MAX_GRANT
    if expires_at - now > longest:
        who = "to a federal agency " if federal else ""
        raise _invalid(f"a grant {who}runs at most {longest.days} days; renew it when it ends",
                       "expiry_too_long", "expires_at")
    return expires_at


def validate_grant(d: GrantDraft, now: datetime, recipient_kind: AgencyKind,
                   prohibited_by_source: frozenset[str]) -> ValidGrant:
    """Refuse a grant that would break a rule; each broken rule has its own code."""
    if d.from_agency_id == d.to_agency_id:
        raise _invalid("an agency does not need a grant to see its own data", "self_grant", "to_agency")
    kind = _data_kind(d.data_kind)
    federal = recipient_kind is AgencyKind.FEDERAL
    if federal and not d.federal_one_to_one:
        raise Forbidden("a federal agency receives data only through an explicit one-to-one grant: "
                        "acknowledge federal_one_to_one and name each purpose", code="federal_acknowledgement_required",
                        details={"field": "federal_one_to_one"})
    if d.federal_one_to_one and not federal:
        raise _invalid("federal_one_to_one is the acknowledgement for a federal recipient; this one is not federal",
                       "not_federal", "federal_one_to_one")
    purposes = _purposes(d.purposes, kind, prohibited_by_source)
    expires_at = _expiry(d.expires_at, now, federal)
    note = (d.note or "").strip() or None
    if note is not None and (len(note) > MAX_GRANT_NOTE or not note.isprintable()):
        raise _invalid(f"note: at most {MAX_GRANT_NOTE} printable characters on one line", "bad_note", "note")
    return ValidGrant(kind, purposes, expires_at, federal, note)


def decide_share(grants: Iterable[SharingGrant], from_agency_id: str, to_agency_id: str, kind: DataKind,
                 purpose: str, now: datetime, recipient_kind: AgencyKind,
                 prohibited_by_source: frozenset[str]) -> ShareDecision:
    """May `to_agency_id` see `from_agency_id`'s `kind` of data for `purpose` now? Denied unless a grant says so."""
    if from_agency_id == to_agency_id:
        return ShareDecision(True, "own_agency")
    if purpose in prohibited_by_source:  # prohibited since the grant was made: the prohibition wins
        return ShareDecision(False, "prohibited_by_source")
    pair = [g for g in grants if (g.from_agency_id, g.to_agency_id, g.data_kind) == (from_agency_id, to_agency_id,
                                                                                     kind)]
    steps = (
        ("no_grant", lambda g: True),
        ("revoked", lambda g: g.revoked_at is None),
        ("expired", lambda g: now < g.expires_at),
        ("purpose_not_granted", lambda g: purpose in g.purposes),
        # A grant made while the recipient was local does not carry over when it becomes federal.
        ("federal_needs_one_to_one", lambda g: recipient_kind is not AgencyKind.FEDERAL or g.federal_one_to_one),
    )
    for reason, keep in steps:
        pair = [g for g in pair if keep(g)]
        if not pair:
            return ShareDecision(False, reason)
    best = max(pair, key=lambda g: g.expires_at)
    return ShareDecision(True, "granted", best.id)


@dataclass(frozen=True, slots=True)
class SharedList:
    """A hot list of another agency that the receiving agency opted in to, with what decides if it applies:
    every grant of hot lists from the source to the recipient (a renewed grant keeps the opt-in)."""

    list_id: str
    version: int
    source_agency_id: str
    grants: tuple[SharingGrant, ...]
    recipient_kind: AgencyKind
    prohibited_by_source: frozenset[str]


def applying_shared_lists(subscribed: Iterable[SharedList], to_agency_id: str,
                          now: datetime) -> list[tuple[SharedList, datetime]]:
    """The opted-in lists that apply to matching now, each with the moment its grant ends."""
    applying = []
    for s in subscribed:
        decision = decide_share(s.grants, s.source_agency_id, to_agency_id, DataKind.HOT_LISTS,
                                HOTLIST_MATCH_PURPOSE, now, s.recipient_kind, s.prohibited_by_source)
        if decision.allowed:
            applying.append((s, next(g.expires_at for g in s.grants if g.id == decision.grant_id)))
    return applying
