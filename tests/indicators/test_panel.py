"""Tests of the cohort statistics (:mod:`indicators.panel`).

References, each able to fail on its own:

* :func:`indicators.psy.radf` (itself checked against pyexuber): a panel of
  identical series, and the panel kernel run on one series, give the
  individual BSADF and BADF;
* a slow plain reference of the panel BADF/BSADF (one least-squares fit per
  window and series, averaged by hand) on random, unbalanced and real panels;
* the bootstrap checked replication by replication: the replicated panels
  keep the dates' residual vectors together, and the critical values are the
  quantiles of the panel statistic computed on each replicated panel;
* a slow reference of the co-explosiveness statistic, its size and power in
  small simulations (binomial tolerance) and recovery of a known lead.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pandas as pd
import pytest

from bubblewatch.core.errors import DataQualityWarning, InfeasibleTestError
from indicators import _psy_kernels as psy_kernels
from indicators import panel as panel_mod
from indicators.panel import (
    coexplosive_test,
    cohort_reading,
    panel_radf,
    panel_sb_cv,
)
from indicators.psy import radf
from tests.conftest import REPO_ROOT, load_shared_prices

Z_TOL = 3.5


def weekly(symbol: str) -> pd.Series:
    return load_shared_prices(symbol)["adj_close"].resample("W-FRI").last().dropna()


# --------------------------------------------------------------------------- #
# Slow references                                                             #
# --------------------------------------------------------------------------- #
def adf_t(y: np.ndarray, r0: int, r1: int, lag: int) -> float:
    """t-ratio of b - 1 in y[t] = a + b y[t-1] + sum phi dy[t-l], rows r0..r1."""
    t = np.arange(r0, r1 + 1) + 1 + lag
    cols = [np.ones(t.size), y[t - 1]] + [y[t - j] - y[t - j - 1] for j in range(1, lag + 1)]
    x = np.column_stack(cols)
    beta, *_ = np.linalg.lstsq(x, y[t], rcond=None)
    resid = y[t] - x @ beta
    cov = np.linalg.inv(x.T @ x) * (resid @ resid) / (t.size - x.shape[1])
    return (beta[1] - 1.0) / math.sqrt(cov[1, 1])


def slow_panel(panel: np.ndarray, minw: int, lag: int, min_series: int = 2):
    """Panel BADF (start row 0) and BSADF from the definition: for each window
    of global rows the mean of the t-ratios of the series observed throughout
    it (rows r need observations r .. r + 1 + lag), then the sup over starts."""
    n_obs, nser = panel.shape
    nrow = n_obs - 1 - lag
    npts = nrow - minw + 1
    bsadf = np.full(npts, -np.inf)
    badf = np.full(npts, np.nan)
    for i in range(npts):
        e = minw - 1 + i
        for s in range(i + 1):
            vals = [adf_t(panel[:, k], s, e, lag) for k in range(nser)
                    if np.isfinite(panel[s:e + 2 + lag, k]).all()]
            if len(vals) >= min_series:
                m = float(np.mean(vals))
                bsadf[i] = max(bsadf[i], m)
                if s == 0:
                    badf[i] = m
    bsadf[~np.isfinite(bsadf)] = np.nan
    return badf, bsadf


# --------------------------------------------------------------------------- #
# The statistic                                                               #
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize(("lag", "ic"), [(0, None), (1, None), (2, None), (2, "bic")])
def test_identical_series_give_the_individual_bsadf(lag: int, ic: str | None) -> None:
    y = np.log(weekly("NVDA").iloc[-300:]).to_numpy()
    single = radf(y, lag=lag, ic=ic)
    pan = panel_radf(np.column_stack([y, y, y]), lag=lag, ic=ic)
    np.testing.assert_allclose(pan.bsadf, single.bsadf, rtol=0, atol=1e-9)
    np.testing.assert_allclose(pan.badf, single.badf, rtol=0, atol=1e-9)
    assert pan.gsadf == pytest.approx(single.gsadf, abs=1e-9)
    assert (pan.n_series == 3).all()


def test_panel_kernel_on_one_series_is_radf() -> None:
    y = np.cumsum(np.random.default_rng(8).standard_normal(250))
    single = radf(y, lag=1)
    z = ((y - y[0]) / 3.0)[None, None, :]  # the t-ratio ignores shift and scale
    npts = single.bsadf.size
    bs, b, nu = np.empty((1, npts)), np.empty((1, npts)), np.empty((1, npts), dtype=np.int64)
    psy_kernels.panel_sequences(z, np.array([0]), np.array([249]), single.min_window, 1, 0, 1,
                                2, bs, b, nu)
    np.testing.assert_allclose(bs[0], single.bsadf, atol=1e-9)
    np.testing.assert_allclose(b[0], single.badf, atol=1e-9)


def test_panel_matches_slow_reference_on_random_unbalanced_panel() -> None:
    rng = np.random.default_rng(3)
    data = np.cumsum(rng.standard_normal((70, 3)), axis=0)
    data[:20, 2] = np.nan  # listed late
    data[62:, 1] = np.nan  # delisted early
    for lag in (0, 1):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            pan = panel_radf(data, min_window=12, lag=lag)
        badf, bsadf = slow_panel(data, 12, lag)
        np.testing.assert_allclose(pan.bsadf, bsadf, atol=1e-9)
        np.testing.assert_allclose(pan.badf, badf, atol=1e-9)
        assert pan.first == (0, 0, 20) and pan.last == (69, 61, 69)
        assert pan.n_series.min() >= 2


def test_panel_matches_slow_reference_on_real_prices() -> None:
    cols = {s: np.log(weekly(s)) for s in ("NVDA", "CSCO", "^IXIC", "CRWV")}
    frame = pd.DataFrame(cols).loc["2024-06-01":"2025-12-31"]
    assert frame["CRWV"].first_valid_index() > frame.index[0]  # listed 2025-03-28
    pan = panel_radf(frame, min_window=20)
    badf, bsadf = slow_panel(frame.to_numpy(), 20, 0)
    np.testing.assert_allclose(pan.bsadf, bsadf, atol=1e-9)
    np.testing.assert_allclose(pan.badf, badf, atol=1e-9)
    assert pan.symbols == ("NVDA", "CSCO", "^IXIC", "CRWV")
    assert pan.to_frame().index[0] == frame.index[20]


_PARITY_SCRIPT = textwrap.dedent("""
    import json
    import numpy as np
    from indicators._numba import HAS_NUMBA
    from indicators.cusum import ahltz_monitor, bd_monitor, hb_monitor
    from indicators.panel import panel_radf, panel_sb_cv
    rng = np.random.default_rng(4)
    data = np.cumsum(rng.standard_normal((40, 3)), axis=0)
    data[:8, 2] = np.nan
    y = np.cumsum(rng.standard_normal(90))
    out = {
        "has_numba": HAS_NUMBA,
        "l0": panel_radf(data, min_window=8).bsadf.tolist(),
        "l1": panel_radf(data, min_window=8, lag=1).bsadf.tolist(),
        "aic": panel_radf(data, min_window=8, lag=2, ic="aic").bsadf.tolist(),
        "sb": panel_sb_cv(data, min_window=8, reps=12, seed=3).bsadf.tolist(),
        "hb": hb_monitor(y, 30).statistic.tolist(),
        "ahltz": ahltz_monitor(y, 30).statistic.tolist(),
        "bd": bd_monitor(y, 30).statistic.tolist(),
    }
    print(json.dumps(out))
