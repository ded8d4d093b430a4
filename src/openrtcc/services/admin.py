"""Hub operator actions done from the command line: agencies and their first administrator."""

from __future__ import annotations

import re

from openrtcc.domain.accounts import Role, User, check_password
from openrtcc.domain.audit import AuditEntry
from openrtcc.domain.errors import Conflict, InvalidInput
from openrtcc.services.accounts import normalise_email
from openrtcc.services.hub import Hub

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


def create_agency(hub: Hub, *, slug: str, name: str, jurisdiction: dict, admin_email: str,
                  admin_password: str) -> str:
    if not SLUG_RE.match(slug):
        raise InvalidInput("slug: 2-63 lower-case letters, digits or '-'", code="bad_slug")
    email = normalise_email(admin_email)
    check_password(admin_password, email, hub.password_blocklist)
    with hub.uow() as uow:
        if uow.accounts.agency_by_slug(slug):
            raise Conflict(f"an agency with slug {slug} exists", code="slug_taken")
        if uow.accounts.by_email(email):
            raise Conflict("an account with this email already exists", code="email_taken")
        now = hub.clock.now()
        agency_id = hub.ids.new_id()
        uow.accounts.add_agency(agency_id, slug, name.strip(), jurisdiction, now)
        admin = User(hub.ids.new_id(), email, f"{name.strip()} administrator", Role.ADMIN, agency_id,
                     hub.passwords.hash(admin_password), None, False, None, None, False, now, None)
        uow.accounts.add_user(admin)
        uow.record(AuditEntry("agency.create", "success", None, agency_id, f"agency:{agency_id}", "cli",
                              {"slug": slug, "admin": admin.id}))
        uow.commit()
        return agency_id
