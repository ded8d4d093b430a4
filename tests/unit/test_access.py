"""decide_access: every tier, kind, sharing mode, schedule, emergency, withdrawal and agency combination."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, time, timedelta

import pytest

from openrtcc.domain.access import AccessKind, AccessRequest, Emergency, decide_access
from openrtcc.domain.cameras import CameraStatus, ScheduleWindow, SharingMode, SharingPolicy, Tier
from openrtcc.domain.geo import Point, destination

A, B = "agency-a", "agency-b"
CAM = Point(43.0, -87.92)
NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)  # a Friday, 15:00 UTC
FRIDAY_14_16 = (ScheduleWindow(4, time(14), time(16)),)
FRIDAY_8_10 = (ScheduleWindow(4, time(8), time(10)),)
NEARBY = Emergency(A, destination(CAM, 0, 100), 200.0, NOW + timedelta(hours=1))

LIVE, RECORDED, LOCATION = AccessKind.LIVE, AccessKind.RECORDED, AccessKind.LOCATION
INTEGRATED, REGISTERED = Tier.INTEGRATED, Tier.REGISTERED
ACTIVE, WITHDRAWN = CameraStatus.ACTIVE, CameraStatus.WITHDRAWN
ALWAYS, EMERGENCY, SCHEDULE, PAUSED = (SharingMode.ALWAYS, SharingMode.EMERGENCY_ONLY, SharingMode.SCHEDULE,
                                       SharingMode.PAUSED)


def request(kind=LIVE, *, agency=A, camera_agency=A, tier=INTEGRATED, status=ACTIVE) -> AccessRequest:
    return AccessRequest(agency, kind, camera_agency, CAM, tier, status)


def policy(mode=ALWAYS, live=True, recorded=True, schedule=()) -> SharingPolicy:
    return SharingPolicy(mode, live, recorded, schedule)


# (policy, request, now, emergencies, allowed, words in the reason)
CASES = [
    # location: any active camera of the agency's own program, whatever the sharing policy
    (policy(PAUSED, False, False), request(LOCATION, tier=REGISTERED), NOW, [], True, "registered location"),
    (policy(PAUSED, False, False), request(LOCATION), NOW, [], True, "registered location"),
    (policy(), request(LOCATION, status=WITHDRAWN), NOW, [], False, "withdrawn"),
    (policy(), request(LOCATION, agency=B), NOW, [], False, "not enrolled with this agency"),
    # registered cameras share no video, even with a permissive policy
    (policy(), request(LIVE, tier=REGISTERED), NOW, [], False, "registered cameras share no video"),
    (policy(), request(RECORDED, tier=REGISTERED), NOW, [], False, "registered cameras share no video"),
    # always
    (policy(ALWAYS), request(LIVE), NOW, [], True, "at all times"),
    (policy(ALWAYS), request(RECORDED), NOW, [], True, "at all times"),
    (policy(ALWAYS, live=False), request(LIVE), NOW, [], False, "does not share live"),
    (policy(ALWAYS, live=False), request(RECORDED), NOW, [], True, "at all times"),
    (policy(ALWAYS, recorded=False), request(RECORDED), NOW, [], False, "does not share recorded"),
    (policy(ALWAYS, recorded=False), request(LIVE), NOW, [], True, "at all times"),
    # withdrawn and other-agency cameras: never, whatever else is true
    (policy(ALWAYS), request(LIVE, status=WITHDRAWN), NOW, [NEARBY], False, "withdrawn"),
    (policy(ALWAYS), request(LIVE, agency=B), NOW, [], False, "not enrolled with this agency"),
    (policy(EMERGENCY), request(LIVE, agency=B), NOW, [NEARBY, Emergency(B, CAM, 500, NOW + timedelta(hours=1))],
     False, "not enrolled with this agency"),
    # paused
    (policy(PAUSED), request(LIVE), NOW, [NEARBY], False, "paused"),
    (policy(PAUSED), request(RECORDED), NOW, [], False, "paused"),
    # schedule
    (policy(SCHEDULE, schedule=FRIDAY_14_16), request(LIVE), NOW, [], True, "inside the owner's sharing schedule"),
    (policy(SCHEDULE, schedule=FRIDAY_8_10), request(LIVE), NOW, [], False, "outside the owner's sharing schedule"),
    (policy(SCHEDULE, schedule=()), request(LIVE), NOW, [], False, "outside"),
    (policy(SCHEDULE, schedule=FRIDAY_14_16), request(LIVE), NOW + timedelta(days=1), [], False, "outside"),
    (policy(SCHEDULE, schedule=FRIDAY_14_16), request(LIVE), NOW + timedelta(hours=1), [], False, "outside"),
    (policy(SCHEDULE, schedule=FRIDAY_8_10), request(LIVE), NOW, [NEARBY], False, "outside"),  # no emergency path
    (policy(SCHEDULE, live=False, schedule=FRIDAY_14_16), request(LIVE), NOW, [], False, "does not share live"),
    (policy(SCHEDULE, recorded=False, schedule=FRIDAY_14_16), request(RECORDED), NOW, [], False,
     "does not share recorded"),
    # emergency only
    (policy(EMERGENCY), request(LIVE), NOW, [], False, "only during a declared emergency"),
    (policy(EMERGENCY), request(LIVE), NOW, [NEARBY], True, "emergency is declared"),
    (policy(EMERGENCY), request(RECORDED), NOW, [NEARBY], True, "emergency is declared"),
    (policy(EMERGENCY, live=False), request(LIVE), NOW, [NEARBY], False, "does not share live"),
    (policy(EMERGENCY), request(LIVE), NOW, [Emergency(B, CAM, 500, NOW + timedelta(hours=1))], False,
     "only during"),  # another agency's emergency opens nothing for this one
    (policy(EMERGENCY), request(LIVE), NOW, [Emergency(A, destination(CAM, 0, 250), 200, NOW + timedelta(hours=1))],
     False, "only during"),  # too far away
    (policy(EMERGENCY), request(LIVE), NOW, [Emergency(A, destination(CAM, 0, 199), 200, NOW + timedelta(hours=1))],
     True, "emergency"),  # just inside the radius
    (policy(EMERGENCY), request(LIVE), NOW, [Emergency(A, CAM, 200, NOW)], False, "only during"),  # expired now
    (policy(EMERGENCY), request(LIVE), NOW, [Emergency(A, CAM, 200, NOW - timedelta(minutes=1))], False, "only"),
    (policy(EMERGENCY), request(LIVE), NOW, [Emergency(A, CAM, 200, NOW + timedelta(seconds=1))], True, "emergency"),
    (policy(EMERGENCY), request(LIVE), NOW,
     [Emergency(B, CAM, 500, NOW + timedelta(hours=1)), Emergency(A, CAM, 200, NOW - timedelta(hours=1)), NEARBY],
     True, "emergency"),  # one valid emergency among others suffices
    (policy(EMERGENCY), request(LIVE, tier=REGISTERED), NOW, [NEARBY], False, "registered cameras share no video"),
]


@pytest.mark.parametrize("pol, req, now, emergencies, allowed, reason", CASES)
def test_decide_access(pol, req, now, emergencies, allowed, reason):
    decision = decide_access(pol, req, now, emergencies)
    assert decision.allowed is allowed
    assert reason in decision.reason


@pytest.mark.parametrize("offset_hours, allowed", [(0, False), (-6, True), (-7, True), (-8, False), (-5, False), (+1, False)])
def test_schedule_uses_the_deployment_local_time(offset_hours, allowed):
    """15:00 UTC on Friday is 09:00 at UTC-6, inside a Friday 08:00-10:00 window."""
    decision = decide_access(policy(SCHEDULE, schedule=FRIDAY_8_10), request(LIVE), NOW, [],
                             utc_offset=timedelta(hours=offset_hours))
    assert decision.allowed is allowed


def test_schedule_weekday_is_the_local_weekday():
    """02:00 UTC on Saturday is still Friday 20:00 at UTC-6."""
    saturday_2am = datetime(2026, 11, 21, 2, 0, tzinfo=UTC)
    friday_evening = (ScheduleWindow(4, time(19), time(21)),)
    pol = policy(SCHEDULE, schedule=friday_evening)
    assert decide_access(pol, request(LIVE), saturday_2am, [], utc_offset=timedelta(hours=-6)).allowed
    assert not decide_access(pol, request(LIVE), saturday_2am, []).allowed


# The whole product: every combination, checked against the rules each must obey.
MODES = list(SharingMode)
EMERGENCY_SETS = {"none": [], "nearby": [NEARBY], "other_agency": [Emergency(B, CAM, 500, NOW + timedelta(hours=1))],
                  "expired": [Emergency(A, CAM, 500, NOW - timedelta(seconds=1))]}
SCHEDULES = {"inside": FRIDAY_14_16, "outside": FRIDAY_8_10}
PRODUCT = list(itertools.product(MODES, [True, False], [True, False], SCHEDULES, list(AccessKind), list(Tier),
                                 list(CameraStatus), [A, B], EMERGENCY_SETS))


def test_every_combination_obeys_the_rules():
    checked = 0
    for mode, live, recorded, sched, kind, tier, status, camera_agency, emergencies in PRODUCT:
        pol = policy(mode, live, recorded, SCHEDULES[sched])
        req = request(kind, camera_agency=camera_agency, tier=tier, status=status)
        d = decide_access(pol, req, NOW, EMERGENCY_SETS[emergencies])
        video = kind is not LOCATION
        shared_kind = live if kind is LIVE else recorded
        expected = (
            status is ACTIVE and camera_agency == A and (
                not video or (
                    tier is INTEGRATED and shared_kind and (
                        mode is ALWAYS
                        or (mode is SCHEDULE and sched == "inside")
                        or (mode is EMERGENCY and emergencies == "nearby")
                    )
                )
            )
        )
        case = (mode, live, recorded, sched, kind, tier, status, camera_agency, emergencies)
        assert d.allowed is expected, (case, d.reason)
        assert d.reason, case  # every decision says why
        checked += 1
    assert checked == 4 * 2 * 2 * 2 * 3 * 2 * 2 * 2 * 4
