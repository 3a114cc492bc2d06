"""Cohort-level explosiveness: panel GSADF/BSADF and co-explosive behaviour.

:func:`panel_radf`
    The panel recursive ADF statistics of Pavlidis, Yusupova, Paya, Peel,
    Martínez-García, Mack & Grossman (2016). For a window of regression rows
    ``r1 .. r2`` the panel BADF is the cross-section average of the
    individual BADF (ADF t) statistics of that window; the panel BSADF at
    ``r2`` is its supremum over the window starts ``r1`` (windows of at least
    ``min_window`` rows), and the panel GSADF the supremum over ``r2``.
    Windows, lags and point layout are those of :func:`indicators.psy.radf`,
    so a panel of identical series gives exactly the individual BSADF.
    (exuber's ``radf`` instead averages the individual BSADF, i.e. takes each
    series' supremum before averaging; that is a different statistic.)
:func:`panel_sb_cv`
    Sieve-bootstrap critical values (Pavlidis et al. 2016, Section 3): fit
    each series' null model ``dy_t = mu + sum_l phi_l dy_{t-l} + e_t``
    (``lag`` lags, or the AIC/BIC choice), draw the *vectors* of residuals of
    a date jointly for every series (one time index per replication and date,
    so the cross-sectional dependence of the shocks is kept), rebuild each
    series from its own AR recursion and first values (no drift, as in the
    wild bootstrap of :func:`indicators.cv.wb_cv`), compute the panel
    statistics of each replicated panel (the average is taken across series
    *within* the replication) and take quantiles over replications: pointwise
    for the panel BSADF, of the maximum for the panel GSADF.
:func:`coexplosive_test`
    The co-explosiveness test of Evripidou, Harvey, Leybourne & Sollis
    (2022): are two series whose prices each contain an explosive episode
    tied together, in the sense that ``y_t - a - b x_{t-i}`` is I(0) for a
    lead/lag ``i``? A KPSS-type statistic on the OLS residuals, the null being
    co-explosiveness, with wild-bootstrap critical values robust to
    heteroskedasticity; ``i`` is the candidate lag with the smallest residual
    variance.
:func:`cohort_reading`
    "Is the cohort explosive together?": the panel GSADF against its
    bootstrap critical value, the latest panel episode (panel BSADF above its
    critical value), and, over that episode, the co-explosiveness test of
    every member against a reference series. Explosive together means: the
    panel rejects the no-explosiveness null, an episode is dated, and no
    member's co-explosiveness with the reference is rejected (Bonferroni over
    the members, so the cohort-level false rejection rate is at most
    ``alpha``).

Unbalanced panels
-----------------
A column may start late (a listing, e.g. CoreWeave on 2025-03-28) or end
early (a delisting): leading and trailing missing values mark where a series
is not observed; a gap inside a series is an error. The panel BADF of a
window averages the series observed over the *whole* window (regression rows
need observations ``r1 .. r2 + 1 + lag``), and a window with fewer than
``min_series`` such series (default 2) is skipped. So early windows average
fewer series than late ones, and a late listing enters only windows that
start after it has ``min_window + lag + 1`` observations: with weekly data
since 1995 and the PSY minimum window (about 88 weeks at 1,600 weeks),
CoreWeave enters no window until late 2026. A series too short for a single
window is left out, named in :attr:`PanelRadfResult.excluded`, with a
:class:`~bubblewatch.core.errors.DataQualityWarning`. The sieve bootstrap
replicates the same pattern: each series is rebuilt only over its own span,
and the residual vector for a date is drawn among the dates at which every
series that needs a residual on the target date has one, so the replicated
panels have the observed composition at every date.

References
----------
Evripidou, A. C., Harvey, D. I., Leybourne, S. J. & Sollis, R. (2022).
Testing for co-explosive behaviour in financial time series. *Oxford
Bulletin of Economics and Statistics*, 84(3), 624-650.

Pavlidis, E., Yusupova, A., Paya, I., Peel, D., Martínez-García, E., Mack,
A. & Grossman, V. (2016). Episodes of exuberance in housing markets: in
search of the smoking gun. *Journal of Real Estate Finance and Economics*,
53(4), 419-449.

Phillips, P. C. B., Shi, S. & Yu, J. (2015). Testing for multiple bubbles:
Historical episodes of exuberance and collapse in the S&P 500.
*International Economic Review*, 56(4), 1043-1078.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from bubblewatch.core.errors import DataQualityWarning, InfeasibleTestError
from indicators import _psy_kernels as kernels
from indicators._psy_inputs import (
    IC_CODES,
    MIN_OBS,
    check_window,
    nonneg_int,
    positive_int,
    standardise,
)
from indicators._typing import Float64Array1D, Float64Array2D, Int64Array
from indicators.cusum import check_series
from indicators.cv import LEVELS, _null_fit, _select_null_lag
from indicators.datestamp import episodes_from_mask
from indicators.psy import psy_min_duration

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "CoexplosiveResult",
    "CohortReading",
    "PanelCriticalValues",
    "PanelRadfResult",
    "coexplosive_test",
    "cohort_reading",
    "panel_radf",
    "panel_sb_cv",
]

#: Fewest observations (after alignment on the lead/lag) of the co-explosive test.
MIN_COEXPLOSIVE_OBS = 20
#: Values per chunk of bootstrap panels (bounds memory, not results).
_CHUNK_VALUES = 1 << 22
_PARALLEL_MIN_POINTS = 400


@dataclass(frozen=True, slots=True)
class PanelRadfResult:
    """Panel statistics of :func:`panel_radf` (arrays are read-only).

    Attributes
    ----------
    gsadf
        Panel GSADF (largest panel BSADF).
    bsadf, badf
        Panel BSADF and panel BADF (windows from the first row) sequences,
        ``n - min_window - lag`` points; point ``i`` belongs to observation
        ``min_window + lag + i`` of the panel's dates. NaN where no window
        had ``min_series`` series.
    n_series
        Series averaged in the window that attains the panel BSADF.
    symbols, excluded
        Columns used, and columns left out (too short for one window).
    first, last
        First and last observed position of each used series.
    values
        The tested values (``len(symbols) x n``; log with ``log=True``), NaN
        where a series is not observed.
    index
        Dates of the panel (or None).
    n, min_window, lag, ic, log, min_series
        Arguments of the computation.
    """

    gsadf: float
    bsadf: Float64Array1D
    badf: Float64Array1D
    n_series: Int64Array
    symbols: tuple[str, ...]
    excluded: tuple[str, ...]
    first: tuple[int, ...]
    last: tuple[int, ...]
    values: Float64Array2D
    index: Any
    n: int
    min_window: int
    lag: int
    ic: str | None
    log: bool
    min_series: int

    @property
    def offset(self) -> int:
        """Position of the first panel BSADF point (``min_window + lag``)."""
        return self.min_window + self.lag

    @property
    def stat_index(self) -> Any:
        """Labels (dates) of the panel BSADF points, or their positions."""
        if self.index is None:
            return np.arange(self.offset, self.n)
        return self.index[self.offset:]

    def to_frame(self) -> pd.DataFrame:
        """One row per panel BSADF point: ``bsadf``, ``badf``, ``n_series``."""
        import pandas as pd

        return pd.DataFrame({"bsadf": self.bsadf, "badf": self.badf, "n_series": self.n_series},
                            index=self.stat_index)

    def summary(self, cv: PanelCriticalValues | None = None) -> str:
        lines = [
            "Panel GSADF (Pavlidis et al. 2016)",
            f"{len(self.symbols)} series ({', '.join(self.symbols)}), n = {self.n}, "
            f"min_window = {self.min_window}, lag = {self.lag}"
            + (f" ({self.ic})" if self.ic else "") + (", log series" if self.log else ""),
            f"panel GSADF {self.gsadf:.4f}",
        ]
        if self.excluded:
            lines.append(f"left out (too short for one window): {', '.join(self.excluded)}")
        if cv is not None:
            cells = ", ".join(f"{round(lev * 100)}%: {c:.4f}" for lev, c in zip(cv.levels, cv.gsadf,
                                                                               strict=True))
            lines.append(f"critical values ({cv.reps} sieve-bootstrap reps): {cells}")
        return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class PanelCriticalValues:
    """Sieve-bootstrap critical values of the panel statistics at ``levels``.

    ``bsadf`` is ``(points, 3)``, pointwise; ``gsadf`` is ``(3,)``, the
    quantiles of the largest panel BSADF. ``null_lags`` gives the lag of each
    series' null model.
    """

    gsadf: Float64Array1D
    bsadf: Float64Array2D
    reps: int
    seed: int | None
    n: int
    min_window: int
    lag: int
    ic: str | None
    symbols: tuple[str, ...]
    null_lags: tuple[int, ...]
    levels: tuple[float, ...] = LEVELS

    def level_index(self, level: float) -> int:
        for k, lev in enumerate(self.levels):
            if abs(lev - level) < 1e-9:
                return k
        raise ValueError(f"level must be one of {', '.join(f'{v:g}' for v in self.levels)}, "
                         f"got {level!r}")


@dataclass(frozen=True, slots=True)
class CoexplosiveResult:
    """Co-explosiveness test of ``y`` on ``x`` (Evripidou et al. 2022).

    ``statistic`` is the KPSS-type ``S``; ``critical_values`` are the
    wild-bootstrap quantiles at ``levels``; ``reject`` says whether
    co-explosiveness is rejected at ``alpha`` (``p_value < alpha``). ``lag``
    is ``i`` in ``y_t = a + b x_{t-i} + u_t`` (``i > 0``: ``x`` leads), with
    ``intercept`` and ``slope`` the OLS estimates; ``nobs`` observations
    from ``start`` to ``end`` (labels of ``y``) enter the regression.
    ``variance`` is the denominator of the statistic (``"long_run"`` or
    ``"short_run"``) and ``bandwidth`` the Bartlett bandwidth of the long-run
    variance of the residuals (0 for the short-run one).
    """

    statistic: float
    p_value: float
    critical_values: Float64Array1D
    reject: bool
    alpha: float
    lag: int
    intercept: float
    slope: float
    nobs: int
    start: Hashable
    end: Hashable
    reps: int
    seed: int | None
    y_symbol: str | None
    x_symbol: str | None
    levels: tuple[float, ...] = LEVELS
    variance: str = "long_run"
    bandwidth: int = 0


@dataclass(frozen=True, slots=True)
class CohortReading:
    """Answer to "is the cohort explosive together?" (see :func:`cohort_reading`).

    Attributes
    ----------
    explosive_together
        The decision.
    reason
        One sentence saying why.
    panel, cv
        The panel statistics and their critical values.
    panel_gsadf, panel_gsadf_cv, panel_explosive
        The panel GSADF, its critical value at ``1 - alpha`` and whether it
        exceeds it.
    episode_start, episode_end
        Labels of the latest panel episode (``episode_end`` None while it is
        ongoing), or None without one.
    reference
        The series every member is tested against.
    pairs
        The co-explosiveness tests (member on reference) over the episode.
    skipped
        Members not tested (not observed over the whole episode).
    min_p_value
        Smallest p-value of the pairs (NaN without pairs); co-explosiveness
        of the cohort is rejected when it is below ``alpha / len(pairs)``.
    alpha
        Significance level of every decision.
    """

    explosive_together: bool
    reason: str
    panel: PanelRadfResult
    cv: PanelCriticalValues
    panel_gsadf: float
    panel_gsadf_cv: float
    panel_explosive: bool
    episode_start: Hashable | None
    episode_end: Hashable | None
    reference: str
    pairs: tuple[CoexplosiveResult, ...]
    skipped: tuple[str, ...]
    min_p_value: float
    alpha: float

    def summary(self) -> str:
        verdict = "explosive together" if self.explosive_together else "not explosive together"
        lines = [
            f"Cohort ({', '.join(self.panel.symbols)}): {verdict}. {self.reason}",
            (f"panel GSADF {self.panel_gsadf:.4f} vs {1 - self.alpha:.0%} critical value "
             f"{self.panel_gsadf_cv:.4f}"),
        ]
        for p in self.pairs:
            lines.append(f"  {p.y_symbol} on {p.x_symbol} (lag {p.lag}): S = {p.statistic:.4f}, "
                         f"p = {p.p_value:.3f}")
        return "\n".join(lines)


# --------------------------------------------------------------------------- #
# Panel statistics                                                            #
# --------------------------------------------------------------------------- #
def panel_radf(
    data: Any,
    min_window: int | None = None,
    lag: int = 0,
    *,
    ic: Literal["aic", "bic"] | None = None,
    log: bool = False,
    min_series: int = 2,
) -> PanelRadfResult:
    """Panel BSADF and GSADF of Pavlidis et al. (2016).

    Parameters
    ----------
    data
        A pandas DataFrame (one column per series, rows the common dates,
        NaN before a listing or after a delisting), a mapping of symbol to
        Series (aligned on the union of their dates) or a 2-D array
        (observations x series).
    min_window, lag, ic
        As in :func:`indicators.psy.radf`; ``min_window`` defaults to the PSY
        rule on the number of dates.
    log
        Test log prices.
    min_series
        Fewest series a window's average needs (at least 1; default 2).

    Returns
    -------
    PanelRadfResult

    Raises
    ------
    InfeasibleTestError
        Fewer than 2 series, or fewer than 2 long enough for one window,
        or too few dates.
    ValueError
        A gap inside a series, a flat stretch, non-positive prices with
        ``log``, bad arguments.

    References
    ----------
    Pavlidis, E., Yusupova, A., Paya, I., Peel, D., Martínez-García, E.,
    Mack, A. & Grossman, V. (2016). Episodes of exuberance in housing markets:
    in search of the smoking gun. *Journal of Real Estate Finance and
    Economics*, 53(4), 419-449.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> res = panel_radf(np.cumsum(rng.standard_normal((200, 3)), axis=0))
    >>> res.bsadf.shape, res.symbols
    ((173,), ('0', '1', '2'))
    """
    prep = _prepare_panel(data, min_window, lag, ic, log, min_series)
    npts = prep.n - prep.minw - prep.lag
    bsadf = np.empty((1, npts))
    badf = np.empty((1, npts))
    nused = np.empty((1, npts), dtype=np.int64)
    nslots = _n_slots() if npts >= _PARALLEL_MIN_POINTS else 1
    kernels.panel_sequences(prep.panel[None], prep.first, prep.last, prep.minw, prep.lag,
                            prep.code, prep.min_series, nslots, bsadf, badf, nused)
    bsadf, badf, nused = bsadf[0], badf[0], nused[0]
    for arr in (bsadf, badf, nused, prep.values):
        arr.flags.writeable = False
    return PanelRadfResult(
        gsadf=float(np.nanmax(bsadf)) if np.isfinite(bsadf).any() else math.nan,
        bsadf=bsadf, badf=badf, n_series=nused, symbols=prep.symbols, excluded=prep.excluded,
        first=tuple(int(v) for v in prep.first), last=tuple(int(v) for v in prep.last),
        values=prep.values, index=prep.index, n=prep.n, min_window=prep.minw, lag=prep.lag,
        ic=prep.ic, log=bool(log), min_series=prep.min_series,
    )


def panel_sb_cv(
    data: Any,
    min_window: int | None = None,
    lag: int = 0,
    *,
    ic: Literal["aic", "bic"] | None = None,
    log: bool = False,
    min_series: int = 2,
    reps: int = 499,
    seed: int | None = 0,
) -> PanelCriticalValues:
    """Sieve-bootstrap critical values of the panel BSADF and GSADF
    (Pavlidis et al. 2016; resampling scheme in the module docstring).

    Parameters
    ----------
    data, min_window, lag, ic, log, min_series
        As in :func:`panel_radf` (use the same values).
    reps
        Bootstrap replications (at least 10).
    seed
        Seed of ``numpy.random.default_rng`` (None: fresh entropy).

    Returns
    -------
    PanelCriticalValues
        At the 90, 95 and 99% levels.

    Notes
    -----
    Work is that of ``reps`` panel statistics (each ``O(N T^2)`` for lag 0),
    run on all cores. Memory: the replicated panels of a chunk (about 32 MB)
    and ``reps x points`` float32 statistics.
    """
    prep = _prepare_panel(data, min_window, lag, ic, log, min_series)
    reps = positive_int(reps, "reps")
    if reps < 10:
        raise ValueError(f"reps must be at least 10 for 90/95/99% quantiles, got {reps}")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))
                             or seed < 0):
        raise ValueError(f"seed must be a non-negative integer or None, got {seed!r}")
    nser, tlen = prep.panel.shape
    fits = []
    for k in range(nser):
        z = prep.panel[k, prep.first[k]:prep.last[k] + 1]
        k0 = _select_null_lag(z, prep.lag, prep.ic)
        phi, resid = _null_fit(z, k0)
        fits.append((k0, phi, resid, np.ascontiguousarray(np.diff(z)[:k0])))
    # residual of series k exists for the differences ending at g in [f + k0 + 1, last]
    has = np.zeros((nser, tlen), dtype=bool)
    for k, (k0, _, _, _) in enumerate(fits):
        has[k, prep.first[k] + k0 + 1:prep.last[k] + 1] = True
    pools = _pools(has)
    rng = np.random.default_rng(seed)
    npts = tlen - prep.minw - prep.lag
    stats = np.empty((reps, npts), dtype=np.float32)
    chunk = max(1, min(reps, _CHUNK_VALUES // (nser * tlen)))
    panels = np.full((chunk, nser, tlen), np.nan)
    out_bs = np.empty((chunk, npts))
    out_b = np.empty((chunk, npts))
    out_n = np.empty((chunk, npts), dtype=np.int64)
    for s in range(0, reps, chunk):
        c = min(chunk, reps - s)
        draws = np.zeros((c, tlen), dtype=np.int64)  # date whose residual vector is used
        for dates, pool in pools:
            draws[:, dates] = pool[rng.integers(0, pool.size, size=(c, dates.size))]
        for k, (k0, phi, resid, dy_init) in enumerate(fits):
            f, last = prep.first[k], prep.last[k]
            nk = last - f + 1
            idx = np.zeros((c, nk - 1), dtype=np.int64)
            idx[:, k0:] = draws[:, f + k0 + 1:last + 1] - (f + k0 + 1)
            path = np.empty((c, nk))
            kernels.wb_paths(0.0, dy_init, phi, resid, idx, np.ones((c, nk - 1)), path)
            panels[:c, k, f:last + 1] = path
        kernels.panel_sequences(panels[:c], prep.first, prep.last, prep.minw, prep.lag,
                                prep.code, prep.min_series, 1, out_bs[:c], out_b[:c],
                                out_n[:c])
        stats[s:s + c] = out_bs[:c]
    probs = np.array(LEVELS)
    by_point = np.ascontiguousarray(stats.T)
    q = np.empty((npts, len(LEVELS)))
    kernels.row_quantiles(by_point, probs, False, q)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        gmax = np.nanmax(stats, axis=1).astype(np.float64)
    gq = np.nanquantile(gmax, probs)
    for arr in (q, gq):
        arr.flags.writeable = False
    return PanelCriticalValues(
        gsadf=gq, bsadf=q, reps=reps, seed=None if seed is None else int(seed), n=tlen,
        min_window=prep.minw, lag=prep.lag, ic=prep.ic, symbols=prep.symbols,
        null_lags=tuple(f[0] for f in fits),
    )


def _pools(has: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Group the dates by the set of series that need a residual there and
    give each group its pool: the dates at which every one of those series
    has a residual (the group's own dates always qualify)."""
    out = []
    patterns, inverse = np.unique(has.T, axis=0, return_inverse=True)
    for p, pattern in enumerate(patterns):
        if not pattern.any():
            continue
        dates = np.flatnonzero(inverse.reshape(-1) == p)
        pool = np.flatnonzero(has[pattern].all(axis=0))
        out.append((dates, pool))
    return out


