"""PSY explosiveness as registered indicators: ``psy`` and ``psy_valuation``.

``psy`` runs :func:`~indicators.psy.radf` on the log adjusted close of each
symbol, sampled daily, weekly or monthly, with Monte Carlo critical values
(from the shipped tables in :mod:`indicators.critical_values`, or simulated and
cached under the data folder) or wild-bootstrap ones, and date-stamps the
episodes.
``psy_valuation`` does the same on the trailing price/sales and price/earnings
ratios of the ``valuation`` indicator, so that a price run-up that merely
tracks growing sales or earnings is not mistaken for a bubble (PSY 2015 test
the price-dividend ratio for the same reason).

Defaults and why
----------------
``freq="W"``, ``start="1990-01-01"``, ``reps=1000``, ``cv="mc"``:

* Weekly closes (the last trading day of each week, keeping its real date)
  react within days to a new run-up but give 52 points a year instead of
  252; the PSY minimum window is then about two years of weeks (97 weeks
  for 1990-2026).
* Starting in 1990 covers the whole dot-com cycle and the AI cycle while
  keeping every series at most ~1900 weeks. The cost of the Monte Carlo
  critical values grows with ``T**2 * reps``; with these defaults the 18
  default symbols need about nine distinct simulations (series that start
  before 1990 share one; the cache is keyed by length bucket and window) and
  a cold run over all of them took 18 s on this project's (busy) two-core
  machine; afterwards the cache serves every weekly run until the PSY
  window changes (every ~30 weeks at these lengths). S&P 500 history back to
  1927 is one parameter away (``start=None``) and costs about 7x more for
  that symbol (the cost grows with T squared).
* 1000 replications put the 95% critical value within about +-0.05 of its
  limit; raise ``reps`` when a verdict sits on the boundary.

Parameters
----------
``freq`` ``"D"``/``"W"``/``"M"``; ``start`` first date tested (None: all
history); ``lag`` lagged differences (the maximum with ``ic``); ``ic`` None,
``"aic"`` or ``"bic"``; ``min_window`` in regression rows (None: PSY rule);
``cv`` ``"mc"`` or ``"wb"``; ``bsadf_cv`` (Monte Carlo) ``"pointwise"``
(PSY 2015: the quantile of BSADF at each date) or ``"sadf"`` (exuber's
rule: the SADF critical value of the sample up to each date, higher and more
conservative); ``reps`` replications; ``seed``; ``sig_level``
0.90/0.95/0.99; ``min_duration`` in observations (None: ``round(log T)``);
``require_rejection`` (None: True for ``mc``, False for ``wb``); ``tb`` the
wild-bootstrap family-wise sample size (None: ``min_window + lag`` plus one
year of observations); ``min_obs`` fewest sampled observations to test.

Results (frame fields, one row per sampled date)
-------------------------------------------------
``series`` the tested series (log price, or the ratio), ``badf`` and
``bsadf`` the statistics (NaN before the first full window), ``cv90``,
``cv95``, ``cv99`` the BSADF critical-value sequence and ``excess`` =
``bsadf - cv`` at ``sig_level`` (positive inside an episode, handy for
alert rules). ``psy_valuation`` prefixes them with ``ps_`` and ``pe_``.
Events are the date-stamped episodes (``kind`` ``"positive"`` for a bubble,
``"negative"`` for an explosive collapse); with Monte Carlo critical values
they are only reported when GSADF rejects the null (exuber's rule,
``require_rejection``). Meta holds ADF/SADF/GSADF, their critical values, the
verdict and every setting.

References
----------
Phillips, P. C. B., Shi, S. & Yu, J. (2015). Testing for multiple bubbles:
Historical episodes of exuberance and collapse in the S&P 500. *International
Economic Review*, 56(4), 1043-1078.

Phillips, P. C. B. & Shi, S. (2020). Real time monitoring of asset markets:
Bubbles and crises. *Handbook of Statistics* 42, 61-80.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator

from bubblewatch.core.errors import InfeasibleTestError
from indicators.cv import CriticalValues, mc_cv, wb_cv
from indicators.datestamp import Datestamp, datestamp
from indicators.psy import RadfResult, radf
from indicators.registry import (
    Column,
    ComputeContext,
    Indicator,
    IndicatorEvent,
    IndicatorResult,
    Meta,
    Params,
)

if TYPE_CHECKING:
    from bubblewatch.core.universe import Universe

#: Periods per year at each sampling frequency (default wild-bootstrap window).
PERIODS_PER_YEAR = {"D": 252, "W": 52, "M": 12}

class PsyParams(Params):
    """Parameters of ``psy`` and ``psy_valuation`` (see the module docstring)."""

    freq: Literal["D", "W", "M"] = Field("W", description="sampling: last close of each day, "
                                         "week (ending Friday) or month")
    start: date | None = Field(date(1990, 1, 1), description="first date tested (None: all "
                               "history)")
    lag: int = Field(0, ge=0, le=12, description="lagged differences in the ADF regression (the "
                     "maximum when ic is set)")
    ic: Literal["aic", "bic"] | None = Field(None, description="lag selection by information "
                                             "criterion (None: fixed lag)")
    min_window: int | None = Field(None, ge=3, description="minimum window in regression rows "
                                   "(None: PSY's rule 0.01 + 1.8/sqrt(T))")
    cv: Literal["mc", "wb"] = Field("mc", description="critical values: Monte Carlo or the "
                                    "Phillips-Shi (2020) wild bootstrap")
    bsadf_cv: Literal["pointwise", "sadf"] = Field(
        "pointwise", description="BSADF critical value: the quantile of BSADF at each date (PSY "
        "2015) or the SADF critical value of the sample up to each date (exuber's rule)")
    reps: int = Field(1000, ge=20, description="Monte Carlo or bootstrap replications (1000 "
                      "put the 95% critical value within about +-0.05)")
    seed: int | None = Field(0, description="random seed (None: fresh randomness)")
    sig_level: Literal[0.90, 0.95, 0.99] = Field(0.95, description="significance level of the "
                                                 "episodes")
    min_duration: int | None = Field(None, ge=0, description="shortest episode, observations "
                                     "(None: round(log T))")
    require_rejection: bool | None = Field(None, description="report episodes only when GSADF "
                                           "rejects (None: yes for mc, no for wb)")
    tb: int | None = Field(None, ge=1, description="wild-bootstrap family-wise sample size "
                           "(None: minimum window + lag + one year)")
    min_obs: int = Field(100, ge=10, description="fewest sampled observations to test")

    @field_validator("sig_level", mode="before")
    @classmethod
    def _percent_to_fraction(cls, v: Any) -> Any:
        """Accept 95 for 0.95 (and numeric strings from the command line)."""
        try:
            x = float(v)
        except (TypeError, ValueError):
            return v
        return round(x / 100.0, 4) if x > 1 else x


class PsyTest(BaseModel):
    """Whole-sample statistics, critical values and the settings of one PSY test."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    adf: float
    sadf: float
    gsadf: float
    adf_cv: list[float]
    sadf_cv: list[float]
    gsadf_cv: list[float]
    cv_levels: list[float]
    rejected: bool
    T: int
    min_window: int
    lag: int
    ic: str | None
    first_date: date
    last_date: date
    min_duration: int
    sig_level: float
    require_rejection: bool
    cv_method: str
    cv_bsadf_rule: str | None
    cv_reps: int
    cv_seed: int | None
    cv_tb: int | None
    cv_source: str = "simulation"

    def gsadf_cv_at(self, level: float) -> float | None:
        """GSADF critical value at ``level`` (None if that level was not computed)."""
        for lev, v in zip(self.cv_levels, self.gsadf_cv, strict=True):
            if abs(lev - level) < 1e-9:
                return v
        return None


