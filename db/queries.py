"""Read-only queries the dashboard needs beyond :mod:`db.repo`.

Every function takes the session first, only reads, and returns plain pandas
frames or builtins (so the dashboard can cache them). Alert tables belong to
another module (:mod:`db.alerts_models`); they are read by reflection so the
dashboard keeps working, with an empty state, on a database that does not have
them yet.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import pandas as pd
from sqlalchemy import MetaData, Table, func, inspect, select
from sqlalchemy.orm import Session

from bubblewatch.core.universe import Universe
from db.freshness import FreshnessReport, freshness_report
from db.models import (
    FundamentalFact,
    IndicatorEventRow,
    IndicatorRun,
    Instrument,
    PriceBar,
    ReferenceEvent,
    ReferenceFigure,
    RunLog,
)

#: Prefix of the alert tables (see ``db/alerts_models.py``).
ALERT_TABLE_PREFIX = "alert_"

#: Column names whose values are secrets or may contain one: masked on read.
_SECRET_COLUMN = re.compile(r"(secret|password|passwd|token|webhook|api_?key|credential)", re.IGNORECASE)
#: Values that look like a secret whatever their column (Slack webhooks, URLs with passwords).
_SECRET_VALUE = re.compile(r"(hooks\.slack\.com/\S+|://[^/\s:@]+:[^/\s@]+@)", re.IGNORECASE)
MASK = "••••••"

CATALOG_COLUMNS = ["indicator", "key", "params_hash", "params", "as_of", "first_date",
                   "last_date", "rows", "meta", "computed_at"]


def has_core_schema(session: Session) -> bool:
    """Whether the core tables exist (the database was initialised/migrated)."""
    names = set(inspect(session.get_bind()).get_table_names())
    return {PriceBar.__tablename__, IndicatorRun.__tablename__, RunLog.__tablename__} <= names


def table_names(session: Session) -> list[str]:
    return sorted(inspect(session.get_bind()).get_table_names())


# --------------------------------------------------------------------------- inventory
def data_inventory(session: Session) -> dict[str, Any]:
    """What the database holds, per source: counts and the newest dates.

    Returns
    -------
    dict
        ``instruments``, ``price_symbols``, ``price_rows``, ``price_last_date``
        (newest bar of any symbol), ``fact_companies``, ``fact_rows``,
        ``fact_last_filed``, ``reference_figures``, ``reference_events``,
        ``indicator_runs``, ``indicators`` (distinct names).
    """
    n_ins = session.scalar(select(func.count()).select_from(Instrument)) or 0
    p_sym, p_rows, p_last = session.execute(
        select(func.count(func.distinct(PriceBar.symbol)), func.count(), func.max(PriceBar.date))
    ).one()
    f_cos, f_rows, f_last = session.execute(
        select(func.count(func.distinct(FundamentalFact.cik)), func.count(),
               func.max(FundamentalFact.filed))
    ).one()
    n_fig = session.scalar(select(func.count()).select_from(ReferenceFigure)) or 0
    n_ev = session.scalar(select(func.count()).select_from(ReferenceEvent)) or 0
    n_runs, n_ind = session.execute(
        select(func.count(), func.count(func.distinct(IndicatorRun.indicator)))
    ).one()
    return {
        "instruments": int(n_ins), "price_symbols": int(p_sym or 0), "price_rows": int(p_rows or 0),
        "price_last_date": p_last, "fact_companies": int(f_cos or 0),
        "fact_rows": int(f_rows or 0), "fact_last_filed": f_last, "reference_figures": int(n_fig),
        "reference_events": int(n_ev), "indicator_runs": int(n_runs or 0),
        "indicators": int(n_ind or 0),
    }


def price_coverage(session: Session) -> pd.DataFrame:
    """One row per symbol with prices: ``symbol, name, cohorts, first_date, last_date, bars``."""
    q = (
        select(PriceBar.symbol, func.min(PriceBar.date), func.max(PriceBar.date), func.count())
        .group_by(PriceBar.symbol)
        .order_by(PriceBar.symbol)
    )
    cov = pd.DataFrame(session.execute(q).all(),
                       columns=["symbol", "first_date", "last_date", "bars"])
    names = pd.DataFrame(
        session.execute(select(Instrument.symbol, Instrument.name, Instrument.cohorts)).all(),
        columns=["symbol", "name", "cohorts"],
    )
    out = cov.merge(names, on="symbol", how="left")
    return out[["symbol", "name", "cohorts", "first_date", "last_date", "bars"]]


def close_series(session: Session, symbol: str) -> pd.Series:
    """Split-adjusted daily closes of ``symbol`` (USD), indexed by date; where
    two sources hold a date, the newest ingest wins. Empty if none.

    (Rows are turned into tuples before pandas sees them: several times faster
    than building the frame from SQLAlchemy ``Row`` objects.)
    """
    q = (select(PriceBar.date, PriceBar.close)
         .where(PriceBar.symbol == symbol)
         .order_by(PriceBar.date, PriceBar.ingested_at))
    rows = [tuple(r) for r in session.execute(q)]
    if not rows:
        return pd.Series(dtype=float, name=symbol, index=pd.DatetimeIndex([], name="date"))
    df = pd.DataFrame(rows, columns=["date", "close"]).drop_duplicates("date", keep="last")
    return pd.Series(df["close"].to_numpy(dtype=float), name=symbol,
                     index=pd.DatetimeIndex(pd.to_datetime(df["date"]), name="date"))


def closes_since(session: Session, start: date, symbols: Sequence[str] | None = None) -> pd.DataFrame:
    """Wide frame of split-adjusted closes (``close``) from ``start`` on:
    ``DatetimeIndex`` x symbol. Where two sources hold a date, the newest ingest wins."""
    q = select(PriceBar.symbol, PriceBar.date, PriceBar.close, PriceBar.ingested_at).where(
        PriceBar.date >= start
    )
    if symbols:
        q = q.where(PriceBar.symbol.in_(list(symbols)))
    rows = [tuple(r) for r in session.execute(q.order_by(PriceBar.ingested_at))]
    if not rows:
        return pd.DataFrame()
    df = pd.DataFrame(rows, columns=["symbol", "date", "close", "ingested_at"])
    wide = df.pivot_table(index="date", columns="symbol", values="close", aggfunc="last")
    wide.index = pd.to_datetime(wide.index)
    wide.columns.name = None
    return wide.sort_index()


# --------------------------------------------------------------------------- indicators
def indicator_catalog(session: Session, indicator: str | None = None) -> pd.DataFrame:
    """The latest run of every (indicator, key): parameters, as-of date, date
    range, row count, ``meta`` and ``computed_at`` (one row each, sorted)."""
    q = select(IndicatorRun)
    if indicator is not None:
        q = q.where(IndicatorRun.indicator == indicator)
    best: dict[tuple[str, str], IndicatorRun] = {}
    for run in session.scalars(q.order_by(IndicatorRun.computed_at, IndicatorRun.id)):
        best[(run.indicator, run.key)] = run
    recs = [
        {"indicator": r.indicator, "key": r.key, "params_hash": r.params_hash,
         "params": dict(r.params or {}), "as_of": r.as_of, "first_date": r.first_date,
         "last_date": r.last_date, "rows": r.rows, "meta": dict(r.meta or {}),
         "computed_at": r.computed_at}
        for r in best.values()
    ]
    df = pd.DataFrame(recs, columns=CATALOG_COLUMNS)
    return df.sort_values(["indicator", "key"]).reset_index(drop=True)


def indicator_event_counts(session: Session) -> dict[tuple[str, str], int]:
    """(indicator, key) -> number of stored episodes (all parameter sets)."""
    q = select(IndicatorEventRow.indicator, IndicatorEventRow.key, func.count()).group_by(
        IndicatorEventRow.indicator, IndicatorEventRow.key
    )
    return {(i, k): int(n) for i, k, n in session.execute(q)}


# --------------------------------------------------------------------------- run log
def freshness(session: Session, universe: Universe, now: datetime | None = None
              ) -> FreshnessReport:
    """How fresh each source's data is at ``now``: the newest data date
    against the date the trading calendar (or the SEC filing deadlines)
    expects, per exchange, company and alert stage. See
    :func:`db.freshness.freshness_report`, which ``bubblewatch status``
    prints as well, so the dashboard and the command line agree."""
    return freshness_report(session, universe, now)


def run_history(session: Session, limit: int = 50) -> pd.DataFrame:
    """The most recent runs of every job, newest first (no ``detail``)."""
    q = select(RunLog.id, RunLog.job, RunLog.status, RunLog.started_at, RunLog.finished_at,
               RunLog.rows, RunLog.error).order_by(RunLog.started_at.desc(), RunLog.id.desc())
    rows = session.execute(q.limit(limit)).all()
    return pd.DataFrame(rows, columns=["id", "job", "status", "started_at", "finished_at", "rows",
                                       "error"])


# --------------------------------------------------------------------------- alerts
def alert_table_names(session: Session) -> list[str]:
    """Alert tables present in the database (empty before the alerts migration)."""
    return [n for n in table_names(session) if n.startswith(ALERT_TABLE_PREFIX)]


def read_table(session: Session, name: str, limit: int = 200) -> pd.DataFrame:
    """Newest ``limit`` rows of table ``name`` (by ``id`` or the first date-time
    column when present), with secrets masked (see :func:`mask_secrets`).

    Raises
    ------
    KeyError
        If the table does not exist.
    """
    bind = session.get_bind()
    if name not in inspect(bind).get_table_names():
        raise KeyError(f"table {name!r} does not exist; run `bubblewatch db-upgrade`")
    table = Table(name, MetaData(), autoload_with=bind)
    q = select(table)
    order = _order_column(table)
    if order is not None:
        q = q.order_by(order.desc())
    rows = session.execute(q.limit(limit)).mappings().all()
    df = pd.DataFrame([dict(r) for r in rows], columns=[c.name for c in table.columns])
    return mask_secrets(df)


def _order_column(table: Table) -> Any:
    cols = {c.name: c for c in table.columns}
    for name in ("created_at", "fired_at", "updated_at", "sent_at", "id"):
        if name in cols:
            return cols[name]
    pk = list(table.primary_key.columns)
    return pk[0] if pk else None


def mask_secrets(df: pd.DataFrame) -> pd.DataFrame:
    """Copy of ``df`` with secret-looking columns and values replaced by a mask.

    Columns whose name mentions a secret (``password``, ``token``, ``webhook``
    ...) are masked entirely unless they hold the *name* of an environment
    variable (``..._env``); Slack webhook URLs and URLs with embedded
    credentials are masked wherever they appear.
    """
    out = df.copy()
    for col in out.columns:
        if _SECRET_COLUMN.search(str(col)) and not str(col).endswith("_env"):
            out[col] = out[col].map(lambda v: v if _blank(v) else MASK)
        elif (pd.api.types.is_object_dtype(out[col].dtype)
              or pd.api.types.is_string_dtype(out[col].dtype)):
            out[col] = out[col].map(_mask_value)
    return out


def _blank(v: Any) -> bool:
    if v is None or (isinstance(v, str) and v == ""):
        return True
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _mask_value(v: Any) -> Any:
    if isinstance(v, str):
        return _SECRET_VALUE.sub(MASK, v)
    if isinstance(v, dict):
        return {k: (MASK if _SECRET_COLUMN.search(str(k)) and not str(k).endswith("_env")
                    and not _blank(x) else _mask_value(x)) for k, x in v.items()}
    if isinstance(v, list):
        return [_mask_value(x) for x in v]
    return v

