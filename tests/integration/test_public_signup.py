"""Public alert sign-up on SQLite and PostgreSQL: double opt-in through a real SMTP server, confirmation, one-click
unsubscribe, refused links (forged, altered, expired) audited, no enumeration, rate limits on the injected clock."""

from __future__ import annotations

import pytest

from openrtcc.config import Settings
from openrtcc.domain.public_forms import PublicFormLimits
from openrtcc.domain.public_links import unsubscribe_token
from openrtcc.services.public_signup import keep_public_forms
from tests.edge_hub import free_port
from tests.public_forms_support import link_in, start_smtp

BASE_URL = "https://alerts.lakeport.test"
CENTRE = {"lat": 43.0, "lon": -87.92, "radius_m": 800}


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def settings(tmp_path, database_url, smtp_port) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=database_url, smtp_host="127.0.0.1",
                    smtp_port=smtp_port, smtp_from="alerts@lakeport.test", base_url=BASE_URL, tile_url="",
                    signups_per_hour=3)


@pytest.fixture
def mailbox(smtp_port):
    ctl, box = start_smtp(smtp_port)
    yield box
    ctl.stop()


@pytest.fixture
def sender(hub):
    """The dissemination worker, running: a round sends what is due (the confirmations)."""
    worker = hub.extras["dissemination"]
    worker.start()

    def send_due():
        worker.retry_round()
        assert worker.drain(10)

    yield send_due
    worker.stop()


def sign_up(anon, agency_id: str, address: str, **extra):
    body = {"agency_id": agency_id, "channel": "email", "address": address, "categories": ["burglary", "fire"],
            **CENTRE, **extra}
    return anon.post("/api/public/subscriptions", json=body)


def subscriber(hub, agency_id: str, address: str):
    with hub.uow() as uow:
        row = uow.public_subscribers.find(agency_id, "email", address)
        uow.rollback()
    return row


def audit(hub, action: str) -> list:
    with hub.uow() as uow:
        rows = [r for r in uow.audit.iter_records() if r.action == action]
        uow.rollback()
    return rows


def test_sign_up_is_pending_until_the_emailed_link_confirms_it_and_one_click_unsubscribes(
        hub, anon, world, mailbox, sender, clock):
    agency = world.agency()
    r = sign_up(anon, agency.id, "Rita@Example.org")
    assert r.status_code == 202, r.text
    row = subscriber(hub, agency.id, "rita@example.org")
    assert row.status == "pending" and row.geofence == {"type": "Circle", "center": [-87.92, 43.0], "radius_m": 800}
    assert row.categories == ["burglary", "fire"]

    sender()
    [message] = mailbox.wait_for("rita@example.org")
    assert "Lakeport Police" in message["Subject"]
    url, s, t = link_in(message)
    assert url.startswith(f"{BASE_URL}/subscribe/confirm?") and s == row.id
    assert anon.get(f"/subscribe/confirm?s={s}&t={t}").status_code == 200  # the page; the button confirms

    r = anon.post("/api/public/subscriptions/confirm", json={"s": s, "t": t})
    assert r.status_code == 200, r.text
    assert r.json() == {"agency_name": "Lakeport Police", "channel": "email", "address_hint": "r***@example.org",
                        "status": "active"}
    assert subscriber(hub, agency.id, "rita@example.org").status == "active"
    again = anon.post("/api/public/subscriptions/confirm", json={"s": s, "t": t})
    assert again.status_code == 200 and again.json()["status"] == "active"

    # The link a later alert email carries (List-Unsubscribe): the page shows, RFC 8058 POST does it.
    token = unsubscribe_token(hub.secret_key, s)
    view = anon.get(f"/api/public/unsubscribe?s={s}&t={token}")
    assert view.status_code == 200 and view.json()["status"] == "active"
    assert subscriber(hub, agency.id, "rita@example.org").status == "active"  # following the link changed nothing
    r = anon.post(f"/api/public/unsubscribe?s={s}&t={token}", data={"List-Unsubscribe": "One-Click"})
    assert r.status_code == 200 and r.json()["status"] == "unsubscribed"
    with hub.uow() as uow:
        gone = uow.public_subscribers.get(s)
    assert gone.status == "unsubscribed" and gone.address == ""  # the address is erased at once
    assert anon.post(f"/api/public/unsubscribe?s={s}&t={token}").json()["status"] == "unsubscribed"
    assert sign_up(anon, agency.id, "rita@example.org").status_code == 202  # back later: a new, pending sign-up
    again = subscriber(hub, agency.id, "rita@example.org")
    assert again.id != s and again.status == "pending"

    [signup, _] = audit(hub, "public.signup")
    [confirmed, _] = audit(hub, "public.confirm")
    [one_click, page] = audit(hub, "public.unsubscribe")
    assert signup.details["outcome"] == "new" and confirmed.outcome == "success"
    assert one_click.details == {"via": "one_click", "outcome": "unsubscribed"} and page.details["outcome"] == "already"
    for rec in (signup, confirmed, one_click):
        assert rec.actor_id is None and rec.source.startswith("anon:") and "testclient" not in rec.source


