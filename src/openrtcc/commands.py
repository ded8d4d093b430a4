"""What each `rtcc` sub-command does, wired through the composition root."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import sys
import time
from pathlib import Path

from openrtcc.config import Settings
from openrtcc.domain.errors import DomainError


def run(args) -> int:
    handler = {
        "serve": serve,
        "worker": worker,
        "demo": demo,
        "demo-code": demo_code,
        "audit": audit,
        "bench": bench,
        "agency": agency,
        "migrate": migrate,
        "alpr": alpr,
        "hotlist": hotlist,
        "source": source,
        "edge": edge,
        "integration": integration,
        "plate-integration": plate_integration,
        "retention": _governance_command("retention_command"),
        "evidence": _governance_command("evidence_command"),
        "keys": _governance_command("media_key_command"),
        "sharing": _governance_command("sharing_command"),
        "governance": _governance_command("governance_command"),
        "backup": _governance_command("backup_command"),
    }[args.command]
    from openrtcc.adapters.signing import SigningKeyError

    try:
        return handler(args)
    except SigningKeyError as exc:  # the hub will not start on an exposed or foreign signing key: say why, briefly
        print(f"rtcc {args.command}: {exc}", file=sys.stderr)
        return 2
    except DomainError as exc:  # a refusal at start (no NATS answering, city mode on SQLite): the reason, no trace
        print(f"rtcc {args.command}: {exc.message}", file=sys.stderr)
        return 2


def _governance_command(module: str):
    def handler(args) -> int:
        import importlib

        return importlib.import_module(f"openrtcc.{module}").run(args)

    return handler


def _serve(settings: Settings, hub, host: str, port: int, beside=None, *, reuse_port: bool = False,
           private_port: int | None = None) -> int:
    """Serve until interrupted; `beside` (the demo's edge box) starts once the hub listens, stops after it."""
    from openrtcc.web.app import create_app

    app = create_app(settings, hub)
    server = _server(app, settings, hub, host, port)
    if beside is not None:
        beside.start_when_listening(server)
    try:
        sockets = None
        if reuse_port or private_port is not None:
            sockets = [_listening_socket(host, port, shared=reuse_port)]
            if private_port is not None:
                sockets.append(_listening_socket(host, private_port, shared=False))
        server.run(sockets=sockets)
    finally:
        if beside is not None:
            beside.stop()
    return 0


def _default_base_url(host: str, port: int) -> None:
    """Without RTCC_BASE_URL, the hub's public URL is where it listens: links in emails and the live
    screens' WebSocket origin check depend on it. Behind a proxy or on 0.0.0.0, set RTCC_BASE_URL."""
    if "RTCC_BASE_URL" not in os.environ:
        if host in ("0.0.0.0", "::"):
            print("note: listening on all interfaces; set RTCC_BASE_URL to the address browsers use, or the "
                  "live alert screens will be refused", file=sys.stderr)
        os.environ["RTCC_BASE_URL"] = f"http://{host}:{port}"


def _listening_socket(host: str, port: int, *, shared: bool):
    """A listening socket; `shared`: other processes may bind it too (SO_REUSEPORT) and each new connection goes
    to one of them."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if shared:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def serve(args) -> int:
    from openrtcc.bootstrap import build_hub

    _default_base_url(args.host, args.port)
    settings = Settings()
    return _serve(settings, build_hub(settings, role="serve"), args.host, args.port, reuse_port=args.reuse_port,
                  private_port=args.private_port)


def worker(args) -> int:
    """A city-mode worker: the background work of the hub, with health and metrics on its own port."""
    from openrtcc.bootstrap import build_hub
    from openrtcc.web.worker_app import create_worker_app

    settings = Settings()
    if not settings.city_mode:
        print("rtcc worker: set RTCC_NATS_URL (and RTCC_DATABASE_URL to PostgreSQL). The embedded default needs no "
              "worker: `rtcc serve` does the work itself.", file=sys.stderr)
        return 2
    hub = build_hub(settings, role="worker")
    app = create_worker_app(settings, hub)
    _server(app, settings, hub, args.host, args.port).run()
    return 0


def _server(app, settings: Settings, hub, host: str, port: int):
    """uvicorn without logging of its own (its records go through the process's handler: text or JSON, secrets
    masked) and with a draining stop: on SIGTERM /readyz answers 503 for settings.shutdown_drain_s first."""
    import uvicorn

    from openrtcc.services.health import readiness_checks
    from openrtcc.web.draining_server import DrainingServer

    # Keep-alive 75 s (uvicorn's default is 5): edge boxes post every few seconds and would otherwise reconnect for
    # nearly every batch; a load balancer in front must use a shorter upstream idle timeout than this.
    config = uvicorn.Config(app, host=host, port=port, log_level="info", access_log=False, log_config=None,
                            timeout_keep_alive=75)
    return DrainingServer(config, on_drain=readiness_checks(hub).drain, drain_s=settings.shutdown_drain_s)


def demo(args) -> int:
    from openrtcc.bootstrap import build_hub
    from openrtcc.demo.city import BUSINESS, seed_demo_city
    from openrtcc.demo.edge_box import EDGE_DIR, box_hub_url, seed_demo_edge

    os.environ.setdefault("RTCC_DATA_DIR", args.data_dir)
    _default_base_url(args.host, args.port)
    settings = Settings()
    edge_dir, edge_hub_url = settings.data_dir / EDGE_DIR, box_hub_url(args.host, args.port)
    if settings.database_url is None and args.fresh:
        for name in ("rtcc.db", "rtcc.db-wal", "rtcc.db-shm", "demo-logins.json"):
            (settings.data_dir / name).unlink(missing_ok=True)
        shutil.rmtree(edge_dir, ignore_errors=True)  # its key belonged to the discarded hub
    hub = build_hub(settings)
    logins_file = settings.data_dir / "demo-logins.json"
    if logins_file.exists():
        logins = json.loads(logins_file.read_text())
    else:
        try:
            logins = seed_demo_city(hub, cameras=args.cameras)
            if edge_hub_url is not None:
                shutil.rmtree(edge_dir, ignore_errors=True)
                logins["edge"] = seed_demo_edge(hub, BUSINESS.email, edge_dir, edge_hub_url)
        except DomainError as exc:
            print(f"demo: {exc.message}", file=sys.stderr)
            return 1
        logins_file.write_text(json.dumps(logins, indent=2))
        logins_file.chmod(0o600)
    url = f"http://{args.host}:{args.port}/"
    print(_demo_banner(url, logins), flush=True)
    if args.seed_only:
        return 0
    from openrtcc.demo.command_center import DemoCadFeed, Together

    feed = DemoCadFeed(logins["cad_feed"], edge_hub_url) if logins.get("cad_feed") and edge_hub_url else None
    return _serve(settings, hub, args.host, args.port,
                  Together(_demo_edge(logins.get("edge"), edge_dir, edge_hub_url), feed))


def _demo_edge(box: dict | None, edge_dir: Path, hub_url: str | None):
    from openrtcc.demo.edge_box import DemoEdge, demo_edge_agent

    if box is None or hub_url is None:
        return None
    try:
        return DemoEdge(demo_edge_agent(box, edge_dir, hub_url))
    except DomainError as exc:  # its key was deleted, say: the hub still serves
        print(f"demo: the edge box does not run: {exc.message} (start again with --fresh)", file=sys.stderr)
        return None


def demo_code(args) -> int:
    import pyotp

    os.environ.setdefault("RTCC_DATA_DIR", args.data_dir)
    logins_file = Settings().data_dir / "demo-logins.json"
    if not logins_file.exists():
        print(f"no demo city at {logins_file}: run `rtcc demo` first", file=sys.stderr)
        return 1
    totp = pyotp.TOTP(json.loads(logins_file.read_text())["totp_secret"])
    print(totp.now())
    left = totp.interval - int(time.time()) % totp.interval
    # Each account takes a code once (replay protection): a second log-on waits for the next code.
    print(f"valid for {left} more seconds; each account accepts a code once", file=sys.stderr)
    return 0


def _demo_banner(url: str, logins: dict) -> str:
    lines = [
        "",
        f"OpenRTCC demo city is up: {url}",
        f"  {logins.get('summary', '')}",
        "",
        "Demo log-ins (demo data only; every agency account uses an authenticator code):",
        f"  password for every demo account: {logins['password']}",
    ]
    for acct in logins["accounts"]:
        lines.append(f"  {acct['role']:<10} {acct['email']:<40} {acct.get('agency') or acct.get('who', '')}")
    lines += [
        "",
        "Authenticator: agency accounts share the demo TOTP secret below (add it to any authenticator app),",
        f"  or print the current code with:  uv run rtcc demo-code   (secret: {logins['totp_secret']})",
        "",
    ]
    from openrtcc.demo.edge_box import edge_banner

    lines += edge_banner(logins.get("edge"), url)
    if logins.get("cad_feed"):
        lines += [
            f"Command center: {url}command (a Lakeport officer, analyst or supervisor). A simulated CAD posts a "
            "signed call",
            "  to the hub's CAD webhook every two minutes; the first, beside the coffee roasters, fills the video "
            "wall with its live camera.",
            f"  Public pages: {url}subscribe (alert sign-up) and {url}tip (tips land in the command center's "
            "queue).",
            "",
        ]
    return "\n".join(lines)


def audit(args) -> int:
    if args.audit_command != "verify":
        from openrtcc import audit_anchor_command

        return audit_anchor_command.run(args)
    from openrtcc.bootstrap import build_hub
    from openrtcc.services.audit_trail import verify_chain

    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    settings = Settings()
    hub = build_hub(settings, run_migrations=False)
    try:
        report = verify_chain(hub)
    except (SQLAlchemyError, DomainError) as exc:
        # A wrong RTCC_DATABASE_URL or RTCC_DATA_DIR must not read as a broken (or an intact) chain. The unit of
        # work turns a database it cannot reach into Unavailable: the cause underneath says what went wrong.
        cause = exc.__cause__ if isinstance(exc, DomainError) and exc.__cause__ is not None else exc
        if isinstance(exc, DomainError) and not isinstance(cause, SQLAlchemyError):
            raise
        where = make_url(settings.resolved_database_url).render_as_string(hide_password=True)
        print(f"cannot read the audit log at {where}: {getattr(cause, 'orig', None) or cause}", file=sys.stderr)
        return 2
    if report.ok:
        print(f"audit chain intact: {report.checked} records, head at {report.head_seq}")
        return 0
    print(f"audit chain BROKEN at record {report.problem.seq}: {report.problem.reason}", file=sys.stderr)
    return 1


def bench(args) -> int:
    if args.bench_command == "alpr":
        from openrtcc.bench.alpr import run_alpr_bench

        return run_alpr_bench(args)
    if args.bench_command == "hotlist":
        from openrtcc.bench.hotlist import run_hotlist_bench

        return run_hotlist_bench(args)
    if args.bench_command == "edge":
        from openrtcc.bench.edge import run_edge_bench

        return run_edge_bench(args)
    if args.bench_command == "dissemination":
        from openrtcc.bench.dissemination import run_dissemination_bench

        return run_dissemination_bench(args)
    if args.bench_command == "wall":
        from openrtcc.bench.video_wall import run_wall_bench

        return run_wall_bench(args)
    if args.bench_command == "alerts":
        from openrtcc.bench.alerts import run_alerts_bench

        return run_alerts_bench(args)
    if args.bench_command == "read-expiry":
        from openrtcc.bench.read_expiry import run_read_expiry_bench

        return run_read_expiry_bench(args)
    if args.bench_command == "city":
        from openrtcc.bench.city import run_city_bench

        return run_city_bench(args)
    from openrtcc.bench.registry import run_registry_bench

    return run_registry_bench(cameras=args.cameras, output=Path(args.output), browser=not args.no_browser)


def alpr(args) -> int:
    from openrtcc.alpr_command import run_alpr

    return run_alpr(args)


def edge(args) -> int:
    from openrtcc.edge.command import run_edge_command

    return run_edge_command(args)


def hotlist(args) -> int:
    from openrtcc.hotlist_command import run_hotlist

    return run_hotlist(args)


def source(args) -> int:
    from openrtcc.source_command import run_source

    return run_source(args)


def integration(args) -> int:
    from openrtcc.integration_command import run_integration

    return run_integration(args)


def plate_integration(args) -> int:
    from openrtcc.plate_integration_command import run_plate_integration

    return run_plate_integration(args)


def agency(args) -> int:
    from openrtcc.bootstrap import build_hub
    from openrtcc.domain.geo import area_from_geojson, area_to_geojson
    from openrtcc.services.admin import create_agency

    try:
        area = area_from_geojson(json.loads(Path(args.jurisdiction).read_text()))
    except (OSError, ValueError) as exc:
        print(f"jurisdiction {args.jurisdiction}: {exc}", file=sys.stderr)
        return 2
    hub = build_hub(Settings())
    password = secrets.token_urlsafe(12)
    agency_id = create_agency(hub, slug=args.slug, name=args.name, jurisdiction=area_to_geojson(area),
                              admin_email=args.admin_email, admin_password=password)
    print(f"agency {args.slug} created ({agency_id}); administrator {args.admin_email}, initial password: {password}")
    print("The administrator enrols an authenticator app at first log-on.")
    return 0


def migrate(args) -> int:
    from openrtcc.adapters.db.engine import migrate as run_migrations

    run_migrations(Settings().resolved_database_url)
    print("schema up to date")
    return 0
