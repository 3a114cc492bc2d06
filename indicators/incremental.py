"""Incremental updates: a new day costs the new data, not a recomputation.

For ``psy``, ``runup`` and ``regime`` an :class:`Updater` turns the stored
result of a key (its series, metadata, events and :class:`Stored` state) and
the prices since shortly before its last date into the result of a full
recomputation on all prices, *for the dates that change*:

``psy`` (lag 0, Monte Carlo critical values)
    The statistics of the last sampling period (re-sampled: a week's last
    close moves as the week goes on) and of every new one: O(T) windows per
    new end date, bit for bit the full recomputation's
    (:mod:`indicators._incremental_kernels`). Critical values come from the
    Monte Carlo cache; datestamping runs on the whole stored sequence (O(T)).
    A change of the PSY minimum window (every ~30 weeks at T = 1300), another
    lag or the wild bootstrap recompute in full.
``runup``
    The new days' two-year returns and volatility from about two years of
    prices; episodes from the earliest one that can still change (ongoing, or
    whose crash horizon has not passed); the stored daily window re-thinned.
``regime``
    Drawdown (from the stored running peak) and realised volatility of the new
    days; the high-variance probability carried forward. The two-state model
    is refitted once a week, when a week completes (the model is fitted on
    complete weeks): that day the key is recomputed in full.

An updater returns None when it cannot update exactly (no stored result,
too short a history, a changed parameter rule); the caller then recomputes
the key in full. Every stored value of an update equals a full recomputation
(``tests/indicators/test_incremental.py``), bit for bit except the rolling
volatilities (``vol_2y``, ``realised_vol``): pandas' rolling standard
deviation is a running update whose last bits depend on where the series
starts (relative differences below 1e-13).

Price revisions (dividend back-adjustment, corrections) change history: the
caller compares a fingerprint of each key's stored prices (rows and sum of
``adj_close`` up to the last date used) and recomputes in full when it moved.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from indicators.registry import IndicatorEvent, IndicatorResult, Meta, Params
from indicators.runup import friday_weeks, positive_closes

#: Trading days a year (annualised volatilities), as in :mod:`indicators.runup`.
TRADING_DAYS = 252


@dataclass(frozen=True, slots=True)
class Stored:
    """What is stored for one (indicator, key, params).

    ``frame`` holds the stored series from the date the updater asked for
    (:meth:`Updater.series_from`) on; ``last_date`` is the series' last date.
    """

    frame: pd.DataFrame
    meta: Mapping[str, Any]
    events: Sequence[Mapping[str, Any]]
    state: Mapping[str, Any]
    last_date: date


@dataclass(frozen=True, slots=True)
class Update:
    """The part of a result that changes: ``frame`` holds every row dated on
    or after ``replace_from`` (stored rows from that date on are replaced);
    ``events`` None keeps the stored events."""

    frame: pd.DataFrame
    replace_from: date
    meta: Meta
    events: tuple[IndicatorEvent, ...] | None
    state: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class UpdateInputs:
    """Inputs of one update: daily bars of the key since
    :meth:`Updater.prices_from` (``prices``), the market index closes over
    the same span (``market``; None for the market itself), the reference
    table and the stored result."""

    key: str
    params: Params
    market_symbol: str
    prices: pd.DataFrame
    market: pd.Series | None
    reference: pd.DataFrame
    stored: Stored


@dataclass(frozen=True, slots=True)
class Updater:
    """How one indicator is updated (see the module docstring).

    ``series_from(stored_last, params)`` is the first stored date the update
    reads (None: all); ``prices_from(stored, params)`` the first price date it
    needs; ``update(inputs)`` the update or None; ``state(result, closes,
    params)`` the state to store after a full computation (``closes``: every
    adjusted close of the key); ``needs_market`` whether the market index's
    prices are an input.
    """

    series_from: Callable[[date, Any], date | None]
    prices_from: Callable[[Stored, Any], date]
    update: Callable[[UpdateInputs], Update | None]
    state: Callable[[IndicatorResult[Any], pd.Series, Any], dict[str, Any]]
    needs_market: bool = False
    needs_events: bool = False


def _days_back(day: date, trading_days: int) -> date:
    """A calendar date at least ``trading_days`` trading days before ``day``
    (365.25 calendar days per 245 trading days, fewer than any US year has,
    plus two weeks)."""
    return day - timedelta(days=int(trading_days * 365.25 / 245) + 14)


def _nothing_new(stored: Stored, meta: Meta) -> Update:
    return Update(pd.DataFrame(), stored.last_date + timedelta(days=1), meta, None,
                  dict(stored.state))


# --------------------------------------------------------------------------- psy
def _period_start(day: date, freq: str) -> date:
    if freq == "D":
        return day
    return pd.Timestamp(day).to_period("W-FRI" if freq == "W" else "M").start_time.date()


def sample_tail(px: pd.Series, freq: str) -> pd.Series:
    """:func:`indicators.psy_indicator.sample` of an ascending, unique series
    without pandas periods (the same last observation of each day, week
    ending Friday or month), for the few new prices of an update."""
    if freq == "D" or px.empty:
        return px
    if freq == "W":
        key = friday_weeks(pd.DatetimeIndex(px.index))
    else:
        months = pd.DatetimeIndex(px.index).values.astype("datetime64[M]").astype(np.int64)
        key = months
    last = np.r_[key[1:] != key[:-1], True]
    return px[last]


def _psy_tail_frame(res: Any, cv: Any, sig_level: float, first: int) -> pd.DataFrame:
    """Rows ``first..n-1`` of :func:`indicators.psy_indicator._frame` (same
    columns, same arithmetic), without building the whole frame."""
    n, off = res.n, res.offset
    pos = np.arange(first, n)
    stat = pos - off
    ok = stat >= 0

    def seq(arr: np.ndarray) -> np.ndarray:
        out = np.full(pos.shape[0], np.nan)
        out[ok] = arr[stat[ok]]
        return out

    cols: dict[str, np.ndarray] = {"series": np.asarray(res.series[first:], dtype=float),
                                   "badf": seq(res.badf), "bsadf": seq(res.bsadf)}
    for k, lev in enumerate(cv.levels):
        cols[f"cv{round(lev * 100)}"] = seq(cv.bsadf[:, k])
    col = cv.level_index(sig_level)
    cols["excess"] = cols["bsadf"] - cols[f"cv{round(cv.levels[col] * 100)}"]
    return pd.DataFrame(cols, index=pd.DatetimeIndex(res.index[first:], name="date"))


@lru_cache(maxsize=64)
def _cached_mc_cv(n: int, minw: int, reps: int, seed: int, rule: str) -> Any:
    from indicators.cv import mc_cv

    return mc_cv(n, minw, 0, ic=None, reps=reps, seed=seed, bsadf_cv=rule)  # type: ignore[arg-type]


def _psy_update(inp: UpdateInputs) -> Update | None:
    from indicators import psy_indicator as pi
    from indicators._incremental_kernels import end_points_lag0
    from indicators._psy_inputs import check_window, standardise
    from indicators.datestamp import datestamp
    from indicators.psy import RadfResult

    p = inp.params
    st = inp.stored
    if (p.cv != "mc" or p.lag != 0 or p.ic is not None or p.seed is None
            or st.frame.empty or "series" not in st.frame):
        return None
    test = (st.meta or {}).get("test")
    if not test:
        return None
    px = positive_closes(inp.prices)
    if p.start is not None:
        px = px[px.index >= pd.Timestamp(p.start)]
    cut = pd.Timestamp(_period_start(st.last_date, p.freq))
    new = sample_tail(px[px.index >= cut], p.freq)
    if new.empty:
        return None
    # the stored sampled series before the current period (positions, not labels)
    sv = st.frame["series"].to_numpy(dtype=float)
    old_at = np.flatnonzero((st.frame.index.values < cut.to_datetime64()) & ~np.isnan(sv))
    old = pd.Series(sv[old_at], index=st.frame.index[old_at])
    if len(old) + int(st.frame.index[-1] >= cut) != int(test["T"]):
        return None  # the stored series is not the one the test ran on
    new_log = np.log(new.to_numpy(dtype=float))
    values = np.concatenate([old.to_numpy(dtype=float), new_log])
    index = pd.DatetimeIndex(old.index.append(new.index), name="date")
    n = values.shape[0]
    if n < p.min_obs:
        return None
    try:
        minw = check_window(n, p.min_window, 0)
    except ValueError:
        return None
    if minw != int(test["min_window"]):
        return None  # the PSY window changed: every statistic changes
    offset = minw
    n_old = len(old)
    if n_old < offset:
        return None
    z = standardise(values.copy())
    ends = np.arange(n_old, n, dtype=np.int64)
    bs = np.empty(ends.shape[0])
    bd = np.empty(ends.shape[0])
    end_points_lag0(z, minw, ends, bs, bd)
    badf = np.concatenate([st.frame["badf"].to_numpy(dtype=float)[old_at][offset:], bd])
    bsadf = np.concatenate([st.frame["bsadf"].to_numpy(dtype=float)[old_at][offset:], bs])
    for arr in (badf, bsadf, values):
        arr.flags.writeable = False
    res = RadfResult(
        adf=float(badf[-1]),
        sadf=float(np.nanmax(badf)) if not np.all(np.isnan(badf)) else float("nan"),
        gsadf=float(np.nanmax(bsadf)) if not np.all(np.isnan(bsadf)) else float("nan"),
        badf=badf, bsadf=bsadf, series=values, index=index, n=n, min_window=minw, lag=0,
        ic=None, log=True)
    cv = _cached_mc_cv(n, minw, p.reps, p.seed, p.bsadf_cv)
    ds = datestamp(res, cv, sig_level=p.sig_level, min_duration=p.min_duration,
                   require_rejection=p.require_rejection)
    replace_from = min(cut.date(), st.last_date)
    first = int(np.searchsorted(index.values, np.datetime64(pd.Timestamp(replace_from))))
    frame = _psy_tail_frame(res, cv, ds.sig_level, first)
    meta = pi.PsyMeta(freq=p.freq, start=p.start, transform="log",
                      test=pi.psy_test(res, cv, ds, p))
    return Update(frame, replace_from, meta, tuple(pi._events(ds, "")), {})


def _psy_prices_from(stored: Stored, params: Any) -> date:
    return _period_start(stored.last_date, params.freq)


PSY = Updater(
    series_from=lambda last, params: None,
    prices_from=_psy_prices_from,
    update=_psy_update,
    state=lambda result, closes, params: {},
)


# --------------------------------------------------------------------------- thinning
def _rethin(stored_tail: pd.DataFrame, new_rows: pd.DataFrame, daily_days: int,
            ) -> tuple[pd.DataFrame, date] | None:
    """Rows from the start of the week of the stored daily window on, as
    :func:`indicators.runup.thin` of the whole series gives them after
    ``new_rows`` are appended (``stored_tail``: stored rows, the daily window
    among them)."""
    from indicators.runup import thin

    if daily_days <= 0:
        start = (new_rows.index[0] if len(new_rows) else stored_tail.index[-1]).date()
        return new_rows, start
    if len(stored_tail) < daily_days:
        return None
    window = stored_tail.iloc[-daily_days:]
    r = pd.Timestamp(window.index[0])
    week_start = r.to_period("W-FRI").start_time
    rows = pd.concat([window, new_rows]) if len(new_rows) else window
    out = thin(rows, daily_days)
    return out, week_start.date()


# --------------------------------------------------------------------------- run-up and regime: shared
def _stored_rows(rows: pd.DataFrame, start: date | None) -> pd.DataFrame:
    """New rows as the full computation stores them: on or after ``start``,
    rows without any value left out (:func:`indicators.runup.trim`, then
    ``dropna(how="all")``)."""
    keep = ~np.isnan(rows.to_numpy(dtype=float)).all(axis=1)
    if start is not None:
        keep &= rows.index.values >= np.datetime64(pd.Timestamp(start))
    return rows if keep.all() else rows[keep]


def _stored_tail(stored: Stored, daily_days: int, columns: list[str]) -> pd.DataFrame:
    """The stored rows that hold the daily window (``daily_days`` trading
    days before the last date, and some), with ``columns``."""
    first = np.datetime64(pd.Timestamp(_days_back(stored.last_date, daily_days + 10)))
    frame = stored.frame
    tail = frame.iloc[int(np.searchsorted(frame.index.values, first)):]
    return tail if list(tail.columns) == columns else tail.reindex(columns=columns)


_GSY_RATES: list[tuple[pd.DataFrame, dict[str, float]]] = []


def _gsy_rates(reference: pd.DataFrame) -> dict[str, float]:
    """:func:`indicators.runup.gsy_base_rates` of ``reference``, computed once
    per reference table (a batch passes the same table to every update)."""
    from indicators.runup import gsy_base_rates

    if not _GSY_RATES or _GSY_RATES[0][0] is not reference:
        _GSY_RATES[:] = [(reference, gsy_base_rates(reference))]
    return dict(_GSY_RATES[0][1])


# --------------------------------------------------------------------------- runup
def _event_rows_final(events: Sequence[Mapping[str, Any]], first_new: pd.Timestamp,
                      prices: pd.Series, merge_gap: int) -> tuple[list[Mapping[str, Any]],
                                                                   pd.Timestamp]:
    """Stored run-up episodes that no later data can change, and the date from
    which the others must be recomputed (the start of the earliest of them,
    else ``first_new``). An episode is final once it has ended more than
    ``merge_gap`` rows before the new data (a new run cannot join it) and its
    crash horizon has passed (``crashed`` is known)."""
    pos = prices.index.get_indexer([first_new])[0]
    limit = prices.index[max(pos - merge_gap, 0)]

    def is_final(ev: Mapping[str, Any]) -> bool:
        end = ev.get("end")
        return (not ev.get("ongoing") and (ev.get("attrs") or {}).get("crashed") is not None
                and end is not None and pd.Timestamp(end) < limit)

    anchor = min([first_new, *(pd.Timestamp(e["start"]) for e in events if not is_final(e))])
    return [e for e in events if pd.Timestamp(e["start"]) < anchor], anchor


def _stored_event(ev: Mapping[str, Any]) -> IndicatorEvent:
    def d(v: Any) -> date | None:
        return None if v is None else pd.Timestamp(v).date()

    return IndicatorEvent(kind=str(ev["kind"]), start=d(ev["start"]),  # type: ignore[arg-type]
                          end=d(ev.get("end")), peak=d(ev.get("peak")),
                          ongoing=bool(ev.get("ongoing")), attrs=dict(ev.get("attrs") or {}))


def _runup_prices_from(stored: Stored, params: Any) -> date:
    """Enough prices for the new days' two-year windows and for the episodes
    that may still change (ongoing, recent, or within their crash horizon)."""
    recent = _days_back(stored.last_date, params.merge_gap_days + 5)
    open_starts = [pd.Timestamp(e["start"]).date() for e in stored.events
                   if e.get("ongoing") or e.get("end") is None
                   or (e.get("attrs") or {}).get("crashed") is None
                   or pd.Timestamp(e["end"]).date() >= recent]
    anchor = min([stored.last_date, *open_starts])
    return _days_back(anchor, params.window_days + params.merge_gap_days + 10)


def _rolling_std(logp: np.ndarray, ends: np.ndarray, window: int) -> np.ndarray:
    """Annualised standard deviation (ddof 1) of the ``window`` daily log
    returns ending at each of ``ends`` (positions in ``logp``); NaN where the
    window is not full. Each window is summed afresh (two passes), so it equals
    pandas' running ``rolling().std()`` to the last bits only."""
    out = np.full(ends.shape[0], np.nan)
    r = np.diff(logp)
    for i, t in enumerate(ends.tolist()):
        if t - window >= 0:
            out[i] = float(np.std(r[t - window:t], ddof=1)) * np.sqrt(TRADING_DAYS)
    return out


