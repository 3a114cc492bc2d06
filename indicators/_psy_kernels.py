"""Numerical kernels of the PSY explosiveness engine (see :mod:`indicators.psy`).

Every kernel is a plain-Python loop named ``*_python`` bound once as
``name = jit(name_python)``; :mod:`indicators.psy` and :mod:`indicators.cv`
call only the bound names. Kernels take ndarrays and scalars and fill
preallocated outputs; nothing of size ``T x T`` is ever allocated.

Regression layout (identical to exuber's ``radf(data, minw, lag)``)
--------------------------------------------------------------------
For a series ``y[0..n-1]`` and lag ``K`` the regression rows are
``r = 0 .. n-2-K`` with ``t = r + 1 + K``::

    dy[t] = a + rho * y[t-1] + sum_{l=1..K} phi_l * dy[t-l] + e[t]

(regressing ``y[t]`` instead of ``dy[t]`` gives the same t-statistic for
``rho = beta - 1``). A window is a run of consecutive rows ``start .. end``
with at least ``minw`` rows; output point ``i = end - minw + 1`` belongs to
observation ``minw + K + i``. The BADF point ``i`` is the window starting at
row 0, the BSADF point ``i`` the largest statistic over all starts.

Running sums in blocks (lag 0 and lag chosen by AIC/BIC)
--------------------------------------------------------
Window sums are differences of running sums. The running sums restart for
every block of at most ``minw`` consecutive window starts, from the block's
first row and centred on the lagged level there, so a window's sums are the
difference of a sum over the window plus fewer than ``minw`` rows and a sum
over fewer than ``minw`` rows: as accurate as summing each window afresh,
without the cancellation of global prefix sums on long price series. With the
sums in hand every (start, end) pair costs O(1) for lag 0, independent of the
window length, and the inner loop over window ends has no loop-carried
dependency, so LLVM vectorises it. The lag-0 kernel walks window ends in
tiles of :data:`TILE` (outer) and four starts at a time (inner), so a tile's
sums and running maxima stay in L1 and four windows share each load.

Fixed lag K: updating a factorisation
-------------------------------------
For ``K >= 1`` each window start keeps the square-root-free QR (Gentleman's
``Rbar' D Rbar``) of its regression and appends one row per window end:
O(K^2) per (start, end) pair, and as accurate as a fresh QR of each window.
:data:`GROUP` starts read each row together so their updates vectorise.

No division in the hot loops
----------------------------
The t-statistic is kept as a fraction ``t|t| = num / den`` (monotone in
``t``); running maxima compare fractions by cross-multiplication
(``den > 0``). That keeps the lag-0 loops free of floating-point division,
which numba's default error model would otherwise guard with a branch that
blocks vectorisation (the fixed-lag kernel divides, and is compiled with
numpy's error model instead). One division and square root
per output point remain at the end. A window whose regressor has no
variation, or that fits perfectly, is skipped (NaN in BADF).
"""

from __future__ import annotations

import math

import numpy as np

from indicators._numba import jit, prange

#: Window ends per tile in the lag-0 kernel (keeps a tile's data in L1).
TILE = 256
#: Window starts updated side by side in the fixed-lag kernel.
GROUP = 64
#: Codes for the per-window lag selection.
IC_FIXED = 0
IC_AIC = 1
IC_BIC = 2


# --------------------------------------------------------------------------- #
# Tables and conversions                                                      #
# --------------------------------------------------------------------------- #
def length_tables_python(nrow, lag, ic, inv_len, ic_pow):
    """Fill per-window-length tables for lengths ``m = 0 .. nrow``.

    ``inv_len[m] = 1/m``; for information-criterion selection
    ``ic_pow[m, k] = exp(k * pen(m) / m)`` with ``pen = 2`` (AIC) or
    ``log(m)`` (BIC): minimising ``m log(SSR_k / m) + pen(m) (k + 2)`` over
    ``k`` is the same as minimising ``SSR_k * ic_pow[m, k]``.
    """
    inv_len[0] = 0.0
    for m in range(1, nrow + 1):
        inv_len[m] = 1.0 / m
    if ic != IC_FIXED:
        for m in range(1, nrow + 1):
            pen = 2.0 if ic == IC_AIC else math.log(m)
            g = math.exp(pen / m)
            acc = 1.0
            for k in range(lag + 1):
                ic_pow[m, k] = acc
                acc *= g


length_tables = jit(length_tables_python)


def fractions_to_t_python(num, den, out):
    """``out[i] = sign(q) sqrt(|q|)`` with ``q = num[i] / den[i]``; a point
    that never received a valid window (``den <= 0``) becomes NaN."""
    for i in range(num.shape[0]):
        d = den[i]
        if d > 0.0:
            q = num[i] / d
            out[i] = math.sqrt(q) if q >= 0.0 else -math.sqrt(-q)
        else:
            out[i] = np.nan


fractions_to_t = jit(fractions_to_t_python)


def pair_index_python(nv, pidx):
    """Packed index of the upper triangle: ``pidx[a, b]`` for ``a <= b``."""
    e = 0
    for a in range(nv):
        for b in range(a, nv):
            pidx[a, b] = e
            pidx[b, a] = e
            e += 1


pair_index = jit(pair_index_python)


# --------------------------------------------------------------------------- #
# lag 0: five running sums                                                    #
# --------------------------------------------------------------------------- #
def tile_lag0_one_python(psum, inv_len, nmax, dmax, j0, j, minw, lo, hi):
    """Fold the windows from start ``j`` to ends ``lo .. hi-1`` into the
    running-maximum fractions (lag 0; ``psum`` holds the block's sums)."""
    o = j - j0
    ax = psum[0, o]
    ad = psum[1, o]
    axx = psum[2, o]
    axd = psum[3, o]
    add = psum[4, o]
    cnt = hi - lo
    base = lo - j0 + 1
    m0 = lo - j + 1
    i0 = lo - minw + 1
    # slices first: indexing them by k lets LLVM vectorise the loop
    s_x = psum[0, base:base + cnt]
    s_d = psum[1, base:base + cnt]
    s_xx = psum[2, base:base + cnt]
    s_xd = psum[3, base:base + cnt]
    s_dd = psum[4, base:base + cnt]
    il = inv_len[m0:m0 + cnt]
    n_i = nmax[i0:i0 + cnt]
    d_i = dmax[i0:i0 + cnt]
    for k in range(cnt):
        sx = s_x[k] - ax
        sd = s_d[k] - ad
        u = sx * il[k]
        cxx = (s_xx[k] - axx) - sx * u
        cxd = (s_xd[k] - axd) - sd * u
        cdd = (s_dd[k] - add) - sd * sd * il[k]
        den = cxx * cdd - cxd * cxd  # = cxx * SSR
        num = cxd * abs(cxd) * (m0 + k - 2.0)
        nm = n_i[k]
        dm = d_i[k]
        better = (cxx > 0.0) & (den > 0.0) & (num * dm > nm * den)
        n_i[k] = num if better else nm
        d_i[k] = den if better else dm


