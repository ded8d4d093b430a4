"""Sessions this process verified lately, so that most requests check theirs without a database transaction.

An entry is the session row and its user as the database last showed them. It is dropped the moment a unit of
work of this process commits a change to that session or user (log-off, lock, unlock, disable, MFA, the idle
touch: see SqlAccountRepo and SqlUnitOfWork), and every rule is still applied to it on each use (idle lock,
12-hour limit, locked or disabled account). A session is read from the database again at least every 30 s
anyway (the idle touch needs the database, see accounts.authenticate).

Only one process may keep such a cache: in city mode several processes serve, and a log-off in one would not
reach the others, so bootstrap leaves it out there. Other processes on an embedded hub's database (rtcc CLI
commands) change no session or user that could be cached.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime

from openrtcc.domain.accounts import User

MAX_ENTRIES = 20_000


@dataclass(frozen=True, slots=True)
class CachedSession:
    user: User
    created_at: datetime
    last_seen_at: datetime
    mfa_done: bool


class SessionCache:
    def __init__(self, max_entries: int = MAX_ENTRIES):
        self._entries: dict[str, CachedSession] = {}
        self._by_user: dict[str, set[str]] = {}
        self._lock = threading.Lock()
        self._max = max_entries
        self.generation = 0  # moves on every change: a read begun before it must not be stored after it

    def get(self, token_hash: str) -> CachedSession | None:
        return self._entries.get(token_hash)

    def put(self, token_hash: str, entry: CachedSession, read_in_generation: int) -> None:
        """Keep what a read begun in `read_in_generation` found, unless anything changed since it began."""
        with self._lock:
            if read_in_generation != self.generation:
                return  # the read may predate a log-off or lock committed meanwhile
            if len(self._entries) >= self._max and token_hash not in self._entries:
                self._drop(next(iter(self._entries)))  # the oldest entry: it is read again when next used
            self._entries[token_hash] = entry
            self._by_user.setdefault(entry.user.id, set()).add(token_hash)

    def forget(self, user_ids: set[str], token_hashes: set[str]) -> None:
        """Drop the sessions of these users and these sessions: a committed change touched them."""
        with self._lock:
            self.generation += 1
            for user_id in user_ids:
                for token_hash in self._by_user.pop(user_id, ()):
                    self._entries.pop(token_hash, None)
            for token_hash in token_hashes:
                self._drop(token_hash)

    def _drop(self, token_hash: str) -> None:
        entry = self._entries.pop(token_hash, None)
        if entry is not None:
            tokens = self._by_user.get(entry.user.id)
            if tokens is not None:
                tokens.discard(token_hash)
                if not tokens:
                    del self._by_user[entry.user.id]

    def __len__(self) -> int:
        return len(self._entries)
