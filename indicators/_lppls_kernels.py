"""Numerical kernels of the LPPLS engine (see :mod:`indicators.lppls` for the maths).

Every kernel is a plain-Python loop named ``*_python`` bound once as
``name = jit(name_python)``; the public API in :mod:`indicators.lppls` calls only
the bound names. Kernels take ndarrays and scalars and fill preallocated outputs.

Inside the kernels time is rescaled to the window: ``s = (t - t2) / (t2 - t1)``
so the window is ``[-1, 0]`` and a critical time ``tc`` is a fraction of the
window length ``dt = t2 - t1`` after the last observation. ``m`` and ``omega``
and the sum of squared residuals do not depend on that rescaling; the linear
parameters are mapped back to the caller's time unit at the end
(:func:`fit_window`).

Cost of one evaluation of the profiled cost at ``(tc, m, omega)``: ``n`` logs,
exps, cosines and sines plus a 4x4 Cholesky solve (Filimonov & Sornette 2013).
The coarse grid shares the logs across ``m`` and ``omega``, the powers across
``omega`` and builds the cosines of an ``omega`` ladder by complex rotation, so a
grid cell costs about 25 flops per observation and no transcendental call; it
is the one kernel compiled with reassociation (``fastmath={"reassoc",
"contract"}``) so that its sums vectorise: it only ranks starting points.

:func:`fit_window`: grid scan and a few Levenberg-Marquardt iterations from each
of the best grid cells ("scouting") on a thinned copy of the window (every
``k``-th observation ending at ``t2``, ``k = n // SCOUT_POINTS``), then full
Levenberg-Marquardt on the whole window from the best scouted point, and from
the runner-up when its scouted cost is within ``POLISH_GAP`` of the best; the
best result wins. Its output row carries the derived quantities (damping,
the resolved oscillation count of :func:`resolved_oscillations`, both
relative errors).

:func:`trust_fits`: the Trust indicator's refits of synthetic series (fitted
log price plus residuals drawn with replacement), each with
:func:`fit_window`; the draws come from :func:`mix32`, a counter-based hash,
so they are reproducible and the same compiled and in plain Python.
"""

from __future__ import annotations

import math

import numpy as np

from indicators._numba import jit, prange

#: Smallest |tc - t| used in ln|tc - t| (window units in the fit kernels, the
#: caller's unit in :func:`linear_params`), so tc may fall on an observation.
TAU_FLOOR = 1e-8
#: Pivot below which the equilibrated 4x4 normal matrix is called singular.
PIVOT_TOL = 1e-13
#: Levenberg-Marquardt iterations from each start while scouting.
SCOUT_ITER = 6
#: The grid scan and the scouting run on every k-th observation, k = n // SCOUT_POINTS.
SCOUT_POINTS = 125
#: How many of the best scouted starts are polished on the full window.
POLISH = 2
#: ... but a runner-up only when its scouted cost is within this fraction of the best.
POLISH_GAP = 0.02

# Layout of one fit's output row.
OUT_TC = 0
OUT_M = 1
OUT_OMEGA = 2
OUT_A = 3
OUT_B = 4
OUT_C1 = 5
OUT_C2 = 6
OUT_SSE = 7
OUT_DAMPING = 8
OUT_OSCILLATIONS = 9
OUT_REL_ERROR = 10
OUT_NFEV = 11
OUT_REL_ERROR_PRICE = 12
NOUT = 13
OUT_NAMES = (
    "tc", "m", "omega", "a", "b", "c1", "c2", "sse",
    "damping", "oscillations", "relative_error", "nfev", "relative_error_price",
)


# --------------------------------------------------------------------------- #
# Small dense linear algebra (equilibrated Cholesky)                          #
# --------------------------------------------------------------------------- #
def chol_factor_python(a, k, low, scale):
    """Factor ``D a D = L L'`` with ``D = diag(1/sqrt(a_ii))`` (first ``k`` rows).

    Returns False when ``a`` is not numerically positive definite.
    """
    for i in range(k):
        d = a[i, i]
        if not d > 0.0 or not math.isfinite(d):
            return False
        scale[i] = 1.0 / math.sqrt(d)
    for i in range(k):
        for j in range(i + 1):
            s = a[i, j] * scale[i] * scale[j]
            for p in range(j):
                s -= low[i, p] * low[j, p]
            if i == j:
                if not s > PIVOT_TOL:
                    return False
                low[i, i] = math.sqrt(s)
            else:
                low[i, j] = s / low[j, j]
    return True


