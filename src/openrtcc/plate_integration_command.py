"""`rtcc plate-integration`: attach Frigate brokers and Plate Recognizer webhooks to read sources."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from openrtcc.config import Settings
from openrtcc.domain.errors import DomainError

PASSWORD_ENV = "RTCC_FRIGATE_PASSWORD"


def run_plate_integration(args) -> int:
    from openrtcc.bootstrap import build_hub

    settings = Settings()
    hub = build_hub(settings)
    try:
        if args.plate_integration_command == "create":
            return _create(hub, settings, args)
        return _list(hub, settings)
    except DomainError as exc:
        print(f"plate-integration {args.plate_integration_command}: {exc.message}", file=sys.stderr)
        return 1
    finally:
        hub.extras["engine"].dispose()


def _create(hub, settings: Settings, args) -> int:
    from openrtcc.services.plate_integrations import create_for_source

    try:
        config = json.loads(Path(args.config).read_text())
    except (OSError, ValueError) as exc:
        print(f"plate-integration create: cannot read {args.config}: {exc}", file=sys.stderr)
        return 1
    if not isinstance(config, dict):
        print("plate-integration create: the config file holds one JSON object", file=sys.stderr)
        return 1
    # The broker password is the integration's secret, not part of its config: from the file or the environment.
    password = config.pop("password", None) or os.environ.get(PASSWORD_ENV) or None
    integration, token = create_for_source(hub, args.source, args.kind, config, password)
    print(f"{integration.kind} integration created for read source {integration.read_source_id}: id {integration.id}")
    if token:
        print(f"webhook URL: {settings.base_url.rstrip('/')}/api/ingest/plate-recognizer/{integration.id}")
        print(f"token (shown once; the hub keeps only its SHA-256): {token}")
        print("in Stream's config.ini:  webhook_header = Authorization: Token <token>")
    else:
        print(f"the hub subscribes to {integration.config['broker_url']} within 10 s of starting (or now, if it runs)")
    return 0


def _list(hub, settings: Settings) -> int:
    from openrtcc.services.plate_integrations import list_all

    for i in list_all(hub):
        state = "enabled" if i.enabled else "disabled"
        where = (i.config.get("broker_url") if i.kind == "frigate"
                 else f"{settings.base_url.rstrip('/')}/api/ingest/plate-recognizer/{i.id}")
        link = ""
        if i.kind == "frigate":
            why = i.status.get("last_error") or "starting"
            link = " connected" if i.status.get("connected") else f" not connected ({why})"
        print(f"{i.id}  {i.kind:16} {state:8} source {i.read_source_id}  {len(i.config.get('cameras', {}))} cameras  "
              f"{where}{link}")
    return 0
