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
* the full FCO grid: ``min_window=125``, ``max_window=750``, ``window_step=5``;
* the Trust indicator (Sornette et al. 2015; ``pos_trust``, ``neg_trust``):
  ``trust_resamples=10`` synthetic series per window, on the *latest* end
  date of each run only (``trust_on="latest"``). Trust costs about
  ``trust_resamples`` times the confidence of the same end date (one end
  date: 0.65-0.9 s for the confidence, 7 s with Trust at 10 resamples on
  this project's loaded two-core machine), so back-filling it over the first
  run's 104 end dates would take over ten minutes; on the latest date it adds
  about 7 s per key to a run, and a daily schedule builds a daily Trust
  series. ``trust_on="all"`` computes it on every end date (for a study of
  a past episode, with ``until``), ``trust_resamples=0`` never.

``until`` ends the grid at an earlier date (the end dates are then the last
``span`` trading days up to it): a past episode can be studied with the
same indicator, e.g. ``--param until=2000-12-29 --param span=1010`` for the
Nasdaq through 1997-2000. The filters of both indicators are stored in the
metadata, including the bubblewatch settings ``resolved_tc`` and
``relative_error`` (:class:`indicators.lppls.FcoFilter`).

End dates lie on a grid anchored at the first observation (positions divisible
by ``step``), so the grid does not move as days are added and incremental runs
extend it; the latest observation is always added as well.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from indicators.lppls import FCO_FILTER, FCO_TRUST_FILTER, FcoFilter, confidence, window_sizes
from indicators.registry import (
    Column,
    ComputeContext,
    Indicator,
    IndicatorResult,
    Meta,
    Params,
)

if TYPE_CHECKING:
    from bubblewatch.core.universe import Universe

#: Symbols computed by default (when in the universe), in this order.
DEFAULT_KEYS: tuple[str, ...] = ("NVDA", "^NDX", "^IXIC", "CSCO")

_QUANTILES = (0.1, 0.5, 0.9)

def _tc(q: str, sign: str) -> Column:
    what = "positive-bubble" if sign == "pos" else "negative-bubble"
    label = {"q10": "10% quantile", "median": "median", "q90": "90% quantile"}[q]
    return Column(f"Critical time, {label} ({what})", "trading days after the date",
                  f"{label} of the critical times of the qualified {what} fits")


COLUMNS: dict[str, Column] = {
    "pos_conf": Column("Positive-bubble confidence", "fraction 0-1",
                       "share of fitting windows whose LPPLS fit (B<0) passes the FCO filter"),
    "neg_conf": Column("Negative-bubble confidence", "fraction 0-1",
                       "share of fitting windows whose LPPLS fit (B>0) passes the FCO filter"),
    "n_windows": Column("Fitting windows", "count", "windows fitted for this end date"),
    "n_pos": Column("Qualified positive-bubble fits", "count", "fits that pass the filter"),
    "n_neg": Column("Qualified negative-bubble fits", "count", "fits that pass the filter"),
    **{f"{s}_tc_{q}_days": _tc(q, s) for s in ("pos", "neg") for q in ("q10", "median", "q90")},
    "pos_trust": Column("Positive-bubble Trust", "fraction 0-1",
                        "median over the windows of the share of resampled series whose fit "
                        "(B<0) passes the FCO Trust filter; empty where not computed"),
    "neg_trust": Column("Negative-bubble Trust", "fraction 0-1",
                        "median over the windows of the share of resampled series whose fit "
                        "(B>0) passes the FCO Trust filter; empty where not computed"),
}


class LpplsParams(Params):
    """Parameters of the LPPLS indicator (see the module docstring)."""

    span: int = Field(252, ge=1, description="trading days back from the last one for which "
                      "end dates are computed on a first run")
    step: int = Field(10, ge=1, description="end dates every this many trading days (the latest "
                      "day is always added)")
    min_window: int = Field(125, ge=20, description="shortest fitting window, trading days")
    max_window: int = Field(750, ge=20, description="longest fitting window, trading days")
    window_step: int = Field(5, ge=1, description="step between window lengths, trading days")
    trust_resamples: int = Field(10, ge=0, description="synthetic series per window for the "
                                 "Trust indicator (0: no Trust)")
    trust_on: Literal["latest", "all"] = Field("latest", description="end dates with Trust: the "
                                               "latest of each run, or all of them")
    seed: int = Field(0, ge=0, lt=2**32, description="seed of the Trust resampling (each end "
                      "date and window has its own stream)")
    until: date | None = Field(None, description="last end date (None: the latest price); the "
                               "span counts back from it")

    @model_validator(mode="after")
    def _windows_ordered(self) -> LpplsParams:
        if self.min_window > self.max_window:
            raise ValueError(f"min_window ({self.min_window}) must not exceed max_window "
                             f"({self.max_window})")
        return self


class FcoFilterSettings(BaseModel):
    """The filter a fit must pass to count (FCO, Sornette et al. 2015)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    m: tuple[float, float]
    omega: tuple[float, float]
    tc_fraction_of_dt: tuple[float, float]
    min_oscillations: float
    min_damping: float
    max_relative_error: float
    relative_error: str
    resolved_tc: bool

    @classmethod
    def of(cls, f: FcoFilter) -> FcoFilterSettings:
        return cls(m=f.m, omega=f.omega, tc_fraction_of_dt=f.tc,
                   min_oscillations=f.min_oscillations, min_damping=f.min_damping,
                   max_relative_error=f.max_relative_error, relative_error=f.relative_error,
                   resolved_tc=f.resolved_tc)


class LpplsMeta(Meta):
    """What is stored beside each symbol's LPPLS series."""

    windows: str
    n_windows: int
    filter: FcoFilterSettings
    trust_filter: FcoFilterSettings
    trust_resamples: int
    trust_on: str
    seed: int
    until: date | None = None
    time_unit: str = "trading days"
    dropped_rows: int | None = None
    ends_computed: int | None = None
    trust_ends: int | None = None


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


def compute(ctx: ComputeContext, key: str, params: LpplsParams) -> IndicatorResult[LpplsMeta]:
    """FCO confidence for ``key`` at the end dates after ``ctx.since`` (see module doc)."""
    span, step = params.span, params.step
    min_window, max_window, window_step = params.min_window, params.max_window, params.window_step
    wins = window_sizes(min_window, max_window, window_step)
    meta: dict[str, Any] = {
        "windows": f"{min_window}-{max_window} trading days, step {window_step}",
        "n_windows": int(wins.shape[0]),
        "filter": FcoFilterSettings.of(FCO_FILTER),
        "trust_filter": FcoFilterSettings.of(FCO_TRUST_FILTER),
        "trust_resamples": params.trust_resamples, "trust_on": params.trust_on,
        "seed": params.seed, "until": params.until,
    }
    empty = pd.DataFrame(columns=list(COLUMNS), dtype=float,
                         index=pd.DatetimeIndex([], name="date"))

    bars = ctx.source.prices(key)
    if bars is None or bars.empty or "adj_close" not in bars:
        return IndicatorResult(empty, LpplsMeta(
            **meta, missing=f"no prices for {key}: load them with `bubblewatch ingest`"))
    px = bars["adj_close"].astype(float).sort_index()
    px = px[~px.index.duplicated(keep="last")]
    bad = ~np.isfinite(px.to_numpy()) | (px.to_numpy() <= 0)
    if bad.any():
        meta["dropped_rows"] = int(bad.sum())
        px = px[~bad]
    if params.until is not None:
        px = px[px.index <= pd.Timestamp(params.until)]
    n = len(px)
    if n < int(wins[0]):
        return IndicatorResult(empty, LpplsMeta(
            **meta, missing=f"{key} has {n} usable prices; the longest window needs "
                            f"{int(wins[0])}: a longer price history fills it"))
    pos = end_positions(n, span, step, int(wins[0]))
    if ctx.since is not None:
        pos = pos[px.index[pos] > pd.Timestamp(ctx.since)]
    if pos.size == 0:
        return IndicatorResult(empty, LpplsMeta(**meta, note="up to date"))
    frame, trust_ends = lppls_frame(px, pos, params)
    return IndicatorResult(frame, LpplsMeta(**meta, ends_computed=int(pos.size),
                                            trust_ends=trust_ends))


def lppls_frame(px: pd.Series, pos: np.ndarray, params: LpplsParams) -> tuple[pd.DataFrame, int]:
    """Confidence (and Trust, per ``trust_on``) at end positions ``pos`` of
    the daily prices ``px``: the stored fields and the number of end dates
    with Trust. Each end date's reading depends only on the prices up to it
    (and the seed), never on which other end dates are computed."""
    kw: dict[str, Any] = {"min_window": params.min_window, "max_window": params.max_window,
                          "window_step": params.window_step, "quantiles": _QUANTILES}
    ends = [int(p) for p in pos]
    if params.trust_resamples == 0:
        with_trust: list[int] = []
    elif params.trust_on == "all":
        with_trust = ends
    else:
        with_trust = ends[-1:]
    plain = [e for e in ends if e not in with_trust]
    parts = []
    if plain:
        parts.append(confidence(px, plain, **kw).to_frame(dates=False))
    if with_trust:
        parts.append(confidence(px, with_trust, trust_resamples=params.trust_resamples,
                                seed=params.seed, **kw).to_frame(dates=False))
    frame = pd.concat(parts).sort_index()
    frame = frame.reindex(columns=list(COLUMNS)).astype(float)
    frame.index = pd.DatetimeIndex(frame.index, name="date")
    return frame, len(with_trust)


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
    params=LpplsParams,
    meta=LpplsMeta,
    keys=default_keys,
    optional_keys=lambda universe: universe.symbols,
    compute=compute,
    page="lppls",
    sampling="every step-th trading day over the span, plus each day computed since",
    incremental=True,
)
