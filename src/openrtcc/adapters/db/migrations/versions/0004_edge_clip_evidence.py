"""evidence items from edge clips: no footage request behind them

A clip an agency asks of an integrated camera's edge box lands in the case's evidence like an owner's
upload, but no footage request (to owners near an incident) lies behind it: request_id becomes optional.

Revision ID: 0004
Revises: 0003
"""

from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('evidence_item', schema=None) as batch_op:
        batch_op.alter_column('request_id', existing_type=sa.String(length=36), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM evidence_item WHERE request_id IS NULL")
    with op.batch_alter_table('evidence_item', schema=None) as batch_op:
        batch_op.alter_column('request_id', existing_type=sa.String(length=36), nullable=False)
