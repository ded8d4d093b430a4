"""Alerts: raised from hot-list hits, announced after commit, listed, and closed by a person's disposition."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import BinaryIO

from openrtcc.domain.accounts import Permission
from openrtcc.domain.alerts import (
    AlertRaised,
    AlertStatus,
    AlertView,
    disposition_status,
    entry_snapshot,
    kind_rank,
)
from openrtcc.domain.errors import InvalidInput, NotFound
from openrtcc.domain.reads import PlateRead, sniff_image
from openrtcc.services import alert_actions
from openrtcc.services.hub import Actor, Hub
from openrtcc.services.shared_hotlists import audit_shared_hits

log = logging.getLogger(__name__)
ALERT_TOPIC = "alert.raised"
MAX_LIST = 500
RELAY_GRACE = timedelta(seconds=30)  # the publish after commit normally takes milliseconds
CLAIM_LEASE = timedelta(minutes=5)


def _best_per_list(hits: Sequence) -> list:
    """One alert per read and list: the strongest kind of match wins (exact over look-alike over ...)."""
    best: dict[str, object] = {}
    for hit in hits:
        kind = str(getattr(hit.kind, "value", hit.kind))
        held = best.get(hit.list_id)
        if held is None or kind_rank(kind) < kind_rank(str(getattr(held.kind, "value", held.kind))):
            best[hit.list_id] = hit
    return list(best.values())


def raise_alerts(uow, agency_id: str, read: PlateRead, hits: Sequence, now: datetime) -> list[AlertRaised]:
    """Store an alert per list hit by `read`, each with its outbox event, inside the caller's transaction.

    The caller commits, then hands the result to `publish_alerts`. A (read, list) pair that already has an
    alert is skipped, so a hot-list back-check may run over reads that ingest has already matched."""
    chosen = _best_per_list(hits)
    if not chosen:
        return []
    done = uow.alerts.raised_for([read.id])
    chosen = [h for h in chosen if (read.id, h.list_id) not in done]
    names = uow.alerts.list_names({h.list_id for h in chosen})
    rows, raised = [], []
    for hit in chosen:
        alert_id = uow.ids.new_id()
        kind = str(getattr(hit.kind, "value", hit.kind))
        entry = entry_snapshot(hit.entry)
        rows.append(dict(id=alert_id, agency_id=agency_id, read_id=read.id, list_id=hit.list_id, entry=entry,
                         match_kind=kind, status=AlertStatus.NEW.value, created_at=now))
        view = _view_of(alert_id, agency_id, read, hit.list_id, names.get(hit.list_id), entry, kind, now)
        outbox_id = uow.activity.enqueue(ALERT_TOPIC, {"alert_id": alert_id, "agency_id": agency_id}, now)
        raised.append(AlertRaised(view, outbox_id))
    uow.alerts.add_many(rows)
    # A hit on a list another agency shared in is an access to its data: audited on both sides.
    audit_shared_hits(uow, agency_id, read.id, [(r["id"], r["list_id"], r["match_kind"]) for r in rows])
    return raised


def _view_of(alert_id: str, agency_id: str, read: PlateRead, list_id: str, list_name: str | None, entry: dict,
             kind: str, now: datetime) -> AlertView:
    return AlertView(
        alert_id, agency_id, AlertStatus.NEW, kind, list_id, list_name, entry, read.id, read.plate, read.state,
        read.region, read.confidence, read.camera_id, read.lat, read.lon, read.heading_deg, read.vehicle_make,
        read.vehicle_colour, read.vehicle_type, read.crop_key is not None, read.snapshot_key is not None,
        read.captured_at, now,
    )


def publish_alerts(hub: Hub, raised: Sequence[AlertRaised]) -> None:
    """After commit: announce on the bus, then mark the outbox events delivered.

    An event the bus refuses (NATS away) stays unmarked, and so do the ones after it: the relay announces
    them once the bus is back. The alerts are stored either way, so the caller's request still succeeds."""
    if not raised or hub.bus is None:
        return
    announced = []
    # In the order of a reconnecting screen's catch-up (`after=`: creation time, then id): a screen cut off
    # while a batch was being announced holds a prefix of it, and its catch-up returns exactly the rest.
    for event in sorted(raised, key=lambda e: (e.alert.created_at, e.alert.id)):
        try:
            hub.bus.publish(event)
        except Exception as exc:
            log.warning("%s alerts stored but not announced (%s): the relay will announce them",
                        len(raised) - len(announced), type(exc).__name__)
            break
        announced.append(event)
    ids = [e.outbox_id for e in announced if e.outbox_id is not None]
    if not ids:
        return
    try:
        with hub.uow() as uow:
            now = hub.clock.now()
            for outbox_id in ids:
                uow.activity.mark_dispatched(outbox_id, now)
            uow.commit_bookkeeping()
    except Exception as exc:  # the alerts are stored and announced: an unmarked event is only announced again
        log.warning("alerts announced but not marked (%s): the relay will announce them again",
                    type(exc).__name__)


