"""`rtcc integration`: create and list inbound integrations (CAD, gunshot detection)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from openrtcc.config import Settings
from openrtcc.domain.errors import DomainError


def _config(path: str | None) -> dict | None:
    if path is None:
        return None
    try:
        doc = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise SystemExit(f"integration create: cannot read {path}: {exc}") from None
    if not isinstance(doc, dict):
        raise SystemExit(f"integration create: {path} must hold a JSON object")
    return doc


def run_integration(args) -> int:
    from openrtcc.bootstrap import build_hub
    from openrtcc.services import integrations_in

    config = _config(getattr(args, "config", None)) if args.integration_command == "create" else None
    hub = build_hub(Settings())
    try:
        if args.integration_command == "create":
            made, secret = integrations_in.create_for_agency(hub, args.agency, args.kind, args.name, config)
            found = [(args.agency, made)]
        else:
            found, secret = integrations_in.list_for_agencies(hub, args.agency), None
    except DomainError as exc:
        print(f"integration {args.integration_command}: {exc.message}", file=sys.stderr)
        for problem in exc.details.get("problems", [])[1:]:
            print(f"  {problem['field']}: {problem['message']}", file=sys.stderr)
        return 1
    finally:
        hub.extras["engine"].dispose()
    for slug, i in found:
        state = f"revoked {i.revoked_at:%Y-%m-%d}" if i.revoked_at else "active"
        codes = f", call codes mapped: {len(i.config.get('codes', {}))}" if i.kind == "cad" else ""
        print(f"{i.id}  {slug}  {i.kind}  {i.name!r}  {state}{codes}")
        print(f"    webhook: POST {hub.base_url}/api/integrations/{i.id}/{i.kind}")
    if secret is not None:
        print(f"signing secret (shown once; put it in the sending system): {secret}")
        print("sign each call: X-RTCC-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of \"<t>.<delivery id>.<body>\">"
              " and X-RTCC-Delivery: <unique delivery id>  (see docs/command-center.md)")
    elif not found:
        print("no integrations")
    return 0