tile_lag0_one = jit(tile_lag0_one_python)


def tile_lag0_four_python(psum, inv_len, nmax, dmax, j0, j, minw, lo, hi):
    """As :func:`tile_lag0_one_python` for starts ``j .. j+3`` at once: the
    four windows of an end share its sums and its running maximum, which cuts
    the memory traffic per window by four and lets the four candidates be
    compared in registers."""
    o = j - j0
    ax0, ad0, axx0, axd0, add0 = (psum[0, o], psum[1, o], psum[2, o], psum[3, o],
                                  psum[4, o])
    ax1, ad1, axx1, axd1, add1 = (psum[0, o + 1], psum[1, o + 1], psum[2, o + 1],
                                  psum[3, o + 1], psum[4, o + 1])
    ax2, ad2, axx2, axd2, add2 = (psum[0, o + 2], psum[1, o + 2], psum[2, o + 2],
                                  psum[3, o + 2], psum[4, o + 2])
    ax3, ad3, axx3, axd3, add3 = (psum[0, o + 3], psum[1, o + 3], psum[2, o + 3],
                                  psum[3, o + 3], psum[4, o + 3])
    cnt = hi - lo
    base = lo - j0 + 1
    m0 = lo - j + 1  # window length of start j at end lo; start j+q is q shorter
    i0 = lo - minw + 1
    s_x = psum[0, base:base + cnt]
    s_d = psum[1, base:base + cnt]
    s_xx = psum[2, base:base + cnt]
    s_xd = psum[3, base:base + cnt]
    s_dd = psum[4, base:base + cnt]
    il0 = inv_len[m0:m0 + cnt]
    il1 = inv_len[m0 - 1:m0 - 1 + cnt]
    il2 = inv_len[m0 - 2:m0 - 2 + cnt]
    il3 = inv_len[m0 - 3:m0 - 3 + cnt]
    n_i = nmax[i0:i0 + cnt]
    d_i = dmax[i0:i0 + cnt]
    for k in range(cnt):
        vx = s_x[k]
        vd = s_d[k]
        vxx = s_xx[k]
        vxd = s_xd[k]
        vdd = s_dd[k]
        dof = m0 + k - 2.0
        # start j
        sx = vx - ax0
        sd = vd - ad0
        u = sx * il0[k]
        cxx = (vxx - axx0) - sx * u
        cxd = (vxd - axd0) - sd * u
        cdd = (vdd - add0) - sd * sd * il0[k]
        den0 = cxx * cdd - cxd * cxd
        num0 = cxd * abs(cxd) * dof
        ok0 = (cxx > 0.0) & (den0 > 0.0)
        # start j+1
        sx = vx - ax1
        sd = vd - ad1
        u = sx * il1[k]
        cxx = (vxx - axx1) - sx * u
        cxd = (vxd - axd1) - sd * u
        cdd = (vdd - add1) - sd * sd * il1[k]
        den1 = cxx * cdd - cxd * cxd
        num1 = cxd * abs(cxd) * (dof - 1.0)
        ok1 = (cxx > 0.0) & (den1 > 0.0)
        # start j+2
        sx = vx - ax2
        sd = vd - ad2
        u = sx * il2[k]
        cxx = (vxx - axx2) - sx * u
        cxd = (vxd - axd2) - sd * u
        cdd = (vdd - add2) - sd * sd * il2[k]
        den2 = cxx * cdd - cxd * cxd
        num2 = cxd * abs(cxd) * (dof - 2.0)
        ok2 = (cxx > 0.0) & (den2 > 0.0)
        # start j+3
        sx = vx - ax3
        sd = vd - ad3
        u = sx * il3[k]
        cxx = (vxx - axx3) - sx * u
        cxd = (vxd - axd3) - sd * u
        cdd = (vdd - add3) - sd * sd * il3[k]
        den3 = cxx * cdd - cxd * cxd
        num3 = cxd * abs(cxd) * (dof - 3.0)
        ok3 = (cxx > 0.0) & (den3 > 0.0)
        # largest of the four fractions (a pairwise tournament), then the running max
        t1 = ok1 & ((not ok0) | (num1 * den0 > num0 * den1))
        na = num1 if t1 else num0
        da = den1 if t1 else den0
        oka = ok0 | ok1
        t3 = ok3 & ((not ok2) | (num3 * den2 > num2 * den3))
        nb = num3 if t3 else num2
        db = den3 if t3 else den2
        okb = ok2 | ok3
        tb = okb & ((not oka) | (nb * da > na * db))
        num = nb if tb else na
        den = db if tb else da
        nm = n_i[k]
        dm = d_i[k]
        better = (oka | okb) & (num * dm > nm * den)
        n_i[k] = num if better else nm
        d_i[k] = den if better else dm


tile_lag0_four = jit(tile_lag0_four_python)


