"""Critical values for the PSY statistics: Monte Carlo and wild bootstrap.

Two methods, each returning a :class:`CriticalValues` at the 90, 95 and 99%
levels for ADF, SADF, GSADF and for every point of the BADF and BSADF
sequences (aligned like :class:`~indicators.psy.RadfResult`):

:func:`mc_cv`
    Monte Carlo under the random-walk null ``y = cumsum(N(0, 1))`` (the
    statistics are pivotal: they do not depend on the variance or the start
    value). BADF and BSADF critical values are the pointwise quantiles of the
    simulated sequences, i.e. the finite-sample critical value of the BSADF
    statistic of a sample that ends at that point (PSY 2015, section 3).
    exuber differs on two points: its ``radf_mc_cv`` uses the quantiles of
    the running maximum of BADF (the SADF critical value of the sample up to
    that point) for the BSADF sequence, which is higher and so more
    conservative, and the constant PWY asymptotic values for BADF.
    ``bsadf_cv="sadf"`` gives exuber's BSADF rule.
:func:`wb_cv`
    Wild bootstrap of Phillips & Shi (2020): fit the null model
    ``dy[t] = mu + sum_l phi_l dy[t-l] + e[t]``, build paths
    ``dy*[t] = sum_l phi_l dy*[t-l] + w[t] e[u[t]]`` with ``w ~ N(0, 1)`` and
    ``u`` drawn uniformly with replacement, and take the quantiles of the
    largest BSADF over the first ``tb`` observations. That one number is the
    critical value for every BSADF point (family-wise size control over a
    window of ``tb - min_window - lag`` tests); ``tb = n`` gives the GSADF
    critical value. Robust to non-stationary volatility.
:func:`wb_horizon_cv`
    The same bootstrap for real-time monitoring (:mod:`indicators.psy_monitor`):
    paths that continue a series observed up to today, and the quantiles of
    their largest BSADF over today's and the next ``horizon - 1`` readings.

Both run the replications on all cores (numba ``prange`` threads, never
processes). Random numbers come from ``numpy.random.default_rng(seed)`` and
are drawn in the same order whatever the chunking, so a seed always gives the
same numbers.

Where Monte Carlo critical values come from (:attr:`CriticalValues.source`)
--------------------------------------------------------------------------
``"table"``
    The shipped tables in :mod:`indicators.critical_values` answer every
    request they cover: the PSY minimum window, a fixed lag 0-4, ``n`` up to
    5031 observations and at most as many replications as the table has
    (5000 for lag 0, 2000 for lags 1-4). The result then carries the table's
    replications and seed, not the ones asked for, so a new symbol costs no
    simulation.
``"simulation"``
    Anything else (another window, an information-criterion lag, a longer
    series, more replications, ``seed=None`` or ``use_cache=False``) is
    simulated. A simulation of length ``n_sim >= n`` with the same minimum
    window gives the exact Monte Carlo distribution for every sample size up
    to ``n_sim`` (a BSADF point only uses data up to its date), and the random
    walks are drawn time-major
    (:func:`~indicators.critical_values.simulate.random_walks`), so the
    critical value of observation ``t`` is the same number whatever ``n`` it
    was simulated for. :func:`mc_cv` simulates up to the largest sample size
    with the same PSY window (or ``n`` rounded up to a bucket for an explicit
    window; at most ~3% longer) and slices it.
``"cache"``
    With ``cache_dir`` the simulated quantiles (BADF, BSADF and their running
    maxima) are kept in ``<cache_dir>/mc_*.npz``, keyed by
    ``(n_sim, min_window, lag, ic, reps, seed)``, and read back next time. A
    daily job whose sample grows by one observation hits the cache until the
    PSY window changes. There is no default folder: without ``cache_dir``
    nothing is written anywhere (pass the configured data directory's cache
    folder to keep simulations between runs). The result depends only on the
    key, never on what happens to be cached.

References
----------
Phillips, P. C. B., Shi, S. & Yu, J. (2015). Testing for multiple bubbles:
Historical episodes of exuberance and collapse in the S&P 500. *International
Economic Review*, 56(4), 1043-1078.

Phillips, P. C. B. & Shi, S. (2020). Real time monitoring of asset markets:
Bubbles and crises. In H. D. Vinod & C. R. Rao (Eds.), *Handbook of
Statistics* 42, 61-80. Elsevier.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from bubblewatch.core.errors import InfeasibleTestError
from indicators import _psy_kernels as kernels
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
from indicators._typing import Float64Array1D, Float64Array2D
from indicators.critical_values.simulate import LEVELS, random_walks
from indicators.critical_values.tables import TABLE_LAGS, PsyTable, level_column, load_table

if TYPE_CHECKING:
    import pandas as pd

    from indicators.psy import RadfResult

__all__ = [
    "LEVELS",
    "CriticalValues",
    "mc_cv",
    "table_for",
    "wb_cv",
    "wb_horizon_cv",
]

#: Bump when the simulation changes, so old cache files are not reused.
CACHE_VERSION = 2
_METHOD_TITLES = {"mc": "Monte Carlo", "wb": "wild bootstrap (Phillips-Shi)"}
#: Values per chunk of replications handed to the kernel (bounds memory, not results).
_CHUNK_DRAWS = 1 << 20
#: Below about this many (replication x start x end) triples a bootstrap runs on
#: the calling thread: waking the other threads costs milliseconds on a busy machine.
_PARALLEL_MIN_PAIRS = 50_000_000


@dataclass(frozen=True, slots=True)
class CriticalValues:
    """Critical values at :data:`LEVELS` (arrays are read-only).

    Attributes
    ----------
    method
        ``"mc"`` (Monte Carlo) or ``"wb"`` (Phillips-Shi wild bootstrap).
    n, min_window, lag, ic
        The test they belong to (must match the :class:`RadfResult`).
    reps, seed
        Replications and the seed of ``numpy.random.default_rng``.
    adf, sadf, gsadf
        Shape ``(3,)``.
    badf, bsadf
        Shape ``(n - min_window - lag, 3)``, aligned with the statistics.
    tb
        Wild bootstrap only: the sample size of the family-wise window.
    bsadf_cv
        Monte Carlo only: ``"pointwise"`` (quantiles of the simulated BSADF at
        each point) or ``"sadf"`` (quantiles of SADF over the sample up to each
        point, exuber's rule); ``None`` for the wild bootstrap.
    source
        ``"table"`` (the shipped tables), ``"cache"`` (a simulation read back
        from ``cache_dir``) or ``"simulation"`` (simulated in this call).
    sadf_seq, gsadf_seq
        Monte Carlo only: shape ``(n - min_window - lag, 3)``, the SADF and
        GSADF critical values of the sample that ends at each point (what a
        real-time gate compares with); ``None`` for the wild bootstrap.
    """

    method: Literal["mc", "wb"]
    n: int
    min_window: int
    lag: int
    ic: str | None
    reps: int
    seed: int | None
    adf: Float64Array1D
    sadf: Float64Array1D
    gsadf: Float64Array1D
    badf: Float64Array2D
    bsadf: Float64Array2D
    levels: tuple[float, ...] = LEVELS
    tb: int | None = None
    bsadf_cv: str | None = None
    source: Literal["table", "cache", "simulation"] = "simulation"
    sadf_seq: Float64Array2D | None = None
    gsadf_seq: Float64Array2D | None = None

    @property
    def method_title(self) -> str:
        return _METHOD_TITLES[self.method]

    def level_index(self, sig_level: float) -> int:
        """Column of ``sig_level`` (0.9/0.95/0.99 or 90/95/99)."""
        return level_column(self.levels, sig_level, "sig_level")

    def check_matches(self, result: RadfResult) -> None:
        """Raise ``ValueError`` unless these critical values belong to ``result``."""
        mine = (self.n, self.min_window, self.lag, self.ic)
        theirs = (result.n, result.min_window, result.lag, result.ic)
        if mine != theirs:
            raise ValueError(
                "critical values do not match the statistics: they are for "
                f"(n, min_window, lag, ic) = {mine}, the statistics for {theirs}; compute "
                f"them with mc_cv({result.n}, {result.min_window}, {result.lag}, "
                f"ic={result.ic!r}) or wb_cv on the same series"
            )

    def to_frame(self, index: Any = None) -> pd.DataFrame:
        """BADF/BSADF critical-value sequences, one row per point:
        ``badf_cv90, ..., bsadf_cv99`` (``index`` defaults to positions)."""
        import pandas as pd

        cols: dict[str, np.ndarray] = {}
        for name, arr in (("badf", self.badf), ("bsadf", self.bsadf)):
            for k, lev in enumerate(self.levels):
                cols[f"{name}_cv{round(lev * 100)}"] = arr[:, k]
        if index is None:
            index = pd.RangeIndex(self.n - self.badf.shape[0], self.n)
        return pd.DataFrame(cols, index=index)

    def summary(self) -> str:
        head = "".join(f"{round(lev * 100):>9}%" for lev in self.levels)
        lines = [
            (f"PSY critical values: {self.method_title}, {self.reps} replications, "
             f"seed {self.seed} ({self.source})"),
            (f"n = {self.n}, min_window = {self.min_window}, lag = {self.lag}"
             + (f" ({self.ic})" if self.ic else "")
             + (f", tb = {self.tb}" if self.tb is not None else "")
             + (f", BSADF critical values: {self.bsadf_cv}" if self.bsadf_cv else "")),
            f"  {'':<6}{head}",
        ]
        for k in ("adf", "sadf", "gsadf"):
            lines.append(f"  {k:<6}" + "".join(f"{c:>10.4f}" for c in getattr(self, k)))
        return "\n".join(lines)


# --------------------------------------------------------------------------- #
# Monte Carlo                                                                 #
# --------------------------------------------------------------------------- #
def mc_cv(
    n: int,
    min_window: int | None = None,
    lag: int = 0,
    *,
    ic: Literal["aic", "bic"] | None = None,
    reps: int = 2000,
    seed: int | None = 0,
    cache_dir: str | os.PathLike[str] | None = None,
    use_cache: bool = True,
    bsadf_cv: Literal["pointwise", "sadf"] = "pointwise",
    tables: bool = True,
) -> CriticalValues:
    """Monte Carlo critical values under the random-walk null.

    Parameters
    ----------
    n
        Sample size of the series the statistics were computed on.
    min_window, lag, ic
        As in :func:`~indicators.psy.radf` (``min_window=None``: PSY rule on ``n``).
    reps
        Replications (at least; the shipped tables may answer with more).
    seed
        Seed of ``numpy.random.default_rng``; ``None`` draws fresh entropy
        (and skips the tables and the cache).
    cache_dir
        Folder that keeps simulations between calls (``mc_*.npz`` files are
        written directly in it). ``None``: no disk cache; nothing is written.
    use_cache
        Use stored results: the shipped tables and ``cache_dir``. ``False``
        always simulates afresh (and writes nothing).
    bsadf_cv
        ``"pointwise"``: the BSADF critical value at each point is the quantile
        of the simulated BSADF there (PSY 2015). ``"sadf"``: the quantile of
        the SADF statistic of the sample up to that point, as exuber's
        ``radf_mc_cv``; higher, so fewer and shorter episodes. Both come from
        the same simulation (and table or cache entry).
    tables
        Let the shipped tables answer when they cover the request. ``False``
        simulates (and uses ``cache_dir``), so that the values do not depend
        on whether ``n`` happens to fall in a table (what a monitor that
        fixes its window needs).

    Returns
    -------
    CriticalValues
        ``method="mc"``; BADF critical values are pointwise; ``source`` says
        whether the shipped tables, the cache or a fresh simulation answered
        (the tables carry their own ``reps`` and ``seed``).

    Notes
    -----
    The shipped tables answer when they cover the request (module
    docstring): no simulation, microseconds. Otherwise it simulates
    ``n_sim >= n`` observations with ``reps x n_sim`` standard normal draws.
    Memory: the draws (8 bytes each) and two ``reps x n_sim`` float32 arrays
    (for n = 1000 and 2000 replications: 16 MB + 16 MB) plus about 50 MB of
    working buffers.

    Examples
    --------
    >>> cv = mc_cv(100, reps=200, seed=1, use_cache=False)
    >>> cv.bsadf.shape, bool(cv.gsadf[0] < cv.gsadf[2]), cv.source
    ((81, 3), True, 'simulation')
    >>> mc_cv(500).source
    'table'
    """
    n = positive_int(n, "n")
    lag = nonneg_int(lag, "lag")
    reps = _reps(reps)
    if ic not in IC_CODES:
        raise ValueError(f"ic must be None, 'aic' or 'bic', got {ic!r}")
    if n < MIN_OBS:
        raise InfeasibleTestError(
            f"n={n} is too short for the PSY test (at least {MIN_OBS} observations)")
    minw = check_window(n, min_window, lag)
    seed = _seed(seed)
    if bsadf_cv not in ("pointwise", "sadf"):
        raise ValueError(f"bsadf_cv must be 'pointwise' or 'sadf', got {bsadf_cv!r}")
    ic_eff = ic if lag > 0 else None
    npts = n - minw - lag
    table = None
    if tables and use_cache and seed is not None:
        table = table_for(n, minw, lag, ic_eff, reps)
    if table is not None:
        out = table.sequences(n)
        reps, seed, source = table.reps, table.seed, "table"
    else:
        n_sim = _sim_length(n, minw)
        path = None
        sim = None
        source = "simulation"
        if use_cache and seed is not None and cache_dir is not None:
            path = Path(cache_dir).expanduser() / _cache_name(n_sim, minw, lag, ic_eff, reps,
                                                             seed)
            sim = _read_cache(path, n_sim - minw - lag)
            source = "cache" if sim is not None else "simulation"
        if sim is None:
            sim = simulate_mc_table(n_sim, minw, lag, ic_eff, reps, seed)
            if path is not None:
                _write_cache(path, sim, {"n_sim": n_sim, "min_window": minw, "lag": lag,
                                         "ic": ic_eff, "reps": reps, "seed": seed,
                                         "version": CACHE_VERSION})
        out = {k: np.array(v[:npts], dtype=np.float64) for k, v in sim.items()}
    return _freeze(CriticalValues(
        method="mc", n=n, min_window=minw, lag=lag, ic=ic_eff, reps=reps, seed=seed,
        adf=out["badf"][-1].copy(), sadf=out["sadf"][-1].copy(),
        gsadf=out["gsadf"][-1].copy(), badf=out["badf"],
        bsadf=out["bsadf"] if bsadf_cv == "pointwise" else out["sadf"], bsadf_cv=bsadf_cv,
        source=source, sadf_seq=out["sadf"], gsadf_seq=out["gsadf"],
    ))


def table_for(n: int, min_window: int, lag: int, ic: str | None, reps: int) -> PsyTable | None:
    """The shipped table that answers a Monte Carlo request, or ``None``: it
    must be for the PSY window of ``n``, a fixed lag with a table, ``n`` in
    its range and no more replications than it has."""
    if ic is not None or lag not in TABLE_LAGS or min_window != psy_min_window(n):
        return None
    table = load_table(lag)
    if not table.covers(n) or reps > table.reps:
        return None
    return table


def simulate_mc_table(
    n_sim: int, min_window: int, lag: int, ic: str | None, reps: int, seed: int | None
) -> dict[str, np.ndarray]:
    """Pointwise quantiles (``n_sim - min_window - lag`` x 3) of BADF, BSADF
    and of their running maxima (SADF, GSADF of every shorter sample) over
    ``reps`` random walks of length ``n_sim``, drawn time-major (the first
    ``m`` observations of every walk are the same for any ``n_sim >= m``).
    Pure computation, no I/O."""
    npts = n_sim - min_window - lag
    paths = random_walks(reps, n_sim, np.random.default_rng(seed))
    badf = np.empty((reps, npts), dtype=np.float32)
    bsadf = np.empty((reps, npts), dtype=np.float32)
    chunk = max(1, min(reps, _CHUNK_DRAWS // n_sim))
    code = IC_CODES[ic]
    out_b = np.empty((chunk, npts))
    out_bs = np.empty((chunk, npts))
    for s in range(0, reps, chunk):
        c = min(chunk, reps - s)
        kernels.sequences(paths[s:s + c], min_window, lag, code, 1, out_bs[:c], out_b[:c])
        badf[s:s + c] = out_b[:c]
        bsadf[s:s + c] = out_bs[:c]
    del paths
    probs = np.array(LEVELS)
    table = {}
    for name, arr in (("badf", badf), ("bsadf", bsadf)):
        by_point = np.ascontiguousarray(arr.T)  # one row per point: contiguous quantiles
        q = np.empty((npts, len(LEVELS)))
        kernels.row_quantiles(by_point, probs, False, q)
        table[name] = q
        q = np.empty((npts, len(LEVELS)))
        kernels.row_quantiles(by_point, probs, True, q)  # running max, in place
        table["sadf" if name == "badf" else "gsadf"] = q
    return table


# --------------------------------------------------------------------------- #
# Wild bootstrap (Phillips & Shi 2020)                                        #
# --------------------------------------------------------------------------- #
def wb_cv(
    y: Any,
    min_window: int | None = None,
    lag: int = 0,
    *,
    ic: Literal["aic", "bic"] | None = None,
    reps: int = 500,
    seed: int | None = 0,
    tb: int | None = None,
    log: bool = False,
) -> CriticalValues:
    """Wild-bootstrap critical values of Phillips & Shi (2020).

    Parameters
    ----------
    y
        The series tested with :func:`~indicators.psy.radf` (same ``log``).
    min_window, lag, ic
        As in :func:`~indicators.psy.radf`. The null model uses ``lag``
        lagged differences, or the lag chosen by ``ic`` (up to ``lag``) on the
        full sample; the bootstrap statistics use the same settings as the test.
    reps
        Bootstrap replications.
    seed
        Seed of ``numpy.random.default_rng`` (``None``: fresh entropy).
    tb
        Sample size of the family-wise window: the BSADF critical value is
        the quantile of the largest BSADF over observations
        ``min_window + lag .. tb - 1`` of the bootstrap paths. PS (2020) use
        ``min_window`` plus the span to be monitored, e.g. one year. Default
        ``n`` (the GSADF critical value).
    log
        Bootstrap ``log(y)``.

    Returns
    -------
    CriticalValues
        ``method="wb"``; ``badf``/``bsadf`` are constant over the points
        (family-wise over ``tb``); ``adf``/``sadf``/``gsadf`` come from the
        full-length paths.

    Notes
    -----
    Every path has the full length ``n`` (so ADF/SADF/GSADF critical values
    come from the same replications); the BSADF of the first ``tb``
    observations equals that of a path of length ``tb``.
    """
    values, _ = as_series(y, log=log)
    n = values.shape[0]
    lag = nonneg_int(lag, "lag")
    reps = _reps(reps)
    if ic not in IC_CODES:
        raise ValueError(f"ic must be None, 'aic' or 'bic', got {ic!r}")
    minw = check_window(n, min_window, lag)
    seed = _seed(seed)
    offset = minw + lag
    if tb is None:
        tb = n
    else:
        tb = positive_int(tb, "tb")
        if not offset < tb <= n:
            raise ValueError(
                f"tb={tb} must be larger than min_window + lag = {offset} and at most "
                f"n = {n}; it is the length of the family-wise window"
            )
    ic_eff = ic if lag > 0 else None
    z = standardise(values)
    k0 = _select_null_lag(z, lag, ic_eff)
    phi, resid = _null_fit(z, k0)
    dz = np.diff(z)
    rng = np.random.default_rng(seed)
    npts = n - offset
    badf = np.empty((reps, npts), dtype=np.float32)
    bsadf = np.empty((reps, npts), dtype=np.float32)
    chunk = max(1, min(reps, _CHUNK_DRAWS // n))
    code = IC_CODES[ic_eff]
    dy_init = np.ascontiguousarray(dz[:k0])
    out_b = np.empty((chunk, npts))
    out_bs = np.empty((chunk, npts))
    paths = np.empty((chunk, n))
    for s in range(0, reps, chunk):
        c = min(chunk, reps - s)
        idx = rng.integers(0, resid.shape[0], size=(c, n - 1))
        mult = rng.standard_normal((c, n - 1))
        kernels.wb_paths(0.0, dy_init, phi, resid, idx, mult, paths[:c])
        kernels.sequences(paths[:c], minw, lag, code, 1, out_bs[:c], out_b[:c])
        badf[s:s + c] = out_b[:c]
        bsadf[s:s + c] = out_bs[:c]
    nfw = tb - offset
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows: NaN
        stats = np.column_stack([
            badf[:, -1], np.nanmax(badf, axis=1), np.nanmax(bsadf, axis=1),
            np.nanmax(badf[:, :nfw], axis=1), np.nanmax(bsadf[:, :nfw], axis=1),
        ]).astype(np.float64)
        q = np.nanquantile(stats, LEVELS, axis=0)  # (3 levels, 5 statistics)
    return _freeze(CriticalValues(
        method="wb", n=n, min_window=minw, lag=lag, ic=ic_eff, reps=reps, seed=seed,
        adf=q[:, 0].copy(), sadf=q[:, 1].copy(), gsadf=q[:, 2].copy(),
        badf=np.tile(q[:, 3], (npts, 1)), bsadf=np.tile(q[:, 4], (npts, 1)), tb=tb,
    ))


def wb_horizon_cv(
    y: Any,
    min_window: int,
    lag: int = 0,
    *,
    horizon: int,
    reps: int = 499,
    seed: int | None = 0,
    weights: Literal["rademacher", "normal"] = "rademacher",
    log: bool = False,
) -> Float64Array1D:
    """Phillips-Shi (2020) wild-bootstrap critical values for the next
    ``horizon`` BSADF readings of a series observed up to today.

    Parameters
    ----------
    y
        The series up to today (``n`` observations, today last).
    min_window, lag
        Minimum window (regression rows) and fixed lag of the BSADF readings.
    horizon
        Number of readings covered: today's and the next ``horizon - 1``.
    reps
        Bootstrap replications.
    seed
        Seed of ``numpy.random.default_rng`` (``None``: fresh entropy).
    weights
        Distribution of the wild-bootstrap multipliers ``w``: ``"rademacher"``
        (+1 or -1 with equal chance) or ``"normal"`` (``N(0, 1)``, as
        :func:`wb_cv` and Phillips & Shi 2020). With residuals drawn at random
        dates, normal multipliers make the bootstrap innovations the product
        of two normals (kurtosis 9 for Gaussian data), which fattens the tail
        of the largest BSADF: the family-wise size under a Gaussian random walk
        came out near 2-3% for a nominal 5% (``benchmarks/sim_psy_monitor.py``),
        against about 5% with Rademacher multipliers, whose innovations have
        the residuals' own distribution.
    log
        Bootstrap ``log(y)``.

    Returns
    -------
    ndarray
        Shape ``(3,)``: the 90/95/99% quantiles of the largest bootstrap
        BSADF over observations ``n - 1 .. n + horizon - 2``. Compared with
        each of those readings, the chance of at least one false alarm among
        them is about 10/5/1% (family-wise size over the horizon).

    Notes
    -----
    The null model ``dy[t] = mu + sum_l phi_l dy[t-l] + e[t]`` is fitted on
    ``y``; each bootstrap path has ``n + horizon - 1`` observations,
    ``dy*[t] = sum_l phi_l dy*[t-l] + w[t] e[u[t]]`` after the first ``lag``
    observed differences, with ``u`` uniform indices of the residuals and
    ``w`` the multipliers, drawn in that order as two
    ``reps x (n + horizon - 2)`` arrays (``rng.integers(0, n_resid)``, then
    ``2 * rng.integers(0, 2) - 1`` or ``rng.standard_normal``). Unlike ``wb_cv(..., tb=...)``, whose
    family-wise window starts at the first BSADF point, the window here sits
    where the readings to be monitored sit, so a long training sample does
    not make it too short-sighted.
    """
    values, _ = as_series(y, log=log)
    n = values.shape[0]
    lag = nonneg_int(lag, "lag")
    minw = positive_int(min_window, "min_window")
    horizon = positive_int(horizon, "horizon")
    reps = _reps(reps)
    seed = _seed(seed)
    if weights not in ("rademacher", "normal"):
        raise ValueError(f"weights must be 'rademacher' or 'normal', got {weights!r}")
    if n - 1 < minw + lag or minw < lag + 3:
        raise InfeasibleTestError(
            f"wb_horizon_cv: {n} observations give no BSADF reading with min_window={minw} "
            f"and lag={lag}; it needs min_window >= lag + 3 and at least "
            f"min_window + lag + 1 = {minw + lag + 1} observations")
    z = standardise(values)
    phi, resid = _null_fit(z, lag)
    length = n + horizon - 1
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, resid.shape[0], size=(reps, length - 1))
    if weights == "normal":
        mult = rng.standard_normal((reps, length - 1))
    else:
        mult = 2.0 * rng.integers(0, 2, size=(reps, length - 1)) - 1.0
    paths = np.empty((reps, length))
    kernels.wb_paths(0.0, np.ascontiguousarray(np.diff(z)[:lag]), phi, resid, idx, mult, paths)
    npts = length - minw - lag
    if lag == 0:
        # only the last ``horizon`` points are read: O(horizon * length) per path
        tail = np.empty((reps, horizon))
        kernels.tail_bsadf_lag0(paths, minw, horizon, tail)
    else:
        bsadf = np.empty((reps, npts))
        badf = np.empty((reps, npts))
        if reps * length * length < _PARALLEL_MIN_PAIRS:  # threads cost more than they save
            kernels.sequences_serial(paths, minw, lag, kernels.IC_FIXED, bsadf, badf)
        else:
            kernels.sequences(paths, minw, lag, kernels.IC_FIXED, 1, bsadf, badf)
        tail = bsadf[:, npts - horizon:]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows: NaN
        peak = np.nanmax(tail, axis=1)
        return np.nanquantile(peak, LEVELS)


def _select_null_lag(z: np.ndarray, lag: int, ic: str | None) -> int:
    """Lag of the null model: ``lag``, or the AIC/BIC choice up to ``lag``
    fitted on the common rows of the ADF regression (full sample)."""
    if ic is None or lag == 0:
        return lag
    n = z.shape[0]
    t = np.arange(lag + 1, n)
    dz = np.diff(z)
    dep = dz[t - 1]
    m = dep.shape[0]
    pen = 2.0 if ic == "aic" else math.log(m)
    best, best_k = math.inf, 0
    for k in range(lag + 1):
        cols = [np.ones(m), z[t - 1]] + [dz[t - 1 - lg] for lg in range(1, k + 1)]
        x = np.column_stack(cols)
        beta, *_ = np.linalg.lstsq(x, dep, rcond=None)
        ssr = float(np.sum((dep - x @ beta) ** 2))
        crit = m * math.log(ssr / m) + pen * (k + 2)
        if crit < best:
            best, best_k = crit, k
    return best_k


def _null_fit(z: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """OLS of ``dz[t]`` on a constant and ``dz[t-1..t-k]``: (phi, residuals)."""
    dz = np.diff(z)
    rows = np.arange(k, dz.shape[0])
    x = np.column_stack([np.ones(rows.shape[0])] + [dz[rows - lg] for lg in range(1, k + 1)])
    beta, *_ = np.linalg.lstsq(x, dz[rows], rcond=None)
    resid = dz[rows] - x @ beta
    return np.ascontiguousarray(beta[1:]), np.ascontiguousarray(resid)


# --------------------------------------------------------------------------- #
# Cache plumbing                                                              #
# --------------------------------------------------------------------------- #
def _sim_length(n: int, minw: int) -> int:
    """Length actually simulated for ``n`` observations and window ``minw``.

    With the PSY-rule window: the largest sample size that still has that
    window, so every series (and every day of a growing series) with the same
    window shares one simulation; the window changes every
    ``1 / (0.01 + 0.9 / sqrt(n))`` observations (~45 at n = 2000), so this is
    at most ~2.5% longer than ``n``. Otherwise ``n`` rounded up to a multiple
    of ``2**(floor(log2 n) - 5)`` (at least 8), at most ~3% longer.
    """
    if minw == psy_min_window(n):
        m = n
        while psy_min_window(m + 1) == minw:
            m += 1
        return m
    step = max(8, 1 << max(0, n.bit_length() - 6))
    return -(-n // step) * step


def _cache_name(n_sim: int, minw: int, lag: int, ic: str | None, reps: int, seed: int) -> str:
    return (f"mc_n{n_sim}_w{minw}_l{lag}_{ic or 'fixed'}_r{reps}_s{seed}"
            f"_v{CACHE_VERSION}.npz")


def _read_cache(path: Path, npts: int) -> dict[str, np.ndarray] | None:
    try:
        with np.load(path, allow_pickle=False) as data:
            table = {k: np.array(data[k]) for k in ("badf", "bsadf", "sadf", "gsadf")}
    except (OSError, KeyError, ValueError):
        return None
    if any(v.shape != (npts, len(LEVELS)) for v in table.values()):
        return None
    return table


def _write_cache(path: Path, table: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
    """Atomic write (temporary file + rename); an unwritable cache is not an error."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.stem, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, meta=np.array(json.dumps(meta)), **table)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        pass


def _freeze(cv: CriticalValues) -> CriticalValues:
    for arr in (cv.adf, cv.sadf, cv.gsadf, cv.badf, cv.bsadf, cv.sadf_seq, cv.gsadf_seq):
        if arr is not None:
            arr.flags.writeable = False
    return cv


def _reps(reps: Any) -> int:
    reps = positive_int(reps, "reps")
    if reps < 10:
        raise ValueError(f"reps must be at least 10 for 90/95/99% quantiles, got {reps}")
    return reps


def _seed(seed: Any) -> int | None:
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer or None, got {seed!r}")
    return int(seed)
