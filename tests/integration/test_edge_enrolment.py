"""Enrolling an edge box with a one-time code: the happy path, every bad code, the attempt limit, the key
file, revocation; owners see only their own boxes."""

from __future__ import annotations

import stat

import pytest

from tests.edge_hub import live_edge_hub  # noqa: F401  (a fixture)

from openrtcc.services.edge_enrolment import CODE_TTL, MAX_ATTEMPTS


def _code(owner) -> str:
    r = owner.post("/api/owner/edges/codes", json={"name": "Shop box"})
    assert r.status_code == 201, r.text
    return r.json()["code"]


def _enrol(anon, code: str, name: str = "box-1"):
    return anon.post("/api/edge/enrol", json={"code": code, "name": name, "software_version": "0.4.0"})


def test_enrol_then_authenticate_list_and_revoke(world, anon, hub, backend):
    owner = world.owner("Olga")
    code = _code(owner)
    assert len(code.replace("-", "")) == 10
    r = _enrol(anon, code.lower())  # case and dash do not matter to the person typing it
    assert r.status_code == 201, r.text
    edge_id, key = r.json()["edge_id"], r.json()["key"]
    with hub.uow() as uow:
        row = uow.edges.get(edge_id)
        uow.rollback()
    assert row.key_hash != key and key not in str(row)  # only the hash is kept
    boxes = owner.get("/api/owner/edges").json()
    assert [b["id"] for b in boxes] == [edge_id] and boxes[0]["name"] == "Shop box"  # the owner's label wins
    assert boxes[0]["software_version"] == "0.4.0" and boxes[0]["revoked"] is False

    from openrtcc.services.edges import authenticate_edge
    assert authenticate_edge(hub, key, "127.0.0.1").id == edge_id
    assert owner.post(f"/api/owner/edges/{edge_id}/revoke").status_code == 200
    from openrtcc.domain.errors import Unauthenticated
    with pytest.raises(Unauthenticated) as refused:
        authenticate_edge(hub, key, "127.0.0.1")
    with pytest.raises(Unauthenticated) as unknown:
        authenticate_edge(hub, "rtcc_edge_nonsense", "127.0.0.1")
    assert refused.value.message == unknown.value.message  # a revoked key is not told apart from a wrong one
    answers = [anon.post("/api/edge/reads", headers={"Authorization": f"Bearer {k}"},
                         json={"version": 1, "reads": []}) for k in (key, "rtcc_edge_nonsense")]
    assert [a.status_code for a in answers] == [401, 401] and answers[0].json() == answers[1].json()

    actions = _actions(hub)
    assert {"edge.code_create", "edge.enrol", "edge.revoke", "edge.refused"} <= actions


def _actions(hub) -> set[str]:
    with hub.uow() as uow:
        acts = {r.action for r in uow.audit.iter_records()}
        uow.rollback()
    return acts


def test_bad_codes_get_one_answer(world, anon, clock, backend):
    owner = world.owner("Olga")
    used = _code(owner)
    assert _enrol(anon, used).status_code == 201
    expired = _code(owner)
    clock.advance(seconds=CODE_TTL.total_seconds() + 1)
    answers = [_enrol(anon, c) for c in (used, expired, "ABCDE-FGHJK", "")]
    assert [a.status_code for a in answers[:3]] == [401, 401, 401]
    assert len({a.json()["message"] for a in answers[:3]}) == 1
    assert answers[3].status_code in (401, 422)
    assert len(owner.get("/api/owner/edges").json()) == 1  # nothing half-made by the refusals


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # no query of the database is the subject
def test_attempts_are_limited_per_address(world, anon, backend):
    owner = world.owner("Olga")
    for _ in range(MAX_ATTEMPTS):
        assert _enrol(anon, "AAAAA-AAAAA").status_code == 401
    good = _code(owner)
    r = _enrol(anon, good)
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    assert owner.get("/api/owner/edges").json() == []


def test_owner_sees_only_own_boxes_and_cannot_revoke_others(world, anon, backend):
    olga, bob = world.owner("Olga"), world.owner("Bob")
    edge_id = _enrol(anon, _code(olga)).json()["edge_id"]
    assert bob.get("/api/owner/edges").json() == []
    assert bob.post(f"/api/owner/edges/{edge_id}/revoke").status_code == 404
    staff = world.staff("supervisor")
    assert staff.get("/api/owner/edges").status_code == 403
    assert olga.get("/api/owner/edges").json()[0]["revoked"] is False


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # no query of the database is the subject
def test_box_side_enrolment_writes_a_private_key_file(live_edge_hub, tmp_path, backend):
    from openrtcc.edge.config import EdgeConfig
    from openrtcc.edge.credentials import load_credentials
    from openrtcc.edge.enrolment import enrol
    from openrtcc.domain.errors import InvalidInput

    owner = live_edge_hub.world.owner("Olga")
    code = live_edge_hub.code(owner)
    config = EdgeConfig.model_validate({"edge": {"name": "garage", "data_dir": str(tmp_path / "edge"),
                                                 "hub_url": live_edge_hub.url}})
    creds = enrol(config, code)
    path = tmp_path / "edge" / "credentials.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_credentials(config) == creds and creds.key.startswith("rtcc_edge_")
    with pytest.raises(InvalidInput) as again:  # the code is used up
        enrol(config, code)
    assert "not valid" in again.value.message
    assert load_credentials(config) == creds  # the refused second try left the first key in place


def test_policy_extras_are_validated_kept_when_left_out_and_only_the_owners(world, backend):
    from tests.conftest import camera_body

    owner = world.owner("Olga")
    agency = world.agency().id
    extras = {"emergency_radius_m": 300, "privacy_masks": [[[0.1, 0.1], [0.4, 0.1], [0.4, 0.5]]],
              "share_reads_with": [agency]}
    body = camera_body(agency, tier="integrated", sharing={"mode": "always", "share_live": True, **extras})
    cam = owner.post("/api/owner/cameras", json=body).json()
    bad = [{"privacy_masks": [[[0.1, 0.1], [0.4, 0.1]]]}, {"privacy_masks": [[[0, 0], [1.5, 0], [1, 1]]]},
           {"privacy_masks": [[[0, 0], [0.5, 0.5], [1, 1]]]}, {"share_reads_with": ["no-such-agency"]},
           {"emergency_radius_m": -1}]
    for change in bad:
        r = owner.put(f"/api/owner/cameras/{cam['id']}", json=body | {"sharing": body["sharing"] | change})
        assert r.status_code == 422, change
    plain = body | {"sharing": {"mode": "paused"}}  # a form that does not show the extras
    r = owner.put(f"/api/owner/cameras/{cam['id']}", json=plain)
    assert r.status_code == 200 and {k: r.json()["sharing"][k] for k in extras} == {
        "emergency_radius_m": 300.0, "privacy_masks": extras["privacy_masks"], "share_reads_with": [agency]}
    assert world.staff("supervisor").put(f"/api/owner/cameras/{cam['id']}", json=plain).status_code == 403
