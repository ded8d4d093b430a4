"""Public subscribers (the `public` audience of the subscriber table): sign-up, confirmation, unsubscribe."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from openrtcc.adapters.db.tables import agency, subscriber

PUBLIC = "public"


class SqlPublicSubscriberRepo:
    def __init__(self, conn: Connection):
        self.conn = conn

    def find(self, agency_id: str, channel: str, address: str):
        """The public subscription of this address with this agency over this channel, if any."""
        q = (select(subscriber).where(subscriber.c.agency_id == agency_id, subscriber.c.audience == PUBLIC,
                                      subscriber.c.channel == channel, subscriber.c.address == address)
             .order_by(subscriber.c.created_at).limit(1))
        return self.conn.execute(q).first()

    def get(self, subscriber_id: str):
        q = (select(subscriber, agency.c.name.label("agency_name"))
             .join(agency, agency.c.id == subscriber.c.agency_id)
             .where(subscriber.c.id == subscriber_id, subscriber.c.audience == PUBLIC))
        return self.conn.execute(q).first()

    def add_pending(self, *, id: str, agency_id: str, channel: str, address: str, categories: list[str],
                    geofence: dict | None, confirm_hash: str, confirm_expires_at: datetime, at: datetime) -> None:
        self.conn.execute(insert(subscriber).values(
            id=id, agency_id=agency_id, audience=PUBLIC, channel=channel, address=address, categories=categories,
            geofence=geofence, status="pending", confirm_hash=confirm_hash, confirm_expires_at=confirm_expires_at,
            created_at=at))

    def renew_pending(self, subscriber_id: str, *, categories: list[str], geofence: dict | None,
                      confirm_hash: str, confirm_expires_at: datetime) -> None:
        """A new sign-up for a pending or unsubscribed address: its latest choices, a new confirmation."""
        self.conn.execute(update(subscriber).where(subscriber.c.id == subscriber_id).values(
            status="pending", categories=categories, geofence=geofence, confirm_hash=confirm_hash,
            confirm_expires_at=confirm_expires_at, unsubscribed_at=None))

    def set_choices(self, subscriber_id: str, *, categories: list[str], geofence: dict | None) -> None:
        self.conn.execute(update(subscriber).where(subscriber.c.id == subscriber_id).values(
            categories=categories, geofence=geofence))

    def activate(self, subscriber_id: str, at: datetime) -> bool:
        done = self.conn.execute(update(subscriber).where(
            subscriber.c.id == subscriber_id, subscriber.c.status == "pending").values(
            status="active", confirmed_at=at, confirm_hash=None, confirm_expires_at=None))
        return done.rowcount == 1

    def unsubscribe(self, subscriber_id: str, at: datetime) -> bool:
        done = self.conn.execute(update(subscriber).where(
            subscriber.c.id == subscriber_id, subscriber.c.status.in_(("pending", "active"))).values(
            status="unsubscribed", unsubscribed_at=at, address="", confirm_hash=None, confirm_expires_at=None))
        return done.rowcount == 1

    def lapse_unconfirmed(self, expired_before: datetime, at: datetime) -> int:
        """Sign-ups never confirmed whose link expired before `expired_before`: address erased, closed."""
        done = self.conn.execute(update(subscriber).where(
            subscriber.c.audience == PUBLIC, subscriber.c.status == "pending",
            subscriber.c.confirm_expires_at < expired_before).values(
            status="unsubscribed", unsubscribed_at=at, address="", confirm_hash=None, confirm_expires_at=None))
        return done.rowcount
