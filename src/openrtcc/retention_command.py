"""`rtcc retention`: run the purge, read its deletion reports, place and release legal holds."""

from __future__ import annotations

import json
import sys

from openrtcc.config import Settings
from openrtcc.domain.errors import DomainError, NotFound

CLI_SOURCE = "rtcc-retention-cli"


def add_parser(sub) -> None:
    p = sub.add_parser("retention", help="run the purge, read its deletion reports, place and release legal holds.")
    rsub = p.add_subparsers(dest="retention_command", required=True)
    r = rsub.add_parser("run", help="run the purge now (the served hub also runs it on a schedule)")
    r.add_argument("--accept-clock-jump", action="store_true",
                   help="run although the clock check failed: only once you know the clock is right (audited)")
    r.add_argument("--dry-run", action="store_true", help="count what would be deleted; delete nothing")
    r.add_argument("--json", action="store_true", help="print the whole deletion report as JSON")
    r = rsub.add_parser("report", help="the latest purges and their deletion reports")
    r.add_argument("--last", type=int, default=5, help="how many runs (default 5)")
    r.add_argument("--json", action="store_true", help="print the reports as JSON")
    h = rsub.add_parser("hold", help="legal holds: keep a case's evidence past retention")
    hsub = h.add_subparsers(dest="hold_command", required=True)
    for name, text in (("place", "place a legal hold on a case"), ("release", "release a case's legal hold"),
                       ("list", "list an agency's legal holds")):
        c = hsub.add_parser(name, help=text)
        c.add_argument("--agency", required=True, help="the agency's slug")
        if name != "list":
            c.add_argument("--case", required=True, help="the case number")
            c.add_argument("--as", dest="as_email", required=True,
                           help="the email of the supervisor or analyst on whose authority this is done (audited)")
        if name == "place":
            c.add_argument("--reason", required=True, help="the order, preservation letter or matter")


def run(args) -> int:
    from openrtcc.bootstrap import build_hub

    hub = build_hub(Settings())
    try:
        if args.retention_command == "run":
            return _run(hub, args)
        if args.retention_command == "report":
            return _report(hub, args)
        return _hold(hub, args)
    except DomainError as exc:
        print(f"retention: {exc.message}", file=sys.stderr)
        return 1
    finally:
        hub.extras["engine"].dispose()


def _run(hub, args) -> int:
    from openrtcc.services.retention import run_purge

    report = run_purge(hub, "cli", args.accept_clock_jump, dry_run=args.dry_run)
    if args.json:
        print(report.model_dump_json(indent=2))
    else:
        _print_report(report)
    return 0 if report.outcome == "done" else 3


def _print_report(report) -> None:
    what = "dry run" if report.dry_run else "run"
    print(f"{what} {report.run_id} ({report.trigger}) at {report.started_at:%Y-%m-%d %H:%M:%S} UTC: "
          f"{report.outcome}" + (f" - {report.reason}" if report.reason else ""))
    for a in report.agencies:
        deleted = ", ".join(f"{k} {n}" for k, n in sorted(a.deleted.items()) if n) or "nothing"
        kept = ", ".join(f"{k} {n}" for k, n in sorted(a.kept_by_holds.items()) if n) or "none"
        print(f"  agency {a.agency_id}: {a.retention_days} days (cutoff {a.cutoff:%Y-%m-%d %H:%M}); deleted: "
              f"{deleted}; files {a.files_deleted}, orphan files {a.orphan_files_deleted}; kept by holds: {kept}; "
              f"rows with a missing file: {a.missing_files}")
    if report.hub_deleted:
        print("  hub-wide: " + ", ".join(f"{k} {n}" for k, n in sorted(report.hub_deleted.items())))
    if report.partitions_dropped:
        print(f"  partitions dropped: {', '.join(report.partitions_dropped)} ({report.partition_reads} reads)")
    if report.partitions_busy:
        print(f"  partitions due but busy (their reads went by DELETE; dropped next run): "
              f"{', '.join(report.partitions_busy)}")
    if report.storage:
        print(f"  storage: {report.storage}")


def _report(hub, args) -> int:
    with hub.uow().reading() as uow:
        runs = uow.retention.runs(max(1, min(args.last, 200)))
    if args.json:
        print(json.dumps([r.report.model_dump(mode="json") for r in runs if r.report], indent=2))
        return 0
    if not runs:
        print("no retention run yet")
    for run in runs:
        if run.report is not None:
            _print_report(run.report)
    return 0


def _hold(hub, args) -> int:
    from openrtcc.services import legal_holds

    if args.hold_command == "list":
        actor = _agency_actor(hub, args.agency, None)
        for h in legal_holds.list_holds(hub, actor):
            state = f"released {h.released_at:%Y-%m-%d}" if h.released_at else "ACTIVE"
            print(f"{h.id}  case {h.case_number:<20} {state:<20} placed {h.created_at:%Y-%m-%d}  {h.reason}")
        return 0
    actor = _agency_actor(hub, args.agency, args.as_email)
    if args.hold_command == "place":
        hold = legal_holds.place_hold(hub, actor, args.case, args.reason)
        print(f"legal hold {hold.id} placed on case {hold.case_number}")
        return 0
    held = [h for h in legal_holds.list_holds(hub, actor, active_only=True) if h.case_number == args.case.strip()]
    if not held:
        raise NotFound(f"case {args.case} has no active legal hold")
    legal_holds.release_hold(hub, actor, held[0].id)
    print(f"legal hold {held[0].id} on case {held[0].case_number} released")
    return 0


def _agency_actor(hub, slug: str, email: str | None):
    """The named user when one is given (holds are placed on a person's authority), else the CLI as the
    agency's auditor-like reader."""
    from openrtcc.domain.accounts import Role
    from openrtcc.services.hub import Actor

    with hub.uow().reading() as uow:
        agency = uow.accounts.agency_by_slug(slug)
        user = uow.accounts.by_email(email.strip().lower()) if email else None
    if agency is None:
        raise NotFound(f"no agency {slug!r}")
    if email is None:
        return Actor(f"system:{CLI_SOURCE}", Role.AUDITOR, agency.id, CLI_SOURCE)
    if user is None or user.agency_id != agency.id or user.disabled:
        raise NotFound(f"no active user {email!r} in agency {slug!r}")
    return Actor(user.id, Role(user.role), agency.id, CLI_SOURCE)
