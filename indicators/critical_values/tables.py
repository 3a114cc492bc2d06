"""Reading the shipped PSY critical-value tables (``psy_lag{K}.npz``).

Each file holds, for one fixed lag ``K`` and the PSY minimum window
``w(n) = floor((0.01 + 1.8 / sqrt(n)) n)`` (Phillips, Shi & Yu 2015), the
Monte Carlo null distribution of the recursive ADF statistics for every sample
size ``n_min <= n <= n_max``; see :mod:`indicators.critical_values` for what
is stored and :mod:`indicators.critical_values.generate` for how it is made.
Lookups are pure functions of the file; files are read once per process.
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from indicators._psy_inputs import nonneg_int, positive_int, psy_min_window

__all__ = [
    "DIST_PROBS",
    "DIST_STATS",
    "TABLE_DIR",
    "TABLE_LAGS",
    "TABLE_VERSION",
    "PsyTable",
    "load_table",
    "psy_critical_value",
    "psy_pvalue",
    "table_path",
]

#: Folder of the shipped tables (beside this module).
TABLE_DIR = Path(__file__).resolve().parent
#: Lags with a shipped table.
TABLE_LAGS: tuple[int, ...] = (0, 1, 2, 3, 4)
#: Format version of the files; bumped when their layout changes.
TABLE_VERSION = 1
#: Statistics of the distribution table, in storage order.
DIST_STATS: tuple[str, ...] = ("adf", "sadf", "gsadf", "bsadf")
#: Probabilities (quantile levels) of the distribution table.
DIST_PROBS: tuple[float, ...] = (
    0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.925, 0.95,
    0.96, 0.97, 0.975, 0.98, 0.985, 0.99, 0.995, 0.999,
)
Which = Literal["adf", "sadf", "gsadf", "bsadf"]


def table_path(lag: int, directory: str | Path | None = None) -> Path:
    """Path of the table for ``lag`` in ``directory`` (default :data:`TABLE_DIR`)."""
    return Path(directory if directory is not None else TABLE_DIR) / f"psy_lag{lag}.npz"


@dataclass(frozen=True, slots=True, eq=False)
class PsyTable:
    """One lag's table (arrays read-only). Observations ``t`` are 0-based
    positions; a sample of ``n`` observations ends at ``t = n - 1``.

    Attributes
    ----------
    lag, reps, seed
        Fixed lag, Monte Carlo replications and the seed of the generator.
    n_min, n_max
        Sample sizes covered (every one in between).
    wmin, wmax
        Minimum windows covered: ``w(n_min) .. w(n_max)``.
    levels
        Quantile levels of the pointwise sequences (0.90, 0.95, 0.99).
    probs
        Quantile levels of the distribution table (:data:`DIST_PROBS`).
    badf
        ``(n_max, len(levels))``: quantiles of BADF at each observation (it
        does not depend on the window); NaN before the first window.
    win_ptr, grid_t
        Window ``w`` owns rows ``win_ptr[w - wmin] .. win_ptr[w - wmin + 1] - 1``
        of ``grid_t``, ``bsadf``, ``sadf`` and ``gsadf``: observations ``t``
        from ``w + lag`` to the last one with PSY window ``w``, every one in
        the PSY band of ``w`` and a grid elsewhere.
    bsadf, sadf, gsadf
        ``(len(grid_t), len(levels))``: quantiles of BSADF at ``t`` and of
        SADF and GSADF of the sample ``y[0..t]``, with minimum window ``w``.
    dist_n, dist
        Distribution table: ``dist[s, i, k]`` is the ``probs[k]`` quantile of
        statistic ``DIST_STATS[s]`` for a sample of ``dist_n[i]`` observations
        (``"bsadf"``: the BSADF at its last observation).
    meta
        Everything else the generator recorded (grid, checks).
    """

    lag: int
    reps: int
    seed: int
    n_min: int
    n_max: int
    wmin: int
    wmax: int
    levels: tuple[float, ...]
    probs: tuple[float, ...]
    badf: np.ndarray
    win_ptr: np.ndarray
    grid_t: np.ndarray
    bsadf: np.ndarray
    sadf: np.ndarray
    gsadf: np.ndarray
    dist_n: np.ndarray
    dist: np.ndarray
    meta: dict[str, Any]
    path: Path
    _band_row: np.ndarray

    def covers(self, n: int) -> bool:
        """Whether sample size ``n`` (with the PSY window) is in the table."""
        return self.n_min <= n <= self.n_max

    def sequences(self, n: int) -> dict[str, np.ndarray]:
        """Pointwise quantile sequences for a sample of ``n`` observations with
        the PSY window ``w(n)``: ``badf``, ``bsadf``, ``sadf`` and ``gsadf``,
        each ``(n - w - lag, len(levels))`` for observations ``w + lag .. n - 1``
        (linear interpolation between grid observations)."""
        self._check_n(n)
        w = psy_min_window(n)
        t = np.arange(w + self.lag, n)
        lo, hi = self.win_ptr[w - self.wmin], self.win_ptr[w - self.wmin + 1]
        gt = self.grid_t[lo:hi]
        out = {"badf": self.badf[t].astype(np.float64)}
        for name in ("bsadf", "sadf", "gsadf"):
            block = getattr(self, name)[lo:hi]
            out[name] = np.column_stack(
                [np.interp(t, gt, block[:, k]) for k in range(block.shape[1])])
        return out

    def at(self, n: Any, which: Which) -> np.ndarray:
        """Quantiles at :attr:`levels` of ``which`` for samples of ``n``
        observations (array-like; exact table values, no interpolation):
        shape ``(len(n), len(levels))``."""
        n_arr = np.atleast_1d(np.asarray(n, dtype=np.int64))
        for v in (n_arr.min(initial=self.n_min), n_arr.max(initial=self.n_min)):
            self._check_n(int(v))
        if which == "adf":
            return self.badf[n_arr - 1].astype(np.float64)
        if which not in ("sadf", "gsadf", "bsadf"):
            raise ValueError(f"which must be one of {DIST_STATS}, got {which!r}")
        return getattr(self, which)[self._band_row[n_arr]].astype(np.float64)

    def quantiles(self, n: int, which: Which) -> np.ndarray:
        """Quantiles at :attr:`probs` of ``which`` for ``n`` observations,
        linearly interpolated in ``n`` between the grid ``dist_n``."""
        self._check_n(n)
        s = _stat_index(which)
        i = int(np.searchsorted(self.dist_n, n, side="right")) - 1
        i = min(max(i, 0), self.dist_n.shape[0] - 2)
        n0, n1 = int(self.dist_n[i]), int(self.dist_n[i + 1])
        lam = (n - n0) / (n1 - n0)
        q = (1.0 - lam) * self.dist[s, i].astype(np.float64) + lam * self.dist[s, i + 1]
        return np.maximum.accumulate(q)

    def _check_n(self, n: int) -> None:
        if not self.n_min <= n <= self.n_max:
            raise ValueError(
                f"the shipped PSY table for lag={self.lag} covers n = {self.n_min} .. "
                f"{self.n_max} observations, not n={n}; simulate with indicators.cv.mc_cv "
                "(or regenerate the tables with a larger --n-max)")


def _stat_index(which: str) -> int:
    try:
        return DIST_STATS.index(which)
    except ValueError:
        raise ValueError(f"which must be one of {DIST_STATS}, got {which!r}") from None


@functools.lru_cache(maxsize=16)
def _load(path: Path) -> PsyTable:
    if not path.is_file():
        raise FileNotFoundError(
            f"PSY critical-value table {path} is missing; create it with "
            "`uv run python -m indicators.critical_values.generate`")
    with np.load(path, allow_pickle=False) as data:
        meta = json.loads(str(data["meta"]))
        arrays = {k: np.array(data[k]) for k in data.files if k != "meta"}
    if meta.get("version") != TABLE_VERSION:
        raise ValueError(f"{path} has table version {meta.get('version')!r}, this code reads "
                         f"version {TABLE_VERSION}; regenerate it")
    n_min, n_max, lag = int(meta["n_min"]), int(meta["n_max"]), int(meta["lag"])
    wmin, wmax = int(meta["wmin"]), int(meta["wmax"])
    win_ptr = arrays["win_ptr"].astype(np.int64)
    grid_t = arrays["grid_t"].astype(np.int64)
    band_row = np.full(n_max + 1, -1, dtype=np.int64)
    for n in range(n_min, n_max + 1):
        w = psy_min_window(n)
        lo, hi = win_ptr[w - wmin], win_ptr[w - wmin + 1]
        j = lo + int(np.searchsorted(grid_t[lo:hi], n - 1))
        if j >= hi or grid_t[j] != n - 1:
            raise ValueError(f"{path} lacks observation {n - 1} of window {w}; regenerate it")
        band_row[n] = j
    for arr in (*arrays.values(), band_row):
        arr.flags.writeable = False
    return PsyTable(
        lag=lag, reps=int(meta["reps"]), seed=int(meta["seed"]), n_min=n_min, n_max=n_max,
        wmin=wmin, wmax=wmax, levels=tuple(meta["levels"]), probs=tuple(meta["probs"]),
        badf=arrays["badf"], win_ptr=win_ptr, grid_t=grid_t, bsadf=arrays["bsadf"],
        sadf=arrays["sadf"], gsadf=arrays["gsadf"], dist_n=arrays["dist_n"].astype(np.int64),
        dist=arrays["dist"], meta=meta, path=path, _band_row=band_row,
    )


def load_table(lag: int, directory: str | Path | None = None) -> PsyTable:
    """The table for ``lag`` (read once per process and path).

    Raises
    ------
    ValueError
        No table for that lag.
    FileNotFoundError
        The file is missing (regenerate it).
    """
    lag = nonneg_int(lag, "lag")
    if directory is None and lag not in TABLE_LAGS:
        raise ValueError(f"the shipped PSY tables cover lags {TABLE_LAGS}, not lag={lag}; "
                         "simulate with indicators.cv.mc_cv")
    return _load(table_path(lag, directory).resolve())


def psy_pvalue(
    stat: Any,
    n: int,
    lag: int = 0,
    which: Which = "gsadf",
    *,
    directory: str | Path | None = None,
) -> Any:
    """Monte Carlo p-value of a PSY statistic from the shipped tables.

    Parameters
    ----------
    stat
        The statistic (a number or an array of them).
    n
        Sample size it was computed on, with the PSY minimum window.
    lag
        Fixed lag of the ADF regressions (0-4).
    which
        ``"adf"``, ``"sadf"``, ``"gsadf"`` or ``"bsadf"`` (the BSADF
        statistic at the last observation of the sample: the real-time
        reading).
    directory
        Folder of the tables (default: the shipped ones).

    Returns
    -------
    float or ndarray
        ``P(statistic > stat)`` under the random-walk null: the stored
        quantiles are interpolated linearly in ``n`` between grid sizes and
        the distribution function linearly between quantiles. Clipped to
        ``[0.001, 0.99]`` (the extreme stored levels), so 0.001 reads
        "0.001 or less".

    Examples
    --------
    >>> round(float(psy_pvalue(10.0, 500)), 3)
    0.001
    """
    n = positive_int(n, "n")
    table = load_table(lag, directory)
    q = table.quantiles(n, which)
    probs = np.asarray(table.probs)
    cdf = np.interp(np.asarray(stat, dtype=np.float64), q, probs)
    p = np.clip(1.0 - cdf, 1.0 - probs[-1], 1.0 - probs[0])
    return float(p) if np.ndim(p) == 0 else p


def psy_critical_value(
    n: int,
    lag: int = 0,
    which: Which = "gsadf",
    level: float = 0.95,
    *,
    directory: str | Path | None = None,
) -> float:
    """Critical value at ``level`` (0.90, 0.95 or 0.99) of ``which`` for a
    sample of ``n`` observations with the PSY window (exact table value).

    Examples
    --------
    >>> cv = psy_critical_value(500)
    >>> 1.5 < cv < 2.5
    True
    """
    n = positive_int(n, "n")
    table = load_table(lag, directory)
    k = level_column(table.levels, level)
    return float(table.at(n, which)[0, k])


def level_column(levels: tuple[float, ...], level: float, name: str = "level") -> int:
    """Column of ``level`` (0.9/0.95/0.99 or 90/95/99) in ``levels``; a
    ``ValueError`` naming the argument ``name`` otherwise."""
    lev = float(level)
    if lev > 1:
        lev /= 100.0
    for k, known in enumerate(levels):
        if math.isclose(known, lev, abs_tol=1e-9):
            return k
    shown = ", ".join(f"{x:g}" for x in levels)
    raise ValueError(f"{name} must be one of {shown} (or 90, 95, 99); got {level!r}")
