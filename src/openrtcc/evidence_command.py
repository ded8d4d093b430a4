"""`rtcc evidence`: export a case as a signed BagIt package, and verify one (anyone can: no hub is needed)."""

from __future__ import annotations

import sys
from pathlib import Path

from openrtcc.config import Settings
from openrtcc.domain.errors import DomainError, InvalidInput, NotFound

CLI_SOURCE = "rtcc-evidence-cli"
MAX_KEY_BYTES = 16 * 1024


def add_parser(sub) -> None:
    p = sub.add_parser("evidence", help="export a case as a signed BagIt package, and verify one.")
    esub = p.add_subparsers(dest="evidence_command", required=True)
    e = esub.add_parser("export", help="write a case's clips, locked reads, audit excerpt and chain of custody as a "
                                       "signed BagIt package (audited)")
    e.add_argument("--agency", required=True, help="the agency's slug")
    e.add_argument("--case", required=True, help="the case number")
    e.add_argument("--out", required=True, help="PATH.zip for a zip file, any other PATH for a folder; must not exist")
    e.add_argument("--as", dest="as_email", required=True,
                   help="the email of the supervisor or analyst on whose authority the case is exported (audited)")
    v = esub.add_parser("verify", help="check a package: exit 0 when intact and signed, 1 naming the first missing, "
                                       "altered or added file or a bad signature")
    v.add_argument("path", help="the package: a .zip file or a folder")
    v.add_argument("--public-key", help="the hub's PEM public key you obtained separately "
                                        "(/api/public/audit/public-key); default: the key inside the package")


def run(args) -> int:
    if args.evidence_command == "verify":
        return _verify(Path(args.path), args.public_key)
    from openrtcc.bootstrap import build_hub

    hub = build_hub(Settings())
    try:
        return _export(hub, args)
    except DomainError as exc:
        print(f"evidence export: {exc.message}", file=sys.stderr)
        return 1
    finally:
        hub.extras["engine"].dispose()


def _actor(hub, slug: str, email: str):
    from openrtcc.domain.accounts import Role
    from openrtcc.services.hub import Actor

    with hub.uow().reading() as uow:
        agency = uow.accounts.agency_by_slug(slug)
        user = uow.accounts.by_email(email.strip().lower())
    if agency is None:
        raise NotFound(f"no agency {slug!r}")
    if user is None or user.agency_id != agency.id or user.disabled:
        raise NotFound(f"no active user {email!r} in agency {slug!r}")
    return Actor(user.id, Role(user.role), agency.id, CLI_SOURCE)


def _export(hub, args) -> int:
    from openrtcc.adapters.storage.bag_files import DirectoryBagWriter, ZipBagWriter, bag_name
    from openrtcc.services.evidence_export import export_case

    out = Path(args.out)
    if out.exists():
        raise InvalidInput(f"{out} already exists; an evidence package is never overwritten")
    actor = _actor(hub, args.agency, args.as_email)
    if out.suffix.lower() != ".zip":
        folder = DirectoryBagWriter(out)
        try:
            summary = export_case(hub, actor, args.case, folder)
            folder.finish()
        finally:
            folder.discard()  # a finished package was renamed away; only a partial one is left to remove
    else:
        part = out.with_name(f".{out.name}.part")
        try:
            name = bag_name(args.case.strip(), hub.clock.now().strftime("%Y-%m-%d"))
            with open(part, "wb") as f, ZipBagWriter(f, name) as writer:
                summary = export_case(hub, actor, args.case, writer)
            part.rename(out)
        finally:
            part.unlink(missing_ok=True)
    print(f"case {summary.case_number}: {summary.clips} clips, {summary.reads} locked reads, "
          f"{summary.audit_records} audit records; {summary.files} files, {summary.payload_bytes} bytes -> {out}")
    print(f"manifest sha256 {summary.manifest_sha256}, signed by key {summary.key_id} (export {summary.export_id})")
    return 0


def _verify(path: Path, public_key: str | None) -> int:
    from openrtcc.adapters.signing import public_key_from_pem
    from openrtcc.adapters.storage.bag_files import open_bag
    from openrtcc.domain.bagit import BagProblem
    from openrtcc.domain.evidence_package import verify_package

    try:
        trusted = public_key_from_pem(_small_file(Path(public_key))) if public_key else None
        bag = open_bag(path)
    except (DomainError, BagProblem) as exc:
        print(f"evidence verify: {exc.message}", file=sys.stderr)
        return 2
    try:
        check = verify_package(bag, public_key_from_pem, trusted)
    finally:
        bag.close()
    if not check.ok:
        print(f"{path}: NOT intact: {check.problem}", file=sys.stderr)
        return 1
    info = dict(check.info)
    print(f"{path}: intact: case {info.get('External-Identifier')} of {info.get('Source-Organization')}, "
          f"{check.files} payload files, signed by key {check.key_id}")
    if not check.key_given:
        print("checked with the key inside the package: compare its id with the key the hub publishes "
              "(/api/public/audit/public-key), or pass --public-key", file=sys.stderr)
    return 0


def _small_file(path: Path) -> bytes:
    try:
        if path.stat().st_size > MAX_KEY_BYTES:
            raise InvalidInput(f"{path}: far too large to be a public key")
        return path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"{path}: {exc.strerror or exc}") from None