""")


def test_kernels_as_plain_python_agree_with_numba() -> None:
    """The kernels run as plain Python (numba disabled) in a subprocess."""
    env = dict(os.environ, BUBBLEWATCH_DISABLE_NUMBA="1")
    proc = subprocess.run([sys.executable, "-c", _PARITY_SCRIPT], env=env, cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    slow = json.loads(proc.stdout.strip().splitlines()[-1])
    assert slow.pop("has_numba") is False
    namespace: dict = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(_PARITY_SCRIPT.replace("print(json.dumps(out))", ""), namespace)  # noqa: S102
    fast = namespace["out"]
    assert fast.pop("has_numba") is True
    for key, value in slow.items():
        np.testing.assert_allclose(np.array(value, float), np.array(fast[key], float),
                                   rtol=1e-12, atol=1e-12, err_msg=key)


# --------------------------------------------------------------------------- #
# The sieve bootstrap                                                          #
# --------------------------------------------------------------------------- #
def test_bootstrap_quantiles_are_of_the_panel_statistic_per_replication() -> None:
    """Critical values = quantiles over replications of the panel BSADF of
    each replicated panel (the average across series is taken within a
    replication), and the residual vectors of a date are drawn together."""
    rng = np.random.default_rng(12)
    y = np.cumsum(rng.standard_normal(80))
    x = np.cumsum(rng.standard_normal(80))
    w = 0.5 * y + np.cumsum(rng.standard_normal(80))
    w[:15] = np.nan
    data = pd.DataFrame({"y": y, "x": x, "y2": 2 * y + 3, "w": w})
    reps = 40
    replicated = []
    original = psy_kernels.panel_sequences

    def spy(panels, *args):  # keep every replicated panel the bootstrap builds
        replicated.append(np.array(panels))
        return original(panels, *args)

    panel_mod.kernels.panel_sequences = spy
    try:
        cv = panel_sb_cv(data, min_window=15, lag=1, reps=reps, seed=5)
    finally:
        panel_mod.kernels.panel_sequences = original
    panels = np.concatenate(replicated)
    assert panels.shape == (reps, 4, 80)
    # y and 2y + 3 standardise to the same series (up to rounding): jointly
    # drawn residual vectors rebuild them identically in every replication
    np.testing.assert_allclose(panels[:, 0], panels[:, 2], rtol=1e-12, atol=1e-12)
    assert not np.allclose(panels[:, 0], panels[:, 1])
    assert np.isnan(panels[:, 3, :15]).all() and np.isfinite(panels[:, 3, 15:]).all()
    stats = np.array([panel_radf(p.T, min_window=15, lag=1).bsadf for p in panels])
    np.testing.assert_allclose(cv.bsadf, np.quantile(stats.astype(np.float32), [0.9, 0.95, 0.99],
                                                     axis=0).T, atol=2e-5)
    np.testing.assert_allclose(cv.gsadf, np.quantile(stats.max(axis=1).astype(np.float32),
                                                     [0.9, 0.95, 0.99]), atol=2e-5)
    assert cv.null_lags == (1, 1, 1, 1)


def test_pools_keep_unbalanced_residual_vectors_complete() -> None:
    has = np.zeros((3, 10), dtype=bool)
    has[0, 1:] = True
    has[1, 1:8] = True  # delisted
    has[2, 5:] = True  # listed late
    for dates, pool in panel_mod._pools(has):
        needed = has[:, dates[0]]
        assert (has[:, dates] == needed[:, None]).all()
        assert has[np.ix_(needed, pool)].all()  # every needed residual exists
        assert set(dates) <= set(pool)


def test_panel_bootstrap_size_under_the_null() -> None:
    """Random-walk panels with correlated shocks: the 95% panel GSADF
    critical value is exceeded about 5% of the time."""
    rng = np.random.default_rng(21)
    mc, reps, nobs = 120, 99, 60
    chol = np.linalg.cholesky(np.array([[1, .6, .6], [.6, 1, .6], [.6, .6, 1]]))
    rejections = 0
    for _ in range(mc):
        data = np.cumsum(rng.standard_normal((nobs, 3)) @ chol.T, axis=0)
        stat = panel_radf(data, min_window=12).gsadf
        crit = panel_sb_cv(data, min_window=12, reps=reps, seed=int(rng.integers(1 << 30))).gsadf
        rejections += stat > crit[1]
    rate = rejections / mc
    assert abs(rate - 0.05) < Z_TOL * math.sqrt(0.05 * 0.95 / mc)


# --------------------------------------------------------------------------- #
# Co-explosiveness                                                             #
# --------------------------------------------------------------------------- #
def _explosive(rng: np.random.Generator, n: int, te: int, rho: float = 1.05) -> np.ndarray:
    x = np.empty(n)
    x[0] = 10.0
    e = rng.standard_normal(n)
    for t in range(1, n):
        x[t] = (rho if t >= te else 1.0) * x[t - 1] + e[t]
    return x


def _slow_long_run_variance(u: np.ndarray) -> tuple[float, int]:
    """Bartlett long-run variance with the Andrews (1991) AR(1) bandwidth
    capped at rho = 0.7 (Kurozumi 2002), written as plain loops."""
    m = len(u)
    num = sum(u[t] * u[t - 1] for t in range(1, m))
    den = sum(u[t - 1] ** 2 for t in range(1, m))
    rho = max(-0.7, min(0.7, num / den))
    band = min(math.floor(1.1447 * (4 * rho ** 2 * m / ((1 + rho) ** 2 * (1 - rho) ** 2))
                          ** (1 / 3)), m - 1)
    total = sum(v * v for v in u) / m
    for j in range(1, band + 1):
        gamma = sum(u[t] * u[t - j] for t in range(j, m)) / m
        total += 2 * (1 - j / (band + 1)) * gamma
    return total, band


def test_coexplosive_statistic_matches_slow_reference() -> None:
    rng = np.random.default_rng(1)
    x = _explosive(rng, 120, 60)
    y = 2.0 + 0.7 * np.concatenate([np.full(2, x[0]), x[:-2]]) + rng.standard_normal(120)
    yy, xx = y[2:], x[:-2]
    xm = np.column_stack([np.ones(118), xx])
    u = yy - xm @ np.linalg.lstsq(xm, yy, rcond=None)[0]
    part, total = 0.0, 0.0
    for v in u:
        part += v
        total += part * part
    lrv, band = _slow_long_run_variance(u)
    res = coexplosive_test(y, x, lag=2, reps=99)
    assert res.variance == "long_run" and res.bandwidth == band
    assert res.statistic == pytest.approx(total / (118 ** 2 * lrv), rel=1e-10)
    short = coexplosive_test(y, x, lag=2, reps=99, variance="short_run")
    assert short.statistic == pytest.approx(total / (118 ** 2 * float(np.mean(u * u))),
                                            rel=1e-10)
    assert res.nobs == 118 and res.slope == pytest.approx(0.7, abs=0.05)


def _ar1(rng: np.random.Generator, n: int, phi: float) -> np.ndarray:
    e = rng.standard_normal(n)
    u = np.empty(n)
    u[0] = e[0]
    for t in range(1, n):
        u[t] = phi * u[t - 1] + e[t]
    return u


def test_coexplosive_size_with_serially_correlated_residuals() -> None:
    """Tied series whose deviations persist (AR(1) with 0.5): divided by the
    short-run variance the statistic rejects the true null far too often; the
    long-run variance brings the rate back near its nominal 5%."""
    rng = np.random.default_rng(21)
    mc = 150
    rej = {"long_run": 0, "short_run": 0}
    for _ in range(mc):
        x = _explosive(rng, 120, 70)
        y = 1 + 0.8 * x + _ar1(rng, 120, 0.5)
        for v in rej:
            rej[v] += coexplosive_test(y, x, lag=0, reps=99, seed=None, variance=v).reject
    band = Z_TOL * math.sqrt(0.05 * 0.95 / mc)
    assert rej["long_run"] / mc < 0.05 + band + 0.03  # documented: about 8% at phi = 0.5
    assert rej["short_run"] / mc > 0.25  # documented: about 40%


def test_coexplosive_lag_selection_recovers_the_lead() -> None:
    rng = np.random.default_rng(2)
    x = _explosive(rng, 150, 80, 1.06)
    y = 1.0 + 0.8 * np.concatenate([np.full(3, x[0]), x[:-3]]) + 0.5 * rng.standard_normal(150)
    assert coexplosive_test(y, x, reps=49).lag == 3


def test_coexplosive_size_and_power() -> None:
    rng = np.random.default_rng(3)
    mc = 150
    size_h, size_het, power = 0, 0, 0
    vol = np.r_[np.ones(60), 4 * np.ones(60)]
    for _ in range(mc):
        x = _explosive(rng, 120, 70)
        size_h += coexplosive_test(1 + 0.8 * x + rng.standard_normal(120), x, lag=0,
                                   reps=99, seed=None).reject
        size_het += coexplosive_test(1 + 0.8 * x + vol * rng.standard_normal(120), x, lag=0,
                                     reps=99, seed=None).reject
        power += coexplosive_test(_explosive(rng, 120, 70), x, lag=0, reps=99,
                                  seed=None).reject
    band = Z_TOL * math.sqrt(0.05 * 0.95 / mc)
    assert abs(size_h / mc - 0.05) < band
    assert abs(size_het / mc - 0.05) < band
    # the long-run variance costs power: about half of the unrelated bubbles are
    # told apart (benchmarks/sim_coexplosive.py), never most of them
    assert 0.3 < power / mc < 0.75


def test_cohort_reading_on_a_common_bubble_and_on_random_walks() -> None:
    rng = np.random.default_rng(9)
    n = 120
    lead = _explosive(rng, n, 85, 1.06)
    together = pd.DataFrame({
        "LEAD": lead,
        "A": 5 + 0.9 * lead + rng.standard_normal(n),
        "B": 3 + 1.1 * lead + rng.standard_normal(n),
    }) + 50
    res = cohort_reading(together, log=False, reps=99, lags=range(-2, 3))
    assert res.panel_explosive and res.explosive_together, res.reason
    assert len(res.pairs) == 2 and res.episode_start is not None
    walks = pd.DataFrame(np.cumsum(rng.standard_normal((n, 3)), axis=0) + 50,
                         columns=["LEAD", "A", "B"])
    res = cohort_reading(walks, log=False, reps=99)
    assert not res.explosive_together and "does not exceed" in res.reason
    assert "not explosive together" in res.summary()


# --------------------------------------------------------------------------- #
# Bad input                                                                   #
# --------------------------------------------------------------------------- #
def test_bad_panels_give_clear_errors() -> None:
    nvda, csco = weekly("NVDA").iloc[-200:], weekly("CSCO").iloc[-200:]
    with pytest.raises(InfeasibleTestError, match=r"at least 2 series, got 1 \(NVDA\)"):
        panel_radf(pd.DataFrame({"NVDA": nvda}))
    gap = nvda.copy()
    gap.iloc[50] = np.nan
    with pytest.raises(ValueError, match=r"panel GSADF \(NVDA\).*missing.*"
                                         + nvda.index[50].strftime("%Y-%m-%d")):
        panel_radf(pd.DataFrame({"NVDA": gap, "CSCO": csco}))
    flat = csco.copy()
    flat.iloc[100:120] = flat.iloc[100]
    with pytest.raises(ValueError, match=r"panel GSADF \(CSCO\): 20 unchanged"):
        panel_radf(pd.DataFrame({"NVDA": nvda, "CSCO": flat}))
    short = nvda.copy()
    short.iloc[:180] = np.nan
    with pytest.warns(DataQualityWarning, match="left out NVDA: fewer than 28"), \
            pytest.raises(InfeasibleTestError, match=r"only 1 series \(CSCO\).*at least 2"):
        panel_radf(pd.DataFrame({"NVDA": short, "CSCO": csco}))
    with pytest.raises(InfeasibleTestError, match="coexplosive_test .*at least 26"):
        coexplosive_test(nvda.iloc[:20], csco.iloc[:20])
    with pytest.raises(ValueError, match="same dates"):
        coexplosive_test(nvda, csco.iloc[:-1])
