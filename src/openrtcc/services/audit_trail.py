"""Reading and verifying the audit chain."""

from __future__ import annotations

from dataclasses import dataclass

from openrtcc.domain.accounts import Permission
from openrtcc.domain.audit import GENESIS_HASH, ChainProblem, verify_records
from openrtcc.services.hub import Actor, Hub


@dataclass(frozen=True, slots=True)
class VerifyReport:
    checked: int
    head_seq: int
    problem: ChainProblem | None

    @property
    def ok(self) -> bool:
        return self.problem is None


def verify_chain(hub: Hub) -> VerifyReport:
    """Recompute every hash and link; name the first altered or missing record, or a truncated tail."""
    with hub.uow() as uow:
        head_seq, head_hash = uow.audit.head()
        problem, checked, last = verify_records(uow.audit.iter_records(), GENESIS_HASH, 1)
        if problem is None and (checked != head_seq or last != head_hash):
            problem = ChainProblem(checked + 1, f"record {checked + 1} is missing: the chain head is at {head_seq}")
        uow.rollback()
    return VerifyReport(checked, head_seq, problem)


def agency_audit(hub: Hub, actor: Actor, limit: int = 200, before_seq: int | None = None) -> list:
    actor.require(Permission.READ_AUDIT)
    with hub.uow() as uow:
        rows = uow.audit.list_for_agency(actor.agency_id, min(limit, 1000), before_seq)
        uow.record(actor.entry("audit.read", f"agency:{actor.agency_id}", count=len(rows)))
        uow.commit()
        return rows
