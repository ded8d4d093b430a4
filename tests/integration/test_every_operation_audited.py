"""Derived from the OpenAPI document: every operation, called as a role allowed to (or refused), leaves at
least one new audit record (success, denied or failed), attributed to the caller when one is logged on;
and the web layer's fallback record for requests whose handler audits nothing."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from openrtcc.web.request_audit import ACTION
from tests.api_operations import EXAMPLES, STAFF_ROLES, call_for, learn_ids, operations, seed
from tests.integration import db_probe as db

log = logging.getLogger(__name__)


def test_every_operation_in_the_openapi_document_writes_an_audit_record(world, app, hub):
    spec = app.openapi()
    seeded = seed(world)
    anonymous = TestClient(app)
    ops = operations(spec)
    assert len(ops) > 100  # the document really is the hub's
    unaudited, misattributed, server_errors, fallback_only = [], [], [], []
    for method, path, op in ops:
        call = call_for(method, path, op, spec, seeded)
        roles = STAFF_ROLES if call.role == "admin" else (call.role,)
        for role in roles:  # the first staff role the operation is for; each refusal on the way is checked too
            r, records = _call(app, hub, seeded, call, role, anonymous)
            name = f"{method.upper()} {path} ({role}) -> {r.status_code}"
            log.info("%s %s", name, r.text[:160] if r.status_code >= 400 else "")
            if r.status_code >= 500:
                server_errors.append(f"{name}: {r.text[:300]}")
            user = seeded.users[role]
            if not records:
                unaudited.append(name)
            elif user and r.status_code != 401 and not any(rec.actor_id == user for rec in records):
                misattributed.append(f"{name}: {[(rec.action, rec.actor_id) for rec in records]}")
            elif all(rec.action == ACTION for rec in records) and r.status_code < 400:
                fallback_only.append(name)
            if r.status_code < 300 and r.content and r.headers.get("content-type", "").startswith("application/json"):
                learn_ids(path, r.json(), seeded)
            if not (r.status_code == 403 and r.json().get("error") == "permission_denied"):
                break
    log.warning("served and audited only by the web layer's fallback record:\n%s", "\n".join(fallback_only))
    assert not unaudited, "operations that wrote no audit record:\n" + "\n".join(unaudited)
    assert not misattributed, "audit records that do not name the caller:\n" + "\n".join(misattributed)
    assert not server_errors, "operations that failed with 5xx:\n" + "\n".join(server_errors)


def _call(app, hub, seeded, call, role, anonymous):
    session = seeded.sessions[role]
    client = session.client if session else anonymous
    kwargs = dict(call.kwargs)
    headers = {**(session.headers if session else {}), **kwargs.pop("headers", {})}
    before = db.audit_head_seq(hub)
    r = client.request(call.method.upper(), call.url, headers=headers, **kwargs)
    return r, db.audit_after(hub, before)


def test_the_examples_table_names_only_operations_the_document_has(app):
    spec = app.openapi()
    known = {f"{m} {p}" for m, p, _ in operations(spec)}
    assert set(EXAMPLES) <= known, set(EXAMPLES) - known


MARKER = "QQ7X9Z"  # stands for a plate or a case number a caller put in a query or a body


def test_a_read_its_handler_does_not_audit_is_recorded_once_by_the_fallback(anon, hub):
    before = db.audit_head_seq(hub)
    r = anon.get(f"/api/auth/banner?plate={MARKER}")
    assert r.status_code == 200
    [record] = db.audit_after(hub, before)
    assert (record.action, record.outcome, record.target, record.details) == (
        ACTION, "success", "GET /api/auth/banner", {"status": 200})
    assert record.actor_id is None and record.source == "testclient"
    assert MARKER not in repr(tuple(record))  # the route template only, never the query


def test_a_validation_refusal_is_recorded_with_the_caller_and_without_the_body(world):
    owner = world.owner()
    me = owner.get("/api/auth/me").json()["id"]
    before = db.audit_head_seq(world.hub)
    r = owner.post("/api/owner/cameras", json={"name": MARKER, "lat": "north"})
    assert r.status_code == 422 and r.json()["error"] == "invalid_input"
    [record] = db.audit_after(world.hub, before)
    assert (record.action, record.outcome, record.actor_id, record.target, record.details) == (
        ACTION, "failed", me, "POST /api/owner/cameras", {"status": 422})
    assert MARKER not in repr(tuple(record))


def test_a_handler_that_audits_its_own_action_gets_no_second_record(world):
    admin = world.admin()
    before = db.audit_head_seq(world.hub)
    assert admin.get("/api/agency/audit").status_code == 200
    assert [r.action for r in db.audit_after(world.hub, before)] == ["audit.read"]


def test_nothing_is_served_unaccounted_for_when_the_audit_log_is_down(world, anon):
    hub = world.hub
    admin = world.admin()
    head = db.audit_head_seq(hub)
    db.break_audit_inserts(hub)
    try:
        r = anon.get("/api/auth/banner")
        assert r.status_code == 503 and r.json()["error"] == "audit_unavailable"
        assert "banner" not in r.json() and "text" not in r.json()
        assert admin.get("/api/dissemination/deliveries/counts").status_code == 503
        assert anon.get("/api/agency/map/points").status_code == 401  # a refusal stays the refusal it was
    finally:
        db.repair_audit_inserts(hub)
    assert db.audit_head_seq(hub) == head
    assert anon.get("/api/auth/banner").status_code == 200
