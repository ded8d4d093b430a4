"""The demo city's governance, so that /governance, /sharing and /transparency have something true to show:
Lakeport's published policy and settings, plate reads shared with the county for named purposes, the county's
stolen-vehicle list shared in and opted into, purpose-bound searches (one refused as prohibited), a legal hold
with a read locked into its case, and the first signed audit anchor."""

from __future__ import annotations

from datetime import timedelta

from openrtcc.domain.errors import Forbidden
from openrtcc.services import audit_anchors, governance_settings, legal_holds, shared_hotlists, sharing
from openrtcc.services.governance_settings import GovernanceChanges
from openrtcc.services.hotlists import import_hot_list
from openrtcc.services.hub import Actor, Hub
from openrtcc.services.plate_search import PlateQuery, search_plates
from openrtcc.services.search_rules import PurposeIn

LAKEPORT_POLICY = """\
Lakeport Police Department: community camera and plate-reader use policy (demo)

1. Purpose. Plate reads and community cameras are used only to investigate a specific crime, to find a
   stolen vehicle, a wanted person or a missing or endangered person, or in an imminent threat to life.
2. Prohibited uses. Civil immigration enforcement, monitoring of protest or other First Amendment activity,
   investigation of reproductive or gender-affirming health care, and civil traffic or parking enforcement.
   The system refuses searches made for these purposes.
3. Every search states a purpose, an offence type and a case number. A supervisor is alerted when one user
   searches the same plate repeatedly, and approves any search covering more than 50 cameras.
4. Retention. Plate reads, images and clips are deleted after 30 days unless a legal hold keeps a case.
5. Sharing. Nothing is shared with another agency without a written, expiring, one-to-one grant listed on
   this portal. No federal agency has access.
6. No facial recognition is used, installed or permitted.
7. The audit log is signed daily and its anchors are published here.
"""

COUNTY_POLICY = """\
Harbor County Sheriff's Office: plate-reader use policy (demo)

Reads are used only for criminal investigations, stolen vehicles, wanted and missing persons. Reads are kept
30 days. The Sheriff's Office shares its stolen-vehicle list with Lakeport and receives Lakeport's reads for the
purposes listed on this portal.
"""

COUNTY_STOLEN = (("LKC2210", "MN", "Stolen 2019 grey pickup"), ("TRK5531", "MN", "Stolen utility trailer"),
                 ("HRB7012", "WI", "Stolen sedan taken from a county lot"))


def seed_governance(hub: Hub, city: dict[str, Actor], county: dict[str, Actor], burglary_case: str) -> str:
    """`city` and `county`: an actor per role name. Returns a line for the demo summary."""
    governance_settings.update(hub, city["admin"], GovernanceChanges(
        policy_text=LAKEPORT_POLICY,
        prohibited_purposes=["immigration_enforcement", "protest_activity", "reproductive_health", "civil_traffic"]))
    governance_settings.update(hub, county["admin"], GovernanceChanges(kind="county", policy_text=COUNTY_POLICY))
    _share(hub, city, county)
    searches = _search(hub, city["analyst"], burglary_case)
    _hold(hub, city["supervisor"], burglary_case, searches)
    audit_anchors.make_anchor(hub, source="demo")
    return f"governance: reads shared with the county, its stolen-vehicle list applied, case {burglary_case} on " \
           "legal hold, audit anchored (see /governance, /sharing and the public /transparency)"


def _share(hub: Hub, city: dict[str, Actor], county: dict[str, Actor]) -> None:
    until = hub.clock.now() + timedelta(days=90)
    county_slug, city_slug = _slug(hub, county["admin"]), _slug(hub, city["admin"])
    sharing.create_grant(hub, city["admin"], sharing.GrantRequest(
        county_slug, "plate_reads", ["criminal_investigation", "stolen_vehicle", "wanted_person", "missing_person"],
        until, note="Mutual-aid agreement 2026-14 (demo)"))
    year = hub.clock.now().year + 1
    lines = "".join(f"{p},{s},{r},Harbor County Sheriff's Office,{year}-06-30\n" for p, s, r in COUNTY_STOLEN)
    made = import_hot_list(hub, county["admin"], name="Harbor County stolen vehicles", fmt="custom",
                           data=("plate,state,reason,owner,expires_at\n" + lines).encode())
    sharing.create_grant(hub, county["admin"], sharing.GrantRequest(
        city_slug, "hot_lists", ["hot_list_follow_up", "stolen_vehicle"], until,
        note="County stolen-vehicle list for Lakeport patrol (demo)"))
    shared_hotlists.opt_in(hub, city["admin"], made.list.id)


def _search(hub: Hub, analyst: Actor, case: str) -> list:
    """Two searches an investigator would make, and one the policy refuses; returns the reads found."""
    found = search_plates(hub, analyst, PlateQuery(PurposeIn("criminal_investigation", "220", case),
                                                   plate="8RG882O")).reads
    search_plates(hub, analyst, PlateQuery(PurposeIn("hot_list_follow_up", "240", case, "alert follow-up"),
                                           partial="LKP*"))
    try:
        search_plates(hub, analyst, PlateQuery(PurposeIn("civil_traffic", "NONE", case), plate="LKP4512"))
    except Forbidden:
        pass  # refused, logged and told to the supervisors: the portal counts it among the refusals
    return found


def _hold(hub: Hub, supervisor: Actor, case: str, reads: list) -> None:
    legal_holds.place_hold(hub, supervisor, case, "Burglary prosecution: keep the van's read and the clips")
    for read in reads[:1]:
        legal_holds.lock_read(hub, supervisor, case, read.id)


def _slug(hub: Hub, actor: Actor) -> str:
    with hub.uow().reading() as uow:
        return uow.accounts.agency(actor.agency_id).slug
