"""Numerical kernels of the real-time monitors (see :mod:`indicators.cusum`).

Every kernel is a plain-Python loop named ``*_python`` bound once as
``name = jit(name_python)``; :mod:`indicators.cusum`, the simulation of
the boundary constants (``indicators/cusum_tables/simulate_tables.py``)
and ``benchmarks/sim_cusum.py`` call only the bound names, so the
detector that is calibrated is the detector that is run.

Index convention (all kernels)
------------------------------
``y[0 .. T-1]`` is the monitored series (log prices), ``n`` the number of
*returns* in the training sample (the training sample is ``y[0 .. n]``, so
``n + 1`` observations), and the monitoring points are the observations
``t = n + 1 .. t_end``; output slot ``k = t - n - 1``. Returns are
``dy[t] = y[t] - y[t - 1]`` for ``t >= 1``.
"""

from __future__ import annotations

import math

import numpy as np

from indicators._numba import jit, prange

#: Codes for the variance of the Homm-Breitung detector.
SIGMA_RECURSIVE = 0
SIGMA_TRAINING = 1
SIGMA_KNOWN = 2


def walk_python(shocks, y):
    """``y[0] = 0``, ``y[t + 1] = y[t] + shocks[t]``: a simulated path."""
    y[0] = 0.0
    for t in range(shocks.shape[0]):
        y[t + 1] = y[t] + shocks[t]


walk = jit(walk_python)


# --------------------------------------------------------------------------- #
# Homm & Breitung (2012) CUSUM                                                #
# --------------------------------------------------------------------------- #
def hb_detector_python(y, n, t_end, sigma_mode, stat, scale):
    """Homm-Breitung detector ``S_t = (y[t] - y[n]) / sigma_t`` for
    ``t = n+1 .. t_end`` into ``stat[k]`` and ``sigma_t`` into ``scale[k]``.

    ``sigma_mode``: :data:`SIGMA_RECURSIVE` uses
    ``sigma_t^2 = (1/t) sum_{j=1..t} dy[j]^2`` (every return up to ``t``, no
    drift removed), :data:`SIGMA_TRAINING` the same average over the
    training returns ``j = 1 .. n`` only, :data:`SIGMA_KNOWN` ``sigma = 1``.
    """
    ss = 0.0
    for j in range(1, n + 1):
        d = y[j] - y[j - 1]
        ss += d * d
    s_train = math.sqrt(ss / n)
    for t in range(n + 1, t_end + 1):
        d = y[t] - y[t - 1]
        ss += d * d
        if sigma_mode == SIGMA_RECURSIVE:
            s = math.sqrt(ss / t)
        elif sigma_mode == SIGMA_TRAINING:
            s = s_train
        else:
            s = 1.0
        k = t - n - 1
        scale[k] = s
        stat[k] = (y[t] - y[n]) / s


hb_detector = jit(hb_detector_python)


def crossing_excess_python(stat, n, out):
    """``out[k] = max_{k' <= k} (Z^2 - log(t'/n))`` over the points with
    ``Z = stat[k'] / sqrt(t') > 0`` (``t' = n + 1 + k'``), ``-inf`` before the
    first such point.

    The one-sided boundary ``sqrt(t (b + log(t/n)))`` of Homm & Breitung
    (2012) is crossed by time ``t`` exactly when ``out[t - n - 1] > b``, so
    the ``1 - alpha`` quantile of ``out[k]`` over null paths is the constant
    ``b`` for a monitoring horizon ending at ``t = n + 1 + k``.
    """
    run = -np.inf
    for k in range(stat.shape[0]):
        t = n + 1 + k
        s = stat[k]
        if s > 0.0:
            v = s * s / t - math.log(t / n)
            run = max(run, v)
        out[k] = run


crossing_excess = jit(crossing_excess_python)


# --------------------------------------------------------------------------- #
# Astill, Harvey, Leybourne, Taylor & Zu (2023): spot-variance CUSUM          #
# --------------------------------------------------------------------------- #
def spot_variance_python(y, t0, t_end, weights, out):
    """One-sided kernel spot variance of the returns:
    ``out[k] = sum_{s=0..N} weights[s] dy[t - s]^2`` for ``t = t0 .. t_end``
    (``k = t - t0``, ``N = len(weights) - 1``, needs ``t0 - N >= 1``).

    Only the current and past returns enter, so the estimate is available in
    real time at ``t``.
    """
    nw = weights.shape[0]
    for t in range(t0, t_end + 1):
        acc = 0.0
        for s in range(nw):
            d = y[t - s] - y[t - s - 1]
            acc += weights[s] * d * d
        out[t - t0] = acc


