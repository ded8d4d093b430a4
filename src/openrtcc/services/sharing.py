"""Sharing between agencies: deny by default; one-to-one grants per kind of data and purpose, with an expiry."""

from __future__ import annotations

from datetime import datetime

from openrtcc.domain.governance import DataKind
from openrtcc.services.hub import Actor


def agencies_sharing(uow, to_agency_id: str, kind: DataKind, purpose: str, now: datetime) -> list[str]:
    """The agencies whose live grants let `to_agency_id` see `kind` for `purpose` now (never itself)."""
    return []


def audit_shared_access(uow, actor: Actor, source_agency_id: str, kind: DataKind, action: str, **details) -> None:
    """Audit one access to another agency's data on both sides: in the actor's agency and in the source's."""