def _runup_rows(price: pd.Series, price_only: pd.Series, market: pd.Series | None,
                pos: np.ndarray, window: int, threshold: float) -> pd.DataFrame:
    """:func:`indicators.runup.runup_frame`'s rows at positions ``pos`` of
    ``price`` (same arithmetic; the volatility as in :func:`_rolling_std`;
    the net return is price-only against the market's price index)."""
    px = price.to_numpy(dtype=float)
    ret = np.full(pos.shape[0], np.nan)
    ok = pos >= window
    ret[ok] = px[pos[ok]] / px[pos[ok] - window] - 1.0
    if len(price_only):
        po = price_only.reindex(price.index).to_numpy(dtype=float)
        ret_price = np.full(pos.shape[0], np.nan)
        ret_price[ok] = po[pos[ok]] / po[pos[ok] - window] - 1.0
    else:
        ret_price = ret.copy()
    vol = _rolling_std(np.log(px), pos, window)
    net = np.full(pos.shape[0], np.nan)
    if market is not None and len(market):
        mi = market.index.values
        mv = market.to_numpy(dtype=float)
        dates = price.index.values

        def m_at(j: np.ndarray) -> np.ndarray:
            k = np.searchsorted(mi, dates[j], side="right") - 1
            return np.where(k >= 0, mv[np.maximum(k, 0)], np.nan)

        net[ok] = ret_price[ok] - (m_at(pos[ok]) / m_at(pos[ok] - window) - 1.0)
    flag = np.where(np.isnan(ret), np.nan, (ret >= threshold).astype(float))
    return pd.DataFrame({"ret_2y": ret, "ret_2y_price": ret_price, "ret_2y_net": net,
                         "vol_2y": vol, "flag": flag}, index=price.index[pos])


