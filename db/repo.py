"""Reads and writes, one function per question. Every function takes the
session first, uses ``select()``, and never commits: the caller's
:func:`db.session.session_scope` owns the transaction.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import and_, delete, func, select, update
from sqlalchemy.orm import Session

from bubblewatch.core.universe import Instrument as UniverseInstrument
from db.models import (
    FundamentalFact,
    IndicatorEventRow,
    IndicatorRun,
    IndicatorValue,
    Instrument,
    JobLock,
    PriceBar,
    ReferenceEvent,
    ReferenceFigure,
    RunLog,
)
from db.upsert import CHUNK, UpsertCounts, upsert

PRICE_COLUMNS = ["open", "high", "low", "close", "adj_close", "volume"]


# --------------------------------------------------------------------------- instruments
def upsert_instruments(session: Session, instruments: Iterable[UniverseInstrument]) -> UpsertCounts:
    rows = [
        {
            "symbol": i.symbol,
            "name": i.name,
            "cohorts": ",".join(i.cohorts),
            "cik": i.cik,
            "fiscal_year_end": i.fiscal_year_end,
            "is_index": i.is_index,
            "listed": i.listed,
        }
        for i in instruments
    ]
    return upsert(session, Instrument.__table__, rows, ["symbol"])


def instrument_symbols(session: Session) -> list[str]:
    return list(session.scalars(select(Instrument.symbol).order_by(Instrument.symbol)))


# --------------------------------------------------------------------------- prices
def upsert_bars(session: Session, symbol: str, source: str, bars: pd.DataFrame) -> UpsertCounts:
    """Write daily bars (``DatetimeIndex`` or ``date`` column; ``PRICE_COLUMNS``).

    Rows already stored with the same values are counted as unchanged
    without being sent: when the stored rows of ``symbol``/``source`` in the
    frame's date span are few (at most twice the frame), they are read once
    and compared, and only new or changed rows are upserted, in statements of
    :data:`db.upsert.CHUNK` rows built one at a time (bounded memory).
    """
    df = bars.reset_index() if "date" not in bars.columns else bars
    if df.empty:
        return UpsertCounts()
    days = pd.DatetimeIndex(df["date"]).normalize()
    values = {c: (pd.to_numeric(df[c], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
                  if c in df.columns else np.full(len(df), np.nan)) for c in PRICE_COLUMNS}
    send = np.ones(len(df), dtype=bool)
    stored = _stored_bars(session, symbol, source, days.min().date(), days.max().date(), len(df))
    if stored is not None and len(stored):
        old = stored.reindex(days)
        same = np.ones(len(df), dtype=bool)
        for c in PRICE_COLUMNS:
            a, b = values[c], old[c].to_numpy(dtype=float)
            same &= (a == b) | (np.isnan(a) & np.isnan(b))
        send = ~(same & old.index.isin(stored.index))
    unchanged = int((~send).sum())
    dates = np.asarray(days.date)
    total = UpsertCounts(unchanged=unchanged)
    idx = np.flatnonzero(send)
    for i in range(0, len(idx), CHUNK):
        part = idx[i : i + CHUNK]
        cols = {c: values[c][part] for c in PRICE_COLUMNS}
        vol = cols["volume"]
        rows = [
            {"symbol": symbol, "date": d, "open": o, "high": h, "low": lo, "close": c,
             "adj_close": a, "volume": v, "source": source}
            for d, o, h, lo, c, a, v in zip(
                dates[part].tolist(), _nullable(cols["open"]), _nullable(cols["high"]),
                _nullable(cols["low"]), cols["close"].tolist(), cols["adj_close"].tolist(),
                [None if math.isnan(x) else int(x) for x in vol.tolist()], strict=True)
        ]
        total = total + upsert(
            session, PriceBar.__table__, rows, ["symbol", "date", "source"],
            ["open", "high", "low", "close", "adj_close", "volume"],
        )
    return total


def _nullable(a: np.ndarray) -> list[float | None]:
    return [None if math.isnan(x) else x for x in a.tolist()]


def _stored_bars(session: Session, symbol: str, source: str, lo: date, hi: date,
                 n: int) -> pd.DataFrame | None:
    """Stored bars of ``symbol``/``source`` dated ``lo..hi``, indexed by date;
    None when there are more than ``2 n`` of them (reading them would cost
    more than upserting)."""
    where = (PriceBar.symbol == symbol, PriceBar.source == source, PriceBar.date >= lo,
             PriceBar.date <= hi)
    count = int(session.scalar(select(func.count()).select_from(PriceBar).where(*where)) or 0)
    if count == 0:
        return pd.DataFrame(columns=PRICE_COLUMNS, index=pd.DatetimeIndex([]))
    if count > 2 * n:
        return None
    rows = session.execute(select(
        PriceBar.date, PriceBar.open, PriceBar.high, PriceBar.low, PriceBar.close,
        PriceBar.adj_close, PriceBar.volume).where(*where)).all()
    cols = list(zip(*rows, strict=True))
    data = {name: np.array([np.nan if v is None else v for v in col], dtype=float)
            for name, col in zip(PRICE_COLUMNS, cols[1:], strict=True)}
    return pd.DataFrame(data, index=pd.DatetimeIndex(pd.to_datetime(pd.Series(cols[0]))))


def price_frame(
    session: Session, symbol: str, start: date | None = None, end: date | None = None
) -> pd.DataFrame:
    """Daily bars for ``symbol`` (one row per date; where two sources hold the
    same date the most recently ingested wins), indexed by ``date``."""
    q = select(
        PriceBar.date, PriceBar.open, PriceBar.high, PriceBar.low, PriceBar.close,
        PriceBar.adj_close, PriceBar.volume, PriceBar.ingested_at,
    ).where(PriceBar.symbol == symbol)
    if start is not None:
        q = q.where(PriceBar.date >= start)
    if end is not None:
        q = q.where(PriceBar.date <= end)
    rows = session.execute(q.order_by(PriceBar.date, PriceBar.ingested_at)).all()
    if not rows:
        return pd.DataFrame(columns=PRICE_COLUMNS, index=pd.DatetimeIndex([], name="date"))
    cols = list(zip(*rows, strict=True))
    dates = pd.DatetimeIndex(pd.to_datetime(pd.Series(cols[0])), name="date")
    data = {name: np.asarray(col, dtype=float) for name, col in
            zip(PRICE_COLUMNS[:-1], cols[1:6], strict=True)}
    data["volume"] = np.array([np.nan if v is None else v for v in cols[6]], dtype=float)
    df = pd.DataFrame(data, index=dates)
    # where two sources hold the same date, the most recently ingested wins
    return df[~df.index.duplicated(keep="last")]


def price_counts(session: Session) -> dict[str, tuple[int, date | None, date | None]]:
    """symbol -> (distinct dates, first date, last date)."""
    q = select(
        PriceBar.symbol,
        func.count(func.distinct(PriceBar.date)),
        func.min(PriceBar.date),
        func.max(PriceBar.date),
    ).group_by(PriceBar.symbol)
    return {s: (n, lo, hi) for s, n, lo, hi in session.execute(q)}


# --------------------------------------------------------------------------- fundamentals
FACT_UPDATE = ["value", "fiscal_year", "fiscal_period", "form", "filed", "frame", "symbol",
               "instant", "source"]
FACT_KEY = ["cik", "taxonomy", "concept", "unit", "period_start", "period_end", "accession"]


def upsert_facts(session: Session, rows: Sequence[Mapping[str, Any]]) -> UpsertCounts:
    return upsert(session, FundamentalFact.__table__, rows, FACT_KEY, FACT_UPDATE)


def facts_frame(
    session: Session,
    *,
    cik: int | None = None,
    symbol: str | None = None,
    as_of: date | None = None,
    concepts: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Facts for one company, every vintage filed on or before ``as_of``."""
    q = select(
        FundamentalFact.concept, FundamentalFact.period_start, FundamentalFact.period_end,
        FundamentalFact.value, FundamentalFact.unit, FundamentalFact.fiscal_year,
        FundamentalFact.fiscal_period, FundamentalFact.form, FundamentalFact.filed,
        FundamentalFact.accession, FundamentalFact.source, FundamentalFact.instant,
        FundamentalFact.taxonomy,
    )
    if cik is not None:
        q = q.where(FundamentalFact.cik == cik)
    elif symbol is not None:
        q = q.where(FundamentalFact.symbol == symbol)
    else:
        raise ValueError("facts_frame needs cik or symbol")
    if as_of is not None:
        q = q.where(FundamentalFact.filed <= as_of)
    if concepts:
        q = q.where(FundamentalFact.concept.in_(list(concepts)))
    rows = [tuple(r) for r in session.execute(q)]
    cols = ["concept", "period_start", "period_end", "value", "unit", "fiscal_year",
            "fiscal_period", "form", "filed", "accession", "source", "instant", "taxonomy"]
    return pd.DataFrame(rows, columns=cols)


