"""What both database backup adapters share: the schema revisions this code knows, and the facts read from a
snapshot (revision, audit head, whether it holds data)."""

from __future__ import annotations

from alembic.script import ScriptDirectory
from sqlalchemy import Connection, func, inspect, select, text

from openrtcc.adapters.db.engine import alembic_config
from openrtcc.adapters.db.tables import agency, audit_head, audit_log
from openrtcc.domain.backup import AuditHead, DatabaseState


def known_revisions(url: str) -> list[str]:
    script = ScriptDirectory.from_config(alembic_config(url))
    return [r.revision for r in reversed(list(script.walk_revisions()))]


def snapshot_facts(conn: Connection) -> tuple[str, AuditHead]:
    revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    seq, digest = conn.execute(select(audit_head.c.seq, audit_head.c.hash)).one()
    return revision, AuditHead(sequence=seq, hash=digest)


def database_state(conn: Connection) -> DatabaseState:
    names = set(inspect(conn).get_table_names())
    ours = names - {"spatial_ref_sys"}  # PostGIS's own table is in every new PostGIS database
    if not ours:
        return DatabaseState(tables=0, audit_records=0, agencies=0)
    records = conn.execute(select(func.count()).select_from(audit_log)).scalar_one() if "audit_log" in names else 0
    agencies = conn.execute(select(func.count()).select_from(agency)).scalar_one() if "agency" in names else 0
    return DatabaseState(tables=len(ours), audit_records=records, agencies=agencies)
