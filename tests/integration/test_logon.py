"""Log-on, MFA, lockout, sessions and passwords, on both storage backends (CJIS account rules)."""

from __future__ import annotations

import hashlib
import threading

import pyotp
import pytest
from fastapi.testclient import TestClient

from tests.conftest import HARBOR, PASSWORD, camera_body
from tests.integration import db_probe as db

GENERIC = "email, password or code not accepted"


def attempt(world, email: str, password: str = PASSWORD, code: str | None = None, **extra):
    body = {"email": email, "password": password, "accept_banner": True, **extra}
    if code is not None:
        body["code"] = code
    return TestClient(world.app).post("/api/auth/logon", json=body)


def wrong_code(world, secret: str) -> str:
    right = world.code(secret)
    return "000000" if right != "000000" else "111111"


def sessions_of(hub, email: str) -> int:
    return db.count(hub, "session", "user_id = (SELECT id FROM user_account WHERE email = :e)", e=email)


def fresh_admin(world, slug: str = "lakeport"):
    """The administrator logs on again (after a jump of the clock ended the earlier session)."""
    old = world.admin(slug)
    s = world.log_on(old.email, secret=old.totp_secret)
    setattr(world, f"_admin_{slug}", s)
    return s


# --- the banner and the first step ------------------------------------------------------------

def test_the_use_banner_must_be_accepted(world, anon):
    owner = world.owner()
    banner = anon.get("/api/auth/banner").json()["banner"]
    assert "recorded" in banner and len(banner) > 100
    seq = db.audit_head_seq(world.hub)
    r = attempt(world, owner.email, accept_banner=False)
    assert r.status_code == 422 and r.json()["error"] == "banner_not_accepted"
    assert "system use notification" in r.json()["message"]
    r = TestClient(world.app).post("/api/auth/logon", json={"email": owner.email, "password": PASSWORD})
    assert r.status_code == 422 and r.json()["details"]["problems"][0]["field"] == "accept_banner"
    assert sessions_of(world.hub, owner.email) == 1  # only the session world.owner() opened
    # Each refused attempt is on the record (the web layer's fallback), naming no one: no account was touched.
    refused = db.audit_after(world.hub, seq)
    assert [(a.action, a.outcome, a.actor_id, a.details) for a in refused] == [
        ("http.request", "failed", None, {"status": 422})] * 2
    assert "rtcc_session" not in r.cookies


def test_unknown_email_and_wrong_password_get_the_same_answer(world):
    owner = world.owner()
    seq = db.audit_head_seq(world.hub)
    wrong = attempt(world, owner.email, "Not-The-Password-99")
    unknown = attempt(world, "nobody-here@owners.test", PASSWORD)
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"error": "logon_failed", "message": GENERIC, "details": {}}
    assert db.count(world.hub, "failed_logon") == 1  # only the real account counts failures
    denied = db.audit_after(world.hub, seq)
    assert [(r.action, r.outcome) for r in denied] == [("auth.log_on", "denied")] * 2
    assert denied[0].details["reason"] == "bad credentials" and denied[1].details["reason"] == "unknown account"
    assert denied[1].actor_id is None


def test_nonsense_email_is_refused_without_a_session(world):
    for email, status in [("", 401), ("not-an-email", 401), (" ", 401), ("a" * 255 + "@x.test", 422)]:
        r = attempt(world, email)
        assert r.status_code == status, email
    assert db.count(world.hub, "session") == 0


# --- TOTP ---------------------------------------------------------------------------------------

def test_agency_users_need_a_valid_totp_code(world):
    analyst = world.staff("analyst")
    secret = analyst.totp_secret
    for code in (None, "", wrong_code(world, secret)):
        r = attempt(world, analyst.email, code=code)
        assert r.status_code == 401, code
        assert r.json()["message"] == GENERIC
    wrong_password = attempt(world, analyst.email, "Not-The-Password-99", code=world.code(secret))
    assert wrong_password.status_code == 401
    assert db.count(world.hub, "session", "user_id = (SELECT id FROM user_account WHERE email = :e)",
                    e=analyst.email) == 1  # only the session world.staff() opened
    r = attempt(world, analyst.email, code=world.code(secret))  # four failures do not lock
    assert r.status_code == 200 and r.json()["mfa_enrolment_needed"] is False


def test_a_replayed_totp_code_is_refused(world):
    analyst = world.staff("analyst")
    code = world.code(analyst.totp_secret)
    first = attempt(world, analyst.email, code=code)
    assert first.status_code == 200
    again = attempt(world, analyst.email, code=code)
    assert again.status_code == 401 and again.json()["message"] == GENERIC
    world.hub.clock.advance(seconds=10)  # same 30-second step
    assert attempt(world, analyst.email, code=code).status_code == 401
    world.hub.clock.advance(seconds=30)  # the previous step is still accepted for drift, but was used
    assert attempt(world, analyst.email, code=code).status_code == 401
    assert attempt(world, analyst.email, code=world.code(analyst.totp_secret)).status_code == 200