class PsyMeta(Meta):
    """What is stored beside each symbol's PSY series."""

    freq: str
    start: date | None
    transform: str
    method: str = "PSY (Phillips, Shi & Yu 2015)"
    test: PsyTest | None = None


class PsyValuationMeta(Meta):
    """What is stored beside each company's P/S and P/E PSY series."""

    freq: str
    start: date | None
    transform: str
    method: str = "PSY (Phillips, Shi & Yu 2015)"
    ps: PsyTest | None = None
    pe: PsyTest | None = None
    ps_note: str | None = None
    pe_note: str | None = None


#: Frame fields of one tested series.
COLUMNS: dict[str, Column] = {
    "series": Column("Tested series", "log price", "natural log of the adjusted close"),
    "badf": Column("Backward ADF", "t-statistic",
                   "ADF statistic of the window from the first observation to this date"),
    "bsadf": Column("Backward sup ADF (BSADF)", "t-statistic",
                    "largest ADF statistic over all windows ending at this date"),
    "cv90": Column("BSADF critical value, 90%", "t-statistic",
                   "90% critical value of the BSADF statistic at this date"),
    "cv95": Column("BSADF critical value, 95%", "t-statistic",
                   "95% critical value of the BSADF statistic at this date"),
    "cv99": Column("BSADF critical value, 99%", "t-statistic",
                   "99% critical value of the BSADF statistic at this date"),
    "excess": Column("BSADF above its critical value", "t-statistic",
                     "BSADF minus its critical value at the significance level; above 0 inside "
                     "an explosive episode"),
}