chol_factor = jit(chol_factor_python)


def chol_solve_python(k, low, scale, b, x):
    """Solve ``a x = b`` with the factor from :func:`chol_factor`."""
    for i in range(k):
        s = b[i] * scale[i]
        for p in range(i):
            s -= low[i, p] * x[p]
        x[i] = s / low[i, i]
    for i in range(k - 1, -1, -1):
        s = x[i]
        for p in range(i + 1, k):
            s -= low[p, i] * x[p]
        x[i] = s / low[i, i]
    for i in range(k):
        x[i] *= scale[i]


chol_solve = jit(chol_solve_python)


def _normal_matrix_python(mat, n, sf, sg, sh, sff, sfg, sfh, sgg, sgh, shh):
    mat[0, 0] = n
    mat[0, 1] = sf
    mat[0, 2] = sg
    mat[0, 3] = sh
    mat[1, 1] = sff
    mat[1, 2] = sfg
    mat[1, 3] = sfh
    mat[2, 2] = sgg
    mat[2, 3] = sgh
    mat[3, 3] = shh
    for i in range(4):
        for j in range(i):
            mat[i, j] = mat[j, i]


_normal_matrix = jit(_normal_matrix_python)


# --------------------------------------------------------------------------- #
# Profiled cost at one (tc, m, omega)                                         #
# --------------------------------------------------------------------------- #
def profile_cost_python(s, y, yy, tc, m, om, dbuf, lbuf, fbuf, cbuf, sbuf,
                        mat, rhs, low, scale, beta):
    """Sum of squared residuals with (A, B, C1, C2) solved exactly.

    ``y`` must be centred (sum zero; ``yy`` its sum of squares), so the
    right-hand side of the constant column is zero. Fills the basis buffers
    (``|tc - s|``, its log, ``f = |tc - s|**m``, ``cos``/``sin`` of
    ``omega*ln|tc - s|``) and ``beta``; returns ``inf`` when singular.
    """
    n = s.shape[0]
    sf = 0.0
    sg = 0.0
    sh = 0.0
    sff = 0.0
    sfg = 0.0
    sfh = 0.0
    sgg = 0.0
    sgh = 0.0
    shh = 0.0
    syf = 0.0
    syg = 0.0
    syh = 0.0
    for j in range(n):
        d = abs(tc - s[j])
        d = max(d, TAU_FLOOR)
        lj = math.log(d)
        fj = math.exp(m * lj)
        w = om * lj
        cj = math.cos(w)
        sj = math.sin(w)
        dbuf[j] = d
        lbuf[j] = lj
        fbuf[j] = fj
        cbuf[j] = cj
        sbuf[j] = sj
        gj = fj * cj
        hj = fj * sj
        yj = y[j]
        sf += fj
        sg += gj
        sh += hj
        sff += fj * fj
        sfg += fj * gj
        sfh += fj * hj
        sgg += gj * gj
        sgh += gj * hj
        shh += hj * hj
        syf += yj * fj
        syg += yj * gj
        syh += yj * hj
    _normal_matrix(mat, float(n), sf, sg, sh, sff, sfg, sfh, sgg, sgh, shh)
    rhs[0] = 0.0
    rhs[1] = syf
    rhs[2] = syg
    rhs[3] = syh
    if not chol_factor(mat, 4, low, scale):
        return np.inf
    chol_solve(4, low, scale, rhs, beta)
    sse = yy - (beta[1] * syf + beta[2] * syg + beta[3] * syh)
    if not math.isfinite(sse):
        return np.inf
    sse = max(sse, 0.0)
    return sse


profile_cost = jit(profile_cost_python)


