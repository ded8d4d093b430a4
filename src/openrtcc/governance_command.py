"""`rtcc governance`: show and set an agency's retention, prohibited purposes, search limits and policy text."""

from __future__ import annotations


def add_parser(sub) -> None:
    sub.add_parser("governance", help="show and set an agency's retention, prohibited purposes, search limits and policy text.")


def run(args) -> int:
    raise SystemExit("rtcc governance: not built yet")