def fact_counts(session: Session) -> dict[int, tuple[int, date | None, date | None]]:
    """cik -> (facts, first period end, last filed)."""
    q = select(
        FundamentalFact.cik, func.count(), func.min(FundamentalFact.period_end),
        func.max(FundamentalFact.filed),
    ).group_by(FundamentalFact.cik)
    return {c: (n, lo, hi) for c, n, lo, hi in session.execute(q)}


# --------------------------------------------------------------------------- reference
def upsert_reference(
    session: Session, figures: Sequence[Mapping[str, Any]], events: Sequence[Mapping[str, Any]]
) -> tuple[UpsertCounts, UpsertCounts]:
    f = upsert(session, ReferenceFigure.__table__, list(figures), ["key"])
    e = upsert(session, ReferenceEvent.__table__, list(events), ["key"])
    return f, e


def reference_frame(session: Session) -> pd.DataFrame:
    cols = ["key", "entity", "metric", "value", "unit", "period_start", "period_end", "label",
            "source", "source_tag"]
    rows = [tuple(r) for r in session.execute(select(*[getattr(ReferenceFigure, c) for c in cols]))]
    return pd.DataFrame(rows, columns=cols)


def events_frame(session: Session) -> pd.DataFrame:
    cols = ["key", "date", "title", "era", "category", "after_close", "description", "source"]
    rows = session.execute(
        select(*[getattr(ReferenceEvent, c) for c in cols]).order_by(ReferenceEvent.date)
    ).all()
    return pd.DataFrame(rows, columns=cols)