def test_a_known_address_gets_the_same_answer_and_at_most_one_message_per_quarter_hour(
        hub, anon, world, mailbox, sender, clock):
    agency = world.agency()
    first = sign_up(anon, agency.id, "ann@example.org")
    sender()
    [m1] = mailbox.wait_for("ann@example.org")
    again = sign_up(anon, agency.id, "ann@example.org", categories=["traffic"])
    assert (again.status_code, again.json()) == (first.status_code, first.json())
    sender()
    assert len(mailbox.to("ann@example.org")) == 1  # not re-sent within 15 minutes
    assert subscriber(hub, agency.id, "ann@example.org").categories == ["traffic"]  # pending: latest choices

    clock.advance(minutes=16)
    sign_up(anon, agency.id, "ann@example.org")
    sender()
    [_, m2] = mailbox.wait_for("ann@example.org", 2)
    assert link_in(m1) == link_in(m2)  # the same link while the first is valid: either works
    _, s, t = link_in(m2)
    assert anon.post("/api/public/subscriptions/confirm", json={"s": s, "t": t}).status_code == 200

    clock.advance(hours=1)  # past this client's hourly sign-up limit
    known = sign_up(anon, agency.id, "ann@example.org", categories=["robbery"])
    assert (known.status_code, known.json()) == (first.status_code, first.json())
    row = subscriber(hub, agency.id, "ann@example.org")
    assert row.status == "active" and row.categories == ["burglary", "fire"]  # an anonymous form changes nothing
    sender()
    [_, _, note] = mailbox.wait_for("ann@example.org", 3)
    assert "already" in note["Subject"] and "/unsubscribe?s=" in link_in(note)[0]


def test_forged_altered_and_expired_links_are_refused_and_audited(hub, anon, world, mailbox, sender, clock):
    agency = world.agency()
    sign_up(anon, agency.id, "bob@example.org")
    sender()
    _, s, t = link_in(mailbox.wait_for("bob@example.org")[0])
    altered = t[:-1] + ("A" if t[-1] != "A" else "B")
    stamp, mac = t.split(".")
    longer = f"{int(stamp) + 86400}.{mac}"  # a later expiry under the same signature
    for token in (altered, longer, "1.x", "forged"):
        r = anon.post("/api/public/subscriptions/confirm", json={"s": s, "t": token})
        assert r.status_code == 400 and r.json()["error"] == "bad_link", r.text
    r = anon.get(f"/api/public/unsubscribe?s={s}&t={unsubscribe_token(b'not-the-hub-key', s)}")
    assert r.status_code == 400 and r.json()["error"] == "bad_link"
    r = anon.post(f"/api/public/unsubscribe?s={s}x&t={unsubscribe_token(hub.secret_key, s)}")
    assert r.status_code == 400  # a token is bound to its subscriber
    assert subscriber(hub, agency.id, "bob@example.org").status == "pending"

    clock.advance(hours=24, seconds=1)
    r = anon.post("/api/public/subscriptions/confirm", json={"s": s, "t": t})
    assert r.status_code == 410 and r.json()["error"] == "link_expired"
    assert subscriber(hub, agency.id, "bob@example.org").status == "pending"
    refused = audit(hub, "public.confirm") + audit(hub, "public.unsubscribe")
    assert sorted(r.details["reason"] for r in refused) == ["bad_signature"] * 6 + ["expired"]
    assert all(r.outcome == "denied" and r.actor_id is None and r.source.startswith("anon:") for r in refused)

    # After expiry a new sign-up sends a new link, and only that one works.
    sign_up(anon, agency.id, "bob@example.org")
    sender()
    _, _, fresh = link_in(mailbox.wait_for("bob@example.org", 2)[1])
    assert fresh != t
    assert anon.post("/api/public/subscriptions/confirm", json={"s": s, "t": fresh}).json()["status"] == "active"


