"""`rtcc edge ...`: run the box, enrol it, find cameras, print its access log.

Errors are one line on stderr naming what is wrong (the file and key for a bad edge.toml, the camera for an
unsafe URL); exit status 0 on success, 1 when the work found nothing or failed (no cameras discovered, the
hub refused or unreachable, the box's own files unusable), 2 for a bad configuration, a box not enrolled or
bad arguments.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from openrtcc.domain.errors import DomainError
from openrtcc.edge.config import EdgeConfig, load_edge_config
from openrtcc.edge.day_keys import DayKeyError

log = logging.getLogger(__name__)
# Failures of the hub or the network rather than of the configuration or the command line.
_NOT_THE_OWNERS_INPUT = ("hub_unreachable", "hub_untrusted", "enrolment_refused", "plate_reader_unavailable")


def run_edge_command(args) -> int:
    command = getattr(args, "edge_command", None) or "run"
    handler = {"run": _run, "enrol": _enrol, "discover": _discover, "log": _log}[command]
    try:
        return handler(args)
    except DomainError as exc:
        print(f"rtcc edge {command}: {exc.message}", file=sys.stderr)
        return 1 if exc.code in _NOT_THE_OWNERS_INPUT else 2
    except (DayKeyError, OSError) as exc:  # the box's own files: unreadable keys, a data_dir it cannot write
        print(f"rtcc edge {command}: {exc}", file=sys.stderr)
        return 1


def _config(args) -> EdgeConfig:
    return load_edge_config(Path(args.config))


def _run(args) -> int:
    from openrtcc.edge.agent import run_agent

    return run_agent(_config(args))


def _enrol(args) -> int:
    from openrtcc.edge.enrolment import enrol

    creds = enrol(_config(args), args.code)
    print(f"enrolled: this box is edge {creds.edge_id} on {creds.hub_url}")
    return 0


def _log(args) -> int:
    from openrtcc.edge.access_log import print_log

    return print_log(_config(args), limit=args.limit)


def _discover(args) -> int:
    from openrtcc.edge.discovery import CameraAccount, cameras_toml, discover_cameras, parse_probe_address
    from openrtcc.edge.onvif_soap import OnvifError
    from openrtcc.edge.url_guard import hub_endpoints

    try:
        target = parse_probe_address(args.probe_address) if args.probe_address else None
    except ValueError as exc:
        print(f"rtcc edge discover: {exc}", file=sys.stderr)
        return 2
    if not 0 < args.timeout <= 60:
        print("rtcc edge discover: --timeout must be between 0 and 60 seconds", file=sys.stderr)
        return 2
    account = None
    if args.username:
        password = os.environ.get(args.password_env)
        if password is None:
            print(f"rtcc edge discover: set {args.password_env} to the password of camera account "
                  f"{args.username!r}", file=sys.stderr)
            return 2
        account = CameraAccount(args.username, password)
    # When the box is configured, the hub's own addresses are refused as camera addresses here too.
    hub = hub_endpoints(_config(args).edge.hub_url) if Path(args.config).is_file() else []
    try:
        result = discover_cameras(timeout=args.timeout, probe_address=target, credentials=account, hub=hub)
    except OnvifError as exc:  # the probe address does not resolve
        print(f"rtcc edge discover: {exc}", file=sys.stderr)
        return 2
    for problem in result.problems:
        print(problem, file=sys.stderr)
    if not result.cameras:
        print("rtcc edge discover: no usable ONVIF camera answered", file=sys.stderr)
        return 1
    sys.stdout.write(cameras_toml(result.cameras, args.username))
    print(f"found {len(result.cameras)} camera(s); review the entries, then add them to edge.toml",
          file=sys.stderr)
    return 0