# --------------------------------------------------------------------------- indicators
def store_indicator_result(
    session: Session,
    *,
    indicator: str,
    key: str,
    params: Mapping[str, Any],
    params_hash: str,
    frame: pd.DataFrame,
    events: Sequence[Mapping[str, Any]] | None,
    meta: Mapping[str, Any],
    as_of: date | None,
    replace_values: bool = True,
) -> int:
    """Store one computed result: values (upserted; with ``replace_values`` rows
    of this (indicator, key, params) not in ``frame`` are deleted first),
    events (replaced when given), and the run row. Returns values written."""
    now = datetime.now(UTC)
    base = and_(
        IndicatorValue.indicator == indicator,
        IndicatorValue.key == key,
        IndicatorValue.params_hash == params_hash,
    )
    rows: list[dict[str, Any]] = []
    if not frame.empty:
        idx = pd.DatetimeIndex(frame.index)
        for field in frame.columns:
            col = pd.to_numeric(frame[field], errors="coerce").to_numpy(dtype=float)
            for d, v in zip(idx, col, strict=True):
                if math.isfinite(v):
                    rows.append({
                        "indicator": indicator, "key": key, "params_hash": params_hash,
                        "field": str(field), "date": d.date(), "value": float(v),
                        "computed_at": now,
                    })
    if replace_values:
        if frame.empty:
            session.execute(delete(IndicatorValue).where(base))
        else:
            # drop rows from an earlier run that this run no longer produces
            first = pd.DatetimeIndex(frame.index).min().date()
            session.execute(delete(IndicatorValue).where(base, IndicatorValue.date < first))
            session.execute(
                delete(IndicatorValue).where(
                    base, IndicatorValue.field.not_in([str(c) for c in frame.columns])
                )
            )
    counts = upsert(
        session, IndicatorValue.__table__, rows,
        ["indicator", "key", "params_hash", "field", "date"], ["value", "computed_at"],
        compare=["value"],
    ) if rows else UpsertCounts()
    if replace_values and not frame.empty:
        # values of an earlier run inside this run's dates that it no longer
        # produces (a removed or re-dated event, a value that is now NaN)
        stored = session.scalar(select(func.count()).select_from(IndicatorValue).where(base))
        if (stored or 0) > len(rows):
            keep = {(r["field"], r["date"]) for r in rows}
            stale = [i for i, f, d in session.execute(
                select(IndicatorValue.id, IndicatorValue.field, IndicatorValue.date).where(base))
                if (f, d) not in keep]
            for i in range(0, len(stale), 1000):
                session.execute(delete(IndicatorValue).where(
                    IndicatorValue.id.in_(stale[i:i + 1000])))
    if events is not None:
        session.execute(
            delete(IndicatorEventRow).where(
                IndicatorEventRow.indicator == indicator,
                IndicatorEventRow.key == key,
                IndicatorEventRow.params_hash == params_hash,
            )
        )
        for ev in events:
            session.add(IndicatorEventRow(
                indicator=indicator, key=key, params_hash=params_hash, computed_at=now, **ev
            ))
    stats = session.execute(
        select(func.min(IndicatorValue.date), func.max(IndicatorValue.date), func.count())
        .where(base)
    ).one()
    run = {
        "indicator": indicator, "key": key, "params_hash": params_hash,
        "params": _jsonable(dict(params)), "as_of": as_of, "first_date": stats[0],
        "last_date": stats[1], "rows": int(stats[2]), "meta": _jsonable(dict(meta)),
        "computed_at": now,
    }
    upsert(session, IndicatorRun.__table__, [run], ["indicator", "key", "params_hash"])
    return counts.written


