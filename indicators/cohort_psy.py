"""Cohort-level explosiveness: indicator ``cohort_psy``, keyed by cohort.

Is the AI cohort (or the dot-com cohort) explosive *together*?
:func:`indicators.panel.cohort_reading` on the weekly log adjusted closes of
the cohort's members over the cohort's window:

1. the panel BSADF of Pavlidis et al. (2016), the cross-section average of
   the members' ADF statistics of each window, maximised over window
   starts, against its sieve-bootstrap critical values (the bootstrap draws
   the members' shocks of a date jointly, so their correlation is kept), and
   the panel GSADF against its critical value;
2. the latest panel episode (panel BSADF above its pointwise critical value
   for at least ``min_duration`` weeks);
3. over that episode, the co-explosiveness test of Evripidou, Harvey,
   Leybourne & Sollis (2022) of every member against the cohort's reference
   (NVIDIA, Cisco): is ``member - a - b reference`` (at the best lead or lag)
   stationary? Explosive together = the panel rejects, an episode is dated,
   and no member's co-explosiveness is rejected (Bonferroni over members).

Read with care
--------------
* The panel BSADF on a date uses prices up to that date, but its critical
  values come from one bootstrap over the whole window (a null model fitted
  on all of it), and the panel GSADF and the verdict belong to the whole
  window: this is a whole-window reading, not a point-in-time one. For
  point-in-time readings of a cohort use the monitors on its basket
  (``psy_rt``, ``monitor_*`` with key ``ai_basket`` or ``dotcom_basket``).
* The co-explosiveness statistic is divided by the long-run variance of the
  residuals (see :func:`indicators.panel.coexplosive_test`): with the
  short-run variance it rejected on every real pair tried, an artefact of
  serially correlated residuals. The long-run version holds its size within
  a few points for moderately persistent residuals, but its power is modest
  (about half of independent bubbles of 120 observations are told apart,
  ``benchmarks/sim_coexplosive.py``), so "not rejected" is weak evidence of
  a common bubble, and strongly persistent residuals still over-reject. The
  paper's own treatment of serial correlation could not be checked.
* Members listed too late for one window (CoreWeave, listed 2025-03-28, in
  a window starting 2015) are left out and named in the metadata.

Defaults: weekly; the AI cohort from 2015-01-01 to the latest week, the
dot-com cohort from 1995-01-01 to 2003-12-31; lag 0; level 95%; 199
bootstrap replications; leads and lags of up to six weeks in the
co-explosiveness tests.

References
----------
Evripidou, A. C., Harvey, D. I., Leybourne, S. J. & Sollis, R. (2022).
Testing for co-explosive behaviour in financial time series. *Oxford
Bulletin of Economics and Statistics*, 84(3), 624-650.

Pavlidis, E., Yusupova, A., Paya, I., Peel, D., Martínez-García, E., Mack, A.
& Grossman, V. (2016). Episodes of exuberance in housing markets: in search
of the smoking gun. *Journal of Real Estate Finance and Economics*, 53(4),
419-449.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from bubblewatch.core.errors import DataQualityWarning, InfeasibleTestError
from indicators._monitor_inputs import check_gaps, engine_call
from indicators.datestamp import episodes_from_mask
from indicators.panel import CohortReading, cohort_reading
from indicators.psy import psy_min_duration
from indicators.psy_indicator import sample
from indicators.psy_realtime import Level
from indicators.registry import (
    Column,
    ComputeContext,
    Indicator,
    IndicatorEvent,
    IndicatorResult,
    Meta,
    Params,
)
from indicators.runup import close_series

if TYPE_CHECKING:
    from bubblewatch.core.universe import Universe

#: The cohorts computed by default, when the universe has them.
COHORTS: tuple[str, ...] = ("ai", "dotcom")


class CohortParams(Params):
    """Parameters of ``cohort_psy`` (see the module docstring)."""

    freq: Literal["W", "M"] = Field("W", description="sampling: last close of each week or "
                                    "month")
    windows: dict[str, tuple[date, date | None]] = Field(
        default_factory=lambda: {"ai": (date(2015, 1, 1), None),
                                 "dotcom": (date(1995, 1, 1), date(2003, 12, 31))},
        description="cohort -> (first, last) date of its window (last None: the latest week)")
    references: dict[str, str] = Field(
        default_factory=lambda: {"ai": "NVDA", "dotcom": "CSCO"},
        description="cohort -> the member every other member is tested against")
    lag: int = Field(0, ge=0, le=4, description="lagged differences of the ADF regressions")
    level: Level = Field(0.95, description="confidence level of every "
                                             "decision")
    reps: int = Field(199, ge=19, description="replications of the sieve bootstrap and of each "
                      "co-explosiveness bootstrap")
    seed: int = Field(0, ge=0, description="seed of both bootstraps")
    max_lead: int = Field(6, ge=0, le=26, description="leads and lags tried in the "
                          "co-explosiveness tests, observations")
    min_duration: int | None = Field(None, ge=1, description="shortest panel episode, "
                                     "observations (None: round(log T))")

    @model_validator(mode="after")
    def _windows_ordered(self) -> CohortParams:
        for name, (first, last) in self.windows.items():
            if last is not None and last <= first:
                raise ValueError(f"window of cohort {name!r} ends ({last}) before it starts "
                                 f"({first})")
        return self


class CoexplosivePair(BaseModel):
    """One member's co-explosiveness test against the reference."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    member: str
    reference: str
    lag: int
    statistic: float
    p_value: float
    critical_value: float
    bandwidth: int
    nobs: int
    slope: float


