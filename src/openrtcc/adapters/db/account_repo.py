"""Users, owner profiles, agencies, sessions and failed log-ons."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, bindparam, delete, func, insert, select, update

from openrtcc.adapters.db.tables import agency, failed_logon, owner_profile, session, user
from openrtcc.domain.accounts import Role, SessionTimes, User
from openrtcc.domain.cameras import ContactPreferences
from openrtcc.domain.geo import Area, area_from_geojson


def _user(r) -> User:
    return User(r.id, r.email, r.display_name, Role(r.role), r.agency_id, r.password_hash, r.totp_secret,
                r.totp_enrolled, r.totp_last_step, r.locked_at, r.disabled, r.created_at, r.last_login_at)


# Built once: these run on every request (session check) or every registration (agency lookup).
_USER_BY_ID = select(user).where(user.c.id == bindparam("user_id"))
_AGENCY_BY_ID = select(agency).where(agency.c.id == bindparam("agency_id"))
_SESSION = select(session).where(session.c.token_hash == bindparam("token_hash"))


def _user_values(u: User) -> dict:
    return dict(
        id=u.id, email=u.email, display_name=u.display_name, role=u.role.value, agency_id=u.agency_id,
        password_hash=u.password_hash, totp_secret=u.totp_secret, totp_enrolled=u.totp_enrolled,
        totp_last_step=u.totp_last_step, locked_at=u.locked_at, disabled=u.disabled,
        created_at=u.created_at, last_login_at=u.last_login_at,
    )


class SqlAccountRepo:
    def __init__(self, conn: Connection):
        self.conn = conn
        # What this unit of work changed that a verified session depends on: the unit of work tells the
        # process's session cache after commit (services/session_cache.py).
        self.changed_users: set[str] = set()
        self.changed_sessions: set[str] = set()

    # users
    def add_user(self, u: User) -> None:
        self.conn.execute(insert(user).values(**_user_values(u)))

    def add_users(self, users: list[User]) -> None:
        """Bulk insert (imports, the demo city): one statement for many rows."""
        if users:
            self.conn.execute(insert(user), [_user_values(u) for u in users])

    def by_email(self, email: str) -> User | None:
        r = self.conn.execute(select(user).where(user.c.email == email.strip().lower())).first()
        return _user(r) if r else None

    def by_id(self, user_id: str) -> User | None:
        r = self.conn.execute(_USER_BY_ID, {"user_id": user_id}).first()
        return _user(r) if r else None

    def in_agency(self, agency_id: str, user_id: str) -> User | None:
        r = self.conn.execute(select(user).where(user.c.id == user_id, user.c.agency_id == agency_id)).first()
        return _user(r) if r else None

    def list_agency(self, agency_id: str) -> list[User]:
        rows = self.conn.execute(select(user).where(user.c.agency_id == agency_id).order_by(user.c.email))
        return [_user(r) for r in rows]

    def set_fields(self, user_id: str, **values) -> None:
        self.changed_users.add(user_id)
        self.conn.execute(update(user).where(user.c.id == user_id).values(**values))

    def claim_totp_step(self, user_id: str, step: int) -> bool:
        """Mark a TOTP time step used, unless it or a later one already is.

        A conditional update, so that of two log-ons racing with one code only one wins: the loser's
        UPDATE waits for the winner's row lock and then no longer matches.
        """
        self.changed_users.add(user_id)
        last = user.c.totp_last_step
        result = self.conn.execute(
            update(user).where(user.c.id == user_id, last.is_(None) | (last < step)).values(totp_last_step=step)
        )
        return result.rowcount == 1

    def record_failure(self, user_id: str, at: datetime) -> None:
        self.conn.execute(insert(failed_logon).values(user_id=user_id, at=at))

    def failures_since(self, user_id: str, since: datetime) -> int:
        return self.conn.execute(
            select(func.count()).select_from(failed_logon)
            .where(failed_logon.c.user_id == user_id, failed_logon.c.at >= since)
        ).scalar_one()

    def clear_failures(self, user_id: str) -> None:
        self.conn.execute(delete(failed_logon).where(failed_logon.c.user_id == user_id))

    # owners
    def add_owner_profile(self, user_id: str, kind: str, organisation: str | None, prefs: ContactPreferences) -> None:
        self.conn.execute(insert(owner_profile).values(
            user_id=user_id, kind=kind, organisation=organisation, phone=prefs.phone,
            share_contact=prefs.share_contact, preferred_channel=prefs.preferred_channel,
        ))

    def add_owner_profiles(self, profiles: list[tuple[str, str, str | None, ContactPreferences]]) -> None:
        """Bulk insert of (user_id, kind, organisation, contact preferences)."""
        if profiles:
            self.conn.execute(insert(owner_profile), [
                dict(user_id=uid, kind=kind, organisation=org, phone=p.phone, share_contact=p.share_contact,
                     preferred_channel=p.preferred_channel) for uid, kind, org, p in profiles
            ])

    def owner_profile(self, user_id: str):
        return self.conn.execute(select(owner_profile).where(owner_profile.c.user_id == user_id)).first()

    def update_owner_profile(self, user_id: str, **values) -> None:
        self.conn.execute(update(owner_profile).where(owner_profile.c.user_id == user_id).values(**values))

    def owner_contacts(self, owner_ids: list[str]) -> dict[str, tuple]:
        """(display_name, email, phone, share_contact, preferred_channel, organisation) per owner."""
        if not owner_ids:
            return {}
        rows = self.conn.execute(
            select(user.c.id, user.c.display_name, user.c.email, owner_profile.c.phone,
                   owner_profile.c.share_contact, owner_profile.c.preferred_channel, owner_profile.c.organisation)
            .join(owner_profile, owner_profile.c.user_id == user.c.id)
            .where(user.c.id.in_(set(owner_ids)))
        )
        return {r.id: tuple(r)[1:] for r in rows}

    # agencies
    def add_agency(self, agency_id: str, slug: str, name: str, jurisdiction: dict, at: datetime) -> None:
        self.conn.execute(insert(agency).values(id=agency_id, slug=slug, name=name, jurisdiction=jurisdiction,
                                                created_at=at))

    def agencies(self) -> list:
        return list(self.conn.execute(select(agency).order_by(agency.c.name)))

    def agency(self, agency_id: str):
        return self.conn.execute(_AGENCY_BY_ID, {"agency_id": agency_id}).first()

    def agency_by_slug(self, slug: str):
        return self.conn.execute(select(agency).where(agency.c.slug == slug)).first()

    def jurisdiction(self, agency_id: str) -> Area:
        return area_from_geojson(self.agency(agency_id).jurisdiction)

    # sessions
    def add_session(self, token_hash: str, user_id: str, at: datetime, mfa_done: bool, source: str | None) -> None:
        self.conn.execute(insert(session).values(token_hash=token_hash, user_id=user_id, created_at=at,
                                                 last_seen_at=at, mfa_done=mfa_done, source=source))

    def session(self, token_hash: str):
        return self.conn.execute(_SESSION, {"token_hash": token_hash}).first()

    def session_times(self, row) -> SessionTimes:
        return SessionTimes(row.created_at, row.last_seen_at)

    def touch_session(self, token_hash: str, at: datetime) -> None:
        self.changed_sessions.add(token_hash)
        self.conn.execute(update(session).where(session.c.token_hash == token_hash).values(last_seen_at=at))

    def end_session(self, token_hash: str) -> None:
        self.changed_sessions.add(token_hash)
        self.conn.execute(delete(session).where(session.c.token_hash == token_hash))

    def end_user_sessions(self, user_id: str) -> None:
        self.changed_users.add(user_id)
        self.conn.execute(delete(session).where(session.c.user_id == user_id))

    def mark_session_mfa(self, token_hash: str) -> None:
        self.changed_sessions.add(token_hash)
        self.conn.execute(update(session).where(session.c.token_hash == token_hash).values(mfa_done=True))
