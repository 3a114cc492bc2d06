"""Simulations behind the PSY critical values (pure computation, no I/O).

:func:`random_walks` draws the random-walk null paths *time-major*: the value
of path ``b`` at time ``t`` depends only on the first ``(t + 1) * reps`` normal
draws, so a simulation of length ``n`` contains the simulation of every
shorter length with the same seed and replications. A critical value for
observation ``t`` is then the same number whatever the sample size it was
simulated for, which the point-in-time monitors rely on.

:func:`simulate_family` runs the kernel :func:`indicators._psy_kernels.window_family`
over such paths: for every minimum window ``w`` in a range at once it gives
the BSADF, SADF and GSADF statistics of the sample ``y[0..t]`` at chosen
``(w, t)`` and the BADF sequence. One simulation of length ``N`` thereby holds
the exact Monte Carlo distribution of every statistic for every sample size
up to ``N`` with the minimum window of the PSY rule (Phillips, Shi & Yu
2015), whatever that window is.

References
----------
Phillips, P. C. B., Shi, S. & Yu, J. (2015). Testing for multiple bubbles:
Historical episodes of exuberance and collapse in the S&P 500. *International
Economic Review*, 56(4), 1043-1078.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from indicators import _psy_kernels as kernels
from indicators._psy_inputs import MIN_OBS, psy_min_window

__all__ = [
    "LEVELS",
    "FamilyDraws",
    "pointwise_quantiles",
    "psy_band_end",
    "psy_first_n",
    "random_walks",
    "simulate_family",
]

#: Significance levels of every critical value (as quantiles of the null).
LEVELS: tuple[float, float, float] = (0.90, 0.95, 0.99)
#: Paths per kernel call: bounds the working memory and paces progress reports.
_PATHS_PER_CALL = 64


def psy_first_n(lag: int) -> int:
    """Smallest sample size the PSY test accepts with the PSY window and ``lag``
    (at least :data:`~indicators._psy_inputs.MIN_OBS` observations, a window of
    at least ``lag + 3`` rows that fits the sample).

    Examples
    --------
    >>> [psy_first_n(k) for k in range(5)]
    [10, 10, 10, 11, 15]
    """
    n = MIN_OBS
    while not lag + 3 <= psy_min_window(n) <= n - lag - 1:
        n += 1
    return n


def psy_band_end(n: int) -> int:
    """Largest sample size whose PSY minimum window equals that of ``n``.

    Examples
    --------
    >>> psy_band_end(5000)
    5031
    """
    w = psy_min_window(n)
    while psy_min_window(n + 1) == w:
        n += 1
    return n


def random_walks(reps: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """``reps`` random walks ``cumsum(N(0, 1))`` of length ``n`` (``reps x n``),
    drawn time-major so that the first ``m`` columns do not depend on ``n``."""
    eps = rng.standard_normal((n, reps))
    np.cumsum(eps, axis=0, out=eps)
    return np.ascontiguousarray(eps.T)


@dataclass(frozen=True, slots=True)
class FamilyDraws:
    """Raw statistics of :func:`simulate_family`, one row per replication.

    Attributes
    ----------
    badf
        ``reps x n``: the BADF statistic at each observation (NaN before the
        first window of ``wmin`` rows).
    bsadf, sadf, gsadf
        ``reps x len(q_t)``: at query ``j`` (window ``w``, observation
        ``q_t[j]``), the BSADF statistic at that observation and the SADF and
        GSADF statistics of the sample up to it, with minimum window ``w``.
    """

    badf: np.ndarray
    bsadf: np.ndarray
    sadf: np.ndarray
    gsadf: np.ndarray


def query_layout(windows: Sequence[int], points: Sequence[np.ndarray]) -> tuple[
        np.ndarray, np.ndarray]:
    """CSR layout ``(q_ptr, q_t)`` of sorted query observations per window
    (``windows`` consecutive, ``points[k]`` the observations for ``windows[k]``)."""
    q_ptr = np.zeros(len(windows) + 1, dtype=np.int64)
    q_ptr[1:] = np.cumsum([len(p) for p in points])
    q_t = np.concatenate([np.sort(np.asarray(p, dtype=np.int64)) for p in points]) \
        if points else np.empty(0, dtype=np.int64)
    return q_ptr, np.ascontiguousarray(q_t)


def simulate_family(
    paths: np.ndarray,
    wmin: int,
    wmax: int,
    lag: int,
    points: Sequence[np.ndarray],
    *,
    progress: Callable[[int, int], None] | None = None,
) -> FamilyDraws:
    """Statistics of every row of ``paths`` for the windows ``wmin .. wmax``.

    Parameters
    ----------
    paths
        ``reps x n`` series (random walks for Monte Carlo critical values).
    wmin, wmax
        Smallest and largest minimum window (regression rows), ``lag + 3 <=
        wmin <= wmax <= n - lag - 1``.
    lag
        Fixed number of lagged differences.
    points
        ``points[k]``: the observations ``t >= wmin + k + lag`` at which
        window ``wmin + k`` is read (any order, no duplicates).
    progress
        Called as ``progress(done, reps)`` after each batch of paths.

    Returns
    -------
    FamilyDraws
        float32 arrays; the queries of each window in increasing ``t``.
    """
    reps, n = paths.shape
    if not lag + 3 <= wmin <= wmax <= n - lag - 1:
        raise ValueError(f"need lag + 3 <= wmin <= wmax <= n - lag - 1, got lag={lag}, "
                         f"wmin={wmin}, wmax={wmax}, n={n}")
    if len(points) != wmax - wmin + 1:
        raise ValueError(f"points must hold one array per window {wmin}..{wmax}")
    for k, pts in enumerate(points):
        pts = np.asarray(pts)
        if pts.size and (pts.min() < wmin + k + lag or pts.max() >= n
                         or np.unique(pts).size != pts.size):
            raise ValueError(f"observations for window {wmin + k} must be distinct and in "
                             f"[{wmin + k + lag}, {n - 1}]")
    q_ptr, q_t = query_layout(range(wmin, wmax + 1), points)
    nq = q_t.shape[0]
    badf = np.empty((reps, n), dtype=np.float32)
    out = {k: np.empty((reps, nq), dtype=np.float32) for k in ("bsadf", "sadf", "gsadf")}
    for s in range(0, reps, _PATHS_PER_CALL):
        e = min(reps, s + _PATHS_PER_CALL)
        kernels.window_family(np.ascontiguousarray(paths[s:e]), wmin, wmax, lag, q_ptr, q_t,
                              out["bsadf"][s:e], out["sadf"][s:e], out["gsadf"][s:e],
                              badf[s:e])
        if progress is not None:
            progress(e, reps)
    return FamilyDraws(badf=badf, **out)


def pointwise_quantiles(draws: np.ndarray, probs: Sequence[float]) -> np.ndarray:
    """Quantiles (R type 7, numpy ``"linear"``, NaN ignored) of each column of
    ``draws`` (``reps x m``): an ``m x len(probs)`` array."""
    probs_arr = np.asarray(probs, dtype=np.float64)
    m = draws.shape[1]
    out = np.empty((m, probs_arr.shape[0]))
    step = max(1, (1 << 24) // max(1, draws.shape[0]))  # ~64 MB of float32 per block
    for s in range(0, m, step):
        e = min(m, s + step)
        block = np.ascontiguousarray(draws[:, s:e].T)
        kernels.row_quantiles(block, probs_arr, False, out[s:e])
    return out