def block_lag0_python(y, j0, nb, minw, inv_len, psum, nmax, dmax, badf):
    """Windows that start at rows ``j0 .. j0+nb-1`` (lag 0).

    ``psum`` (5 x (n)) is scratch for the block's running sums of ``x``,
    ``dy``, ``x^2``, ``x dy``, ``dy^2`` with ``x = y[r] - y[j0]``. The running
    maximum of ``t|t|`` for end point ``i`` is the fraction
    ``nmax[i] / dmax[i]`` (start value ``-1/0`` stands for minus infinity).
    When the block holds start 0 the BADF sequence goes to ``badf``.
    """
    nrow = y.shape[0] - 1
    npts = nrow - minw + 1
    c = y[j0]
    p_x = psum[0]
    p_d = psum[1]
    p_xx = psum[2]
    p_xd = psum[3]
    p_dd = psum[4]
    p_x[0] = 0.0
    p_d[0] = 0.0
    p_xx[0] = 0.0
    p_xd[0] = 0.0
    p_dd[0] = 0.0
    for r in range(j0, nrow):
        q = r - j0
        xv = y[r] - c
        dv = y[r + 1] - y[r]
        p_x[q + 1] = p_x[q] + xv
        p_d[q + 1] = p_d[q] + dv
        p_xx[q + 1] = p_xx[q] + xv * xv
        p_xd[q + 1] = p_xd[q] + xv * dv
        p_dd[q + 1] = p_dd[q] + dv * dv
    jend = min(j0 + nb, npts)
    # Ends in tiles (outer) and the block's starts (inner): the running sums,
    # 1/m and the running maxima of a tile stay in L1 across the starts.
    for e0 in range(j0 + minw - 1, nrow, TILE):
        e1 = min(e0 + TILE, nrow)
        j = j0
        while j < jend:
            lo = max(e0, j + minw - 1)
            if lo >= e1:
                break
            lo4 = max(e0, j + minw + 2)  # first end shared by starts j .. j+3
            if j + 3 < jend and lo4 < e1:
                for q in range(3):  # ends of starts j .. j+2 before lo4
                    first = max(e0, j + q + minw - 1)
                    if first < lo4:
                        tile_lag0_one(psum, inv_len, nmax, dmax, j0, j + q, minw, first, lo4)
                tile_lag0_four(psum, inv_len, nmax, dmax, j0, j, minw, lo4, e1)
                j += 4
            else:
                tile_lag0_one(psum, inv_len, nmax, dmax, j0, j, minw, lo, e1)
                j += 1
    if j0 == 0:
        cnt = nrow - minw + 1
        for k in range(cnt):
            pe = minw + k
            sx = p_x[pe]
            sd = p_d[pe]
            il0 = inv_len[minw + k]
            cxx = p_xx[pe] - sx * sx * il0
            cxd = p_xd[pe] - sx * sd * il0
            cdd = p_dd[pe] - sd * sd * il0
            den = cxx * cdd - cxd * cxd
            if cxx > 0.0 and den > 0.0:
                q = cxd * abs(cxd) * (minw + k - 2.0) / den
                badf[k] = math.sqrt(q) if q >= 0.0 else -math.sqrt(-q)
            else:
                badf[k] = np.nan


block_lag0 = jit(block_lag0_python)


# --------------------------------------------------------------------------- #
# lag chosen by AIC/BIC: centred cross-products, elimination of the lags     #
# --------------------------------------------------------------------------- #
def block_ic_python(y, j0, nb, minw, lag, ic, inv_len, ic_pow, pidx,
                    p1, p2, d1, cm, aux, v, nmax, dmax, badf):
    """Windows that start at rows ``j0 .. j0+nb-1``, each with the lag
    ``k <= lag`` chosen by the information criterion ``ic``.

    Variables (columns): ``0..lag-1`` lagged differences ``dy[t-1..t-lag]``,
    ``lag`` the lagged level ``y[t-1]`` (centred on its value at the block's
    first row), ``lag+1`` the dependent ``dy[t]``; the constant is absorbed
    by centring. Scratch: ``p1`` (nv x n) and ``p2`` (ne x n) running sums of
    the variables and of their products; ``d1`` (nv x tile), ``cm``
    (ne x tile) the centred cross-products of a tile of window ends (packed
    upper triangle, ``pidx``), ``aux`` (3 x tile), ``v`` (nv).

    The lag columns are eliminated one at a time; the nested models with
    ``k = 0..lag`` lags are read off after each step, on the same rows, and
    the one with the smallest criterion wins (ties go to the shorter lag).
    That is O(K^2) per nested model and window.
    """
    n = y.shape[0]
    nrow = n - 1 - lag
    npts = nrow - minw + 1
    nv = lag + 2
    ix = lag
    idd = lag + 1
    c = y[j0 + lag]
    for a in range(nv):
        p1[a, 0] = 0.0
        for b in range(a, nv):
            p2[pidx[a, b], 0] = 0.0
    for r in range(j0, nrow):
        q = r - j0
        t = r + 1 + lag
        for lg in range(lag):
            v[lg] = y[t - lg - 1] - y[t - lg - 2]
        v[ix] = y[t - 1] - c
        v[idd] = y[t] - y[t - 1]
        for a in range(nv):
            p1[a, q + 1] = p1[a, q] + v[a]
            va = v[a]
            for b in range(a, nv):
                e = pidx[a, b]
                p2[e, q + 1] = p2[e, q] + va * v[b]
    exx = pidx[ix, ix]
    exd = pidx[ix, idd]
    edd = pidx[idd, idd]
    tile = d1.shape[1]
    jend = min(j0 + nb, npts)
    for j in range(j0, jend):
        o = j - j0
        cnt = nrow - (j + minw - 1)
        # window ends in tiles, so that the scratch of a tile stays in L1
        for k0 in range(0, cnt, tile):
            tl = min(tile, cnt - k0)
            base = o + minw + k0
            m0 = minw + k0
            il = inv_len[m0:m0 + tl]
            for a in range(nv):
                pa = p1[a, base:base + tl]
                da = d1[a, :tl]
                a0 = p1[a, o]
                for k in range(tl):
                    da[k] = pa[k] - a0
            for a in range(nv):
                da = d1[a, :tl]
                for b in range(a, nv):
                    e = pidx[a, b]
                    pe_ = p2[e, base:base + tl]
                    ce = cm[e, :tl]
                    db = d1[b, :tl]
                    e0 = p2[e, o]
                    for k in range(tl):
                        ce[k] = (pe_[k] - e0) - da[k] * db[k] * il[k]
            ok_ = aux[0, :tl]
            cxx = cm[exx, :tl]
            cxd = cm[exd, :tl]
            cdd = cm[edd, :tl]
            n_i = nmax[j + k0:j + k0 + tl]
            d_i = dmax[j + k0:j + k0 + tl]
            best = aux[1, :tl]
            qv = aux[2, :tl]
            for k in range(tl):
                ok_[k] = 1.0
                best[k] = np.inf
                qv[k] = np.nan
            for s in range(lag + 1):
                if s > 0:
                    p = s - 1
                    cpp = cm[pidx[p, p], :tl]
                    for k in range(tl):
                        ok_[k] = min(ok_[k], cpp[k])
                    for a in range(p + 1, nv):
                        cpa = cm[pidx[p, a], :tl]
                        for b in range(a, nv):
                            cab = cm[pidx[a, b], :tl]
                            cpb = cm[pidx[p, b], :tl]
                            for k in range(tl):
                                if cpp[k] > 0.0:
                                    cab[k] = cab[k] - cpa[k] * cpb[k] / cpp[k]
                for k in range(tl):
                    sxx = cxx[k]
                    if ok_[k] > 0.0 and sxx > 0.0:
                        sxd = cxd[k]
                        ssr = cdd[k] - sxd * sxd / sxx
                        if ssr > 0.0:
                            m = m0 + k
                            crit = ssr * ic_pow[m, s]
                            if crit < best[k]:
                                best[k] = crit
                                qv[k] = sxd * abs(sxd) * (m - s - 2.0) / (sxx * ssr)
            for k in range(tl):
                qk = qv[k]
                if qk * d_i[k] > n_i[k]:  # NaN compares False
                    n_i[k] = qk
                    d_i[k] = 1.0
            if j == 0:
                for k in range(tl):
                    qk = qv[k]
                    if qk >= 0.0:
                        badf[k0 + k] = math.sqrt(qk)
                    elif qk < 0.0:
                        badf[k0 + k] = -math.sqrt(-qk)
                    else:
                        badf[k0 + k] = np.nan


