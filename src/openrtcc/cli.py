"""The `rtcc` command: hub, demo, audit verification, benchmarks and administration."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    from openrtcc import audit_anchor_command, evidence_command, media_key_command, retention_command, sharing_command
    from openrtcc import governance_command as governance_settings_command
    from openrtcc import backup_command

    parser = argparse.ArgumentParser(prog="rtcc", description="OpenRTCC: community camera network hub.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="run the hub (API, portal and map)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--reuse-port", action="store_true",
                   help="share the port with other `rtcc serve` processes on this machine (SO_REUSEPORT): the "
                        "kernel spreads connections over them")
    p.add_argument("--private-port", type=int, default=None,
                   help="also listen on this port, for this process alone: its /healthz, /readyz and /metrics when "
                        "several processes share --port")

    p = sub.add_parser("worker", help="city mode: store and match plate reads, disseminate, deliver, purge and "
                                      "anchor (needs RTCC_NATS_URL and PostgreSQL); start more to scale out")
    p.add_argument("--host", default="127.0.0.1", help="where the worker answers health and metrics")
    p.add_argument("--port", type=int, default=9100, help="port of the worker's /healthz, /readyz and /metrics")

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
    audit_anchor_command.add_parsers(asub)

    p = sub.add_parser("bench", help="benchmarks; figures go to docs/benchmarks.md")
    bsub = p.add_subparsers(dest="bench_command", required=True)
    b = bsub.add_parser("registry", help="registry benchmark: registration, radius search, map load")
    b.add_argument("--cameras", type=int, default=100_000)
    b.add_argument("--output", default="docs/benchmarks.md")
    b.add_argument("--no-browser", action="store_true", help="skip the map-load measurement in Chromium")
    b = bsub.add_parser("alpr", help="plate-reader accuracy and speed on the evaluation sets")
    b.add_argument("--data-dir", default="../shared/data/alpr", help="the labelled evaluation sets")
    b.add_argument("--model-dir", default=None, help="plate-reader model files (else RTCC_MODEL_DIR, cache)")
    b.add_argument("--sets", default=None, help="comma-separated subset of the sets to score")
    b.add_argument("--output", default="docs/benchmarks.md")
    b = bsub.add_parser("hotlist", help="hot-list matcher: throughput, memory, misses against brute force")
    b.add_argument("--entries", type=int, default=1_000_000)
    b.add_argument("--reads", type=int, default=100_000)
    b.add_argument("--seed", type=int, default=7)
    b.add_argument("--check-reads", type=int, default=2_000,
                   help="how many reads the per-entry brute force checks (10^6 comparisons each; every read is "
                        "checked by the exhaustive edit-neighbourhood reference)")
    b.add_argument("--output", default="docs/benchmarks.md")
    b = bsub.add_parser("alerts", help="plate read ingest -> WebSocket alert delivery latency")
    b.add_argument("--rate", type=float, default=200.0, help="reads per second sent")
    b.add_argument("--seconds", type=float, default=30.0, help="how long to send")
    b.add_argument("--output", default="docs/benchmarks.md")
    b = bsub.add_parser("edge", help="edge box: concurrent recording, plate reading on the sample clip, live "
                                     "view glass-to-glass latency")
    b.add_argument("--parts", default="record,alpr,live", help="comma-separated: record, alpr, live")
    b.add_argument("--streams", type=int, default=100, help="concurrent 720p streams recorded")
    b.add_argument("--seconds", type=float, default=60.0, help="how long the recording part runs")
    b.add_argument("--video", default="../shared/data/alpr/video/cars.mp4", help="the 720p H.264 sample clip")
    b.add_argument("--model-dir", default=None, help="plate-reader model files (else RTCC_MODEL_DIR, cache)")
    b.add_argument("--output", default="docs/benchmarks.md")
    b = bsub.add_parser("dissemination", help="alert -> handed to every subscribed channel (SMTP, SMS/push via "
                                              "apprise, webhooks, MQTT, WebSocket) against real local servers")
    b.add_argument("--rate", type=float, default=100.0, help="alerts per second")
    b.add_argument("--seconds", type=float, default=30.0, help="how long to send")
    b.add_argument("--subscribers", type=int, default=10_000)
    b.add_argument("--incident-share", type=float, default=0.1,
                   help="share of --rate that are incidents opened through the API (the rest: plate hits)")
    b.add_argument("--output", default="docs/benchmarks.md")
    b = bsub.add_parser("wall", help="a live video wall of integrated cameras in one headless Chromium tab")
    b.add_argument("--tiles", type=int, default=16)
    b.add_argument("--seconds", type=float, default=30.0, help="how long the wall plays once every tile started")
    b.add_argument("--video", default="../shared/data/alpr/video/cars.mp4", help="the 720p H.264 sample clip")
    b.add_argument("--output", default="docs/benchmarks.md")
    b = bsub.add_parser("read-expiry", help="PostgreSQL: expiring a day of plate reads by partition drop and by "
                                            "DELETE, in a scratch database")
    b.add_argument("--pg-url", default=None, help="a database on the server where the scratch database may be "
                                                  "created (else RTCC_TEST_PG_URL, else the local rtcc role's)")
    b.add_argument("--reads-per-day", type=int, default=200_000)
    b.add_argument("--days", type=int, default=3, help="day partitions besides the one dropped")
    b.add_argument("--output", default="docs/benchmarks.md")
    b = bsub.add_parser("city", help="city scale on loopback: NATS + PostgreSQL + N serve processes, edge boxes "
                                     "posting plate reads, operators holding /ws/alerts; per process count")
    b.add_argument("--cameras", type=int, default=40_000)
    b.add_argument("--edges", type=int, default=2_000, help="simulated edge boxes posting reads")
    b.add_argument("--rate", type=float, default=500.0, help="plate reads per second offered (open loop)")
    b.add_argument("--hit-share", type=float, default=0.1, help="share of reads that are hot-list hits")
    b.add_argument("--operators", type=int, default=200, help="logged-on operators each holding /ws/alerts")
    b.add_argument("--seconds", type=float, default=600.0, help="how long the reads are sent")
    b.add_argument("--serve", default="1,3", help="comma-separated serve process counts, one run each")
    b.add_argument("--workers", type=int, default=1, help="rtcc worker processes")
    b.add_argument("--pg-url", default=None, help="a database on the server where the scratch databases may be "
                                                  "created (else RTCC_TEST_PG_URL, else the local rtcc role's)")
    b.add_argument("--note", default=None, help="a line written under the section's title (how the run was made)")
    b.add_argument("--output", default="docs/benchmarks.md")

    p = sub.add_parser("edge", help="the edge agent: run it (--config edge.toml), enrol it, find cameras")
    p.add_argument("--config", default="edge.toml", help="the box's configuration file")
    esub = p.add_subparsers(dest="edge_command", required=False)
    e = esub.add_parser("run", help="run the agent (the default when no sub-command is given)")
    e = esub.add_parser("enrol", help="enrol this box with the hub using the one-time code from the owner portal")
    e.add_argument("--code", required=True, help="the one-time enrolment code")
    e = esub.add_parser("discover", help="find ONVIF cameras on the LAN and print edge.toml entries for them")
    e.add_argument("--timeout", type=float, default=3.0, help="seconds to wait for answers")
    e.add_argument("--username", default=None, help="camera account for reading stream addresses")
    e.add_argument("--password-env", default="RTCC_CAMERA_PASSWORD",
                   help="environment variable holding that account's password (never on the command line)")
    e.add_argument("--probe-address", default=None,
                   help="send the WS-Discovery probe to this host:port instead of the multicast group")
    e = esub.add_parser("log", help="print the box's own access log")
    e.add_argument("--limit", type=int, default=100)

    p = sub.add_parser("alpr", help="plate reader")
    rsub = p.add_subparsers(dest="alpr_command", required=True)
    r = rsub.add_parser("read", help="read plates from images, videos and rtsp:// URLs; one JSON line each")
    r.add_argument("paths", nargs="+", metavar="PATH", help="jpg, png, webp, mp4, mkv or rtsp:// URL")
    r.add_argument("--model-dir", default=None, help="plate-reader model files (else RTCC_MODEL_DIR, cache)")
    r.add_argument("--region", default=None, help="where the plates are expected from, e.g. US-CA or BR")
    r.add_argument("--media-dir", default=None,
                   help="for video: write each pass's plate crop and full-frame snapshot here")

    p = sub.add_parser("hotlist", help="hot lists")
    hsub = p.add_subparsers(dest="hotlist_command", required=True)
    h = hsub.add_parser("import", help="replace a hot list's entries from a file, atomically")
    h.add_argument("--agency", required=True, help="agency slug")
    h.add_argument("--list", required=True, dest="list_name", help="hot list name (created if new)")
    h.add_argument("--format", required=True, choices=["ncic", "vendor", "custom"])
    h.add_argument("--stale-after-hours", type=int, default=None, help="raise a stale-list alarm after this")
    h.add_argument("file")
    h = hsub.add_parser("list", help="hot lists with their entry counts and freshness")
    h.add_argument("--agency", default=None, help="agency slug (default: every agency)")

    p = sub.add_parser("source", help="plate read sources (edge boxes, plate cameras, integrations)")
    ssub = p.add_subparsers(dest="source_command", required=True)
    s_ = ssub.add_parser("create", help="create a read source and print its ingest key once")
    s_.add_argument("--agency", required=True, help="agency slug")
    s_.add_argument("--name", required=True)
    s_.add_argument("--kind", default="lpr_camera", choices=["edge", "lpr_camera", "integration"])
    s_.add_argument("--default-state", default=None, help="state its reads are from, e.g. CA")

    p = sub.add_parser("integration", help="inbound integrations that send signed webhooks (CAD, gunshot detection)")
    isub = p.add_subparsers(dest="integration_command", required=True)
    i = isub.add_parser("create", help="create an integration and print its webhook URL and signing secret once")
    i.add_argument("--agency", required=True, help="agency slug")
    i.add_argument("--kind", required=True, choices=["cad", "gunshot"])
    i.add_argument("--name", required=True)
    i.add_argument("--config", default=None, help="JSON file: for CAD, the mapping of its call codes to categories")
    i = isub.add_parser("list", help="integrations with their webhook URLs (never their secrets)")
    i.add_argument("--agency", default=None, help="agency slug (default: every agency)")

    p = sub.add_parser("plate-integration", help="plate reads from Frigate (MQTT) or Plate Recognizer (webhooks)")
    qsub = p.add_subparsers(dest="plate_integration_command", required=True)
    q = qsub.add_parser("create", help="attach a Frigate broker or a Plate Recognizer webhook to a read source")
    q.add_argument("--source", required=True, help="the read source's id (rtcc source create)")
    q.add_argument("--kind", required=True, choices=["frigate", "plate_recognizer"])
    q.add_argument("--config", required=True, help="JSON file: broker URL, topic prefix and camera map, or the "
                                                    "Plate Recognizer camera map")
    q = qsub.add_parser("list", help="plate integrations and their status")

    p = sub.add_parser("agency", help="agency administration")
    gsub = p.add_subparsers(dest="agency_command", required=True)
    g = gsub.add_parser("create", help="create an agency with its jurisdiction and first administrator")
    g.add_argument("--slug", required=True)
    g.add_argument("--name", required=True)
    g.add_argument("--jurisdiction", required=True, help="GeoJSON file: Polygon, MultiPolygon or Feature")
    g.add_argument("--admin-email", required=True)

    for governance_command in (retention_command, evidence_command, media_key_command, sharing_command,
                               governance_settings_command):
        governance_command.add_parser(sub)
    backup_command.add_parser(sub)

    p = sub.add_parser("migrate", help="bring the database schema up to date")

    args = parser.parse_args(argv)
    from openrtcc import commands, log_setup

    log_setup.configure_from_environment(role=args.command)  # RTCC_LOG_FORMAT=json: one JSON object a line

    return commands.run(args)


if __name__ == "__main__":
    sys.exit(main())
