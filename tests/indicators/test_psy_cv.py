"""Tests of the PSY critical values (:mod:`indicators.cv`)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import indicators.cv as cvmod
from bubblewatch.core.errors import InfeasibleTestError
from indicators import _psy_kernels as kernels
from indicators.critical_values.simulate import random_walks
from indicators.cv import CriticalValues, mc_cv, wb_cv
from indicators.psy import psy_min_window, radf


def _no_simulation(*args, **kwargs):
    raise AssertionError("simulated although the cache should have answered")


# --------------------------------------------------------------------------- #
# Monte Carlo                                                                 #
# --------------------------------------------------------------------------- #
def test_mc_shapes_order_and_alignment() -> None:
    cv = mc_cv(150, reps=300, seed=1, use_cache=False)
    minw = psy_min_window(150)
    assert (cv.method, cv.n, cv.min_window, cv.lag, cv.reps, cv.seed) == ("mc", 150, minw, 0,
                                                                          300, 1)
    assert cv.badf.shape == cv.bsadf.shape == (150 - minw, 3)
    for arr in (cv.adf, cv.sadf, cv.gsadf):
        assert arr.shape == (3,) and arr[0] < arr[1] < arr[2]
    assert np.all(np.diff(cv.bsadf, axis=1) > 0)
    # ADF = last BADF point; SADF <= GSADF; BSADF >= BADF pointwise (more windows)
    np.testing.assert_array_equal(cv.adf, cv.badf[-1])
    assert np.all(cv.sadf <= cv.gsadf)
    assert np.all(cv.bsadf >= cv.badf - 1e-12)
    assert isinstance(cv, CriticalValues)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cv.reps = 1  # type: ignore[misc]
    with pytest.raises(ValueError):
        cv.bsadf[0, 0] = 1.0
    frame = cv.to_frame()
    assert list(frame.columns)[:3] == ["badf_cv90", "badf_cv95", "badf_cv99"]
    assert frame.index[0] == minw and frame.index[-1] == 149
    assert "Monte Carlo" in cv.summary()


def test_mc_matches_dickey_fuller_and_pyexuber_distributions() -> None:
    """Different random numbers, same distribution: the ADF quantiles are close to
    the Dickey-Fuller (constant) ones and GSADF to pyexuber's simulation."""
    import exuber
    cv = mc_cv(200, reps=1000, seed=5, use_cache=False)
    # Dickey-Fuller t with constant, right tail (Fuller 1976): -0.44, -0.07, 0.60; the
    # 99% quantile of 1000 draws has a standard error of about 0.1
    np.testing.assert_allclose(cv.adf[:2], [-0.44, -0.07], atol=0.1)
    assert cv.adf[2] == pytest.approx(0.60, abs=0.3)
    ref = exuber.radf_mc_cv(200, nrep=500, seed=5)
    # 90/95%: s.e. about 0.05 for 500 draws; 99%: the density there is low (the shipped
    # table puts 1% of probability over 0.36 between its 98.5% and 99.5% quantiles), so
    # the s.e. of exuber's 500-draw value is about 0.16 and of ours (1000 draws) 0.11
    np.testing.assert_allclose(cv.gsadf[:2], ref.gsadf_cv[:2], atol=0.25)
    np.testing.assert_allclose(cv.sadf[:2], ref.sadf_cv[:2], atol=0.2)
    np.testing.assert_allclose(cv.gsadf[2], ref.gsadf_cv[2], atol=0.6)
    np.testing.assert_allclose(cv.sadf[2], ref.sadf_cv[2], atol=0.6)


def test_mc_sadf_rule_is_exubers_bsadf_critical_value_sequence() -> None:
    """``bsadf_cv="sadf"``: the BSADF critical value at each point is the SADF
    critical value of the sample up to it, the rule of exuber's ``radf_mc_cv``."""
    import exuber
    n = 300
    point = mc_cv(n, reps=1000, seed=4, use_cache=False)
    sadf = mc_cv(n, reps=1000, seed=4, use_cache=False, bsadf_cv="sadf")
    assert (point.bsadf_cv, sadf.bsadf_cv) == ("pointwise", "sadf")
    np.testing.assert_array_equal(sadf.badf, point.badf)  # one simulation, two readings
    np.testing.assert_array_equal(sadf.bsadf[-1], sadf.sadf)  # the last point: full-sample SADF
    assert np.all(np.diff(sadf.bsadf, axis=0) >= 0)  # a running maximum never falls
    assert np.all(sadf.bsadf[-50:, 1] > point.bsadf[-50:, 1] + 0.3)  # more conservative
    ref = np.asarray(exuber.radf_mc_cv(n, nrep=1000, seed=4).bsadf_cv)
    assert ref.shape == sadf.bsadf.shape
    # same rule, other random numbers: 1000 draws each put the s.e. of the difference of
    # two 90/95% values near 0.085 on short samples (0.2 at 99%); the largest of ~280
    # correlated points stays within about 3.5 of them
    np.testing.assert_allclose(sadf.bsadf[20:, :2], ref[20:, :2], atol=0.3)
    np.testing.assert_allclose(sadf.bsadf[20:, 2], ref[20:, 2], atol=0.7)
    assert abs(np.mean(sadf.bsadf[20:, 1] - ref[20:, 1])) < 0.1
    assert "BSADF critical values: sadf" in sadf.summary()


