"""`rtcc hotlist import|list`: the operator's path to hot lists, audited as a named system actor."""

from __future__ import annotations

import sys
from pathlib import Path

from openrtcc.command_agencies import agencies_named
from openrtcc.config import Settings
from openrtcc.domain.errors import DomainError
from openrtcc.domain.hotlist_formats import MAX_FILE_BYTES

CLI_ACTOR = "rtcc-hotlist-cli"


def run_hotlist(args) -> int:
    from openrtcc.bootstrap import build_hub

    hub = build_hub(Settings())
    try:
        return _import(hub, args) if args.hotlist_command == "import" else _list(hub, getattr(args, "agency", None))
    except DomainError as exc:
        print(f"hotlist {args.hotlist_command}: {exc.message}", file=sys.stderr)
        return 1
    finally:
        hub.extras["engine"].dispose()


def _import(hub, args) -> int:
    from openrtcc.services.hotlists import import_hot_list, system_actor

    path = Path(args.file)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            print(f"{path}: larger than {MAX_FILE_BYTES // (1024 * 1024)} MB; nothing imported", file=sys.stderr)
            return 1
        data = path.read_bytes()
    except OSError as exc:
        print(f"{path}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    (agency,) = agencies_named(hub, args.agency)
    try:
        r = import_hot_list(hub, system_actor(agency.id, CLI_ACTOR), name=args.list_name, fmt=args.format,
                            data=data, stale_after_hours=args.stale_after_hours)
    except DomainError as exc:
        print(f"{path}: {exc.message}; nothing imported, the list in force is unchanged", file=sys.stderr)
        return 1
    print(f"{agency.slug}/{r.list.name}: version {r.list.version}, {r.list.entry_count} entries "
          f"({r.records} lines, {r.duplicates} duplicate, {r.added} new, {r.removed} gone); "
          f"back-check: {r.back_check.reads_checked} reads checked, {r.back_check.alerts} alerts")
    return 0


def _list(hub, slug: str | None) -> int:
    from openrtcc.services.hotlists import list_hot_lists, system_actor

    print(f"{'agency':<16} {'list':<32} {'format':<7} {'entries':>9} {'ver':>4}  {'refreshed (UTC)':<17} stale")
    for agency in agencies_named(hub, slug):
        for v in list_hot_lists(hub, system_actor(agency.id, CLI_ACTOR)):
            refreshed = f"{v.refreshed_at:%Y-%m-%d %H:%M}" if v.refreshed_at else "never"
            stale = f"ALARM since {v.stale_alarm_at:%Y-%m-%d %H:%M}" if v.stale_alarm_at else (
                f"ok (limit {v.stale_after_hours} h)" if v.stale_after_hours else "-")
            print(f"{agency.slug:<16} {v.name:<32} {v.format:<7} {v.entry_count:>9} {v.version:>4}  "
                  f"{refreshed:<17} {stale}")
    return 0
