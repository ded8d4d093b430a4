"""Incident rules: drafts checked and trimmed, operator transitions with clear conflicts, CAD calls mapped
through an integration's code map, gunshot events turned into incidents."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from openrtcc.domain.cad import CadCall, map_call, parse_code_map, parse_model
from openrtcc.domain.errors import Conflict, InvalidInput
from openrtcc.domain.gunshot import GunshotConfig, GunshotEvent, map_event
from openrtcc.domain.incidents import (
    IncidentDraft,
    IncidentSource,
    IncidentStatus,
    IncidentView,
    acknowledged_status,
    assigned_status,
    check_disposition,
    check_emergency,
    check_escalation,
    validate_draft,
)

NOW = datetime(2026, 11, 21, 20, 0, tzinfo=UTC)
DRAFT = IncidentDraft(category="Shots_Fired ", priority=1, title="  Shots fired near the park ", lat=43.0, lon=-87.9,
                      description="  ", address=" 100 Main St ")


def _view(**kw) -> IncidentView:
    base = IncidentView("i1", "a1", IncidentSource.OPERATOR, None, "burglary", 3, "Burglary", None, 43.0, -87.9,
                        None, IncidentStatus.NEW, None, None, None, None, None, "u1", NOW, NOW, None, {})
    return replace(base, **kw)


def test_a_draft_is_trimmed_and_its_category_lower_cased():
    d = validate_draft(DRAFT)
    assert (d.category, d.title, d.description, d.address) == ("shots_fired", "Shots fired near the park", None,
                                                               "100 Main St")


@pytest.mark.parametrize("change, code", [
    ({"category": "shots fired!"}, "bad_category"), ({"category": "x"}, "bad_category"),
    ({"priority": 0}, "bad_priority"), ({"priority": 6}, "bad_priority"), ({"priority": True}, "bad_priority"),
    ({"title": "ab"}, "bad_title"), ({"title": "x" * 201}, "bad_title"),
    ({"lat": 91.0}, "bad_coordinates"), ({"lon": float("nan")}, "bad_coordinates"),
    ({"description": "x" * 4001}, "bad_description"), ({"external_id": ""}, "bad_external_id"),
])
def test_bad_drafts_are_refused_with_the_reason(change, code):
    with pytest.raises(InvalidInput) as exc:
        validate_draft(replace(DRAFT, **change))
    assert exc.value.code == code


def test_transitions():
    assert acknowledged_status(_view()) is IncidentStatus.ACKNOWLEDGED
    with pytest.raises(Conflict, match="already acknowledged") as exc:
        acknowledged_status(_view(status=IncidentStatus.ACKNOWLEDGED))
    assert exc.value.code == "already_acknowledged"
    assert assigned_status(_view(status=IncidentStatus.ASSIGNED, assigned_to="u2"), "u3") is IncidentStatus.ASSIGNED
    with pytest.raises(Conflict) as exc:
        assigned_status(_view(assigned_to="u2"), "u2")
    assert exc.value.code == "already_assigned"
    with pytest.raises(Conflict) as exc:
        check_escalation(_view(escalated_at=NOW))
    assert exc.value.code == "already_escalated"
    assert check_disposition(_view(), "arrest") == "arrest"
    with pytest.raises(InvalidInput):
        check_disposition(_view(), "closed_by_cad")  # what a CAD does, not an operator
    with pytest.raises(Conflict) as exc:
        check_emergency(_view(emergency_id="e1"), linked_in_force=True)
    assert exc.value.code == "emergency_exists"
    check_emergency(_view(emergency_id="e1"), linked_in_force=False)  # expired: a new one may be declared
    closed = _view(status=IncidentStatus.CLOSED, disposition="arrest")
    for attempt in (lambda: acknowledged_status(closed), lambda: assigned_status(closed, "u2"),
                    lambda: check_escalation(closed), lambda: check_disposition(closed, "arrest")):
        with pytest.raises(Conflict) as exc:
            attempt()
        assert exc.value.code == "incident_closed"


CODES = parse_code_map({"default_category": "other", "default_priority": 4, "codes": {
    "217": {"category": "assault", "priority": 2, "label": "Assault"},
    "SHOTS": {"category": "shots_fired", "priority": 1, "emergency": {"radius_m": 500, "minutes": 30}}}})


def _call(**kw) -> CadCall:
    doc = {"incident_number": "26-0001", "call_type": "217", "location": {"lat": 43.0, "lon": -87.9},
           "received_at": "2026-11-21T19:58:00Z"} | kw
    return CadCall.model_validate_json(json.dumps(doc))


def test_cad_codes_map_to_category_priority_and_emergency():
    mapped = map_call(_call(), CODES)
    assert (mapped.draft.category, mapped.draft.priority, mapped.draft.title) == ("assault", 2, "Assault (26-0001)")
    assert mapped.draft.source is IncidentSource.CAD and mapped.draft.external_id == "26-0001"
    assert mapped.emergency is None and "unmapped_code" not in mapped.draft.details
    assert map_call(_call(priority=1), CODES).draft.priority == 1  # the dispatcher's priority wins
    shots = map_call(_call(call_type="SHOTS"), CODES)
    assert shots.emergency.radius_m == 500 and shots.draft.title == "CAD call SHOTS (26-0001)"
    unknown = map_call(_call(call_type="999"), CODES)
    assert (unknown.draft.category, unknown.draft.priority) == ("other", 4)
    assert unknown.draft.details["unmapped_code"] is True and unknown.draft.details["call_type"] == "999"


@pytest.mark.parametrize("body, field", [
    (b'{"incident_number": "1", "call_type": "217"', ""),  # cut off
    (b'{"incident_number": "1", "call_type": "217", "location": {"lat": "43", "lon": -87.9}, '
     b'"received_at": "2026-11-21T19:58:00Z"}', "location.lat"),
    (b'{"incident_number": "1", "call_type": "217", "priority": "high", "location": {"lat": 43, "lon": -87.9}, '
     b'"received_at": "2026-11-21T19:58:00Z"}', "priority"),
    (b'{"incident_number": "1", "call_type": "217", "location": {"lat": 43, "lon": -87.9}, '
     b'"received_at": "2026-11-21T19:58:00"}', "received_at"),  # no offset: whose time?
    (b'{"incident_number": "1", "call_type": "217", "location": {"lat": 43, "lon": -87.9}, '
     b'"received_at": "2026-11-21T19:58:00Z", "plate": "ABC123"}', "plate"),
])
def test_malformed_calls_name_the_field(body, field):
    with pytest.raises(InvalidInput) as exc:
        parse_model(CadCall, body, "CAD call")
    assert exc.value.code == "malformed_payload"
    assert field in [p["field"] for p in exc.value.details["problems"]]


@pytest.mark.parametrize("config", [
    {"codes": {"217": {"category": "Assault!"}}}, {"codes": {"217": {"category": "assault", "priority": 9}}},
    {"codes": {"217": {"category": "assault", "emergency": {"radius_m": 50_000, "minutes": 30}}}},
    {"codes": {"": {"category": "assault"}}}, {"default_category": "x"}, {"colour": "red"},
])
def test_bad_code_maps_are_refused(config):
    with pytest.raises(InvalidInput) as exc:
        parse_code_map(config)
    assert exc.value.code == "bad_config"


def test_gunshot_events():
    event = GunshotEvent.model_validate_json(json.dumps({
        "event_id": "ss-1", "detected_at": "2026-11-21T19:59:00Z", "lat": 43.0, "lon": -87.9, "rounds": 4,
        "kind": "multiple", "confidence": 0.93}))
    config = GunshotConfig.model_validate({"emergency": {"radius_m": 400, "minutes": 20}})
    mapped = map_event(event, config)
    assert (mapped.draft.category, mapped.draft.priority, mapped.draft.title) == (
        "shots_fired", 1, "Multiple gunshots detected: 4 rounds")
    assert mapped.draft.details["rounds"] == 4 and mapped.emergency.radius_m == 400
    possible = map_event(event.model_copy(update={"kind": "possible", "rounds": 1}), config)
    assert possible.draft.priority == 2 and possible.emergency is None  # never opens cameras on a maybe