spot_variance = jit(spot_variance_python)


def ahltz_detector_python(y, n, t_end, weights, stat, scale):
    """Volatility-robust CUSUM ``S_t = sum_{j=n+1..t} dy[j] / sigma_j`` with
    ``sigma_j^2`` the one-sided kernel spot variance
    (:func:`spot_variance_python`); ``scale[k] = sigma_t``. A zero spot
    variance (a flat stretch as long as the kernel) gives NaN from there on.
    """
    npts = t_end - n
    spot_variance(y, n + 1, t_end, weights, scale)
    acc = 0.0
    for k in range(npts):
        v = scale[k]
        s = math.sqrt(v) if v > 0.0 else np.nan
        scale[k] = s
        acc += (y[n + 1 + k] - y[n + k]) / s
        stat[k] = acc


ahltz_detector = jit(ahltz_detector_python)


def sim_excess_python(shocks, n, ends, sigma_mode, weights, out):
    """Null distribution of the crossing constant of the Homm-Breitung
    boundary, for the HB detector (``weights`` empty; ``sigma_mode`` as in
    :func:`hb_detector_python`) or the spot-variance detector of AHLTZ
    (``weights`` the kernel weights; ``sigma_mode`` ignored).

    Row ``r`` of ``shocks`` (``reps x T``) gives the returns ``dy[1..T]`` of a
    random walk (any volatility path); ``out[r, h]`` is the largest excess
    (see :func:`crossing_excess_python`) up to the monitoring end ``ends[h]``
    (an observation index ``<= T``). Rows run in parallel.
    """
    reps = shocks.shape[0]
    tmax = shocks.shape[1]
    npts = tmax - n
    for r in prange(reps):
        y = np.empty(tmax + 1)
        walk(shocks[r], y)
        stat = np.empty(npts)
        scale = np.empty(npts)
        run = np.empty(npts)
        if weights.shape[0] == 0:
            hb_detector(y, n, tmax, sigma_mode, stat, scale)
        else:
            ahltz_detector(y, n, tmax, weights, stat, scale)
        crossing_excess(stat, n, run)
        for h in range(ends.shape[0]):
            out[r, h] = run[ends[h] - n - 1]


sim_excess = jit(sim_excess_python, parallel=True)



# --------------------------------------------------------------------------- #
# Breitung & Diegel (2025): (weighted) LBI / CUSUM detectors                  #
# --------------------------------------------------------------------------- #
def bd_detector_python(y, n, npts, horizon, c_bar, sigma, stat):
    """Breitung-Diegel monitoring detector for ``k = 1 .. npts`` (``npts <=
    horizon``, the observations monitored so far):
    ``stat[k-1] = (sigma sqrt(Tm))^-1 sum_{i=1..k} exp(-c_bar (k-i)/Tm) dy[n+i]``
    with ``Tm = horizon``; ``c_bar = 0`` gives the plain CUSUM (LBI) partial
    sum of the CUSUM and mCUSUM detectors, ``c_bar > 0`` the exponentially
    weighted wCUSUM detector divided by its current weight (an
    Ornstein-Uhlenbeck process in the limit)."""
    decay = math.exp(-c_bar / horizon)
    norm = 1.0 / (sigma * math.sqrt(horizon))
    acc = 0.0
    for k in range(npts):
        t = n + 1 + k
        acc = acc * decay + (y[t] - y[t - 1]) * norm
        stat[k] = acc


bd_detector = jit(bd_detector_python)


def sim_bd_sup_python(shocks, c_bar, slope, out):
    """``out[r] = max_k stat[k] / (1 + slope k / Tm)`` of the Breitung-Diegel
    detector over the rows of ``shocks`` (``reps x Tm`` standard normal
    returns, unit variance known): the null distribution of the boundary
    constant (``slope = 2`` for the linear CUSUM boundary, ``0`` for the
    constant mCUSUM/wCUSUM boundaries)."""
    reps = shocks.shape[0]
    tm = shocks.shape[1]
    for r in prange(reps):
        y = np.empty(tm + 1)
        walk(shocks[r], y)
        stat = np.empty(tm)
        bd_detector(y, 0, tm, tm, c_bar, 1.0, stat)
        best = -np.inf
        for k in range(tm):
            v = stat[k] / (1.0 + slope * (k + 1) / tm)
            best = max(best, v)
        out[r] = best


sim_bd_sup = jit(sim_bd_sup_python, parallel=True)
