"""Tests of the shipped PSY critical-value tables (:mod:`indicators.critical_values`).

Monte Carlo tolerances: the standard error of a ``p`` quantile from ``R``
draws is ``sqrt(p (1 - p) / R) / f(q_p)`` (binomial count of draws below the
quantile, divided by the density there). The density is read off the table's
own distribution (the probability between two stored quantiles around ``p``
over their distance); two independent estimates must agree within four
standard errors of their difference.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import indicators.cv as cvmod
from indicators import _psy_kernels as kernels
from indicators.critical_values import generate
from indicators.critical_values.simulate import (
    LEVELS,
    psy_band_end,
    psy_first_n,
    random_walks,
    simulate_family,
)
from indicators.critical_values.tables import (
    DIST_PROBS,
    TABLE_LAGS,
    load_table,
    psy_critical_value,
    psy_pvalue,
    table_path,
)
from indicators.cv import mc_cv
from indicators.psy import psy_min_window, radf

#: Stored probabilities bracketing each level (density estimate for the s.e.).
BRACKETS = {0.90: (0.85, 0.925), 0.95: (0.925, 0.97), 0.99: (0.985, 0.995)}


def _se(table, n: int, which: str, level: float, reps: int) -> float:
    """Binomial standard error of the ``level`` quantile from ``reps`` draws,
    with the density taken from the table's distribution at ``n``."""
    q = table.quantiles(n, which)
    lo, hi = BRACKETS[level]
    density = (hi - lo) / (q[DIST_PROBS.index(hi)] - q[DIST_PROBS.index(lo)])
    return math.sqrt(level * (1 - level) / reps) / density


# --------------------------------------------------------------------------- #
# The files                                                                   #
# --------------------------------------------------------------------------- #
def test_tables_cover_lags_0_to_4_up_to_5000_and_stay_small() -> None:
    total = 0
    for lag in TABLE_LAGS:
        table = load_table(lag)
        total += table_path(lag).stat().st_size
        assert table.lag == lag and table.reps >= 2000
        assert table.n_min == psy_first_n(lag) and table.n_max == psy_band_end(5000) >= 5000
        assert (table.wmin, table.wmax) == (psy_min_window(table.n_min),
                                            psy_min_window(table.n_max))
        assert table.levels == LEVELS and table.probs == DIST_PROBS
        assert table.badf.shape == (table.n_max, 3) and table.dist.shape[0] == 4
    assert total < 10e6


def test_every_sample_size_is_an_exact_entry_and_levels_are_ordered() -> None:
    for lag in TABLE_LAGS:
        table = load_table(lag)
        ns = np.arange(table.n_min, table.n_max + 1)
        for which in ("adf", "sadf", "gsadf", "bsadf"):
            vals = table.at(ns, which)
            assert np.isfinite(vals).all()
            assert np.all(np.diff(vals, axis=1) > 0)  # 90% < 95% < 99%
        # SADF >= ADF and GSADF >= SADF, BSADF at the end <= GSADF (pathwise, so in quantile)
        assert np.all(table.at(ns, "sadf") >= table.at(ns, "adf") - 1e-6)
        assert np.all(table.at(ns, "gsadf") >= table.at(ns, "sadf") - 1e-6)
        assert np.all(table.at(ns, "gsadf") >= table.at(ns, "bsadf") - 1e-6)


def test_sequences_interpolate_monotonically_through_the_grid() -> None:
    """Between grid observations the sequences are linear: exact at the
    nodes, running maxima (SADF, GSADF) never fall, the levels stay ordered."""
    table = load_table(0)
    for n in (10, 57, 640, 2000, table.n_max):
        w = psy_min_window(n)
        seq = table.sequences(n)
        npts = n - w
        assert all(v.shape == (npts, 3) for v in seq.values())
        for name in ("sadf", "gsadf"):
            assert np.all(np.diff(seq[name], axis=0) >= -1e-6)
        for v in seq.values():
            assert np.all(np.diff(v, axis=1) > 0)
        lo, hi = table.win_ptr[w - table.wmin], table.win_ptr[w - table.wmin + 1]
        grid = table.grid_t[lo:hi]
        on = grid[grid < n]
        np.testing.assert_allclose(seq["bsadf"][on - w], table.bsadf[lo:hi][grid < n], rtol=1e-6)
        np.testing.assert_allclose(seq["gsadf"][-1], table.at(n, "gsadf")[0], rtol=1e-6)


