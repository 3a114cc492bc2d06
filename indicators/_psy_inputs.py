"""Input checks shared by the PSY statistic (:mod:`indicators.psy`) and its
critical values (:mod:`indicators.cv`): coercion of a series, the minimum
window of Phillips, Shi & Yu (2015), lag-selection codes and integer checks.
Every check raises a ``ValueError`` (or :class:`InfeasibleTestError` for too
little data) that says what to change."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from bubblewatch.core.errors import InfeasibleTestError
from indicators import _psy_kernels as kernels

#: Fewest observations :func:`radf` accepts.
MIN_OBS = 10


IC_CODES = {None: kernels.IC_FIXED, "aic": kernels.IC_AIC, "bic": kernels.IC_BIC}


def psy_min_window(n: int) -> int:
    """Minimum window of Phillips, Shi & Yu (2015): ``floor((0.01 + 1.8/sqrt(n)) n)``.

    Parameters
    ----------
    n
        Number of observations.

    Returns
    -------
    int
        Minimum number of regression rows in a window.

    Examples
    --------
    >>> psy_min_window(547), psy_min_window(1680), psy_min_window(5000)
    (47, 90, 177)
    """
    n = positive_int(n, "n")
    return math.floor((0.01 + 1.8 / math.sqrt(n)) * n)


def as_series(y: Any, *, log: bool = False, name: str = "y") -> tuple[np.ndarray, Any]:
    """Coerce ``y`` to a float64 vector (and its index, if any) and check it.

    Raises a ``ValueError`` that says what to change for 2-D input, missing or
    infinite values, non-positive values when ``log`` is set, and constant
    series; an :class:`InfeasibleTestError` when there are fewer than
    :data:`MIN_OBS` observations.
    """
    index = getattr(y, "index", None)
    if hasattr(y, "to_numpy"):
        if getattr(y, "ndim", 1) == 2:
            if y.shape[1] != 1:
                raise ValueError(
                    f"{name} must be one series; got a frame with {y.shape[1]} columns "
                    "(select one column)"
                )
            y = y.iloc[:, 0]
        raw = y.to_numpy()
    else:
        raw = y
        index = None
    try:
        values = np.array(raw, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric: {exc}") from None
    if values.ndim == 2 and 1 in values.shape:
        values = values.reshape(-1)
    if values.ndim != 1:
        raise ValueError(f"{name} must be one series (1-D); got shape {values.shape}")
    n = values.shape[0]
    bad = ~np.isfinite(values)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        where = f"position {first}" + (f" ({index[first]})" if index is not None else "")
        raise ValueError(
            f"{name} has {int(bad.sum())} missing or infinite values (first at {where}); "
            "drop or fill them before testing"
        )
    if log:
        nonpos = values <= 0
        if nonpos.any():
            first = int(np.flatnonzero(nonpos)[0])
            where = f"position {first}" + (f" ({index[first]})" if index is not None else "")
            raise ValueError(
                f"log transform needs positive values, but {name} has {int(nonpos.sum())} "
                f"values <= 0 (first at {where}, value {values[first]!r}); fix or drop them, "
                "or pass log=False"
            )
        values = np.log(values)
    if n < MIN_OBS:
        raise InfeasibleTestError(
            f"{name} has {n} observations; the PSY test needs at least {MIN_OBS} "
            "(use a longer history or a higher sampling frequency)"
        )
    if np.ptp(values) == 0.0:
        raise ValueError(
            f"{name} is constant (every value is {values[0]!r}); the ADF t-statistic is "
            "undefined for a series without variation"
        )
    dy = np.diff(values)
    if np.ptp(dy) == 0.0:
        raise ValueError(
            f"{name} is a straight line (every difference is {dy[0]!r}); the ADF "
            "regression fits it perfectly and its t-statistic is undefined"
        )
    if index is not None and len(index) != n:
        index = None
    return values, index


def check_window(n: int, min_window: int | None, lag: int) -> int:
    """Resolve and check the minimum window (regression rows) for ``n`` and ``lag``."""
    if min_window is None:
        minw = psy_min_window(n)
        if minw < lag + 3:
            raise InfeasibleTestError(
                f"the PSY minimum window for n={n} is {minw} rows, too few for lag={lag} "
                f"(each regression needs at least lag + 3 = {lag + 3} rows); use a longer "
                "series, a smaller lag or an explicit min_window"
            )
    else:
        minw = positive_int(min_window, "min_window")
        if minw < lag + 3:
            raise ValueError(
                f"min_window={minw} is too small for lag={lag}: each regression needs at "
                f"least lag + 3 = {lag + 3} rows; raise min_window or lower lag"
            )
    most = n - lag - 1
    if minw > most:
        raise ValueError(
            f"min_window={minw} is larger than the sample allows: with n={n} observations "
            f"and lag={lag} there are {most} regression rows; lower min_window (or lag) "
            "or use a longer series"
        )
    return minw


def standardise(values: np.ndarray) -> np.ndarray:
    """``(values - values[0]) * 2**k`` with ``2**k`` near 1 / RMS of the
    differences: exact rescaling that keeps the kernels' sums near unit size."""
    z = values - values[0]
    rms = float(np.sqrt(np.mean(np.diff(z) ** 2)))
    if rms > 0 and math.isfinite(rms):
        z *= 2.0 ** (-round(math.log2(rms)))
    return np.ascontiguousarray(z)


def positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        # ValueError, not TypeError: bad input raises ValueError throughout
        raise ValueError(f"{name} must be a positive integer, got {value!r}")  # noqa: TRY004
    if value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def nonneg_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    return int(value)


def longest_flat_run(values: np.ndarray) -> tuple[int, int]:
    """``(first position, count)`` of the longest run of equal consecutive
    values of ``values`` (a flat stretch: stale prices); ``(0, 1)`` when no
    two consecutive values are equal.

    >>> longest_flat_run(np.array([1.0, 2.0, 2.0, 2.0, 3.0, 3.0]))
    (1, 3)
    """
    same = np.diff(values) == 0.0
    if not same.any():
        return 0, 1
    edges = np.diff(np.concatenate(([0], same.view(np.int8), [0])))
    starts = np.flatnonzero(edges == 1)
    runs = np.flatnonzero(edges == -1) - starts
    k = int(np.argmax(runs))
    return int(starts[k]), int(runs[k]) + 1
