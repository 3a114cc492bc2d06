"""reference_event: category and after_close columns

Every dated event gets a ``category`` (one of
``bubblewatch.core.settings.EVENT_CATEGORIES``: export control, China policy,
demand shock...) and ``after_close`` (the news came after the US close, so the
next session is the first that can react). Rows already stored get an empty
category and ``after_close = false`` until ``bubblewatch init`` upserts the
built-in events again, which fills both.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('reference_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('category', sa.String(length=32), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('after_close', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('reference_event', schema=None) as batch_op:
        batch_op.drop_column('after_close')
        batch_op.drop_column('category')
