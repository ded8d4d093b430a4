"""Engine creation and migrations: SQLite in WAL mode, or PostgreSQL/PostGIS, behind one URL."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
AUTOCHECKPOINT_PAGES = 10_000


def make_engine(url: str, *, pool_size: int = 10, max_overflow: int = 20) -> Engine:
    """`pool_size` and `max_overflow` bound a PostgreSQL process's connections (several hub processes share the
    server's max_connections); SQLite's pool is fixed."""
    if url.startswith("sqlite"):
        if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "isolation_level": None}, pool_size=8, max_overflow=8
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own transaction handling is off (isolation_level=None); every unit of work
        # takes the write lock at BEGIN so that concurrent writers queue instead of deadlocking.
        # A connection marked read_only (a snapshot read, such as loading the hot-list index) begins a
        # plain read transaction: WAL lets it read beside the writer, even one in the same thread.
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql(
            "BEGIN" if conn.get_execution_options().get("read_only") else "BEGIN IMMEDIATE"))
        return engine
    return create_engine(url, pool_size=pool_size, max_overflow=max_overflow, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    # A checkpoint copies the WAL into the database and fsyncs it: 10-20 ms. Run on a committing request it
    # becomes that request's latency, so the served hub checkpoints in the background (SqliteCheckpointer)
    # and this threshold (about 40 MB) only bounds the WAL where nothing runs one.
    cur.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT_PAGES}")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    # Deleted rows are overwritten with zeros, not left in free pages: retention's deletion is real on disk.
    cur.execute("PRAGMA secure_delete=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(url: str) -> None:
    """Bring the schema to the newest revision (idempotent). On PostgreSQL several hub processes may start at
    once: they take turns on an advisory lock, so one migrates and the others find the schema at head."""
    if not url.startswith("postgresql"):
        command.upgrade(alembic_config(url), "head")
        return
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as lock:
        lock.execute("SELECT pg_advisory_lock(hashtextextended('openrtcc:migrate', 0))")
        try:
            command.upgrade(alembic_config(url), "head")
        finally:
            lock.execute("SELECT pg_advisory_unlock(hashtextextended('openrtcc:migrate', 0))")
