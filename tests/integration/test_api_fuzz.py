"""API fuzzing: schemathesis generates requests for every operation of the hub's OpenAPI document and sends
them to the application in-process, logged on as an administrator and an analyst of agency A, with agency B
seeded with distinctive markers (a plate, an address, a user, and the ids of its camera, alert and read
source, which the fuzzer also puts into path parameters). No answer may be a 5xx, and none may carry any of
B's markers. Bounded by count, not by time (a timed bound would test the machine): a few derandomised
examples per operation (RTCC_FUZZ_EXAMPLES, 3 by default), so every run sends the same requests."""

from __future__ import annotations

import os
import uuid
from datetime import timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.python import asgi

from tests.conftest import HARBOR
from tests.plate_reads import NCIC_LIST, import_list, new_source, post_reads, read_body

pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("RTCC_FUZZ_EXAMPLES", "3"))
B_PLATE = "ZQ8B47"
B_TEXT = "Zanzibar-Quokka"  # in agency B's camera address, user name and source name
# Operations that would end the fuzzer's own sessions: everything else is fair game.
SKIPPED = {("POST", "/api/auth/logoff")}


def _seed_agency_b(world) -> dict[str, str]:
    """Agency B's data, each value a marker that must never reach agency A."""
    world.agency("harbor", HARBOR)
    owner = world.owner(B_TEXT)
    camera = world.camera(owner, "harbor", name=f"{B_TEXT} porch", address=f"7 {B_TEXT} Way, Harbor",
                          lat=43.0, lon=-87.77)
    key, source = new_source(world, "harbor", name=f"{B_TEXT} gate reader")
    import_list(world, "watch", "ncic", NCIC_LIST.replace("ABC123", B_PLATE), "harbor")
    read = read_body(str(uuid.uuid4()), B_PLATE, world.clock.now() - timedelta(minutes=3), lat=43.0, lon=-87.77)
    assert post_reads(world.admin("harbor").client, key, [read]).status_code < 300
    officer = world.admin("harbor").post("/api/agency/users", json={
        "email": f"{B_TEXT.lower()}@harbor.test", "display_name": f"{B_TEXT} Officer", "role": "analyst",
        "password": "Blue-Kettle-Orbit-42"})
    assert officer.status_code == 201, officer.text
    alerts = world.admin("harbor").get("/api/agency/alerts").json()
    items = alerts if isinstance(alerts, list) else alerts.get("alerts", alerts.get("items", []))
    assert items, "agency B's read of its hot-listed plate raised no alert"
    assert B_TEXT in owner.get(f"/api/owner/cameras/{camera['id']}").text  # the markers really are in answers
    assert B_PLATE in world.admin("harbor").get(f"/api/agency/alerts/{items[0]['id']}").text
    return {"camera_id": camera["id"], "alert_id": items[0]["id"], "source_id": source["id"],
            "user_id": officer.json()["id"]}


def _leaks(content: bytes, markers: list[str]) -> list[str]:
    lowered = content.lower()
    return [m for m in markers if m.lower().encode() in lowered]


def test_fuzzing_finds_no_server_error_and_no_cross_agency_leak(world, app, backend):
    b_ids = _seed_agency_b(world)
    markers = [B_PLATE, B_TEXT, *b_ids.values()]
    sessions = [world.admin("lakeport"), world.staff("analyst", "lakeport")]
    world.owner("Ada")  # agency A has an owner too, so owner-only routes are not empty by accident
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    client = asgi.get_client(app)
    problems: dict[str, str] = {}
    exercised = 0
    for result in schema.get_all_operations():
        op = result.ok()
        if (op.method.upper(), op.path) in SKIPPED:
            continue
        exercised += 1
        calls = iter(range(10**6))

        @settings(max_examples=EXAMPLES, deadline=None, phases=[Phase.explicit, Phase.generate], database=None,
                  derandomize=True, suppress_health_check=list(HealthCheck))
        @given(case=op.as_strategy())
        def send(case):
            n = next(calls)
            if n % 2 and case.path_parameters:  # every other case asks for agency B's objects by their ids
                case.path_parameters = {k: b_ids.get(k, v) for k, v in case.path_parameters.items()}
            session = sessions[n % 2]
            label = f"{op.method.upper()} {op.path}"
            try:
                response = case.call(session=client, headers={**(case.headers or {}), **session.headers})
            except Exception as exc:  # the in-process client re-raises what the server did not handle: a 500
                problems.setdefault(label, f"500 ({exc!r}): {case.as_curl_command()}")
                return
            if response.status_code >= 500 and label not in problems:
                problems[label] = f"{response.status_code}: {case.as_curl_command()}\n{response.text[:400]}"
            leaked = _leaks(response.content + str(response.headers).encode(), markers)
            if leaked:
                problems[f"{label} leak"] = f"{leaked} in {case.as_curl_command()}"

        send()
    assert exercised > 100  # the whole document, not a page of it
    assert not problems, "\n\n".join(f"{k}: {v}" for k, v in problems.items())
    for session in sessions:
        assert session.get("/api/auth/me").status_code == 200  # the fuzzer really acted as A's staff throughout