class CohortMeta(Meta):
    """What is stored beside each cohort's panel readings."""

    method: str = "panel GSADF (Pavlidis et al. 2016) and co-explosiveness (Evripidou et al. 2022)"
    cohort: str
    window_start: date
    window_end: date | None
    members: list[str] = Field(default_factory=list)
    used: list[str] = Field(default_factory=list)
    excluded: list[str] = Field(default_factory=list)
    reference: str | None = None
    level: float = 0.95
    reps: int = 0
    min_window: int | None = None
    panel_gsadf: float | None = None
    panel_gsadf_cv: list[float] = Field(default_factory=list)
    panel_explosive: bool | None = None
    episode_start: date | None = None
    episode_end: date | None = None
    pairs: list[CoexplosivePair] = Field(default_factory=list)
    skipped: list[str] = Field(default_factory=list)
    bonferroni_level: float | None = None
    explosive_together: bool | None = None
    reason: str | None = None
    caveat: str = (
        "Whole-window reading: the panel critical values and the verdict use the whole window, "
        "not only the data up to each date. The co-explosiveness test has modest power (about "
        "half of unrelated bubbles of 120 weeks are told apart), so 'not rejected' is weak "
        "evidence of a common bubble.")


COLUMNS: dict[str, Column] = {
    "panel_bsadf": Column("Panel BSADF", "t-statistic (average)", "largest cross-section "
                          "average of the members' ADF statistics over windows ending on this "
                          "date"),
    "cv90": Column("Panel critical value, 90%", "t-statistic", "sieve-bootstrap 90% quantile "
                   "of the panel BSADF on this date"),
    "cv95": Column("Panel critical value, 95%", "t-statistic", "sieve-bootstrap 95% quantile "
                   "of the panel BSADF on this date"),
    "cv99": Column("Panel critical value, 99%", "t-statistic", "sieve-bootstrap 99% quantile "
                   "of the panel BSADF on this date"),
    "excess": Column("Panel BSADF above its critical value", "t-statistic",
                     "panel BSADF minus its critical value at the level; above 0 when the "
                     "cohort looks explosive together on this date"),
    "alarm": Column("Panel alarm", "0/1", "panel BSADF above its critical value at the level"),
    "n_series": Column("Members in the average", "count", "members averaged in the window "
                       "that attains the panel BSADF"),
}


def cohort_keys(universe: Universe) -> Sequence[str]:
    """The cohorts of :data:`COHORTS` with at least two members in ``universe``."""
    return [c for c in COHORTS if len(universe.cohort(c)) >= 2]


def cohort_panel(closes: dict[str, pd.Series], freq: str, first: date,
                 last: date | None) -> pd.DataFrame:
    """Log closes of the members sampled at ``freq`` over ``[first, last]``,
    one row per week (or month) dated by the latest trading day any member
    has in it; NaN before a listing or after a delisting."""
    cols = {}
    for sym, px in closes.items():
        s = px[px.index >= pd.Timestamp(first)]
        if last is not None:
            s = s[s.index <= pd.Timestamp(last)]
        s = sample(s, freq)
        if s.empty:
            continue
        cols[sym] = s
    if not cols:
        return pd.DataFrame()
    rule = "W-FRI" if freq == "W" else "M"
    by_period = {sym: pd.Series(np.log(s.to_numpy()), index=s.index.to_period(rule))
                 for sym, s in cols.items()}
    frame = pd.DataFrame(by_period).sort_index()
    dates = pd.concat([s.index.to_series().groupby(s.index.to_period(rule)).max()
                       for s in cols.values()], axis=1).max(axis=1)
    frame.index = pd.DatetimeIndex(dates.reindex(frame.index).to_numpy(), name="date")
    return frame


