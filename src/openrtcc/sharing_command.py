"""`rtcc sharing`: grants between agencies (deny by default): grant, list, revoke."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta

from openrtcc.command_agencies import agencies_named
from openrtcc.config import Settings
from openrtcc.domain.errors import DomainError, InvalidInput

CLI_ACTOR = "rtcc-sharing-cli"


def add_parser(sub) -> None:
    p = sub.add_parser("sharing", help="grants between agencies (deny by default): grant, list, revoke.")
    ssub = p.add_subparsers(dest="sharing_command", required=True)
    g = ssub.add_parser("grant", help="let one other agency see one kind of an agency's data, for named purposes, "
                                      "until an expiry")
    g.add_argument("--from", dest="from_agency", required=True, help="slug of the agency whose data is shared")
    g.add_argument("--to", dest="to_agency", required=True, help="slug of the recipient agency")
    g.add_argument("--kind", required=True, choices=["plate_reads", "hot_lists", "camera_locations"])
    g.add_argument("--purpose", action="append", required=True,
                   help="a purpose code (repeat for several): see docs/governance/sharing.md")
    ends = g.add_mutually_exclusive_group(required=True)
    ends.add_argument("--days", type=int, help="the grant ends this many days from now (at most 365; 90 federal)")
    ends.add_argument("--expires", help="the grant ends at this ISO date-time (UTC when no zone is given)")
    g.add_argument("--federal-one-to-one", action="store_true",
                   help="acknowledge a grant to a federal agency as an explicit one-to-one grant")
    g.add_argument("--note", help="the agreement it rests on (MOU number, ...)")
    ls = ssub.add_parser("list", help="the grants an agency gave and received, or every grant")
    ls.add_argument("--agency", help="slug; without it, every agency's")
    r = ssub.add_parser("revoke", help="end a grant now")
    r.add_argument("grant_id")
    r.add_argument("--agency", required=True, help="slug of the agency that gave the grant")


def run(args) -> int:
    from openrtcc.bootstrap import build_hub

    hub = build_hub(Settings())
    try:
        handler = {"grant": _grant, "list": _list, "revoke": _revoke}[args.sharing_command]
        return handler(hub, args)
    except DomainError as exc:
        print(f"sharing {args.sharing_command}: {exc.message} ({exc.code}); nothing changed", file=sys.stderr)
        return 1
    finally:
        hub.extras["engine"].dispose()


def _expiry(hub, args) -> datetime:
    if args.days is not None:
        return hub.clock.now() + timedelta(days=args.days)
    try:
        at = datetime.fromisoformat(args.expires)
    except ValueError:
        raise InvalidInput(f"--expires {args.expires!r} is not an ISO date or date-time", code="bad_expiry") from None
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _grant(hub, args) -> int:
    from openrtcc.services.hotlists import system_actor
    from openrtcc.services.sharing import GrantRequest, create_grant

    (source,) = agencies_named(hub, args.from_agency)
    req = GrantRequest(args.to_agency, args.kind, args.purpose, _expiry(hub, args), args.federal_one_to_one,
                       args.note)
    v = create_grant(hub, system_actor(source.id, CLI_ACTOR), req)
    print(f"grant {v.grant.id}: {v.from_agency[0]} -> {v.to_agency[0]}, {v.grant.data_kind.value} for "
          f"{', '.join(sorted(v.grant.purposes))}, until {v.grant.expires_at:%Y-%m-%d %H:%M} UTC")
    return 0


def _list(hub, args) -> int:
    from openrtcc.services.hotlists import system_actor
    from openrtcc.services.sharing import list_grants

    print(f"{'agency':<16} {'grant':<36} {'dir':<8} {'other':<16} {'kind':<16} {'until (UTC)':<16} "
          f"{'status':<7} purposes")
    for agency in agencies_named(hub, getattr(args, "agency", None)):
        for v in list_grants(hub, system_actor(agency.id, CLI_ACTOR)):
            other = v.to_agency if v.direction == "given" else v.from_agency
            federal = " [federal one-to-one]" if v.grant.federal_one_to_one else ""
            print(f"{agency.slug:<16} {v.grant.id:<36} {v.direction:<8} {other[0]:<16} "
                  f"{v.grant.data_kind.value:<16} {v.grant.expires_at:%Y-%m-%d %H:%M} {v.status:<7} "
                  f"{','.join(sorted(v.grant.purposes))}{federal}")
    return 0


def _revoke(hub, args) -> int:
    from openrtcc.services.hotlists import system_actor
    from openrtcc.services.sharing import revoke_grant

    (agency,) = agencies_named(hub, args.agency)
    v = revoke_grant(hub, system_actor(agency.id, CLI_ACTOR), args.grant_id)
    print(f"grant {v.grant.id} revoked: {v.to_agency[0]} no longer sees {agency.slug}'s {v.grant.data_kind.value}")
    return 0
