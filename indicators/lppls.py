"""Log-periodic power law singularity (LPPLS) fits and the FCO confidence indicator.

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

Derived quantities (Sornette et al. 2015; Demos & Sornette 2017)
    * damping ``D = m |B| / (omega |C|)`` with ``|C| = sqrt(C1^2 + C2^2)``
      (the PyPI package ``lppls`` uses the same value: its ``c`` is
      ``sign(C1) |C|`` and its damping takes the absolute value);
    * number of oscillations ``O = omega / (2 pi) ln(|tc - t1| / |tc - t2|)``,
      with absolute values as in the FCO R implementation of Fantazzini's
      ``bubble`` package, so a ``tc`` just before ``t2`` is not undefined
      (``lppls`` uses the signed ratio: its ``fit`` treats ``tc < t2`` as a
      failed search and retries);
    * relative error: the mean over the window of ``|ln p - fit| / |fit|``, the
      average of ``abs((Y - Yfit) / Yfit)`` over the window, as in the FCO
      filter of Sornette et al. (2015, Table 1) implemented by the ``bubble``
      package (``lppls`` has no relative-error filter). It is a relative error
      of the *log* price, so it depends on the price unit: a log price near
      zero (prices near 1) inflates it.

FCO confidence indicator (Sornette et al. 2015, Table 1, filter 1)
    For each end date ``t2``: windows of ``max_window`` down to ``min_window``
    trading days in steps of ``window_step``; search space
    ``tc in [t2 - 0.2 dt, t2 + 0.2 dt]``, ``m in [0, 2]``, ``omega in [1, 50]``;
    a fit qualifies when ``m in [0.01, 1.2]``, ``omega in [2, 25]``,
    ``tc in [t2 - 0.05 dt, t2 + 0.1 dt]``, ``O >= 2.5``, ``D >= 0.8`` and the
    relative error is at most 0.05 (all bounds inclusive). Positive-bubble
    confidence is the share of *all* windows whose fit qualifies with
    ``B < 0``; negative-bubble confidence the share with ``B > 0``. (``lppls``
    divides by the number of fits of that sign instead and uses other default
    filters.)

References
----------
Filimonov, V. & Sornette, D. (2013). A stable and robust calibration scheme of
the log-periodic power law model. Physica A 392(17), 3698-3707.

Sornette, D., Demos, G., Zhang, Q., Cauwels, P., Filimonov, V. & Zhang, Q.
(2015). Real-time prediction and post-mortem analysis of the Shanghai 2015
stock market bubble and crash. Journal of Investment Strategies 4(4), 77-95.

Demos, G. & Sornette, D. (2017). Birth or burst of financial bubbles: which one
is easier to diagnose? Quantitative Finance 17(5), 657-675.

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
    "FCO_FILTER",
    "MIN_OBSERVATIONS",
    "ConfidenceResult",
    "FcoFilter",
    "LpplsFit",
    "confidence",
    "fit",
    "linear_params",
    "lppls_model",
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
_FTOL = 1e-10


# --------------------------------------------------------------------------- #
# Results                                                                     #
# --------------------------------------------------------------------------- #
@dataclass(frozen=True, slots=True)
class FcoFilter:
    """Qualification filter of a fit (Sornette et al. 2015, Table 1, filter 1).

    Intervals are closed. ``tc`` is relative to the window end, as a fraction of
    the window length ``dt = t2 - t1``: ``(-0.05, 0.1)`` means
    ``t2 - 0.05 dt <= tc <= t2 + 0.1 dt``.
    """

    m: tuple[float, float] = (0.01, 1.2)
    omega: tuple[float, float] = (2.0, 25.0)
    tc: tuple[float, float] = (-0.05, 0.1)
    min_oscillations: float = 2.5
    min_damping: float = 0.8
    max_relative_error: float = 0.05

    def __post_init__(self) -> None:
        for name in ("m", "omega", "tc"):
            lo, hi = getattr(self, name)
            if not (np.isfinite(lo) and np.isfinite(hi) and lo <= hi):
                raise ValueError(f"FcoFilter.{name} must be a finite (low, high) with low <= high")

    def qualifies(self, fit: LpplsFit) -> bool:
        """Whether ``fit`` passes every condition."""
        row = np.empty((1, _k.NOUT))
        row[0, _k.OUT_TC] = fit.tc
        row[0, _k.OUT_M] = fit.m
        row[0, _k.OUT_OMEGA] = fit.omega
        row[0, _k.OUT_DAMPING] = fit.damping
        row[0, _k.OUT_OSCILLATIONS] = fit.oscillations
        row[0, _k.OUT_REL_ERROR] = fit.relative_error
        return bool(self._mask(row, np.array([fit.t2]), np.array([fit.dt]))[0])

    def _mask(self, out: Float64Array, t2: Float64Array, dt: Float64Array) -> BoolArray:
        """Vectorised test over kernel output rows (``out[..., NOUT]``)."""
        m = out[..., _k.OUT_M]
        om = out[..., _k.OUT_OMEGA]
        rel_tc = (out[..., _k.OUT_TC] - t2) / dt
        with np.errstate(invalid="ignore"):
            ok = (
                (m >= self.m[0]) & (m <= self.m[1])
                & (om >= self.omega[0]) & (om <= self.omega[1])
                & (rel_tc >= self.tc[0]) & (rel_tc <= self.tc[1])
                & (out[..., _k.OUT_OSCILLATIONS] >= self.min_oscillations)
                & (out[..., _k.OUT_DAMPING] >= self.min_damping)
                & (out[..., _k.OUT_REL_ERROR] <= self.max_relative_error)
            )
        return np.asarray(ok, dtype=bool)


#: The ETH Zurich Financial Crisis Observatory filter (the default).
FCO_FILTER = FcoFilter()


@dataclass(frozen=True, slots=True)
class LpplsFit:
    """The best LPPLS fit of one window.

    ``tc``, ``t1``, ``t2`` are in the unit of the ``t`` passed to :func:`fit`
    (trading days in :func:`confidence`); ``a, b, c1, c2`` are the linear
    parameters for that unit; ``sse`` is the sum of squared residuals of the
    log price. ``nfev`` counts profiled-cost evaluations (grid cells included).
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
        ``n_neg`` (qualified fits), ``pos_tc_<q>_days`` / ``neg_tc_<q>_days``
        (quantiles of tc in trading days after the end date; ``<q>`` is
        ``q10``, ``q25``, ``median``...), and with ``dates`` and dated input the
        same quantiles as dates (``pos_tc_<q>_date``).
        """
        data: dict[str, Any] = {
            "pos_conf": self.pos_conf,
            "neg_conf": self.neg_conf,
            "n_windows": np.full(self.ends.shape[0], float(self.n_windows)),
            "n_pos": self.n_pos.astype(float),
            "n_neg": self.n_neg.astype(float),
        }
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
        return (
            f"LPPLS confidence at {label}: positive {last['pos_conf']:.2f}, "
            f"negative {last['neg_conf']:.2f} over {self.n_windows} windows "
            f"({self.windows[-1]}-{self.windows[0]} trading days)"
        )


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
) -> ConfidenceResult:
    """FCO LPPLS confidence indicator (Sornette et al. 2015) at the given end dates.

    Every (end date, window) pair is fitted with :func:`fit`'s engine, in
    parallel on all cores (numba threads). Time is in trading days.

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
    )


def _row_quantiles(values: Float64Array, mask: BoolArray, q: tuple[float, ...]) -> Float64Array:
    out = np.full((values.shape[0], len(q)), np.nan)
    for i in range(values.shape[0]):
        v = values[i][mask[i]]
        if v.size:
            out[i] = np.quantile(v, q)
    return out
