"""`rtcc retention`: run the purge, read its deletion reports, place and release legal holds."""

from __future__ import annotations


def add_parser(sub) -> None:
    sub.add_parser("retention", help="run the purge, read its deletion reports, place and release legal holds.")


def run(args) -> int:
    raise SystemExit("rtcc retention: not built yet")