block_ic = jit(block_ic_python)


# --------------------------------------------------------------------------- #
# fixed lag K: square-root-free Givens updates, a group of starts at a time   #
# --------------------------------------------------------------------------- #
def group_lagk_python(y, j0, minw, lag, d, rb, xg, w, cb, sb, ssr, qv, dmin, v, nmax,
                      dmax, badf):
    """Windows that start at rows ``j0 .. j0+G-1`` (``G = d.shape[1]``) with a
    fixed ``lag >= 1``.

    Each start keeps the factorisation ``X'X = Rbar' D Rbar`` (``Rbar`` unit
    upper triangular) of its window's regressors, columns ``0`` constant,
    ``1..lag`` the lagged differences, ``lag+1`` the lagged level (centred on
    its value at ``j0``), with the response ``dy`` as an extra column of
    ``Rbar`` (``theta``). Appending a row is Gentleman's (1974) square-root-free
    Givens rotation (as in Miller's AS 274): O(p^2) for ``p = lag + 2``
    regressors and no square root, so every (start, end) pair costs O(K^2).
    With the level last, its coefficient is ``theta[p-1]`` and its variance
    factor ``1 / d[p-1]``, so ``t|t| = theta |theta| d[p-1] (m - p) / SSR``.

    The G starts of a group read the same row, so their updates run side by
    side (innermost loops over the group, vectorised); a start enters with
    weight 0 (no change) until its first row. ``d``, ``w``, ``cb``, ``sb``,
    ``ssr``, ``qv``, ``dmin`` (G), ``rb`` ((p, p+1, G)), ``xg`` ((p+1, G)), ``v`` (p+1) are
    scratch.
    """
    n = y.shape[0]
    nrow = n - 1 - lag
    npts = nrow - minw + 1
    p = lag + 2
    nc = p + 1
    ix = p - 1
    grp = d.shape[1]
    gmax = min(grp, npts - j0)
    c = y[j0 + lag]
    for g in range(grp):
        ssr[g] = 0.0
    for k in range(p):
        for g in range(grp):
            d[k, g] = 0.0
        for col in range(k + 1, nc):
            for g in range(grp):
                rb[k, col, g] = 0.0
    for r in range(j0, nrow):
        t = r + 1 + lag
        v[0] = 1.0
        for lg in range(lag):
            v[1 + lg] = y[t - lg - 1] - y[t - lg - 2]
        v[ix] = y[t - 1] - c
        v[p] = y[t] - y[t - 1]
        for col in range(nc):
            for g in range(grp):
                xg[col, g] = v[col]
        for g in range(grp):
            w[g] = 1.0 if (g < gmax) & (r >= j0 + g) else 0.0
        for k in range(p):
            xk_ = xg[k]
            dk_ = d[k]
            for g in range(grp):
                xk = xk_[g]
                dk = dk_[g]
                wg = w[g]
                dp = dk + wg * xk * xk
                pos = dp > 0.0
                inv = 1.0 / (dp if pos else 1.0)
                cbar = dk * inv if pos else 1.0
                cb[g] = cbar
                sb[g] = wg * xk * inv
                w[g] = wg * cbar
                dk_[g] = dp
            for col in range(k + 1, nc):
                xl_ = xg[col]
                rk_ = rb[k, col]
                for g in range(grp):
                    xl = xl_[g]
                    rkl = rk_[g]
                    xl_[g] = xl - xk_[g] * rkl
                    rk_[g] = cb[g] * rkl + sb[g] * xl
        for g in range(grp):
            e = xg[p, g]
            ssr[g] += w[g] * e * e
        if r < j0 + minw - 1:
            continue
        # windows j0+g .. r with at least minw rows: the largest t|t| of the group
        i = r - minw + 1
        qmax = -np.inf
        th_ = rb[ix, p]
        dx_ = d[ix]
        for g in range(grp):  # the smallest pivot (d only grows, so > 0 stays > 0)
            dmin[g] = d[0, g]
        for k in range(1, p):
            dk_ = d[k]
            for g in range(grp):
                dmin[g] = min(dmin[g], dk_[g])
        for g in range(grp):
            m = r - j0 - g + 1
            ok = (g < gmax) & (m >= minw) & (ssr[g] > 0.0) & (dmin[g] > 0.0)
            th = th_[g]
            q = th * abs(th) * dx_[g] * (m - p) / (ssr[g] if ok else 1.0)
            qv[g] = q if ok else -np.inf
        for g in range(grp):
            qmax = max(qmax, qv[g])
        if qmax * dmax[i] > nmax[i]:
            nmax[i] = qmax
            dmax[i] = 1.0
        if j0 == 0:
            q = qv[0]
            if q > -np.inf:
                badf[i] = math.sqrt(q) if q >= 0.0 else -math.sqrt(-q)
            else:
                badf[i] = np.nan


group_lagk = jit(group_lagk_python, error_model="numpy")