def last_indicator_date(session: Session, indicator: str, key: str, params_hash: str) -> date | None:
    return session.scalar(
        select(IndicatorRun.last_date).where(
            IndicatorRun.indicator == indicator, IndicatorRun.key == key,
            IndicatorRun.params_hash == params_hash,
        )
    )


def indicator_frame(
    session: Session,
    indicator: str,
    key: str | None = None,
    *,
    params_hash: str | None = None,
    fields: Sequence[str] | None = None,
    start: date | None = None,
    end: date | None = None,
) -> pd.DataFrame:
    """Long frame ``indicator, key, params_hash, field, date, value, computed_at``.

    Without ``params_hash`` the most recently computed parameter set of each
    key is used.
    """
    q = select(
        IndicatorValue.indicator, IndicatorValue.key, IndicatorValue.params_hash,
        IndicatorValue.field, IndicatorValue.date, IndicatorValue.value,
        IndicatorValue.computed_at,
    ).where(IndicatorValue.indicator == indicator)
    if key is not None:
        q = q.where(IndicatorValue.key == key)
    if params_hash is not None:
        q = q.where(IndicatorValue.params_hash == params_hash)
    else:
        latest = latest_runs(session, indicator, key)
        if not latest:
            return pd.DataFrame(columns=["indicator", "key", "params_hash", "field", "date",
                                         "value", "computed_at"])
        q = q.where(IndicatorValue.params_hash.in_({r.params_hash for r in latest}))
    if fields:
        q = q.where(IndicatorValue.field.in_(list(fields)))
    if start is not None:
        q = q.where(IndicatorValue.date >= start)
    if end is not None:
        q = q.where(IndicatorValue.date <= end)
    rows = [tuple(r) for r in session.execute(q.order_by(IndicatorValue.key, IndicatorValue.date))]
    df = pd.DataFrame(rows, columns=["indicator", "key", "params_hash", "field", "date", "value",
                                     "computed_at"])
    if params_hash is None and not df.empty:
        wanted = {(r.key, r.params_hash) for r in latest_runs(session, indicator, key)}
        df = df[[(k, h) in wanted for k, h in zip(df["key"], df["params_hash"], strict=True)]]
    return df


def indicator_wide(session: Session, indicator: str, key: str) -> pd.DataFrame:
    """One key's latest result as a wide frame (DatetimeIndex x fields)."""
    df = indicator_frame(session, indicator, key)
    if df.empty:
        return pd.DataFrame()
    wide = df.pivot_table(index="date", columns="field", values="value", aggfunc="last")
    wide.index = pd.to_datetime(wide.index)
    wide.columns.name = None
    return wide.sort_index()


