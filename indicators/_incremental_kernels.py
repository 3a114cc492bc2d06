"""Kernels of incremental updates: the PSY statistics of single end dates.

A new observation adds one BSADF point: the largest ADF statistic over the
windows that end there, O(T) windows. :func:`end_points_lag0` computes those
points for lag 0 with *the same floating-point operations in the same order*
as the whole-sequence kernel on one thread
(:func:`indicators._psy_kernels.sequences_serial`): for every block of window
starts it accumulates the block's running sums from its first row up to the
end row (:func:`~indicators._psy_kernels.block_lag0_python`), walks the
block's starts in the groups of one or four the whole-sequence kernel uses at
that end, and calls the same tile kernels restricted to the one end. So the
stored statistics of an incremental update equal those of a full
recomputation bit for bit. Cost: O(T) windows plus O(T^2 / B) additions for
the block sums (B = min(min_window, 64) starts per block), about 0.1 ms for
T = 1300.

Kernels follow :mod:`indicators._numba`: plain loops named ``*_python`` bound
with ``jit``, serial (no ``prange``) and nogil, filling preallocated outputs.
"""

from __future__ import annotations

import math

import numpy as np

from indicators._numba import jit
from indicators._psy_kernels import (
    TILE,
    fractions_to_t,
    length_tables,
    tile_lag0_four,
    tile_lag0_one,
)


def end_points_lag0_python(y, minw, ends, bsadf, badf):
    """BSADF and BADF (lag 0) at observations ``ends`` of the standardised
    series ``y`` into ``bsadf[k]``, ``badf[k]`` (NaN where undefined).

    ``ends[k]`` is an observation position with ``ends[k] >= minw``; the
    point equals the whole-sequence kernel's point ``ends[k] - minw`` on the
    same ``y`` (see the module docstring).
    """
    n = y.shape[0]
    nrow = n - 1
    npts = nrow - minw + 1
    nb = max(1, min(minw, 64))
    inv_len = np.empty(nrow + 1)
    ic_pow = np.ones((1, 1))
    length_tables(nrow, 0, 0, inv_len, ic_pow)
    psum = np.empty((5, nrow + 1))
    nmax = np.full(npts, -1.0)
    dmax = np.zeros(npts)
    one_n = np.empty(1)
    one_t = np.empty(1)
    for k in range(ends.shape[0]):
        e = ends[k] - 1  # the window's last regression row
        i = e - minw + 1
        nmax[i] = -1.0
        dmax[i] = 0.0
        badf[k] = np.nan
        j0 = 0
        while j0 <= e - minw + 1:
            c = y[j0]
            psum[0, 0] = 0.0
            psum[1, 0] = 0.0
            psum[2, 0] = 0.0
            psum[3, 0] = 0.0
            psum[4, 0] = 0.0
            for r in range(j0, e + 1):
                q = r - j0
                xv = y[r] - c
                dv = y[r + 1] - y[r]
                psum[0, q + 1] = psum[0, q] + xv
                psum[1, q + 1] = psum[1, q] + dv
                psum[2, q + 1] = psum[2, q] + xv * xv
                psum[3, q + 1] = psum[3, q] + xv * dv
                psum[4, q + 1] = psum[4, q] + dv * dv
            jend = min(j0 + nb, npts)
            base = j0 + minw - 1
            e0 = base + ((e - base) // TILE) * TILE
            e1 = min(e0 + TILE, nrow)
            j = j0
            while j < jend:
                lo = max(e0, j + minw - 1)
                if lo >= e1:
                    break
                lo4 = max(e0, j + minw + 2)
                if j + 3 < jend and lo4 < e1:
                    for q in range(3):
                        first = max(e0, j + q + minw - 1)
                        if first < lo4 and first <= e < lo4:
                            tile_lag0_one(psum, inv_len, nmax, dmax, j0, j + q, minw, e, e + 1)
                    if lo4 <= e:
                        tile_lag0_four(psum, inv_len, nmax, dmax, j0, j, minw, e, e + 1)
                    j += 4
                else:
                    if lo <= e:
                        tile_lag0_one(psum, inv_len, nmax, dmax, j0, j, minw, e, e + 1)
                    j += 1
            if j0 == 0:
                pe = e + 1
                sx = psum[0, pe]
                sd = psum[1, pe]
                il0 = inv_len[pe]
                cxx = psum[2, pe] - sx * sx * il0
                cxd = psum[3, pe] - sx * sd * il0
                cdd = psum[4, pe] - sd * sd * il0
                den = cxx * cdd - cxd * cxd
                if cxx > 0.0 and den > 0.0:
                    qq = cxd * abs(cxd) * (minw + i - 2.0) / den
                    badf[k] = math.sqrt(qq) if qq >= 0.0 else -math.sqrt(-qq)
            j0 += nb
        one_n[0] = nmax[i]
        one_t[0] = dmax[i]
        fractions_to_t(one_n, one_t, one_t)
        bsadf[k] = one_t[0]


end_points_lag0 = jit(end_points_lag0_python)