def test_enrolment_session_can_only_enrol(world):
    admin = world.admin()
    email = "new-analyst@lakeport.test"
    r = admin.post("/api/agency/users", json={"email": email, "display_name": "New", "role": "analyst",
                                              "password": PASSWORD})
    assert r.status_code == 201 and r.json()["totp_enrolled"] is False
    r = attempt(world, email)
    assert r.status_code == 200 and r.json()["mfa_enrolment_needed"] is True
    client, headers = TestClient(world.app), {"Authorization": f"Bearer {r.json()['token']}"}
    blocked = [
        ("GET", "/api/agency/map/points", None),
        ("POST", "/api/agency/search/radius", {"lat": 43.0, "lon": -87.92, "radius_m": 50,
                                               "purpose": "criminal_investigation", "offence": "220",
                                               "case_number": "24-1"}),
        ("GET", "/api/agency/cameras/x?purpose=look", None),
        ("GET", "/api/agency/footage-requests", None),
        ("GET", "/api/agency/users", None),
        ("GET", "/api/agency/audit", None),
        ("GET", "/api/owner/cameras", None),
    ]

    def check_blocked():
        for method, url, body in blocked:
            resp = client.request(method, url, headers=headers, json=body)
            assert resp.status_code == 401, (url, resp.text)
            assert resp.json()["error"] == "mfa_enrolment_required"

    check_blocked()
    assert client.get("/api/auth/me", headers=headers).status_code == 200
    # confirming before a secret exists, or with a wrong code, enrols nothing
    assert client.post("/api/auth/totp/confirm", headers=headers, json={"code": "123456"}).status_code == 422
    secret = client.post("/api/auth/totp/start", headers=headers).json()["secret"]
    r = client.post("/api/auth/totp/confirm", headers=headers, json={"code": wrong_code(world, secret)})
    assert r.status_code == 422 and r.json()["error"] == "bad_totp"
    check_blocked()
    assert client.post("/api/auth/totp/confirm", headers=headers, json={"code": world.code(secret)}).status_code == 204
    for method, url, body in blocked[:2]:
        assert client.request(method, url, headers=headers, json=body).status_code == 200, url
    again = client.post("/api/auth/totp/start", headers=headers)
    assert again.status_code == 409 and again.json()["error"] == "already_enrolled"
    # from now on the code is part of every log-on
    world.hub.clock.advance(seconds=31)
    assert attempt(world, email).status_code == 401
    assert attempt(world, email, code=world.code(secret)).status_code == 200


# --- lockout ------------------------------------------------------------------------------------

def test_five_failures_lock_an_agency_account_until_its_own_admin_unlocks(world):
    analyst = world.staff("analyst")
    assert analyst.get("/api/agency/map/points").status_code == 200
    for i in range(4):
        r = attempt(world, analyst.email, "Wrong-Password-%d" % i) if i != 3 else \
            attempt(world, analyst.email, code=wrong_code(world, analyst.totp_secret))  # a wrong code counts too
        assert r.status_code == 401 and r.json()["message"] == GENERIC
    assert analyst.get("/api/agency/map/points").status_code == 200  # four failures: still open
    r = attempt(world, analyst.email, "Wrong-Password-5")
    assert r.status_code == 401 and "locked" in r.json()["message"]
    # the lock ends sessions already open and refuses even the right credentials
    assert analyst.get("/api/agency/map/points").status_code == 401
    assert sessions_of(world.hub, analyst.email) == 0
    r = attempt(world, analyst.email, code=world.code(analyst.totp_secret))
    assert r.status_code == 401 and "ask an administrator" in r.json()["message"]
    world.hub.clock.advance(days=2)  # time alone does not unlock an agency account
    r = attempt(world, analyst.email, code=world.code(analyst.totp_secret))
    assert r.status_code == 401 and "locked" in r.json()["message"]

    user_id = db.scalar(world.hub, "SELECT id FROM user_account WHERE email = :e", e=analyst.email)
    world.agency("harbor", HARBOR)
    other = world.admin("harbor")
    r = other.post(f"/api/agency/users/{user_id}/unlock")
    assert r.status_code == 404
    assert db.scalar(world.hub, "SELECT locked_at FROM user_account WHERE id = :i", i=user_id) is not None
    own = fresh_admin(world)
    listed = {u["email"]: u for u in own.get("/api/agency/users").json()}
    assert listed[analyst.email]["locked"] is True
    r = own.post(f"/api/agency/users/{user_id}/unlock")
    assert r.status_code == 200, r.text
    assert r.json()["locked"] is False and r.json()["disabled"] is False  # the answer shows the new state
    assert {u["email"]: u for u in own.get("/api/agency/users").json()}[analyst.email]["locked"] is False
    world.hub.clock.advance(seconds=31)
    assert attempt(world, analyst.email, code=world.code(analyst.totp_secret)).status_code == 200


