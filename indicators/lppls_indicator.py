"""LPPLS confidence (ETH Zurich FCO) as a registered, incremental indicator.

For each key (a symbol) the compute job gets, over the last ``span`` trading
days, the FCO confidence indicator of :func:`indicators.lppls.confidence` on log
``adj_close``: positive- and negative-bubble confidence and the quantiles of the
qualified critical times (trading days after the end date).

Defaults, chosen so that ``bubblewatch compute`` over the default universe stays
cheap. One end date with the full FCO grid (126 windows) costs about 0.4 s of
CPU, 0.2-0.3 s wall on two idle cores (0.6 s when the machine is loaded), so:

* keys: ``NVDA``, ``^NDX``, ``^IXIC``, ``CSCO`` (the AI bellwether, the AI-heavy
  index, the dot-com index and Nvidia's dot-com analogue) where present in the
  universe; the other symbols are not computed by default;
* ``span=252``, ``step=10``: a first run back-fills end dates every 10th
  trading day (about fortnightly) over the last year plus the latest day,
  about 26 per key, 104 in all (20-30 s); later runs honour ``ctx.since`` and
  compute only newer end dates: the latest day of each run (so a daily
  schedule builds a daily series) and any new grid date, about 1 s a day;
* the full FCO grid: ``min_window=125``, ``max_window=750``, ``window_step=5``.

End dates lie on a grid anchored at the first observation (positions divisible
by ``step``), so the grid does not move as days are added and incremental runs
extend it; the latest observation is always added as well.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from indicators.lppls import FCO_FILTER, confidence, window_sizes
from indicators.registry import ComputeContext, Indicator, IndicatorResult

if TYPE_CHECKING:
    from bubblewatch.core.universe import Universe

#: Symbols computed by default (when in the universe), in this order.
DEFAULT_KEYS: tuple[str, ...] = ("NVDA", "^NDX", "^IXIC", "CSCO")

_QUANTILES = (0.1, 0.5, 0.9)

COLUMNS: dict[str, str] = {
    "pos_conf": "positive-bubble (B<0) LPPLS confidence: share of windows whose fit passes "
                "the FCO filter (0-1)",
    "neg_conf": "negative-bubble (B>0) LPPLS confidence: share of windows whose fit passes "
                "the FCO filter (0-1)",
    "n_windows": "number of fitting windows per end date (count)",
    "n_pos": "qualified positive-bubble fits (count)",
    "n_neg": "qualified negative-bubble fits (count)",
    "pos_tc_q10_days": "10% quantile of qualified positive-bubble critical times, trading "
                       "days after the end date",
    "pos_tc_median_days": "median qualified positive-bubble critical time, trading days "
                          "after the end date",
    "pos_tc_q90_days": "90% quantile of qualified positive-bubble critical times, trading "
                       "days after the end date",
    "neg_tc_q10_days": "10% quantile of qualified negative-bubble critical times, trading "
                       "days after the end date",
    "neg_tc_median_days": "median qualified negative-bubble critical time, trading days "
                          "after the end date",
    "neg_tc_q90_days": "90% quantile of qualified negative-bubble critical times, trading "
                       "days after the end date",
}

DEFAULTS: dict[str, Any] = {
    "span": 252,
    "step": 10,
    "min_window": 125,
    "max_window": 750,
    "window_step": 5,
}


def default_keys(universe: Universe) -> Sequence[str]:
    """The :data:`DEFAULT_KEYS` that are in ``universe``."""
    known = set(universe.symbols)
    return [k for k in DEFAULT_KEYS if k in known]


def end_positions(n: int, span: int, step: int, max_window: int) -> np.ndarray:
    """End positions for ``n`` observations: multiples of ``step`` (counted from the
    first observation) among the last ``span``, plus the last observation, each
    with at least ``max_window`` observations up to it."""
    first = max(n - span, max_window - 1, 0)
    if first > n - 1:
        return np.empty(0, dtype=np.int64)
    start = first + (-first) % step
    pos = np.arange(start, n, step, dtype=np.int64)
    if pos.size == 0 or pos[-1] != n - 1:
        pos = np.append(pos, np.int64(n - 1))
    return pos


def _int_param(params: Mapping[str, Any], name: str, minimum: int) -> int:
    v = params[name]
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) and not (
        isinstance(v, float) and v.is_integer()
    ):
        raise ValueError(f"lppls parameter {name!r} must be an integer, got {v!r}")
    if int(v) < minimum:
        raise ValueError(f"lppls parameter {name!r} must be >= {minimum}, got {v}")
    return int(v)


def compute(ctx: ComputeContext, key: str, params: Mapping[str, Any]) -> IndicatorResult:
    """FCO confidence for ``key`` at the end dates after ``ctx.since`` (see module doc)."""
    span = _int_param(params, "span", 1)
    step = _int_param(params, "step", 1)
    min_window = _int_param(params, "min_window", 1)
    max_window = _int_param(params, "max_window", 1)
    window_step = _int_param(params, "window_step", 1)
    wins = window_sizes(min_window, max_window, window_step)
    meta: dict[str, Any] = {
        "windows": f"{min_window}-{max_window} trading days, step {window_step}",
        "n_windows": int(wins.shape[0]),
        "filter": {
            "m": list(FCO_FILTER.m), "omega": list(FCO_FILTER.omega),
            "tc_fraction_of_dt": list(FCO_FILTER.tc),
            "min_oscillations": FCO_FILTER.min_oscillations,
            "min_damping": FCO_FILTER.min_damping,
            "max_relative_error": FCO_FILTER.max_relative_error,
        },
        "time_unit": "trading days",
    }
    empty = pd.DataFrame(columns=list(COLUMNS), dtype=float,
                         index=pd.DatetimeIndex([], name="date"))

    bars = ctx.source.prices(key)
    if bars is None or bars.empty or "adj_close" not in bars:
        note = f"no prices for {key}"
        return IndicatorResult(empty, meta={**meta, "note": note, "missing": note})
    px = bars["adj_close"].astype(float).sort_index()
    px = px[~px.index.duplicated(keep="last")]
    bad = ~np.isfinite(px.to_numpy()) | (px.to_numpy() <= 0)
    if bad.any():
        meta["dropped_rows"] = int(bad.sum())
        px = px[~bad]
    n = len(px)
    if n < int(wins[0]):
        note = f"{key} has {n} usable prices; the longest window needs {int(wins[0])}"
        return IndicatorResult(empty, meta={**meta, "note": note, "missing": note})
    pos = end_positions(n, span, step, int(wins[0]))
    if ctx.since is not None:
        pos = pos[px.index[pos] > pd.Timestamp(ctx.since)]
    if pos.size == 0:
        return IndicatorResult(empty, meta={**meta, "note": "up to date"})
    res = confidence(
        px, [int(p) for p in pos], min_window=min_window, max_window=max_window,
        window_step=window_step, quantiles=_QUANTILES,
    )
    frame = res.to_frame(dates=False)[list(COLUMNS)].astype(float)
    frame.index = pd.DatetimeIndex(frame.index, name="date")
    meta["ends_computed"] = int(pos.size)
    return IndicatorResult(frame, meta=meta)


INDICATOR = Indicator(
    name="lppls",
    title="LPPLS bubble confidence (FCO)",
    description=(
        "Log-periodic power law singularity fits (Filimonov & Sornette 2013) on log prices "
        "over windows of 125-750 trading days ending at each date; the share of windows "
        "whose fit passes the ETH Zurich Financial Crisis Observatory filter (Sornette et "
        "al. 2015) is the positive (B<0) or negative (B>0) bubble confidence, with the "
        "distribution of the fitted critical times."
    ),
    columns=COLUMNS,
    defaults=DEFAULTS,
    keys=default_keys,
    optional_keys=lambda universe: universe.symbols,
    compute=compute,
    incremental=True,
)