def linear_params_python(t, y, tc, m, om, out):
    """Exact linear parameters at given nonlinear ones, in the caller's units.

    ``out`` receives ``(A, B, C1, C2, SSE)`` with the SSE computed from the
    residuals (not from the normal equations). ``tc`` is in the unit of ``t``.
    No rescaling: this is the direct Filimonov-Sornette solve used to check
    the engine and to evaluate anybody's parameters.
    """
    n = t.shape[0]
    sf = 0.0
    sg = 0.0
    sh = 0.0
    sff = 0.0
    sfg = 0.0
    sfh = 0.0
    sgg = 0.0
    sgh = 0.0
    shh = 0.0
    sy = 0.0
    syf = 0.0
    syg = 0.0
    syh = 0.0
    for j in range(n):
        d = abs(tc - t[j])
        d = max(d, TAU_FLOOR)
        lj = math.log(d)
        fj = math.exp(m * lj)
        gj = fj * math.cos(om * lj)
        hj = fj * math.sin(om * lj)
        yj = y[j]
        sf += fj
        sg += gj
        sh += hj
        sff += fj * fj
        sfg += fj * gj
        sfh += fj * hj
        sgg += gj * gj
        sgh += gj * hj
        shh += hj * hj
        sy += yj
        syf += yj * fj
        syg += yj * gj
        syh += yj * hj
    mat = np.empty((4, 4))
    low = np.zeros((4, 4))
    scale = np.empty(4)
    rhs = np.empty(4)
    beta = np.empty(4)
    _normal_matrix(mat, float(n), sf, sg, sh, sff, sfg, sfh, sgg, sgh, shh)
    rhs[0] = sy
    rhs[1] = syf
    rhs[2] = syg
    rhs[3] = syh
    if not chol_factor(mat, 4, low, scale):
        for i in range(5):
            out[i] = np.nan
        return False
    chol_solve(4, low, scale, rhs, beta)
    sse = 0.0
    for j in range(n):
        d = abs(tc - t[j])
        d = max(d, TAU_FLOOR)
        lj = math.log(d)
        fj = math.exp(m * lj)
        r = y[j] - (beta[0] + fj * (beta[1] + beta[2] * math.cos(om * lj)
                                    + beta[3] * math.sin(om * lj)))
        sse += r * r
    for i in range(4):
        out[i] = beta[i]
    out[4] = sse
    return True


linear_params = jit(linear_params_python)


# --------------------------------------------------------------------------- #
# Coarse grid over (tc, m, omega)                                             #
# --------------------------------------------------------------------------- #
def grid_costs_python(s, y, yy, lo, hi, n_tc, n_m, n_om, cost):
    """Profiled cost on the cell centres of an ``n_tc x n_m x n_om`` grid.

    ``lo``/``hi`` are the bounds of (tc [window units], m, omega). Logs are
    shared across (m, omega), powers across omega, and the cosine/sine ladder
    over omega is built by rotation: ``e^{i(w0 + k dw) l} = e^{i w0 l} (e^{i dw l})^k``.
    """
    n = s.shape[0]
    lbuf = np.empty(n)
    fbuf = np.empty(n)
    f2buf = np.empty(n)
    yfbuf = np.empty(n)
    ctab = np.empty((n_om, n))
    stab = np.empty((n_om, n))
    mat = np.empty((4, 4))
    low = np.zeros((4, 4))
    scale = np.empty(4)
    rhs = np.empty(4)
    beta = np.empty(4)
    dtc = (hi[0] - lo[0]) / n_tc
    dm = (hi[1] - lo[1]) / n_m
    dom = (hi[2] - lo[2]) / n_om
    om0 = lo[2] + 0.5 * dom
    for it in range(n_tc):
        tc = lo[0] + (it + 0.5) * dtc
        for j in range(n):
            d = abs(tc - s[j])
            d = max(d, TAU_FLOOR)
            lj = math.log(d)
            lbuf[j] = lj
            c = math.cos(om0 * lj)
            sn = math.sin(om0 * lj)
            cd = math.cos(dom * lj)
            sd = math.sin(dom * lj)
            for k in range(n_om):
                ctab[k, j] = c
                stab[k, j] = sn
                c, sn = c * cd - sn * sd, sn * cd + c * sd
        for im in range(n_m):
            m = lo[1] + (im + 0.5) * dm
            sf = 0.0
            sff = 0.0
            syf = 0.0
            for j in range(n):
                fj = math.exp(m * lbuf[j])
                f2 = fj * fj
                fbuf[j] = fj
                f2buf[j] = f2
                yfbuf[j] = y[j] * fj
                sf += fj
                sff += f2
                syf += y[j] * fj
            for k in range(n_om):
                sg = 0.0
                sh = 0.0
                sfg = 0.0
                sfh = 0.0
                sgg = 0.0
                sgh = 0.0
                shh = 0.0
                syg = 0.0
                syh = 0.0
                for j in range(n):
                    c = ctab[k, j]
                    sn = stab[k, j]
                    fj = fbuf[j]
                    f2 = f2buf[j]
                    yf = yfbuf[j]
                    sg += fj * c
                    sh += fj * sn
                    f2c = f2 * c
                    f2s = f2 * sn
                    sfg += f2c
                    sfh += f2s
                    sgg += f2c * c
                    sgh += f2c * sn
                    shh += f2s * sn
                    syg += yf * c
                    syh += yf * sn
                _normal_matrix(mat, float(n), sf, sg, sh, sff, sfg, sfh, sgg, sgh, shh)
                rhs[0] = 0.0
                rhs[1] = syf
                rhs[2] = syg
                rhs[3] = syh
                if chol_factor(mat, 4, low, scale):
                    chol_solve(4, low, scale, rhs, beta)
                    v = yy - (beta[1] * syf + beta[2] * syg + beta[3] * syh)
                    if not math.isfinite(v):
                        v = np.inf
                    elif v < 0.0:
                        v = 0.0
                    cost[it, im, k] = v
                else:
                    cost[it, im, k] = np.inf


