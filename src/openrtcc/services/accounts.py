"""Log-on, MFA, sessions, lockout, owner sign-up and user administration."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

from openrtcc.domain.accounts import (
    AGENCY_ROLES,
    FAILED_LOGON_WINDOW,
    Permission,
    Role,
    SessionTimes,
    User,
    check_password,
    is_inactive,
    is_locked,
    session_problem,
    should_lock,
)
from openrtcc.domain.audit import AuditEntry
from openrtcc.domain.cameras import ContactPreferences
from openrtcc.domain.errors import Conflict, InvalidInput, NotFound, Unauthenticated
from openrtcc.services.hub import Actor, Hub
from openrtcc.services.session_cache import CachedSession, SessionCache

EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,}$")
GENERIC_LOGON_FAILURE = "email, password or code not accepted"
TOUCH_AFTER_S = 30  # a session's last-seen time is written at most this often (idle tracking is coarse)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    if not EMAIL_RE.match(email):
        raise InvalidInput("enter a valid email address", code="bad_email")
    return email


@dataclass(frozen=True, slots=True)
class LogonResult:
    token: str
    user: User
    mfa_enrolment_needed: bool


def sign_up_owner(hub: Hub, *, email: str, password: str, display_name: str, kind: str,
                  organisation: str | None, prefs: ContactPreferences, source: str | None) -> User:
    email = normalise_email(email)
    check_password(password, email, hub.password_blocklist)
    with hub.uow() as uow:
        if uow.accounts.by_email(email):
            raise Conflict("an account with this email already exists", code="email_taken")
        now = hub.clock.now()
        user = User(hub.ids.new_id(), email, display_name.strip(), Role.OWNER, None, hub.passwords.hash(password),
                    None, False, None, None, False, now, None)
        uow.accounts.add_user(user)
        uow.accounts.add_owner_profile(user.id, kind, organisation, prefs)
        uow.record(AuditEntry("owner.sign_up", "success", user.id, None, f"user:{user.id}", source, {}))
        uow.commit()
        return user


def log_on(hub: Hub, *, email: str, password: str, code: str | None, source: str | None) -> LogonResult:
    """Password and, where required, a TOTP code in one step; every outcome is audited."""
    email = email.strip().lower()
    with hub.uow() as uow:
        now = hub.clock.now()
        user = uow.accounts.by_email(email)
        if user is None or user.password_hash is None:
            hub.passwords.verify(_DUMMY_HASH(hub), password)  # same work whether or not the account exists
            _refuse(uow, None, None, source, "unknown account")
        if user.disabled:
            _refuse(uow, user, None, source, "account disabled")
        if is_locked(user, now):
            _refuse(uow, user, None, source, "account locked", message=(
                "account locked after too many failed log-ons: try again in 15 minutes" if user.role is Role.OWNER
                else "account locked: ask an administrator to unlock it"))  # owners have no administrator
        if is_inactive(user, now):
            uow.accounts.set_fields(user.id, disabled=True)
            _refuse(uow, user, None, source, "disabled after 90 days inactive",
                    message="account disabled after 90 days without log-on: ask an administrator")
        ok = hub.passwords.verify(user.password_hash, password)
        step = None
        if ok and user.totp_enrolled:
            step = hub.totp.matching_step(user.totp_secret, code or "", now)
            if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
                ok = False  # wrong, missing or replayed code
            elif not uow.accounts.claim_totp_step(user.id, step):
                ok = False  # the same code in a log-on running at the same moment, which used it first
        if not ok:
            uow.accounts.record_failure(user.id, now)
            failures = uow.accounts.failures_since(user.id, now - FAILED_LOGON_WINDOW)
            locked = should_lock(failures)
            if locked:
                uow.accounts.set_fields(user.id, locked_at=now)
                uow.accounts.end_user_sessions(user.id)
            _refuse(uow, user, failures, source, "bad credentials", locked=locked)
        token = secrets.token_urlsafe(32)  # 256 bits; only its hash is stored
        enrolment_needed = user.mfa_required and not user.totp_enrolled
        uow.accounts.add_session(hash_token(token), user.id, now, mfa_done=not enrolment_needed, source=source)
        uow.accounts.clear_failures(user.id)
        uow.accounts.set_fields(user.id, last_login_at=now, totp_last_step=step or user.totp_last_step)
        uow.record(AuditEntry("auth.log_on", "success", user.id, user.agency_id, f"user:{user.id}", source,
                              {"mfa": "enrolment_pending" if enrolment_needed else ("totp" if step else "none")}))
        uow.commit()
        return LogonResult(token, user, enrolment_needed)


def _DUMMY_HASH(hub: Hub) -> str:
    cached = hub.extras.get("dummy_hash")
    if cached is None:
        cached = hub.extras["dummy_hash"] = hub.passwords.hash(secrets.token_hex(16))
    return cached


def _refuse(uow, user: User | None, failures: int | None, source, reason: str, *, locked: bool = False,
            message: str = GENERIC_LOGON_FAILURE):
    details = {"reason": reason}
    if failures is not None:
        details["failures_in_window"] = failures
    if locked:
        details["locked"] = True
    uow.record(AuditEntry("auth.log_on", "denied", user.id if user else None, user.agency_id if user else None,
                          f"user:{user.id}" if user else None, source, details))
    uow.commit()  # the failure count and its audit record persist although log-on is refused
    if locked:
        message = "too many failed log-ons: the account is locked"
    raise Unauthenticated(message, code="logon_failed")


@dataclass(frozen=True, slots=True)
class SessionInfo:
    actor: Actor
    user: User
    mfa_done: bool
    token_hash: str


def authenticate(hub: Hub, token: str, source: str | None, *, allow_enrolment: bool = False,
                 activity: bool = True) -> SessionInfo:
    """Resolve a bearer token to an actor; idle and 12-hour limits end the session.

    `activity=False` checks without counting as the user's activity: an open live screen re-checks its
    session so that the idle lock and the 12-hour limit still end it, and must not keep it alive itself."""
    th = hash_token(token)
    known = cached_session(hub, th, source, allow_enrolment=allow_enrolment, activity=activity)
    if known is not None:
        return known
    cache: SessionCache | None = hub.extras.get("session_cache")
    generation = cache.generation if cache is not None else 0  # read before the database is
    # Read first, without the write lock: most requests write nothing here, and a check that queued behind
    # other requests' writes (four owners registering at once) spent half its time waiting for the lock.
    with hub.uow().reading() as uow:
        now = hub.clock.now()
        row = uow.accounts.session(th)
        if row is None:
            raise Unauthenticated("not logged on", code="not_logged_on")
        user = uow.accounts.by_id(row.user_id)
        times = uow.accounts.session_times(row)
    problem = session_problem(times, now)
    if problem is None and (user.disabled or is_locked(user, now)):
        problem = "account locked or disabled"
    if problem:
        with hub.uow() as uow:
            if uow.accounts.session(th) is not None:  # a request beside this one may have ended it already
                uow.accounts.end_session(th)
                uow.record(AuditEntry("auth.session_end", "success", user.id, user.agency_id, f"user:{user.id}",
                                      source, {"reason": problem}))
                uow.commit()
        raise Unauthenticated(problem, code="session_expired")
    if not row.mfa_done and not allow_enrolment:
        raise Unauthenticated("finish setting up your authenticator app first", code="mfa_enrolment_required")
    if activity and (now - row.last_seen_at).total_seconds() >= TOUCH_AFTER_S:
        # Idle tracking needs only coarse resolution; this keeps most requests from writing here.
        with hub.uow() as uow:
            uow.accounts.touch_session(th, now)
            uow.commit_bookkeeping()
    elif cache is not None:
        cache.put(th, CachedSession(user, times.created_at, times.last_seen_at, row.mfa_done), generation)
    return SessionInfo(Actor(user.id, user.role, user.agency_id, source), user, row.mfa_done, th)


def cached_session(hub: Hub, token_hash: str, source: str | None, *, allow_enrolment: bool = False,
                   activity: bool = True) -> SessionInfo | None:
    """The session from this process's cache, when it is there and needs nothing of the database now: no
    limit reached, no idle touch due, no refusal to record. None: ask `authenticate`, which reads it."""
    cache: SessionCache | None = hub.extras.get("session_cache")
    entry = cache.get(token_hash) if cache is not None else None
    if entry is None or not (entry.mfa_done or allow_enrolment):
        return None
    now = hub.clock.now()
    user = entry.user
    if (session_problem(SessionTimes(entry.created_at, entry.last_seen_at), now) is not None
            or user.disabled or is_locked(user, now)
            or (activity and (now - entry.last_seen_at).total_seconds() >= TOUCH_AFTER_S)):
        return None  # authenticate reads the session again and ends or touches it there
    return SessionInfo(Actor(user.id, user.role, user.agency_id, source), user, entry.mfa_done, token_hash)


def record_whoami(hub: Hub, info: SessionInfo) -> None:
    """Reading one's own account is an access like any other: it is audited."""
    with hub.uow() as uow:
        uow.record(info.actor.entry("auth.whoami", f"user:{info.user.id}"))
        uow.commit()