def _runup_update(inp: UpdateInputs) -> Update | None:
    from indicators.runup import RunupMeta, runup_spells

    p, st = inp.params, inp.stored
    price = positive_closes(inp.prices)
    if price.empty or st.frame.empty:
        return None
    last = pd.Timestamp(st.last_date)
    meta_old = dict(st.meta or {})
    pos0 = int(np.searchsorted(price.index.values, last.to_datetime64(), side="right"))
    if pos0 >= len(price):
        return _nothing_new(st, RunupMeta.model_validate(meta_old))
    first_new = price.index[pos0]
    if pos0 < p.window_days + p.merge_gap_days + 1:
        return None
    market = inp.market if inp.key != inp.market_symbol else None
    price_only = positive_closes(inp.prices, "close")
    rows = _runup_rows(price, price_only, market, np.arange(pos0, len(price)), p.window_days,
                       p.threshold)
    final, anchor = _event_rows_final(st.events, first_new, price, p.merge_gap_days)
    if anchor == first_new and not (rows["flag"] > 0.5).any():
        events = None  # every stored episode is final and no new run-up day: unchanged
    else:
        apos = price.index.get_indexer([anchor])
        if apos[0] < 0 or apos[0] < p.window_days:
            return None
        # the episodes read only the total return and its flag
        px = price.to_numpy(dtype=float)
        a = int(apos[0])
        ret = px[a:] / px[a - p.window_days:len(px) - p.window_days] - 1.0
        fe = pd.DataFrame({"ret_2y": ret, "flag": (ret >= p.threshold).astype(float)},
                          index=price.index[a:])
        events = tuple([_stored_event(e) for e in final] + runup_spells(
            fe, price, horizon=p.window_days, crash=p.crash_drawdown,
            merge_gap=p.merge_gap_days))
    new_rows = _stored_rows(rows, p.start)
    tail = _stored_tail(st, p.daily_days, list(rows.columns))
    rethin = _rethin(tail, new_rows, p.daily_days)
    if rethin is None:
        return None
    out, replace_from = rethin
    valid = np.flatnonzero(~np.isnan(rows["ret_2y"].to_numpy()))
    fields = dict(meta_old)
    if valid.size:
        i = int(valid[-1])
        net = float(rows["ret_2y_net"].to_numpy()[i])
        fields.update(last_date=rows.index[i].date(), ret_2y=float(rows["ret_2y"].to_numpy()[i]),
                      ret_2y_net=net if np.isfinite(net) else None,
                      flag=bool(rows["flag"].to_numpy()[i] > 0.5))
    fields["gsy_crash_probability_pct"] = _gsy_rates(inp.reference)
    meta = RunupMeta.model_validate(fields)
    return Update(out[out.index >= pd.Timestamp(replace_from)], replace_from, meta, events, {})