grid_costs = jit(grid_costs_python, fastmath={"reassoc", "contract"})


def pick_starts_python(cost, n_starts, starts):
    """Indices ``(i_tc, i_m, i_omega)`` of the best ``n_starts`` grid cells that are
    local minima over their face neighbours, topped up with the best other
    cells. Returns how many rows of ``starts`` were filled."""
    n0, n1, n2 = cost.shape
    flat = cost.ravel()
    order = np.argsort(flat)
    taken = 0
    used = np.zeros(flat.shape[0], dtype=np.bool_)
    for q in range(order.shape[0]):
        if taken >= n_starts:
            break
        idx = order[q]
        v = flat[idx]
        if not math.isfinite(v):
            break
        i = idx // (n1 * n2)
        r = idx - i * n1 * n2
        j = r // n2
        k = r - j * n2
        is_min = True
        if i > 0 and cost[i - 1, j, k] < v:
            is_min = False
        if i < n0 - 1 and cost[i + 1, j, k] < v:
            is_min = False
        if j > 0 and cost[i, j - 1, k] < v:
            is_min = False
        if j < n1 - 1 and cost[i, j + 1, k] < v:
            is_min = False
        if k > 0 and cost[i, j, k - 1] < v:
            is_min = False
        if k < n2 - 1 and cost[i, j, k + 1] < v:
            is_min = False
        if is_min:
            starts[taken, 0] = i
            starts[taken, 1] = j
            starts[taken, 2] = k
            used[idx] = True
            taken += 1
    for q in range(order.shape[0]):
        if taken >= n_starts:
            break
        idx = order[q]
        if used[idx] or not math.isfinite(flat[idx]):
            continue
        i = idx // (n1 * n2)
        r = idx - i * n1 * n2
        j = r // n2
        starts[taken, 0] = i
        starts[taken, 1] = j
        starts[taken, 2] = r - j * n2
        used[idx] = True
        taken += 1
    return taken


pick_starts = jit(pick_starts_python)


