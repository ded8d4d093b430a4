"""`rtcc evidence`: export a case as a signed BagIt package, and verify one."""

from __future__ import annotations


def add_parser(sub) -> None:
    sub.add_parser("evidence", help="export a case as a signed BagIt package, and verify one.")


def run(args) -> int:
    raise SystemExit("rtcc evidence: not built yet")