def test_rate_limits_per_client_refuse_with_retry_after(hub, anon, world, mailbox, clock):
    agency = world.agency()
    for i in range(3):
        r = sign_up(anon, agency.id, f"p{i}@example.org")
        assert r.status_code == 202, r.text
    r = sign_up(anon, agency.id, "p9@example.org")
    assert r.status_code == 429 and r.json()["error"] == "rate_limited"
    assert 3500 <= int(r.headers["Retry-After"]) <= 3600
    assert subscriber(hub, agency.id, "p9@example.org") is None
    with hub.uow() as uow:
        stored = uow.conn.exec_driver_sql("SELECT DISTINCT client_hash FROM rate_limit_hit").scalars().all()
    assert stored and all(len(h) == 64 and "testclient" not in h for h in stored)  # never the address itself
    clock.advance(hours=1, seconds=1)
    assert sign_up(anon, agency.id, "p9@example.org").status_code == 202
    clock.advance(days=8, hours=1)  # a week past the 24-hour links: never confirmed, the addresses are erased
    keep_public_forms(hub)
    with hub.uow() as uow:
        left = uow.conn.exec_driver_sql("SELECT COUNT(*) FROM rate_limit_hit").scalar_one()
    assert left == 0 and subscriber(hub, agency.id, "p0@example.org") is None
    assert {r.details["lapsed"] for r in audit(hub, "public.signup_lapse")} == {4}

    for _ in range(30):  # link guessing: refused, audited, counted
        assert anon.post("/api/public/subscriptions/confirm", json={"s": "x", "t": "y"}).status_code == 400
    r = anon.post("/api/public/subscriptions/confirm", json={"s": "x", "t": "y"})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0


def test_bad_sign_ups_are_refused_with_clear_errors_and_store_nothing(hub, anon, world, mailbox):
    agency = world.agency()
    cases = [
        ({"address": "not-an-email"}, 422, "bad_address"),
        ({"lat": 40.7, "lon": -74.0}, 422, "outside_jurisdiction"),
        ({"radius_m": 5}, 422, "bad_area"),
        ({"categories": ["plate_alert"]}, 422, "bad_category"),
        ({"channel": "sms", "address": "+14145550100"}, 422, "channel_off"),
        ({"channel": "webhook", "address": "https://x.test"}, 422, "bad_channel"),
        ({"agency_id": "nope"}, 404, "no_such_program"),
    ]
    for change, status, code in cases:
        body = {"agency_id": agency.id, "channel": "email", "address": "c@example.org", "categories": [], **CENTRE,
                **change}
        r = anon.post("/api/public/subscriptions", json=body)
        assert (r.status_code, r.json()["error"]) == (status, code), (change, r.text)
    assert subscriber(hub, agency.id, "c@example.org") is None
    whole = anon.post("/api/public/subscriptions", json={"agency_id": agency.id, "channel": "email",
                                                         "address": "c@example.org", "categories": []})
    assert whole.status_code == 202 and subscriber(hub, agency.id, "c@example.org").geofence is None
    options = anon.get("/api/public/options").json()
    assert options["channels"] == ["email"] and options["programs"][0]["name"] == "Lakeport Police"

    hub.extras["public_forms"] = PublicFormLimits(enabled=False)  # RTCC_PUBLIC_SIGNUP=false
    for r in (anon.get("/api/public/options"), sign_up(anon, agency.id, "d@example.org"),
              anon.post("/api/public/tips", data={"agency_id": agency.id, "text": "hello"})):
        assert (r.status_code, r.json()["error"]) == (404, "public_forms_off")