RUNUP = Updater(
    series_from=lambda last, params: _days_back(last, params.daily_days + 10),
    prices_from=_runup_prices_from,
    update=_runup_update,
    state=lambda result, closes, params: {},
    needs_market=True,
    needs_events=True,
)


# --------------------------------------------------------------------------- regime
def _prob_field() -> str:
    """The regime indicator's probability field (the one ending in ``_prob``)."""
    from indicators.regime import INDICATOR

    names = [c for c in INDICATOR.columns if c.endswith("_prob")]
    return names[0]


def _regime_update(inp: UpdateInputs) -> Update | None:
    from indicators.regime import INDICATOR

    p, st = inp.params, inp.stored
    price = positive_closes(inp.prices)
    peak = (st.state or {}).get("peak")
    if price.empty or st.frame.empty or peak is None:
        return None
    last = pd.Timestamp(st.last_date)
    newer = price.index[price.index > last]
    meta_old = dict(st.meta or {})
    if not len(newer):
        return _nothing_new(st, INDICATOR.meta.model_validate(meta_old))
    # a week completed since the last run: refit (a full recomputation)
    fridays = pd.date_range(last + pd.Timedelta(days=1), newer[-1], freq="W-FRI")
    if len(fridays):
        return None
    pos = price.index.get_indexer([newer[0]])[0]
    if pos < p.vol_window + 1:
        return None
    prob = _prob_field()
    # the probability is carried forward from the last stored row (NaN if it has none)
    carried = float(st.frame[prob].to_numpy()[-1]) if prob in st.frame else float("nan")
    px = price.to_numpy(dtype=float)
    peak_before = float(peak)
    run_max = np.maximum.accumulate(np.concatenate([[peak_before], px[pos:]]))[1:]
    dd = px[pos:] / run_max - 1.0
    vol = _rolling_std(np.log(px), np.arange(pos, len(px)), p.vol_window)
    new_rows = pd.DataFrame({"drawdown": dd, "realised_vol": vol, prob: carried},
                            index=newer)
    new_rows = _stored_rows(new_rows, p.start)
    tail = _stored_tail(st, p.daily_days, ["drawdown", "realised_vol", prob])
    rethin = _rethin(tail, new_rows, p.daily_days)
    if rethin is None:
        return None
    out, replace_from = rethin
    fields = dict(meta_old)
    new_max = float(px[pos:].max())
    if new_max > peak_before:
        fields["peak_date"] = newer[int(np.argmax(px[pos:]))].date()
    md = fields.get("max_drawdown")
    fields["max_drawdown"] = float(min(md, float(dd.min())) if md is not None else dd.min())
    fields.update(last_date=newer[-1].date(), drawdown=float(dd[-1]),
                  **{prob: None if not np.isfinite(carried) else carried})
    meta = INDICATOR.meta.model_validate(fields)
    return Update(out[out.index >= pd.Timestamp(replace_from)], replace_from, meta, None,
                  {"peak": max(peak_before, new_max)})


def _regime_state(result: IndicatorResult[Any], closes: pd.Series, params: Any) -> dict[str, Any]:
    return {"peak": float(closes.max())} if len(closes) else {}


REGIME = Updater(
    series_from=lambda last, params: _days_back(last, params.daily_days + 10),
    prices_from=lambda stored, params: _days_back(stored.last_date, params.vol_window + 5),
    update=_regime_update,
    state=_regime_state,
)

#: Indicator name -> its updater.
UPDATERS: dict[str, Updater] = {"psy": PSY, "runup": RUNUP, "regime": REGIME}
