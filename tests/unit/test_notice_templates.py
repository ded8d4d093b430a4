"""Audience templates: police units get the plate and the record; the public, vendors and partners never get a
plate, a state, a crop link, an address or anyone's contact details, whatever the notice carries."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime

import pytest

from openrtcc.domain.dissemination import Audience, ChannelKind, Notice, NoticeKind, Subscriber, SubscriberStatus
from openrtcc.domain.notice_templates import LinkKeys, envelope, general_area, render
from openrtcc.domain.public_links import verify_unsubscribe_token

AT = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
LINKS = LinkKeys("https://rtcc.lakeport.example", b"k" * 32)
SECRETS = {"plate": "QZX4417", "state": "WYO", "owner": "Margarethe Quellbrunn", "phone": "+14145550177",
           "email": "quellbrunn@owners.example", "address": "4417 Juniper Hollow Rd", "tipster": "Ottoline Vask",
           "crop": "/api/agency/alerts/al-1/crop"}


def sub(audience: Audience, channel: ChannelKind, address: str = "someone@example.org") -> Subscriber:
    return Subscriber("s-1", "a1", audience, channel, address, frozenset(), None, SubscriberStatus.ACTIVE,
                      secret="hook-secret" if channel is ChannelKind.WEBHOOK else None)


def loaded_notice(rng: random.Random, kind: NoticeKind) -> Notice:
    """A notice carrying every secret somewhere a careless template might copy it from. (A bulletin's text is
    the operator's own words for its audiences: names in it cannot be recognised, so there it has none.)"""
    who = "" if kind is NoticeKind.BULLETIN else f"{SECRETS['tipster']} {SECRETS['owner']} "
    body = (f"Caller {who}({SECRETS['phone']}, {SECRETS['email']}) saw plate {SECRETS['plate']} "
            f"near {SECRETS['address']}")
    police = {"plate": SECRETS["plate"], "state": SECRETS["state"], "crop_url": SECRETS["crop"],
              "owner": SECRETS["owner"], "address": f"{SECRETS['address']}, Lakeport",
              "reason": f"owner {SECRETS['owner']} {SECRETS['phone']}", "link": "/alerts?alert=al-1"}
    loaded = f"{body} {SECRETS['tipster']} {SECRETS['owner']}"
    before = {"category": "burglary", "priority": 2, "lat": 43.0001, "lon": -87.9201, "title": loaded,
              "body": loaded, "police": police}
    change = rng.choice(["new", "update", "end"])
    return Notice("n-1", "a1", kind, change, "src-1", rng.choice(["burglary", "robbery", "fire", "odd cat"]),
                  rng.randint(1, 5), 43.0 + rng.random() / 100, -87.92 + rng.random() / 100, AT,
                  title=body if kind is not NoticeKind.ALERT else "Hot-list hit", body=body, police=police,
                  before=before if change != "new" else None)


@pytest.mark.parametrize("seed", range(40))
def test_public_vendor_and_partner_messages_never_carry_protected_data(seed):
    rng = random.Random(seed)
    n = loaded_notice(rng, rng.choice([NoticeKind.INCIDENT, NoticeKind.BULLETIN, NoticeKind.ALERT]))
    for audience in (Audience.PUBLIC, Audience.PRIVATE_SECURITY, Audience.PARTNER_BUSINESS):
        for channel in ChannelKind:
            msg = render(n, sub(audience, channel), 7, LINKS)
            everything = " ".join([msg.subject, msg.text, json.dumps(msg.data), json.dumps(msg.headers)])
            for name, value in SECRETS.items():
                assert value not in everything, (name, audience, channel)
            assert "Juniper Hollow Rd" not in everything or "4400 block of Juniper Hollow Rd" in everything
            assert "4417" not in everything


def test_police_units_get_the_plate_the_record_and_links():
    n = loaded_notice(random.Random(1), NoticeKind.ALERT)
    msg = render(n, sub(Audience.POLICE_UNIT, ChannelKind.EMAIL), 9, LINKS)
    assert SECRETS["plate"] in msg.subject and SECRETS["state"] in msg.subject
    assert "https://rtcc.lakeport.example/alerts?alert=al-1" in msg.text
    hook = render(n, sub(Audience.POLICE_UNIT, ChannelKind.WEBHOOK, "https://unit.example/hook"), 9, LINKS)
    assert hook.data["after"]["plate"] == SECRETS["plate"]
    assert hook.data["after"]["crop_url"] == "https://rtcc.lakeport.example" + SECRETS["crop"]
    assert hook.secret == "hook-secret" and hook.headers == {}


def test_envelopes_are_frigate_style_with_before_on_updates():
    n = Notice("n-2", "a1", NoticeKind.INCIDENT, "update", "inc-9", "fire", 2, 43.0012, -87.9207, AT, "Fire",
               police={"address": "12 Elm St"}, before={"category": "hazard", "priority": 3, "lat": 43.0,
                                                          "lon": -87.92, "police": {"address": "12 Elm St"}})
    doc = envelope(n, Audience.PUBLIC, LINKS.base_url)
    assert doc["type"] == "update" and doc["after"]["ref"] == "inc-9"
    assert doc["before"]["category"] == "Hazard" and doc["after"]["category"] == "Fire"
    assert doc["after"]["area"] == "the 0 block of Elm St" and doc["after"]["lat"] == 43.0
    mqtt = render(n, sub(Audience.PUBLIC, ChannelKind.MQTT, "mqtt://broker.example:1883/homes"), 3, LINKS)
    assert mqtt.topic == "homes/events" and mqtt.data == doc
    assert render(n, sub(Audience.PUBLIC, ChannelKind.MQTT, "mqtt://b.example"), 3, LINKS).topic == "rtcc/events"


def test_public_email_has_one_click_unsubscribe_and_sms_is_short():
    n = Notice("n-3", "a1", NoticeKind.INCIDENT, "new", "inc-1", "burglary", 2, 43.0, -87.92, AT, "x" * 500)
    email = render(n, sub(Audience.PUBLIC, ChannelKind.EMAIL), 1, LINKS)
    assert email.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = email.headers["List-Unsubscribe"].strip("<>")
    assert url.startswith("https://rtcc.lakeport.example/api/public/unsubscribe?s=s-1&t=")
    assert verify_unsubscribe_token(LINKS.secret_key, "s-1", url.rsplit("t=", 1)[1])
    assert "https://rtcc.lakeport.example/unsubscribe?s=s-1&t=" in email.text
    sms = render(n, sub(Audience.PUBLIC, ChannelKind.SMS, "+14145550100"), 2, LINKS)
    assert len(sms.text) <= 320 and sms.headers == {}
    vendor = render(n, sub(Audience.PRIVATE_SECURITY, ChannelKind.EMAIL), 3, LINKS)
    assert "unsubscribe" not in vendor.text.lower() and vendor.headers == {}


def test_general_area_never_names_a_house():
    assert general_area("1234 Oak Ave, Lakeport", None, None) == "the 1200 block of Oak Ave"
    assert general_area("Main St & 5th Ave", 43.0, -87.9) == "near 43.000, -87.900"
    assert general_area("Lakeport Harbor", 43.0, -87.9) == "Lakeport Harbor"
    assert general_area(None, 43.00213, -87.92349) == "near 43.000, -87.925"
    assert general_area(None, None, None) == "the agency's area"