def compute(ctx: ComputeContext, key: str, params: CohortParams) -> IndicatorResult[CohortMeta]:
    """Panel readings and the "explosive together?" verdict of cohort ``key``."""
    proc = "panel GSADF"
    if key not in params.windows:
        raise InfeasibleTestError(f"{key}: {proc}: no window for this cohort; give one with "
                                  f"--param windows (known: {', '.join(params.windows)})")
    first, last = params.windows[key]
    members = list(ctx.universe.cohort(key))
    closes = {m: close_series(ctx.source, m) for m in members}
    panel = cohort_panel(closes, params.freq, first, last)
    common: dict[str, Any] = {"cohort": key, "window_start": first, "window_end": last,
                              "members": members, "level": params.level, "reps": params.reps}
    without = [m for m in members if m not in panel.columns]
    if panel.shape[1] < 2:
        raise InfeasibleTestError(
            f"{key}: {proc}: {panel.shape[1]} member(s) with prices between {first} and "
            f"{last or 'the latest week'} ({', '.join(panel.columns) or 'none'}); a panel needs "
            f"at least 2 (missing: {', '.join(without) or 'none'}); load them with "
            "`bubblewatch ingest`")
    for sym in panel.columns:
        span = panel[sym].dropna()
        check_gaps(span, params.freq, key=f"{key}/{sym}", procedure=proc)
    ref = params.references.get(key)
    if ref is None or ref not in panel.columns:
        raise InfeasibleTestError(
            f"{key}: {proc}: the reference {ref!r} has no prices in the window; give another "
            f"with --param references (members with prices: {', '.join(panel.columns)})")
    # a member without a single window is named in meta (DataQualityWarning from panel)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        reading = engine_call(key, lambda: cohort_reading(
            panel, reference=ref, lag=params.lag, log=False, alpha=round(1 - params.level, 4),
            reps=params.reps, seed=params.seed,
            lags=range(-params.max_lead, params.max_lead + 1),
            min_duration=params.min_duration))
    frame = _frame(reading, params.level)
    meta = CohortMeta(**common, **_meta_fields(reading, without, params.level))
    return IndicatorResult(frame, meta, tuple(_events(reading, frame, params)))


def _frame(r: CohortReading, level: float) -> pd.DataFrame:
    col = r.cv.level_index(level)
    idx = pd.DatetimeIndex(r.panel.stat_index, name="date")
    out = pd.DataFrame({"panel_bsadf": r.panel.bsadf}, index=idx)
    for k, lev in enumerate(r.cv.levels):
        out[f"cv{round(lev * 100)}"] = r.cv.bsadf[:, k]
    out["excess"] = out["panel_bsadf"] - r.cv.bsadf[:, col]
    with np.errstate(invalid="ignore"):
        out["alarm"] = (out["excess"].to_numpy() > 0).astype(float)
    out["n_series"] = r.panel.n_series.astype(float)
    return out.astype(float)


def _meta_fields(r: CohortReading, without: list[str], level: float) -> dict[str, Any]:
    col = r.cv.level_index(level)
    pairs = [CoexplosivePair(
        member=str(p.y_symbol), reference=str(p.x_symbol), lag=p.lag, statistic=p.statistic,
        p_value=p.p_value, critical_value=float(p.critical_values[col]), bandwidth=p.bandwidth,
        nobs=p.nobs, slope=p.slope) for p in r.pairs]
    return {
        "used": list(r.panel.symbols), "excluded": [*r.panel.excluded, *without],
        "reference": r.reference, "min_window": r.panel.min_window,
        "panel_gsadf": _finite(r.panel_gsadf), "panel_gsadf_cv": [float(v) for v in r.cv.gsadf],
        "panel_explosive": r.panel_explosive, "episode_start": _day(r.episode_start),
        "episode_end": _day(r.episode_end), "pairs": pairs, "skipped": list(r.skipped),
        "bonferroni_level": (r.alpha / len(pairs)) if pairs else None,
        "explosive_together": r.explosive_together, "reason": r.reason,
    }


def _events(r: CohortReading, frame: pd.DataFrame, params: CohortParams
            ) -> list[IndicatorEvent]:
    mind = (psy_min_duration(r.panel.n) if params.min_duration is None
            else params.min_duration)
    mask = frame["alarm"].to_numpy() > 0.5
    out = []
    for s, e in episodes_from_mask(mask, mind):
        seg = frame["excess"].iloc[s:e]
        ongoing = e >= len(frame)
        out.append(IndicatorEvent(
            kind="positive", start=frame.index[s].date(),
            end=None if ongoing else frame.index[e].date(),
            peak=pd.Timestamp(seg.idxmax()).date(), ongoing=ongoing,
            attrs={"duration": int(e - s), "peak_excess": float(seg.max()),
                   "series": "panel"}))
    return out


def _day(label: Any) -> date | None:
    return None if label is None else pd.Timestamp(label).date()


def _finite(v: float) -> float | None:
    return float(v) if math.isfinite(v) else None


INDICATOR = Indicator(
    name="cohort_psy",
    title="Cohort explosiveness (panel GSADF, co-explosiveness)",
    description=(
        "Is the cohort explosive together? The panel BSADF/GSADF of Pavlidis et al. (2016) "
        "on the weekly log prices of the AI and dot-com cohorts against sieve-bootstrap "
        "critical values, the latest panel episode, and over it the co-explosiveness test of "
        "Evripidou et al. (2022) of each member against the cohort's reference."),
    columns=COLUMNS,
    params=CohortParams,
    meta=CohortMeta,
    keys=cohort_keys,
    compute=compute,
    page="explosiveness",
    sampling="weekly over each cohort's window (AI: 2015 on; dot-com: 1995-2003)",
)