# --------------------------------------------------------------------------- #
# Co-explosiveness (Evripidou, Harvey, Leybourne & Sollis 2022)               #
# --------------------------------------------------------------------------- #
def coexplosive_test(
    y: Any,
    x: Any,
    *,
    lag: int | None = None,
    lags: Iterable[int] = range(-6, 7),
    alpha: float = 0.05,
    reps: int = 499,
    seed: int | None = 0,
    log: bool = False,
    y_symbol: str | None = None,
    x_symbol: str | None = None,
    variance: Literal["long_run", "short_run"] = "long_run",
) -> CoexplosiveResult:
    """Test the null that ``y`` and ``x`` are co-explosive (Evripidou et al. 2022).

    Parameters
    ----------
    y, x
        Two series over the same dates (arrays or pandas Series of equal
        length), typically the window of an explosive episode.
    lag
        ``i`` in ``y_t = a + b x_{t-i} + u_t`` (``i > 0``: ``x`` leads ``y``);
        default: the candidate in ``lags`` whose regression has the smallest
        residual variance (a lag off the true one leaves an explosive term in
        the residuals).
    lags
        Candidate leads/lags.
    alpha
        Level of the decision ``reject``.
    reps
        Wild-bootstrap replications.
    seed
        Seed of ``numpy.random.default_rng`` (None: fresh entropy).
    log
        Test log prices.
    y_symbol, x_symbol
        Named in errors and in the result.
    variance
        Denominator of the statistic: ``"long_run"`` (default), the Bartlett
        long-run variance of the residuals, or ``"short_run"``, their
        variance (valid only for serially uncorrelated residuals; kept for
        comparison, it rejects almost always on real prices).

    Returns
    -------
    CoexplosiveResult

    Notes
    -----
    With OLS residuals ``u_t`` of the regression on a constant and
    ``x_{t-i}`` over ``m`` aligned observations,
    ``S = m^-2 sum_t (sum_{s<=t} u_s)^2 / omega^2``, large when the residuals
    wander (no co-explosiveness). ``omega^2`` is the long-run variance of
    ``u``, ``gamma_0 + 2 sum_{j<=l} (1 - j/(l+1)) gamma_j`` (Bartlett kernel,
    as in the KPSS test of Kwiatkowski et al. 1992), with the bandwidth ``l``
    of Andrews (1991) for an AR(1) fitted to ``u``, bounded as in Kurozumi
    (2002) by its value at an autocorrelation of 0.7 so that residuals that
    wander (the alternative) do not inflate it without limit. The null
    distribution of ``S`` depends on the volatility path of ``u``, so
    critical values come from the wild bootstrap ``u*_t = u_t w_t``
    (``w_t`` standard normal) regressed on the same constant and
    ``x_{t-i}``, each replication studentised by its own long-run variance.
    The explosive regressor makes the slope estimate converge fast, so the
    residuals behave like ``u_t``.

    Residuals of a regression of one price on another are serially
    correlated even when the two are tied together (weekly deviations
    persist); divided by the short-run variance ``m^-1 sum u_t^2``, ``S`` is
    inflated by the ratio of long-run to short-run variance while the
    bootstrap, whose draws are serially uncorrelated, is not, so the test
    rejects far more often than ``alpha`` (72% at a nominal 5% for AR(1)
    residuals with coefficient 0.7, ``benchmarks/sim_coexplosive.py``). The
    paper's own treatment of serial correlation could not be checked (its
    full text was not available); this follows the KPSS practice its
    stationarity framework rests on. Strongly persistent residuals
    (autocorrelation above 0.7) still leave the test oversized.

    References
    ----------
    Andrews, D. W. K. (1991). Heteroskedasticity and autocorrelation
    consistent covariance matrix estimation. *Econometrica*, 59(3), 817-858.

    Kurozumi, E. (2002). Testing for stationarity with a break. *Journal of
    Econometrics*, 108(1), 63-99.

    Kwiatkowski, D., Phillips, P. C. B., Schmidt, P. & Shin, Y. (1992).
    Testing the null hypothesis of stationarity against the alternative of a
    unit root. *Journal of Econometrics*, 54(1-3), 159-178.

    References
    ----------
    Evripidou, A. C., Harvey, D. I., Leybourne, S. J. & Sollis, R. (2022).
    Testing for co-explosive behaviour in financial time series. *Oxford
    Bulletin of Economics and Statistics*, 84(3), 624-650.
    """
    procedure = "coexplosive_test"
    yv, yidx = check_series(y, procedure, y_symbol, log=log)
    xv, _ = check_series(x, procedure, x_symbol, log=log)
    if yv.shape[0] != xv.shape[0]:
        raise ValueError(f"{procedure}: y ({y_symbol or 'y'}) has {yv.shape[0]} observations "
                         f"and x ({x_symbol or 'x'}) {xv.shape[0]}; pass the same dates")
    if not 0.0 < float(alpha) < 1.0:
        raise ValueError(f"{procedure}: alpha must be in (0, 1), got {alpha!r}")
    if variance not in ("long_run", "short_run"):
        raise ValueError(f"{procedure}: variance must be 'long_run' or 'short_run', got "
                         f"{variance!r}")
    long_run = variance == "long_run"
    reps = positive_int(reps, "reps")
    cand = [int(v) for v in lags] if lag is None else [int(lag)]
    if not cand:
        raise ValueError(f"{procedure}: lags is empty; give at least one candidate lead/lag")
    n = yv.shape[0]
    need = MIN_COEXPLOSIVE_OBS + max(abs(c) for c in cand)
    if n < need:
        raise InfeasibleTestError(
            f"{procedure} ({y_symbol or 'y'} on {x_symbol or 'x'}): {n} observations; it needs "
            f"at least {need} ({MIN_COEXPLOSIVE_OBS} after shifting by the largest lag): "
            "use a longer window or fewer lags")
    fits = {c: _coexp_fit(yv, xv, c) for c in cand}
    best = min(cand, key=lambda c: (fits[c][2], abs(c)))
    lo, hi, _, resid, xreg, beta = fits[best]
    stat = _kpss(resid[:, None], long_run)[0]
    bandwidth = int(_bandwidth(resid[:, None])[0]) if long_run else 0
    rng = np.random.default_rng(seed)
    ustar = resid[:, None] * rng.standard_normal((resid.shape[0], reps))
    xmat = np.column_stack([np.ones(xreg.shape[0]), xreg])
    coef, *_ = np.linalg.lstsq(xmat, ustar, rcond=None)
    boot = _kpss(ustar - xmat @ coef, long_run)
    crit = np.quantile(boot, LEVELS)
    pval = float((1 + np.sum(boot >= stat)) / (reps + 1))
    crit.flags.writeable = False
    return CoexplosiveResult(
        statistic=float(stat), p_value=pval, critical_values=crit, reject=pval < alpha,
        alpha=float(alpha), lag=int(best), intercept=float(beta[0]), slope=float(beta[1]),
        nobs=int(hi - lo), start=_label(yidx, lo), end=_label(yidx, hi - 1), reps=reps,
        seed=seed, y_symbol=y_symbol, x_symbol=x_symbol, variance=variance,
        bandwidth=bandwidth,
    )


