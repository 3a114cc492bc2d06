"""PSY explosiveness as registered indicators: ``psy`` and ``psy_valuation``.

``psy`` runs :func:`~indicators.psy.radf` on the log adjusted close of each
symbol, sampled daily, weekly or monthly, with Monte Carlo (cached on disk) or
wild-bootstrap critical values, and date-stamps the episodes.
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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from bubblewatch.core.errors import InfeasibleTestError
from indicators.cv import CriticalValues, mc_cv, wb_cv
from indicators.datestamp import Datestamp, datestamp
from indicators.psy import RadfResult, radf
from indicators.registry import ComputeContext, Indicator, IndicatorEvent, IndicatorResult

if TYPE_CHECKING:
    from bubblewatch.core.universe import Universe

#: Periods per year at each sampling frequency (default wild-bootstrap window).
PERIODS_PER_YEAR = {"D": 252, "W": 52, "M": 12}

DEFAULTS: dict[str, Any] = {
    "freq": "W",
    "start": "1990-01-01",
    "lag": 0,
    "ic": None,
    "min_window": None,
    "cv": "mc",
    "bsadf_cv": "pointwise",
    "reps": 1000,
    "seed": 0,
    "sig_level": 0.95,
    "min_duration": None,
    "require_rejection": None,
    "tb": None,
    "min_obs": 100,
}

COLUMNS: dict[str, str] = {
    "series": "tested series: natural log of the adjusted close (dimensionless)",
    "badf": "backward ADF statistic, window from the first observation (t-ratio)",
    "bsadf": "backward sup ADF statistic over all window starts (t-ratio)",
    "cv90": "90% critical value of the BSADF statistic (t-ratio)",
    "cv95": "95% critical value of the BSADF statistic (t-ratio)",
    "cv99": "99% critical value of the BSADF statistic (t-ratio)",
    "excess": "bsadf minus its critical value at sig_level; > 0 inside an episode (t-ratio)",
}

VALUATION_RATIOS: dict[str, str] = {"ps": "ps_ttm", "pe": "pe_ttm"}


@dataclass(frozen=True, slots=True)
class _Params:
    freq: str
    start: pd.Timestamp | None
    lag: int
    ic: str | None
    min_window: int | None
    cv: str
    bsadf_cv: str
    reps: int
    seed: int | None
    sig_level: float
    min_duration: int | None
    require_rejection: bool | None
    tb: int | None
    min_obs: int


def _params(params: Mapping[str, Any]) -> _Params:
    p = {**DEFAULTS, **params}
    freq = str(p["freq"]).upper()
    if freq not in PERIODS_PER_YEAR:
        raise ValueError(f"freq must be 'D', 'W' or 'M', got {p['freq']!r}")
    cv = str(p["cv"]).lower()
    if cv not in ("mc", "wb"):
        raise ValueError(f"cv must be 'mc' (Monte Carlo) or 'wb' (wild bootstrap), got {p['cv']!r}")
    bsadf_cv = str(p["bsadf_cv"]).lower()
    if bsadf_cv not in ("pointwise", "sadf"):
        raise ValueError("bsadf_cv must be 'pointwise' (PSY 2015) or 'sadf' (exuber's rule), "
                         f"got {p['bsadf_cv']!r}")
    try:
        start = pd.Timestamp(p["start"]) if p["start"] is not None else None
    except (TypeError, ValueError) as exc:
        raise ValueError(f"start must be a date (YYYY-MM-DD) or None: {exc}") from None
    min_obs = p["min_obs"]
    if isinstance(min_obs, bool) or not isinstance(min_obs, (int, np.integer)) or min_obs < 10:
        raise ValueError(f"min_obs must be an integer >= 10, got {min_obs!r}")
    try:
        sig = float(p["sig_level"])
    except (TypeError, ValueError):
        sig = float("nan")
    sig = sig / 100.0 if sig > 1 else sig
    if not any(abs(sig - lev) < 1e-9 for lev in (0.90, 0.95, 0.99)):
        raise ValueError(f"sig_level must be 0.90, 0.95 or 0.99, got {p['sig_level']!r}")
    return _Params(freq, start, p["lag"], p["ic"], p["min_window"], cv, bsadf_cv, p["reps"],
                   p["seed"],
                   sig, p["min_duration"], p["require_rejection"], p["tb"], int(min_obs))


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


def run_psy(series: pd.Series, p: _Params, *, log: bool, name: str) -> tuple[
        RadfResult, CriticalValues, Datestamp]:
    """Statistics, critical values and episodes of one sampled series."""
    s = series if p.start is None else series[series.index >= p.start]
    s = sample(s, p.freq)
    if len(s) < p.min_obs:
        raise InfeasibleTestError(
            f"{name}: {len(s)} observations at freq={p.freq!r} since "
            f"{p.start.date() if p.start is not None else 'the first date'}; the indicator "
            f"needs at least min_obs={p.min_obs} (use freq='D', an earlier start or a "
            "lower min_obs)"
        )
    res = radf(s, p.min_window, p.lag, ic=p.ic, log=log)
    if p.cv == "mc":
        cv = mc_cv(res.n, res.min_window, res.lag, ic=res.ic, reps=p.reps, seed=p.seed,
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


def _meta(res: RadfResult, cv: CriticalValues, ds: Datestamp, p: _Params,
          prefix: str) -> dict[str, Any]:
    meta = {
        "adf": res.adf, "sadf": res.sadf, "gsadf": res.gsadf,
        "adf_cv": cv.adf.tolist(), "sadf_cv": cv.sadf.tolist(), "gsadf_cv": cv.gsadf.tolist(),
        "cv_levels": list(cv.levels),
        "rejected": ds.rejected,
        "T": res.n, "min_window": res.min_window, "lag": res.lag, "ic": res.ic,
        "first_date": str(pd.Timestamp(res.label(0)).date()),
        "last_date": str(pd.Timestamp(res.label(res.n - 1)).date()),
        "min_duration": ds.min_duration, "sig_level": ds.sig_level,
        "require_rejection": p.require_rejection if p.require_rejection is not None
        else cv.method == "mc",
        "cv_method": cv.method, "cv_bsadf_rule": cv.bsadf_cv, "cv_reps": cv.reps, "cv_seed": cv.seed, "cv_tb": cv.tb,
    }
    return {f"{prefix}{k}": v for k, v in meta.items()}


def _common_meta(p: _Params, transform: str) -> dict[str, Any]:
    return {
        "freq": p.freq, "start": None if p.start is None else str(p.start.date()),
        "transform": transform, "method": "PSY (Phillips, Shi & Yu 2015)",
    }


# --------------------------------------------------------------------------- #
# psy: log prices                                                             #
# --------------------------------------------------------------------------- #
def compute_psy(ctx: ComputeContext, key: str, params: Mapping[str, Any]) -> IndicatorResult:
    """PSY test on the log adjusted close of ``key``."""
    p = _params(params)
    prices = ctx.source.prices(key)
    if prices is None or prices.empty or "adj_close" not in prices:
        raise InfeasibleTestError(f"{key}: no prices (adj_close) to test")
    res, cv, ds = run_psy(prices["adj_close"].astype(float), p, log=True, name=key)
    meta = {**_common_meta(p, "log"), **_meta(res, cv, ds, p, "")}
    return IndicatorResult(frame=_frame(res, cv, ds, ""), events=tuple(_events(ds, "")),
                           meta=meta)


def _all_symbols(universe: Universe) -> Sequence[str]:
    return list(universe.symbols)


# --------------------------------------------------------------------------- #
# psy_valuation: price/sales and price/earnings                               #
# --------------------------------------------------------------------------- #
def compute_psy_valuation(ctx: ComputeContext, key: str,
                          params: Mapping[str, Any]) -> IndicatorResult:
    """PSY test on the trailing P/S and P/E ratios of ``key`` (in levels).

    A ratio is tested on its latest unbroken run of positive values (a P/E
    with losses has gaps). A ratio that is missing or too short is noted in
    meta and skipped; an empty ``valuation`` result gives an empty result.
    """
    p = _params(params)
    val = ctx.source.indicator("valuation", key)
    common = _common_meta(p, "level")
    if val is None or val.empty:
        note = (f"no valuation data for {key}: it needs fundamentals (ingest its SEC "
                "companyfacts) and a 'valuation' compute")
        return IndicatorResult(
            frame=pd.DataFrame(index=pd.DatetimeIndex([], name="date")),
            meta={**common, "note": note, "missing": note},
        )
    val = val.set_axis(pd.DatetimeIndex(pd.to_datetime(val.index), name="date"))
    frames, events, meta = [], [], dict(common)
    for prefix, column in VALUATION_RATIOS.items():
        if column not in val:
            meta[f"{prefix}_note"] = f"valuation has no {column} column"
            continue
        ratio = _last_positive_run(pd.to_numeric(val[column], errors="coerce"))
        try:
            res, cv, ds = run_psy(ratio, p, log=False, name=f"{key} {column}")
        except (InfeasibleTestError, ValueError) as exc:
            meta[f"{prefix}_note"] = str(exc)
            continue
        frames.append(_frame(res, cv, ds, f"{prefix}_"))
        events += _events(ds, f"{prefix}_")
        meta.update(_meta(res, cv, ds, p, f"{prefix}_"))
    frame = pd.concat(frames, axis=1) if frames else pd.DataFrame(
        index=pd.DatetimeIndex([], name="date"))
    events.sort(key=lambda e: e.start)
    return IndicatorResult(frame=frame, events=tuple(events), meta=meta)


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
    f"{prefix}_{name}": desc.replace(
        "natural log of the adjusted close", f"trailing {label} ratio, in levels")
    for prefix, label in (("ps", "price/sales"), ("pe", "price/earnings"))
    for name, desc in COLUMNS.items()
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
        defaults=DEFAULTS,
        keys=_all_symbols,
        compute=compute_psy,
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
        defaults=DEFAULTS,
        keys=_valuation_keys,
        compute=compute_psy_valuation,
        depends_on=("valuation",),
    ),
)
