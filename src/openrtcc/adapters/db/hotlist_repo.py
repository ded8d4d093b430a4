"""Hot lists and their entries: every query scoped to an agency, except the stale-feed sweep."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import fields
from datetime import datetime

from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from openrtcc.adapters.db.sharing_repo import SqlSharingRepo
from openrtcc.adapters.db.tables import hot_list, hot_list_entry, plate_read
from openrtcc.domain.hotlists import HotListEntry
from openrtcc.domain.sharing import SharedList

ENTRY_FIELDS = tuple(f.name for f in fields(HotListEntry))
_ENTRY_COLUMNS = [hot_list_entry.c[name] for name in ENTRY_FIELDS]
_INSERT_CHUNK = 5_000


def entry_of(row) -> HotListEntry:
    return HotListEntry(*(row[i] for i in range(len(ENTRY_FIELDS))))


class SqlHotListRepo:
    def __init__(self, conn: Connection):
        self.conn = conn

    def lists(self, agency_id: str) -> list:
        return list(self.conn.execute(select(hot_list).where(hot_list.c.agency_id == agency_id)
                                      .order_by(hot_list.c.name)))

    def get(self, agency_id: str, list_id: str, *, for_update: bool = False):
        q = select(hot_list).where(hot_list.c.id == list_id, hot_list.c.agency_id == agency_id)
        return self.conn.execute(q.with_for_update() if for_update else q).first()

    def by_name(self, agency_id: str, name: str, *, for_update: bool = False):
        q = select(hot_list).where(hot_list.c.agency_id == agency_id, hot_list.c.name == name)
        return self.conn.execute(q.with_for_update() if for_update else q).first()

    def create(self, **values) -> None:
        self.conn.execute(insert(hot_list).values(**values))

    def update(self, agency_id: str, list_id: str, **values) -> None:
        self.conn.execute(update(hot_list).where(hot_list.c.id == list_id, hot_list.c.agency_id == agency_id)
                          .values(**values))

    def entries(self, agency_id: str, list_id: str) -> Iterator[HotListEntry]:
        q = (select(*_ENTRY_COLUMNS).join(hot_list, hot_list.c.id == hot_list_entry.c.list_id)
             .where(hot_list.c.agency_id == agency_id, hot_list_entry.c.list_id == list_id)
             .order_by(hot_list_entry.c.id))
        for row in self.conn.execute(q):
            yield entry_of(row)

    def entries_with_ids(self, agency_id: str, list_id: str, limit: int, offset: int) -> list:
        q = (select(hot_list_entry.c.id, *_ENTRY_COLUMNS)
             .join(hot_list, hot_list.c.id == hot_list_entry.c.list_id)
             .where(hot_list.c.agency_id == agency_id, hot_list_entry.c.list_id == list_id)
             .order_by(hot_list_entry.c.id).limit(limit).offset(offset))
        return [(row[0], entry_of(row[1:])) for row in self.conn.execute(q)]

    def agency_entries(self, agency_id: str) -> Iterator[tuple[str, HotListEntry]]:
        """(list id, entry) of every list of the agency, in list then insertion order."""
        q = (select(hot_list_entry.c.list_id, *_ENTRY_COLUMNS)
             .join(hot_list, hot_list.c.id == hot_list_entry.c.list_id)
             .where(hot_list.c.agency_id == agency_id)
             .order_by(hot_list.c.name, hot_list_entry.c.id))
        for row in self.conn.execute(q):
            yield row[0], entry_of(row[1:])

    def replace_entries(self, list_id: str, entries: Iterable[HotListEntry]) -> None:
        """Caller has already checked that the list belongs to the acting agency."""
        self.conn.execute(delete(hot_list_entry).where(hot_list_entry.c.list_id == list_id))
        self.add_entries(list_id, entries)

    def add_entries(self, list_id: str, entries: Iterable[HotListEntry]) -> None:
        chunk = []
        for entry in entries:
            row = {name: getattr(entry, name) for name in ENTRY_FIELDS}
            row["list_id"] = list_id
            chunk.append(row)
            if len(chunk) >= _INSERT_CHUNK:
                self.conn.execute(insert(hot_list_entry), chunk)
                chunk = []
        if chunk:
            self.conn.execute(insert(hot_list_entry), chunk)

    def remove_entry(self, list_id: str, entry_id: int) -> int:
        return self.conn.execute(delete(hot_list_entry).where(
            hot_list_entry.c.list_id == list_id, hot_list_entry.c.id == entry_id)).rowcount

    def count_entries(self, list_id: str) -> int:
        return self.conn.execute(select(func.count()).where(hot_list_entry.c.list_id == list_id)).scalar_one()

    def feeds(self) -> list:
        """Every list that is a feed (has stale_after_hours), across agencies: the stale sweep's input."""
        return list(self.conn.execute(select(hot_list).where(hot_list.c.stale_after_hours.is_not(None))))

    def shared_lists(self, agency_id: str) -> list[SharedList]:
        """The lists of other agencies this agency opted in to, with their grants (services.sharing decides)."""
        return SqlSharingRepo(self.conn).shared_lists(agency_id)

    def reads_since(self, agency_id: str, since: datetime) -> Iterator:
        """(id, plate, state, captured_at) of the agency's stored reads captured at or after `since`."""
        q = (select(plate_read.c.id, plate_read.c.plate, plate_read.c.state, plate_read.c.captured_at)
             .where(plate_read.c.agency_id == agency_id, plate_read.c.captured_at >= since)
             .order_by(plate_read.c.captured_at))
        yield from self.conn.execute(q)


@contextmanager
def hotlist_snapshot(engine: Engine) -> Iterator[SqlHotListRepo]:
    """Read-only access outside any unit of work: it takes no write lock, so the index can load while
    the calling thread holds a unit of work open (ingest matches inside its transaction)."""
    with engine.connect() as conn:
        conn.execution_options(read_only=True)
        try:
            yield SqlHotListRepo(conn)
        finally:
            conn.rollback()