def _coexp_fit(yv: np.ndarray, xv: np.ndarray, lag: int
               ) -> tuple[int, int, float, np.ndarray, np.ndarray, np.ndarray]:
    """Regression of ``y_t`` on ``[1, x_{t-lag}]`` over the aligned dates:
    ``(lo, hi, mean squared residual, residuals, regressor, coefficients)``."""
    n = yv.shape[0]
    lo, hi = max(lag, 0), n + min(lag, 0)
    yy = yv[lo:hi]
    xx = xv[lo - lag:hi - lag]
    xmat = np.column_stack([np.ones(yy.shape[0]), xx])
    beta, *_ = np.linalg.lstsq(xmat, yy, rcond=None)
    resid = yy - xmat @ beta
    return lo, hi, float(np.mean(resid ** 2)), resid, xx, beta


#: Largest first-order autocorrelation the bandwidth rule follows (Kurozumi 2002).
BANDWIDTH_RHO_CAP = 0.7


def _bandwidth(u: np.ndarray) -> np.ndarray:
    """Bartlett bandwidth of each column of ``u`` (``m x reps``): Andrews'
    (1991) AR(1) plug-in ``1.1447 (4 rho^2 m / ((1 + rho)^2 (1 - rho)^2))^(1/3)``
    with ``rho`` capped at :data:`BANDWIDTH_RHO_CAP` (Kurozumi 2002), floored
    to an integer and at most ``m - 1``.

    Examples
    --------
    >>> _bandwidth(np.tile([1.0, -1.0], 50)[:, None]).tolist()  # rho -1, capped at -0.7
    [10]
    """
    m = u.shape[0]
    num = np.sum(u[1:] * u[:-1], axis=0)
    den = np.sum(u[:-1] ** 2, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = np.where(den > 0, num / den, 0.0)
    rho = np.clip(rho, -BANDWIDTH_RHO_CAP, BANDWIDTH_RHO_CAP)
    a = 4.0 * rho ** 2 / ((1.0 + rho) ** 2 * (1.0 - rho) ** 2)
    band = np.floor(1.1447 * (a * m) ** (1.0 / 3.0))
    return np.minimum(band, m - 1).astype(np.int64)


def _long_run_variance(u: np.ndarray) -> np.ndarray:
    """Bartlett long-run variance of each column of ``u`` (``m x reps``),
    with the bandwidth of :func:`_bandwidth`."""
    m = u.shape[0]
    band = _bandwidth(u)
    out = np.sum(u * u, axis=0) / m
    for j in range(1, int(band.max(initial=0)) + 1):
        w = np.clip(1.0 - j / (band + 1.0), 0.0, None)
        out = out + 2.0 * w * np.sum(u[j:] * u[:-j], axis=0) / m
    return out


def _kpss(u: np.ndarray, long_run: bool = True) -> np.ndarray:
    """KPSS-type statistic of each column of residuals ``u`` (``m x reps``):
    ``m^-2 sum_t (partial sum)^2`` over the long-run (or short-run) variance."""
    m = u.shape[0]
    part = np.cumsum(u, axis=0)
    scale = _long_run_variance(u) if long_run else np.sum(u ** 2, axis=0) / m
    return np.sum(part ** 2, axis=0) / (m * m * scale)


# --------------------------------------------------------------------------- #
# The cohort reading                                                          #
# --------------------------------------------------------------------------- #
def cohort_reading(
    data: Any,
    reference: str | None = None,
    *,
    min_window: int | None = None,
    lag: int = 0,
    log: bool = True,
    alpha: float = 0.05,
    reps: int = 499,
    seed: int | None = 0,
    lags: Iterable[int] = range(-6, 7),
    min_duration: int | None = None,
) -> CohortReading:
    """Is the cohort explosive together?

    Parameters
    ----------
    data
        Prices of the cohort, as in :func:`panel_radf` (a DataFrame whose
        columns are symbols).
    reference
        The member every other one is tested against (default the first
        column), e.g. the cohort's leader.
    min_window, lag, log
        As in :func:`panel_radf` (log prices by default).
    alpha
        Level of every decision: 0.10, 0.05 or 0.01.
    reps
        Replications of the sieve bootstrap and of each wild bootstrap.
    seed
        Seed of both bootstraps.
    lags
        Candidate leads/lags of the co-explosiveness tests.
    min_duration
        Shortest panel episode (observations); default
        :func:`~indicators.psy.psy_min_duration` of the number of dates.

    Returns
    -------
    CohortReading

    Notes
    -----
    1. Panel GSADF against its sieve-bootstrap critical value at ``1 - alpha``.
    2. The latest panel episode: the last run of at least ``min_duration``
       points at which the panel BSADF exceeds its pointwise critical value.
    3. Over that episode, :func:`coexplosive_test` of each member on the
       reference. Co-explosiveness of the cohort is rejected when the
       smallest p-value is below ``alpha / m`` (``m`` pairs; Bonferroni).

    The cohort is explosive together when the panel rejects, an episode is
    dated, at least one pair is tested and co-explosiveness is not rejected.
    """
    alpha = float(alpha)
    if not any(abs(alpha - (1 - lev)) < 1e-9 for lev in LEVELS):
        raise ValueError(f"cohort_reading: alpha must be one of 0.1, 0.05, 0.01, got {alpha!r}")
    panel = panel_radf(data, min_window, lag, log=log)
    cv = panel_sb_cv(data, min_window, lag, log=log, reps=reps, seed=seed)
    ref = panel.symbols[0] if reference is None else str(reference)
    if ref not in panel.symbols:
        raise ValueError(f"cohort_reading: reference {ref!r} is not a usable series of the "
                         f"panel ({', '.join(panel.symbols)})")
    col = cv.level_index(1 - alpha)
    gcv = float(cv.gsadf[col])
    explosive = bool(panel.gsadf > gcv)
    common = {"panel": panel, "cv": cv, "panel_gsadf": panel.gsadf, "panel_gsadf_cv": gcv,
              "panel_explosive": explosive, "reference": ref, "alpha": alpha}
    if not explosive:
        return CohortReading(explosive_together=False, reason=(
            f"the panel GSADF does not exceed its {1 - alpha:.0%} critical value"),
            episode_start=None, episode_end=None, pairs=(), skipped=(),
            min_p_value=math.nan, **common)
    mind = psy_min_duration(panel.n) if min_duration is None else nonneg_int(min_duration,
                                                                              "min_duration")
    with np.errstate(invalid="ignore"):
        mask = panel.bsadf > cv.bsadf[:, col]
    runs = episodes_from_mask(mask, mind)
    if not runs:
        return CohortReading(explosive_together=False, reason=(
            f"the panel GSADF rejects, but no panel episode lasts {mind} observations"),
            episode_start=None, episode_end=None, pairs=(), skipped=(),
            min_p_value=math.nan, **common)
    s, e = runs[-1]
    lo, hi = s + panel.offset, e + panel.offset  # observation positions, hi exclusive
    start = _label(panel.index, lo)
    end = None if hi >= panel.n else _label(panel.index, hi)
    k_ref = panel.symbols.index(ref)
    xs = panel.values[k_ref, lo:hi]
    if not np.isfinite(xs).all():
        return CohortReading(explosive_together=False, reason=(
            f"a panel episode is dated but the reference {ref} is not observed over all of "
            "it; choose another reference"), episode_start=start, episode_end=end, pairs=(),
            skipped=(), min_p_value=math.nan, **common)
    pairs, skipped = [], []
    for k, sym in enumerate(panel.symbols):
        if k == k_ref:
            continue
        ys = panel.values[k, lo:hi]
        if not np.isfinite(ys).all():
            skipped.append(sym)
            continue
        idx = None if panel.index is None else panel.index[lo:hi]
        yser = ys if idx is None else _series(ys, idx)
        try:
            pairs.append(coexplosive_test(yser, xs, lags=lags, alpha=alpha, reps=reps,
                                          seed=seed, y_symbol=sym, x_symbol=ref))
        except InfeasibleTestError:
            skipped.append(sym)
    if not pairs:
        return CohortReading(explosive_together=False, reason=(
            "a panel episode is dated but it is too short (or too few members cover it) "
            "for the co-explosiveness tests"), episode_start=start, episode_end=end,
            pairs=(), skipped=tuple(skipped), min_p_value=math.nan, **common)
    pmin = min(p.p_value for p in pairs)
    together = pmin >= alpha / len(pairs)
    reason = (f"the panel is explosive and no member's co-explosiveness with {ref} is "
              f"rejected (smallest p-value {pmin:.3f} >= {alpha:g}/{len(pairs)})"
              if together else
              f"the panel is explosive but co-explosiveness with {ref} is rejected "
              f"(smallest p-value {pmin:.3f} < {alpha:g}/{len(pairs)})")
    return CohortReading(explosive_together=together, reason=reason, episode_start=start,
                         episode_end=end, pairs=tuple(pairs), skipped=tuple(skipped),
                         min_p_value=pmin, **common)


# --------------------------------------------------------------------------- #
# Input preparation                                                           #
# --------------------------------------------------------------------------- #
@dataclass(frozen=True, slots=True)
class _Prepared:
    panel: np.ndarray  # standardised, N x T, NaN outside each span
    values: np.ndarray  # as tested (log if asked), N x T
    first: np.ndarray
    last: np.ndarray
    symbols: tuple[str, ...]
    excluded: tuple[str, ...]
    index: Any
    n: int
    minw: int
    lag: int
    ic: str | None
    code: int
    min_series: int


def _prepare_panel(data: Any, min_window: int | None, lag: int, ic: str | None, log: bool,
                   min_series: int) -> _Prepared:
    procedure = "panel GSADF"
    lag = nonneg_int(lag, "lag")
    if ic not in IC_CODES:
        raise ValueError(f"ic must be None, 'aic' or 'bic', got {ic!r}")
    min_series = positive_int(min_series, "min_series")
    matrix, symbols, index = _as_matrix(data)
    n, nser = matrix.shape
    if nser < 2:
        got = f" ({symbols[0]})" if nser == 1 else ""
        raise InfeasibleTestError(
            f"{procedure}: a panel needs at least 2 series, got {nser}{got}; for one series "
            "use indicators.psy.radf")
    if n < MIN_OBS:
        raise InfeasibleTestError(f"{procedure}: {n} dates; at least {MIN_OBS} are needed")
    minw = check_window(n, min_window, lag)
    need = minw + lag + 1
    rows, firsts, lasts, used, excluded, shown = [], [], [], [], [], []
    for k, sym in enumerate(symbols):
        col = matrix[:, k]
        ok = np.flatnonzero(np.isfinite(col))
        if ok.size == 0:
            excluded.append(sym)
            continue
        f, last = int(ok[0]), int(ok[-1])
        span = col[f:last + 1]
        sub_index = None if index is None else index[f:last + 1]
        vals, _ = check_series(span if sub_index is None else _series(span, sub_index),
                               procedure, sym, log=log)
        if vals.shape[0] < need:
            excluded.append(sym)
            continue
        z = np.full(n, np.nan)
        z[f:last + 1] = standardise(vals)
        v = np.full(n, np.nan)
        v[f:last + 1] = vals
        rows.append(z)
        shown.append(v)
        firsts.append(f)
        lasts.append(last)
        used.append(sym)
    if excluded:
        warnings.warn(
            f"{procedure}: left out {', '.join(excluded)}: fewer than {need} observations "
            f"(min_window {minw} + lag {lag} + 1), too short for one window",
            DataQualityWarning, stacklevel=3)
    if len(used) < 2:
        raise InfeasibleTestError(
            f"{procedure}: only {len(used)} series ({', '.join(used) or 'none'}) have the "
            f"{need} observations one window needs; a panel needs at least 2")
    return _Prepared(
        panel=np.ascontiguousarray(np.array(rows)), values=np.array(shown),
        first=np.array(firsts, dtype=np.int64), last=np.array(lasts, dtype=np.int64),
        symbols=tuple(used), excluded=tuple(excluded), index=index, n=n, minw=minw, lag=lag,
        ic=ic if lag > 0 else None, code=IC_CODES[ic] if lag > 0 else kernels.IC_FIXED,
        min_series=min_series,
    )


def _as_matrix(data: Any) -> tuple[np.ndarray, tuple[str, ...], Any]:
    if isinstance(data, dict):
        import pandas as pd

        data = pd.DataFrame(dict(data))
    if hasattr(data, "columns") and hasattr(data, "to_numpy"):
        symbols = tuple(str(c) for c in data.columns)
        index = data.index
        raw = data.to_numpy()
    else:
        raw = data
        index = None
        arr = np.asarray(raw)
        symbols = tuple(str(k) for k in range(arr.shape[1])) if arr.ndim == 2 else ()
    try:
        matrix = np.array(raw, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"panel GSADF: the panel must be numeric ({exc})") from None
    if matrix.ndim != 2:
        raise ValueError(f"panel GSADF: expected a 2-D panel (dates x series), got shape "
                         f"{matrix.shape}")
    return matrix, symbols, index


def _series(values: np.ndarray, index: Any) -> Any:
    import pandas as pd

    return pd.Series(values, index=index)


def _label(index: Any, pos: int) -> Hashable:
    return int(pos) if index is None else index[pos]


def _n_slots() -> int:
    return max(1, os.cpu_count() or 1)
