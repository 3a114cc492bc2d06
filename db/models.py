"""Core tables: instruments, prices, fundamentals, reference data, indicator
results (series as yearly blocks, :mod:`db.blocks`), stored universes and the
run log.

Natural keys are unique constraints so every write is an idempotent upsert
(see :mod:`db.upsert`). Dates of market data are plain ``Date`` (exchange
dates); instants of bookkeeping are timezone-aware ``DateTime``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, utcnow


class Instrument(Base):
    """A watched symbol (stock or index)."""

    __tablename__ = "market_instrument"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    symbol: Mapped[str] = mapped_column(String(16), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(128), nullable=False)
    cohorts: Mapped[str] = mapped_column(String(128), nullable=False, default="")
    cik: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    fiscal_year_end: Mapped[int] = mapped_column(Integer, nullable=False, default=12)
    is_index: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    listed: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, default=utcnow, server_default=func.now()
    )


class PriceBar(Base):
    """One daily bar. ``close`` is split-adjusted; ``adj_close`` also dividend-adjusted."""

    __tablename__ = "market_price"
    __table_args__ = (
        UniqueConstraint("symbol", "date", "source"),
        Index("ix_market_price_symbol_date", "symbol", "date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    symbol: Mapped[str] = mapped_column(
        String(16), ForeignKey("market_instrument.symbol", ondelete="CASCADE"), nullable=False
    )
    date: Mapped[date] = mapped_column(Date, nullable=False)
    open: Mapped[float | None] = mapped_column(Float, nullable=True)
    high: Mapped[float | None] = mapped_column(Float, nullable=True)
    low: Mapped[float | None] = mapped_column(Float, nullable=True)
    close: Mapped[float] = mapped_column(Float, nullable=False)
    adj_close: Mapped[float] = mapped_column(Float, nullable=False)
    volume: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    source: Mapped[str] = mapped_column(String(32), nullable=False)
    ingested_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, default=utcnow, server_default=func.now()
    )


class FundamentalFact(Base):
    """One XBRL fact as filed. Every vintage is kept: the same period reported
    in a later filing is a new row (different ``accession``), so queries can ask
    what was known on a date (``filed <= D``).

    Instant facts (balance-sheet items) have ``period_start == period_end`` and
    ``instant`` true.
    """

    __tablename__ = "fundamental_fact"
    __table_args__ = (
        UniqueConstraint(
            "cik", "taxonomy", "concept", "unit", "period_start", "period_end", "accession"
        ),
        Index("ix_fundamental_fact_lookup", "cik", "concept", "period_end"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cik: Mapped[int] = mapped_column(Integer, nullable=False)
    symbol: Mapped[str | None] = mapped_column(String(16), nullable=True, index=True)
    taxonomy: Mapped[str] = mapped_column(String(32), nullable=False)
    concept: Mapped[str] = mapped_column(String(255), nullable=False)
    unit: Mapped[str] = mapped_column(String(32), nullable=False)
    period_start: Mapped[date] = mapped_column(Date, nullable=False)
    period_end: Mapped[date] = mapped_column(Date, nullable=False)
    instant: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    value: Mapped[float] = mapped_column(Float, nullable=False)
    fiscal_year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    fiscal_period: Mapped[str | None] = mapped_column(String(8), nullable=True)
    form: Mapped[str] = mapped_column(String(32), nullable=False)
    filed: Mapped[date] = mapped_column(Date, nullable=False)
    accession: Mapped[str] = mapped_column(String(32), nullable=False)
    frame: Mapped[str | None] = mapped_column(String(32), nullable=True)
    source: Mapped[str] = mapped_column(String(32), nullable=False)
    ingested_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, default=utcnow, server_default=func.now()
    )


class ReferenceFigure(Base):
    """A built-in reference figure (dot-com era and other cited facts)."""

    __tablename__ = "reference_figure"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(96), unique=True, nullable=False)
    entity: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    metric: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    value: Mapped[float] = mapped_column(Float, nullable=False)
    unit: Mapped[str] = mapped_column(String(32), nullable=False)
    period_start: Mapped[date | None] = mapped_column(Date, nullable=True)
    period_end: Mapped[date | None] = mapped_column(Date, nullable=True)
    label: Mapped[str] = mapped_column(Text, nullable=False)
    source: Mapped[str] = mapped_column(Text, nullable=False)
    source_tag: Mapped[str] = mapped_column(String(8), nullable=False)


class ReferenceEvent(Base):
    """A dated event used as an analog anchor and chart note."""

    __tablename__ = "reference_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    date: Mapped[date] = mapped_column(Date, nullable=False, index=True)
    title: Mapped[str] = mapped_column(String(255), nullable=False)
    era: Mapped[str] = mapped_column(String(16), nullable=False)
    #: One of ``bubblewatch.core.settings.EVENT_CATEGORIES`` (export control, China policy...).
    category: Mapped[str] = mapped_column(String(32), nullable=False, default="",
                                          server_default="")
    #: True when the news came after the US close (the next session is the first to react).
    after_close: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False,
                                              server_default=false())
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    source: Mapped[str] = mapped_column(Text, nullable=False, default="")


class IndicatorRun(Base):
    """The latest computation of one (indicator, key, params): parameters,
    as-of date (last input date), summary statistics in ``meta``."""

    __tablename__ = "indicator_run"
    __table_args__ = (UniqueConstraint("indicator", "key", "params_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    indicator: Mapped[str] = mapped_column(String(64), nullable=False)
    key: Mapped[str] = mapped_column(String(64), nullable=False)
    params_hash: Mapped[str] = mapped_column(String(16), nullable=False)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    as_of: Mapped[date | None] = mapped_column(Date, nullable=True)
    first_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    last_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    rows: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    #: The series' last date with a value and each field's last value there
    #: (``{"date": ..., "values": {field: value}}``), for scans over many keys.
    last_values: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    computed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, default=utcnow, server_default=func.now()
    )


class IndicatorBlock(Base):
    """One calendar year of one indicator series (every field), compactly
    encoded (:mod:`db.blocks`): ``fields`` names the value rows of ``data``,
    ``n_values`` counts its finite values."""

    __tablename__ = "indicator_block"
    __table_args__ = (UniqueConstraint("indicator", "key", "params_hash", "year"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    indicator: Mapped[str] = mapped_column(String(64), nullable=False)
    key: Mapped[str] = mapped_column(String(64), nullable=False)
    params_hash: Mapped[str] = mapped_column(String(16), nullable=False)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    first_date: Mapped[date] = mapped_column(Date, nullable=False)
    last_date: Mapped[date] = mapped_column(Date, nullable=False)
    n_rows: Mapped[int] = mapped_column(Integer, nullable=False)
    n_values: Mapped[int] = mapped_column(Integer, nullable=False)
    fields: Mapped[str] = mapped_column(Text, nullable=False)
    data: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    computed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, default=utcnow, server_default=func.now()
    )


class IndicatorState(Base):
    """What an incremental update of one (indicator, key, params) needs beyond
    the stored series (a running peak, the inputs' fingerprint), as JSON."""

    __tablename__ = "indicator_state"
    __table_args__ = (UniqueConstraint("indicator", "key", "params_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    indicator: Mapped[str] = mapped_column(String(64), nullable=False)
    key: Mapped[str] = mapped_column(String(64), nullable=False)
    params_hash: Mapped[str] = mapped_column(String(16), nullable=False)
    state: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, default=utcnow, server_default=func.now()
    )


class UniverseDef(Base):
    """A universe stored by ``bubblewatch universe add`` (its members are
    :class:`UniverseMember` rows)."""

    __tablename__ = "universe_def"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    source: Mapped[str] = mapped_column(Text, nullable=False, default="")
    members: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    added_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, default=utcnow, server_default=func.now()
    )


class UniverseMember(Base):
    """One membership span of a symbol in a stored universe (``joined``
    inclusive, ``left`` exclusive; None: open)."""

    __tablename__ = "universe_member"
    __table_args__ = (UniqueConstraint("universe", "symbol", "span"),
                      Index("ix_universe_member_symbol", "symbol"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    universe: Mapped[str] = mapped_column(String(64), nullable=False)
    symbol: Mapped[str] = mapped_column(String(16), nullable=False)
    span: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    joined: Mapped[date | None] = mapped_column(Date, nullable=True)
    left: Mapped[date | None] = mapped_column(Date, nullable=True)


class IndicatorEventRow(Base):
    """A dated episode found by an indicator (replaced on each recompute)."""

    __tablename__ = "indicator_event"
    __table_args__ = (UniqueConstraint("indicator", "key", "params_hash", "kind", "start"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    indicator: Mapped[str] = mapped_column(String(64), nullable=False)
    key: Mapped[str] = mapped_column(String(64), nullable=False)
    params_hash: Mapped[str] = mapped_column(String(16), nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    start: Mapped[date] = mapped_column(Date, nullable=False)
    end: Mapped[date | None] = mapped_column(Date, nullable=True)
    peak: Mapped[date | None] = mapped_column(Date, nullable=True)
    ongoing: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    attrs: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    computed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, default=utcnow, server_default=func.now()
    )


class RunLog(Base):
    """One run of a job: what it did and how it ended.

    ``status`` is ``running``, ``ok``, ``partial`` (some items failed) or
    ``failed``; ``detail`` maps item (symbol, file) to its outcome.
    """

    __tablename__ = "ops_run_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    rows: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


class JobLock(Base):
    """Single-instance lease: the scheduler holding ``name`` renews it; another
    may take it only after ``expires_at``."""

    __tablename__ = "ops_job_lock"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner: Mapped[str] = mapped_column(String(128), nullable=False)
    acquired_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