VALUATION_RATIOS: dict[str, str] = {"ps": "ps_ttm", "pe": "pe_ttm"}


def sample(series: pd.Series, freq: str) -> pd.Series:
    """Last observation of each day (``"D"``), week ending Friday (``"W"``)
    or calendar month (``"M"``), labelled with its real date (never a future
    period end)."""
    s = series.dropna().sort_index()
    s = s[~s.index.duplicated(keep="last")]
    if freq == "D" or s.empty:
        return s
    periods = s.index.to_period("W-FRI" if freq == "W" else "M")
    return s.groupby(periods).tail(1)


def run_psy(series: pd.Series, p: PsyParams, *, log: bool, name: str,
            cache_dir: Path | None = None) -> tuple[RadfResult, CriticalValues, Datestamp]:
    """Statistics, critical values and episodes of one sampled series.

    Monte Carlo critical values come from the shipped tables when they cover
    the sample (:mod:`indicators.critical_values`); otherwise they are
    simulated and, with ``cache_dir``, kept under ``cache_dir/psy_cv``."""
    s = series if p.start is None else series[series.index >= pd.Timestamp(p.start)]
    s = sample(s, p.freq)
    if len(s) < p.min_obs:
        raise InfeasibleTestError(
            f"{name}: {len(s)} observations at freq={p.freq!r} since "
            f"{p.start if p.start is not None else 'the first date'}; the indicator "
            f"needs at least min_obs={p.min_obs} (use freq='D', an earlier start or a "
            "lower min_obs)"
        )
    res = radf(s, p.min_window, p.lag, ic=p.ic, log=log)
    if p.cv == "mc":
        cv = mc_cv(res.n, res.min_window, res.lag, ic=res.ic, reps=p.reps, seed=p.seed,
                   cache_dir=None if cache_dir is None else cache_dir / "psy_cv",
                   bsadf_cv=p.bsadf_cv)  # type: ignore[arg-type]
    else:
        tb = p.tb if p.tb is not None else min(res.n, res.offset + PERIODS_PER_YEAR[p.freq])
        cv = wb_cv(s, res.min_window, res.lag, ic=res.ic, reps=p.reps, seed=p.seed, tb=tb,
                   log=log)
    ds = datestamp(res, cv, sig_level=p.sig_level, min_duration=p.min_duration,
                   require_rejection=p.require_rejection)
    return res, cv, ds


