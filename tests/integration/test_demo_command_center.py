"""The demo's command center: its CAD feed posts signed calls over real HTTP that open incidents (one with an
emergency), and the seeded incident and tip wait for an operator."""

from __future__ import annotations

import random

import httpx
import pytest

from openrtcc.demo.city import seed_demo_city
from openrtcc.demo.command_center import CALLS, DemoCadFeed
from openrtcc.domain.accounts import Role
from openrtcc.services import incidents, tips
from openrtcc.services.hub import Actor
from openrtcc.web.app import create_app
from tests.edge_hub import serve


@pytest.fixture
def seeded(hub) -> dict:
    return seed_demo_city(hub, cameras=300)


def _analyst(hub) -> Actor:
    with hub.uow() as uow:
        agency = uow.accounts.agency_by_slug("lakeport-pd")
        user = uow.accounts.by_email("analyst@police.lakeport.example")
        uow.rollback()
    return Actor(user.id, Role.ANALYST, agency.id, "test")


def test_the_demo_cad_feed_opens_incidents_through_the_signed_webhook(settings, hub, seeded):
    server, thread, port = serve(create_app(settings, hub))
    try:
        feed = DemoCadFeed(seeded["cad_feed"], f"http://127.0.0.1:{port}", now=hub.clock.now)
        robbery = next(i for i, (code, _) in enumerate(CALLS) if code == "211")
        with httpx.Client(trust_env=False) as client:
            assert feed.send(client, 0, random.Random(1)) == 200
            assert feed.send(client, robbery, random.Random(2)) == 200
            # A feed holding the wrong secret is refused: the webhook checks every call's signature.
            forged = DemoCadFeed({**seeded["cad_feed"], "secret": "not-the-secret"}, f"http://127.0.0.1:{port}",
                                 now=hub.clock.now)
            assert forged.send(client, 1, random.Random(3)) == 403
    finally:
        server.should_exit = True
        thread.join(10)
    opened = incidents.list_incidents(hub, _analyst(hub), status="open")
    by_source = {}
    for view in opened:
        by_source.setdefault(view.source.value, []).append(view)
    assert sorted(v.category for v in by_source["cad"]) == ["burglary", "robbery"]
    first = next(v for v in by_source["cad"] if v.category == "burglary")
    lat, lon, address = seeded["cad_feed"]["sites"][0]
    assert first.address == address and abs(first.lat - lat) < 0.001 and abs(first.lon - lon) < 0.001
    assert next(v for v in by_source["cad"] if v.category == "robbery").emergency_id is not None
    assert [v.category for v in by_source["operator"]] == ["suspicious_activity"]


def test_the_demo_tip_waits_in_the_queue(hub, seeded):
    queue = tips.list_tips(hub, _analyst(hub), status="new")
    assert len(queue) == 1 and "grey van" in queue[0].text
