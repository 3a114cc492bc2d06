"""indicator series as yearly blocks; incremental state; stored universes

``indicator_value`` (one row per value: 150-250 bytes each) becomes
``indicator_block``: one row per (indicator, key, params, calendar year)
holding every field's values, compactly encoded (``db/blocks.py``; measured
in ``benchmarks/bench_storage.py``). Values move over bit for bit; the old
table is dropped. ``indicator_run.last_values`` keeps each series' latest
values for scans; ``indicator_state`` what incremental updates need;
``universe_def``/``universe_member`` the universes stored by
``bubblewatch universe add``. The downgrade expands the blocks back into rows.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import sqlalchemy as sa
from alembic import op

from db import blocks

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _new_tables() -> None:
    op.create_table(
        'indicator_block',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('indicator', sa.String(length=64), nullable=False),
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('params_hash', sa.String(length=16), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('first_date', sa.Date(), nullable=False),
        sa.Column('last_date', sa.Date(), nullable=False),
        sa.Column('n_rows', sa.Integer(), nullable=False),
        sa.Column('n_values', sa.Integer(), nullable=False),
        sa.Column('fields', sa.Text(), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.Column('computed_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'),
                  nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_indicator_block')),
        sa.UniqueConstraint('indicator', 'key', 'params_hash', 'year',
                            name=op.f('uq_indicator_block_indicator_key_params_hash_year')),
    )
    op.create_table(
        'indicator_state',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('indicator', sa.String(length=64), nullable=False),
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('params_hash', sa.String(length=16), nullable=False),
        sa.Column('state', sa.JSON(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'),
                  nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_indicator_state')),
        sa.UniqueConstraint('indicator', 'key', 'params_hash',
                            name=op.f('uq_indicator_state_indicator_key_params_hash')),
    )
    op.create_table(
        'universe_def',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('source', sa.Text(), nullable=False),
        sa.Column('members', sa.Integer(), nullable=False),
        sa.Column('added_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'),
                  nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_universe_def')),
        sa.UniqueConstraint('name', name=op.f('uq_universe_def_name')),
    )
    op.create_table(
        'universe_member',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('universe', sa.String(length=64), nullable=False),
        sa.Column('symbol', sa.String(length=16), nullable=False),
        sa.Column('span', sa.Integer(), nullable=False),
        sa.Column('joined', sa.Date(), nullable=True),
        sa.Column('left', sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_universe_member')),
        sa.UniqueConstraint('universe', 'symbol', 'span',
                            name=op.f('uq_universe_member_universe_symbol_span')),
    )
    op.create_index('ix_universe_member_symbol', 'universe_member', ['symbol'], unique=False)
    with op.batch_alter_table('indicator_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_values', sa.JSON(), nullable=True))


def _value_table() -> sa.Table:
    return sa.Table(
        'indicator_value', sa.MetaData(),
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('indicator', sa.String(64)), sa.Column('key', sa.String(64)),
        sa.Column('params_hash', sa.String(16)), sa.Column('field', sa.String(64)),
        sa.Column('date', sa.Date), sa.Column('value', sa.Float),
        sa.Column('computed_at', sa.DateTime(timezone=True)),
    )


def _block_table() -> sa.Table:
    return sa.Table(
        'indicator_block', sa.MetaData(),
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('indicator', sa.String(64)), sa.Column('key', sa.String(64)),
        sa.Column('params_hash', sa.String(16)), sa.Column('year', sa.Integer),
        sa.Column('first_date', sa.Date), sa.Column('last_date', sa.Date),
        sa.Column('n_rows', sa.Integer), sa.Column('n_values', sa.Integer),
        sa.Column('fields', sa.Text), sa.Column('data', sa.LargeBinary),
        sa.Column('computed_at', sa.DateTime(timezone=True)),
    )


def _as_date(v: object) -> date:
    return v if isinstance(v, date) else date.fromisoformat(str(v)[:10])


def upgrade() -> None:
    _new_tables()
    bind = op.get_bind()
    values, block_t = _value_table(), _block_table()
    series = bind.execute(sa.select(values.c.indicator, values.c.key, values.c.params_hash)
                          .distinct()).all()
    for ind, key, phash in series:
        rows = bind.execute(
            sa.select(values.c.field, values.c.date, values.c.value, values.c.computed_at)
            .where(values.c.indicator == ind, values.c.key == key,
                   values.c.params_hash == phash)).all()
        df = pd.DataFrame(rows, columns=["field", "date", "value", "computed_at"])
        df["date"] = pd.to_datetime(df["date"].map(_as_date))
        wide = df.pivot_table(index="date", columns="field", values="value", aggfunc="last")
        stamp = df["computed_at"].dropna().max() if df["computed_at"].notna().any() else None
        out = []
        for year, blk in blocks.split_years(wide).items():
            out.append({
                "indicator": ind, "key": key, "params_hash": phash, "year": year,
                "first_date": blocks.to_date(int(blk.days[0])),
                "last_date": blocks.to_date(int(blk.days[-1])),
                "n_rows": int(blk.days.shape[0]), "n_values": blk.n_values,
                "fields": ",".join(blk.fields), "data": blocks.encode(blk.days, blk.values),
                "computed_at": stamp if stamp is not None else datetime.now(UTC),
            })
        if out:
            bind.execute(block_t.insert(), out)
    with op.batch_alter_table('indicator_value', schema=None) as batch_op:
        batch_op.drop_index('ix_indicator_value_series')
    op.drop_table('indicator_value')


def downgrade() -> None:
    op.create_table(
        'indicator_value',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('indicator', sa.String(length=64), nullable=False),
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('params_hash', sa.String(length=16), nullable=False),
        sa.Column('field', sa.String(length=64), nullable=False),
        sa.Column('date', sa.Date(), nullable=False),
        sa.Column('value', sa.Float(), nullable=False),
        sa.Column('computed_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'),
                  nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_indicator_value')),
        sa.UniqueConstraint('indicator', 'key', 'params_hash', 'field', 'date',
                            name=op.f('uq_indicator_value_indicator_key_params_hash_field_date')),
    )
    with op.batch_alter_table('indicator_value', schema=None) as batch_op:
        batch_op.create_index('ix_indicator_value_series', ['indicator', 'key', 'field', 'date'],
                              unique=False)
    bind = op.get_bind()
    values, block_t = _value_table(), _block_table()
    for b in bind.execute(sa.select(block_t)).mappings().all():
        blk = blocks.decode(b["data"], b["fields"].split(",") if b["fields"] else [])
        rows = []
        for i, f in enumerate(blk.fields):
            for d, v in zip(blk.days.tolist(), blk.values[i].tolist(), strict=True):
                if np.isfinite(v):
                    rows.append({"indicator": b["indicator"], "key": b["key"],
                                 "params_hash": b["params_hash"], "field": f,
                                 "date": blocks.to_date(d), "value": v,
                                 "computed_at": b["computed_at"]})
        if rows:
            bind.execute(values.insert(), rows)
    with op.batch_alter_table('indicator_run', schema=None) as batch_op:
        batch_op.drop_column('last_values')
    op.drop_index('ix_universe_member_symbol', table_name='universe_member')
    op.drop_table('universe_member')
    op.drop_table('universe_def')
    op.drop_table('indicator_state')
    op.drop_table('indicator_block')
