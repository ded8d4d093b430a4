"""`rtcc source create`: a read source for an agency, its key printed once (the hub keeps only a digest)."""

from __future__ import annotations

import sys

from openrtcc.config import Settings
from openrtcc.domain.errors import DomainError


def run_source(args) -> int:
    from openrtcc.bootstrap import build_hub
    from openrtcc.services.read_sources import create_source_for_agency

    hub = build_hub(Settings())
    try:
        source, key = create_source_for_agency(hub, args.agency, args.name, args.kind, args.default_state)
    except DomainError as exc:
        print(f"source {args.source_command}: {exc.message}", file=sys.stderr)
        return 1
    finally:
        hub.extras["engine"].dispose()
    print(f"read source {source.name!r} ({source.kind}) created for agency {args.agency}: id {source.id}")
    print(f"ingest key (shown once; the hub keeps only its SHA-256): {key}")
    print("send reads with:  POST /api/ingest/reads   Authorization: Bearer <key>")
    return 0
