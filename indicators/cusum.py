"""Real-time CUSUM monitors for explosive (bubble) episodes: Homm-Breitung, AHLTZ, Breitung-Diegel.

Each procedure watches a series (log prices) observation by observation
after a training sample assumed free of explosiveness, and raises an alarm
the first time its detector crosses a boundary fixed in advance. The boundary
is calibrated so that, when the series is a random walk, the probability of
*any* alarm before the end of a monitoring horizon chosen in advance is the
nominal false-alarm rate ``alpha``. What a monitor said on a date depends only
on data up to that date (and on the horizon and ``alpha``, fixed beforehand).

:func:`hb_monitor`
    Homm & Breitung (2012): the CUSUM of returns since the end of the
    training sample, ``S_t = (y_t - y_n) / sigma_t``, against the one-sided
    boundary ``sqrt(t (b + log(t / n)))`` of Chu, Stinchcombe & White (1996).
:func:`ahltz_monitor`
    Astill, Harvey, Leybourne, Taylor & Zu (2023): the same boundary, but
    every return is divided by its own one-sided kernel spot volatility
    before cumulating, so a change in volatility does not set off alarms.
:func:`bd_monitor`
    Breitung & Diegel (2025): the (locally best invariant) CUSUM of returns
    scaled by the training volatility over a monitoring period of fixed length
    ``Tm``, against their linear (``"cusum"``) or constant (``"mcusum"``)
    boundary, or the exponentially weighted ``"wcusum"`` detector with its
    time-varying boundary, the most powerful of the three in their study.
    Chosen over the quantile-regression monitor of Wu, Shi & Wu (2025)
    because its statistics, boundaries and tabulated constants are fully
    specified in the paper and its replication files, so it can be
    implemented and checked exactly; its constants are asymptotic and do not
    depend on the training length.

Conventions
-----------
``train`` counts the *observations* of the training sample ``y[0 .. train-1]``,
so it holds ``n = train - 1`` returns; monitoring points are the observations
``train .. train + horizon - 1``. Data beyond the horizon are not monitored
(start a new monitor with a new training sample). With ``horizon=None`` the
horizon is everything after the training sample, which suits a backtest; in
real time fix it in advance, so the boundary does not move as data arrive.

Boundary constants
------------------
* Homm-Breitung: the constant ``b`` depends on ``n``, on the horizon ratio
  ``horizon / n`` and on the variance estimate, so it is simulated
  (``cusum_tables/hb_cusum.csv``, written by
  ``cusum_tables/simulate_tables.py``, 60,000 random walks per training
  size) and interpolated linearly in ``(log n, log ratio)``. Horizons shorter
  than ``0.1 n`` use the ``0.1 n`` constant (conservative: ``b`` grows with
  the horizon); training samples over 1,000 returns use the 1,000 row, where
  the dependence on ``n`` has faded. Homm & Breitung's text uses the
  variance ``sigma_t^2`` of all returns up to ``t`` (``sigma="recursive"``,
  the default); ``sigma="training"`` fixes it at the training value.
  Homm & Breitung's Table 8 tabulates ``b`` for ``n`` of 20, 50 and 100 and
  horizons of 2 to 10 times the training sample; the tests compare it with
  the shipped table.
* AHLTZ: the asymptotic constant of the same boundary (``sigma`` known,
  the ``known`` rows of the same table): AHLTZ show that the HB crossing
  function keeps its asymptotic false-alarm rate for their statistic under
  time-varying volatility.
* Breitung-Diegel: the paper's constants (``cusum_tables/breitung_diegel.csv``:
  Table 1 for CUSUM and mCUSUM, the monitoring constants of the wCUSUM
  detector by ``c_bar``, 1.25 at 5% for ``c_bar = 2.1`` as in Section 4.2),
  checked against closed forms (reflection principle; the crossing
  probability of a linear boundary by Brownian motion) and simulation by
  ``simulate_tables.py``.

Spot variance of :func:`ahltz_monitor`: ``sigma_t^2 = sum_{s=0..N} w_s
dy_{t-s}^2`` with Gaussian weights ``w_s`` proportional to ``exp(-(s/N)^2/2)``
over the current and ``N`` previous returns (``N = bandwidth``, 20 by
default). Including the current return keeps the simulated false-alarm rate
at its nominal level in samples of a few hundred observations (leaving it
out raises a 5% rate to about 6.5% at ``n = 200``, because the inverse of a
noisy variance estimate is biased upwards).

References
----------
Astill, S., Harvey, D. I., Leybourne, S. J., Taylor, A. M. R. & Zu, Y.
(2023). CUSUM-based monitoring for explosive episodes in financial data in
the presence of time-varying volatility. *Journal of Financial
Econometrics*, 21(1), 187-227.

Breitung, J. & Diegel, M. (2025). Sequential detector statistics for
speculative bubbles. *Journal of Time Series Analysis*, 46(5), 829-845.

Chu, C.-S. J., Stinchcombe, M. & White, H. (1996). Monitoring structural
change. *Econometrica*, 64(5), 1045-1065.

Homm, U. & Breitung, J. (2012). Testing for speculative bubbles in stock
markets: a comparison of alternative methods. *Journal of Financial
Econometrics*, 10(1), 198-231.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from bubblewatch.core.errors import InfeasibleTestError
from indicators import _cusum_kernels as kernels
from indicators._psy_inputs import longest_flat_run
from indicators._typing import BoolArray, Float64Array1D

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "BD_ALPHAS",
    "HB_ALPHAS",
    "MAX_FLAT_RUN",
    "MonitorResult",
    "ahltz_monitor",
    "bd_constant",
    "bd_monitor",
    "hb_constant",
    "hb_monitor",
]

TABLES = Path(__file__).resolve().parent / "cusum_tables"
#: False-alarm rates with tabulated Homm-Breitung / AHLTZ constants.
HB_ALPHAS: tuple[float, ...] = (0.10, 0.05, 0.025, 0.01)
#: False-alarm rates with tabulated Breitung-Diegel constants.
BD_ALPHAS: tuple[float, ...] = (0.10, 0.05, 0.025, 0.01, 0.005)
#: Fewest training returns of any monitor (smallest tabulated ``n``).
MIN_TRAIN_RETURNS = 20
#: Largest horizon, as a multiple of the training returns, with a tabulated
#: Homm-Breitung constant.
MAX_RATIO = 19.0
#: Longest run of unchanged consecutive values accepted (stale prices).
MAX_FLAT_RUN = 10

SigmaMode = Literal["recursive", "training"]
BdDetector = Literal["cusum", "mcusum", "wcusum"]
_SIGMA_CODES = {"recursive": kernels.SIGMA_RECURSIVE, "training": kernels.SIGMA_TRAINING}


@dataclass(frozen=True, slots=True)
class MonitorResult:
    """What a monitor said at every monitoring point (arrays are read-only).

    Attributes
    ----------
    procedure
        ``"homm_breitung"``, ``"ahltz"`` or ``"breitung_diegel"``.
    detector
        The detector: ``"cusum"`` (HB), ``"cusum_spot"`` (AHLTZ), or
        ``"cusum"``/``"mcusum"``/``"wcusum"`` (Breitung-Diegel).
    statistic, boundary
        The detector and its boundary at monitoring points ``train ..
        train + n_monitored - 1`` (same units; the detector is in units of
        the return volatility times square-root observations).
    alarm
        ``statistic > boundary`` at each point.
    scale
        The volatility the detector divides by at each point: ``sigma_t``
        (HB), the spot volatility (AHLTZ) or the training volatility (BD),
        in units of the series per observation.
    first_alarm, first_alarm_position
        Label (date) and position in the series of the first alarm, or None.
    critical_value
        The boundary constant: ``b`` (HB, AHLTZ) or ``gamma`` (BD).
    alpha
        Nominal probability of any false alarm over the horizon.
    train, horizon, n_monitored
        Training observations, planned monitoring observations, and those
        monitored so far (``min(horizon, len(series) - train)``).
    series, index, symbol
        The monitored series (log of the input with ``log=True``), its labels
        (or None) and the symbol it belongs to (or None).
    params
        Every other parameter used (read-only mapping of scalars).
    """

    procedure: str
    detector: str
    statistic: Float64Array1D
    boundary: Float64Array1D
    alarm: BoolArray
    scale: Float64Array1D
    first_alarm: Hashable | None
    first_alarm_position: int | None
    critical_value: float
    alpha: float
    train: int
    horizon: int
    n_monitored: int
    series: Float64Array1D
    index: Any
    symbol: str | None
    params: Mapping[str, float | int | str]

    @property
    def alarmed(self) -> bool:
        """True once the boundary has been crossed."""
        return self.first_alarm_position is not None

    @property
    def monitor_index(self) -> Any:
        """Labels (dates) of the monitoring points, or their positions."""
        end = self.train + self.n_monitored
        if self.index is None:
            return np.arange(self.train, end)
        return self.index[self.train:end]

    def to_frame(self) -> pd.DataFrame:
        """One row per monitoring point: ``statistic``, ``boundary``,
        ``alarm``, ``scale``, indexed by date (or position)."""
        import pandas as pd

        return pd.DataFrame(
            {"statistic": self.statistic, "boundary": self.boundary, "alarm": self.alarm,
             "scale": self.scale},
            index=self.monitor_index,
        )

    def summary(self) -> str:
        who = f" for {self.symbol}" if self.symbol else ""
        extra = ", ".join(f"{k}={v}" for k, v in self.params.items())
        first = "none" if self.first_alarm is None else _fmt(self.first_alarm)
        lines = [
            f"{_TITLES[self.procedure]}{who}: detector {self.detector}",
            f"training {self.train} observations, horizon {self.horizon} "
            f"({self.n_monitored} monitored), false-alarm rate {self.alpha:g}, "
            f"constant {self.critical_value:.4f}" + (f", {extra}" if extra else ""),
            f"first alarm: {first}",
        ]
        return "\n".join(lines)


_TITLES = {
    "homm_breitung": "Homm-Breitung CUSUM monitor",
    "ahltz": "Astill-Harvey-Leybourne-Taylor-Zu volatility-robust CUSUM monitor",
    "breitung_diegel": "Breitung-Diegel sequential detector monitor",
}


# --------------------------------------------------------------------------- #
# Public monitors                                                             #
# --------------------------------------------------------------------------- #
def hb_monitor(
    y: Any,
    train: int,
    horizon: int | None = None,
    *,
    alpha: float = 0.05,
    sigma: SigmaMode = "recursive",
    log: bool = False,
    symbol: str | None = None,
) -> MonitorResult:
    """Homm & Breitung (2012) CUSUM monitoring for an explosive episode.

    Parameters
    ----------
    y
        The series (a 1-D array or a pandas Series, whose index labels the
        result); pass log prices, or prices with ``log=True``.
    train
        Observations in the training sample (at least 21: 20 returns).
    horizon
        Monitoring observations planned (at most 19 times the training
        returns); default all observations after the training sample.
    alpha
        Nominal probability of a false alarm over the horizon; one of
        :data:`HB_ALPHAS`.
    sigma
        ``"recursive"``: ``sigma_t^2`` is the mean squared return up to
        ``t`` (Homm & Breitung); ``"training"``: the mean squared training
        return.
    log
        Monitor ``log(y)``.
    symbol
        Named in error messages and the result.

    Returns
    -------
    MonitorResult
        ``statistic`` is ``S_t = (y_t - y_n) / sigma_t``, ``boundary`` is
        ``sqrt(t (b + log(t / n)))`` with ``t`` the number of returns since
        the first observation and ``n = train - 1``.

    Raises
    ------
    InfeasibleTestError
        Training sample too short or no observation after it.
    ValueError
        Missing values, a flat stretch of stale values, bad arguments.

    Notes
    -----
    Under a random walk ``S_t`` behaves like ``W(t) - W(n)`` and the boundary
    is the one-sided CUSUM boundary of Chu, Stinchcombe & White (1996); the
    constant ``b`` for the chosen horizon comes from the simulated table (see
    the module docstring), so the false-alarm rate is ``alpha`` in finite
    samples, not only asymptotically.

    References
    ----------
    Homm, U. & Breitung, J. (2012). Testing for speculative bubbles in stock
    markets: a comparison of alternative methods. *Journal of Financial
    Econometrics*, 10(1), 198-231.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.cumsum(np.random.default_rng(3).standard_normal(300))
    >>> res = hb_monitor(y, train=100, horizon=200)
    >>> res.statistic.shape, res.alpha
    ((200,), 0.05)
    """
    procedure = "homm_breitung"
    if sigma not in _SIGMA_CODES:
        raise ValueError(f"{procedure}: sigma must be 'recursive' or 'training', got {sigma!r}")
    alpha = _alpha(alpha, HB_ALPHAS, procedure)
    values, index, train, horizon, npts = _prepare(y, train, horizon, procedure, symbol, log,
                                                   MIN_TRAIN_RETURNS + 1, MAX_RATIO)
    n = train - 1
    b = hb_constant(n, horizon, alpha, sigma)
    stat = np.empty(npts)
    scale = np.empty(npts)
    kernels.hb_detector(values, n, n + npts, _SIGMA_CODES[sigma], stat, scale)
    t = np.arange(n + 1, n + npts + 1, dtype=np.float64)
    boundary = np.sqrt(t * (b + np.log(t / n)))
    return _result(procedure, "cusum", stat, boundary, scale, b, alpha, train, horizon,
                   values, index, symbol, {"sigma": sigma})


def ahltz_monitor(
    y: Any,
    train: int,
    horizon: int | None = None,
    *,
    alpha: float = 0.05,
    bandwidth: int = 20,
    log: bool = False,
    symbol: str | None = None,
) -> MonitorResult:
    """Volatility-robust CUSUM monitoring of Astill, Harvey, Leybourne,
    Taylor & Zu (2023).

    Parameters
    ----------
    y, train, horizon, alpha, log, symbol
        As in :func:`hb_monitor`; the training sample needs at least
        ``max(20, bandwidth)`` returns.
    bandwidth
        ``N``: the spot variance averages the current and ``N`` previous
        squared returns with Gaussian kernel weights (module docstring).

    Returns
    -------
    MonitorResult
        ``statistic`` is ``sum_{j=n+1..t} dy_j / sigma_j`` with ``sigma_j``
        the spot volatility, against ``sqrt(t (b + log(t/n)))`` with the
        asymptotic constant ``b`` for the horizon.

    Raises
    ------
    InfeasibleTestError, ValueError
        As :func:`hb_monitor`.

    Notes
    -----
    Dividing every return by its own volatility makes the cumulated sum a
    random walk with unit variance under the null whatever the volatility
    path, so a volatility shift (a crash, a calm spell) does not inflate the
    false-alarm rate the way it does for the Homm-Breitung detector, at the
    price of a little power when volatility is constant.

    References
    ----------
    Astill, S., Harvey, D. I., Leybourne, S. J., Taylor, A. M. R. & Zu, Y.
    (2023). CUSUM-based monitoring for explosive episodes in financial data in
    the presence of time-varying volatility. *Journal of Financial
    Econometrics*, 21(1), 187-227.
    """
    procedure = "ahltz"
    bandwidth = _positive_int(bandwidth, "bandwidth", procedure)
    alpha = _alpha(alpha, HB_ALPHAS, procedure)
    min_train = max(MIN_TRAIN_RETURNS, bandwidth) + 1
    values, index, train, horizon, npts = _prepare(y, train, horizon, procedure, symbol, log,
                                                   min_train, MAX_RATIO)
    n = train - 1
    b = ahltz_constant(n, horizon, alpha)
    stat = np.empty(npts)
    scale = np.empty(npts)
    kernels.ahltz_detector(values, n, n + npts, spot_weights(bandwidth), stat, scale)
    t = np.arange(n + 1, n + npts + 1, dtype=np.float64)
    boundary = np.sqrt(t * (b + np.log(t / n)))
    return _result(procedure, "cusum_spot", stat, boundary, scale, b, alpha, train, horizon,
                   values, index, symbol, {"bandwidth": bandwidth, "kernel": "gaussian"})


def bd_monitor(
    y: Any,
    train: int,
    horizon: int | None = None,
    *,
    alpha: float = 0.05,
    detector: BdDetector = "wcusum",
    c_bar: float = 2.1,
    log: bool = False,
    symbol: str | None = None,
) -> MonitorResult:
    """Breitung & Diegel (2025) sequential detector monitoring.

    Parameters
    ----------
    y, train, log, symbol
        As in :func:`hb_monitor` (at least 21 training observations).
    horizon
        ``Tm``, the length of the monitoring period fixed in advance (the
        detectors are normalised by it); default all observations after the
        training sample.
    alpha
        Nominal false-alarm rate over the ``Tm`` monitoring observations; one
        of :data:`BD_ALPHAS`.
    detector
        ``"cusum"``: partial sum against the linear boundary
        ``gamma (1 + 2 r)``; ``"mcusum"``: against the constant boundary;
        ``"wcusum"`` (default): exponentially weighted partial sum (weights
        ``exp(c_bar r)``) divided by its current weight, against a constant.
        ``r = k / Tm`` for the ``k``-th monitoring observation.
    c_bar
        Weighting of ``"wcusum"`` (one of 1, 2, 2.1, 3, 4, 5, 6, 8; 2.1 is
        the paper's choice for monitoring); ignored otherwise.

    Returns
    -------
    MonitorResult
        ``statistic`` is ``(sigma sqrt(Tm))^-1 sum_{i<=k} w_{ik} dy_{n+i}``
        with ``sigma`` the standard deviation of the training returns and
        ``w_{ik} = exp(-c_bar (k - i) / Tm)`` (all 1 for CUSUM and mCUSUM).

    Raises
    ------
    InfeasibleTestError, ValueError
        As :func:`hb_monitor`; an untabulated ``c_bar``.

    Notes
    -----
    Under the null the CUSUM detector tends to a Brownian motion ``W(r)`` and
    the wCUSUM detector to the Ornstein-Uhlenbeck process
    ``int_0^r exp(-c_bar (r - a)) dW(a)`` on ``r`` in ``(0, 1]``; the
    constants are the one-sided ``1 - alpha`` quantiles of their suprema
    (relative to the boundary shape), so the false-alarm rate is controlled
    over the ``Tm`` observations.

    References
    ----------
    Breitung, J. & Diegel, M. (2025). Sequential detector statistics for
    speculative bubbles. *Journal of Time Series Analysis*, 46(5), 829-845.
    """
    procedure = "breitung_diegel"
    if detector not in ("cusum", "mcusum", "wcusum"):
        raise ValueError(f"{procedure}: detector must be 'cusum', 'mcusum' or 'wcusum', "
                         f"got {detector!r}")
    alpha = _alpha(alpha, BD_ALPHAS, procedure)
    c_eff = float(c_bar) if detector == "wcusum" else 0.0
    gamma = bd_constant(detector, c_eff, alpha)
    values, index, train, horizon, npts = _prepare(y, train, horizon, procedure, symbol, log,
                                                   MIN_TRAIN_RETURNS + 1, None)
    n = train - 1
    sigma = float(np.std(np.diff(values[:train]), ddof=1))
    stat = np.empty(npts)
    kernels.bd_detector(values, n, npts, horizon, c_eff, sigma, stat)
    r = np.arange(1, npts + 1, dtype=np.float64) / horizon
    boundary = gamma * (1.0 + 2.0 * r) if detector == "cusum" else np.full(npts, gamma)
    params: dict[str, float | int | str] = {"c_bar": c_eff} if detector == "wcusum" else {}
    return _result(procedure, detector, stat, boundary, np.full(npts, sigma), gamma, alpha,
                   train, horizon, values, index, symbol, params)


# --------------------------------------------------------------------------- #
# Boundary constants                                                          #
# --------------------------------------------------------------------------- #
def hb_constant(n: int, horizon: int, alpha: float, sigma: str = "recursive") -> float:
    """Homm-Breitung boundary constant ``b`` for ``n`` training returns and
    ``horizon`` monitoring observations (interpolated from
    ``cusum_tables/hb_cusum.csv``; see the module docstring).

    Examples
    --------
    >>> round(hb_constant(100, 100, 0.05), 2), round(hb_constant(100, 400, 0.05), 2)
    (1.5, 2.68)
    """
    table = _hb_table()
    key = (str(sigma), float(alpha))
    if key not in table:
        raise ValueError(f"no Homm-Breitung constant for sigma={sigma!r}, alpha={alpha!r}; "
                         f"sigma is 'recursive', 'training' or 'known' and alpha one of "
                         f"{', '.join(f'{a:g}' for a in HB_ALPHAS)}")
    ns, ratios, grid = table[key]
    if n < ns[0] and ns.size > 1:
        raise InfeasibleTestError(f"no Homm-Breitung constant for {n} training returns; the "
                                  f"table starts at {ns[0]:g}: use a longer training sample")
    ratio = horizon / n
    if ratio > ratios[-1] + 1e-12:
        raise ValueError(
            f"monitoring horizon {horizon} is {ratio:.1f} times the {n} training returns; "
            f"the tabulated constants reach {ratios[-1]:g} times: shorten the horizon or "
            "lengthen the training sample")
    lr = np.log(np.clip(ratio, ratios[0], ratios[-1]))
    row = np.array([np.interp(lr, np.log(ratios), grid[i]) for i in range(ns.size)])
    if ns.size == 1:
        return float(row[0])
    return float(np.interp(math.log(min(max(n, ns[0]), ns[-1])), np.log(ns), row))


def ahltz_constant(n: int, horizon: int, alpha: float) -> float:
    """Asymptotic constant of the HB boundary (``sigma`` known) for the
    horizon ratio ``horizon / n``: the AHLTZ boundary constant."""
    return hb_constant(n, horizon, alpha, "known")


def bd_constant(detector: str, c_bar: float, alpha: float) -> float:
    """Breitung-Diegel boundary constant from
    ``cusum_tables/breitung_diegel.csv`` (``c_bar = 0`` for CUSUM and
    mCUSUM).

    Examples
    --------
    >>> bd_constant("wcusum", 2.1, 0.05), bd_constant("cusum", 0, 0.05)
    (1.25, 0.85)
    """
    table = _bd_table()
    key = (str(detector), round(float(c_bar), 6), round(float(alpha), 6))
    if key not in table:
        known = sorted({c for d, c, _ in table if d == "wcusum"})
        raise ValueError(
            f"no Breitung-Diegel constant for detector={detector!r}, c_bar={c_bar!r}, "
            f"alpha={alpha!r}; wcusum c_bar is one of {', '.join(f'{c:g}' for c in known)} "
            f"and alpha one of {', '.join(f'{a:g}' for a in BD_ALPHAS)}")
    return table[key]


def spot_weights(bandwidth: int) -> np.ndarray:
    """Gaussian kernel weights ``w_s`` (``s = 0 .. bandwidth``, summing to 1)
    of the one-sided spot variance."""
    s = np.arange(bandwidth + 1, dtype=np.float64) / bandwidth
    w = np.exp(-0.5 * s * s)
    return w / w.sum()


@cache
def _hb_table() -> dict[tuple[str, float], tuple[np.ndarray, np.ndarray, np.ndarray]]:
    rows: dict[tuple[str, float], dict[tuple[int, float], float]] = {}
    with (TABLES / "hb_cusum.csv").open(newline="") as fh:
        for rec in csv.DictReader(fh):
            key = (rec["sigma"], float(rec["alpha"]))
            rows.setdefault(key, {})[(int(rec["n"]), float(rec["ratio"]))] = float(rec["b"])
    out = {}
    for key, cells in rows.items():
        ns = np.array(sorted({k[0] for k in cells}), dtype=np.float64)
        ratios = np.array(sorted({k[1] for k in cells}), dtype=np.float64)
        grid = np.array([[cells[(int(n), r)] for r in ratios] for n in ns])
        out[key] = (ns, ratios, grid)
    return out


@cache
def _bd_table() -> dict[tuple[str, float, float], float]:
    with (TABLES / "breitung_diegel.csv").open(newline="") as fh:
        return {(rec["detector"], round(float(rec["c_bar"]), 6), round(float(rec["alpha"]), 6)):
                float(rec["value"]) for rec in csv.DictReader(fh)}


# --------------------------------------------------------------------------- #
# Input checks shared with indicators.panel                                   #
# --------------------------------------------------------------------------- #
def check_series(y: Any, procedure: str, symbol: str | None = None, *, log: bool = False,
                 max_flat: int | None = MAX_FLAT_RUN) -> tuple[np.ndarray, Any]:
    """Coerce ``y`` to a float64 vector (and its index) and reject what no
    procedure here can use: 2-D input, missing or infinite values (gaps),
    non-positive values with ``log``, and (unless ``max_flat`` is None) runs
    of more than ``max_flat`` unchanged consecutive values (stale prices).
    Every message names the procedure and the symbol."""
    who = _who(procedure, symbol)
    index = getattr(y, "index", None)
    if hasattr(y, "to_numpy"):
        if getattr(y, "ndim", 1) == 2:
            if y.shape[1] != 1:
                raise ValueError(f"{who}: expected one series, got a frame with {y.shape[1]} "
                                 "columns (select one column)")
            y = y.iloc[:, 0]
        raw = y.to_numpy()
    else:
        raw, index = y, None
    try:
        values = np.array(raw, dtype=np.float64).reshape(-1) if np.ndim(raw) <= 1 else None
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{who}: the series must be numeric ({exc})") from None
    if values is None:
        raise ValueError(f"{who}: expected one series (1-D), got shape {np.shape(raw)}")
    if index is not None and len(index) != values.shape[0]:
        index = None
    bad = ~np.isfinite(values)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{who}: {int(bad.sum())} missing or infinite values (first at "
            f"{_where(index, first)}); a gap breaks the return series: fill or drop it, or "
            "start the series after its last gap")
    if log:
        nonpos = values <= 0
        if nonpos.any():
            first = int(np.flatnonzero(nonpos)[0])
            raise ValueError(f"{who}: log needs positive values, got {values[first]!r} at "
                             f"{_where(index, first)}")
        values = np.log(values)
    if max_flat is not None:
        _check_flat(values, index, who, max_flat)
    return values, index


def _prepare(y: Any, train: int, horizon: int | None, procedure: str, symbol: str | None,
             log: bool, min_train: int, max_ratio: float | None
             ) -> tuple[np.ndarray, Any, int, int, int]:
    who = _who(procedure, symbol)
    values, index = check_series(y, procedure, symbol, log=log, max_flat=None)
    train = _positive_int(train, "train", procedure)
    if train < min_train:
        raise InfeasibleTestError(
            f"{who}: a training sample of {train} observations is too short; it needs at "
            f"least {min_train} observations ({min_train - 1} returns): use a longer "
            "training sample")
    nobs = values.shape[0]
    if nobs <= train:
        raise InfeasibleTestError(
            f"{who}: the series has {nobs} observations, so nothing is left to monitor "
            f"after a training sample of {train}; it needs at least {train + 1}")
    if horizon is None:
        horizon = nobs - train
    horizon = _positive_int(horizon, "horizon", procedure)
    if max_ratio is not None and horizon > max_ratio * (train - 1) + 1e-9:
        raise ValueError(
            f"{who}: a horizon of {horizon} observations is more than {max_ratio:g} times the "
            f"{train - 1} training returns; shorten it to at most "
            f"{math.floor(max_ratio * (train - 1))} or lengthen the training sample")
    npts = min(horizon, nobs - train)
    _check_flat(values[:train + npts], index, who, MAX_FLAT_RUN)  # data beyond are not used
    if np.ptp(values[:train]) == 0.0:
        raise ValueError(f"{who}: the training sample is constant; its volatility is zero")
    return np.ascontiguousarray(values), index, train, horizon, npts


def _check_flat(values: np.ndarray, index: Any, who: str, max_flat: int) -> None:
    start, count = longest_flat_run(values)
    if count > max_flat + 1:
        raise ValueError(
            f"{who}: {count} unchanged consecutive values from {_where(index, start)} to "
            f"{_where(index, start + count - 1)} (stale prices?); at most {max_flat + 1} are "
            "accepted: fix or drop the stretch")


def _result(procedure: str, detector: str, stat: np.ndarray, boundary: np.ndarray,
            scale: np.ndarray, constant: float, alpha: float, train: int, horizon: int,
            values: np.ndarray, index: Any, symbol: str | None,
            params: dict[str, float | int | str]) -> MonitorResult:
    if np.isnan(stat).any():
        first = int(np.flatnonzero(np.isnan(stat))[0]) + train
        raise ValueError(f"{_who(procedure, symbol)}: the volatility estimate is zero at "
                         f"{_where(index, first)} (a flat stretch); fix or drop it")
    alarm = stat > boundary
    hits = np.flatnonzero(alarm)
    pos = int(hits[0]) + train if hits.size else None
    for arr in (stat, boundary, alarm, scale, values):
        arr.flags.writeable = False
    return MonitorResult(
        procedure=procedure, detector=detector, statistic=stat, boundary=boundary, alarm=alarm,
        scale=scale, first_alarm=None if pos is None else _label(index, pos),
        first_alarm_position=pos, critical_value=float(constant), alpha=alpha, train=train,
        horizon=horizon, n_monitored=int(stat.shape[0]), series=values, index=index,
        symbol=symbol, params=MappingProxyType(dict(params)),
    )


def _alpha(alpha: Any, allowed: tuple[float, ...], procedure: str) -> float:
    try:
        a = float(alpha)
    except (TypeError, ValueError):
        a = math.nan
    for v in allowed:
        if abs(a - v) < 1e-9:
            return v
    raise ValueError(f"{procedure}: alpha must be one of {', '.join(f'{v:g}' for v in allowed)} "
                     f"(the tabulated false-alarm rates), got {alpha!r}")


def _positive_int(value: Any, name: str, procedure: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{procedure}: {name} must be a positive integer, got {value!r}")
    return int(value)


def _who(procedure: str, symbol: str | None) -> str:
    return procedure + (f" ({symbol})" if symbol else "")


def _where(index: Any, pos: int) -> str:
    if index is None:
        return f"position {pos}"
    return f"position {pos} ({_fmt(index[pos])})"


def _label(index: Any, pos: int) -> Hashable:
    return int(pos) if index is None else index[pos]


def _fmt(label: Any) -> str:
    if hasattr(label, "strftime"):
        return label.strftime("%Y-%m-%d")
    return str(label)
