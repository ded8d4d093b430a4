"""The aggregate queries behind the public transparency portal: counts, never rows about a person."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import Connection, and_, func, or_, select

from openrtcc.adapters.db.tables import (
    agency,
    agency_governance,
    alert,
    alert_tally,
    audit_log,
    camera,
    hot_list,
    hotlist_subscription,
    plate_read,
    read_source,
    search_log,
    sharing_grant,
    user,
)


def _counts(rows) -> dict[str, int]:
    return {str(k): int(n) for k, n in rows}


class SqlTransparencyRepo:
    def __init__(self, conn: Connection):
        self.conn = conn

    def cameras(self, agency_id: str) -> tuple[dict[str, int], dict[str, int], int]:
        """(active cameras per tier, cameras per status, active cameras linked to an edge box)."""
        mine = camera.c.agency_id == agency_id
        active = and_(mine, camera.c.status == "active")
        by_tier = _counts(self.conn.execute(select(camera.c.tier, func.count()).where(active).group_by(camera.c.tier)))
        by_status = _counts(self.conn.execute(select(camera.c.status, func.count()).where(mine)
                                              .group_by(camera.c.status)))
        edged = self.conn.execute(select(func.count()).where(active, camera.c.edge_id.is_not(None))).scalar_one()
        return by_tier, by_status, int(edged)

    def read_sources(self, agency_id: str) -> tuple[dict[str, int], int]:
        """(active sources per kind, revoked sources)."""
        mine = read_source.c.agency_id == agency_id
        active = _counts(self.conn.execute(select(read_source.c.kind, func.count())
                                           .where(mine, read_source.c.revoked_at.is_(None))
                                           .group_by(read_source.c.kind)))
        revoked = self.conn.execute(select(func.count()).select_from(read_source)
                                    .where(mine, read_source.c.revoked_at.is_not(None))).scalar_one()
        return active, int(revoked)

    def reads_since(self, agency_id: str, since: datetime) -> tuple[int, int]:
        """(reads captured since, distinct registered cameras that sent them)."""
        row = self.conn.execute(select(func.count(), func.count(plate_read.c.camera_id.distinct()))
                                .where(plate_read.c.agency_id == agency_id, plate_read.c.captured_at >= since)).one()
        return int(row[0]), int(row[1])

    def hot_lists(self, agency_id: str) -> list:
        return list(self.conn.execute(
            select(hot_list.c.name, hot_list.c.format, hot_list.c.entry_count, hot_list.c.refreshed_at)
            .where(hot_list.c.agency_id == agency_id).order_by(hot_list.c.name)))

    def shared_in_lists(self, agency_id: str, now: datetime) -> list:
        """Lists other agencies share in that this agency opted in to, while their grant is live."""
        q = (select(hot_list.c.name, hot_list.c.format, hot_list.c.entry_count, hot_list.c.refreshed_at,
                    agency.c.name.label("source"))
             .select_from(hotlist_subscription.join(hot_list, hot_list.c.id == hotlist_subscription.c.list_id)
                          .join(sharing_grant, sharing_grant.c.id == hotlist_subscription.c.grant_id)
                          .join(agency, agency.c.id == hot_list.c.agency_id))
             .where(hotlist_subscription.c.agency_id == agency_id, hotlist_subscription.c.opted_out_at.is_(None),
                    sharing_grant.c.revoked_at.is_(None), sharing_grant.c.expires_at > now)
             .order_by(agency.c.name, hot_list.c.name))
        return list(self.conn.execute(q))

    def live_grants_given(self, agency_id: str, now: datetime) -> list:
        q = (select(agency.c.name.label("recipient"), func.coalesce(agency_governance.c.kind, "local").label("kind"),
                    sharing_grant.c.data_kind, sharing_grant.c.purposes, sharing_grant.c.expires_at)
             .select_from(sharing_grant.join(agency, agency.c.id == sharing_grant.c.to_agency_id)
                          .outerjoin(agency_governance, agency_governance.c.agency_id == sharing_grant.c.to_agency_id))
             .where(sharing_grant.c.from_agency_id == agency_id, sharing_grant.c.revoked_at.is_(None),
                    sharing_grant.c.expires_at > now)
             .order_by(agency.c.name, sharing_grant.c.data_kind))
        return list(self.conn.execute(q))

    def camera_read_shares(self, agency_id: str) -> dict[str, int]:
        """Agency name -> active cameras of this agency's program whose owners send it their plate reads."""
        per_agency: Counter[str] = Counter()
        for (targets,) in self.conn.execute(select(camera.c.share_reads_with).where(
                camera.c.agency_id == agency_id, camera.c.status == "active")):
            per_agency.update(dict.fromkeys(targets or [], 1))
        if not per_agency:
            return {}
        names = {r.id: r.name for r in self.conn.execute(select(agency.c.id, agency.c.name)
                                                            .where(agency.c.id.in_(sorted(per_agency))))}
        return {names[a]: n for a, n in per_agency.items() if a in names}

    def staff_by_role(self, agency_id: str) -> dict[str, int]:
        return _counts(self.conn.execute(select(user.c.role, func.count())
                                         .where(user.c.agency_id == agency_id, user.c.disabled.is_(False))
                                         .group_by(user.c.role)))

    def searches_since(self, agency_id: str, since: datetime) -> list:
        """(purpose, kind, outcome, count) rows of the search log."""
        return list(self.conn.execute(
            select(search_log.c.purpose, search_log.c.kind, search_log.c.outcome, func.count())
            .where(search_log.c.agency_id == agency_id, search_log.c.at >= since)
            .group_by(search_log.c.purpose, search_log.c.kind, search_log.c.outcome)))

    def audited_searches_since(self, agency_id: str, since: datetime) -> int:
        """Successful search records in the audit trail: the portal's cross-check of the search log."""
        action = audit_log.c.action
        return int(self.conn.execute(select(func.count()).select_from(audit_log).where(
            audit_log.c.agency_id == agency_id, audit_log.c.at >= since, audit_log.c.outcome == "success",
            or_(action.like("plate.search%"), action == "plate.export", action.like("camera.search%"),
                action == "camera.incident_pin"),
        )).scalar_one())

    def alerts_by_status(self, agency_id: str, since: datetime | None) -> dict[str, int]:
        q = select(alert.c.status, func.count()).where(alert.c.agency_id == agency_id)
        if since is not None:
            q = q.where(alert.c.created_at >= since)
        return _counts(self.conn.execute(q.group_by(alert.c.status)))

    def tallied_by_status(self, agency_id: str, since_day: str | None) -> dict[str, int]:
        """Outcomes of alerts that already expired, counted by retention before it deleted them."""
        q = select(alert_tally.c.status, func.sum(alert_tally.c.count)).where(alert_tally.c.agency_id == agency_id)
        if since_day is not None:
            q = q.where(alert_tally.c.day >= since_day)
        return _counts(self.conn.execute(q.group_by(alert_tally.c.status)))
