"""Recursive right-tailed ADF tests for explosive behaviour (PSY).

:func:`radf` computes the ADF, SADF and GSADF statistics and the BADF and BSADF
sequences of Phillips, Shi & Yu (2015) on one series; critical values live in
:mod:`indicators.cv` and date-stamping in :mod:`indicators.datestamp`, so a set
of critical values can be reused across series of the same length.

Conventions (the same as exuber's ``radf(data, minw, lag)``, so the same
arguments give the same statistics)
----------------------------------------------------------------------------
For a series ``y[0..n-1]`` and ``lag = K`` the ADF regression has rows
``t = K+1 .. n-1``::

    y[t] = a + b * y[t-1] + sum_{l=1..K} phi_l * (y[t-l] - y[t-l-1]) + e[t]

and the statistic is the t-ratio of ``b - 1`` (constant, no trend).

* ``min_window`` counts regression **rows**, so the smallest window spans
  ``min_window + K + 1`` observations. Default: the PSY rule
  ``floor((0.01 + 1.8 / sqrt(n)) * n)`` (:func:`psy_min_window`).
* BADF and BSADF have ``n - min_window - K`` points. Point ``i`` belongs to
  observation ``min_window + K + i`` (the window's last observation), so the
  first one is observation ``min_window + K`` and the last is ``n - 1``.
  :attr:`RadfResult.stat_index` gives their dates.
* BADF point ``i`` is the window starting at the first row; BSADF point ``i``
  is the largest statistic over every window that ends at that observation
  and has at least ``min_window`` rows.
* ``adf`` is the full-sample statistic (the last BADF point), ``sadf`` the
  largest BADF point and ``gsadf`` the largest BSADF point.

Information-criterion lags (an option beyond exuber): with ``ic="aic"`` or
``"bic"``, ``lag`` is the *maximum* lag and each window uses the lag
``k <= lag`` that minimises ``m log(SSR_k / m) + pen (k + 2)`` (``pen = 2`` or
``log m``) over the window's ``m`` rows, all ``k`` fitted on the same rows (the
rows available at the maximum lag, so indexing is that of ``lag``); ties go to
the shorter lag. psymonitor's ``PSY(y, swindow0, IC, adflag)`` also selects a
lag per window, but fits each ``k`` on its own sample and uses a criterion that
depends on the scale of the data; the common sample and the Gaussian
likelihood here are the textbook choice, and give the fixed-``lag`` result
whenever the criterion picks ``lag``.

Work is O(1) per (start, end) window pair for lag 0 and O(K^2) for lag K
(a QR factorisation updated one row at a time), with O(T) memory; see
:mod:`indicators._psy_kernels` for the numerics.

References
----------
Phillips, P. C. B., Shi, S. & Yu, J. (2015). Testing for multiple bubbles:
Historical episodes of exuberance and collapse in the S&P 500. *International
Economic Review*, 56(4), 1043-1078.

Phillips, P. C. B., Shi, S. & Yu, J. (2015). Testing for multiple bubbles:
Limit theory of real-time detectors. *International Economic Review*, 56(4),
1079-1134.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from bubblewatch.core.errors import DataQualityWarning
from indicators import _psy_kernels as kernels
from indicators._numba import num_threads
from indicators._psy_inputs import (
    IC_CODES,
    MIN_OBS,
    as_series,
    check_window,
    nonneg_int,
    positive_int,
    psy_min_window,
    standardise,
)
from indicators._typing import Float64Array1D

if TYPE_CHECKING:
    import pandas as pd

    from indicators.cv import CriticalValues

__all__ = [
    "MIN_OBS",
    "RadfResult",
    "psy_min_duration",
    "psy_min_window",
    "radf",
]

IcName = Literal["aic", "bic"]
#: Below this many output points (about 12M windows, ~25 ms on one core) the
#: statistics are computed on the calling thread: waking the other threads
#: can cost milliseconds on a busy machine, more than it saves.
_PARALLEL_MIN_POINTS = 5000


def psy_min_duration(n: int, delta: float = 1.0) -> int:
    """Minimum episode duration ``round(delta * log(n))`` in observations
    (Phillips, Shi & Yu 2015, the "log(T) rule").

    Examples
    --------
    >>> psy_min_duration(547), psy_min_duration(5000)
    (6, 9)
    """
    n = positive_int(n, "n")
    if not (isinstance(delta, (int, float)) and delta > 0 and math.isfinite(delta)):
        raise ValueError(f"delta must be a positive number, got {delta!r}")
    return round(delta * math.log(n))


@dataclass(frozen=True, slots=True)
class RadfResult:
    """Statistics of :func:`radf` on one series (arrays are read-only).

    Attributes
    ----------
    adf, sadf, gsadf
        Full-sample ADF, supremum ADF and generalised supremum ADF statistics.
    badf, bsadf
        Backward (start-0) ADF and backward supremum ADF sequences,
        ``n - min_window - lag`` points; point ``i`` belongs to observation
        ``offset + i``.
    series
        The tested series (log of the input when ``log=True``).
    index
        Labels of ``series`` (a pandas index when the input had one), or None.
    n, min_window, lag, ic, log
        The sample size and the arguments the statistics were computed with.
    """

    adf: float
    sadf: float
    gsadf: float
    badf: Float64Array1D
    bsadf: Float64Array1D
    series: Float64Array1D
    index: Any
    n: int
    min_window: int
    lag: int
    ic: str | None = None
    log: bool = False

    @property
    def offset(self) -> int:
        """Position in ``series`` of the first BADF/BSADF point (``min_window + lag``)."""
        return self.min_window + self.lag

    @property
    def stat_index(self) -> Any:
        """Labels (dates) of the BADF/BSADF points, or their positions."""
        if self.index is None:
            return np.arange(self.offset, self.n)
        return self.index[self.offset:]

    def label(self, position: int) -> Hashable:
        """Label (date) of observation ``position`` of ``series``."""
        if self.index is None:
            return int(position)
        return self.index[position]

    def to_frame(self) -> pd.DataFrame:
        """One row per observation: ``series``, ``badf``, ``bsadf`` (NaN before
        the first complete window), indexed like the input."""
        import pandas as pd

        full_badf = np.full(self.n, np.nan)
        full_bsadf = np.full(self.n, np.nan)
        full_badf[self.offset:] = self.badf
        full_bsadf[self.offset:] = self.bsadf
        index = self.index if self.index is not None else pd.RangeIndex(self.n)
        return pd.DataFrame(
            {"series": self.series, "badf": full_badf, "bsadf": full_bsadf}, index=index
        )

    def summary(self, cv: CriticalValues | None = None) -> str:
        """Plain-text summary; with ``cv``, the critical values and verdicts too."""
        lag_txt = f"{self.lag}" if self.ic is None else f"<= {self.lag} by {self.ic.upper()}"
        first = _fmt_label(self.label(self.offset))
        last = _fmt_label(self.label(self.n - 1))
        lines = [
            "PSY recursive ADF test (Phillips, Shi & Yu 2015)",
            f"n = {self.n}, min_window = {self.min_window}, lag = {lag_txt}"
            + (", log series" if self.log else ""),
            f"BSADF from {first} to {last} (last value {self.bsadf[-1]:.4f})",
        ]
        if cv is None:
            lines += [f"  {k:<6}{getattr(self, k):>10.4f}" for k in ("adf", "sadf", "gsadf")]
            return "\n".join(lines)
        cv.check_matches(self)
        head = "".join(f"{round(lev * 100):>9}%" for lev in cv.levels)
        lines.append(f"  {'':<6}{'stat':>10}{head}  ({cv.method_title}, {cv.reps} reps)")
        for k in ("adf", "sadf", "gsadf"):
            stat = getattr(self, k)
            crit = getattr(cv, k)
            stars = sum(stat > c for c in crit)
            cells = "".join(f"{c:>10.4f}" for c in crit)
            lines.append(f"  {k:<6}{stat:>10.4f}{cells}  {'*' * stars}")
        return "\n".join(lines)


def radf(
    y: Any,
    min_window: int | None = None,
    lag: int = 0,
    *,
    ic: IcName | None = None,
    log: bool = False,
) -> RadfResult:
    """Recursive right-tailed ADF test of Phillips, Shi & Yu (2015).

    Parameters
    ----------
    y
        One series: a 1-D array, a pandas Series (its index labels the
        results) or anything with ``to_numpy()``. No missing values.
    min_window
        Smallest window in regression rows; default :func:`psy_min_window`
        of ``len(y)``. Needs ``lag + 3 <= min_window <= len(y) - lag - 1``.
    lag
        Lagged differences in the ADF regression; with ``ic``, the largest
        lag considered.
    ic
        ``None`` for a fixed lag, or ``"aic"``/``"bic"`` to choose the lag of
        each window by that criterion (see the module docstring).
    log
        Test ``log(y)`` (prices); every value must then be positive.

    Returns
    -------
    RadfResult
        ADF, SADF and GSADF and the BADF and BSADF sequences (dimensionless
        t-ratios).

    Raises
    ------
    ValueError
        Missing or infinite values, non-positive values with ``log=True``, a
        constant series, bad arguments, or a window larger than the sample.
    InfeasibleTestError
        Fewer than :data:`MIN_OBS` observations.

    Notes
    -----
    Windows and lags follow exuber's ``radf(data, minw, lag)`` exactly (module
    docstring). The t-ratio does not change when the series is shifted or
    scaled, so the kernels work on ``(y - y[0]) * 2**k`` with ``2**k`` close
    to the reciprocal RMS of the differences.

    References
    ----------
    Phillips, P. C. B., Shi, S. & Yu, J. (2015). Testing for multiple bubbles:
    Historical episodes of exuberance and collapse in the S&P 500.
    *International Economic Review*, 56(4), 1043-1078.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.cumsum(np.random.default_rng(0).standard_normal(200))
    >>> res = radf(y)
    >>> res.min_window, res.badf.shape
    (27, (173,))
    >>> bool(res.gsadf >= res.sadf >= res.adf)
    True
    """
    values, index = as_series(y, log=log)
    n = values.shape[0]
    lag = nonneg_int(lag, "lag")
    if ic not in IC_CODES:
        raise ValueError(f"ic must be None, 'aic' or 'bic', got {ic!r}")
    minw = check_window(n, min_window, lag)
    z = standardise(values)
    npts = n - minw - lag
    badf = np.empty((1, npts))
    bsadf = np.empty((1, npts))
    code = IC_CODES[ic] if lag > 0 else kernels.IC_FIXED
    if npts >= _PARALLEL_MIN_POINTS and _n_slots() > 1:
        kernels.sequences(z.reshape(1, -1), minw, lag, code, _n_slots(), bsadf, badf)
    else:
        kernels.sequences_serial(z.reshape(1, -1), minw, lag, code, bsadf, badf)
    badf, bsadf = badf[0], bsadf[0]
    bad = int(np.isnan(badf).sum() + np.isnan(bsadf).sum())
    if bad:
        warnings.warn(
            f"{bad} BADF/BSADF points are undefined because some windows have no "
            "variation in the lagged level or fit perfectly (stale or repeated prices?); "
            "they are NaN and ignored by SADF/GSADF.",
            DataQualityWarning,
            stacklevel=2,
        )
    for arr in (badf, bsadf, values):
        arr.flags.writeable = False
    return RadfResult(
        adf=float(badf[-1]),
        sadf=float(np.nanmax(badf)) if not np.all(np.isnan(badf)) else math.nan,
        gsadf=float(np.nanmax(bsadf)) if not np.all(np.isnan(bsadf)) else math.nan,
        badf=badf,
        bsadf=bsadf,
        series=values,
        index=index,
        n=n,
        min_window=minw,
        lag=lag,
        ic=ic,
        log=bool(log),
    )


def _fmt_label(label: Hashable) -> str:
    if hasattr(label, "strftime"):
        return label.strftime("%Y-%m-%d")
    return str(label)


def _n_slots() -> int:
    return max(1, min(os.cpu_count() or 1, num_threads()))


