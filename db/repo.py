"""Reads and writes, one function per question. Every function takes the
session first, uses ``select()``, and never commits: the caller's
:func:`db.session.session_scope` owns the transaction.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import (
    Date,
    String,
    bindparam,
    cast,
    delete,
    func,
    select,
    tuple_,
    type_coerce,
    update,
)
from sqlalchemy.orm import Session

from bubblewatch.core.universe import Instrument as UniverseInstrument
from db import blocks as db_blocks
from db.models import (
    FundamentalFact,
    IndicatorBlock,
    IndicatorEventRow,
    IndicatorRun,
    IndicatorState,
    Instrument,
    JobLock,
    PriceBar,
    ReferenceEvent,
    ReferenceFigure,
    RunLog,
    UniverseDef,
    UniverseMember,
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


def instruments_frame(session: Session) -> pd.DataFrame:
    """Every stored instrument: ``symbol, name, cohorts`` (a tuple), ``cik``."""
    rows = session.execute(select(Instrument.symbol, Instrument.name, Instrument.cohorts,
                                  Instrument.cik).order_by(Instrument.symbol)).all()
    return pd.DataFrame([(s, n, tuple(c for c in (co or "").split(",") if c), k)
                         for s, n, co, k in rows], columns=["symbol", "name", "cohorts", "cik"])


def store_universe(session: Session, name: str, description: str, source: str,
                   spans: Sequence[tuple[str, date | None, date | None]]) -> int:
    """Replace the stored universe ``name`` with ``spans`` (symbol, joined,
    left); returns the symbols it holds."""
    session.execute(delete(UniverseMember).where(UniverseMember.universe == name))
    count: dict[str, int] = {}
    rows = []
    for sym, joined, left in spans:
        rows.append({"universe": name, "symbol": sym, "span": count.get(sym, 0),
                     "joined": joined, "left": left})
        count[sym] = count.get(sym, 0) + 1
    for chunk in _chunks(rows, 1000):
        session.execute(UniverseMember.__table__.insert(), list(chunk))
    upsert(session, UniverseDef.__table__, [{
        "name": name, "description": description, "source": source, "members": len(count),
        "added_at": datetime.now(UTC)}], ["name"])
    return len(count)


def universes_frame(session: Session) -> pd.DataFrame:
    """Stored universes: ``name, description, source, members, added_at``."""
    rows = session.execute(select(UniverseDef.name, UniverseDef.description, UniverseDef.source,
                                  UniverseDef.members, UniverseDef.added_at)
                           .order_by(UniverseDef.name)).all()
    return pd.DataFrame(rows, columns=["name", "description", "source", "members", "added_at"])


def universe_members(session: Session, name: str | None = None) -> pd.DataFrame:
    """Membership spans: ``universe, symbol, joined, left`` (of ``name`` or all)."""
    q = select(UniverseMember.universe, UniverseMember.symbol, UniverseMember.joined,
               UniverseMember.left)
    if name is not None:
        q = q.where(UniverseMember.universe == name)
    rows = session.execute(q.order_by(UniverseMember.universe, UniverseMember.symbol,
                                      UniverseMember.span)).all()
    return pd.DataFrame(rows, columns=["universe", "symbol", "joined", "left"])


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


@dataclass(frozen=True, slots=True)
class RawCloses:
    """One symbol's stored ``adj_close`` rows as read, every source (a date
    held by two sources appears twice): ``days`` in days since 1970-01-01."""

    days: np.ndarray
    adj_close: np.ndarray


def price_frames(session: Session, symbols: Sequence[str],
                 start: date | Mapping[str, date] | None = None, *,
                 closes_only: bool = False) -> tuple[dict[str, pd.DataFrame], dict[str, RawCloses]]:
    """:func:`price_frame` of many symbols, and each symbol's raw
    ``adj_close`` rows (every source, for fingerprints).

    ``start`` is the first date read: one date for every symbol, or a date per
    symbol (a symbol missing from the mapping is read in full). With
    ``closes_only`` just ``close`` and ``adj_close`` are read. Symbols without
    prices get an empty frame and no raw rows.

    One statement per symbol, answered in date order by the ``(symbol, date)``
    index: on SQLite and PostgreSQL alike cheaper than one statement for all
    symbols, whose rows must be sorted and split by symbol."""
    out: dict[str, pd.DataFrame] = {}
    raw: dict[str, RawCloses] = {}
    wanted = ["close", "adj_close"] if closes_only else PRICE_COLUMNS
    # dates and times as ISO text: numpy parses the dates faster than the drivers'
    # date objects convert, and the times are only compared (SQLite stores text)
    if session.get_bind().dialect.name == "sqlite":
        day_col, at_col = (type_coerce(PriceBar.date, String),
                           type_coerce(PriceBar.ingested_at, String))
    else:
        day_col, at_col = cast(PriceBar.date, String), cast(PriceBar.ingested_at, String)
    q = select(day_col, at_col, *[getattr(PriceBar, c) for c in wanted]).where(
        PriceBar.symbol == bindparam("symbol"), PriceBar.date >= bindparam("first", type_=Date))
    q = q.order_by(PriceBar.date)
    conn = session.connection()  # Core rows: no ORM bookkeeping per row
    for sym in dict.fromkeys(symbols):
        first = start.get(sym) if isinstance(start, Mapping) else start
        result = conn.execute(q, {"symbol": sym, "first": first or date(1, 1, 1)})
        rows = result.cursor.fetchall()  # plain tuples: no column of these needs converting
        result.close()
        if not rows:
            continue
        cols = list(zip(*rows, strict=True))
        days = np.array(cols[0], dtype="datetime64[D]")
        vals = {name: np.array([np.nan if v is None else v for v in col], dtype=float)
                if name in ("open", "high", "low", "volume") else np.asarray(col, dtype=float)
                for name, col in zip(wanted, cols[2:], strict=True)}
        d = days.astype(np.int64)
        if d.shape[0] > 1 and not (d[1:] > d[:-1]).all():
            # a date held by two sources: the most recently ingested last
            order = np.lexsort((np.asarray(cols[1], dtype=str), d))
            d, days = d[order], days[order]
            vals = {name: v[order] for name, v in vals.items()}
        raw[sym] = RawCloses(d, vals["adj_close"])
        keep = np.r_[d[1:] != d[:-1], True]  # the last ingested of each date
        idx = pd.DatetimeIndex(days[keep].astype("datetime64[s]"), name="date")
        table = np.column_stack([v[keep] for v in vals.values()])  # one 2-D float block
        out[sym] = pd.DataFrame(table, index=idx, columns=wanted, copy=False)
    empty = pd.DataFrame(columns=wanted, index=pd.DatetimeIndex([], name="date"))
    return {s: out.get(s, empty) for s in symbols}, raw


def price_fingerprints(session: Session, symbols: Sequence[str],
                       ) -> dict[str, tuple[int, float, date | None]]:
    """symbol -> (stored rows, sum of ``adj_close``, last date) over every
    source: a change to any stored price changes it."""
    out: dict[str, tuple[int, float, date | None]] = {}
    for chunk in _chunks(list(dict.fromkeys(symbols)), 400):
        q = select(PriceBar.symbol, func.count(), func.sum(PriceBar.adj_close),
                   func.max(PriceBar.date)).where(PriceBar.symbol.in_(chunk)).group_by(
            PriceBar.symbol)
        for sym, n, total, last in session.execute(q):
            out[sym] = (int(n), float(total or 0.0), last)
    return out


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


def sync_reference_events(session: Session, events: Sequence[Mapping[str, Any]]) -> int:
    """Make the stored events exactly ``events``: upsert them and delete any
    other (an event removed from the settings). Returns rows written or deleted."""
    written = upsert(session, ReferenceEvent.__table__, list(events), ["key"]).written
    gone = session.execute(delete(ReferenceEvent).where(
        ReferenceEvent.key.not_in([e["key"] for e in events])))
    return written + int(gone.rowcount or 0)


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
@dataclass(frozen=True, slots=True)
class SeriesWrite:
    """One indicator result to store (see :func:`store_indicator_results`).

    ``mode``: ``"replace"`` (the series becomes ``frame``), ``"merge"``
    (finite values of ``frame`` are laid over the stored ones) or ``"tail"``
    (stored values dated on or after ``replace_from`` are replaced by
    ``frame``'s; older ones kept). ``events`` None keeps the stored events;
    ``state`` None keeps the stored incremental state.
    """

    indicator: str
    key: str
    params: Mapping[str, Any]
    params_hash: str
    frame: pd.DataFrame
    meta: Mapping[str, Any]
    as_of: date | None
    events: Sequence[Mapping[str, Any]] | None = None
    mode: str = "replace"
    replace_from: date | None = None
    state: Mapping[str, Any] | None = None


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
    """Store one computed result: values (with ``replace_values`` the series
    becomes ``frame``; without, ``frame``'s values are laid over the stored
    ones), events (replaced when given), and the run row. Returns the values
    written (new or changed)."""
    (n,) = store_indicator_results(session, [SeriesWrite(
        indicator, key, params, params_hash, frame, meta, as_of, events,
        "replace" if replace_values else "merge")])
    return n


def _series_filter(table: Any, series: Iterable[tuple[str, str, str]]) -> Any:
    return tuple_(table.c.indicator, table.c.key, table.c.params_hash).in_(list(series))


def store_indicator_results(session: Session, writes: Sequence[SeriesWrite]) -> list[int]:
    """Store many results in a few statements (values as yearly blocks,
    :mod:`db.blocks`; events; run rows; incremental state). Returns the values
    written (new or changed) per write. Re-storing the same result changes
    nothing."""
    if not writes:
        return []
    now = datetime.now(UTC)
    bt = IndicatorBlock.__table__
    ids = {(w.indicator, w.key, w.params_hash) for w in writes}
    if len(ids) != len(writes):
        raise ValueError("store_indicator_results: one write per (indicator, key, params)")
    existing: dict[tuple[str, str, str], dict[int, Any]] = {s: {} for s in ids}
    for chunk in _chunks(sorted(ids), 300):
        for r in session.execute(select(
                bt.c.id, bt.c.indicator, bt.c.key, bt.c.params_hash, bt.c.year,
                bt.c.first_date, bt.c.last_date, bt.c.n_values)
                .where(_series_filter(bt, chunk))).all():
            existing[(r.indicator, r.key, r.params_hash)][r.year] = r
    # the blocks whose data the new values are merged with
    need: dict[int, tuple[tuple[str, str, str], int]] = {}
    plans = []
    for w in writes:
        sid = (w.indicator, w.key, w.params_hash)
        new = db_blocks.split_years(_dated(w.frame))
        old_years = existing[sid]
        cut = None
        if w.mode == "replace":
            merge_years: set[int] = set()
            drop = set(old_years) - set(new)
        elif w.mode == "merge":
            merge_years = set(new) & set(old_years)
            drop = set()
        elif w.mode == "tail":
            if w.replace_from is None:
                raise ValueError("mode 'tail' needs replace_from")
            cut = w.replace_from
            merge_years = ({y for y in new if y < cut.year} | {cut.year}) & set(old_years)
            drop = {y for y in old_years if y > cut.year and y not in new}
        else:
            raise ValueError(f"unknown write mode {w.mode!r}")
        for y in (merge_years | set(new)) & set(old_years):
            need[old_years[y].id] = (sid, y)
        plans.append((w, sid, new, merge_years, drop, cut))
    old_data: dict[tuple[tuple[str, str, str], int], db_blocks.Block] = {}
    for chunk in _chunks(list(need), 500):
        for r in session.execute(select(bt.c.id, bt.c.fields, bt.c.data)
                                 .where(bt.c.id.in_(chunk))):
            old_data[need[r.id]] = db_blocks.decode(r.data, _fields(r.fields))
    rows: list[dict[str, Any]] = []
    delete_ids: list[int] = []
    written: list[int] = []
    final_years: dict[tuple[str, str, str], dict[int, tuple[date, date, int]]] = {}
    seen: dict[tuple[tuple[str, str, str], int], db_blocks.Block] = {}
    for w, sid, new, merge_years, drop, cut in plans:
        old_years = existing[sid]
        years = dict.fromkeys(sorted(set(new) | merge_years))
        n_written = 0
        summary = {y: (r.first_date, r.last_date, r.n_values) for y, r in old_years.items()
                   if y not in drop}
        for y in years:
            old = old_data.get((sid, y))
            blk = new.get(y, db_blocks.Block((), np.empty(0, dtype=np.int64), np.empty((0, 0))))
            if old is None or w.mode == "replace" or (cut is not None and y > cut.year):
                final = blk
            else:
                cut_day = (int(db_blocks.day_numbers(pd.DatetimeIndex([cut]))[0])
                           if cut is not None and y == cut.year else None)
                final = db_blocks.merge(old, blk, replace_from=cut_day)
            if not final.days.shape[0]:
                if y in old_years:
                    delete_ids.append(old_years[y].id)
                    summary.pop(y, None)
                continue
            n_written += db_blocks.changed_values(old, final)
            seen[(sid, y)] = final
            if old is not None and _same_block(old, final):
                summary[y] = (old_years[y].first_date, old_years[y].last_date,
                              old_years[y].n_values)
                continue
            first, last = db_blocks.to_date(final.days[0]), db_blocks.to_date(final.days[-1])
            rows.append({"indicator": sid[0], "key": sid[1], "params_hash": sid[2], "year": y,
                         "first_date": first, "last_date": last,
                         "n_rows": int(final.days.shape[0]), "n_values": final.n_values,
                         "fields": ",".join(final.fields),
                         "data": db_blocks.encode(final.days, final.values),
                         "computed_at": now})
            summary[y] = (first, last, final.n_values)
        delete_ids.extend(old_years[y].id for y in drop)
        final_years[sid] = summary
        written.append(n_written)
    if delete_ids:
        for chunk in _chunks(delete_ids, 500):
            session.execute(delete(IndicatorBlock).where(IndicatorBlock.id.in_(chunk)))
    if rows:
        upsert(session, bt, rows, ["indicator", "key", "params_hash", "year"],
               ["first_date", "last_date", "n_rows", "n_values", "fields", "data",
                "computed_at"], compare=["data", "fields"])
    _store_events(session, writes, now)
    # the last block of each series, for its latest values
    last_block = {sid: seen[(sid, max(ys))] for sid, ys in final_years.items()
                  if ys and (sid, max(ys)) in seen}
    missing = {sid: max(ys) for sid, ys in final_years.items() if ys and sid not in last_block}
    for sid, y in missing.items():
        r = session.execute(select(bt.c.fields, bt.c.data).where(
            bt.c.indicator == sid[0], bt.c.key == sid[1], bt.c.params_hash == sid[2],
            bt.c.year == y)).one()
        last_block[sid] = db_blocks.decode(r.data, _fields(r.fields))
    runs = []
    params_json: dict[tuple[str, str], Any] = {}  # the keys of an indicator share parameters
    for w in writes:
        sid = (w.indicator, w.key, w.params_hash)
        ys = final_years[sid]
        pj = params_json.get((w.indicator, w.params_hash))
        if pj is None:
            pj = params_json[(w.indicator, w.params_hash)] = _jsonable(dict(w.params))
        runs.append({
            "indicator": w.indicator, "key": w.key, "params_hash": w.params_hash,
            "params": pj, "as_of": w.as_of,
            "first_date": min(v[0] for v in ys.values()) if ys else None,
            "last_date": max(v[1] for v in ys.values()) if ys else None,
            "rows": int(sum(v[2] for v in ys.values())), "meta": _jsonable(dict(w.meta)),
            "last_values": _last_values(last_block.get(sid)) if ys else None,
            "computed_at": now,
        })
    upsert(session, IndicatorRun.__table__, runs, ["indicator", "key", "params_hash"])
    states = [{"indicator": w.indicator, "key": w.key, "params_hash": w.params_hash,
               "state": _jsonable(dict(w.state)), "updated_at": now}
              for w in writes if w.state is not None]
    if states:
        upsert(session, IndicatorState.__table__, states, ["indicator", "key", "params_hash"],
               ["state", "updated_at"])
    return written


def _store_events(session: Session, writes: Sequence[SeriesWrite], now: datetime) -> None:
    with_events = [w for w in writes if w.events is not None]
    if not with_events:
        return
    et = IndicatorEventRow.__table__
    for chunk in _chunks([(w.indicator, w.key, w.params_hash) for w in with_events], 300):
        session.execute(delete(IndicatorEventRow).where(_series_filter(et, chunk)))
    rows = [{"indicator": w.indicator, "key": w.key, "params_hash": w.params_hash,
             "computed_at": now, **ev} for w in with_events for ev in (w.events or ())]
    for chunk in _chunks(rows, 500):
        session.execute(et.insert(), chunk)


def _same_block(a: db_blocks.Block, b: db_blocks.Block) -> bool:
    return (a.fields == b.fields and np.array_equal(a.days, b.days)
            and a.values.shape == b.values.shape
            and np.array_equal(a.values.view(np.int64), b.values.view(np.int64)))


def _last_values(blk: db_blocks.Block | None) -> dict[str, Any] | None:
    """The last date of ``blk`` and each field's last finite value up to it."""
    if blk is None or not blk.days.shape[0]:
        return None
    out: dict[str, float] = {}
    for i, f in enumerate(blk.fields):
        v = blk.values[i]
        ok = np.flatnonzero(np.isfinite(v))
        if ok.size and ok[-1] == v.shape[0] - 1:
            out[f] = float(v[ok[-1]])
    return {"date": db_blocks.to_date(blk.days[-1]).isoformat(), "values": out}


def _dated(frame: pd.DataFrame) -> pd.DataFrame:
    if frame.empty:
        return frame
    idx = frame.index
    if (isinstance(idx, pd.DatetimeIndex) and idx.is_unique and idx.tz is None
            and (idx.values == idx.values.astype("datetime64[D]")).all()):
        return frame
    out = frame.copy()
    out.index = pd.DatetimeIndex(pd.to_datetime(frame.index)).normalize()
    return out[~out.index.duplicated(keep="last")]


def _fields(text: str) -> list[str]:
    return text.split(",") if text else []


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def last_indicator_date(session: Session, indicator: str, key: str, params_hash: str) -> date | None:
    return session.scalar(
        select(IndicatorRun.last_date).where(
            IndicatorRun.indicator == indicator, IndicatorRun.key == key,
            IndicatorRun.params_hash == params_hash,
        )
    )


def last_indicator_dates(session: Session, indicator: str, keys: Sequence[str],
                         params_hash: str) -> dict[str, date | None]:
    """:func:`last_indicator_date` of many keys in one query."""
    out: dict[str, date | None] = {}
    for chunk in _chunks(list(keys), 500):
        out.update(session.execute(select(IndicatorRun.key, IndicatorRun.last_date).where(
            IndicatorRun.indicator == indicator, IndicatorRun.params_hash == params_hash,
            IndicatorRun.key.in_(chunk))).all())
    return out


def indicator_series(session: Session, indicator: str, keys: Sequence[str], params_hash: str,
                     start: date | None = None) -> dict[str, pd.DataFrame]:
    """Stored series of many keys for one parameter set, as wide frames
    (``DatetimeIndex`` x fields; dates on or after ``start``); keys with none
    are absent."""
    bt = IndicatorBlock.__table__
    parts: dict[str, list[db_blocks.Block]] = {}
    for chunk in _chunks(list(keys), 300):
        q = select(bt.c.key, bt.c.fields, bt.c.data).where(
            bt.c.indicator == indicator, bt.c.params_hash == params_hash, bt.c.key.in_(chunk))
        if start is not None:
            q = q.where(bt.c.last_date >= start)
        for r in session.execute(q.order_by(bt.c.key, bt.c.year)):
            parts.setdefault(r.key, []).append(db_blocks.decode(r.data, _fields(r.fields)))
    out = {}
    for k, blks in parts.items():
        wide = db_blocks.frame_of(blks)
        if start is not None:
            wide = wide[wide.index >= pd.Timestamp(start)]
        out[k] = wide
    return out


def _by_key(session: Session, table: Any, column: str, indicator: str, keys: Sequence[str],
            params_hash: str) -> dict[str, Any]:
    """key -> ``column`` of ``table`` for many keys of one indicator and parameter set."""
    out: dict[str, Any] = {}
    for chunk in _chunks(list(keys), 500):
        out.update(session.execute(select(table.c.key, table.c[column]).where(
            table.c.indicator == indicator, table.c.params_hash == params_hash,
            table.c.key.in_(chunk))).all())
    return out


def indicator_states(session: Session, indicator: str, keys: Sequence[str],
                     params_hash: str) -> dict[str, dict[str, Any]]:
    """Incremental state of many keys (see :class:`~db.models.IndicatorState`)."""
    return _by_key(session, IndicatorState.__table__, "state", indicator, keys, params_hash)


def indicator_metas(session: Session, indicator: str, keys: Sequence[str],
                    params_hash: str) -> dict[str, dict[str, Any]]:
    """Stored metadata of many keys for one parameter set."""
    return _by_key(session, IndicatorRun.__table__, "meta", indicator, keys, params_hash)


def indicator_event_lists(session: Session, indicator: str, keys: Sequence[str],
                          params_hash: str) -> dict[str, list[dict[str, Any]]]:
    """Stored events of many keys for one parameter set, as rows
    (``kind, start, end, peak, ongoing, attrs``), by start."""
    et = IndicatorEventRow.__table__
    out: dict[str, list[dict[str, Any]]] = {}
    for chunk in _chunks(list(keys), 500):
        for r in session.execute(select(et.c.key, et.c.kind, et.c.start, et.c.end, et.c.peak,
                                        et.c.ongoing, et.c.attrs).where(
                et.c.indicator == indicator, et.c.params_hash == params_hash,
                et.c.key.in_(chunk)).order_by(et.c.key, et.c.start)):
            out.setdefault(r.key, []).append(
                {"kind": r.kind, "start": r.start, "end": r.end, "peak": r.peak,
                 "ongoing": bool(r.ongoing), "attrs": dict(r.attrs or {})})
    return out


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
    cols = ["indicator", "key", "params_hash", "field", "date", "value", "computed_at"]
    bt = IndicatorBlock.__table__
    q = select(bt.c.key, bt.c.params_hash, bt.c.fields, bt.c.data, bt.c.computed_at).where(
        bt.c.indicator == indicator)
    if key is not None:
        q = q.where(bt.c.key == key)
    wanted: set[tuple[str, str]] | None = None
    if params_hash is not None:
        q = q.where(bt.c.params_hash == params_hash)
    else:
        latest = latest_runs(session, indicator, key)
        if not latest:
            return pd.DataFrame(columns=cols)
        wanted = {(r.key, r.params_hash) for r in latest}
        q = q.where(bt.c.params_hash.in_({h for _, h in wanted}))
    if start is not None:
        q = q.where(bt.c.last_date >= start)
    if end is not None:
        q = q.where(bt.c.first_date <= end)
    parts = []
    for r in session.execute(q.order_by(bt.c.key, bt.c.year)):
        if wanted is not None and (r.key, r.params_hash) not in wanted:
            continue
        blk = db_blocks.decode(r.data, _fields(r.fields))
        dates = np.array([db_blocks.to_date(d) for d in blk.days.tolist()], dtype=object)
        keep = np.ones(dates.shape[0], dtype=bool)
        if start is not None:
            keep &= blk.days >= db_blocks.day_numbers(pd.DatetimeIndex([start]))[0]
        if end is not None:
            keep &= blk.days <= db_blocks.day_numbers(pd.DatetimeIndex([end]))[0]
        for i, f in enumerate(blk.fields):
            if fields and f not in fields:
                continue
            v = blk.values[i]
            ok = keep & np.isfinite(v)
            if not ok.any():
                continue
            n = int(ok.sum())
            parts.append(pd.DataFrame({
                "indicator": indicator, "key": r.key, "params_hash": r.params_hash, "field": f,
                "date": dates[ok], "value": v[ok], "computed_at": [r.computed_at] * n}))
    if not parts:
        return pd.DataFrame(columns=cols)
    df = pd.concat(parts, ignore_index=True)
    return df.sort_values(["key", "date"], kind="stable").reset_index(drop=True)[cols]


def indicator_wide(session: Session, indicator: str, key: str) -> pd.DataFrame:
    """One key's latest result as a wide frame (DatetimeIndex x fields)."""
    runs = latest_runs(session, indicator, key)
    if not runs:
        return pd.DataFrame()
    wide = indicator_series(session, indicator, [key], runs[0].params_hash).get(key)
    if wide is None or wide.empty:
        return pd.DataFrame()
    wide = wide.dropna(how="all", axis=1)
    wide.index = pd.DatetimeIndex(wide.index)
    return wide[sorted(wide.columns)].sort_index()


def latest_values(session: Session, indicator: str,
                  keys: Sequence[str] | None = None) -> pd.DataFrame:
    """The last stored values of every key of ``indicator`` (its most recently
    computed parameter set): one row per key, ``key, date`` and one column per
    field (NaN where that field has no value on the key's last date)."""
    rt = IndicatorRun.__table__
    q = select(rt.c.key, rt.c.computed_at, rt.c.last_values).where(rt.c.indicator == indicator)
    if keys is not None:
        q = q.where(rt.c.key.in_(list(keys)))
    best: dict[str, Any] = {}
    for r in session.execute(q.order_by(rt.c.computed_at)):
        best[r.key] = r.last_values
    recs = []
    for k, lv in best.items():
        if not lv:
            continue
        recs.append({"key": k, "date": date.fromisoformat(lv["date"]), **lv.get("values", {})})
    return pd.DataFrame(recs) if recs else pd.DataFrame(columns=["key", "date"])


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