# --------------------------------------------------------------------------- #
# Whole sequences                                                             #
# --------------------------------------------------------------------------- #
def run_blocks_python(y, minw, lag, ic, slot, nslots, nmax, dmax, badf):
    """Process the start blocks ``slot, slot + nslots, ...`` of one series into
    the running-maximum fractions ``nmax/dmax`` (scratch allocated here, O(T))."""
    n = y.shape[0]
    nrow = n - 1 - lag
    npts = nrow - minw + 1
    nb = max(1, min(minw, 64))
    nblocks = (npts + nb - 1) // nb
    inv_len = np.empty(nrow + 1)
    ic_pow = np.ones((nrow + 1 if ic != IC_FIXED else 1, lag + 1))
    length_tables(nrow, lag, ic, inv_len, ic_pow)
    if lag == 0 and ic == IC_FIXED:
        psum = np.empty((5, nrow + 1))
        for blk in range(slot, nblocks, nslots):
            block_lag0(y, blk * nb, nb, minw, inv_len, psum, nmax, dmax, badf)
    elif ic == IC_FIXED:
        p = lag + 2
        grp = GROUP
        d = np.empty((p, grp))
        rb = np.empty((p, p + 1, grp))
        xg = np.empty((p + 1, grp))
        w = np.empty(grp)
        cb = np.empty(grp)
        sb = np.empty(grp)
        ssr = np.empty(grp)
        qv = np.empty(grp)
        dmin = np.empty(grp)
        v = np.empty(p + 1)
        ngroups = (npts + grp - 1) // grp
        for gi in range(slot, ngroups, nslots):
            group_lagk(y, gi * grp, minw, lag, d, rb, xg, w, cb, sb, ssr, qv, dmin, v, nmax,
                       dmax, badf)
    else:
        nv = lag + 2
        ne = nv * (nv + 1) // 2
        pidx = np.empty((nv, nv), dtype=np.int64)
        pair_index(nv, pidx)
        p1 = np.empty((nv, nrow + 1))
        p2 = np.empty((ne, nrow + 1))
        tile = min(256, nrow)
        d1 = np.empty((nv, tile))
        cm = np.empty((ne, tile))
        aux = np.empty((3, tile))
        v = np.empty(nv)
        for blk in range(slot, nblocks, nslots):
            block_ic(y, blk * nb, nb, minw, lag, ic, inv_len, ic_pow, pidx,
                     p1, p2, d1, cm, aux, v, nmax, dmax, badf)


run_blocks = jit(run_blocks_python)


def sequences_python(paths, minw, lag, ic, nslots, bsadf, badf):
    """BSADF and BADF sequences (``n - minw - lag`` points) of every row of
    ``paths`` (``reps x n``) into the rows of ``bsadf`` and ``badf``.

    The work is split into ``reps * nslots`` tasks that run on all cores
    (numba ``prange`` threads): task ``(r, s)`` takes the blocks of window
    starts ``s, s + nslots, ...`` of path ``r`` (round-robin, so the
    triangular work is balanced) and keeps its own running maxima, merged at
    the end. Use ``nslots = 1`` for many paths (Monte Carlo, bootstrap) and
    ``nslots`` = number of cores for one long series. Memory is
    O(reps * nslots * n); one kernel serves both uses, so there is one
    parallel kernel to compile.
    """
    reps = paths.shape[0]
    npts = bsadf.shape[1]
    ntask = reps * nslots
    nmax = np.full((ntask, npts), -1.0)
    dmax = np.zeros((ntask, npts))
    for task in prange(ntask):
        r = task // nslots
        s = task - r * nslots
        run_blocks(paths[r], minw, lag, ic, s, nslots, nmax[task], dmax[task], badf[r])
    for r in range(reps):
        t0 = r * nslots
        for s in range(1, nslots):
            for i in range(npts):
                nm = nmax[t0 + s, i]
                dm = dmax[t0 + s, i]
                if dm > 0.0 and nm * dmax[t0, i] > nmax[t0, i] * dm:
                    nmax[t0, i] = nm
                    dmax[t0, i] = dm
        fractions_to_t(nmax[t0], dmax[t0], bsadf[r])


sequences = jit(sequences_python, parallel=True)


def sequences_serial_python(paths, minw, lag, ic, bsadf, badf):
    """:func:`sequences_python` on the calling thread only: no thread start-up
    or barrier, which costs milliseconds when other processes hold the cores.
    For short series."""
    npts = bsadf.shape[1]
    for r in range(paths.shape[0]):
        nmax = np.full(npts, -1.0)
        dmax = np.zeros(npts)
        run_blocks(paths[r], minw, lag, ic, 0, 1, nmax, dmax, badf[r])
        fractions_to_t(nmax, dmax, bsadf[r])


sequences_serial = jit(sequences_serial_python)


def tail_bsadf_lag0_python(paths, minw, ntail, out):
    """BSADF (lag 0) of every row of ``paths`` at its last ``ntail`` points
    only, into ``out`` (``reps x ntail``; point ``k`` is observation
    ``n - ntail + k``).

    For each end row the window sums are accumulated afresh from the end back
    to row 0, centred on the lagged level at the end, so each (start, end)
    pair costs O(1) and nothing cancels: O(ntail * n) per path instead of the
    O(n^2) of :func:`sequences_python`, for readers of the last few points
    (the Phillips-Shi horizon bootstrap). Serial (one thread), as kernels run
    inside workers must be. A window whose regressor has no variation or
    that fits perfectly is skipped, as in :func:`block_lag0_python`.
    """
    reps = paths.shape[0]
    nrow = paths.shape[1] - 1
    for p in range(reps):
        y = paths[p]
        for k in range(ntail):
            e = nrow - ntail + k
            c = y[e]
            sx = 0.0
            sd = 0.0
            sxx = 0.0
            sxd = 0.0
            sdd = 0.0
            nm = -1.0
            dm = 0.0
            for r in range(e, -1, -1):
                xv = y[r] - c
                dv = y[r + 1] - y[r]
                sx += xv
                sd += dv
                sxx += xv * xv
                sxd += xv * dv
                sdd += dv * dv
                m = e - r + 1
                if m < minw:
                    continue
                il = 1.0 / m
                u = sx * il
                cxx = sxx - sx * u
                cxd = sxd - sd * u
                cdd = sdd - sd * sd * il
                den = cxx * cdd - cxd * cxd
                num = cxd * abs(cxd) * (m - 2.0)
                if cxx > 0.0 and den > 0.0 and num * dm > nm * den:
                    nm = num
                    dm = den
            if dm > 0.0:
                q = nm / dm
                out[p, k] = math.sqrt(q) if q >= 0.0 else -math.sqrt(-q)
            else:
                out[p, k] = np.nan


tail_bsadf_lag0 = jit(tail_bsadf_lag0_python)


