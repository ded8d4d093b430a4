"""Sharing grants between agencies and opt-ins to hot lists shared in."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, insert, or_, select, update

from openrtcc.adapters.db.governance_repo import SqlGovernanceRepo
from openrtcc.adapters.db.tables import agency, hot_list, hotlist_subscription, sharing_grant
from openrtcc.domain.governance import DataKind
from openrtcc.domain.sharing import SharedList, SharingGrant


def grant_of(row) -> SharingGrant:
    return SharingGrant(
        id=row.id, from_agency_id=row.from_agency_id, to_agency_id=row.to_agency_id,
        data_kind=DataKind(row.data_kind), purposes=frozenset(row.purposes or ()), created_at=row.created_at,
        expires_at=row.expires_at, federal_one_to_one=bool(row.federal_one_to_one), revoked_at=row.revoked_at,
        note=row.note, created_by=row.created_by, revoked_by=row.revoked_by)


class SqlSharingRepo:
    def __init__(self, conn: Connection):
        self.conn = conn

    def add_grant(self, g: SharingGrant) -> None:
        self.conn.execute(insert(sharing_grant).values(
            id=g.id, from_agency_id=g.from_agency_id, to_agency_id=g.to_agency_id, data_kind=g.data_kind.value,
            purposes=sorted(g.purposes), note=g.note, federal_one_to_one=g.federal_one_to_one,
            created_by=g.created_by, created_at=g.created_at, expires_at=g.expires_at))

    def grant(self, agency_id: str, grant_id: str, *, for_update: bool = False) -> SharingGrant | None:
        """A grant the agency gave or received; None for anyone else's."""
        q = select(sharing_grant).where(sharing_grant.c.id == grant_id, or_(
            sharing_grant.c.from_agency_id == agency_id, sharing_grant.c.to_agency_id == agency_id))
        row = self.conn.execute(q.with_for_update() if for_update else q).first()
        return grant_of(row) if row else None

    def grants_of(self, agency_id: str) -> list[SharingGrant]:
        """Every grant the agency gave or received, newest first."""
        q = (select(sharing_grant).where(or_(sharing_grant.c.from_agency_id == agency_id,
                                             sharing_grant.c.to_agency_id == agency_id))
             .order_by(sharing_grant.c.created_at.desc(), sharing_grant.c.id))
        return [grant_of(r) for r in self.conn.execute(q)]

    def grants_between(self, from_agency_id: str, to_agency_id: str, kind: DataKind) -> list[SharingGrant]:
        q = select(sharing_grant).where(sharing_grant.c.from_agency_id == from_agency_id,
                                        sharing_grant.c.to_agency_id == to_agency_id,
                                        sharing_grant.c.data_kind == kind.value)
        return [grant_of(r) for r in self.conn.execute(q)]

    def grants_to(self, to_agency_id: str, kind: DataKind, now: datetime) -> list[SharingGrant]:
        """The unrevoked, unexpired grants of `kind` to the agency (decide_share still has the last word)."""
        q = select(sharing_grant).where(sharing_grant.c.to_agency_id == to_agency_id,
                                        sharing_grant.c.data_kind == kind.value,
                                        sharing_grant.c.revoked_at.is_(None), sharing_grant.c.expires_at > now)
        return [grant_of(r) for r in self.conn.execute(q)]

    def revoke(self, grant_id: str, by: str | None, at: datetime) -> bool:
        return self.conn.execute(update(sharing_grant).where(sharing_grant.c.id == grant_id,
                                                             sharing_grant.c.revoked_at.is_(None))
                                 .values(revoked_by=by, revoked_at=at)).rowcount == 1

    def agency_names(self, agency_ids: set[str]) -> dict[str, tuple[str, str]]:
        """id -> (slug, name) of the named agencies."""
        if not agency_ids:
            return {}
        rows = self.conn.execute(select(agency.c.id, agency.c.slug, agency.c.name)
                                 .where(agency.c.id.in_(sorted(agency_ids))))
        return {r.id: (r.slug, r.name) for r in rows}

    def other_agencies(self, agency_id: str) -> list:
        return list(self.conn.execute(select(agency.c.id, agency.c.slug, agency.c.name)
                                      .where(agency.c.id != agency_id).order_by(agency.c.name)))

    def hot_lists_of(self, agency_ids: list[str]) -> list:
        if not agency_ids:
            return []
        return list(self.conn.execute(select(hot_list).where(hot_list.c.agency_id.in_(sorted(agency_ids)))
                                      .order_by(hot_list.c.agency_id, hot_list.c.name)))

    def list_owners(self, list_ids: set[str]) -> dict[str, str]:
        """list id -> the agency that keeps it."""
        if not list_ids:
            return {}
        rows = self.conn.execute(select(hot_list.c.id, hot_list.c.agency_id).where(hot_list.c.id.in_(sorted(list_ids))))
        return {r.id: r.agency_id for r in rows}

    def subscriptions(self, agency_id: str) -> list:
        """The agency's opt-ins in force (not opted out), whatever their grants' state."""
        return list(self.conn.execute(select(hotlist_subscription).where(
            hotlist_subscription.c.agency_id == agency_id, hotlist_subscription.c.opted_out_at.is_(None))))

    def subscription(self, agency_id: str, list_id: str):
        return self.conn.execute(select(hotlist_subscription).where(
            hotlist_subscription.c.agency_id == agency_id, hotlist_subscription.c.list_id == list_id,
            hotlist_subscription.c.opted_out_at.is_(None))).first()

    def subscribe(self, **values) -> None:
        self.conn.execute(insert(hotlist_subscription).values(**values))

    def unsubscribe(self, subscription_id: str, at: datetime) -> None:
        self.conn.execute(update(hotlist_subscription).where(hotlist_subscription.c.id == subscription_id)
                          .values(opted_out_at=at))

    def move_subscriptions(self, from_agency_id: str, to_agency_id: str, grant_id: str) -> int:
        """Point the recipient's opt-ins in force on the source's lists at a new grant (a renewal)."""
        lists = select(hot_list.c.id).where(hot_list.c.agency_id == from_agency_id)
        return self.conn.execute(update(hotlist_subscription).where(
            hotlist_subscription.c.agency_id == to_agency_id, hotlist_subscription.c.opted_out_at.is_(None),
            hotlist_subscription.c.list_id.in_(lists.scalar_subquery())).values(grant_id=grant_id)).rowcount

    def shared_lists(self, agency_id: str) -> list[SharedList]:
        """The lists the agency opted in to, each with every hot-list grant from its keeper to the agency."""
        q = (select(hot_list.c.id, hot_list.c.version, hot_list.c.agency_id)
             .join(hotlist_subscription, hotlist_subscription.c.list_id == hot_list.c.id)
             .where(hotlist_subscription.c.agency_id == agency_id, hotlist_subscription.c.opted_out_at.is_(None),
                    hot_list.c.agency_id != agency_id))
        rows = list(self.conn.execute(q))
        if not rows:
            return []
        governance = SqlGovernanceRepo(self.conn)
        recipient_kind = governance.get(agency_id).kind
        grants: dict[str, list[SharingGrant]] = {}
        prohibited: dict[str, frozenset[str]] = {}
        for source in {r.agency_id for r in rows}:
            grants[source] = self.grants_between(source, agency_id, DataKind.HOT_LISTS)
            prohibited[source] = governance.get(source).prohibited_purposes
        return [SharedList(r.id, r.version, r.agency_id, tuple(grants[r.agency_id]), recipient_kind,
                           prohibited[r.agency_id]) for r in rows]
