"""`rtcc audit anchor` and `rtcc audit verify-anchor`: sign the audit chain's head; check a chain against one."""

from __future__ import annotations


def add_parsers(asub) -> None:
    """Adds the anchoring sub-commands beside `rtcc audit verify`."""


def run(args) -> int:
    raise SystemExit(f"rtcc audit {args.audit_command}: not built yet")