def _frame(res: RadfResult, cv: CriticalValues, ds: Datestamp, prefix: str) -> pd.DataFrame:
    frame = res.to_frame()
    col = cv.level_index(ds.sig_level)
    for k, lev in enumerate(cv.levels):
        seq = np.full(res.n, np.nan)
        seq[res.offset:] = cv.bsadf[:, k]
        frame[f"cv{round(lev * 100)}"] = seq
    frame["excess"] = frame["bsadf"] - frame[f"cv{round(cv.levels[col] * 100)}"]
    frame.index = pd.DatetimeIndex(frame.index, name="date")
    return frame.add_prefix(prefix).astype(float)


def _events(ds: Datestamp, prefix: str) -> list[IndicatorEvent]:
    events = []
    for e in ds.episodes:
        attrs: dict[str, float | int | str | None] = {
            "duration": e.duration, "peak_bsadf": e.peak_stat,
        }
        if prefix:
            attrs["series"] = prefix.rstrip("_")
        events.append(IndicatorEvent(
            kind=e.kind,
            start=pd.Timestamp(e.start_label).date(),
            end=None if e.end_label is None else pd.Timestamp(e.end_label).date(),
            peak=pd.Timestamp(e.peak_label).date(),
            ongoing=e.ongoing,
            attrs=attrs,
        ))
    return events


def psy_test(res: RadfResult, cv: CriticalValues, ds: Datestamp, p: PsyParams) -> PsyTest:
    """The whole-sample part of one test, for the stored metadata."""
    return PsyTest(
        adf=res.adf, sadf=res.sadf, gsadf=res.gsadf,
        adf_cv=cv.adf.tolist(), sadf_cv=cv.sadf.tolist(), gsadf_cv=cv.gsadf.tolist(),
        cv_levels=list(cv.levels), rejected=ds.rejected, T=res.n, min_window=res.min_window,
        lag=res.lag, ic=res.ic,
        first_date=pd.Timestamp(res.label(0)).date(),
        last_date=pd.Timestamp(res.label(res.n - 1)).date(),
        min_duration=ds.min_duration, sig_level=ds.sig_level,
        require_rejection=(p.require_rejection if p.require_rejection is not None
                           else cv.method == "mc"),
        cv_method=cv.method, cv_bsadf_rule=cv.bsadf_cv, cv_reps=cv.reps, cv_seed=cv.seed,
        cv_tb=cv.tb, cv_source=cv.source,
    )


# --------------------------------------------------------------------------- #
# psy: log prices                                                             #
# --------------------------------------------------------------------------- #
def compute_psy(ctx: ComputeContext, key: str, params: PsyParams) -> IndicatorResult[PsyMeta]:
    """PSY test on the log adjusted close of ``key``."""
    prices = ctx.source.prices(key)
    if prices is None or prices.empty or "adj_close" not in prices:
        raise InfeasibleTestError(f"{key}: no prices (adj_close) to test; load them with "
                                  "`bubblewatch ingest`")
    res, cv, ds = run_psy(prices["adj_close"].astype(float), params, log=True, name=key,
                          cache_dir=ctx.cache_dir)
    meta = PsyMeta(freq=params.freq, start=params.start, transform="log",
                   test=psy_test(res, cv, ds, params))
    return IndicatorResult(_frame(res, cv, ds, ""), meta, tuple(_events(ds, "")))


def _all_symbols(universe: Universe) -> Sequence[str]:
    return list(universe.symbols)