# --------------------------------------------------------------------------- #
# Local search: Levenberg-Marquardt on the variable-projection functional     #
# --------------------------------------------------------------------------- #
def vp_normal_python(s, y, tc, m, om, dbuf, lbuf, fbuf, cbuf, sbuf, beta,
                     low, scale, jtj, grad):
    """Gauss-Newton normal equations of the profiled problem in (tc, m, omega).

    Kaufman's approximation of the variable-projection Jacobian,
    ``J = -P_perp dF/dtheta beta`` with ``P_perp`` the projector off the span
    of ``(1, f, g, h)``, gives ``J'J = D'D - W' M^-1 W`` (``D`` the model
    derivatives at fixed ``beta``, ``W = Phi' D``, ``M = Phi' Phi`` factored in
    ``low``/``scale``) and, as the residual is orthogonal to ``Phi``,
    ``-J'r = D'r``. Uses the basis buffers filled by :func:`profile_cost`.
    """
    n = s.shape[0]
    a0 = beta[0]
    b = beta[1]
    c1 = beta[2]
    c2 = beta[3]
    dd00 = 0.0
    dd01 = 0.0
    dd02 = 0.0
    dd11 = 0.0
    dd12 = 0.0
    dd22 = 0.0
    r0 = 0.0
    r1 = 0.0
    r2 = 0.0
    w = np.zeros((4, 3))
    for j in range(n):
        fj = fbuf[j]
        gj = fj * cbuf[j]
        hj = fj * sbuf[j]
        lj = lbuf[j]
        p = b * fj + c1 * gj + c2 * hj
        q = c2 * gj - c1 * hj
        r = y[j] - (a0 + p)
        inv = 1.0 / dbuf[j]
        if tc < s[j]:
            inv = -inv
        d0 = (m * p + om * q) * inv
        d1 = lj * p
        d2 = lj * q
        dd00 += d0 * d0
        dd01 += d0 * d1
        dd02 += d0 * d2
        dd11 += d1 * d1
        dd12 += d1 * d2
        dd22 += d2 * d2
        r0 += d0 * r
        r1 += d1 * r
        r2 += d2 * r
        w[0, 0] += d0
        w[0, 1] += d1
        w[0, 2] += d2
        w[1, 0] += fj * d0
        w[1, 1] += fj * d1
        w[1, 2] += fj * d2
        w[2, 0] += gj * d0
        w[2, 1] += gj * d1
        w[2, 2] += gj * d2
        w[3, 0] += hj * d0
        w[3, 1] += hj * d1
        w[3, 2] += hj * d2
    jtj[0, 0] = dd00
    jtj[0, 1] = dd01
    jtj[0, 2] = dd02
    jtj[1, 1] = dd11
    jtj[1, 2] = dd12
    jtj[2, 2] = dd22
    col = np.empty(4)
    x = np.empty(4)
    for a in range(3):
        for i in range(4):
            col[i] = w[i, a]
        chol_solve(4, low, scale, col, x)
        for bb in range(a, 3):
            proj = 0.0
            for i in range(4):
                proj += w[i, bb] * x[i]
            jtj[a, bb] -= proj
    for a in range(3):
        for bb in range(a):
            jtj[a, bb] = jtj[bb, a]
    grad[0] = r0
    grad[1] = r1
    grad[2] = r2


vp_normal = jit(vp_normal_python)


def local_search_python(s, y, yy, lo, hi, theta, max_iter, ftol, bufs, tbufs,
                        mat, rhs, low, scale, beta, tbeta, tlow, tscale):
    """Box-constrained Levenberg-Marquardt from ``theta`` (updated in place).

    ``bufs``/``tbufs`` are (5, n) scratch for the current and trial basis.
    Returns ``(sse, nfev)``; ``beta``/``low``/``scale`` hold the solution's linear
    parameters and factor.
    """
    sse = profile_cost(s, y, yy, theta[0], theta[1], theta[2], bufs[0], bufs[1],
                       bufs[2], bufs[3], bufs[4], mat, rhs, low, scale, beta)
    nfev = 1
    if not math.isfinite(sse):
        return sse, nfev
    jtj = np.empty((3, 3))
    grad = np.empty(3)
    amat = np.empty((3, 3))
    alow = np.zeros((3, 3))
    ascale = np.empty(3)
    step = np.empty(3)
    trial = np.empty(3)
    rgrad = np.empty(3)
    frozen = np.zeros(3, dtype=np.bool_)
    lam = 1e-3
    stall = 0
    for _it in range(max_iter):
        vp_normal(s, y, theta[0], theta[1], theta[2], bufs[0], bufs[1], bufs[2],
                  bufs[3], bufs[4], beta, low, scale, jtj, grad)
        # active set: a parameter on a bound whose descent direction points out
        # of the box stays there; the step is solved for the others.
        for a in range(3):
            frozen[a] = (theta[a] <= lo[a] and grad[a] < 0.0) or (
                theta[a] >= hi[a] and grad[a] > 0.0)
            rgrad[a] = 0.0 if frozen[a] else grad[a]
        accepted = False
        for _try in range(12):
            for a in range(3):
                for b in range(3):
                    amat[a, b] = 0.0 if (frozen[a] or frozen[b]) else jtj[a, b]
                if frozen[a]:
                    amat[a, a] = 1.0
                else:
                    amat[a, a] = jtj[a, a] * (1.0 + lam) + 1e-300
            if not chol_factor(amat, 3, alow, ascale):
                lam *= 10.0
                continue
            chol_solve(3, alow, ascale, rgrad, step)
            moved = False
            for a in range(3):
                v = theta[a] + step[a]
                if v < lo[a]:
                    v = lo[a]
                elif v > hi[a]:
                    v = hi[a]
                if not math.isfinite(v):
                    v = theta[a]
                trial[a] = v
                if v != theta[a]:
                    moved = True
            if not moved:
                break
            new = profile_cost(s, y, yy, trial[0], trial[1], trial[2], tbufs[0],
                               tbufs[1], tbufs[2], tbufs[3], tbufs[4], mat, rhs,
                               tlow, tscale, tbeta)
            nfev += 1
            if new < sse:
                accepted = True
                rel = (sse - new) / sse if sse > 0.0 else 0.0
                sse = new
                for a in range(3):
                    theta[a] = trial[a]
                for i in range(5):
                    for j in range(s.shape[0]):
                        bufs[i, j] = tbufs[i, j]
                for i in range(4):
                    beta[i] = tbeta[i]
                    scale[i] = tscale[i]
                    for j in range(4):
                        low[i, j] = tlow[i, j]
                lam = lam * 0.2
                lam = max(lam, 1e-12)
                if rel < ftol:
                    stall += 1
                else:
                    stall = 0
                break
            lam *= 5.0
        if not accepted or stall >= 2 or sse == 0.0:
            break
    return sse, nfev


