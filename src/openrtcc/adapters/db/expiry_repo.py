"""The rows retention deletes, table by table, and the media keys rows still reference (for the file sweep)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

from sqlalchemy import Connection, delete, func, select

from openrtcc.adapters.db.tables import (
    agency,
    alert,
    alert_action,
    camera_access,
    case_read,
    delivery,
    edge_access,
    edge_clip,
    evidence_item,
    live_session,
    notice,
    outbox,
    plate_read,
    rate_limit_hit,
    search_approval,
    search_log,
    tip,
    webhook_delivery_seen,
)

# Which column of which table names a media file: the sweep's idea of "referenced".
_MEDIA_COLUMNS = (
    ("plate_read", plate_read.c.id, plate_read.c.crop_key),
    ("plate_read", plate_read.c.id, plate_read.c.snapshot_key),
    ("case_read", case_read.c.id, case_read.c.crop_key),
    ("case_read", case_read.c.id, case_read.c.snapshot_key),
    ("evidence_item", evidence_item.c.id, evidence_item.c.storage_key),
    ("edge_clip", edge_clip.c.id, edge_clip.c.storage_key),
    ("tip", tip.c.id, tip.c.media_key),
)
KEY_BATCH = 500


def _rows(res) -> int:
    return max(res.rowcount or 0, 0)


class SqlExpiry:
    def __init__(self, conn: Connection):
        self.conn = conn

    def agency_ids(self) -> list[str]:
        return [r.id for r in self.conn.execute(select(agency.c.id).order_by(agency.c.id))]

    # --- plate reads and their alerts ---
    def _expiring_read_ids(self, agency_id: str, cutoff: datetime):
        return select(plate_read.c.id).where(plate_read.c.agency_id == agency_id, plate_read.c.captured_at < cutoff)

    def count_expiring_reads(self, agency_id: str, cutoff: datetime) -> int:
        return self.conn.execute(select(func.count()).select_from(plate_read).where(
            plate_read.c.agency_id == agency_id, plate_read.c.captured_at < cutoff)).scalar_one()

    def expiring_read_media(self, agency_id: str, cutoff: datetime) -> set[str]:
        rows = self.conn.execute(select(plate_read.c.crop_key, plate_read.c.snapshot_key).where(
            plate_read.c.agency_id == agency_id, plate_read.c.captured_at < cutoff,
            (plate_read.c.crop_key.is_not(None)) | (plate_read.c.snapshot_key.is_not(None))))
        return {k for r in rows for k in (r.crop_key, r.snapshot_key) if k}

    def tally_expiring_alerts(self, agency_id: str, cutoff: datetime) -> dict[str, dict[tuple[str, str], int]]:
        """{alert's agency: {(UTC day raised, status): count}} of the alerts on this agency's expiring reads."""
        out: dict[str, dict[tuple[str, str], int]] = {}
        rows = self.conn.execute(select(alert.c.agency_id, alert.c.created_at, alert.c.status)
                                 .where(alert.c.read_id.in_(self._expiring_read_ids(agency_id, cutoff))))
        for r in rows:
            counts = out.setdefault(r.agency_id, {})
            key = (r.created_at.date().isoformat(), r.status)
            counts[key] = counts.get(key, 0) + 1
        return out

    def delete_expiring_alerts(self, agency_id: str, cutoff: datetime) -> tuple[int, int]:
        """(alerts, alert actions) deleted: the alerts go before their reads (a foreign key, and on PostgreSQL
        the partition their read lives in may be dropped next)."""
        alerts = select(alert.c.id).where(alert.c.read_id.in_(self._expiring_read_ids(agency_id, cutoff)))
        actions = _rows(self.conn.execute(delete(alert_action).where(alert_action.c.alert_id.in_(alerts))))
        gone = _rows(self.conn.execute(delete(alert).where(
            alert.c.read_id.in_(self._expiring_read_ids(agency_id, cutoff)))))
        return gone, actions

    def delete_reads(self, agency_id: str, cutoff: datetime) -> int:
        return _rows(self.conn.execute(delete(plate_read).where(plate_read.c.agency_id == agency_id,
                                                                plate_read.c.captured_at < cutoff)))

    # --- evidence kept for a case unless no hold keeps it ---
    def expire_case_evidence(self, agency_id: str, cutoff: datetime, held: set[str]
                             ) -> tuple[dict[str, int], dict[str, int], set[str]]:
        """(deleted per table, kept by holds per table, media keys of the deleted rows): owners' uploads and edge
        clips stored before the cutoff, unless their case is under an active legal hold."""
        deleted, kept, keys = {}, {}, set()
        for name, t, stored_at in (("evidence_item", evidence_item, evidence_item.c.uploaded_at),
                                   ("edge_clip", edge_clip, edge_clip.c.requested_at)):
            old = (t.c.agency_id == agency_id, stored_at < cutoff)
            kept[name] = self.conn.execute(select(func.count()).select_from(t).where(
                *old, t.c.case_number.in_(sorted(held)))).scalar_one() if held else 0
            expiring = (*old, t.c.case_number.not_in(sorted(held))) if held else old
            keys |= {r.storage_key for r in self.conn.execute(select(t.c.storage_key).where(*expiring))
                     if r.storage_key}
            deleted[name] = _rows(self.conn.execute(delete(t).where(*expiring)))
        return deleted, kept, keys

    def expire_case_reads(self, agency_id: str, cutoff: datetime, held: set[str]) -> tuple[int, int, set[str]]:
        """(deleted, kept by holds, media keys): a locked read outlives its read only while its case is held;
        its age is the read's capture time, so a lock taken late does not stretch the window."""
        doomed, kept, keys = [], 0, set()
        for r in self.conn.execute(select(case_read).where(case_read.c.agency_id == agency_id)):
            captured = _captured_at(r.document) or r.locked_at
            if captured >= cutoff:
                continue
            if r.case_number in held:
                kept += 1
                continue
            doomed.append(r.id)
            keys |= {k for k in (r.crop_key, r.snapshot_key) if k}
        for i in range(0, len(doomed), KEY_BATCH):
            self.conn.execute(delete(case_read).where(case_read.c.id.in_(doomed[i:i + KEY_BATCH])))
        return len(doomed), kept, keys

    # --- tips, notices, searches ---
    def expire_tips(self, agency_id: str, cutoff: datetime) -> tuple[int, set[str]]:
        """Tips and their photos; a tip promoted to an incident is part of that incident's record and stays."""
        old = (tip.c.agency_id == agency_id, tip.c.created_at < cutoff, tip.c.status != "promoted")
        keys = {r.media_key for r in self.conn.execute(select(tip.c.media_key).where(*old)) if r.media_key}
        return _rows(self.conn.execute(delete(tip).where(*old))), keys

    def expire_notices(self, agency_id: str, cutoff: datetime) -> tuple[int, int]:
        """(notices, deliveries): a notice carries what was disseminated (an alert's plate among it)."""
        old = select(notice.c.id).where(notice.c.agency_id == agency_id, notice.c.created_at < cutoff)
        deliveries = _rows(self.conn.execute(delete(delivery).where(delivery.c.notice_id.in_(old))))
        notices = _rows(self.conn.execute(delete(notice).where(notice.c.agency_id == agency_id,
                                                               notice.c.created_at < cutoff)))
        return notices, deliveries

    def expire_search_log(self, agency_id: str, cutoff: datetime) -> int:
        return _rows(self.conn.execute(delete(search_log).where(search_log.c.agency_id == agency_id,
                                                                search_log.c.at < cutoff)))

    def expire_search_approvals(self, agency_id: str, cutoff: datetime) -> int:
        """Approvals name a case and an area; they last 24 hours, and their record stays in the audit log."""
        return _rows(self.conn.execute(delete(search_approval).where(search_approval.c.agency_id == agency_id,
                                                                     search_approval.c.created_at < cutoff)))

    # --- hub-wide logs ---
    def expire_hub_logs(self, cutoff: datetime) -> dict[str, int]:
        return {
            "outbox": _rows(self.conn.execute(delete(outbox).where(outbox.c.dispatched_at.is_not(None),
                                                                   outbox.c.dispatched_at < cutoff))),
            "rate_limit_hit": _rows(self.conn.execute(delete(rate_limit_hit).where(rate_limit_hit.c.at < cutoff))),
            "webhook_delivery_seen": _rows(self.conn.execute(delete(webhook_delivery_seen).where(
                webhook_delivery_seen.c.seen_at < cutoff))),
        }

    def expire_access_logs(self, cutoff: datetime) -> dict[str, int]:
        """Owners' logs of who looked at their cameras: kept a year, like the audit trail they mirror."""
        return {
            "camera_access": _rows(self.conn.execute(delete(camera_access).where(camera_access.c.at < cutoff))),
            "edge_access": _rows(self.conn.execute(delete(edge_access).where(edge_access.c.at < cutoff))),
            "live_session": _rows(self.conn.execute(delete(live_session).where(
                live_session.c.started_at < cutoff, live_session.c.ended_at.is_not(None)))),
        }

    # --- media references ---
    def referenced(self, keys: Iterable[str]) -> set[str]:
        """Which of these keys some row still names."""
        keys = sorted(set(keys))
        found: set[str] = set()
        for i in range(0, len(keys), KEY_BATCH):
            chunk = keys[i:i + KEY_BATCH]
            for _kind, _id, col in _MEDIA_COLUMNS:
                found |= {r[0] for r in self.conn.execute(select(col).where(col.in_(chunk)).distinct())}
        return found

    def media_rows(self, batch: int = 5000) -> Iterator[tuple[str, str, str]]:
        """(kind, row id, key) of every row that names a media file."""
        for kind, id_col, col in _MEDIA_COLUMNS:
            last = None
            while True:
                q = select(id_col, col).where(col.is_not(None)).order_by(id_col).limit(batch)
                if last is not None:
                    q = q.where(id_col > last)
                rows = self.conn.execute(q).all()
                for r in rows:
                    yield kind, str(r[0]), r[1]
                if len(rows) < batch:
                    break
                last = rows[-1][0]


def _captured_at(document: dict) -> datetime | None:
    value = (document or {}).get("read", {}).get("captured_at")
    return datetime.fromisoformat(value) if value else None