# --------------------------------------------------------------------------- #
# psy_valuation: price/sales and price/earnings                               #
# --------------------------------------------------------------------------- #
def compute_psy_valuation(ctx: ComputeContext, key: str,
                          params: PsyParams) -> IndicatorResult[PsyValuationMeta]:
    """PSY test on the trailing P/S and P/E ratios of ``key`` (in levels).

    A ratio is tested on its latest unbroken run of positive values (a P/E
    with losses has gaps). A ratio that is missing or too short is noted in
    meta and skipped; an empty ``valuation`` result gives an empty result.
    """
    val = ctx.source.indicator("valuation", key)
    common: dict[str, Any] = {"freq": params.freq, "start": params.start, "transform": "level"}
    if val is None or val.empty:
        return IndicatorResult(
            pd.DataFrame(index=pd.DatetimeIndex([], name="date")),
            PsyValuationMeta(**common, missing=(
                f"no valuation data for {key}: it needs SEC fundamentals (load its companyfacts "
                "with `bubblewatch ingest`) and `bubblewatch compute valuation`")))
    val = val.set_axis(pd.DatetimeIndex(pd.to_datetime(val.index), name="date"))
    frames, events, fields = [], [], dict(common)
    for prefix, column in VALUATION_RATIOS.items():
        if column not in val:
            fields[f"{prefix}_note"] = f"valuation has no {column} column"
            continue
        ratio = _last_positive_run(pd.to_numeric(val[column], errors="coerce"))
        try:
            res, cv, ds = run_psy(ratio, params, log=False, name=f"{key} {column}",
                                  cache_dir=ctx.cache_dir)
        except (InfeasibleTestError, ValueError) as exc:
            fields[f"{prefix}_note"] = str(exc)
            continue
        frames.append(_frame(res, cv, ds, f"{prefix}_"))
        events += _events(ds, f"{prefix}_")
        fields[prefix] = psy_test(res, cv, ds, params)
    frame = pd.concat(frames, axis=1) if frames else pd.DataFrame(
        index=pd.DatetimeIndex([], name="date"))
    events.sort(key=lambda e: e.start)
    return IndicatorResult(frame, PsyValuationMeta(**fields), tuple(events))


def _last_positive_run(s: pd.Series) -> pd.Series:
    """The latest stretch of finite, positive values (dates ascending)."""
    s = s.sort_index()
    ok = np.isfinite(s.to_numpy(dtype=float)) & (s.to_numpy(dtype=float) > 0)
    if not ok.any():
        return s.iloc[:0]
    bad = np.flatnonzero(~ok)
    last_ok = int(np.flatnonzero(ok)[-1])
    breaks = bad[bad < last_ok]
    first = int(breaks[-1]) + 1 if breaks.size else int(np.flatnonzero(ok)[0])
    return s.iloc[first:last_ok + 1]


def _valuation_keys(universe: Universe) -> Sequence[str]:
    return [ins.symbol for ins in universe.with_cik]


_VAL_COLUMNS = {
    f"{prefix}_{name}": Column(
        f"{label}: {col.label}" if name != "series" else f"Tested series: {label}",
        "ratio, in levels" if name == "series" else col.unit,
        col.description.replace("natural log of the adjusted close",
                                f"trailing {label} ratio, in levels"))
    for prefix, label in (("ps", "price/sales"), ("pe", "price/earnings"))
    for name, col in COLUMNS.items()
}

INDICATORS = (
    Indicator(
        name="psy",
        title="Explosiveness (PSY)",
        description=(
            "Recursive right-tailed ADF tests of Phillips, Shi & Yu (2015) on log prices: "
            "ADF, SADF, GSADF and the BSADF sequence against Monte Carlo or wild-bootstrap "
            "(Phillips & Shi 2020) critical values; episodes where BSADF exceeds its "
            "critical value for at least log(T) observations are date-stamped."
        ),
        columns=COLUMNS,
        params=PsyParams,
        meta=PsyMeta,
        keys=_all_symbols,
        compute=compute_psy,
        page="explosiveness",
        sampling="weekly (last close of each week) by default; daily or monthly by parameter",
    ),
    Indicator(
        name="psy_valuation",
        title="Explosiveness of valuation ratios (PSY)",
        description=(
            "The PSY test of Phillips, Shi & Yu (2015) on trailing price/sales and "
            "price/earnings ratios, so that prices that merely track growing fundamentals "
            "are not mistaken for a bubble."
        ),
        columns=_VAL_COLUMNS,
        params=PsyParams,
        meta=PsyValuationMeta,
        keys=_valuation_keys,
        compute=compute_psy_valuation,
        page="explosiveness",
        sampling="weekly (last value of each week) by default",
        depends_on=("valuation",),
    ),
)