# --------------------------------------------------------------------------- #
# Critical values: bootstrap paths and quantiles                              #
# --------------------------------------------------------------------------- #
def wb_paths_python(y0, dy_init, phi, resid, idx, mult, out):
    """Phillips-Shi (2020) wild-bootstrap paths, one per row of ``out``.

    After the first ``K = len(phi)`` differences, which are the observed ones
    (``dy_init``), ``dy*[t] = sum_l phi[l-1] dy*[t-l] + mult[b, t] resid[idx[b, t]]``;
    every path starts at ``y0``. No drift, as in the paper.
    """
    reps = out.shape[0]
    n = out.shape[1]
    lag = phi.shape[0]
    dyb = np.empty(n - 1)
    for b in range(reps):
        out[b, 0] = y0
        for t in range(n - 1):
            if t < lag:
                val = dy_init[t]
            else:
                val = mult[b, t] * resid[idx[b, t]]
                for lg in range(1, lag + 1):
                    val += phi[lg - 1] * dyb[t - lg]
            dyb[t] = val
            out[b, t + 1] = out[b, t] + val


wb_paths = jit(wb_paths_python)


def row_quantiles_python(arr, probs, cummax, out):
    """Quantiles (R type 7, numpy ``"linear"``) of each row of ``arr``
    (``npts x reps``: one row per point, one column per replication),
    ignoring NaN, into ``out`` (``npts x len(probs)``).

    With ``cummax`` every column is first replaced, in place, by its running
    maximum down the rows, so row ``i`` holds ``max_{i' <= i}``: the
    quantiles are then those of SADF/GSADF for a sample ending at point ``i``.
    """
    npts = arr.shape[0]
    reps = arr.shape[1]
    if cummax:
        for i in range(1, npts):
            prev = arr[i - 1]
            cur = arr[i]
            for b in range(reps):
                pv = prev[b]
                if not cur[b] >= pv and not math.isnan(pv):  # a NaN takes the running max
                    cur[b] = pv
    nq = probs.shape[0]
    for i in range(npts):
        row = arr[i]
        col = np.empty(reps, dtype=arr.dtype)
        cnt = 0
        for b in range(reps):
            val = row[b]
            if val > -np.inf:  # drops NaN and the -inf of empty prefixes
                col[cnt] = val
                cnt += 1
        if cnt == 0:
            for k in range(nq):
                out[i, k] = np.nan
            continue
        kth = np.empty(2 * nq, dtype=np.int64)
        for k in range(nq):
            lo = math.floor((cnt - 1) * probs[k])
            kth[2 * k] = lo
            kth[2 * k + 1] = min(lo + 1, cnt - 1)
        srt = np.partition(col[:cnt], np.sort(kth))  # only the order statistics needed
        for k in range(nq):
            h = (cnt - 1) * probs[k]
            lo = math.floor(h)
            hi = min(lo + 1, cnt - 1)
            lo_v = np.float64(srt[lo])  # float() keeps float32 under numba
            out[i, k] = lo_v + (h - lo) * (np.float64(srt[hi]) - lo_v)


row_quantiles = jit(row_quantiles_python)


# --------------------------------------------------------------------------- #
# Panel statistics (Pavlidis et al. 2016): every window of every series       #
# --------------------------------------------------------------------------- #
def start_tstats_python(y, j, minw, lag, ic, inv_len, ic_pow, psum, pidx, p1, p2, d1, cm,
                        aux, vic, dk, rb, xg, wk, cb, sb, ssr, qv, dmin, vk, nmax, dmax,
                        badf, out):
    """ADF t-statistics of every window of ``y`` that starts at row ``j``:
    ``out[i]`` for the points ``i = j .. npts-1`` (NaN for a window without
    variation), by the block kernels above run on the single start ``j``
    (so the numerics are those of :func:`sequences_python`). The scratch
    arrays may be larger than ``y`` needs (one set serves a whole panel):
    ``psum`` for lag 0; ``dk`` .. ``vk`` (a group of one start) for a fixed
    lag; ``pidx`` .. ``vic`` for information-criterion lags; ``nmax``,
    ``dmax``, ``badf`` at least ``npts`` long."""
    n = y.shape[0]
    npts = n - 1 - lag - minw + 1
    for i in range(npts):
        nmax[i] = -1.0
        dmax[i] = 0.0
    if lag == 0 and ic == IC_FIXED:
        block_lag0(y, j, 1, minw, inv_len, psum, nmax, dmax, badf)
    elif ic == IC_FIXED:
        group_lagk(y, j, minw, lag, dk, rb, xg, wk, cb, sb, ssr, qv, dmin, vk, nmax, dmax,
                   badf)
    else:
        block_ic(y, j, 1, minw, lag, ic, inv_len, ic_pow, pidx, p1, p2, d1, cm, aux, vic,
                 nmax, dmax, badf)
    fractions_to_t(nmax[:npts], dmax[:npts], out[:npts])


start_tstats = jit(start_tstats_python)


