"""Hot lists shared in, on both backends: a list of another agency matches my reads only after my opt-in and
only while its grant lives (revocation, renewal, opt-out and expiry with the clock), a new version of the
list applies at once, each hit raises the alert in my agency and is audited on both sides, and an agency
without a grant sees and applies nothing."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from openrtcc.adapters.db.tables import alert, audit_log, hotlist_subscription
from openrtcc.bootstrap import build_hub
from openrtcc.domain.accounts import Role
from openrtcc.domain.reads import ReadBatch
from openrtcc.services.hotlists import import_hot_list, keep_hot_lists, system_actor
from openrtcc.services.hub import Actor
from openrtcc.services.ingest import ingest_reads
from openrtcc.services.read_sources import create_source_for_agency
from openrtcc.services.shared_hotlists import list_shared_in
from openrtcc.services.sharing import GrantRequest, create_grant, revoke_grant
from tests.conftest import HARBOR

V1 = b"LIC|LIS|VMA|VCO|NIC\nABC1234|CA|TOYT|BLK|V000000001\n"
V2 = b"LIC|LIS|VMA|VCO|NIC\nABC1234|CA|TOYT|BLK|V000000001\nXYZ9876|CA|FORD|WHI|V000000003\n"


class Reads:
    """Posts one read at a time to an agency's read source and counts the agency's alerts."""

    def __init__(self, hub, clock, slug: str):
        self.hub, self.clock, self.n = hub, clock, 0
        self.source, _key = create_source_for_agency(hub, slug, "gate camera", "lpr_camera", "CA")

    def see(self, plate: str) -> None:
        self.n += 1
        at = self.clock.now() - timedelta(minutes=1)
        read = {"read_id": f"r{self.n}", "plate": plate, "confidence": 0.9, "captured_at": at.isoformat()}
        ingest_reads(self.hub, self.source, ReadBatch(version=1, reads=[read]))

    def alerts(self) -> list:
        with self.hub.extras["engine"].connect() as conn:
            return list(conn.execute(select(alert).where(alert.c.agency_id == self.source.agency_id)
                                     .order_by(alert.c.created_at)))


def hot_list_grant(world, clock, days: int = 30):
    r = world.admin().post("/api/sharing/grants", json={
        "to_agency": "harbor", "data_kind": "hot_lists", "purposes": ["hot_list_follow_up"],
        "expires_at": (clock.now() + timedelta(days=days)).isoformat()})
    assert r.status_code == 201, r.text
    return r.json()


def audited(hub, action: str, agency_id: str) -> list:
    with hub.extras["engine"].connect() as conn:
        return list(conn.execute(select(audit_log).where(audit_log.c.action == action,
                                                         audit_log.c.agency_id == agency_id)))


def test_a_shared_list_applies_only_after_opt_in_and_while_its_grant_lives(hub, world, clock):
    lake, harbor = world.agency(), world.agency("harbor", HARBOR)
    keeper = system_actor(lake.id, "test-import")
    stolen = import_hot_list(hub, keeper, name="Stolen vehicles", fmt="ncic", data=V1).list
    reads = Reads(hub, clock, "harbor")
    harbor_admin = world.admin("harbor")
    reads.see("ABC1234")
    assert reads.alerts() == []  # nothing shared: my reads do not meet your lists
    assert harbor_admin.get("/api/sharing/hotlists").json() == []
    assert harbor_admin.post(f"/api/sharing/hotlists/{stolen.id}/opt-in").status_code == 404

    hot_list_grant(world, clock)
    (offered,) = harbor_admin.get("/api/sharing/hotlists").json()
    assert (offered["name"], offered["source"]["slug"], offered["opted_in_at"], offered["applies"]) == (
        "Stolen vehicles", "lakeport", None, False)
    reads.see("ABC1234")
    assert reads.alerts() == []  # shared, but not applied before the opt-in

    r = harbor_admin.post(f"/api/sharing/hotlists/{stolen.id}/opt-in")
    assert r.status_code == 200, r.text
    assert (r.json()["list"]["applies"], r.json()["alerts"]) == (True, 2)  # the back-check finds both reads
    reads.see("ABC1234")
    raised = reads.alerts()
    assert len(raised) == 3 and {a.list_id for a in raised} == {stolen.id}
    assert len(audited(hub, "sharing.hotlist_hit", harbor.id)) == 3
    assert {rec.target for rec in audited(hub, "sharing.hotlist_hit", lake.id)} == {f"hot_list:{stolen.id}"}
    assert len(audited(hub, "sharing.hotlist_opt_in", lake.id)) == 1  # the keeper's trail sees the opt-in
    assert world.admin().get("/api/agency/alerts").json() == []  # the alert is the recipient's, not the keeper's
    again = harbor_admin.post(f"/api/sharing/hotlists/{stolen.id}/opt-in")
    assert (again.status_code, again.json()["error"]) == (409, "already_opted_in")

    import_hot_list(hub, keeper, name="Stolen vehicles", fmt="ncic", data=V2)  # a new version applies at once
    reads.see("XYZ9876")
    assert len(reads.alerts()) == 4

    assert harbor_admin.post(f"/api/sharing/hotlists/{stolen.id}/opt-out").status_code == 204
    reads.see("ABC1234")
    assert len(reads.alerts()) == 4
    assert len(audited(hub, "sharing.hotlist_opt_out", lake.id)) == 1


def test_revocation_renewal_and_expiry_with_the_clock(settings, hub, world, clock):
    lake, harbor = world.agency(), world.agency("harbor", HARBOR)
    stolen = import_hot_list(hub, system_actor(lake.id, "t"), name="Stolen", fmt="ncic", data=V1).list
    reads = Reads(hub, clock, "harbor")
    first = hot_list_grant(world, clock)
    assert world.admin("harbor").post(f"/api/sharing/hotlists/{stolen.id}/opt-in").status_code == 200
    reads.see("ABC1234")
    assert len(reads.alerts()) == 1

    assert world.admin().post(f"/api/sharing/grants/{first['id']}/revoke").status_code == 200
    reads.see("ABC1234")
    assert len(reads.alerts()) == 1  # revoked: matching stops at once

    renewed = hot_list_grant(world, clock, days=10)  # a renewed grant: the opt-in holds, resting on it now
    reads.see("ABC1234")
    assert len(reads.alerts()) == 2
    with hub.extras["engine"].connect() as conn:
        assert conn.execute(select(hotlist_subscription.c.grant_id)).scalars().all() == [renewed["id"]]

    clock.advance(days=10)  # the renewed grant ends: the next read does not match, without any reload
    reads.see("ABC1234")
    assert len(reads.alerts()) == 2
    (kept,) = list_shared_in(hub, Actor("admin-2", Role.ADMIN, harbor.id))
    assert (kept.opted_in_at is not None, kept.grant_expires_at, kept.applies) == (True, None, False)

    # Another process (`rtcc sharing grant|revoke`) changes the grants: the serving hub's index catches up
    # at its upkeep round.
    other = build_hub(settings, clock=clock, run_migrations=False, fast_hashing=True)
    try:
        cli = system_actor(lake.id, "rtcc-sharing-cli")
        third = create_grant(other, cli, GrantRequest("harbor", "hot_lists", ["hot_list_follow_up"],
                                                      clock.now() + timedelta(days=5)))
        keep_hot_lists(hub)
        reads.see("ABC1234")
        assert len(reads.alerts()) == 3
        revoke_grant(other, cli, third.grant.id)
        keep_hot_lists(hub)
        reads.see("ABC1234")
        assert len(reads.alerts()) == 3
    finally:
        other.extras["engine"].dispose()


def test_an_agency_without_a_grant_sees_and_applies_nothing(hub, world, clock):
    lake = world.agency()
    world.agency("harbor", HARBOR), world.agency("bay", HARBOR)
    stolen = import_hot_list(hub, system_actor(lake.id, "t"), name="Stolen", fmt="ncic", data=V1).list
    hot_list_grant(world, clock)  # to harbor only
    bay = world.admin("bay")
    assert bay.get("/api/sharing/hotlists").json() == []
    r = bay.post(f"/api/sharing/hotlists/{stolen.id}/opt-in")
    assert (r.status_code, r.json()["error"]) == (404, "not_found")
    assert bay.post(f"/api/sharing/hotlists/{stolen.id}/opt-out").status_code == 404
    own = world.admin().post(f"/api/sharing/hotlists/{stolen.id}/opt-in")  # one's own list is no shared list
    assert own.status_code == 404
    analyst = world.staff("analyst", "harbor")
    assert analyst.post(f"/api/sharing/hotlists/{stolen.id}/opt-in").status_code == 403
    denied = [rec.details["error"] for rec in audited(hub, "sharing.hotlist_opt_in", world.agency("bay").id)]
    assert denied == ["not_found"]
