"""Log-periodic power law singularity (LPPLS) fits and the FCO confidence and trust indicators.

The model (Johansen, Ledoit & Sornette 2000) for the log price during a bubble is

.. math::

    \\ln p(t) = A + |t_c - t|^m \\bigl(B + C_1 \\cos(\\omega \\ln|t_c - t|)
                                       + C_2 \\sin(\\omega \\ln|t_c - t|)\\bigr)

with ``C1 = C cos(phi)``, ``C2 = C sin(phi)`` (Filimonov & Sornette 2013). For
fixed nonlinear parameters ``(tc, m, omega)`` the four linear ones
``(A, B, C1, C2)`` solve a 4x4 least-squares problem exactly, so the search runs
over three parameters only. ``B < 0`` is a positive (upward, crash-prone)
bubble, ``B > 0`` a negative (downward, rebound-prone) one. ``|tc - t|`` lets a
critical time fall inside the window, as the FCO search space allows.

Engine
    :func:`fit` scans a coarse grid of cell centres over the search box (the
    profiled cost at every cell), starts a box-constrained Levenberg-Marquardt
    search on the variable-projection functional (Golub & Pereyra 2003, with
    Kaufman's Jacobian) from the best grid cells that are local minima, runs a
    few iterations from each on a thinned copy of long windows (every k-th
    observation, about 125 kept), polishes the best (and a runner-up within 2%)
    on the full window and returns the best: the best fit over all starts,
    never merely the first one that converged. Everything runs in
    numba (:mod:`indicators._lppls_kernels`); :func:`confidence` runs its
    windows in parallel on threads. Deterministic: no random starts.

Time
    Time is whatever unit ``t`` has; :func:`confidence` uses trading days
    (observation numbers), so ``dt = t2 - t1`` and ``tc - t2`` are in trading
    days and calendar gaps (weekends, holidays) do not count. A window of
    ``L`` trading days holds ``L`` observations, so ``dt = L - 1``.

Derived quantities
    * damping ``D = m |B| / (omega |C|)`` with ``|C| = sqrt(C1^2 + C2^2)``
      (Sornette et al. 2015, Table 1; the PyPI package ``lppls`` uses the same
      value: its ``c`` is ``sign(C1) |C|`` and its damping takes the absolute
      value). The non-negative crash hazard of Bothmer & Meister (2003)
      implies ``D >= 1``, the Trust filter's bound;
    * number of oscillations: the published count
      ``omega / (2 pi) ln|(tc - t1) / (tc - t2)|`` (Sornette et al. 2015,
      Table 1, as implemented by Fantazzini's ``bubble`` package; ``lppls``
      uses the signed ratio and treats ``tc < t2`` as a failed search), with
      ``|tc - t2|`` floored at the Nyquist horizon ``omega / pi`` sampling
      steps (:func:`oscillations`). The local period of the log-periodic
      term is ``2 pi |tc - t| / omega``; closer to ``tc`` than that horizon it
      is under two samples, so those oscillations cannot be observed. Without
      the floor a ``tc`` at ``t2`` gives an unbounded count (11-18 with the
      former 1e-8 floor) and passes the ``O >= 2.5`` filter vacuously; the
      requirement of a few *observed* oscillations is what separates
      log-periodicity from noise (Huang et al. 2000). The count equals the
      published one whenever ``|tc - t2|`` is at least the horizon;
    * relative error: the mean over the window of ``|ln p - fit| / |fit|``
      (``relative_error``), Table 1's ``|p - p_hat| / p_hat`` applied to the
      log price the model fits, as the ``bubble`` package does (it takes the
      absolute value of the *mean* signed ratio, which is about 0 for any fit
      with an intercept; bubblewatch averages absolute values); ``lppls`` has
      no relative-error filter. Because it depends on the price unit and
      hardly binds for log prices far from 0, the price reading
      ``mean |p / exp(fit) - 1|`` is stored as well (``relative_error_price``)
      and selected by ``FcoFilter(relative_error="price")``. On ^IXIC, end
      dates every 10th trading day of 1997-01 to 2000-04, the two readings
      differ by at most 3 of 126 windows.

FCO confidence indicator (Sornette et al. 2015, Table 1, filter 1)
    For each end date ``t2``: windows of ``max_window`` down to ``min_window``
    trading days in steps of ``window_step``, ``dt = t2 - t1`` each; search
    space ``tc in [t2 - 0.2 dt, t2 + 0.2 dt]``, ``m in [0, 2]``,
    ``omega in [1, 50]``; a fit qualifies when ``m in [0.01, 1.2]``,
    ``omega in [2, 25]``, ``tc in [t2 - 0.05 dt, t2 + 0.1 dt]``, ``O >= 2.5``,
    ``D >= 0.8`` and the relative error is at most 0.05 (all bounds
    inclusive), and (bubblewatch) ``|tc - t2| >= omega / pi`` trading days:
    with ``tc`` closer to ``t2`` the oscillation at the window end is not
    resolved and the fit places ``tc`` on the last few observations (the
    cusp of ``|tc - t|^m``) instead of on the oscillations. ``tc`` before
    ``t2`` (a bubble that ended inside the window) still qualifies as in the
    FCO. Positive-bubble confidence is the share of *all* windows whose fit
    qualifies with ``B < 0``; negative-bubble confidence the share with
    ``B > 0`` (the FCO's "fraction of fitting windows"; ``lppls`` divides by
    the number of fits of that sign instead and uses other default filters:
    ``m in (0, 1)``, ``omega in (2, 15)``, ``O > 2.5``, ``D > 0.5``,
    ``max(t2 - 60, t2 - 0.5 dt) < tc < min(t2 + 252, t2 + 0.5 dt)``).
    The critical time is the least constrained parameter of the fit (Demos &
    Sornette 2017), so it is reported as quantiles over the qualified windows,
    never as one date. By construction a qualified fit puts ``tc`` at most
    ``0.1 dt`` (75 trading days for the longest window) after ``t2``.

FCO trust indicator (Sornette et al. 2015, filter 2; Zhang, Zhang & Sornette 2016)
    For each end date and window the residuals of the best fit are drawn
    with replacement (i.i.d. bootstrap, ``trust_resamples`` = R series) and
    added to the fitted log price; every synthetic series is fitted with the
    same engine and search space and tested with filter 2
    (:data:`FCO_TRUST_FILTER`: ``m in [0.01, 0.99]``, ``omega in [2, 25]``,
    the same ``tc`` interval, ``O >= 2.5``, ``D >= 1``, relative error at most
    0.2, and the Nyquist condition above). A window's trust is the share of
    its R synthetic fits that qualify with ``B < 0`` (positive) or ``B > 0``
    (negative); the Trust of the end date is the *median* over the windows,
    the definition implemented by the ``bubble`` package
    (``lppl.confidence.trust.A``). It measures how far the LPPLS reading
    survives other draws of the same noise. The draws use a counter-based
    hash keyed by ``seed``, the end position and the window length, so they
    are reproducible, identical compiled and in plain Python, and a reading
    does not depend on the other end dates of the call. R = 10
    (:data:`DEFAULT_TRUST_RESAMPLES`) resolves a window's trust to 0.1 at 10
    times the cost of the confidence; the ``bubble`` package's examples use
    10 to 100.

Not implemented
    The quantile-regression ensembles of Zhang, Zhang & Sornette (2016), the
    early-warning / end-flag time scales of the FCO reports, and the Lagrange
    regularisation of the window length (Demos & Sornette 2017, arXiv
    1707.07162), which picks one "bubble start" per end date rather than
    counting windows.

References
----------
Filimonov, V. & Sornette, D. (2013). A stable and robust calibration scheme of
the log-periodic power law model. Physica A 392(17), 3698-3707.

Sornette, D., Demos, G., Zhang, Q., Cauwels, P., Filimonov, V. & Zhang, Q.
(2015). Real-time prediction and post-mortem analysis of the Shanghai 2015
stock market bubble and crash. Journal of Investment Strategies 4(4), 77-95.

Demos, G. & Sornette, D. (2017). Birth or burst of financial bubbles: which one
is easier to diagnose? Quantitative Finance 17(5), 657-675.

Demos, G. & Sornette, D. (2017). Lagrange regularisation approach to compare
nested data sets and determine objectively financial bubbles' inceptions.
arXiv:1707.07162.

Zhang, Q., Zhang, Q. & Sornette, D. (2016). Early warning signals of financial
crises with multi-scale quantile regressions of log-periodic power law
singularities. PLoS ONE 11(11), e0165819.

Huang, Y., Johansen, A., Lee, M. W., Saleur, H. & Sornette, D. (2000).
Artifactual log-periodicity in finite size data: relevance for earthquake
aftershocks. Journal of Geophysical Research 105(B11), 25451-25471.

Bothmer, H.-C. G. v. & Meister, C. (2003). Predicting critical crashes? A new
restriction for the free variables. Physica A 320, 539-547.

Fantazzini, D. R package ``bubble`` (github.com/deanfantazzini/bubble):
``lppl.confidence.A`` and ``lppl.confidence.trust.A`` implement the filters of
Sornette et al. (2015, Table 1).

Johansen, A., Ledoit, O. & Sornette, D. (2000). Crashes as critical points.
International Journal of Theoretical and Applied Finance 3(2), 219-255.

Golub, G. & Pereyra, V. (2003). Separable nonlinear least squares: the variable
projection method and its applications. Inverse Problems 19(2), R1-R26.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from bubblewatch.core.errors import InfeasibleTestError
from indicators import _lppls_kernels as _k
from indicators._typing import BoolArray, Float64Array, Float64Array1D, Int64Array

__all__ = [
    "DEFAULT_TRUST_RESAMPLES",
    "FCO_FILTER",
    "FCO_TRUST_FILTER",
    "MIN_OBSERVATIONS",
    "ConfidenceResult",
    "FcoFilter",
    "LpplsFit",
    "confidence",
    "damping",
    "fit",
    "linear_params",
    "lppls_model",
    "oscillations",
    "window_sizes",
]

#: Fewest observations a fit accepts (7 parameters, and a margin).
MIN_OBSERVATIONS = 20
#: Default coarse grid (tc cells, m cells, omega cells).
DEFAULT_GRID = (8, 6, 16)
#: Default number of grid starts for the local search.
DEFAULT_STARTS = 6
#: Default Levenberg-Marquardt iteration limit when polishing.
DEFAULT_MAX_ITER = 50
#: Synthetic series per window for the Trust indicator when it is asked for
#: (``confidence(..., trust_resamples=...)``); the ``bubble`` package's examples use 10-100.
DEFAULT_TRUST_RESAMPLES = 10
_FTOL = 1e-10
_RELATIVE_ERRORS = ("log_price", "price")


# --------------------------------------------------------------------------- #
# Results                                                                     #
# --------------------------------------------------------------------------- #
@dataclass(frozen=True, slots=True)
class FcoFilter:
    """Qualification filter of a fit (Sornette et al. 2015, Table 1).

    The defaults are filter 1 (the Confidence indicator); :data:`FCO_TRUST_FILTER`
    is filter 2 (the Trust indicator). Intervals are closed. ``tc`` is relative
    to the window end, as a fraction of the window length ``dt = t2 - t1``:
    ``(-0.05, 0.1)`` means ``t2 - 0.05 dt <= tc <= t2 + 0.1 dt``. The number of
    oscillations is the one the sampling resolves (see :func:`oscillations`).
    With ``resolved_tc`` (a bubblewatch addition, on by default) a fit also
    needs ``|tc - t2| >= omega * step / pi``: the log-periodic oscillation at
    the window end must be resolved by the sampling (``step``, one trading
    day in :func:`confidence`), else ``tc`` is set by the last few
    observations (the cusp of ``|tc - t|^m``), not by the oscillations.
    ``relative_error`` says what the relative error is measured on: the log
    price the model fits (``"log_price"``, the default, as the ``bubble``
    package reads Table 1) or the price (``"price"``: mean ``|p / p_hat - 1|``,
    free of the price unit).
    """

    m: tuple[float, float] = (0.01, 1.2)
    omega: tuple[float, float] = (2.0, 25.0)
    tc: tuple[float, float] = (-0.05, 0.1)
    min_oscillations: float = 2.5
    min_damping: float = 0.8
    max_relative_error: float = 0.05
    relative_error: str = "log_price"
    resolved_tc: bool = True

    def __post_init__(self) -> None:
        for name in ("m", "omega", "tc"):
            lo, hi = getattr(self, name)
            if not (np.isfinite(lo) and np.isfinite(hi) and lo <= hi):
                raise ValueError(f"FcoFilter.{name} must be a finite (low, high) with low <= high")
        if self.relative_error not in _RELATIVE_ERRORS:
            raise ValueError(
                f"FcoFilter.relative_error must be one of {_RELATIVE_ERRORS}, got "
                f"{self.relative_error!r}"
            )

    def qualifies(self, fit: LpplsFit) -> bool:
        """Whether ``fit`` passes every condition."""
        row = np.full((1, _k.NOUT), np.nan)
        row[0, _k.OUT_TC] = fit.tc
        row[0, _k.OUT_M] = fit.m
        row[0, _k.OUT_OMEGA] = fit.omega
        row[0, _k.OUT_DAMPING] = fit.damping
        row[0, _k.OUT_OSCILLATIONS] = fit.oscillations
        row[0, _k.OUT_REL_ERROR] = fit.relative_error
        row[0, _k.OUT_REL_ERROR_PRICE] = fit.relative_error_price
        step = fit.dt / (fit.n_obs - 1)
        return bool(self._mask(row, np.array([fit.t2]), np.array([fit.dt]), step)[0])

    def _mask(self, out: Float64Array, t2: Any, dt: Any, step: Any = 1.0) -> BoolArray:
        """Vectorised test over kernel output rows (``out[..., NOUT]``); ``t2``,
        ``dt`` and the sampling ``step`` broadcast against ``out[..., 0]``."""
        m = out[..., _k.OUT_M]
        om = out[..., _k.OUT_OMEGA]
        ahead = out[..., _k.OUT_TC] - t2
        rel_tc = ahead / dt
        col = _k.OUT_REL_ERROR if self.relative_error == "log_price" else _k.OUT_REL_ERROR_PRICE
        with np.errstate(invalid="ignore"):
            resolved = np.abs(ahead) >= om * step / np.pi if self.resolved_tc else True
            ok = resolved & (
                (m >= self.m[0]) & (m <= self.m[1])
                & (om >= self.omega[0]) & (om <= self.omega[1])
                & (rel_tc >= self.tc[0]) & (rel_tc <= self.tc[1])
                & (out[..., _k.OUT_OSCILLATIONS] >= self.min_oscillations)
                & (out[..., _k.OUT_DAMPING] >= self.min_damping)
                & (out[..., col] <= self.max_relative_error)
            )
        return np.asarray(ok, dtype=bool)


#: Filter 1 of Sornette et al. (2015, Table 1): the DS LPPLS Confidence (the default).
FCO_FILTER = FcoFilter()
#: Filter 2 of Sornette et al. (2015, Table 1): the DS LPPLS Trust.
FCO_TRUST_FILTER = FcoFilter(m=(0.01, 0.99), min_damping=1.0, max_relative_error=0.2)


@dataclass(frozen=True, slots=True)
class LpplsFit:
    """The best LPPLS fit of one window.

    ``tc``, ``t1``, ``t2`` are in the unit of the ``t`` passed to :func:`fit`
    (trading days in :func:`confidence`); ``a, b, c1, c2`` are the linear
    parameters for that unit; ``sse`` is the sum of squared residuals of the
    log price. ``oscillations`` is the resolved count of :func:`oscillations`
    (sampling step: the mean spacing of ``t``); ``relative_error`` is the mean
    of ``|ln p - fit| / |fit|``, ``relative_error_price`` the mean of
    ``|p / exp(fit) - 1|``. ``nfev`` counts profiled-cost evaluations (grid
    cells included).
    """

    tc: float
    m: float
    omega: float
    a: float
    b: float
    c1: float
    c2: float
    sse: float
    t1: float
    t2: float
    n_obs: int
    damping: float
    oscillations: float
    relative_error: float
    nfev: int
    relative_error_price: float = float("nan")

    @property
    def c(self) -> float:
        """Amplitude ``|C| = sqrt(C1^2 + C2^2)`` of the log-periodic term."""
        return float(np.hypot(self.c1, self.c2))

    @property
    def dt(self) -> float:
        """Window length ``t2 - t1``."""
        return self.t2 - self.t1

    @property
    def tc_ahead(self) -> float:
        """``tc - t2``: how far after the window end the critical time lies."""
        return self.tc - self.t2

    @property
    def rmse(self) -> float:
        """Root mean squared residual of the log price."""
        return float(np.sqrt(self.sse / self.n_obs))

    @property
    def bubble(self) -> str:
        """``"positive"`` (B < 0), ``"negative"`` (B > 0) or ``"none"``."""
        return "positive" if self.b < 0 else "negative" if self.b > 0 else "none"

    def predict(self, t: Any) -> Float64Array:
        """Fitted log price at ``t`` (same unit as the fit)."""
        return lppls_model(t, self.tc, self.m, self.omega, self.a, self.b, self.c1, self.c2)

    def qualifies(self, filters: FcoFilter = FCO_FILTER) -> bool:
        """Whether the fit passes ``filters`` (the FCO filter by default)."""
        return filters.qualifies(self)


_QUANTILE_DEFAULT = (0.1, 0.25, 0.5, 0.75, 0.9)


def _qname(q: float) -> str:
    return "median" if q == 0.5 else f"q{round(q * 100):02d}"


@dataclass(frozen=True, slots=True)
class ConfidenceResult:
    """FCO confidence indicator over a set of end dates.

    Attributes
    ----------
    index
        End dates (``DatetimeIndex``) or end positions when the input had none.
    ends
        End positions (observation numbers) in the input series.
    windows
        Window lengths in trading days, longest first.
    pos_conf, neg_conf
        Share of windows whose fit qualifies with ``B < 0`` / ``B > 0`` (0-1).
    quantiles
        Probabilities of the critical-time quantiles.
    pos_tc, neg_tc
        ``(n_ends, n_quantiles)`` quantiles of ``tc - t2`` in trading days over
        the qualified positive / negative fits (NaN when none qualified).
    n_pos, n_neg
        Number of qualified positive / negative fits per end date.
    fits
        ``(n_ends, n_windows, NOUT)`` raw fits, columns :data:`FIT_COLUMNS`,
        ``tc`` as an observation number.
    qualified
        ``(n_ends, n_windows)`` filter outcome.
    calendar
        Dates of every input observation (for mapping tc to dates), or None.
    trust_resamples
        Synthetic series per window behind the Trust indicator (0: not computed,
        and the trust fields are None).
    pos_trust, neg_trust
        DS LPPLS Trust per end date (0-1): the median over the windows of
        ``pos_trust_windows`` / ``neg_trust_windows``.
    pos_trust_windows, neg_trust_windows
        ``(n_ends, n_windows)`` share of a window's synthetic series whose fit
        passes ``trust_filter`` with ``B < 0`` / ``B > 0``.
    trust_fits
        ``(n_ends, n_windows, trust_resamples, NOUT)`` fits of the synthetic series.
    trust_filter
        The filter applied to them (:data:`FCO_TRUST_FILTER`).
    """

    index: pd.Index
    ends: Int64Array
    windows: Int64Array
    pos_conf: Float64Array1D
    neg_conf: Float64Array1D
    quantiles: tuple[float, ...]
    pos_tc: Float64Array
    neg_tc: Float64Array
    n_pos: Int64Array
    n_neg: Int64Array
    fits: Float64Array = field(repr=False)
    qualified: BoolArray = field(repr=False)
    calendar: pd.DatetimeIndex | None = field(default=None, repr=False)
    trust_resamples: int = 0
    pos_trust: Float64Array1D | None = None
    neg_trust: Float64Array1D | None = None
    pos_trust_windows: Float64Array | None = field(default=None, repr=False)
    neg_trust_windows: Float64Array | None = field(default=None, repr=False)
    trust_fits: Float64Array | None = field(default=None, repr=False)
    trust_filter: FcoFilter | None = field(default=None, repr=False)

    @property
    def n_windows(self) -> int:
        return int(self.windows.shape[0])

    def tc_dates(self, days: Float64Array, ends: Int64Array | None = None) -> np.ndarray:
        """Map critical times given as trading days after each end to dates
        (``datetime64[ns]`` array of the shape of ``days``; NaT where NaN).

        Inside the data the real trading calendar is used; beyond the last
        observation business days (Monday-Friday, holidays ignored) are
        counted. Requires dated input.
        """
        if self.calendar is None:
            raise ValueError("tc_dates needs a price series with a DatetimeIndex")
        ends = self.ends if ends is None else np.asarray(ends, dtype=np.int64)
        days = np.asarray(days, dtype=float)
        cal = self.calendar
        last = len(cal) - 1
        out = np.full(days.shape, np.datetime64("NaT"), dtype="datetime64[ns]")
        ok = np.isfinite(days)
        pos = np.where(ok, ends + np.rint(np.where(ok, days, 0.0)).astype(np.int64), 0)
        inside = ok & (pos >= 0) & (pos <= last)
        out[inside] = cal.values[pos[inside]]
        beyond = ok & (pos > last)
        if beyond.any():
            base = np.datetime64(cal[-1].date(), "D")
            extra = np.busday_offset(base, pos[beyond] - last, roll="forward")
            out[beyond] = extra.astype("datetime64[ns]")
        before = ok & (pos < 0)
        if before.any():
            base = np.datetime64(cal[0].date(), "D")
            out[before] = np.busday_offset(base, pos[before], roll="backward").astype(
                "datetime64[ns]"
            )
        return out

    def to_frame(self, dates: bool = True) -> pd.DataFrame:
        """One row per end date.

        Columns: ``pos_conf``, ``neg_conf`` (0-1), ``n_windows``, ``n_pos``,
        ``n_neg`` (qualified fits), with the Trust indicator ``pos_trust``,
        ``neg_trust`` (0-1) and ``trust_resamples``, then ``pos_tc_<q>_days`` /
        ``neg_tc_<q>_days`` (quantiles of tc in trading days after the end
        date; ``<q>`` is ``q10``, ``q25``, ``median``...), and with ``dates``
        and dated input the same quantiles as dates (``pos_tc_<q>_date``).
        """
        data: dict[str, Any] = {
            "pos_conf": self.pos_conf,
            "neg_conf": self.neg_conf,
            "n_windows": np.full(self.ends.shape[0], float(self.n_windows)),
            "n_pos": self.n_pos.astype(float),
            "n_neg": self.n_neg.astype(float),
        }
        if self.pos_trust is not None and self.neg_trust is not None:
            data["pos_trust"] = self.pos_trust
            data["neg_trust"] = self.neg_trust
            data["trust_resamples"] = np.full(self.ends.shape[0], float(self.trust_resamples))
        for side, arr in (("pos", self.pos_tc), ("neg", self.neg_tc)):
            for j, q in enumerate(self.quantiles):
                data[f"{side}_tc_{_qname(q)}_days"] = arr[:, j]
        if dates and self.calendar is not None:
            for side, arr in (("pos", self.pos_tc), ("neg", self.neg_tc)):
                for j, q in enumerate(self.quantiles):
                    data[f"{side}_tc_{_qname(q)}_date"] = self.tc_dates(arr[:, j])
        return pd.DataFrame(data, index=self.index)

    def fits_frame(self, i: int = -1) -> pd.DataFrame:
        """Every window's fit for the ``i``-th end date, one row per window.

        ``tc_days`` is ``tc - t2`` in trading days; ``bubble`` is the sign
        (``positive`` when B < 0); ``qualified`` the filter outcome.
        """
        rows = self.fits[i]
        df = pd.DataFrame(rows, columns=list(FIT_COLUMNS))
        df.insert(0, "window", self.windows)
        df["tc_days"] = df["tc"] - float(self.ends[i])
        df["bubble"] = np.where(df["b"] < 0, "positive", np.where(df["b"] > 0, "negative", "none"))
        df["qualified"] = self.qualified[i]
        return df

    def summary(self) -> str:
        """A short text summary of the latest end date."""
        last = self.to_frame(dates=False).iloc[-1]
        label = self.index[-1]
        text = (
            f"LPPLS confidence at {label}: positive {last['pos_conf']:.2f}, "
            f"negative {last['neg_conf']:.2f} over {self.n_windows} windows "
            f"({self.windows[-1]}-{self.windows[0]} trading days)"
        )
        if "pos_trust" in last:
            text += (f"; trust positive {last['pos_trust']:.2f}, negative "
                     f"{last['neg_trust']:.2f} ({self.trust_resamples} resamples per window)")
        return text


#: Column names of :attr:`ConfidenceResult.fits`.
FIT_COLUMNS = _k.OUT_NAMES


# --------------------------------------------------------------------------- #
# Validation helpers                                                          #
# --------------------------------------------------------------------------- #
def _vector(x: Any, name: str) -> Float64Array1D:
    try:
        arr = np.asarray(x.to_numpy() if hasattr(x, "to_numpy") else x, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a sequence of numbers: {exc}") from None
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    return np.ascontiguousarray(arr)


def _check_finite(arr: Float64Array1D, name: str) -> None:
    bad = ~np.isfinite(arr)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{name} has {int(bad.sum())} missing or infinite value(s) (first at position "
            f"{first}); drop or fill them before fitting"
        )


def _bounds(value: Any, name: str, lower: float | None = None) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a pair (low, high), got {value!r}") from None
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ValueError(f"{name} must satisfy low < high (both finite), got ({lo}, {hi})")
    if lower is not None and lo < lower:
        raise ValueError(f"{name} low end must be >= {lower}, got {lo}")
    return lo, hi


def _search(
    tc_range: Any, m_range: Any, omega_range: Any, grid: Any, n_starts: int, max_iter: int
) -> tuple[Float64Array1D, Float64Array1D, tuple[int, int, int], int, int]:
    tc = _bounds(tc_range, "tc_range")
    m = _bounds(m_range, "m_range", lower=0.0)
    om = _bounds(omega_range, "omega_range", lower=0.0)
    try:
        g = tuple(int(v) for v in grid)
    except (TypeError, ValueError):
        raise ValueError(f"grid must be three positive integers, got {grid!r}") from None
    if len(g) != 3 or min(g) < 1:
        raise ValueError(f"grid must be three positive integers (tc, m, omega), got {grid!r}")
    if int(n_starts) < 1:
        raise ValueError(f"n_starts must be >= 1, got {n_starts}")
    if int(max_iter) < 1:
        raise ValueError(f"max_iter must be >= 1, got {max_iter}")
    lo = np.array([tc[0], m[0], om[0]])
    hi = np.array([tc[1], m[1], om[1]])
    return lo, hi, (g[0], g[1], g[2]), int(n_starts), int(max_iter)


# --------------------------------------------------------------------------- #
# Public functions                                                            #
# --------------------------------------------------------------------------- #
def lppls_model(
    t: Any, tc: float, m: float, omega: float, a: float, b: float, c1: float, c2: float
) -> Float64Array:
    """LPPLS log price at ``t``; ``|tc - t|`` is floored at 1e-8 (unit of ``t``).

    Parameters
    ----------
    t
        Times (any unit; the parameters must be in the same unit).
    tc, m, omega
        Critical time, power-law exponent, log-angular frequency.
    a, b, c1, c2
        Linear parameters.
    """
    tt = np.asarray(t, dtype=float)
    d = np.maximum(np.abs(tc - tt), _k.TAU_FLOOR)
    ld = np.log(d)
    return a + np.exp(m * ld) * (b + c1 * np.cos(omega * ld) + c2 * np.sin(omega * ld))


def oscillations(tc: Any, omega: Any, t1: Any, t2: Any, step: Any = 1.0) -> Float64Array:
    """Number of log-periodic oscillations between ``t1`` and ``t2`` that sampling
    every ``step`` resolves (all in one time unit; arrays broadcast).

    .. math::

        O = \\frac{\\omega}{2\\pi}
            \\ln\\frac{|t_c - t_1|}{\\max(|t_c - t_2|,\\ \\omega\\,\\Delta / \\pi)}

    and 0 when the ratio is below 1. Without the floor this is the count of
    Sornette et al. (2015, Table 1). The local period of
    ``cos(omega ln|tc - t|)`` is ``2 pi |tc - t| / omega``; where it is shorter
    than two samples (``|tc - t| < omega step / pi``) the oscillations are
    beyond the Nyquist limit and cannot be seen in the data, so they are not
    counted. The published count is unchanged whenever ``|tc - t2|`` is at
    least that horizon; it only stops a ``tc`` at or next to ``t2`` from
    passing the filter on an unbounded count.
    """
    om = np.asarray(omega, dtype=float)
    d1 = np.abs(np.asarray(tc, dtype=float) - np.asarray(t1, dtype=float))
    d2 = np.maximum(np.abs(np.asarray(tc, dtype=float) - np.asarray(t2, dtype=float)),
                    om * np.asarray(step, dtype=float) / np.pi)
    with np.errstate(divide="ignore", invalid="ignore"):
        count = om / (2.0 * np.pi) * np.log(d1 / d2)
    ok = (d2 > 0) & (d1 > d2) & (om > 0)
    return np.where(ok, count, 0.0)


def damping(m: Any, omega: Any, b: Any, c1: Any, c2: Any) -> Float64Array:
    """Damping ``m |B| / (omega |C|)``, ``|C| = sqrt(C1^2 + C2^2)`` (Sornette et al.
    2015, Table 1): at least 1 keeps the crash hazard rate non-negative
    (Bothmer & Meister 2003); inf when ``C = 0``."""
    c = np.hypot(np.asarray(c1, dtype=float), np.asarray(c2, dtype=float))
    num = np.asarray(m, dtype=float) * np.abs(np.asarray(b, dtype=float))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(c > 0, num / (np.asarray(omega, dtype=float) * c), np.inf)


def linear_params(
    t: Any, log_price: Any, tc: float, m: float, omega: float
) -> tuple[float, float, float, float, float]:
    """Exact linear parameters at given ``(tc, m, omega)`` (Filimonov & Sornette 2013).

    Solves the 4x4 normal equations of ``ln p = A + B f + C1 g + C2 h`` with
    ``f = |tc - t|^m``, ``g = f cos(omega ln|tc - t|)``, ``h = f sin(...)`` by an
    equilibrated Cholesky factorisation.

    Returns
    -------
    tuple
        ``(A, B, C1, C2, SSE)``, the SSE from the residuals. NaN when the
        design is singular (for example ``m = 0``).
    """
    tt = _vector(t, "t")
    y = _vector(log_price, "log_price")
    if tt.shape != y.shape:
        raise ValueError(f"t and log_price differ in length ({tt.size} vs {y.size})")
    if tt.size < 4:
        raise InfeasibleTestError(f"need at least 4 observations, got {tt.size}")
    _check_finite(tt, "t")
    _check_finite(y, "log_price")
    for name, v in (("tc", tc), ("m", m), ("omega", omega)):
        if not np.isfinite(v):
            raise ValueError(f"{name} must be finite, got {v}")
    out = np.empty(5)
    _k.linear_params(tt, y, float(tc), float(m), float(omega), out)
    a, b, c1, c2, sse = (float(v) for v in out)
    return a, b, c1, c2, sse


def fit(
    t: Any,
    log_price: Any,
    *,
    tc_range: tuple[float, float] = (-0.2, 0.2),
    m_range: tuple[float, float] = (0.0, 2.0),
    omega_range: tuple[float, float] = (1.0, 50.0),
    grid: tuple[int, int, int] = DEFAULT_GRID,
    n_starts: int = DEFAULT_STARTS,
    max_iter: int = DEFAULT_MAX_ITER,
) -> LpplsFit:
    """Best LPPLS fit of one window (global search over ``tc, m, omega``).

    Parameters
    ----------
    t
        Strictly increasing times, e.g. trading-day numbers. ``tc`` comes back
        in the same unit.
    log_price
        Natural log of the price at ``t``.
    tc_range
        Search interval of ``tc`` relative to the last time ``t2``, as fractions
        of the window length ``dt = t2 - t1``: the default searches
        ``[t2 - 0.2 dt, t2 + 0.2 dt]`` (FCO).
    m_range, omega_range
        Search intervals of the exponent and the log-angular frequency (FCO:
        ``[0, 2]`` and ``[1, 50]``).
    grid
        Cells of the coarse grid along (tc, m, omega).
    n_starts
        Grid cells (local minima of the grid first) from which a short local
        search is started; the best result (and a close runner-up) is then
        polished on the full window.
    max_iter
        Levenberg-Marquardt iterations allowed when polishing.

    Returns
    -------
    LpplsFit

    Raises
    ------
    InfeasibleTestError
        Fewer than :data:`MIN_OBSERVATIONS` points, a constant series, or no
        nonsingular fit.
    ValueError
        Mismatched lengths, non-finite values, non-increasing ``t`` or invalid
        search settings.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(300.0)
    >>> y = lppls_model(t, 320.0, 0.5, 8.0, 5.0, -0.05, 0.004, -0.003)
    >>> res = fit(t, y)
    >>> bool(abs(res.tc - 320.0) < 1.0)
    True
    """
    tt = _vector(t, "t")
    y = _vector(log_price, "log_price")
    if tt.shape != y.shape:
        raise ValueError(f"t and log_price differ in length ({tt.size} vs {y.size})")
    if tt.size < MIN_OBSERVATIONS:
        raise InfeasibleTestError(
            f"an LPPLS fit needs at least {MIN_OBSERVATIONS} observations, got {tt.size}"
        )
    _check_finite(tt, "t")
    _check_finite(y, "log_price")
    if not np.all(np.diff(tt) > 0):
        raise ValueError("t must be strictly increasing")
    if np.ptp(y) == 0.0:
        raise InfeasibleTestError("log_price is constant: there is nothing to fit")
    lo, hi, g, ns, mi = _search(tc_range, m_range, omega_range, grid, n_starts, max_iter)
    out = np.empty(_k.NOUT)
    _k.fit_window(tt, y, lo, hi, g[0], g[1], g[2], ns, mi, _FTOL, out)
    if not np.isfinite(out[_k.OUT_SSE]):
        raise InfeasibleTestError(
            "no nonsingular LPPLS fit in the search space (is the series constant?)"
        )
    return _fit_from_row(out, float(tt[0]), float(tt[-1]), tt.size)


def _fit_from_row(out: Float64Array1D, t1: float, t2: float, n: int) -> LpplsFit:
    return LpplsFit(
        tc=float(out[_k.OUT_TC]),
        m=float(out[_k.OUT_M]),
        omega=float(out[_k.OUT_OMEGA]),
        a=float(out[_k.OUT_A]),
        b=float(out[_k.OUT_B]),
        c1=float(out[_k.OUT_C1]),
        c2=float(out[_k.OUT_C2]),
        sse=float(out[_k.OUT_SSE]),
        t1=t1,
        t2=t2,
        n_obs=n,
        damping=float(out[_k.OUT_DAMPING]),
        oscillations=float(out[_k.OUT_OSCILLATIONS]),
        relative_error=float(out[_k.OUT_REL_ERROR]),
        nfev=int(out[_k.OUT_NFEV]),
        relative_error_price=float(out[_k.OUT_REL_ERROR_PRICE]),
    )


def window_sizes(min_window: int = 125, max_window: int = 750, window_step: int = 5) -> Int64Array:
    """Window lengths ``max_window, max_window - step, ... >= min_window`` (trading days).

    The FCO default gives 126 windows (750, 745, ..., 125).
    """
    for name, v in (("min_window", min_window), ("max_window", max_window),
                    ("window_step", window_step)):
        if isinstance(v, bool) or int(v) != v:
            raise ValueError(f"{name} must be an integer, got {v!r}")
    if int(min_window) < MIN_OBSERVATIONS:
        raise ValueError(f"min_window must be >= {MIN_OBSERVATIONS}, got {min_window}")
    if int(max_window) < int(min_window):
        raise ValueError(f"max_window ({max_window}) must be >= min_window ({min_window})")
    if int(window_step) < 1:
        raise ValueError(f"window_step must be >= 1, got {window_step}")
    return np.arange(int(max_window), int(min_window) - 1, -int(window_step), dtype=np.int64)


def _balanced_order(lengths: Int64Array) -> Int64Array:
    """Permutation placing long and short tasks alternately, so that the equal
    contiguous chunks numba's ``prange`` hands to each thread cost about the same."""
    order = np.argsort(-lengths, kind="stable")
    n = order.shape[0]
    out = np.empty(n, dtype=np.int64)
    out[0::2] = order[: (n + 1) // 2]
    out[1::2] = order[(n + 1) // 2:][::-1]
    return out


def _end_positions(ends: Any, index: pd.Index | None, n: int) -> Int64Array:
    if ends is None:
        return np.array([n - 1], dtype=np.int64)
    if isinstance(ends, (int, np.integer, str, pd.Timestamp)) or np.isscalar(ends):
        ends = [ends]
    items = list(ends)
    if not items:
        raise ValueError("ends is empty: give at least one end date or position")
    if all(isinstance(e, (int, np.integer)) and not isinstance(e, bool) for e in items):
        pos = np.asarray(items, dtype=np.int64)
        pos = np.where(pos < 0, pos + n, pos)
        if (pos < 0).any() or (pos >= n).any():
            raise ValueError(f"end positions must lie in [-{n}, {n - 1}]")
        return pos
    if not isinstance(index, pd.DatetimeIndex):
        raise ValueError(  # noqa: TRY004 - bad input is a ValueError throughout
            "ends given as dates need a price Series with a DatetimeIndex")
    stamps = pd.DatetimeIndex(pd.to_datetime(items))
    pos = index.get_indexer(stamps)
    if (pos < 0).any():
        missing = [str(s.date()) for s, p in zip(stamps, pos, strict=True) if p < 0][:3]
        raise ValueError(f"end dates not in the price index (not trading days?): {missing}")
    return pos.astype(np.int64)


def confidence(
    price: Any,
    ends: Any = None,
    *,
    min_window: int = 125,
    max_window: int = 750,
    window_step: int = 5,
    filters: FcoFilter = FCO_FILTER,
    tc_range: tuple[float, float] = (-0.2, 0.2),
    m_range: tuple[float, float] = (0.0, 2.0),
    omega_range: tuple[float, float] = (1.0, 50.0),
    grid: tuple[int, int, int] = DEFAULT_GRID,
    n_starts: int = DEFAULT_STARTS,
    max_iter: int = DEFAULT_MAX_ITER,
    quantiles: Sequence[float] = _QUANTILE_DEFAULT,
    trust_resamples: int = 0,
    trust_filter: FcoFilter = FCO_TRUST_FILTER,
    seed: int = 0,
) -> ConfidenceResult:
    """FCO LPPLS confidence (and Trust) indicators (Sornette et al. 2015) at the given
    end dates.

    Every (end date, window) pair is fitted with :func:`fit`'s engine, in
    parallel on all cores (numba threads). Time is in trading days.

    With ``trust_resamples = R > 0`` the DS LPPLS Trust is computed as well:
    for each (end date, window) the residuals of the best fit are drawn with
    replacement ``R`` times and added back to the fitted log price; each
    synthetic series is fitted like the data and tested with ``trust_filter``;
    a window's trust is the share of its ``R`` fits that pass with ``B < 0``
    (positive) or ``B > 0`` (negative), and the Trust of the end date is the
    median over the windows (see the module notes). It costs ``R`` times the
    confidence; :data:`DEFAULT_TRUST_RESAMPLES` is a cheap daily setting.

    Parameters
    ----------
    price
        Price levels (not logs), > 0, one per trading day: a ``pd.Series``
        with a ``DatetimeIndex`` (dates in the result) or an array.
    ends
        End dates ``t2``: index labels (dates) or integer positions (negative
        counts from the end). ``None``: the last observation only.
    min_window, max_window, window_step
        Window lengths in trading days (FCO: 125, 750, 5 = 126 windows).
    filters
        Qualification filter (:data:`FCO_FILTER`).
    tc_range, m_range, omega_range, grid, n_starts, max_iter
        Search settings, as in :func:`fit`.
    quantiles
        Probabilities of the critical-time quantiles to report.
    trust_resamples
        Synthetic series per window for the Trust indicator (0: no Trust).
    trust_filter
        Qualification filter of the synthetic fits (:data:`FCO_TRUST_FILTER`).
    seed
        Seed of the residual draws. Each (end date, window) has its own stream,
        keyed by ``seed``, the end position and the window length, so a reading
        does not depend on which other end dates are computed in the same call.

    Returns
    -------
    ConfidenceResult

    Raises
    ------
    ValueError
        Non-positive or missing prices, bad settings or unknown end dates.
    InfeasibleTestError
        An end date has fewer than ``max_window`` observations up to it.
    """
    index = price.index if isinstance(price, pd.Series) else None
    p = _vector(price, "price")
    _check_finite(p, "price")
    if (p <= 0).any():
        first = int(np.flatnonzero(p <= 0)[0])
        raise ValueError(
            f"price must be > 0 (log prices are fitted); {int((p <= 0).sum())} value(s) are "
            f"not, first at position {first}"
        )
    wins = window_sizes(min_window, max_window, window_step)
    n = p.size
    if n < int(wins[0]):
        raise InfeasibleTestError(
            f"the longest window ({int(wins[0])} trading days) is longer than the data "
            f"({n} observations)"
        )
    pos = _end_positions(ends, index, n)
    short = pos < wins[0] - 1
    if short.any():
        e = int(pos[short][0])
        label = index[e] if index is not None else e
        raise InfeasibleTestError(
            f"the longest window ({int(wins[0])} trading days) is longer than the data up "
            f"to end {label} ({e + 1} observations); drop earlier ends or lower max_window"
        )
    q = tuple(float(v) for v in quantiles)
    if not q or any(not 0.0 <= v <= 1.0 for v in q):
        raise ValueError(f"quantiles must be probabilities in [0, 1], got {quantiles!r}")
    if isinstance(trust_resamples, bool) or int(trust_resamples) != trust_resamples or (
            int(trust_resamples) < 0):
        raise ValueError(f"trust_resamples must be an integer >= 0, got {trust_resamples!r}")
    if isinstance(seed, bool) or int(seed) != seed or not 0 <= int(seed) < 2**32:
        raise ValueError(f"seed must be an integer in [0, 2**32), got {seed!r}")
    lo, hi, g, ns, mi = _search(tc_range, m_range, omega_range, grid, n_starts, max_iter)

    y = np.log(p)
    t = np.arange(n, dtype=float)
    n_e, n_w = pos.shape[0], wins.shape[0]
    lengths = np.tile(wins, n_e)
    first = np.repeat(pos, n_w) - lengths + 1
    order = _balanced_order(lengths)
    out_flat = np.empty((order.shape[0], _k.NOUT))
    _k.fit_windows(t, y, first[order], lengths[order], lo, hi, g[0], g[1], g[2], ns, mi,
                   _FTOL, out_flat)
    fits = np.empty_like(out_flat)
    fits[order] = out_flat
    fits = fits.reshape(n_e, n_w, _k.NOUT)

    t2 = pos.astype(float)[:, None]
    dt = (wins - 1).astype(float)[None, :]
    qual = filters._mask(fits, t2, dt)
    b = fits[..., _k.OUT_B]
    pos_q = qual & (b < 0)
    neg_q = qual & (b > 0)
    tc_days = fits[..., _k.OUT_TC] - t2
    pos_tc = _row_quantiles(tc_days, pos_q, q)
    neg_tc = _row_quantiles(tc_days, neg_q, q)
    idx = index[pos] if index is not None else pd.Index(pos, name="end")
    calendar = index if isinstance(index, pd.DatetimeIndex) else None
    trust: dict[str, Any] = {}
    n_boot = int(trust_resamples)
    if n_boot > 0:
        raw = np.empty((order.shape[0] * n_boot, _k.NOUT))
        _k.trust_fits(t, y, first[order], lengths[order], out_flat, n_boot, int(seed), lo, hi,
                      g[0], g[1], g[2], ns, mi, _FTOL, raw)
        tfits = np.empty_like(raw).reshape(order.shape[0], n_boot, _k.NOUT)
        tfits[order] = raw.reshape(order.shape[0], n_boot, _k.NOUT)
        tfits = tfits.reshape(n_e, n_w, n_boot, _k.NOUT)
        tqual = trust_filter._mask(tfits, t2[..., None], dt[..., None])
        tb = tfits[..., _k.OUT_B]
        pos_w = (tqual & (tb < 0)).mean(axis=2)
        neg_w = (tqual & (tb > 0)).mean(axis=2)
        trust = {
            "trust_resamples": n_boot,
            "pos_trust": np.median(pos_w, axis=1),
            "neg_trust": np.median(neg_w, axis=1),
            "pos_trust_windows": pos_w,
            "neg_trust_windows": neg_w,
            "trust_fits": tfits,
            "trust_filter": trust_filter,
        }
    return ConfidenceResult(
        index=idx,
        ends=pos,
        windows=wins,
        pos_conf=pos_q.sum(axis=1) / n_w,
        neg_conf=neg_q.sum(axis=1) / n_w,
        quantiles=q,
        pos_tc=pos_tc,
        neg_tc=neg_tc,
        n_pos=pos_q.sum(axis=1).astype(np.int64),
        n_neg=neg_q.sum(axis=1).astype(np.int64),
        fits=fits,
        qualified=qual,
        calendar=calendar,
        **trust,
    )


def _row_quantiles(values: Float64Array, mask: BoolArray, q: tuple[float, ...]) -> Float64Array:
    out = np.full((values.shape[0], len(q)), np.nan)
    for i in range(values.shape[0]):
        v = values[i][mask[i]]
        if v.size:
            out[i] = np.quantile(v, q)
    return out