def test_pvalues_interpolate_within_monte_carlo_error() -> None:
    """p-values are read from a sample-size grid: at every n, the p-value of
    the exact critical value is close to 1 - level (the two differ by Monte
    Carlo noise only), and p falls as the statistic grows."""
    for lag in (0, 3):
        table = load_table(lag)
        ns = np.arange(table.n_min, table.n_max + 1, 7)
        for which in ("adf", "sadf", "gsadf", "bsadf"):
            exact = table.at(ns, which)
            for k, level in enumerate(LEVELS):
                for i, n in enumerate(ns):
                    q = table.quantiles(int(n), which)[DIST_PROBS.index(level)]
                    tol = 4 * math.sqrt(2) * _se(table, int(n), which, level, table.reps)
                    assert abs(q - exact[i, k]) <= tol, (lag, which, n, level)
        # at a grid size the stored quantiles give their own probability back
        n = int(table.dist_n[40])
        q = table.dist[2, 40]
        np.testing.assert_allclose(psy_pvalue(q, n, lag), 1 - np.array(DIST_PROBS), atol=1e-6)
    stats = np.linspace(-3, 6, 200)
    p = psy_pvalue(stats, 777, 0, "gsadf")
    assert np.all(np.diff(p) <= 0) and p[0] == 0.99 and p[-1] == pytest.approx(0.001)
    assert psy_pvalue(float(psy_critical_value(777)), 777) == pytest.approx(0.05, abs=0.01)


