"""The back-check: entries new in a list's version, matched against the reads stored in the retention
window, so that a plate listed today alerts on the car that passed a camera last week."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from itertools import islice

from openrtcc.domain.hotlists import HotListEntry
from openrtcc.domain.matching import Hit
from openrtcc.services.hotlist_index import hotlist_index
from openrtcc.services.hub import Actor, Hub

log = logging.getLogger(__name__)
READ_RETENTION = timedelta(days=30)  # the window of stored reads (plate_read) a new entry is checked against
STORE_BATCH = 500
MATCH_BATCH = 5000  # stored reads matched per call to the index


@dataclass(frozen=True, slots=True)
class BackCheck:
    reads_checked: int
    hits: tuple[tuple[str, tuple[Hit, ...]], ...]  # (read id, its hits on the new entries)
    alerts: int  # alerts stored (a read already alerted on this list is not alerted twice)


def back_check(hub: Hub, actor: Actor, list_id: str, new_entries: Sequence[HotListEntry]) -> BackCheck:
    """Match the reads of the window against `new_entries` only, then store an alert per hit."""
    if not new_entries:
        return BackCheck(0, (), 0)
    now = hub.clock.now()
    matcher = hub.matcher_factory({list_id: new_entries})
    found: list[tuple[str, tuple[Hit, ...]]] = []
    checked = 0
    # The scan reads through the index's snapshot: it holds no write lock while it walks a month of reads.
    with hotlist_index(hub).snapshot() as repo:
        rows = repo.reads_since(actor.agency_id, now - READ_RETENTION)
        while chunk := list(islice(rows, MATCH_BATCH)):
            checked += len(chunk)
            hits_of = matcher.match_many([(plate, state) for _id, plate, state, _at in chunk], now)
            found += [(row[0], tuple(hits)) for row, hits in zip(chunk, hits_of, strict=True) if hits]
    alerts = _store(hub, actor, list_id, found, checked) if found else 0
    log.info("back-check of hot list %s: %s reads, %s hits, %s alerts", list_id, checked, len(found), alerts)
    return BackCheck(checked, tuple(found), alerts)


def _store(hub: Hub, actor: Actor, list_id: str, found: list[tuple[str, tuple[Hit, ...]]], checked: int) -> int:
    from openrtcc.services.alerts import publish_alerts, raise_alerts

    stored = 0
    for start in range(0, len(found), STORE_BATCH):
        batch = found[start:start + STORE_BATCH]
        now = hub.clock.now()
        with hub.uow() as uow:
            raised = []
            for read_id, hits in batch:
                read = uow.reads.get(actor.agency_id, read_id)
                if read is not None:
                    raised += raise_alerts(uow, actor.agency_id, read, hits, now)
            uow.record(actor.entry("hotlist.back_check", f"hot_list:{list_id}", reads_checked=checked,
                                   hits=len(batch), alerts=len(raised)))
            uow.commit()
        publish_alerts(hub, raised)
        stored += len(raised)
    return stored