@pytest.mark.parametrize("spacing_minutes, locked", [(3, True), (4, False)])
def test_lockout_counts_failures_within_15_minutes_only(world, spacing_minutes, locked):
    """Failures at 0, 3, 6, 9, 12 minutes lock; at 0, 4, 8, 12, 16 only four fall in any 15-minute window."""
    analyst = world.staff("analyst")
    for i in range(5):
        if i:
            world.hub.clock.advance(minutes=spacing_minutes)
        r = attempt(world, analyst.email, "Wrong-Password-%d" % i)
        assert r.status_code == 401
    world.hub.clock.advance(seconds=31)
    r = attempt(world, analyst.email, code=world.code(analyst.totp_secret))
    assert (r.status_code == 401 and "locked" in r.json()["message"]) if locked else r.status_code == 200


def test_owner_lockout_lifts_after_15_minutes(world):
    owner = world.owner()
    for i in range(5):
        assert attempt(world, owner.email, "Wrong-Password-%d" % i).status_code == 401
    world.hub.clock.advance(minutes=14, seconds=59)
    r = attempt(world, owner.email)
    assert r.status_code == 401 and "try again in 15 minutes" in r.json()["message"]  # no administrator to ask
    world.hub.clock.advance(seconds=1)
    assert attempt(world, owner.email).status_code == 200


# --- sessions -----------------------------------------------------------------------------------

@pytest.mark.parametrize("idle_minutes, alive", [(29, True), (31, False)])
def test_idle_lock_after_30_minutes(world, idle_minutes, alive):
    analyst = world.staff("analyst")
    assert analyst.get("/api/agency/map/points").status_code == 200
    world.hub.clock.advance(minutes=idle_minutes)
    r = analyst.get("/api/agency/map/points")
    if alive:
        assert r.status_code == 200
        world.hub.clock.advance(minutes=idle_minutes)  # activity restarted the idle clock
        assert analyst.get("/api/agency/map/points").status_code == 200
    else:
        assert r.status_code == 401 and r.json()["error"] == "session_expired"
        assert "30 minutes idle" in r.json()["message"]
        assert sessions_of(world.hub, analyst.email) == 0
        assert analyst.get("/api/agency/map/points").json()["error"] == "not_logged_on"


def test_reauthentication_every_12_hours_even_when_active(world):
    analyst = world.staff("analyst")
    for _ in range(35):  # 11 h 40 min of steady work
        world.hub.clock.advance(minutes=20)
        assert analyst.get("/api/auth/me").status_code == 200
    world.hub.clock.advance(minutes=20)
    r = analyst.get("/api/auth/me")
    assert r.status_code == 401 and "12 hours" in r.json()["message"]
    assert analyst.get("/api/auth/me").status_code == 401


def test_90_days_without_log_on_disables_an_agency_account(world):
    analyst = world.staff("analyst")
    owner = world.owner()
    world.hub.clock.advance(days=89)
    fresh_admin(world)  # the administrator stays active
    world.hub.clock.advance(days=1, minutes=1)
    r = attempt(world, analyst.email, code=world.code(analyst.totp_secret))
    assert r.status_code == 401 and "90 days" in r.json()["message"]
    assert db.scalar(world.hub, "SELECT disabled FROM user_account WHERE email = :e", e=analyst.email)
    world.hub.clock.advance(minutes=1)
    assert attempt(world, analyst.email, code=world.code(analyst.totp_secret)).status_code == 401  # stays off
    assert attempt(world, owner.email).status_code == 200  # the rule binds agency accounts, not owners
    admin = fresh_admin(world)
    user_id = db.scalar(world.hub, "SELECT id FROM user_account WHERE email = :e", e=analyst.email)
    r = admin.post(f"/api/agency/users/{user_id}/unlock")
    assert r.status_code == 200 and r.json()["disabled"] is False
    world.hub.clock.advance(seconds=31)
    assert attempt(world, analyst.email, code=world.code(analyst.totp_secret)).status_code == 200


def test_the_session_token_is_not_stored_in_clear(world):
    owner = world.owner()
    token = owner.token
    assert len(token) >= 43  # 256 bits, base64url
    stored = db.rows(world.hub, "SELECT * FROM session")
    assert len(stored) == 1
    assert stored[0].token_hash == hashlib.sha256(token.encode()).hexdigest()
    for table in ("session", "audit_log", "user_account", "failed_logon"):
        for row in db.rows(world.hub, f"SELECT * FROM {table}"):
            assert token not in repr(tuple(row)), table


