"""Operator actions on plate alerts besides the disposition: acknowledge, assign, escalate; each audited and
announced to the agency's command centers after it commits."""

from __future__ import annotations

import logging
from dataclasses import replace

from openrtcc.domain.accounts import Permission
from openrtcc.domain.alerts import AlertView, check_operator_action
from openrtcc.domain.command_events import AlertChanged
from openrtcc.domain.errors import InvalidInput, NotFound
from openrtcc.domain.incidents import check_note
from openrtcc.services.hub import Actor, Hub

log = logging.getLogger(__name__)


def announce(hub: Hub, view: AlertView, action: str, actor_id: str | None) -> None:
    """After commit: every screen of the agency shows the alert's new state."""
    if hub.bus is None:
        return
    try:
        hub.bus.publish(AlertChanged(view, action, actor_id))
    except Exception as exc:  # the action stands; screens see it on their next list
        log.warning("could not announce a change to alert %s (%s)", view.id, type(exc).__name__)


def _act(hub: Hub, actor: Actor, alert_id: str, action: str, assignee: str | None = None,
         note: str | None = None) -> AlertView:
    note = check_note(note)
    with hub.uow() as uow:
        view = uow.alerts.get(actor.agency_id, alert_id)
        if view is None:
            raise NotFound("no such alert in your agency")
        check_operator_action(view, action, assignee)
        name = None
        if assignee is not None:
            staff = {r.id: r.display_name for r in uow.incidents.assignees(actor.agency_id)}
            if assignee not in staff:
                raise InvalidInput("assign to an active officer, analyst or supervisor of your agency",
                                   code="bad_assignee")
            name = staff[assignee]
        now = hub.clock.now()
        uow.alerts.add_action(alert_id, now, actor.user_id, action, assignee, note)
        uow.record(actor.entry(f"alert.{action}", f"alert:{alert_id}", assigned_to=assignee, noted=note is not None))
        uow.commit()
    changed = {"acknowledge": {"acknowledged_at": now}, "escalate": {"escalated_at": now},
               "assign": {"assigned_to": assignee, "assigned_name": name}}[action]
    view = replace(view, **changed)
    announce(hub, view, action, actor.user_id)
    return view


def acknowledge(hub: Hub, actor: Actor, alert_id: str) -> AlertView:
    actor.require(Permission.HANDLE_INCIDENTS)
    return _act(hub, actor, alert_id, "acknowledge")


def escalate(hub: Hub, actor: Actor, alert_id: str, note: str | None = None) -> AlertView:
    """Flag the alert for the supervisors' attention."""
    actor.require(Permission.HANDLE_INCIDENTS)
    return _act(hub, actor, alert_id, "escalate", note=note)


def assign(hub: Hub, actor: Actor, alert_id: str, assignee_id: str, note: str | None = None) -> AlertView:
    actor.require(Permission.ASSIGN_INCIDENTS)
    return _act(hub, actor, alert_id, "assign", assignee_id, note)
