"""The `rtcc` command: hub, demo, audit verification, benchmarks and administration."""

from __future__ import annotations

import argparse
import logging
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="rtcc", description="OpenRTCC: community camera network hub.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="run the hub (API, portal and map)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)

    p = sub.add_parser("demo", help="run the hub with a demo city loaded (embedded storage)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--cameras", type=int, default=6000, help="how many demo cameras to place")
    p.add_argument("--data-dir", default="rtcc-data/demo", help="where the demo city is stored")
    p.add_argument("--fresh", action="store_true", help="discard an existing demo city and seed again")
    p.add_argument("--seed-only", action="store_true", help="seed and exit without serving")

    p = sub.add_parser("demo-code", help="print the current authenticator code of the demo's agency accounts")
    p.add_argument("--data-dir", default="rtcc-data/demo", help="where the demo city is stored")

    p = sub.add_parser("audit", help="audit chain tools")
    asub = p.add_subparsers(dest="audit_command", required=True)
    asub.add_parser("verify", help="recompute the audit chain; exit 1 naming the first bad record")

    p = sub.add_parser("bench", help="benchmarks; figures go to docs/benchmarks.md")
    bsub = p.add_subparsers(dest="bench_command", required=True)
    b = bsub.add_parser("registry", help="registry benchmark: registration, radius search, map load")
    b.add_argument("--cameras", type=int, default=100_000)
    b.add_argument("--output", default="docs/benchmarks.md")
    b.add_argument("--no-browser", action="store_true", help="skip the map-load measurement in Chromium")

    p = sub.add_parser("agency", help="agency administration")
    gsub = p.add_subparsers(dest="agency_command", required=True)
    g = gsub.add_parser("create", help="create an agency with its jurisdiction and first administrator")
    g.add_argument("--slug", required=True)
    g.add_argument("--name", required=True)
    g.add_argument("--jurisdiction", required=True, help="GeoJSON file: Polygon, MultiPolygon or Feature")
    g.add_argument("--admin-email", required=True)

    p = sub.add_parser("migrate", help="bring the database schema up to date")

    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Alembic and the HTTP client narrate every step at INFO; the operator wants our messages, and warnings.
    for chatty in ("alembic", "httpx"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    from openrtcc import commands

    return commands.run(args)


if __name__ == "__main__":
    sys.exit(main())
