"""Deletions and revocations noted in the erasure journal (before their transaction commits), and their replay
over a restored database: what was deleted after a backup was taken is deleted again, idempotently."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

from openrtcc.domain.cameras import CameraStatus
from openrtcc.domain.erasures import Erasure, ErasureKind, replay_order
from openrtcc.domain.ports import ErasureJournal
from openrtcc.services.hub import Hub


def journal_of(hub: Hub) -> ErasureJournal | None:
    return hub.extras.get("erasure_journal")


def note(hub: Hub, kind: ErasureKind, **fields) -> None:
    """Journal an erasure before the transaction that makes it commits: should the commit fail, a restore would
    at worst delete again what its owner had asked to delete; the other order could bring data back."""
    journal = journal_of(hub)
    if journal is None:  # a hub built without one (a bare test hub): nothing outlives its database anyway
        return
    journal.append(Erasure(kind=kind, at=hub.clock.now(), **fields))


def replay(hub: Hub, entries: list[Erasure]) -> Counter:
    """Apply every entry to the (restored) database; returns the changes per kind. Replaying twice changes nothing
    the second time. Media files are the caller's: a restore puts back only those a remaining row names."""
    counts: Counter = Counter()
    for e in replay_order(entries):
        with hub.uow() as uow:
            changed = _APPLY[e.kind](uow, e)
            uow.commit_bookkeeping()  # the restore's one audit record names what the replay did
        counts[e.kind.value] += changed
    return counts


def _cutoff(uow, e: Erasure) -> int:
    from openrtcc.services.retention import expire_agency_rows

    if e.agency_id is None or e.cutoff is None:
        return 0
    deleted, _keys = expire_agency_rows(uow, e.agency_id, e.cutoff, set(e.held_cases))
    return sum(deleted.values())


def _hub_logs(uow, e: Erasure) -> int:
    ex, n = uow.retention.expiry, 0
    if e.cutoff is not None:
        n += sum(ex.expire_hub_logs(e.cutoff).values())
    if e.access_cutoff is not None:
        n += sum(ex.expire_access_logs(e.access_cutoff).values())
    return n


def _camera(uow, e: Erasure) -> int:
    cam = uow.cameras.get_for_owner(e.owner_id or "", e.target or "")
    if cam is None or cam.status is CameraStatus.WITHDRAWN:
        return 0
    uow.cameras.update(replace(cam, status=CameraStatus.WITHDRAWN, withdrawn_at=e.at, updated_at=e.at))
    return 1


def _grant(uow, e: Erasure) -> int:
    return int(bool(uow.sharing.revoke(e.target, e.by, e.at)))


def _hold(uow, e: Erasure) -> int:
    hold = uow.retention.hold(e.agency_id, e.target)
    if hold is None or not hold.active:
        return 0
    return int(bool(uow.retention.release_hold(e.target, e.by, e.at)))


def _edge(uow, e: Erasure) -> int:
    row = uow.edges.get(e.target)
    if row is None or row.revoked_at is not None:
        return 0
    uow.edges.revoke(e.target, e.at)
    return 1


def _source(uow, e: Erasure) -> int:
    row = uow.read_sources.get(e.agency_id, e.target)
    if row is None or row.revoked_at is not None:
        return 0
    return int(bool(uow.read_sources.revoke(e.agency_id, e.target, e.at)))


def _integration(uow, e: Erasure) -> int:
    return int(bool(uow.integrations.revoke(e.agency_id, e.target, e.at)))


_APPLY = {
    ErasureKind.RETENTION_CUTOFF: _cutoff,
    ErasureKind.HUB_LOG_CUTOFF: _hub_logs,
    ErasureKind.CAMERA_WITHDRAWN: _camera,
    ErasureKind.GRANT_REVOKED: _grant,
    ErasureKind.HOLD_RELEASED: _hold,
    ErasureKind.EDGE_REVOKED: _edge,
    ErasureKind.SOURCE_REVOKED: _source,
    ErasureKind.INTEGRATION_REVOKED: _integration,
}
