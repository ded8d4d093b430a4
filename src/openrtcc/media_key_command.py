"""`rtcc keys`: each agency's media key (envelope encryption at rest): create, list, rotate."""

from __future__ import annotations


def add_parser(sub) -> None:
    sub.add_parser("keys", help="each agency's media key (envelope encryption at rest): create, list, rotate.")


def run(args) -> int:
    raise SystemExit("rtcc keys: not built yet")