def test_mc_is_reproducible_and_chunking_does_not_matter(monkeypatch) -> None:
    a = mc_cv(80, lag=1, reps=60, seed=9, use_cache=False)
    monkeypatch.setattr(cvmod, "_CHUNK_DRAWS", 200)  # two random walks per chunk
    b = mc_cv(80, lag=1, reps=60, seed=9, use_cache=False)
    np.testing.assert_array_equal(a.bsadf, b.bsadf)
    np.testing.assert_array_equal(a.gsadf, b.gsadf)
    c = mc_cv(80, lag=1, reps=60, seed=10, use_cache=False)
    assert not np.array_equal(a.bsadf, c.bsadf)


def test_mc_running_max_quantiles_are_shorter_samples() -> None:
    """The cached table is exact for every shorter sample with the same window:
    simulate n_sim directly and compare its GSADF distribution with the table."""
    n_sim, minw, reps = 60, 10, 80
    table = cvmod.simulate_mc_table(n_sim, minw, 0, None, reps, 3)
    paths = random_walks(reps, n_sim, np.random.default_rng(3))  # the documented draws
    gsadf_25 = []
    for b in range(reps):
        y = paths[b, :25]  # the first 25 observations of each path
        gsadf_25.append(radf(y, minw).gsadf)
    np.testing.assert_allclose(table["gsadf"][25 - minw - 1], np.quantile(gsadf_25, [0.9, 0.95,
                                                                                      0.99]),
                               atol=1e-6)


def test_mc_cache_round_trip(tmp_path, monkeypatch) -> None:
    first = mc_cv(125, reps=50, seed=2, cache_dir=tmp_path, tables=False)
    assert first.source == "simulation"
    files = list(tmp_path.glob("mc_*.npz"))
    assert len(files) == 1
    name = files[0].name
    assert f"w{first.min_window}_" in name and "_l0_" in name and "_r50_" in name
    assert "_s2_" in name
    monkeypatch.setattr(cvmod, "simulate_mc_table", _no_simulation)
    again = mc_cv(125, reps=50, seed=2, cache_dir=tmp_path, tables=False)
    assert again.source == "cache"
    np.testing.assert_array_equal(first.bsadf, again.bsadf)
    # one more observation, same PSY window: same simulation, one more point
    assert psy_min_window(126) == psy_min_window(125)
    grown = mc_cv(126, reps=50, seed=2, cache_dir=tmp_path, tables=False)
    np.testing.assert_array_equal(grown.bsadf[:-1], first.bsadf)
    # a different seed, lag or reps is a different key
    monkeypatch.undo()
    mc_cv(125, reps=50, seed=3, cache_dir=tmp_path, tables=False)
    mc_cv(125, lag=1, reps=50, seed=2, cache_dir=tmp_path, tables=False)
    mc_cv(125, reps=50, seed=None, cache_dir=tmp_path, tables=False)  # fresh entropy: never
    mc_cv(125, reps=50, seed=2, cache_dir=tmp_path, use_cache=False)  # stored results off
    assert len(list(tmp_path.glob("mc_*.npz"))) == 3
    # a request the shipped tables answer neither reads nor writes the cache
    assert mc_cv(125, reps=50, seed=4, cache_dir=tmp_path).source == "table"
    assert len(list(tmp_path.glob("mc_*.npz"))) == 3


def test_mc_ignores_corrupt_cache(tmp_path) -> None:
    mc_cv(60, reps=20, seed=1, cache_dir=tmp_path, tables=False)
    (path,) = tmp_path.glob("*.npz")
    path.write_bytes(b"not a zip")
    cv = mc_cv(60, reps=20, seed=1, cache_dir=tmp_path, tables=False)
    assert cv.source == "simulation" and np.isfinite(cv.gsadf).all()


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"n": 5}, InfeasibleTestError, "too short"),
        ({"n": 100, "reps": 5}, ValueError, "at least 10"),
        ({"n": 100, "seed": -1}, ValueError, "seed"),
        ({"n": 100, "min_window": 200}, ValueError, "larger than the sample"),
        ({"n": 100, "ic": "x"}, ValueError, "'aic' or 'bic'"),
        ({"n": 100.5}, ValueError, "positive integer"),
        ({"n": 100, "bsadf_cv": "max"}, ValueError, "'pointwise' or 'sadf'"),
    ],
)
def test_mc_bad_arguments(kwargs, exc, match) -> None:
    with pytest.raises(exc, match=match):
        mc_cv(**kwargs)


