"""The unit of work: one transaction holding an action and its audit record together."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from openrtcc.adapters.db.account_repo import SqlAccountRepo
from openrtcc.adapters.db.activity_repo import SqlActivityRepo
from openrtcc.adapters.db.alert_repo import SqlAlertRepo
from openrtcc.adapters.db.anchor_repo import SqlAnchorRepo
from openrtcc.adapters.db.audit_repo import SqlAuditLog
from openrtcc.adapters.db.camera_repo import SqlCameraRepo
from openrtcc.adapters.db.dissemination_repo import SqlDisseminationRepo
from openrtcc.adapters.db.edge_repo import SqlEdgeRepo
from openrtcc.adapters.db.emergency_repo import SqlEmergencyRepo
from openrtcc.adapters.db.footage_repo import SqlFootageRepo
from openrtcc.adapters.db.governance_repo import SqlGovernanceRepo
from openrtcc.adapters.db.hotlist_repo import SqlHotListRepo
from openrtcc.adapters.db.incident_repo import SqlIncidentRepo
from openrtcc.adapters.db.integration_repo import SqlIntegrationRepo
from openrtcc.adapters.db.live_repo import SqlLiveRepo
from openrtcc.adapters.db.plate_integration_repo import SqlPlateIntegrationRepo
from openrtcc.adapters.db.public_subscriber_repo import SqlPublicSubscriberRepo
from openrtcc.adapters.db.read_partitions import ReadPartitions
from openrtcc.adapters.db.read_repo import SqlReadRepo
from openrtcc.adapters.db.read_source_repo import SqlReadSourceRepo
from openrtcc.adapters.db.retention_repo import SqlRetentionRepo
from openrtcc.adapters.db.search_log_repo import SqlSearchLogRepo
from openrtcc.adapters.db.sharing_repo import SqlSharingRepo
from openrtcc.adapters.db.sqlite_writer import acquire, writer_lock
from openrtcc.adapters.db.tip_repo import SqlTipRepo
from openrtcc.adapters.db.transparency_repo import SqlTransparencyRepo
from openrtcc.domain.audit import AuditEntry, AuditRecord
from openrtcc.domain.audit_scope import mark_committed
from openrtcc.domain.clock import Clock, IdFactory
from openrtcc.domain.errors import AuditUnavailable, Unavailable


def database_unavailable(exc: BaseException) -> Unavailable | None:
    """The refusal to give for a failure of the database itself (down, restarting, unreachable, a lock or
    serialisation failure, every pooled connection busy past the pool's timeout): 503, try again, rather than a 500
    that reads like a bug. None for other errors."""
    if isinstance(exc, (OperationalError, InterfaceError, DisconnectionError, PoolTimeout)) or (
            isinstance(exc, DBAPIError) and exc.connection_invalidated):
        return Unavailable("the database is unavailable; nothing was changed, try again shortly",
                           code="database_unavailable")
    return None


class UnauditedCommit(RuntimeError):
    """A unit of work tried to commit without writing its audit record: a programming error."""


class SqlUnitOfWork:
    def __init__(self, engine: Engine, clock: Clock, ids: IdFactory,
                 account_changes: Callable[[set[str], set[str]], None] | None = None):
        self.engine = engine
        self.clock = clock
        self.ids = ids
        self._read_only = False
        self._account_changes = account_changes  # told (user ids, session token hashes) after each commit

    def reading(self) -> SqlUnitOfWork:
        """Make this a read-only unit of work: no write lock, a snapshot read (SQLite WAL reads beside the
        writer) and no commit. For checks made on every request (the session), which then neither wait
        behind other requests' writes nor hold them up."""
        self._read_only = True
        return self

    def __enter__(self) -> SqlUnitOfWork:
        self._writer = None if self._read_only else writer_lock(self.engine)
        acquire(self._writer)
        try:
            self.conn = self.engine.connect()
            if self._read_only:
                self.conn.execution_options(read_only=True)  # engine.py: a plain BEGIN on SQLite
            self.tx = self.conn.begin()
        except BaseException as exc:
            self._release_writer()
            refusal = database_unavailable(exc)
            if refusal is not None:
                raise refusal from exc
            raise
        self.cameras = SqlCameraRepo(self.conn)
        self.accounts = SqlAccountRepo(self.conn)
        self.footage = SqlFootageRepo(self.conn)
        self.hotlists = SqlHotListRepo(self.conn)
        self.activity = SqlActivityRepo(self.conn)
        self.read_sources = SqlReadSourceRepo(self.conn)
        self.reads = SqlReadRepo(self.conn)
        self.alerts = SqlAlertRepo(self.conn)
        self.edges = SqlEdgeRepo(self.conn)
        self.emergencies = SqlEmergencyRepo(self.conn)
        self.live = SqlLiveRepo(self.conn)
        self.incidents = SqlIncidentRepo(self.conn)
        self.integrations = SqlIntegrationRepo(self.conn)
        self.tips = SqlTipRepo(self.conn)
        self.public_subscribers = SqlPublicSubscriberRepo(self.conn)
        self.dissemination = SqlDisseminationRepo(self.conn)
        self.plate_integrations = SqlPlateIntegrationRepo(self.conn)
        self.governance = SqlGovernanceRepo(self.conn)
        self.retention = SqlRetentionRepo(self.conn)
        self.searches = SqlSearchLogRepo(self.conn)
        self.sharing = SqlSharingRepo(self.conn)
        self.transparency = SqlTransparencyRepo(self.conn)
        self.anchors = SqlAnchorRepo(self.conn)
        self.read_partitions = ReadPartitions(self.conn)
        self.audit = SqlAuditLog(self.conn, self.clock)
        self._done = False
        return self

    def record(self, entry: AuditEntry) -> AuditRecord:
        """Append to the audit chain inside this transaction; failure refuses the whole action."""
        try:
            return self.audit.append(entry)
        except DBAPIError as exc:
            raise AuditUnavailable("the audit log could not be written, so the action was refused") from exc

    def commit(self) -> None:
        self._refuse_if_reading()
        if not self.audit.written:
            raise UnauditedCommit("every action commits together with its audit record")
        self._commit()
        mark_committed()  # the request's fallback audit (web/request_audit.py) is not needed
        self._done = True
        self._release_writer()

    def commit_bookkeeping(self) -> None:
        """Commit state that is not an action of anyone's (a session's last-seen time): no audit record."""
        self._refuse_if_reading()
        self._commit()
        if self.audit.written:
            mark_committed()
        self._done = True
        self._release_writer()

    def _commit(self) -> None:
        try:
            self.tx.commit()
        finally:  # also when the commit's outcome is unknown: forgetting a verified session is always safe
            changed = self.accounts.changed_users, self.accounts.changed_sessions
            if self._account_changes is not None and (changed[0] or changed[1]):
                self._account_changes(*changed)

    def _refuse_if_reading(self) -> None:
        if self._read_only:
            raise UnauditedCommit("a read-only unit of work cannot commit: open a writing one")

    def rollback(self) -> None:
        if not self._done:
            self.tx.rollback()
            self._done = True
        self._release_writer()

    def _release_writer(self) -> None:
        if self._writer is not None:
            self._writer.release()
            self._writer = None

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            self.rollback()
        except DBAPIError:
            if exc is None:
                raise
            # The connection is gone with the failure already raised in the block: that failure is the answer.
        finally:
            self._release_writer()
            self.conn.close()
        refusal = database_unavailable(exc) if exc is not None else None
        if refusal is not None:
            raise refusal from exc
