"""Accounts, roles and the CJIS account rules: lockout, idle lock, re-authentication, passwords."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from openrtcc.domain.errors import InvalidInput

MAX_FAILED_LOGONS = 5
FAILED_LOGON_WINDOW = timedelta(minutes=15)
IDLE_LOCK_AFTER = timedelta(minutes=30)
REAUTHENTICATE_AFTER = timedelta(hours=12)
DISABLE_AFTER_INACTIVE = timedelta(days=90)
OWNER_LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256


class Role(StrEnum):
    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    ANALYST = "analyst"
    OFFICER = "officer"
    AUDITOR = "auditor"
    OWNER = "owner"


AGENCY_ROLES = frozenset({Role.ADMIN, Role.SUPERVISOR, Role.ANALYST, Role.OFFICER, Role.AUDITOR})


class Permission(StrEnum):
    VIEW_CAMERA_MAP = "camera.map"
    SEARCH_CAMERAS = "camera.search"
    VIEW_OWNER_CONTACT = "camera.contact"
    REQUEST_FOOTAGE = "footage.request"
    VIEW_EVIDENCE = "footage.evidence"
    MANAGE_USERS = "user.manage"
    READ_AUDIT = "audit.read"
    OWN_CAMERAS = "owner.cameras"
    MANAGE_HOTLISTS = "hotlist.manage"
    MANAGE_READ_SOURCES = "source.manage"
    VIEW_ALERTS = "alert.view"
    DISPOSITION_ALERTS = "alert.disposition"
    SEARCH_PLATES = "plate.search"
    VIEW_LIVE = "camera.live"  # live video from integrated cameras, as each owner's policy allows
    VIEW_INCIDENTS = "incident.view"
    HANDLE_INCIDENTS = "incident.handle"  # open, acknowledge, escalate, close incidents; act on alerts
    ASSIGN_INCIDENTS = "incident.assign"  # give an incident or an alert to someone
    MANAGE_INTEGRATIONS = "integration.manage"  # inbound CAD and gunshot-detection webhooks
    MANAGE_DISSEMINATION = "dissemination.manage"  # subscribers, the delivery log, dead letters
    SEND_BULLETINS = "dissemination.bulletin"  # write a bulletin to chosen audiences
    MANAGE_GOVERNANCE = "governance.manage"  # retention days, prohibited purposes, search limits, policy text
    MANAGE_SHARING = "sharing.manage"  # grants to other agencies; opting in to hot lists shared in
    APPROVE_SEARCHES = "search.approve"  # approve a search over more cameras than the agency's limit
    HOLD_EVIDENCE = "evidence.hold"  # legal holds on a case; locking reads into a case
    EXPORT_EVIDENCE = "evidence.export"  # a case's BagIt package
    RUN_RETENTION = "retention.run"  # run the purge by hand and read its deletion reports


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset({Permission.VIEW_CAMERA_MAP, Permission.SEARCH_CAMERAS, Permission.MANAGE_USERS,
                          Permission.READ_AUDIT, Permission.MANAGE_HOTLISTS, Permission.MANAGE_READ_SOURCES,
                          Permission.VIEW_ALERTS, Permission.VIEW_INCIDENTS, Permission.MANAGE_INTEGRATIONS,
                          Permission.MANAGE_DISSEMINATION, Permission.SEND_BULLETINS, Permission.MANAGE_GOVERNANCE,
                          Permission.MANAGE_SHARING, Permission.RUN_RETENTION}),
    Role.SUPERVISOR: frozenset({Permission.VIEW_CAMERA_MAP, Permission.SEARCH_CAMERAS,
                               Permission.VIEW_OWNER_CONTACT, Permission.REQUEST_FOOTAGE,
                               Permission.VIEW_EVIDENCE, Permission.MANAGE_HOTLISTS, Permission.VIEW_ALERTS,
                               Permission.DISPOSITION_ALERTS, Permission.SEARCH_PLATES, Permission.VIEW_LIVE,
                               Permission.VIEW_INCIDENTS, Permission.HANDLE_INCIDENTS,
                               Permission.ASSIGN_INCIDENTS, Permission.MANAGE_DISSEMINATION,
                               Permission.SEND_BULLETINS, Permission.APPROVE_SEARCHES, Permission.HOLD_EVIDENCE,
                               Permission.EXPORT_EVIDENCE}),
    Role.ANALYST: frozenset({Permission.VIEW_CAMERA_MAP, Permission.SEARCH_CAMERAS,
                            Permission.VIEW_OWNER_CONTACT, Permission.REQUEST_FOOTAGE,
                            Permission.VIEW_EVIDENCE, Permission.VIEW_ALERTS, Permission.DISPOSITION_ALERTS,
                            Permission.SEARCH_PLATES, Permission.VIEW_LIVE, Permission.VIEW_INCIDENTS,
                            Permission.HANDLE_INCIDENTS, Permission.SEND_BULLETINS, Permission.HOLD_EVIDENCE,
                            Permission.EXPORT_EVIDENCE}),
    Role.OFFICER: frozenset({Permission.VIEW_CAMERA_MAP, Permission.SEARCH_CAMERAS,
                            Permission.VIEW_OWNER_CONTACT, Permission.VIEW_ALERTS,
                            Permission.DISPOSITION_ALERTS, Permission.VIEW_LIVE, Permission.VIEW_INCIDENTS,
                            Permission.HANDLE_INCIDENTS}),
    Role.AUDITOR: frozenset({Permission.READ_AUDIT}),
    Role.OWNER: frozenset({Permission.OWN_CAMERAS}),
}


def has_permission(role: Role, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[role]


@dataclass(slots=True)
class User:
    id: str
    email: str
    display_name: str
    role: Role
    agency_id: str | None
    password_hash: str | None
    totp_secret: str | None
    totp_enrolled: bool
    totp_last_step: int | None
    locked_at: datetime | None
    disabled: bool
    created_at: datetime
    last_login_at: datetime | None

    @property
    def is_agency_user(self) -> bool:
        return self.role in AGENCY_ROLES

    @property
    def mfa_required(self) -> bool:
        """CJIS: MFA for every agency account. Owners choose, and once enrolled it is required."""
        return self.is_agency_user or self.totp_enrolled


def should_lock(failures_in_window: int) -> bool:
    return failures_in_window >= MAX_FAILED_LOGONS


def is_locked(user: User, now: datetime) -> bool:
    if user.locked_at is None:
        return False
    if user.role is Role.OWNER:
        # Owners are not CJIS users and have no agency administrator: they unlock after a pause.
        return now - user.locked_at < OWNER_LOCKOUT
    return True  # agency accounts stay locked until an administrator unlocks them


def is_inactive(user: User, now: datetime) -> bool:
    """CJIS: disable agency accounts unused for 90 days."""
    if not user.is_agency_user:
        return False
    last = user.last_login_at or user.created_at
    return now - last > DISABLE_AFTER_INACTIVE


@dataclass(frozen=True, slots=True)
class SessionTimes:
    created_at: datetime
    last_seen_at: datetime


def session_problem(times: SessionTimes, now: datetime) -> str | None:
    """Why a session may no longer be used, or None when it is still good."""
    if now - times.last_seen_at >= IDLE_LOCK_AFTER:
        return "session locked after 30 minutes idle: log on again"
    if now - times.created_at >= REAUTHENTICATE_AFTER:
        return "re-authentication required every 12 hours: log on again"
    return None


def check_password(password: str, email: str, blocklist: frozenset[str]) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"password must be at least {MIN_PASSWORD_LENGTH} characters", code="weak_password")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(f"password must be at most {MAX_PASSWORD_LENGTH} characters", code="weak_password")
    lowered = password.lower()
    if lowered in blocklist:
        raise InvalidInput("this password is on the list of commonly used passwords", code="weak_password")
    local = email.split("@", 1)[0].lower()
    if len(local) >= 4 and local in lowered:
        raise InvalidInput("the password must not contain your email name", code="weak_password")
    if len(set(password)) < 4:
        raise InvalidInput("the password repeats too few characters", code="weak_password")