def relay_unpublished(hub: Hub, grace: timedelta = RELAY_GRACE, limit: int = 200) -> int:
    """Announce alerts whose announcement was lost (the process stopped between commit and publish).

    Each event is claimed first, so two hubs on one database do not both announce it; a client may still see
    an alert twice across such a restart and keeps one per id."""
    if hub.bus is None:
        return 0
    now = hub.clock.now()
    with hub.uow() as uow:
        due = uow.activity.due(now - grace, limit, topic=ALERT_TOPIC)
        uow.rollback()
    relayed = 0
    for ev in due:
        with hub.uow() as uow:
            if not uow.activity.claim(ev.id, now - grace, now + CLAIM_LEASE):
                continue
            view = uow.alerts.get(ev.payload["agency_id"], ev.payload["alert_id"])
            uow.commit_bookkeeping()
        if view is not None and not _relay_one(hub, AlertRaised(view, ev.id), ev, now - grace):
            break  # the bus is away: the rest wait for the next round
        with hub.uow() as uow:
            uow.activity.mark_dispatched(ev.id, hub.clock.now())
            uow.commit_bookkeeping()
        relayed += 1
    if relayed:
        log.warning("relayed %s alert announcements lost before publishing", relayed)
    return relayed


def _relay_one(hub: Hub, event: AlertRaised, ev, due_again: datetime) -> bool:
    """Publish one relayed event; when the bus refuses, give the claim back so the next round tries again (a
    publish that did reach the stream is dropped as a duplicate then: its message id is the outbox id)."""
    try:
        hub.bus.publish(event)
        return True
    except Exception as exc:
        log.warning("alert relay: the bus refused an announcement (%s); trying again next round", type(exc).__name__)
        with hub.uow() as uow:
            uow.activity.mark_failed(ev.id, ev.attempts + 1, type(exc).__name__, due_again)
            uow.commit_bookkeeping()
        return False


def list_alerts(hub: Hub, actor: Actor, *, after: str | None = None, status: str | None = None,
                limit: int = 100) -> list[AlertView]:
    """Newest first; `after` (an alert id) returns only those raised since it: what a reconnecting client missed."""
    actor.require(Permission.VIEW_ALERTS)
    if status is not None and status not in {s.value for s in AlertStatus}:
        raise InvalidInput(f"status must be one of {', '.join(s.value for s in AlertStatus)}", code="bad_status")
    if not 1 <= limit <= MAX_LIST:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIST}", code="bad_limit")
    with hub.uow() as uow:
        position = None
        if after is not None:
            position = uow.alerts.position(actor.agency_id, after)
            if position is None:
                raise NotFound("no such alert in your agency")
        alerts = uow.alerts.newest(actor.agency_id, after=position, status=status, limit=limit)
        uow.record(actor.entry("alert.list", f"agency:{actor.agency_id}", after=after, status=status,
                               count=len(alerts)))
        uow.commit()
    return alerts


def get_alert(hub: Hub, actor: Actor, alert_id: str) -> AlertView:
    actor.require(Permission.VIEW_ALERTS)
    with hub.uow() as uow:
        view = uow.alerts.get(actor.agency_id, alert_id)
        if view is None:
            raise NotFound("no such alert in your agency")
        uow.record(actor.entry("alert.read", f"alert:{alert_id}"))
        uow.commit()
    return view


def record_disposition(hub: Hub, actor: Actor, alert_id: str, disposition: str, note: str | None) -> AlertView:
    """A person's verdict on an alert, audited; two officers answering at once cannot both move it."""
    actor.require(Permission.DISPOSITION_ALERTS)
    note = (note.strip() or None) if note is not None else None
    with hub.uow() as uow:
        view = uow.alerts.get(actor.agency_id, alert_id)
        if view is None:
            raise NotFound("no such alert in your agency")
        status = disposition_status(view.status, disposition, note)
        now = hub.clock.now()
        if not uow.alerts.set_disposition(actor.agency_id, alert_id, view.status, status, actor.user_id, now, note):
            raise NotFound("the alert changed meanwhile: reload it")
        uow.record(actor.entry("alert.disposition", f"alert:{alert_id}", was=view.status.value,
                               disposition=status.value, noted=note is not None))
        uow.commit()
    view = replace(view, status=status, disposition_by=actor.user_id, disposition_at=now, disposition_note=note)
    alert_actions.announce(hub, view, "disposition", actor.user_id)
    return view


def open_alert_image(hub: Hub, actor: Actor, alert_id: str, kind: str) -> tuple[str, BinaryIO]:
    """The plate crop or snapshot of an alert's read, for the agency's alert viewers only; each view audited."""
    actor.require(Permission.VIEW_ALERTS)
    with hub.uow() as uow:
        key = uow.alerts.media_key(actor.agency_id, alert_id, kind)
        if key is None:
            raise NotFound(f"no {kind} for this alert")
        uow.record(actor.entry(f"alert.{kind}", f"alert:{alert_id}"))
        uow.commit()
    stream = hub.media.open(key)
    head = stream.read(16)
    stream.seek(0)
    sniffed = sniff_image(head)
    if sniffed is None:  # stored only after sniffing; anything else here is not served as anything
        stream.close()
        raise NotFound(f"no {kind} for this alert")
    return sniffed[0], stream