# --------------------------------------------------------------------------- #
# Against independent simulations                                             #
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize(("n", "lag"), [(60, 0), (400, 0), (1200, 0), (200, 1), (120, 4)])
def test_tables_agree_with_a_fresh_simulation(n, lag) -> None:
    """A fresh ``mc_cv`` simulation (other seed, 1000 replications) agrees with
    the table within four standard errors of the difference."""
    table = load_table(lag)
    fresh = mc_cv(n, lag=lag, reps=1000, seed=12345, use_cache=False)
    shipped = mc_cv(n, lag=lag)
    assert (fresh.source, shipped.source, shipped.reps) == ("simulation", "table", table.reps)
    for which, f_val, t_val in (("adf", fresh.adf, shipped.adf), ("sadf", fresh.sadf,
                                                                  shipped.sadf),
                                ("gsadf", fresh.gsadf, shipped.gsadf),
                                ("bsadf", fresh.bsadf[-1], shipped.bsadf[-1])):
        for k, level in enumerate(LEVELS):
            se = math.hypot(_se(table, n, which, level, 1000),
                            _se(table, n, which, level, table.reps))
            assert abs(f_val[k] - t_val[k]) <= 4 * se, (which, level, f_val[k], t_val[k], se)
    # the pointwise sequences agree too (the s.e. of the last point as the scale)
    se95 = math.hypot(_se(table, n, "bsadf", 0.95, 1000),
                      _se(table, n, "bsadf", 0.95, table.reps))
    tail = slice(2 * fresh.bsadf.shape[0] // 3, None)
    diff = fresh.bsadf[tail, 1] - shipped.bsadf[tail, 1]
    assert abs(diff.mean()) <= 4 * se95 and np.abs(diff).max() <= 6 * se95


def test_tables_agree_with_pyexuber() -> None:
    """exuber's own Monte Carlo (C++, lag 0, the same PSY window) gives the
    same SADF and GSADF critical values within Monte Carlo error, and its
    BSADF critical-value sequence is our SADF sequence (its rule)."""
    exuber = pytest.importorskip("exuber")
    table = load_table(0)
    for n, nrep, seed in ((100, 2000, 3), (300, 1000, 4)):
        ref = exuber.radf_mc_cv(n, nrep=nrep, seed=seed)
        assert ref.minw == psy_min_window(n)
        for which, theirs in (("sadf", ref.sadf_cv), ("gsadf", ref.gsadf_cv)):
            ours = table.at(n, which)[0]
            for k, level in enumerate(LEVELS):
                se = math.hypot(_se(table, n, which, level, nrep),
                                _se(table, n, which, level, table.reps))
                assert abs(ours[k] - theirs[k]) <= 4 * se, (n, which, level, ours, theirs)
        seq = table.sequences(n)["sadf"]
        assert np.asarray(ref.bsadf_cv).shape == seq.shape
        se95 = math.hypot(_se(table, n, "sadf", 0.95, nrep),
                          _se(table, n, "sadf", 0.95, table.reps))
        diff = np.asarray(ref.bsadf_cv)[n // 4:, 1] - seq[n // 4:, 1]
        assert abs(diff.mean()) <= 4 * se95


# --------------------------------------------------------------------------- #
# mc_cv and the tables                                                        #
# --------------------------------------------------------------------------- #
def _fake_simulation(calls):
    def fake(n_sim, min_window, lag, ic, reps, seed):
        calls.append((n_sim, min_window, lag, ic, reps, seed))
        npts = n_sim - min_window - lag
        base = np.tile(np.array([1.0, 2.0, 3.0]), (npts, 1))
        return {"badf": base - 3, "bsadf": base, "sadf": base - 1, "gsadf": base + 1}
    return fake


def test_mc_cv_answers_from_the_tables_without_simulating(monkeypatch) -> None:
    calls: list = []
    monkeypatch.setattr(cvmod, "simulate_mc_table", _fake_simulation(calls))
    for n, lag in ((10, 0), (333, 2), (5031, 4)):
        cv = mc_cv(n, lag=lag, reps=1000, seed=99)
        table = load_table(lag)
        assert (cv.source, cv.reps, cv.seed) == ("table", table.reps, table.seed)
        np.testing.assert_allclose(cv.gsadf, table.at(n, "gsadf")[0])
        assert cv.sadf_seq is not None and cv.gsadf_seq is not None
        np.testing.assert_array_equal(cv.sadf_seq[-1], cv.sadf)
        sadf_rule = mc_cv(n, lag=lag, bsadf_cv="sadf")
        np.testing.assert_array_equal(sadf_rule.bsadf, cv.sadf_seq)
    assert calls == []
    # outside the tables: another window, an IC lag, lag 5, more reps, too long,
    # no stored results, fresh entropy, or tables switched off
    cases = [
        {"n": 300, "min_window": 40}, {"n": 300, "lag": 2, "ic": "aic"},
        {"n": 300, "lag": 5}, {"n": 300, "reps": 6000}, {"n": 5032},
        {"n": 300, "use_cache": False}, {"n": 300, "seed": None}, {"n": 300, "tables": False},
    ]
    for kw in cases:
        cv = mc_cv(**kw)
        assert cv.source == "simulation", kw
    assert len(calls) == len(cases)


def test_mc_cv_writes_nothing_without_a_cache_dir(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    mc_cv(80, min_window=20, reps=20, seed=1)
    assert list(tmp_path.rglob("*")) == []


def test_mc_simulation_is_prefix_consistent() -> None:
    """Time-major draws: the critical value of observation t does not depend
    on the sample size it was simulated for."""
    long = mc_cv(160, min_window=20, reps=50, seed=5, use_cache=False)
    short = mc_cv(97, min_window=20, reps=50, seed=5, use_cache=False)
    np.testing.assert_array_equal(short.bsadf, long.bsadf[:short.bsadf.shape[0]])
    np.testing.assert_array_equal(short.gsadf_seq, long.gsadf_seq[:short.bsadf.shape[0]])


def test_table_errors_say_what_to_do() -> None:
    with pytest.raises(ValueError, match=r"covers n = 10 \.\. 5031"):
        psy_critical_value(6000)
    with pytest.raises(ValueError, match="lags"):
        psy_pvalue(1.0, 100, lag=7)
    with pytest.raises(ValueError, match="which"):
        psy_pvalue(1.0, 100, which="badf")
    with pytest.raises(ValueError, match="level"):
        psy_critical_value(100, level=0.975)
    with pytest.raises(FileNotFoundError, match="generate"):
        load_table(0, directory="/nonexistent")


# --------------------------------------------------------------------------- #
# The kernel and the generator                                                #
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("lag", [0, 1, 3])
def test_window_family_matches_radf_on_prefixes(lag) -> None:
    """Every window at once = radf on each prefix with that window."""
    rng = np.random.default_rng(lag)
    y = np.cumsum(rng.standard_normal(140)) + np.r_[np.zeros(100), np.arange(40) ** 1.5]
    wmin, wmax = lag + 4, 30
    points = [np.unique(rng.integers(max(w + lag, 9), 140, 6)) for w in range(wmin, wmax + 1)]
    d = simulate_family(y.reshape(1, -1), wmin, wmax, lag, points)
    j = 0
    for k, w in enumerate(range(wmin, wmax + 1)):
        for t in points[k]:
            ref = radf(y[:t + 1], w, lag)
            got = (d.bsadf[0, j], d.sadf[0, j], d.gsadf[0, j], d.badf[0, t])
            np.testing.assert_allclose(got, (ref.bsadf[-1], ref.sadf, ref.gsadf, ref.adf),
                                       rtol=1e-5, atol=1e-5)  # float32 outputs
            j += 1


@pytest.mark.parametrize("lag", [0, 2])
def test_window_family_kernels_python_and_numba_agree(lag) -> None:
    y = np.cumsum(np.random.default_rng(7).standard_normal(45))
    wmin, wmax = lag + 3, 14
    q_t = np.concatenate([np.arange(w + lag, 45) for w in range(wmin, wmax + 1)])
    q_ptr = np.r_[0, np.cumsum([45 - w - lag for w in range(wmin, wmax + 1)])]
    outs = []
    for fn in (kernels.window_family_one, kernels.window_family_one_python):
        o = [np.empty(q_t.size) for _ in range(3)] + [np.empty(45)]
        fn(y, wmin, wmax, lag, q_ptr, q_t, *o)
        outs.append(o)
    for a, b in zip(*outs, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    if lag:  # the fixed-lag short windows, all plain Python
        strips = []
        for fn in (kernels.short_windows_lagk, kernels.short_windows_lagk_python):
            p, g = lag + 2, kernels.GROUP
            scratch = [np.empty((p, g)), np.empty((p, p + 1, g)), np.empty((p + 1, g))] + [
                np.empty(g) for _ in range(5)] + [np.empty(p + 1)]
            strip = np.full((wmax - wmin, 44 - lag), np.nan)
            fn(y, 0, wmin, wmax, lag, *scratch, strip)
            strips.append(strip)
        np.testing.assert_allclose(strips[0], strips[1], rtol=1e-12, atol=1e-12)
        assert np.isfinite(strips[0]).sum() > 100


def test_generate_writes_a_table_that_reproduces_its_simulation(tmp_path, capsys) -> None:
    """A small run of the generator: its table matches radf on the same random
    walks (rebuilt from the documented seed), and the tables read it."""
    assert generate.main(["--lags", "1", "--n-max", "45", "--reps", "40", "--seed", "3",
                          "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "40/40 paths" in printed and "wrote" in printed and "MC s.e." in printed
    table = load_table(1, directory=tmp_path)
    assert (table.n_min, table.n_max, table.reps, table.seed) == (10, psy_band_end(45), 40, 3)
    paths = random_walks(40, table.n_max, np.random.default_rng([3, 1]))
    for n in (10, 23, table.n_max):
        stats = np.array([[r.adf, r.sadf, r.gsadf, r.bsadf[-1]] for r in
                          (radf(p[:n], lag=1) for p in paths)])
        for s, which in enumerate(("adf", "sadf", "gsadf", "bsadf")):
            np.testing.assert_allclose(table.at(n, which)[0], np.quantile(stats[:, s], LEVELS),
                                       rtol=1e-5, atol=1e-5)
