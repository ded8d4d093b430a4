"""`rtcc governance`: show and set an agency's retention, prohibited purposes, search limits and policy text."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

from openrtcc.config import Settings
from openrtcc.domain.errors import DomainError, InvalidInput


def add_parser(sub) -> None:
    p = sub.add_parser("governance", help="show and set an agency's retention, prohibited purposes, search limits "
                                          "and policy text.")
    gsub = p.add_subparsers(dest="governance_command", required=True)
    s = gsub.add_parser("show", help="print an agency's governance settings")
    s.add_argument("--agency", required=True, help="the agency's slug")
    s = gsub.add_parser("set", help="change settings; those not given keep their values (audited as the CLI)")
    s.add_argument("--agency", required=True, help="the agency's slug")
    s.add_argument("--kind", choices=["local", "county", "state", "tribal", "federal"])
    s.add_argument("--retention-days", type=int, help="1 to 30; a legal hold keeps a case longer")
    s.add_argument("--prohibit", action="append", metavar="PURPOSE", help="a purpose code to prohibit (repeatable)")
    s.add_argument("--allow", action="append", metavar="PURPOSE", help="a prohibited purpose code to allow again")
    s.add_argument("--search-camera-limit", type=int, help="area searches over more cameras need approval")
    s.add_argument("--repeat-search-threshold", type=int)
    s.add_argument("--repeat-search-window-hours", type=int)
    s.add_argument("--policy-file", help="a UTF-8 text file: the policy published on the transparency portal")


def run(args) -> int:
    from openrtcc.bootstrap import build_hub
    from openrtcc.services import governance_settings

    hub = build_hub(Settings())
    try:
        if args.governance_command == "show":
            name, g = governance_settings.show_for_agency(hub, args.agency)
        else:
            changes = _changes(args, governance_settings.show_for_agency(hub, args.agency)[1])
            g = governance_settings.update_for_agency(hub, args.agency, changes)
            name = args.agency
    except DomainError as exc:
        print(f"governance {args.governance_command}: {exc.message}", file=sys.stderr)
        return 1
    finally:
        hub.extras["engine"].dispose()
    _print(name, g)
    return 0


def _changes(args, current):
    from openrtcc.services.governance_settings import GovernanceChanges

    prohibited = None
    if args.prohibit or args.allow:
        prohibited = sorted((set(current.prohibited_purposes) | set(args.prohibit or ())) - set(args.allow or ()))
    policy = None
    if args.policy_file:
        try:
            policy = Path(args.policy_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"cannot read {args.policy_file}: {exc}", code="bad_policy_file") from None
    return GovernanceChanges(kind=args.kind, retention_days=args.retention_days, prohibited_purposes=prohibited,
                             search_camera_limit=args.search_camera_limit,
                             repeat_search_threshold=args.repeat_search_threshold,
                             repeat_search_window_hours=args.repeat_search_window_hours, policy_text=policy)


def _print(name: str, g) -> None:
    print(f"agency: {name}  ({g.kind.value})")
    print(f"retention: {g.retention_days} days")
    print(f"prohibited purposes: {', '.join(sorted(g.prohibited_purposes)) or 'none'}")
    print(f"search camera limit: {g.search_camera_limit} cameras (more needs a supervisor's approval)")
    print(f"repeat-search alarm: {g.repeat_search_threshold} searches within "
          f"{int(g.repeat_search_window / timedelta(hours=1))} hours")
    print(f"policy text: {len(g.policy_text)} characters" + (f"\n{g.policy_text}" if g.policy_text else ""))
