"""`rtcc sharing`: grants between agencies (deny by default): grant, list, revoke."""

from __future__ import annotations


def add_parser(sub) -> None:
    sub.add_parser("sharing", help="grants between agencies (deny by default): grant, list, revoke.")


def run(args) -> int:
    raise SystemExit("rtcc sharing: not built yet")
