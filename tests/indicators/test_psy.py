"""Tests of the PSY statistics (:mod:`indicators.psy`).

Three references, each able to fail on its own:

* pyexuber (exuber's C++ core): same arguments must give the same
  statistics within 1e-9 on random walks, simulated bubbles and real prices;
* statsmodels OLS on random windows of the real S&P 500 since 1927;
* a slow plain reference below (one least-squares fit per window, written
  from the definitions), also for the information-criterion lag selection.

The python-vs-numba parity test runs the kernels as plain Python in a
subprocess (``BUBBLEWATCH_DISABLE_NUMBA=1``) on small inputs.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import subprocess
import sys
import textwrap

import exuber  # pyexuber (a dev dependency): the reference for the parity tests
import numpy as np
import pandas as pd
import pytest
from exuber.sim import sim_psy1, sim_psy2

from bubblewatch.core.errors import DataQualityWarning, InfeasibleTestError
from indicators.psy import RadfResult, psy_min_duration, psy_min_window, radf
from tests.conftest import REPO_ROOT, load_shared_prices

#: Agreement required with pyexuber (absolute, on t-ratios).
TOL_EXUBER = 1e-9


# --------------------------------------------------------------------------- #
# Slow plain reference                                                        #
# --------------------------------------------------------------------------- #
def _fit(y: np.ndarray, rows: np.ndarray, lag: int, k: int) -> tuple[float, float]:
    """Regress y[t] on [1, y[t-1], dy[t-1..t-k]] for t = rows + 1 + lag;
    returns (t-ratio of b - 1, SSR)."""
    t = rows + 1 + lag
    cols = [np.ones(t.size), y[t - 1]] + [y[t - j] - y[t - j - 1] for j in range(1, k + 1)]
    x = np.column_stack(cols)
    beta, *_ = np.linalg.lstsq(x, y[t], rcond=None)
    resid = y[t] - x @ beta
    ssr = float(resid @ resid)
    cov = np.linalg.inv(x.T @ x) * ssr / (t.size - x.shape[1])
    return (beta[1] - 1.0) / math.sqrt(cov[1, 1]), ssr


def slow_radf(y: np.ndarray, minw: int, lag: int, ic: str | None = None):
    """BADF and BSADF straight from the definitions (O(T^3) work)."""
    n = y.size
    nrow = n - 1 - lag
    npts = nrow - minw + 1

    def stat(r0: int, r1: int) -> float:
        rows = np.arange(r0, r1 + 1)
        if ic is None:
            return _fit(y, rows, lag, lag)[0]
        m = rows.size
        pen = 2.0 if ic == "aic" else math.log(m)
        best, best_t = math.inf, math.nan
        for k in range(lag + 1):
            t, ssr = _fit(y, rows, lag, k)
            crit = m * math.log(ssr / m) + pen * (k + 2)
            if crit < best:
                best, best_t = crit, t
        return best_t

    badf = np.array([stat(0, minw - 1 + i) for i in range(npts)])
    bsadf = np.array([max(stat(j, minw - 1 + i) for j in range(i + 1)) for i in range(npts)])
    return badf, bsadf


def _assert_same_as_exuber(y: np.ndarray, lag: int, minw: int | None = None) -> None:
    ours = radf(y, minw, lag)
    ref = exuber.radf(y, minw, lag)
    assert ours.min_window == ref.minw
    assert ours.badf.shape == ref.badf[:, 0].shape
    np.testing.assert_allclose(ours.badf, ref.badf[:, 0], rtol=0, atol=TOL_EXUBER)
    np.testing.assert_allclose(ours.bsadf, ref.bsadf[:, 0], rtol=0, atol=TOL_EXUBER)
    for name in ("adf", "sadf", "gsadf"):
        assert getattr(ours, name) == pytest.approx(float(getattr(ref, name)[0]), abs=TOL_EXUBER)


def _log_weekly(symbol: str, start: str | None = None, end: str | None = None) -> pd.Series:
    s = load_shared_prices(symbol)["adj_close"]
    s = s.loc[start:end]
    return np.log(s.groupby(s.index.to_period("W-FRI")).tail(1))


# --------------------------------------------------------------------------- #
# Against pyexuber                                                            #
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("lag", [0, 1, 2])
@pytest.mark.parametrize("n", [120, 700])
def test_matches_pyexuber_on_random_walks(n: int, lag: int) -> None:
    y = np.cumsum(np.random.default_rng(n + lag).standard_normal(n))
    _assert_same_as_exuber(y, lag)


@pytest.mark.parametrize("lag", [0, 1, 2])
def test_matches_pyexuber_on_simulated_bubbles(lag: int) -> None:
    _assert_same_as_exuber(sim_psy1(400, seed=7), lag)
    _assert_same_as_exuber(sim_psy2(500, seed=8), lag)


def test_matches_pyexuber_with_explicit_min_window() -> None:
    y = np.cumsum(np.random.default_rng(3).standard_normal(300))
    _assert_same_as_exuber(y, 0, minw=12)
    _assert_same_as_exuber(y, 2, minw=150)


@pytest.mark.parametrize("lag", [0, 1, 2])
def test_matches_pyexuber_on_real_prices(shared_data, lag: int) -> None:
    gspc = np.log(load_shared_prices("^GSPC")["adj_close"].to_numpy())
    _assert_same_as_exuber(gspc[-2500:], lag)  # daily, level ~8.5: cancellation-prone
    _assert_same_as_exuber(_log_weekly("NVDA", "2015-01-01").to_numpy(), lag)
    ixic = load_shared_prices("^IXIC")["adj_close"].loc["1990":"2005"]
    _assert_same_as_exuber(np.log(ixic.groupby(ixic.index.to_period("M")).tail(1)).to_numpy(),
                           lag)


# --------------------------------------------------------------------------- #
# Against statsmodels on random windows of the S&P 500 since 1927             #
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("lag", [0, 1, 2])
def test_window_statistics_match_statsmodels_on_sp500(shared_data, lag: int) -> None:
    import statsmodels.api as sm
    y = np.log(load_shared_prices("^GSPC")["adj_close"].to_numpy())
    assert y.size > 24000  # daily since 1927
    rng = np.random.default_rng(100 + lag)
    for _ in range(12):
        length = int(rng.integers(60, 20000))
        start = int(rng.integers(0, y.size - length))
        seg = y[start:start + length]
        # one window: min_window = every regression row, so adf is that window
        res = radf(seg, seg.size - lag - 1, lag)
        t = np.arange(lag + 1, seg.size)
        x = np.column_stack([np.ones(t.size), seg[t - 1]]
                            + [seg[t - j] - seg[t - j - 1] for j in range(1, lag + 1)])
        fit = sm.OLS(seg[t], x).fit()
        expected = (fit.params[1] - 1.0) / fit.bse[1]
        assert res.badf.shape == (1,)
        assert res.adf == pytest.approx(expected, rel=1e-8, abs=1e-9), (start, length)


def test_inner_windows_match_statsmodels(shared_data) -> None:
    """Windows that do not start at the first row (the BSADF maximum)."""
    import statsmodels.api as sm
    y = np.log(load_shared_prices("^GSPC")["adj_close"].to_numpy())[-900:]
    res = radf(y, 40, 1)
    for i in (0, 300, res.bsadf.size - 1):
        end_t = res.offset + i  # last observation of the windows
        stats = []
        for j in range(i + 1):
            t = np.arange(j + 2, end_t + 1)  # rows j.. with lag 1
            x = np.column_stack([np.ones(t.size), y[t - 1], y[t - 1] - y[t - 2]])
            fit = sm.OLS(y[t], x).fit()
            stats.append((fit.params[1] - 1.0) / fit.bse[1])
        assert res.bsadf[i] == pytest.approx(max(stats), rel=1e-8, abs=1e-9)


# --------------------------------------------------------------------------- #
# Against the slow plain reference                                            #
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("lag", [0, 1, 3])
def test_matches_slow_reference(lag: int) -> None:
    y = sim_psy1(90, seed=lag) / 10.0
    res = radf(y, 15, lag)
    badf, bsadf = slow_radf(y, 15, lag)
    np.testing.assert_allclose(res.badf, badf, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(res.bsadf, bsadf, rtol=1e-10, atol=1e-10)
    assert res.adf == pytest.approx(badf[-1], abs=1e-10)
    assert res.sadf == pytest.approx(badf.max(), abs=1e-10)
    assert res.gsadf == pytest.approx(bsadf.max(), abs=1e-10)


@pytest.mark.parametrize("ic", ["aic", "bic"])
def test_information_criterion_lags_match_slow_reference(ic: str) -> None:
    rng = np.random.default_rng(11)
    e = rng.standard_normal(100)
    dy = np.zeros(100)
    for t in range(2, 100):  # AR(2) differences, so longer lags matter in some windows
        dy[t] = 0.5 * dy[t - 1] - 0.3 * dy[t - 2] + e[t]
    y = np.cumsum(dy)
    res = radf(y, 16, 3, ic=ic)
    badf, bsadf = slow_radf(y, 16, 3, ic=ic)
    np.testing.assert_allclose(res.badf, badf, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(res.bsadf, bsadf, rtol=1e-10, atol=1e-10)
    fixed = radf(y, 16, 3)
    assert not np.allclose(res.bsadf, fixed.bsadf)  # the selection did something
    assert res.ic == ic and res.lag == 3


def test_ic_with_lag_zero_is_fixed_lag_zero() -> None:
    y = np.cumsum(np.random.default_rng(5).standard_normal(150))
    np.testing.assert_array_equal(radf(y, ic="bic").bsadf, radf(y).bsadf)


def test_serial_and_parallel_kernels_give_the_same_numbers() -> None:
    from indicators import _psy_kernels as k
    from indicators.psy import standardise

    y = standardise(sim_psy1(700, seed=3))
    paths = np.vstack([y, y[::-1].copy()])
    for lag in (0, 2):
        npts = y.size - 60 - lag
        out = {}
        for nslots in (1, 3):
            bs, b = np.empty((2, npts)), np.empty((2, npts))
            k.sequences(paths, 60, lag, 0, nslots, bs, b)
            out[nslots] = (bs, b)
        bs, b = np.empty((2, npts)), np.empty((2, npts))
        k.sequences_serial(paths, 60, lag, 0, bs, b)
        np.testing.assert_array_equal(out[1][0], out[3][0])
        np.testing.assert_array_equal(out[1][1], out[3][1])
        np.testing.assert_array_equal(out[1][0], bs)
        np.testing.assert_array_equal(out[1][1], b)
        single = radf(paths[1], 60, lag)
        np.testing.assert_allclose(out[1][0][1], single.bsadf, rtol=0, atol=1e-12)


# --------------------------------------------------------------------------- #
# Shape, alignment, result object                                             #
# --------------------------------------------------------------------------- #
def test_psy_rules() -> None:
    assert [psy_min_window(n) for n in (100, 547, 1680, 5000)] == [19, 47, 90, 177]
    assert [psy_min_duration(n) for n in (100, 547, 5000)] == [5, 6, 9]
    assert [psy_min_window(n) for n in (200, 1000)] == [exuber.psy_minw(n) for n in (200, 1000)]
    assert psy_min_duration(300) == exuber.psy_ds(300)


def test_sequences_are_aligned_to_dates() -> None:
    idx = pd.bdate_range("2020-01-01", periods=260, name="date")
    s = pd.Series(np.exp(np.cumsum(np.random.default_rng(1).normal(0, 0.01, 260))), index=idx)
    res = radf(s, lag=2, log=True)
    assert res.offset == res.min_window + 2
    assert res.badf.size == res.n - res.offset
    assert list(res.stat_index) == list(idx[res.offset:])
    frame = res.to_frame()
    assert list(frame.columns) == ["series", "badf", "bsadf"]
    assert frame.index.equals(idx)
    assert frame["bsadf"].iloc[:res.offset].isna().all()
    assert frame["bsadf"].iloc[res.offset:].to_numpy() == pytest.approx(res.bsadf)
    np.testing.assert_allclose(frame["series"], np.log(s))
    assert res.bsadf[-1] == frame["bsadf"].iloc[-1]
    assert "min_window" in res.summary()


def test_result_is_frozen_and_read_only() -> None:
    res = radf(np.cumsum(np.random.default_rng(2).standard_normal(80)))
    assert isinstance(res, RadfResult)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.adf = 0.0  # type: ignore[misc]
    with pytest.raises(ValueError):
        res.bsadf[0] = 0.0
    assert not hasattr(res, "__dict__")  # slotted


def test_invariant_to_shift_and_scale() -> None:
    y = np.cumsum(np.random.default_rng(9).standard_normal(300))
    a = radf(y, lag=1)
    b = radf(1e4 + 37.5 * y, lag=1)
    np.testing.assert_allclose(a.bsadf, b.bsadf, atol=1e-10)


@pytest.mark.parametrize("lag", [0, 1, 2])
def test_flat_windows_warn_and_are_skipped(lag: int) -> None:
    y = np.cumsum(np.random.default_rng(4).standard_normal(120))
    y[30:60] = y[30]  # 30 stale prices: windows inside them have no variation ...
    res = radf(y, 12, lag)
    assert np.isfinite(res.bsadf).all()  # ... but every end has other windows
    assert np.nanmax(res.bsadf) < 20.0  # and none of them is a near-singular artefact
    y[:30] = y[30]  # a stale start: the first windows are all flat
    with pytest.warns(DataQualityWarning, match="undefined"):
        res = radf(y, 12, lag)
    assert np.isnan(res.badf[:10]).all() and np.isnan(res.bsadf[:10]).all()
    assert np.isfinite(res.gsadf) and np.isfinite(res.adf)


# --------------------------------------------------------------------------- #
# Bad input                                                                   #
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize(
    ("y", "kwargs", "exc", "match"),
    [
        (np.r_[np.arange(50.0), np.nan], {}, ValueError, r"missing or infinite.*position 50.*drop"),
        (np.r_[np.arange(50.0) ** 1.5, np.inf], {}, ValueError, "missing or infinite"),
        (np.arange(5.0) ** 2, {}, InfeasibleTestError, "at least 10"),
        (np.full(40, 3.0), {}, ValueError, "constant"),
        (np.arange(40.0), {}, ValueError, "straight line"),
        (np.r_[1.0, 2.0, -1.0, np.arange(3.0, 40.0) ** 1.2], {"log": True}, ValueError,
         r"positive values.*position 2.*log=False"),
        (np.ones((30, 2)), {}, ValueError, "one series"),
        (np.arange(40.0) ** 2, {"min_window": 40}, ValueError,
         r"larger than the sample allows.*lower min_window"),
        (np.arange(40.0) ** 2, {"min_window": 4, "lag": 2}, ValueError,
         r"too small for lag=2.*at least lag \+ 3 = 5"),
        (np.arange(40.0) ** 2, {"lag": -1}, ValueError, "non-negative integer"),
        (np.arange(40.0) ** 2, {"lag": 1.5}, ValueError, "non-negative integer"),
        (np.arange(40.0) ** 2, {"min_window": 0}, ValueError, "positive integer"),
        (np.arange(40.0) ** 2, {"ic": "hqic"}, ValueError, "'aic' or 'bic'"),
        (["a", "b"] * 10, {}, ValueError, "numeric"),
    ],
)
def test_bad_input_says_what_to_change(y, kwargs, exc, match) -> None:
    with pytest.raises(exc, match=match):
        radf(y, **kwargs)


def test_infeasible_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        radf(np.arange(6.0) ** 2)


def test_nan_message_names_the_date() -> None:
    idx = pd.date_range("2021-01-01", periods=40, freq="D")
    s = pd.Series(np.arange(40.0) ** 1.3 + 1, index=idx)
    s.iloc[7] = np.nan
    with pytest.raises(ValueError, match="2021-01-08"):
        radf(s)


# --------------------------------------------------------------------------- #
# Python vs numba                                                             #
# --------------------------------------------------------------------------- #
_PARITY_SCRIPT = textwrap.dedent(
    """
    import json, warnings
    import numpy as np
    from exuber.sim import sim_psy1
    from indicators.psy import radf
    from indicators.cv import mc_cv, wb_cv
    from indicators import _numba
    warnings.simplefilter("ignore")
    y = sim_psy1(60, seed=2)
    out = {"has_numba": _numba.HAS_NUMBA}
    for name, kw in [("l0", {}), ("l2", {"lag": 2}), ("bic", {"lag": 2, "ic": "bic"})]:
        r = radf(y, 12, **kw)
        out[name] = [r.badf.tolist(), r.bsadf.tolist()]
    cv = mc_cv(30, lag=1, reps=12, seed=3, use_cache=False)
    out["mc"] = [cv.bsadf.tolist(), cv.gsadf.tolist(), cv.sadf.tolist()]
    wb = wb_cv(y, 12, 1, reps=12, seed=4, tb=40)
    out["wb"] = [wb.gsadf.tolist(), wb.bsadf[0].tolist()]
    print(json.dumps(out))
    """
)


def _run_parity(disable: bool) -> dict:
    env = dict(os.environ)
    env["BUBBLEWATCH_DISABLE_NUMBA"] = "1" if disable else "0"
    proc = subprocess.run([sys.executable, "-c", _PARITY_SCRIPT], env=env, cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_python_and_numba_kernels_agree() -> None:
    slow = _run_parity(disable=True)
    assert slow["has_numba"] is False
    fast = _run_parity(disable=False)
    assert fast["has_numba"] is True
    for key in ("l0", "l2", "bic", "mc", "wb"):
        for a, b in zip(slow[key], fast[key], strict=True):
            np.testing.assert_allclose(np.array(a, float), np.array(b, float),
                                       rtol=1e-12, atol=1e-12, err_msg=key)
