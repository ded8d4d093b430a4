"""Hot lists: atomic import, listing, custom entries and the stale-feed alarm.

An import parses the whole file before touching the database; a bad line refuses the file and the
previous version stays active. A good one replaces the list's entries in one transaction with its audit
record, and only after commit is the agency's in-memory index swapped. The back-check of new entries
against stored reads lives in services/hotlist_backcheck.py.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime

from openrtcc.domain.accounts import Permission, Role, has_permission
from openrtcc.domain.errors import Conflict, InvalidInput, NotFound
from openrtcc.domain.hotlist_formats import MAX_ENTRIES, MAX_FILE_BYTES, form_entry, parse_hot_list
from openrtcc.domain.hotlists import HotListEntry, ListFormat, ListFreshness, stale_lists
from openrtcc.services.hotlist_backcheck import BackCheck, back_check
from openrtcc.services.hotlist_index import HotListIndex, hotlist_index
from openrtcc.services.hub import Actor, Hub

__all__ = ["HotListIndex", "hotlist_index", "import_hot_list", "list_hot_lists", "raise_stale_alarms"]
log = logging.getLogger(__name__)
LIST_NAME_RE = re.compile(r"^[\w][\w .:/()\-]{0,119}$")
MAX_STALE_AFTER_HOURS = 24 * 366
SYSTEM_PREFIX = "system:"


def system_actor(agency_id: str | None, name: str) -> Actor:
    """A named non-human actor (the CLI, the stale-feed sweep) for the audit trail."""
    return Actor(f"{SYSTEM_PREFIX}{name}"[:36], Role.ADMIN, agency_id, name)


@dataclass(frozen=True, slots=True)
class HotListView:
    id: str
    name: str
    format: str
    version: int
    entry_count: int
    stale_after_hours: int | None
    refreshed_at: datetime | None
    stale_alarm_at: datetime | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ImportResult:
    list: HotListView
    records: int  # data lines in the file
    duplicates: int  # identical lines dropped
    added: int  # entries whose plate and state were not on the previous version
    removed: int  # plate and state pairs of the previous version no longer listed
    back_check: BackCheck  # new entries against the reads of the retention window


def _view(row) -> HotListView:
    return HotListView(row.id, row.name, row.format, row.version, row.entry_count, row.stale_after_hours,
                       row.refreshed_at, row.stale_alarm_at, row.created_at)


def _check_list_args(name: str, stale_after_hours: int | None) -> str:
    name = (name or "").strip()
    if not LIST_NAME_RE.match(name):
        raise InvalidInput("a list name is 1-120 letters, digits, spaces or . : / ( ) - _", code="bad_list_name")
    if stale_after_hours is not None and not 1 <= stale_after_hours <= MAX_STALE_AFTER_HOURS:
        raise InvalidInput(f"stale after: 1 to {MAX_STALE_AFTER_HOURS} hours", code="bad_stale_after")
    return name


def import_hot_list(hub: Hub, actor: Actor, *, name: str, fmt: str, data: bytes,
                    stale_after_hours: int | None = None, max_bytes: int = MAX_FILE_BYTES,
                    max_entries: int = MAX_ENTRIES) -> ImportResult:
    """Replace the named list's entries with the file's (creating the list on first import), all or nothing."""
    actor.require(Permission.MANAGE_HOTLISTS)
    name = _check_list_args(name, stale_after_hours)
    try:
        fmt = ListFormat(fmt)
    except ValueError:
        raise InvalidInput("format must be ncic, vendor or custom", code="bad_format") from None
    now = hub.clock.now()
    parsed = parse_hot_list(data, fmt, now, max_bytes=max_bytes, max_entries=max_entries)  # before any write
    index = hotlist_index(hub)
    with hub.uow() as uow:
        row = _list_for_import(hub, uow, actor, name, fmt, stale_after_hours, now)
        before = index.list_entries(actor.agency_id, row.id, row.version)
        if before is None:
            before = list(uow.hotlists.entries(actor.agency_id, row.id))
        old_keys = {(e.plate, e.state) for e in before}
        new_entries = tuple(e for e in parsed.entries if (e.plate, e.state) not in old_keys)
        removed = len(old_keys - {(e.plate, e.state) for e in parsed.entries})
        uow.hotlists.replace_entries(row.id, parsed.entries)
        version = row.version + 1
        uow.hotlists.update(actor.agency_id, row.id, version=version, entry_count=len(parsed.entries),
                            refreshed_at=now, stale_alarm_at=None,
                            stale_after_hours=stale_after_hours if stale_after_hours is not None
                            else row.stale_after_hours)
        # Counts only: the plates of a hot list never go into the audit trail.
        uow.record(actor.entry("hotlist.import", f"hot_list:{row.id}", list=name, format=fmt.value,
                               version=version, entries=len(parsed.entries), records=parsed.records,
                               duplicates=parsed.duplicates, added=len(new_entries), removed=removed,
                               stale_alarm_cleared=row.stale_alarm_at is not None))
        uow.commit()
    index.replace_list(actor.agency_id, row.id, version, parsed.entries)
    index.announce(actor.agency_id, row.id, version)
    log.info("hot list %s of agency %s imported: version %s, %s entries", row.id, actor.agency_id, version,
             len(parsed.entries))
    view = HotListView(row.id, name, fmt.value, version, len(parsed.entries),
                       stale_after_hours if stale_after_hours is not None else row.stale_after_hours,
                       now, None, row.created_at)
    checked = back_check(hub, actor, row.id, new_entries)
    return ImportResult(view, parsed.records, parsed.duplicates, len(new_entries), removed, checked)


def _list_for_import(hub: Hub, uow, actor: Actor, name: str, fmt: ListFormat, stale_after_hours: int | None,
                     now: datetime):
    row = uow.hotlists.by_name(actor.agency_id, name, for_update=True)
    if row is None:
        uow.hotlists.create(id=hub.ids.new_id(), agency_id=actor.agency_id, name=name, format=fmt.value,
                            stale_after_hours=stale_after_hours, version=0, entry_count=0, refreshed_at=None,
                            stale_alarm_at=None, created_by=_user_or_none(actor), created_at=now)
        row = uow.hotlists.by_name(actor.agency_id, name)
    elif row.format != fmt.value:
        raise Conflict(f"the list {name!r} is a {row.format} list; import a {row.format} file or use another name",
                       code="hot_list_format")
    return row


def _user_or_none(actor: Actor) -> str | None:
    return None if actor.user_id.startswith(SYSTEM_PREFIX) else actor.user_id


def list_hot_lists(hub: Hub, actor: Actor) -> list[HotListView]:
    """The agency's lists with freshness and alarms (metadata only: no entries)."""
    if not _may(actor, Permission.MANAGE_HOTLISTS):
        actor.require(Permission.VIEW_ALERTS)
    with hub.uow() as uow:
        rows = uow.hotlists.lists(actor.agency_id)
        uow.record(actor.entry("hotlist.list", f"agency:{actor.agency_id}", count=len(rows)))
        uow.commit()
    return [_view(r) for r in rows]