local_search = jit(local_search_python)


# --------------------------------------------------------------------------- #
# Derived quantities                                                          #
# --------------------------------------------------------------------------- #
def resolved_oscillations_python(om, d1, d2, step):
    """Log-periodic oscillations the sampling resolves between ``t1`` and ``t2``.

    ``d1 = tc - t1``, ``d2 = tc - t2`` and ``step`` (the sampling interval) in
    one unit. The published count ``omega / (2 pi) ln|d1 / d2|`` with ``|d2|``
    floored at the Nyquist horizon ``omega * step / pi``: closer to ``tc`` the
    local period ``2 pi |tc - t| / omega`` is shorter than two samples, so
    those oscillations cannot be observed. 0 when nothing is resolved.
    """
    a1 = abs(d1)
    a2 = max(abs(d2), om * step / math.pi)
    if not (a2 > 0.0 and a1 > a2 and om > 0.0):
        return 0.0
    return om / (2.0 * math.pi) * math.log(a1 / a2)


resolved_oscillations = jit(resolved_oscillations_python)


def mix32_python(x):
    """A 32-bit integer hash (Wellons' "lowbias32"): a counter-based source
    of uniform 32-bit values that gives the same numbers compiled and in
    plain Python (products are masked, so int64 wrap-around is harmless)."""
    x = int(x) & 0xFFFFFFFF
    x ^= x >> 16
    x = (x * 0x7FEB352D) & 0xFFFFFFFF
    x ^= x >> 15
    x = (x * 0x846CA68B) & 0xFFFFFFFF
    x ^= x >> 16
    return x


mix32 = jit(mix32_python)