def panel_run_python(panel, first, last, minw, lag, ic, min_series, slot, nslots, pmax,
                     pcnt, pbadf):
    """Panel BSADF of Pavlidis et al. (2016) over the window starts
    ``slot, slot + nslots, ...`` of one panel (``N x T``; series ``i`` is
    observed on ``first[i] .. last[i]``, NaN elsewhere).

    For a start row ``s`` and every end point ``i`` the panel BADF is the
    average of the t-statistics of the series observed over the whole
    window (at least ``min_series`` of them, else the window is skipped);
    ``pmax[i]`` keeps the largest over the starts and ``pcnt[i]`` the number
    of series averaged there. Points share the layout of
    :func:`sequences_python` on the full ``T``; ``pbadf`` receives the start-0
    panel BADF (slot 0 only). ``pmax`` starts at ``-inf``, ``pbadf`` at NaN.
    """
    nser = panel.shape[0]
    tlen = panel.shape[1]
    nrow = tlen - 1 - lag
    npts = nrow - minw + 1
    inv_len = np.empty(nrow + 1)
    ic_pow = np.ones((nrow + 1 if ic != IC_FIXED else 1, lag + 1))
    length_tables(nrow, lag, ic, inv_len, ic_pow)
    psum = np.empty((5, nrow + 1))
    p = lag + 2
    dk = np.empty((p, 1))
    rb = np.empty((p, p + 1, 1))
    xg = np.empty((p + 1, 1))
    wk = np.empty(1)
    cb = np.empty(1)
    sb = np.empty(1)
    ssr = np.empty(1)
    qv = np.empty(1)
    dmin = np.empty(1)
    vk = np.empty(p + 1)
    nv = lag + 2
    ne = nv * (nv + 1) // 2
    pidx = np.empty((nv, nv), dtype=np.int64)
    pair_index(nv, pidx)
    big = ic != IC_FIXED
    p1 = np.empty((nv, nrow + 1 if big else 1))
    p2 = np.empty((ne, nrow + 1 if big else 1))
    tile = min(256, nrow)
    d1 = np.empty((nv, tile))
    cm = np.empty((ne, tile))
    aux = np.empty((3, tile))
    vic = np.empty(nv)
    nmax = np.empty(npts)
    dmax = np.empty(npts)
    badf = np.empty(npts)
    tloc = np.empty(npts)
    acc = np.empty(npts)
    cnt = np.empty(npts, dtype=np.int64)
    for s in range(slot, npts, nslots):
        for i in range(s, npts):
            acc[i] = 0.0
            cnt[i] = 0
        for k in range(nser):
            f = first[k]
            if s < f:
                continue
            y = panel[k, f:last[k] + 1]
            npts_k = y.shape[0] - 1 - lag - minw + 1
            jl = s - f
            if jl >= npts_k:
                continue
            start_tstats(y, jl, minw, lag, ic, inv_len, ic_pow, psum, pidx, p1, p2, d1, cm,
                         aux, vic, dk, rb, xg, wk, cb, sb, ssr, qv, dmin, vk, nmax, dmax,
                         badf, tloc)
            for il in range(jl, npts_k):
                v = tloc[il]
                if not math.isnan(v):
                    acc[il + f] += v
                    cnt[il + f] += 1
        for i in range(s, npts):
            c = cnt[i]
            if c >= min_series:
                val = acc[i] / c
                if s == 0:
                    pbadf[i] = val
                if val > pmax[i]:
                    pmax[i] = val
                    pcnt[i] = c


panel_run = jit(panel_run_python)


def panel_sequences_python(panels, first, last, minw, lag, ic, min_series, nslots, bsadf,
                           badf, nused):
    """Panel BSADF and BADF (Pavlidis et al. 2016) of every panel in
    ``panels`` (``reps x N x T``) into the rows of ``bsadf``, ``badf`` and
    ``nused`` (series averaged at the maximising window; 0 where no window
    had ``min_series`` series, and the statistics are NaN there).

    As :func:`sequences_python`: ``reps * nslots`` tasks on all cores, task
    ``(r, s)`` taking the window starts ``s, s + nslots, ...`` of panel
    ``r`` (``nslots = 1`` for many panels, the number of cores for one).
    """
    reps = panels.shape[0]
    npts = bsadf.shape[1]
    ntask = reps * nslots
    pmax = np.full((ntask, npts), -np.inf)
    pcnt = np.zeros((ntask, npts), dtype=np.int64)
    for r in range(reps):
        for i in range(npts):
            badf[r, i] = np.nan
    for task in prange(ntask):
        r = task // nslots
        s = task - r * nslots
        panel_run(panels[r], first, last, minw, lag, ic, min_series, s, nslots, pmax[task],
                  pcnt[task], badf[r])
    for r in range(reps):
        t0 = r * nslots
        for i in range(npts):
            best = pmax[t0, i]
            c = pcnt[t0, i]
            for s in range(1, nslots):
                if pmax[t0 + s, i] > best:
                    best = pmax[t0 + s, i]
                    c = pcnt[t0 + s, i]
            bsadf[r, i] = best if c > 0 else np.nan
            nused[r, i] = c


panel_sequences = jit(panel_sequences_python, parallel=True)


# --------------------------------------------------------------------------- #
# A family of minimum windows at once (critical-value tables)                 #
# --------------------------------------------------------------------------- #
def short_windows_lagk_python(y, j0, wmin, wmax, lag, d, rb, xg, w, cb, sb, ssr, dmin, v,
                              strip):
    """Windows of ``wmin .. wmax-1`` rows starting at rows ``j0 .. j0+G-1``
    (``G = d.shape[1]``) with a fixed ``lag >= 1``: their t-statistics go to
    ``strip[L - wmin, e]`` (``L`` rows ending at row ``e``).

    The same square-root-free Givens updates as :func:`group_lagk` (so the
    same numbers), stopped after the last row a short window of the group
    needs, and each start's statistic recorded instead of the group maximum.
    Scratch as in :func:`group_lagk`.
    """
    n = y.shape[0]
    nrow = n - 1 - lag
    p = lag + 2
    nc = p + 1
    ix = p - 1
    grp = d.shape[1]
    gmax = min(grp, nrow - wmin + 1 - j0)
    rend = min(nrow, j0 + gmax + wmax - 2)
    c = y[j0 + lag]
    for g in range(grp):
        ssr[g] = 0.0
    for k in range(p):
        for g in range(grp):
            d[k, g] = 0.0
        for col in range(k + 1, nc):
            for g in range(grp):
                rb[k, col, g] = 0.0
    for r in range(j0, rend):
        t = r + 1 + lag
        v[0] = 1.0
        for lg in range(lag):
            v[1 + lg] = y[t - lg - 1] - y[t - lg - 2]
        v[ix] = y[t - 1] - c
        v[p] = y[t] - y[t - 1]
        for col in range(nc):
            for g in range(grp):
                xg[col, g] = v[col]
        for g in range(grp):
            w[g] = 1.0 if (g < gmax) & (r >= j0 + g) else 0.0
        for k in range(p):
            xk_ = xg[k]
            dk_ = d[k]
            for g in range(grp):
                xk = xk_[g]
                dk = dk_[g]
                wg = w[g]
                dp = dk + wg * xk * xk
                pos = dp > 0.0
                inv = 1.0 / (dp if pos else 1.0)
                cbar = dk * inv if pos else 1.0
                cb[g] = cbar
                sb[g] = wg * xk * inv
                w[g] = wg * cbar
                dk_[g] = dp
            for col in range(k + 1, nc):
                xl_ = xg[col]
                rk_ = rb[k, col]
                for g in range(grp):
                    xl = xl_[g]
                    rkl = rk_[g]
                    xl_[g] = xl - xk_[g] * rkl
                    rk_[g] = cb[g] * rkl + sb[g] * xl
        for g in range(grp):
            e = xg[p, g]
            ssr[g] += w[g] * e * e
        if r < j0 + wmin - 1:
            continue
        for g in range(grp):
            dmin[g] = d[0, g]
        for k in range(1, p):
            for g in range(grp):
                dmin[g] = min(dmin[g], d[k, g])
        for g in range(gmax):
            m = r - j0 - g + 1
            if m >= wmin and m < wmax and ssr[g] > 0.0 and dmin[g] > 0.0:
                th = rb[ix, p, g]
                q = th * abs(th) * d[ix, g] * (m - p) / ssr[g]
                strip[m - wmin, r] = math.sqrt(q) if q >= 0.0 else -math.sqrt(-q)