def latest_runs(session: Session, indicator: str | None = None, key: str | None = None) -> list[IndicatorRun]:
    """The most recent run per (indicator, key)."""
    q = select(IndicatorRun)
    if indicator is not None:
        q = q.where(IndicatorRun.indicator == indicator)
    if key is not None:
        q = q.where(IndicatorRun.key == key)
    best: dict[tuple[str, str], IndicatorRun] = {}
    for run in session.scalars(q.order_by(IndicatorRun.computed_at)):
        best[(run.indicator, run.key)] = run
    return list(best.values())


def indicator_events(
    session: Session, indicator: str | None = None, key: str | None = None
) -> pd.DataFrame:
    runs = {(r.indicator, r.key, r.params_hash) for r in latest_runs(session, indicator, key)}
    q = select(IndicatorEventRow)
    if indicator is not None:
        q = q.where(IndicatorEventRow.indicator == indicator)
    if key is not None:
        q = q.where(IndicatorEventRow.key == key)
    recs = [
        {"indicator": e.indicator, "key": e.key, "kind": e.kind, "start": e.start, "end": e.end,
         "peak": e.peak, "ongoing": e.ongoing, **{f"attr_{k}": v for k, v in e.attrs.items()}}
        for e in session.scalars(q.order_by(IndicatorEventRow.start))
        if (e.indicator, e.key, e.params_hash) in runs
    ]
    return pd.DataFrame(recs)


# --------------------------------------------------------------------------- run log
def start_run(session: Session, job: str) -> int:
    run = RunLog(job=job, started_at=datetime.now(UTC), status="running", rows=0, detail={})
    session.add(run)
    session.flush()
    return run.id


def finish_run(
    session: Session, run_id: int, *, status: str, rows: int, detail: Mapping[str, Any],
    error: str | None = None,
) -> None:
    session.execute(
        update(RunLog).where(RunLog.id == run_id).values(
            status=status, rows=rows, detail=_jsonable(dict(detail)), error=error,
            finished_at=datetime.now(UTC),
        )
    )


def recent_runs(session: Session, job: str | None = None, limit: int = 20) -> list[RunLog]:
    q = select(RunLog).order_by(RunLog.started_at.desc(), RunLog.id.desc()).limit(limit)
    if job is not None:
        q = q.where(RunLog.job == job)
    return list(session.scalars(q))


def last_run(session: Session, job: str, status: str | None = None) -> RunLog | None:
    q = select(RunLog).where(RunLog.job == job)
    if status is not None:
        q = q.where(RunLog.status == status)
    return session.scalar(q.order_by(RunLog.started_at.desc(), RunLog.id.desc()).limit(1))


# --------------------------------------------------------------------------- locks
def acquire_lock(session: Session, name: str, owner: str, ttl_s: float) -> bool:
    """Take or renew the lease ``name`` for ``owner``; False if another owner holds
    an unexpired lease."""
    now = datetime.now(UTC)
    expires = now + timedelta(seconds=ttl_s)
    lock = session.get(JobLock, name, with_for_update=True)
    if lock is None:
        upsert(session, JobLock.__table__,
               [{"name": name, "owner": owner, "acquired_at": now, "expires_at": expires}],
               ["name"], [])
        lock = session.get(JobLock, name, populate_existing=True)
        return lock is not None and lock.owner == owner
    held_until = lock.expires_at if lock.expires_at.tzinfo else lock.expires_at.replace(tzinfo=UTC)
    if lock.owner != owner and held_until > now:
        return False
    lock.owner, lock.expires_at = owner, expires
    if lock.owner != owner:
        lock.acquired_at = now
    return True


def release_lock(session: Session, name: str, owner: str) -> None:
    session.execute(delete(JobLock).where(JobLock.name == name, JobLock.owner == owner))


# --------------------------------------------------------------------------- helpers
def _jsonable(obj: Any) -> Any:
    """Make numpy/pandas/date values JSON-safe (NaN -> None)."""
    import numpy as np

    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        f = float(obj)
        return f if math.isfinite(f) else None
    if isinstance(obj, (pd.Timestamp, datetime)):
        return obj.date().isoformat() if obj == pd.Timestamp(obj).normalize() else obj.isoformat()
    if isinstance(obj, date):
        return obj.isoformat()
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj
