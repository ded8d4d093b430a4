"""The CJIS account rules: roles and permissions, lockout, idle lock, re-authentication, inactivity, passwords."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from openrtcc.domain.accounts import (
    AGENCY_ROLES,
    Permission,
    Role,
    SessionTimes,
    User,
    check_password,
    has_permission,
    is_inactive,
    is_locked,
    session_problem,
    should_lock,
)
from openrtcc.domain.errors import InvalidInput

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
BLOCKLIST = frozenset({"password123", "letmein1", "qwerty123"})


def user(role: Role = Role.ANALYST, *, locked_at=None, last_login_at=None, created_at=NOW - timedelta(days=1),
         totp_enrolled=False) -> User:
    return User("u1", "olga.smith@lakeport.test", "Olga", role, None if role is Role.OWNER else "agency-a",
                "hash", None, totp_enrolled, None, locked_at, False, created_at, last_login_at)


P = Permission
# The whole matrix, written out: a change to any role's powers must change this table too.
MATRIX = {
    Role.ADMIN: {P.VIEW_CAMERA_MAP, P.SEARCH_CAMERAS, P.MANAGE_USERS, P.READ_AUDIT, P.MANAGE_HOTLISTS,
                 P.MANAGE_READ_SOURCES, P.VIEW_ALERTS, P.VIEW_INCIDENTS, P.MANAGE_INTEGRATIONS,
                 P.MANAGE_DISSEMINATION, P.SEND_BULLETINS, P.MANAGE_GOVERNANCE, P.MANAGE_SHARING, P.RUN_RETENTION},
    Role.SUPERVISOR: {P.VIEW_CAMERA_MAP, P.SEARCH_CAMERAS, P.VIEW_OWNER_CONTACT, P.REQUEST_FOOTAGE, P.VIEW_EVIDENCE,
                      P.MANAGE_HOTLISTS, P.VIEW_ALERTS, P.DISPOSITION_ALERTS, P.SEARCH_PLATES, P.VIEW_LIVE,
                      P.VIEW_INCIDENTS, P.HANDLE_INCIDENTS, P.ASSIGN_INCIDENTS, P.MANAGE_DISSEMINATION,
                      P.SEND_BULLETINS, P.APPROVE_SEARCHES, P.HOLD_EVIDENCE, P.EXPORT_EVIDENCE},
    Role.ANALYST: {P.VIEW_CAMERA_MAP, P.SEARCH_CAMERAS, P.VIEW_OWNER_CONTACT, P.REQUEST_FOOTAGE, P.VIEW_EVIDENCE,
                   P.VIEW_ALERTS, P.DISPOSITION_ALERTS, P.SEARCH_PLATES, P.VIEW_LIVE, P.VIEW_INCIDENTS,
                   P.HANDLE_INCIDENTS, P.SEND_BULLETINS, P.HOLD_EVIDENCE, P.EXPORT_EVIDENCE},
    Role.OFFICER: {P.VIEW_CAMERA_MAP, P.SEARCH_CAMERAS, P.VIEW_OWNER_CONTACT, P.VIEW_ALERTS, P.DISPOSITION_ALERTS,
                   P.VIEW_LIVE, P.VIEW_INCIDENTS, P.HANDLE_INCIDENTS},
    Role.AUDITOR: {P.READ_AUDIT},
    Role.OWNER: {P.OWN_CAMERAS},
}


@pytest.mark.parametrize("role, permission", [(r, p) for r in Role for p in Permission])
def test_permission_matrix(role, permission):
    assert has_permission(role, permission) is (permission in MATRIX[role])


@pytest.mark.parametrize("permission, holders", [
    (P.MANAGE_USERS, {Role.ADMIN}),
    (P.OWN_CAMERAS, {Role.OWNER}),
    (P.READ_AUDIT, {Role.ADMIN, Role.AUDITOR}),
    (P.REQUEST_FOOTAGE, {Role.SUPERVISOR, Role.ANALYST}),
    (P.MANAGE_SHARING, {Role.ADMIN}),
    (P.MANAGE_GOVERNANCE, {Role.ADMIN}),
    (P.APPROVE_SEARCHES, {Role.SUPERVISOR}),
])
def test_sensitive_permissions_are_narrow(permission, holders):
    assert {r for r in Role if has_permission(r, permission)} == holders


def test_agency_roles_and_mfa():
    assert Role.OWNER not in AGENCY_ROLES and len(AGENCY_ROLES) == 5
    for role in AGENCY_ROLES:
        assert user(role).mfa_required  # CJIS: MFA for every agency account
    assert not user(Role.OWNER).mfa_required
    assert user(Role.OWNER, totp_enrolled=True).mfa_required  # once an owner enrols, it is required


@pytest.mark.parametrize("failures, locks", [(0, False), (4, False), (5, True), (6, True)])
def test_should_lock_after_five_failures(failures, locks):
    assert should_lock(failures) is locks


@pytest.mark.parametrize("role, locked_for, locked", [
    (Role.ANALYST, None, False),
    (Role.ANALYST, timedelta(0), True),
    (Role.ANALYST, timedelta(days=400), True),   # agency accounts wait for an administrator
    (Role.ADMIN, timedelta(hours=1), True),
    (Role.OWNER, timedelta(0), True),
    (Role.OWNER, timedelta(minutes=14, seconds=59), True),
    (Role.OWNER, timedelta(minutes=15), False),  # owners unlock by themselves after 15 minutes
    (Role.OWNER, timedelta(days=3), False),
])
def test_is_locked(role, locked_for, locked):
    u = user(role, locked_at=None if locked_for is None else NOW - locked_for)
    assert is_locked(u, NOW) is locked


@pytest.mark.parametrize("role, last_login_ago, created_ago, inactive", [
    (Role.ANALYST, timedelta(days=89), timedelta(days=400), False),
    (Role.ANALYST, timedelta(days=90), timedelta(days=400), False),
    (Role.ANALYST, timedelta(days=90, seconds=1), timedelta(days=400), True),
    (Role.ADMIN, timedelta(days=120), timedelta(days=400), True),
    (Role.ANALYST, None, timedelta(days=91), True),    # never logged on: counted from creation
    (Role.ANALYST, None, timedelta(days=10), False),
    (Role.OWNER, timedelta(days=900), timedelta(days=1000), False),  # the rule binds agency accounts
])
def test_is_inactive(role, last_login_ago, created_ago, inactive):
    u = user(role, last_login_at=None if last_login_ago is None else NOW - last_login_ago,
             created_at=NOW - created_ago)
    assert is_inactive(u, NOW) is inactive


@pytest.mark.parametrize("age, idle, problem", [
    (timedelta(minutes=5), timedelta(minutes=0), None),
    (timedelta(minutes=40), timedelta(minutes=29, seconds=59), None),
    (timedelta(minutes=40), timedelta(minutes=30), "30 minutes idle"),
    (timedelta(hours=3), timedelta(hours=2), "30 minutes idle"),
    (timedelta(hours=11, minutes=59), timedelta(minutes=1), None),
    (timedelta(hours=12), timedelta(minutes=1), "12 hours"),       # even when active
    (timedelta(days=2), timedelta(0), "12 hours"),
])
def test_session_problem(age, idle, problem):
    times = SessionTimes(created_at=NOW - age, last_seen_at=NOW - idle)
    got = session_problem(times, NOW)
    assert (got is None) if problem is None else (problem in got)


@pytest.mark.parametrize("password, email, words", [
    ("Sh0rt-7", "olga@x.test", "at least 8"),
    ("", "olga@x.test", "at least 8"),
    ("x" * 128 + "Y" * 129, "olga@x.test", "at most 256"),
    ("password123", "olga@x.test", "commonly used"),
    ("PassWord123", "olga@x.test", "commonly used"),   # the blocklist ignores case
    ("Olga.Smith-river-7", "olga.smith@lakeport.test", "email name"),
    ("xxOLGA.SMITHxx", "olga.smith@lakeport.test", "email name"),
    ("abababababab", "olga@x.test", "too few characters"),
    ("aaaaaaaaaaaaaaaa", "olga@x.test", "too few characters"),
])
def test_weak_passwords_are_refused(password, email, words):
    with pytest.raises(InvalidInput) as err:
        check_password(password, email, BLOCKLIST)
    assert err.value.code == "weak_password"
    assert words in err.value.message


@pytest.mark.parametrize("password, email", [
    ("Blue-Kettle-Orbit-42", "olga@lakeport.test"),
    ("abcd1234", "olga@x.test"),                     # exactly 8
    ("q" * 120 + "Zx9-" * 34, "olga@x.test"),          # exactly 256
    ("bob-likes-rivers", "bob@x.test"),              # a short email name is too common a word to refuse
])
def test_acceptable_passwords(password, email):
    check_password(password, email, BLOCKLIST)