short_windows_lagk = jit(short_windows_lagk_python, error_model="numpy")


def short_windows_python(y, wmin, wmax, lag, inv_len, strip):
    """ADF t-statistics of every window with ``wmin .. wmax-1`` rows (fixed
    ``lag``): ``strip[L - wmin, e]`` for the window of ``L`` rows ending at
    row ``e``; untouched (NaN) where no such window exists or the window is
    degenerate. O(T * wmax) per series.

    Lag 0: each start is the first row of a slice of ``y`` whose BADF
    sequence (:func:`block_lag0` on that one start) holds its short windows.
    Fixed lag: :func:`short_windows_lagk` on groups of :data:`GROUP` starts.
    Either way the numbers are those of :func:`sequences`.
    """
    n = y.shape[0]
    nrow = n - 1 - lag
    nstart = nrow - wmin + 1
    if lag == 0:
        scratch = np.empty(wmax)
        nm = np.full(wmax, -1.0)
        dm = np.zeros(wmax)
        psum = np.empty((5, wmax + 1))
        for s in range(nstart):
            m = min(wmax - 1, nrow - s)  # rows of the longest short window from s
            block_lag0(y[s:s + m + 1], 0, 1, wmin, inv_len, psum, nm, dm, scratch)
            for k in range(m - wmin + 1):
                strip[k, s + wmin - 1 + k] = scratch[k]
        return
    p = lag + 2
    grp = GROUP
    d = np.empty((p, grp))
    rb = np.empty((p, p + 1, grp))
    xg = np.empty((p + 1, grp))
    w = np.empty(grp)
    cb = np.empty(grp)
    sb = np.empty(grp)
    ssr = np.empty(grp)
    dmin = np.empty(grp)
    v = np.empty(p + 1)
    for j0 in range(0, nstart, grp):
        short_windows_lagk(y, j0, wmin, wmax, lag, d, rb, xg, w, cb, sb, ssr, dmin, v, strip)


short_windows = jit(short_windows_python)


def window_family_one_python(y, wmin, wmax, lag, q_ptr, q_t, out_bsadf, out_sadf, out_gsadf,
                             out_badf):
    """Statistics of one series for every minimum window ``w = wmin .. wmax``
    (fixed ``lag``), read at query observations.

    ``out_badf[t]`` is the BADF statistic at observation ``t`` (the window
    from row 0 to observation ``t``; NaN before ``wmin + lag``). For window
    ``w`` the queries ``j = q_ptr[w - wmin] .. q_ptr[w - wmin + 1] - 1`` at
    observations ``q_t[j] >= w + lag`` receive ``BSADF_t(w)`` (the largest
    statistic over windows of at least ``w`` rows ending at ``t``) and the
    SADF and GSADF statistics of the sample ``y[0 .. t]`` with minimum window
    ``w``: what :func:`sequences` gives for ``y[:t+1]`` and ``w``, for every
    window in one pass. Windows of ``wmax`` rows or more come from
    :func:`run_blocks`, shorter ones from :func:`short_windows`, and
    ``BSADF_t(w) = max(BSADF_t(w + 1), ADF of the w-row window ending at t)``.
    """
    n = y.shape[0]
    nrow = n - 1 - lag
    npl = nrow - wmax + 1
    nmax = np.full(npl, -1.0)
    dmax = np.zeros(npl)
    badf_l = np.empty(npl)
    bs_l = np.empty(npl)
    inv_len = np.empty(nrow + 1)
    ic_pow = np.ones((1, lag + 1))
    length_tables(nrow, lag, IC_FIXED, inv_len, ic_pow)
    run_blocks(y, wmax, lag, IC_FIXED, 0, 1, nmax, dmax, badf_l)
    fractions_to_t(nmax, dmax, bs_l)
    nl = wmax - wmin
    strip = np.full((max(nl, 1), nrow), np.nan)
    if nl > 0:
        short_windows(y, wmin, wmax, lag, inv_len, strip)
    off = lag + 1  # observation of end row e is e + off
    for t in range(n):
        out_badf[t] = np.nan
    for e in range(wmin - 1, wmax - 1):
        out_badf[e + off] = strip[e - wmin + 1, e]
    for i in range(npl):
        out_badf[wmax - 1 + i + off] = badf_l[i]
    cur = np.full(nrow, np.nan)
    for i in range(npl):
        cur[wmax - 1 + i] = bs_l[i]
    for w in range(wmax, wmin - 1, -1):
        if w < wmax:
            row = strip[w - wmin]
            for e in range(w - 1, nrow):
                val = row[e]
                if val > cur[e] or math.isnan(cur[e]):
                    cur[e] = val
        j0 = q_ptr[w - wmin]
        j1 = q_ptr[w - wmin + 1]
        if j1 <= j0:
            continue
        # running maxima over the ends w-1 .. e (GSADF) and of BADF (SADF)
        gs = np.nan
        sa = np.nan
        j = j0
        for e in range(w - 1, nrow):
            val = cur[e]
            if val > gs or math.isnan(gs):
                gs = val
            bv = out_badf[e + off]
            if bv > sa or math.isnan(sa):
                sa = bv
            while j < j1 and q_t[j] == e + off:
                out_bsadf[j] = val
                out_gsadf[j] = gs
                out_sadf[j] = sa
                j += 1
            if j >= j1:
                break


window_family_one = jit(window_family_one_python)


def window_family_python(paths, wmin, wmax, lag, q_ptr, q_t, out_bsadf, out_sadf, out_gsadf,
                         out_badf):
    """:func:`window_family_one` for every row of ``paths`` (``reps x n``) on
    all cores (numba ``prange`` over the rows); outputs have one row per
    path. Queries of each window must be sorted by observation."""
    for b in prange(paths.shape[0]):
        window_family_one(paths[b], wmin, wmax, lag, q_ptr, q_t, out_bsadf[b], out_sadf[b],
                          out_gsadf[b], out_badf[b])


window_family = jit(window_family_python, parallel=True)