def test_log_off_ends_the_session(world):
    owner = world.owner()
    assert owner.get("/api/owner/cameras").status_code == 200
    r = owner.post("/api/auth/logoff")
    assert r.status_code == 204
    assert sessions_of(world.hub, owner.email) == 0
    r = owner.get("/api/owner/cameras")
    assert r.status_code == 401 and r.json()["error"] == "not_logged_on"
    assert owner.post("/api/auth/logoff").status_code == 401


WEAK_PASSWORDS = [
    ("Sh0rt-7", "weak_password", "at least 8"),
    ("password123", "weak_password", "commonly used"),
    ("Qwerty123", "weak_password", "commonly used"),
    ("my-gertrude-voss-is-great", "weak_password", "email name"),
    ("x" * 257, "invalid_input", "at most 256"),  # the request schema stops it first
]


def test_password_policy_on_sign_up_and_user_creation(world, anon):
    owner_email, staff_email = "gertrude-voss@owners.test", "gertrude-voss@lakeport.test"
    admin = world.admin()
    for password, code, words in WEAK_PASSWORDS:
        r = anon.post("/api/auth/signup", json={"email": owner_email, "password": password, "display_name": "G"})
        assert r.status_code == 422, (password, r.text)
        assert r.json()["error"] == code and words in r.json()["message"]
        r = admin.post("/api/agency/users", json={"email": staff_email, "display_name": "G", "role": "analyst",
                                                  "password": password})
        assert r.status_code == 422 and words in r.json()["message"], password
    assert db.count(world.hub, "user_account", "email IN (:a, :b)", a=owner_email, b=staff_email) == 0
    r = anon.post("/api/auth/signup", json={"email": owner_email, "password": PASSWORD, "display_name": "G"})
    assert r.status_code == 201  # the same address with a good password is welcome


def test_cookie_authenticated_change_needs_the_header(world):
    owner = world.owner()
    client = TestClient(world.app)
    r = client.post("/api/auth/logon", json={"email": owner.email, "password": PASSWORD, "accept_banner": True})
    assert r.status_code == 200 and client.cookies.get("rtcc_session")
    body = camera_body(world.agency().id)
    assert client.get("/api/owner/cameras").status_code == 200  # reading with the cookie is fine
    r = client.post("/api/owner/cameras", json=body)
    assert r.status_code == 403 and r.json()["error"] == "csrf"
    r = client.post("/api/owner/cameras", json=body, headers={"X-Requested-With": "XMLHttpRequest"})
    assert r.status_code == 403
    assert db.count(world.hub, "camera") == 0
    assert client.post("/api/auth/logoff").status_code == 403  # log-off too is a change
    r = client.post("/api/owner/cameras", json=body, headers={"X-Requested-With": "rtcc"})
    assert r.status_code == 201
    assert db.count(world.hub, "camera") == 1


def test_totp_secret_in_the_authenticator_uri_matches(world):
    """The otpauth:// URI carries the same secret the server checks codes against."""
    owner = world.owner()
    r = owner.post("/api/auth/totp/start")
    assert r.status_code == 200
    uri = r.json()["otpauth_uri"]
    totp = pyotp.parse_uri(uri)
    assert totp.secret == r.json()["secret"]
    assert owner.post("/api/auth/totp/confirm", json={"code": totp.at(world.hub.clock.now())}).status_code == 204
    world.hub.clock.advance(seconds=31)
    assert attempt(world, owner.email).status_code == 401  # an owner who enrolled now needs the code
    assert attempt(world, owner.email, code=totp.at(world.hub.clock.now())).status_code == 200


def test_one_totp_code_opens_one_session_even_when_sent_at_once(world):
    """Several log-ons racing with the same code: the replay check must hold across transactions."""
    analyst = world.staff("analyst")
    clients = [TestClient(world.app) for _ in range(4)]  # three refused replays a round: fewer than a lockout
    for c in clients:
        c.__enter__()  # a running event loop each, so that the requests really overlap
    try:
        for _ in range(5):
            world.hub.clock.advance(minutes=16)  # the last round's refusals leave the 15-minute window
            code = world.code(analyst.totp_secret)
            barrier = threading.Barrier(len(clients))
            statuses: list[int] = []

            def log_on(client, code=code, barrier=barrier, statuses=statuses):
                barrier.wait()
                statuses.append(client.post("/api/auth/logon", json={
                    "email": analyst.email, "password": PASSWORD, "code": code, "accept_banner": True}).status_code)

            threads = [threading.Thread(target=log_on, args=(c,)) for c in clients]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert sorted(statuses) == [200] + [401] * (len(clients) - 1), statuses
    finally:
        for c in clients:
            c.__exit__(None, None, None)