def _may(actor: Actor, permission: Permission) -> bool:
    return has_permission(actor.role, permission)


def get_hot_list(hub: Hub, actor: Actor, list_id: str) -> HotListView:
    if not _may(actor, Permission.MANAGE_HOTLISTS):
        actor.require(Permission.VIEW_ALERTS)
    with hub.uow() as uow:
        row = uow.hotlists.get(actor.agency_id, list_id)
        if row is None:
            raise NotFound("no such hot list in your agency")
        uow.record(actor.entry("hotlist.read", f"hot_list:{list_id}"))
        uow.commit()
    return _view(row)


def list_entries(hub: Hub, actor: Actor, list_id: str, *, limit: int = 100, offset: int = 0) -> list:
    """(entry id, entry) of a list, for those who manage lists: entries are sensitive records."""
    actor.require(Permission.MANAGE_HOTLISTS)
    if not 1 <= limit <= 500 or offset < 0:
        raise InvalidInput("limit 1-500, offset 0 or more", code="bad_page")
    with hub.uow() as uow:
        if uow.hotlists.get(actor.agency_id, list_id) is None:
            raise NotFound("no such hot list in your agency")
        rows = uow.hotlists.entries_with_ids(actor.agency_id, list_id, limit, offset)
        uow.record(actor.entry("hotlist.entries_read", f"hot_list:{list_id}", count=len(rows), offset=offset))
        uow.commit()
    return rows


