"""Upkeep of sealed media: rotate an agency's key (rewrap every file, then retire the old versions), seal files
stored before encryption was on, check every file, count files per key version."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from openrtcc.adapters.storage.sealed_media import SealedMediaStore, agency_of
from openrtcc.domain.errors import InvalidInput, TamperedMedia

PLAINTEXT = "plaintext"


@dataclass(slots=True)
class RotationReport:
    agency_id: str
    version: int
    key_id: str
    resumed: bool
    rewrapped: int = 0
    already: int = 0
    unsealed: int = 0
    damaged: list[tuple[str, str]] = field(default_factory=list)
    retired: list[int] = field(default_factory=list)
    kept: list[int] = field(default_factory=list)
    waiting_uploads: int = 0


@dataclass(slots=True)
class SealReport:
    sealed: int = 0
    already: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)


def stored_keys(store: SealedMediaStore, agency_id: str | None = None) -> Iterator[str]:
    """The stored files, of one agency or all: one agency's are under `<kind>/<agency>/` for each kind, so a
    rotation reads only its own agency's folders."""
    if agency_id is None:
        prefixes = [""]
    else:
        prefixes = [f"{kind}/{agency_id}/" for kind in store.top_folders()]
    for prefix in prefixes:
        for key, _mtime in store.iter_keys(prefix):
            if not key.endswith(".part") and _agency_or_none(key) is not None and (
                    agency_id is None or agency_of(key) == agency_id):
                yield key


def _agency_or_none(key: str) -> str | None:
    try:
        return agency_of(key)
    except ValueError:
        return None


def rotate_agency_key(store: SealedMediaStore, agency_id: str, *, upload_wait_s: float = 60.0,
                      sleep: Callable[[float], None] = time.sleep) -> RotationReport:
    """A new key version (or, after an interrupted rotation, the newest one) takes over every file of the agency;
    the older versions are deleted only once no file needs them. Safe to run again until it completes."""
    versions = store.keys.version_numbers(agency_id)
    if not versions:
        raise InvalidInput(f"agency {agency_id} has no media key to rotate: `rtcc keys create` makes its first",
                           code="media_key_missing")
    resumed = len(versions) > 1
    target = store.keys.get(agency_id, versions[-1]) if resumed else store.keys.create(agency_id)
    report = RotationReport(agency_id, target.version, target.key_id, resumed)
    report.rewrapped, report.already, _, _ = _rewrap_all(store, agency_id, target)
    # an upload that began before the new version existed is sealed under the old one: let it land, look again
    deadline = time.monotonic() + upload_wait_s
    while (pending := store.uploads_in_progress(agency_id)) and time.monotonic() < deadline:
        sleep(0.5)
    report.waiting_uploads = pending
    late, _, report.unsealed, report.damaged = _rewrap_all(store, agency_id, target)
    report.rewrapped += late
    older = [v for v in store.keys.version_numbers(agency_id) if v != target.version]
    if report.damaged or pending:
        report.kept = older  # a file still needs an old version, or may: nothing is retired
        return report
    for version in older:
        store.keys.retire(agency_id, version)
    report.retired = older
    return report


def _rewrap_all(store: SealedMediaStore, agency_id: str, target) -> tuple[int, int, int, list[tuple[str, str]]]:
    """One pass over the agency's files: (rewrapped, already under target, not sealed, [(damaged file, why)])."""
    rewrapped = already = unsealed = 0
    damaged = []
    for key in stored_keys(store, agency_id):
        try:
            if store.header_of(key) is None:
                unsealed += 1
            elif store.rewrap(key, target):
                rewrapped += 1
            else:
                already += 1
        except FileNotFoundError:
            continue  # deleted (retention) while we went through: nothing left to rewrap
        except TamperedMedia as exc:
            damaged.append((key, exc.message))
    return rewrapped, already, unsealed, damaged


def seal_existing(store: SealedMediaStore) -> SealReport:
    """Seals every plaintext file (stored before encryption at rest was turned on) in place, atomically."""
    report = SealReport()
    for key in stored_keys(store):
        try:
            if store.seal_plaintext(key):
                report.sealed += 1
            else:
                report.already += 1
        except FileNotFoundError:
            continue
        except Exception as exc:  # one unreadable file must not stop the others; it is reported by name
            report.failed.append((key, str(getattr(exc, "message", exc))))
    return report


def verify_all(store: SealedMediaStore, agency_id: str | None = None) -> tuple[int, list[tuple[str, str]]]:
    """Authenticates every file whole: (files checked, [(file, why) for each that fails])."""
    checked, bad = 0, []
    for key in stored_keys(store, agency_id):
        try:
            store.verify(key)
            checked += 1
        except FileNotFoundError:
            continue
        except TamperedMedia as exc:
            checked += 1
            bad.append((key, exc.message))
    return checked, bad


def census(store: SealedMediaStore, agency_id: str | None = None) -> dict[str, Counter]:
    """Files per agency per key version (`plaintext` for unsealed files, `damaged` for unreadable headers)."""
    counts: dict[str, Counter] = {}
    for key in stored_keys(store, agency_id):
        try:
            header = store.header_of(key)
            label = PLAINTEXT if header is None else f"v{header.key_version}"
        except FileNotFoundError:
            continue
        except TamperedMedia:
            label = "damaged"
        counts.setdefault(agency_of(key), Counter())[label] += 1
    return counts
