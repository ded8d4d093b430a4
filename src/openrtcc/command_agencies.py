"""The agencies an `rtcc` command names: one by its slug, or all of them."""

from __future__ import annotations

from openrtcc.domain.errors import NotFound


def agencies_named(hub, slug: str | None) -> list:
    """The agency rows for `--agency SLUG` (NotFound when there is none), or every agency when no slug is given."""
    with hub.uow() as uow:
        rows = [uow.accounts.agency_by_slug(slug)] if slug else uow.accounts.agencies()
        uow.rollback()
    if rows == [None]:
        raise NotFound(f"no agency {slug!r}", code="unknown_agency")
    return rows
