"""`rtcc keys`: each agency's media key (envelope encryption at rest): list, create, rotate, seal-existing, verify."""

from __future__ import annotations

import sys

from openrtcc.command_agencies import agencies_named
from openrtcc.config import Settings
from openrtcc.domain.errors import DomainError

CLI_ACTOR = "rtcc-keys-cli"


def add_parser(sub) -> None:
    p = sub.add_parser("keys", help="each agency's media key (envelope encryption at rest): create, list, rotate.")
    ksub = p.add_subparsers(dest="keys_command", required=True)
    k = ksub.add_parser("list", help="each agency's key versions, and with --files how many files each seals")
    k.add_argument("--agency", help="agency slug (default: every agency)")
    k.add_argument("--files", action="store_true", help="count stored files per key version (reads every header)")
    k = ksub.add_parser("create", help="make an agency's first media key (when keys are held in media_key_dir)")
    k.add_argument("--agency", required=True, help="agency slug")
    k = ksub.add_parser("rotate", help="a new key version rewraps every file of the agency; the old version is "
                                       "deleted once no file needs it. Run again to finish an interrupted rotation")
    k.add_argument("--agency", required=True, help="agency slug")
    k.add_argument("--upload-wait", type=float, default=60.0, metavar="S",
                   help="seconds to wait for uploads in progress before retiring the old version (default 60)")
    ksub.add_parser("seal-existing", help="seal files stored before encryption at rest was turned on")
    k = ksub.add_parser("verify", help="authenticate every stored file; name each one that fails")
    k.add_argument("--agency", help="agency slug (default: every agency)")


def run(args) -> int:
    from openrtcc.bootstrap import build_hub

    settings = Settings()
    hub = build_hub(settings)
    try:
        handler = {"list": _list, "create": _create, "rotate": _rotate, "seal-existing": _seal_existing,
                   "verify": _verify}[args.keys_command]
        return handler(hub, settings, args)
    except DomainError as exc:
        print(f"keys {args.keys_command}: {exc.message}", file=sys.stderr)
        return 1
    finally:
        hub.extras["engine"].dispose()


def _store(settings: Settings):
    """The sealed store over the media folder or bucket, whether or not the hub serves through it (a key can be
    made or rotated before encryption is turned on)."""
    from openrtcc.media_wiring import sealed_media_store

    return sealed_media_store(settings)


def _record(hub, agency_id: str | None, action: str, target: str | None, outcome: str = "success",
            **details) -> None:
    from openrtcc.services.hotlists import system_actor

    with hub.uow() as uow:
        uow.record(system_actor(agency_id, CLI_ACTOR).entry(action, target, outcome, **details))
        uow.commit()


def _list(hub, settings: Settings, args) -> int:
    from openrtcc.adapters.storage.media_key_rotation import census

    store = _store(settings)
    print(f"keys in {store.keys.root}; encryption at rest {'ON' if settings.media_encryption else 'OFF'}")
    print(f"{'agency':<20} {'ver':>4}  {'key id':<16}  {'created (UTC)':<16}  {'role':<8} files")
    for agency in agencies_named(hub, args.agency):
        counts = census(store, agency.id).get(agency.id) if args.files else None
        versions = store.keys.versions(agency.id)
        if not versions:
            print(f"{agency.slug:<20} {'-':>4}  {'(no key)':<16}")
        for i, key in enumerate(versions):
            role = "current" if i == len(versions) - 1 else "old"
            made = f"{key.created_at:%Y-%m-%d %H:%M}" if key.created_at else "?"
            files = counts.get(f"v{key.version}", 0) if counts is not None else "-"
            print(f"{agency.slug:<20} {key.version:>4}  {key.key_id:<16}  {made:<16}  {role:<8} {files}")
        if counts:
            for label in ("plaintext", "damaged"):
                if counts.get(label):
                    print(f"{agency.slug:<20} {'':>4}  {label:<16}  {'':<16}  {'':<8} {counts[label]}")
    return 0


def _create(hub, settings: Settings, args) -> int:
    (agency,) = agencies_named(hub, args.agency)
    store = _store(settings)
    if store.keys.version_numbers(agency.id):
        print(f"keys create: {agency.slug} already has a media key; `rtcc keys rotate --agency {agency.slug}` "
              "makes a new version", file=sys.stderr)
        return 1
    key = store.keys.create(agency.id, only_if_none=True)
    _record(hub, agency.id, "media.key_create", f"media_key:v{key.version}", key_id=key.key_id)
    print(f"{agency.slug}: media key version {key.version} ({key.key_id}) in {store.keys.root / agency.id}; "
          "keep a copy where the agency keeps its secrets: files sealed with it cannot be opened without it")
    return 0


def _rotate(hub, settings: Settings, args) -> int:
    from openrtcc.adapters.storage.media_key_rotation import rotate_agency_key

    (agency,) = agencies_named(hub, args.agency)
    r = rotate_agency_key(_store(settings), agency.id, upload_wait_s=args.upload_wait)
    done = not r.kept
    _record(hub, agency.id, "media.key_rotate", f"media_key:v{r.version}", "success" if done else "failed",
            key_id=r.key_id, resumed=r.resumed, rewrapped=r.rewrapped, already=r.already, unsealed=r.unsealed,
            damaged=[k for k, _ in r.damaged][:50], retired=r.retired, kept=r.kept)
    print(f"{agency.slug}: {'finishing the rotation to' if r.resumed else 'rotated to'} key version {r.version} "
          f"({r.key_id}): {r.rewrapped} files rewrapped, {r.already} already under it, {r.unsealed} not sealed")
    for key, why in r.damaged:
        print(f"  DAMAGED {why}", file=sys.stderr)
    if r.waiting_uploads:
        print(f"  {r.waiting_uploads} uploads still in progress", file=sys.stderr)
    if not done:
        print(f"old versions {r.kept} KEPT: a file may still need them. Restore or remove the damaged files, then run "
              f"`rtcc keys rotate --agency {agency.slug}` again to finish", file=sys.stderr)
        return 1
    print(f"old versions retired (deleted): {r.retired or 'none'}")
    if r.unsealed:
        print("plaintext files remain: `rtcc keys seal-existing` seals them")
    return 0


def _seal_existing(hub, settings: Settings, args) -> int:
    from openrtcc.adapters.storage.media_key_rotation import seal_existing

    if not settings.media_encryption:
        print("keys seal-existing: encryption at rest is off (RTCC_MEDIA_ENCRYPTION): the hub would serve sealed "
              "files as they are stored. Turn it on first", file=sys.stderr)
        return 2
    r = seal_existing(_store(settings))
    _record(hub, None, "media.seal_existing", "media", "success" if not r.failed else "failed",
            sealed=r.sealed, already=r.already, failed=[k for k, _ in r.failed][:50])
    print(f"{r.sealed} files sealed, {r.already} already sealed, {len(r.failed)} failed")
    for key, why in r.failed:
        print(f"  FAILED {key}: {why}", file=sys.stderr)
    return 1 if r.failed else 0


def _verify(hub, settings: Settings, args) -> int:
    from openrtcc.adapters.storage.media_key_rotation import verify_all

    agency_id = agencies_named(hub, args.agency)[0].id if args.agency else None
    checked, bad = verify_all(_store(settings), agency_id)
    _record(hub, agency_id, "media.verify", "media", "success" if not bad else "failed", checked=checked,
            failed=[k for k, _ in bad][:50])
    for _key, why in bad:
        print(f"  TAMPERED {why}", file=sys.stderr)
    print(f"{checked} files checked, {len(bad)} failed their integrity check")
    return 1 if bad else 0
