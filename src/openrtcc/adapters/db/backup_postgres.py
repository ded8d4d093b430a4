"""Backup and restore of the PostgreSQL database with pg_dump and pg_restore (custom format). The dump reads an
exported snapshot, so the schema revision and audit head recorded beside it are those of the dumped data; the
plate_read partitions (migration 0007) travel as the partitioned table they are."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from sqlalchemy import create_engine
from sqlalchemy.engine import URL, make_url

from openrtcc.adapters.db.backup_common import database_state, known_revisions
from openrtcc.adapters.db.engine import migrate
from openrtcc.domain.backup import AuditHead, DatabaseDump, DatabaseState
from openrtcc.domain.errors import Unavailable

DUMP_NAME = "hub.pgdump"
# Debian keeps each major version's client tools here; PATH may hold an older default.
CLIENT_DIRS = tuple(f"/usr/lib/postgresql/{v}/bin" for v in (17, 16, 15))
_LIBPQ_PARAMS = {"sslmode": "PGSSLMODE", "sslrootcert": "PGSSLROOTCERT", "sslcert": "PGSSLCERT",
                 "sslkey": "PGSSLKEY", "connect_timeout": "PGCONNECT_TIMEOUT"}


class PostgresBackup:
    backend = "postgresql"

    def __init__(self, url: str):
        self.url = url
        self.sa_url: URL = make_url(url)

    def dump(self, folder: Path) -> DatabaseDump:
        target = folder / DUMP_NAME
        with _connected(self._dsn()) as conn:
            conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
            revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]
            seq, digest = conn.execute("SELECT seq, hash FROM audit_head WHERE id = 1").fetchone()
            # The exporting transaction stays open while pg_dump reads the same snapshot.
            self._tool("pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot}",
                       f"--file={target}")
            conn.rollback()
        _fsync(target)
        return DatabaseDump(files=(DUMP_NAME,), schema_revision=revision,
                            audit_head=AuditHead(sequence=seq, hash=digest))

    def state(self) -> DatabaseState:
        engine = create_engine(self.url)
        try:
            with engine.connect() as conn:
                return database_state(conn)
        finally:
            engine.dispose()

    def load(self, folder: Path, files: tuple[str, ...]) -> None:
        """The target's schema is emptied first (a freshly migrated database has tables, no data; the caller has
        refused one with data unless told to overwrite), then the dump is restored in one transaction: all of it
        or nothing."""
        (name,) = files
        with _connected(self._dsn(), autocommit=True) as conn:
            conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
            conn.execute("CREATE SCHEMA public")
        self._tool("pg_restore", "--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error",
                   str(folder / name), dbname_flag=True)

    def known_revisions(self) -> list[str]:
        return known_revisions(self.url)

    def migrate(self) -> None:
        migrate(self.url)

    # --- connections: the password goes to the tools in their environment, never on a command line ---
    def _dsn(self) -> str:
        return self.sa_url.set(drivername="postgresql").render_as_string(hide_password=False)

    def _tool(self, name: str, *args: str, dbname_flag: bool = False) -> None:
        u = self.sa_url
        env = {**os.environ, "PGHOST": u.host or "localhost", "PGPORT": str(u.port or 5432),
               "PGUSER": u.username or "", "PGDATABASE": u.database or ""}
        if u.password is not None:
            env["PGPASSWORD"] = str(u.password)
        for param, var in _LIBPQ_PARAMS.items():
            if param in u.query:
                env[var] = str(u.query[param])
        cmd = [_client(name), *args]
        if dbname_flag:
            cmd.insert(-1, f"--dbname={u.database}")
        done = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            raise Unavailable(f"{name} failed (exit {done.returncode}): {' | '.join(tail)}", code="backup_tool_failed")


def _client(name: str) -> str:
    for folder in CLIENT_DIRS:
        if Path(folder, name).exists():
            return str(Path(folder, name))
    found = shutil.which(name)
    if found is None:
        raise Unavailable(f"{name} is not installed (Debian: apt-get install postgresql-client)",
                          code="backup_tool_missing")
    return found


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def _connected(dsn: str, autocommit: bool = False) -> Iterator[psycopg.Connection]:
    """A connection whose failures read as the database being unavailable (one line, no traceback, no password:
    libpq's messages name the host and user only)."""
    try:
        with psycopg.connect(dsn, autocommit=autocommit, connect_timeout=10) as conn:
            yield conn
    except psycopg.Error as exc:
        raise Unavailable(f"PostgreSQL: {str(exc).strip()}", code="database_unavailable") from None