@dataclass(frozen=True, slots=True)
class CustomEntryDraft:
    plate: str
    state: str
    reason: str
    owner: str
    expires_at: str
    category: str = "custom"


def add_custom_entry(hub: Hub, actor: Actor, list_id: str, d: CustomEntryDraft) -> HotListEntry:
    """One hand-entered record on a custom list; bumps the version like an import."""
    actor.require(Permission.MANAGE_HOTLISTS)
    now = hub.clock.now()
    entry = form_entry(d.plate, d.state, d.reason, d.owner, d.expires_at, d.category, now)
    return _change_custom(hub, actor, list_id, "hotlist.entry_add", add=entry)


def remove_custom_entry(hub: Hub, actor: Actor, list_id: str, entry_id: int) -> None:
    actor.require(Permission.MANAGE_HOTLISTS)
    _change_custom(hub, actor, list_id, "hotlist.entry_remove", remove=entry_id)


def _change_custom(hub: Hub, actor: Actor, list_id: str, action: str, *, add: HotListEntry | None = None,
                   remove: int | None = None):
    with hub.uow() as uow:
        row = uow.hotlists.get(actor.agency_id, list_id, for_update=True)
        if row is None:
            raise NotFound("no such hot list in your agency")
        if row.format != ListFormat.CUSTOM.value:
            raise Conflict("entries are added and removed by hand on custom lists only; feeds are imported",
                           code="hot_list_format")
        if add is not None:
            uow.hotlists.add_entries(list_id, [add])
        elif uow.hotlists.remove_entry(list_id, remove) == 0:
            raise NotFound("no such entry in this list")
        entries = list(uow.hotlists.entries(actor.agency_id, list_id))
        version = row.version + 1
        uow.hotlists.update(actor.agency_id, list_id, version=version, entry_count=len(entries))
        uow.record(actor.entry(action, f"hot_list:{list_id}", version=version, entries=len(entries)))
        uow.commit()
    hotlist_index(hub).replace_list(actor.agency_id, list_id, version, entries)
    hotlist_index(hub).announce(actor.agency_id, list_id, version)
    if add is not None:
        back_check(hub, actor, list_id, [add])
    return add


def raise_stale_alarms(hub: Hub) -> list[str]:
    """The stale-feed sweep: mark each feed past its stale_after_hours, one audited alarm per list."""
    now = hub.clock.now()
    with hub.uow() as uow:
        rows = uow.hotlists.feeds()
        due = set(stale_lists([ListFreshness(r.id, r.stale_after_hours, r.refreshed_at, r.created_at,
                                             r.stale_alarm_at) for r in rows], now))
        for r in rows:
            if r.id in due:
                uow.hotlists.update(r.agency_id, r.id, stale_alarm_at=now)
                since = r.refreshed_at or r.created_at
                uow.record(system_actor(r.agency_id, "hotlist-stale-check").entry(
                    "hotlist.stale_alarm", f"hot_list:{r.id}", list=r.name,
                    stale_after_hours=r.stale_after_hours, last_refresh=since.isoformat()))
        if due:
            uow.commit()
    for list_id in due:
        log.warning("hot list %s has not refreshed within its stale limit: alarm raised", list_id)
    return sorted(due)


def keep_hot_lists(hub: Hub) -> None:
    """One round of the hub's background upkeep: stale-feed alarms, then the index caught up with imports
    made by other processes (`rtcc hotlist import` writes to the database, not to this process)."""
    raise_stale_alarms(hub)
    hotlist_index(hub).sync()
