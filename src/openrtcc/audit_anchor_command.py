"""`rtcc audit anchor`, `rtcc audit verify-anchor` and `rtcc audit public-key`: sign the audit chain's head; check
a chain against a signed anchor; print the key that checks them."""

from __future__ import annotations

import sys
from pathlib import Path

from openrtcc.config import Settings
from openrtcc.domain.errors import DomainError, InvalidInput

MAX_FILE_BYTES = 64 * 1024


def add_parsers(asub) -> None:
    """Adds the anchoring sub-commands beside `rtcc audit verify`."""
    asub.add_parser("anchor", help="sign the audit chain's head (once per UTC day), store it and write it to the "
                                   "anchor folder for publication")
    p = asub.add_parser("verify-anchor", help="check this hub's audit chain against a signed anchor: exit 0 when "
                                              "every record up to it is intact and unchanged, 1 naming the problem")
    p.add_argument("file", nargs="?",
                   help="an anchor document (anchor_dir/YYYY-MM-DD.json or /api/public/audit/anchors/DAY)")
    p.add_argument("--all", action="store_true", help="check every anchor this hub keeps instead of one file")
    p.add_argument("--public-key", help="PEM public key to check the signature with (the one you kept from "
                                        "/api/public/audit/public-key); default: this hub's own key")
    p = asub.add_parser("public-key", help="print the hub's Ed25519 public key (PEM) and its key id")
    p.add_argument("--out", help="write the PEM to this file instead of standard output")


def run(args) -> int:
    from openrtcc.bootstrap import build_hub

    settings = Settings()
    hub = build_hub(settings, run_migrations=args.audit_command == "anchor")
    try:
        return {"anchor": _anchor, "verify-anchor": _verify, "public-key": _public_key}[args.audit_command](hub, args)
    except DomainError as exc:
        print(f"rtcc audit {args.audit_command}: {exc.message}", file=sys.stderr)
        return 2
    finally:
        hub.extras["engine"].dispose()


def _anchor(hub, args) -> int:
    from openrtcc.services.audit_anchors import make_anchor

    result = make_anchor(hub, source="cli")
    s = result.anchor.statement
    state = "signed now" if result.created else "already signed today"
    print(f"anchor {s.day}: record {s.seq}, hash {s.hash}, key {s.key_id} ({state})")
    if result.published_to:
        print(f"written to {result.published_to}")
    return 0


def _read(path: str, what: str) -> bytes:
    """A small input file, or InvalidInput saying why not (exit 2: neither a pass nor a failure)."""
    p = Path(path)
    try:
        if p.stat().st_size > MAX_FILE_BYTES:
            raise InvalidInput(f"{p}: far too large to be {what}")
        return p.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"{p}: {exc.strerror or exc}") from None


def _verify(hub, args) -> int:
    from openrtcc.adapters.signing import public_key_from_pem
    from openrtcc.domain.anchors import parse_anchor_document
    from openrtcc.services.audit_anchors import check_anchor, signer

    if bool(args.file) == bool(args.all):
        raise InvalidInput("give one anchor file, or --all for every anchor this hub keeps")
    anchor = None if args.all else parse_anchor_document(_read(args.file, "an audit anchor"))
    if args.public_key:
        key = public_key_from_pem(_read(args.public_key, "a public key"))
    else:
        key = signer(hub)
        print(f"checking with this hub's own key {key.key_id}; an outside party passes the key it kept "
              "(--public-key)", file=sys.stderr)
    if anchor is None:
        return _verify_all(hub, key)
    check = check_anchor(hub, anchor, key)
    s = anchor.statement
    if s.deployment != hub.deployment_name:
        print(f"note: the anchor names deployment {s.deployment!r}; this hub is {hub.deployment_name!r}",
              file=sys.stderr)
    if check.ok:
        since = s.anchored_at.strftime("%Y-%m-%d %H:%M:%S")
        print(f"anchor {s.day} verified: records 1..{s.seq} intact and unchanged since {since} UTC "
              f"(key {key.key_id})")
        return 0
    print(f"anchor {s.day} FAILED: {check.problem}", file=sys.stderr)
    return 1


def _verify_all(hub, key) -> int:
    from openrtcc.services.audit_anchors import check_stored_anchors

    checks = check_stored_anchors(hub, key)
    failed = [c for c in checks if not c.ok]
    for c in failed:
        print(f"anchor {c.anchor.day} FAILED: {c.problem}", file=sys.stderr)
    if not checks:
        print("this hub keeps no anchors yet (rtcc audit anchor makes today's)")
    elif not failed:
        newest = checks[-1].anchor
        many = "anchor" if len(checks) == 1 else "anchors"
        print(f"{len(checks)} {many} verified, the newest {newest.day}: records 1..{newest.seq} intact")
    return 1 if failed else 0


def _public_key(hub, args) -> int:
    from openrtcc.services.audit_anchors import signer

    key = signer(hub)
    if args.out:
        Path(args.out).write_bytes(key.public_key_pem)
        print(f"public key {key.key_id} written to {args.out}")
    else:
        sys.stdout.write(key.public_key_pem.decode())
        print(f"key id {key.key_id}", file=sys.stderr)
    return 0