# --------------------------------------------------------------------------- #
# One window and many windows                                                 #
# --------------------------------------------------------------------------- #
def fit_window_python(t, y_raw, lo, hi, n_tc, n_m, n_om, n_starts, max_iter, ftol, out):
    """Best LPPLS fit of one window over all starts; fills ``out`` (``NOUT``).

    ``lo``/``hi``: bounds of (tc as a fraction of ``dt`` after ``t2``, m, omega).
    Outputs are in the caller's units: ``tc`` absolute, linear parameters for
    ``ln p = A + (|tc - t|)^m (B + C1 cos(w ln|tc - t|) + C2 sin(w ln|tc - t|))``.
    """
    n = t.shape[0]
    for i in range(NOUT):
        out[i] = np.nan
    t2 = t[n - 1]
    dt = t2 - t[0]
    s = np.empty(n)
    y = np.empty(n)
    ybar = 0.0
    for j in range(n):
        s[j] = (t[j] - t2) / dt
        ybar += y_raw[j]
    ybar /= n
    yy = 0.0
    for j in range(n):
        y[j] = y_raw[j] - ybar
        yy += y[j] * y[j]
    # grid and scouting run on a thinned copy (every k-th point, ending at t2)
    k = max(n // SCOUT_POINTS, 1)
    nc = (n - 1) // k + 1
    sc = np.empty(nc)
    yc = np.empty(nc)
    ycbar = 0.0
    for i in range(nc):
        j = n - 1 - (nc - 1 - i) * k
        sc[i] = s[j]
        yc[i] = y[j]
        ycbar += y[j]
    ycbar /= nc
    yyc = 0.0
    for i in range(nc):
        yc[i] -= ycbar
        yyc += yc[i] * yc[i]
    cost = np.empty((n_tc, n_m, n_om))
    grid_costs(sc, yc, yyc, lo, hi, n_tc, n_m, n_om, cost)
    nfev = n_tc * n_m * n_om
    starts = np.zeros((n_starts, 3), dtype=np.int64)
    n_found = pick_starts(cost, n_starts, starts)
    cbufs = np.empty((5, nc))
    ctbufs = np.empty((5, nc))
    bufs = np.empty((5, n))
    tbufs = np.empty((5, n))
    mat = np.empty((4, 4))
    rhs = np.empty(4)
    low = np.zeros((4, 4))
    scale = np.empty(4)
    beta = np.empty(4)
    tlow = np.zeros((4, 4))
    tscale = np.empty(4)
    tbeta = np.empty(4)
    theta = np.empty(3)
    best_sse = np.inf
    best = np.empty(3)
    best_beta = np.empty(4)
    dtc = (hi[0] - lo[0]) / n_tc
    dm = (hi[1] - lo[1]) / n_m
    dom = (hi[2] - lo[2]) / n_om
    # phase 1: a few LM iterations from every start on the thinned window;
    # phase 2: polish the POLISH best of them on the full window, keep the best
    scout_sse = np.full(n_found, np.inf)
    scout_theta = np.empty((n_found, 3))
    for q in range(n_found):
        theta[0] = lo[0] + (starts[q, 0] + 0.5) * dtc
        theta[1] = lo[1] + (starts[q, 1] + 0.5) * dm
        theta[2] = lo[2] + (starts[q, 2] + 0.5) * dom
        sse, nf = local_search(sc, yc, yyc, lo, hi, theta, SCOUT_ITER, ftol, cbufs, ctbufs,
                               mat, rhs, low, scale, beta, tbeta, tlow, tscale)
        nfev += nf
        scout_sse[q] = sse
        for a in range(3):
            scout_theta[q, a] = theta[a]
    order = np.argsort(scout_sse)
    for r in range(min(POLISH, n_found)):
        q = order[r]
        if not math.isfinite(scout_sse[q]):
            break
        if r > 0 and scout_sse[q] > scout_sse[order[0]] * (1.0 + POLISH_GAP):
            break
        for a in range(3):
            theta[a] = scout_theta[q, a]
        sse, nf = local_search(s, y, yy, lo, hi, theta, max_iter, ftol, bufs, tbufs,
                               mat, rhs, low, scale, beta, tbeta, tlow, tscale)
        nfev += nf
        if sse < best_sse:
            best_sse = sse
            for a in range(3):
                best[a] = theta[a]
            for a in range(4):
                best_beta[a] = beta[a]
    out[OUT_NFEV] = nfev
    if not math.isfinite(best_sse):
        return
    tcs = best[0]
    m = best[1]
    om = best[2]
    # residuals, SSE and relative errors in the rescaled frame (same values)
    sse = 0.0
    rel = 0.0
    relp = 0.0
    for j in range(n):
        d = abs(tcs - s[j])
        d = max(d, TAU_FLOOR)
        lj = math.log(d)
        fj = math.exp(m * lj)
        fit_c = best_beta[0] + fj * (best_beta[1] + best_beta[2] * math.cos(om * lj)
                                     + best_beta[3] * math.sin(om * lj))
        r = y[j] - fit_c
        sse += r * r
        relp += abs(math.expm1(r))
        fitted = fit_c + ybar
        if fitted != 0.0:
            rel += abs(r / fitted)
        else:
            rel = np.inf
    rel /= n
    relp /= n
    # back to the caller's time unit: |tc - t| = dt * |tcs - s|
    ldt = math.log(dt)
    sc = math.exp(-m * ldt)
    cw = math.cos(om * ldt)
    sw = math.sin(om * ldt)
    b = best_beta[1] * sc
    c1 = (best_beta[2] * cw - best_beta[3] * sw) * sc
    c2 = (best_beta[2] * sw + best_beta[3] * cw) * sc
    cc = math.sqrt(best_beta[2] * best_beta[2] + best_beta[3] * best_beta[3])
    out[OUT_TC] = t2 + tcs * dt
    out[OUT_M] = m
    out[OUT_OMEGA] = om
    out[OUT_A] = best_beta[0] + ybar
    out[OUT_B] = b
    out[OUT_C1] = c1
    out[OUT_C2] = c2
    out[OUT_SSE] = sse
    if cc > 0.0 and om > 0.0:
        out[OUT_DAMPING] = m * abs(best_beta[1]) / (om * cc)
    else:
        out[OUT_DAMPING] = np.inf
    # the mean sampling step is 1 / (n - 1) window lengths
    out[OUT_OSCILLATIONS] = resolved_oscillations(om, tcs + 1.0, tcs, 1.0 / (n - 1))
    out[OUT_REL_ERROR] = rel
    out[OUT_REL_ERROR_PRICE] = relp


fit_window = jit(fit_window_python)


def fit_windows_python(t, y, first, length, lo, hi, n_tc, n_m, n_om, n_starts,
                       max_iter, ftol, out):
    """:func:`fit_window` on ``t[first[k]:first[k]+length[k]]`` for every ``k``,
    in parallel over ``k`` (threads). ``out`` has shape ``(len(first), NOUT)``."""
    for k in prange(first.shape[0]):
        i0 = first[k]
        i1 = i0 + length[k]
        fit_window(t[i0:i1], y[i0:i1], lo, hi, n_tc, n_m, n_om, n_starts, max_iter,
                   ftol, out[k])


fit_windows = jit(fit_windows_python, parallel=True)


def resample_key_python(seed, end, length):
    """Stream key of the residual resamples of the window of ``length``
    observations ending at observation ``end`` (positions in the series)."""
    return mix32(mix32(mix32(seed) ^ end) ^ length)


resample_key = jit(resample_key_python)


def trust_fits_python(t, y, first, length, base, n_boot, seed, lo, hi, n_tc, n_m, n_om,
                      n_starts, max_iter, ftol, out):
    """Fits of synthetic series built from each window's best fit.

    Window ``k`` is ``t[first[k]:first[k]+length[k]]`` with best fit ``base[k]``
    (a :func:`fit_window` row). Its ``b``-th synthetic series is the fitted log
    price plus the residuals drawn with replacement (index ``j`` takes the
    residual at ``mix32(key ^ mix32(b * length + j)) % length``, ``key`` from
    :func:`resample_key`), fitted like the data; the fit goes to
    ``out[k * n_boot + b]``. Runs in parallel over all ``(k, b)``; NaN rows
    where the window had no fit.
    """
    n_items = first.shape[0] * n_boot
    for i in prange(n_items):
        k = i // n_boot
        b = i - k * n_boot
        n = length[k]
        i0 = first[k]
        row = out[i]
        tc = base[k, OUT_TC]
        if not math.isfinite(base[k, OUT_SSE]):
            for q in range(NOUT):
                row[q] = np.nan
            continue
        m = base[k, OUT_M]
        om = base[k, OUT_OMEGA]
        floor = TAU_FLOOR * (t[i0 + n - 1] - t[i0])
        fitted = np.empty(n)
        resid = np.empty(n)
        for j in range(n):
            d = max(abs(tc - t[i0 + j]), floor)
            lj = math.log(d)
            fv = base[k, OUT_A] + math.exp(m * lj) * (
                base[k, OUT_B] + base[k, OUT_C1] * math.cos(om * lj)
                + base[k, OUT_C2] * math.sin(om * lj))
            fitted[j] = fv
            resid[j] = y[i0 + j] - fv
        key = resample_key(seed, i0 + n - 1, n)
        ys = np.empty(n)
        for j in range(n):
            ys[j] = fitted[j] + resid[mix32(key ^ mix32(b * n + j)) % n]
        fit_window(t[i0:i0 + n], ys, lo, hi, n_tc, n_m, n_om, n_starts, max_iter, ftol, row)


trust_fits = jit(trust_fits_python, parallel=True)