def log_off(hub: Hub, info: SessionInfo) -> None:
    with hub.uow() as uow:
        uow.accounts.end_session(info.token_hash)
        uow.record(info.actor.entry("auth.log_off", f"user:{info.user.id}"))
        uow.commit()


def begin_totp_enrolment(hub: Hub, info: SessionInfo) -> tuple[str, str]:
    """A fresh secret, stored unconfirmed, and its otpauth:// URI for the authenticator app."""
    if info.user.totp_enrolled:
        raise Conflict("an authenticator is already enrolled", code="already_enrolled")
    secret = hub.totp.new_secret()
    with hub.uow() as uow:
        uow.accounts.set_fields(info.user.id, totp_secret=secret)
        uow.record(info.actor.entry("auth.totp_enrol_start", f"user:{info.user.id}"))
        uow.commit()
    return secret, hub.totp.provisioning_uri(secret, info.user.email, hub.deployment_name)


def confirm_totp_enrolment(hub: Hub, info: SessionInfo, code: str) -> None:
    with hub.uow() as uow:
        now = hub.clock.now()
        user = uow.accounts.by_id(info.user.id)
        if user.totp_enrolled:
            raise Conflict("an authenticator is already enrolled", code="already_enrolled")
        step = hub.totp.matching_step(user.totp_secret, code, now) if user.totp_secret else None
        if step is None:
            uow.record(info.actor.entry("auth.totp_enrol_confirm", f"user:{user.id}", outcome="denied"))
            uow.commit()
            raise InvalidInput("that code does not match: check the time on your phone and try again",
                               code="bad_totp")
        uow.accounts.set_fields(user.id, totp_enrolled=True, totp_last_step=step)
        uow.accounts.mark_session_mfa(info.token_hash)
        uow.record(info.actor.entry("auth.totp_enrol_confirm", f"user:{user.id}"))
        uow.commit()


