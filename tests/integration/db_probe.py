"""Looking into the test database directly: what was (or was not) written, and tampering on purpose."""

from __future__ import annotations

from sqlalchemy import select, text

from openrtcc.adapters.db.tables import audit_log


def engine(hub):
    return hub.extras["engine"]


def scalar(hub, sql: str, **params):
    with engine(hub).connect() as conn:
        return conn.execute(text(sql), params).scalar()


def rows(hub, sql: str, **params) -> list:
    with engine(hub).connect() as conn:
        return list(conn.execute(text(sql), params))


def count(hub, table: str, where: str = "1=1", **params) -> int:
    return scalar(hub, f"SELECT COUNT(*) FROM {table} WHERE {where}", **params)


def audit_head_seq(hub) -> int:
    return scalar(hub, "SELECT COALESCE(MAX(seq), 0) FROM audit_log")


def audit_after(hub, seq: int) -> list:
    """Audit records written after `seq`, oldest first."""
    with engine(hub).connect() as conn:  # through the table, so that details come back as JSON
        return list(conn.execute(select(audit_log).where(audit_log.c.seq > seq).order_by(audit_log.c.seq)))


def execute(hub, *statements: str) -> None:
    """Run raw SQL in one committed transaction (for tampering and fault injection)."""
    with engine(hub).begin() as conn:
        for sql in statements:
            conn.execute(text(sql))


def is_postgres(hub) -> bool:
    return engine(hub).dialect.name == "postgresql"


def drop_append_only_guard(hub) -> None:
    """What an intruder with database access would do first."""
    if is_postgres(hub):
        execute(hub, "DROP TRIGGER audit_log_append_only ON audit_log")
    else:
        execute(hub, "DROP TRIGGER audit_log_no_update", "DROP TRIGGER audit_log_no_delete")


def break_audit_inserts(hub) -> None:
    """Make every INSERT into audit_log fail, as a full disk or a lost connection would."""
    if is_postgres(hub):
        execute(hub,
                "CREATE FUNCTION test_audit_down() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'audit storage unavailable'; END $$",
                "CREATE TRIGGER test_audit_down BEFORE INSERT ON audit_log "
                "FOR EACH ROW EXECUTE FUNCTION test_audit_down()")
    else:
        execute(hub, "CREATE TRIGGER test_audit_down BEFORE INSERT ON audit_log "
                     "BEGIN SELECT RAISE(ABORT, 'audit storage unavailable'); END")


def repair_audit_inserts(hub) -> None:
    if is_postgres(hub):
        execute(hub, "DROP TRIGGER test_audit_down ON audit_log", "DROP FUNCTION test_audit_down()")
    else:
        execute(hub, "DROP TRIGGER test_audit_down")
