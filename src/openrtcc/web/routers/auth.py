"""Log-on (after the use banner), TOTP enrolment, log-off, owner sign-up."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from openrtcc.domain.cameras import ContactPreferences
from openrtcc.domain.errors import InvalidInput
from openrtcc.services import accounts
from openrtcc.web.deps import SESSION_COOKIE, EnrollingDep, HubDep, SessionDep, Source
from openrtcc.web.schemas import LogOnIn, LogOnOut, SignUpIn, TotpConfirmIn, TotpStartOut, UserOut

router = APIRouter(prefix="/api/auth", tags=["auth"])


@router.get("/banner")
def banner(request: Request) -> dict:
    """The system use notification, to show before log-on."""
    return {"banner": request.app.state.settings.use_banner}


@router.post("/logon")
def log_on(body: LogOnIn, hub: HubDep, source: Source, request: Request, response: Response) -> LogOnOut:
    if not body.accept_banner:
        raise InvalidInput("read and accept the system use notification before logging on", code="banner_not_accepted")
    result = accounts.log_on(hub, email=body.email, password=body.password, code=body.code, source=source)
    response.set_cookie(SESSION_COOKIE, result.token, httponly=True, samesite="strict",
                        secure=request.app.state.settings.secure_cookies, path="/")
    u = result.user
    return LogOnOut(token=result.token, role=u.role.value, agency_id=u.agency_id, display_name=u.display_name,
                    mfa_enrolment_needed=result.mfa_enrolment_needed)


@router.post("/logoff", status_code=204)
def log_off(info: EnrollingDep, hub: HubDep, response: Response) -> None:
    accounts.log_off(hub, info)
    response.delete_cookie(SESSION_COOKIE, path="/")


@router.get("/me")
def me(info: EnrollingDep, hub: HubDep) -> UserOut:
    accounts.record_whoami(hub, info)
    u = info.user
    return UserOut(id=u.id, email=u.email, display_name=u.display_name, role=u.role.value, agency_id=u.agency_id,
                   totp_enrolled=u.totp_enrolled or info.mfa_done and u.mfa_required, locked=False, disabled=False,
                   last_login_at=u.last_login_at)


@router.post("/totp/start")
def totp_start(info: EnrollingDep, hub: HubDep) -> TotpStartOut:
    secret, uri = accounts.begin_totp_enrolment(hub, info)
    return TotpStartOut(secret=secret, otpauth_uri=uri)


@router.post("/totp/confirm", status_code=204)
def totp_confirm(body: TotpConfirmIn, info: EnrollingDep, hub: HubDep) -> None:
    accounts.confirm_totp_enrolment(hub, info, body.code)


@router.post("/signup", status_code=201)
def sign_up(body: SignUpIn, hub: HubDep, source: Source) -> dict:
    prefs = ContactPreferences(body.contact.share_contact, body.contact.preferred_channel, body.contact.phone)
    user = accounts.sign_up_owner(hub, email=body.email, password=body.password, display_name=body.display_name,
                                  kind=body.kind, organisation=body.organisation, prefs=prefs, source=source)
    return {"id": user.id, "email": user.email}


__all__ = ["router", "SessionDep"]
