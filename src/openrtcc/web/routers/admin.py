"""Agency administration (users, unlock) and the audit trail."""

from __future__ import annotations

from fastapi import APIRouter, Query

from openrtcc.domain.accounts import Role, is_locked
from openrtcc.services import accounts, audit_trail
from openrtcc.web.deps import AgencyActor, HubDep
from openrtcc.web.schemas import UserCreateIn, UserOut

router = APIRouter(prefix="/api/agency", tags=["admin"])


def _user(u, now) -> UserOut:
    return UserOut(id=u.id, email=u.email, display_name=u.display_name, role=u.role.value, agency_id=u.agency_id,
                   totp_enrolled=u.totp_enrolled, locked=is_locked(u, now), disabled=u.disabled,
                   last_login_at=u.last_login_at)


@router.get("/users")
def users(actor: AgencyActor, hub: HubDep) -> list[UserOut]:
    now = hub.clock.now()
    return [_user(u, now) for u in accounts.list_agency_users(hub, actor)]


@router.post("/users", status_code=201)
def create_user(body: UserCreateIn, actor: AgencyActor, hub: HubDep) -> UserOut:
    u = accounts.create_agency_user(hub, actor, email=body.email, display_name=body.display_name,
                                    role=Role(body.role), password=body.password)
    return _user(u, hub.clock.now())


@router.post("/users/{user_id}/unlock")
def unlock(user_id: str, actor: AgencyActor, hub: HubDep) -> UserOut:
    u = accounts.unlock_user(hub, actor, user_id)
    return _user(u, hub.clock.now())


@router.get("/audit")
def audit(actor: AgencyActor, hub: HubDep, limit: int = Query(200, ge=1, le=1000),
          before_seq: int | None = Query(None, ge=1)) -> list[dict]:
    return [{"seq": r.seq, "at": r.at, "action": r.action, "outcome": r.outcome, "actor_id": r.actor_id,
             "target": r.target, "source": r.source, "details": r.details, "hash": r.hash}
            for r in audit_trail.agency_audit(hub, actor, limit, before_seq)]