def test_mismatched_critical_values_are_refused() -> None:
    res = radf(np.cumsum(np.random.default_rng(0).standard_normal(100)))
    cv = mc_cv(101, reps=20, use_cache=False)
    with pytest.raises(ValueError, match=r"compute them with mc_cv\(100"):
        cv.check_matches(res)
    with pytest.raises(ValueError, match="sig_level"):
        cv.level_index(0.975)
    assert cv.level_index(95) == cv.level_index(0.95) == 1


# --------------------------------------------------------------------------- #
# Wild bootstrap (Phillips & Shi 2020)                                        #
# --------------------------------------------------------------------------- #
def test_wb_paths_follow_the_phillips_shi_dgp() -> None:
    resid = np.array([1.0, -2.0, 3.0])
    idx = np.array([[2, 0, 1, 2, 0]])
    mult = np.array([[0.5, -1.0, 2.0, 1.0, 1.0]])
    out = np.empty((1, 6))
    kernels.wb_paths(10.0, np.empty(0), np.empty(0), resid, idx, mult, out)
    np.testing.assert_allclose(np.diff(out[0]), mult[0] * resid[idx[0]])
    assert out[0, 0] == 10.0
    # lag 1: the first difference is the observed one, then the AR(1) recursion
    kernels.wb_paths(0.0, np.array([0.7]), np.array([0.5]), resid, idx, mult, out)
    d = np.diff(out[0])
    assert d[0] == 0.7
    for t in range(1, 5):
        assert d[t] == pytest.approx(0.5 * d[t - 1] + mult[0, t] * resid[idx[0, t]])


def test_wb_family_wise_critical_values() -> None:
    y = np.cumsum(np.random.default_rng(1).standard_normal(160)) * np.r_[np.ones(80),
                                                                       3 * np.ones(80)]
    res = radf(y)
    tb = res.offset + 20
    cv = wb_cv(y, reps=200, seed=4, tb=tb)
    assert cv.method == "wb" and cv.tb == tb
    assert cv.bsadf.shape == (res.n - res.offset, 3)
    assert np.all(cv.bsadf == cv.bsadf[0])  # one family-wise value for every point
    assert cv.bsadf[0, 0] < cv.bsadf[0, 1] < cv.bsadf[0, 2]
    # the family-wise window over 20 points is shorter than the whole sample
    assert np.all(cv.bsadf[0] <= cv.gsadf + 1e-12)
    full = wb_cv(y, reps=200, seed=4)
    np.testing.assert_allclose(full.bsadf[0], full.gsadf)  # tb = n: the GSADF value
    np.testing.assert_array_equal(full.gsadf, cv.gsadf)  # same draws
    cv.check_matches(res)


def test_wb_with_lags_and_ic() -> None:
    rng = np.random.default_rng(2)
    dy = np.zeros(150)
    e = rng.standard_normal(150)
    for t in range(1, 150):
        dy[t] = 0.6 * dy[t - 1] + e[t]
    y = np.cumsum(dy)
    assert cvmod._select_null_lag(y, 4, "bic") == 1
    cv = wb_cv(y, lag=4, ic="bic", reps=50, seed=1, tb=80)
    assert (cv.lag, cv.ic) == (4, "bic")
    cv.check_matches(radf(y, lag=4, ic="bic"))
    phi, resid = cvmod._null_fit(y, 1)
    assert phi[0] == pytest.approx(0.6, abs=0.15)
    assert resid.size == 148 and abs(resid.mean()) < 1e-12


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"tb": 5}, "larger than min_window"),
        ({"tb": 500}, "at most n"),
        ({"reps": 3}, "at least 10"),
        ({"log": True}, "positive values"),
    ],
)
def test_wb_bad_arguments(kwargs, match) -> None:
    y = np.cumsum(np.random.default_rng(0).standard_normal(100)) - 50
    with pytest.raises(ValueError, match=match):
        wb_cv(y, **kwargs)


def test_wb_horizon_cv_needs_a_first_reading() -> None:
    y = np.cumsum(np.random.default_rng(0).standard_normal(30))
    with pytest.raises(InfeasibleTestError, match=r"wb_horizon_cv: 30 observations .* = 31 observations"):
        cvmod.wb_horizon_cv(y, 30, 0, horizon=5)
    crit = cvmod.wb_horizon_cv(y, 10, 1, horizon=5, reps=49, seed=1)
    assert crit.shape == (3,) and crit[0] < crit[1] < crit[2]
    np.testing.assert_array_equal(crit, cvmod.wb_horizon_cv(y, 10, 1, horizon=5, reps=49, seed=1))