def create_agency_user(hub: Hub, admin: Actor, *, email: str, display_name: str, role: Role,
                       password: str) -> User:
    """An administrator adds a user to their own agency; the user enrols TOTP at first log-on."""
    admin.require(Permission.MANAGE_USERS)
    if role not in AGENCY_ROLES:
        raise InvalidInput("agency users take an agency role", code="bad_role")
    email = normalise_email(email)
    check_password(password, email, hub.password_blocklist)
    with hub.uow() as uow:
        if uow.accounts.by_email(email):
            raise Conflict("an account with this email already exists", code="email_taken")
        user = User(hub.ids.new_id(), email, display_name.strip(), role, admin.agency_id,
                    hub.passwords.hash(password), None, False, None, None, False, hub.clock.now(), None)
        uow.accounts.add_user(user)
        uow.record(admin.entry("user.create", f"user:{user.id}", role=role.value))
        uow.commit()
        return user


def list_agency_users(hub: Hub, admin: Actor) -> list[User]:
    admin.require(Permission.MANAGE_USERS)
    with hub.uow() as uow:
        users = uow.accounts.list_agency(admin.agency_id)
        uow.record(admin.entry("user.list", f"agency:{admin.agency_id}", count=len(users)))
        uow.commit()
        return users


def unlock_user(hub: Hub, admin: Actor, user_id: str) -> User:
    """Only an administrator of the user's own agency can unlock (or re-enable) the account."""
    admin.require(Permission.MANAGE_USERS)
    with hub.uow() as uow:
        user = uow.accounts.in_agency(admin.agency_id, user_id)
        if user is None:
            raise NotFound("no such user in your agency")
        uow.accounts.set_fields(user.id, locked_at=None, disabled=False, last_login_at=hub.clock.now())
        uow.accounts.clear_failures(user.id)
        unlocked = uow.accounts.by_id(user.id)  # the account as it is now, not as it was read above
        uow.record(admin.entry("user.unlock", f"user:{user.id}",
                               was_locked=user.locked_at is not None, was_disabled=user.disabled))
        uow.commit()
        return unlocked
