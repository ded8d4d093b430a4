"""plate reads in daily time partitions on PostgreSQL (a no-op on SQLite)

Expiry of reads becomes a partition drop instead of a DELETE of millions of rows. A partitioned table's
primary and unique keys must contain the partition key, so they gain captured_at; the foreign key
alert.read_id -> plate_read.id cannot point at such a table and is dropped (the retention purge deletes an
expired read's alerts before the read). A DEFAULT partition takes any read no day partition covers (late
or backfilled reads, reads stamped in the future), so an insert never fails for want of a partition.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-21 22:10:00
"""

from datetime import timedelta

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

# When an existing table is converted, the days from the longest retention (30 days) and a margin before today
# up to AHEAD_DAYS after it get a partition of their own; older rows go to the DEFAULT partition, where the
# per-agency DELETE of the purge expires them. Afterwards the hub's upkeep task keeps partitions ahead.
BACK_DAYS = 35
AHEAD_DAYS = 3
INDEXES = {  # name: (columns, unique) on both shapes of the table
    'ix_plate_read_agency_captured': (['agency_id', 'captured_at'], False),
    'ix_plate_read_agency_key': (['agency_id', 'plate_key'], False),
    'ix_plate_read_agency_plate': (['agency_id', 'plate'], False),
}
SEQUENCE = 'plate_read_seq_seq'  # made by 0002's serial column; kept so seq keeps counting up


def _columns() -> list[sa.Column]:
    """0002's columns, in the same order (the copies below use SELECT *)."""
    return [
        sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False,
                  server_default=sa.text(f"nextval('{SEQUENCE}'::regclass)")),
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('agency_id', sa.String(length=36), nullable=False),
        sa.Column('source_id', sa.String(length=36), nullable=False),
        sa.Column('read_key', sa.String(length=128), nullable=False),
        sa.Column('camera_id', sa.String(length=36), nullable=True),
        sa.Column('plate', sa.String(length=10), nullable=False),
        sa.Column('plate_key', sa.String(length=10), nullable=False),
        sa.Column('state', sa.String(length=2), nullable=True),
        sa.Column('region', sa.String(length=8), nullable=True),
        sa.Column('confidence', sa.Float(), nullable=False),
        sa.Column('candidates', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column('lat', sa.Float(), nullable=True),
        sa.Column('lon', sa.Float(), nullable=True),
        sa.Column('heading_deg', sa.Float(), nullable=True),
        sa.Column('vehicle_make', sa.String(length=40), nullable=True),
        sa.Column('vehicle_colour', sa.String(length=20), nullable=True),
        sa.Column('vehicle_type', sa.String(length=20), nullable=True),
        sa.Column('crop_key', sa.String(length=200), nullable=True),
        sa.Column('snapshot_key', sa.String(length=200), nullable=True),
        sa.Column('content_hash', sa.String(length=64), nullable=False),
        sa.Column('captured_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name='fk_plate_read_agency_id_agency'),
        sa.ForeignKeyConstraint(['source_id'], ['read_source.id'], name='fk_plate_read_source_id_read_source'),
    ]


def _set_aside(suffix: str) -> None:
    """Rename the current table and its indexes (index names are per schema) so the new shape can take them."""
    op.rename_table('plate_read', f'plate_read_{suffix}')
    for name in ['pk_plate_read', 'uq_plate_read_id', 'uq_plate_read_source_key', *INDEXES]:
        op.execute(f'ALTER INDEX {name} RENAME TO {name}_{suffix}')
    op.execute(f'ALTER SEQUENCE {SEQUENCE} OWNED BY NONE')


def _move_rows_and_drop(suffix: str) -> None:
    op.execute(f'INSERT INTO plate_read SELECT * FROM plate_read_{suffix}')
    op.execute(f'DROP TABLE plate_read_{suffix}')
    op.execute(f'ALTER SEQUENCE {SEQUENCE} OWNED BY plate_read.seq')


def _day_partitions(bind) -> None:
    today, oldest = bind.execute(sa.text(
        "SELECT (now() AT TIME ZONE 'UTC')::date, "
        "(SELECT min(captured_at AT TIME ZONE 'UTC')::date FROM plate_read_unpartitioned)")).one()
    day = max(min(oldest or today, today), today - timedelta(days=BACK_DAYS))
    while day <= today + timedelta(days=AHEAD_DAYS):
        end = day + timedelta(days=1)
        op.execute(f"CREATE TABLE plate_read_p{day:%Y%m%d} PARTITION OF plate_read "
                   f"FOR VALUES FROM ('{day.isoformat()} 00:00:00+00') TO ('{end.isoformat()} 00:00:00+00')")
        day = end


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != 'postgresql':
        return
    op.drop_constraint('fk_alert_read_id_plate_read', 'alert', type_='foreignkey')
    _set_aside('unpartitioned')
    op.create_table('plate_read', *_columns(),
                    sa.PrimaryKeyConstraint('seq', 'captured_at', name='pk_plate_read'),
                    sa.UniqueConstraint('id', 'captured_at', name='uq_plate_read_id'),
                    postgresql_partition_by='RANGE (captured_at)')
    op.create_index('uq_plate_read_source_key', 'plate_read', ['source_id', 'read_key', 'captured_at'], unique=True)
    for name, (columns, unique) in INDEXES.items():
        op.create_index(name, 'plate_read', columns, unique=unique)
    op.execute('CREATE TABLE plate_read_default PARTITION OF plate_read DEFAULT')
    _day_partitions(bind)
    _move_rows_and_drop('unpartitioned')


def downgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    _set_aside('partitioned')
    op.create_table('plate_read', *_columns(),
                    sa.PrimaryKeyConstraint('seq', name='pk_plate_read'),
                    sa.UniqueConstraint('id', name='uq_plate_read_id'))
    op.create_index('uq_plate_read_source_key', 'plate_read', ['source_id', 'read_key'], unique=True)
    for name, (columns, unique) in INDEXES.items():
        op.create_index(name, 'plate_read', columns, unique=unique)
    _move_rows_and_drop('partitioned')  # drops every partition with the parent
    # Fails (and the downgrade rolls back whole) if an alert points at a read that is gone.
    op.create_foreign_key('fk_alert_read_id_plate_read', 'alert', 'plate_read', ['read_id'], ['id'])
