"""Tests of the real-time monitors (:mod:`indicators.psy_monitor`).

Oracles: the reading on a prefix of the series (point in time), plain loops
that call :func:`~indicators.psy.radf` on every prefix, a plain-Python wild
bootstrap, and small simulations whose tolerances come from the binomial
standard error of a rate.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from bubblewatch.core.errors import InfeasibleTestError
from indicators.cv import mc_cv
from indicators.psy import psy_min_window, radf
from indicators.psy_monitor import (
    PsyMonitorResult,
    monitor_ps2020,
    monitor_psy,
    realtime_episodes,
)


def _bubbly(n: int = 200, start: int = 130, seed: int = 0) -> np.ndarray:
    """A random walk that turns mildly explosive at ``start`` (PSY 2015 DGP)."""
    rng = np.random.default_rng(seed)
    y = np.empty(n)
    y[0] = 100.0
    delta = 1 + n ** -0.6
    for t in range(1, n):
        y[t] = (delta if t >= start else 1.0) * y[t - 1] + 6.79 * rng.standard_normal()
    return y


def _same_reading(full: PsyMonitorResult, pre: PsyMonitorResult, t: int) -> None:
    k = t - full.training
    assert pre.positions[-1] == t
    assert pre.bsadf[-1] == pytest.approx(full.bsadf[k], rel=1e-9, abs=1e-9)
    assert pre.cv[-1] == full.cv[k]
    assert pre.alarm[-1] == full.alarm[k] and pre.confirmed[-1] == full.confirmed[k]
    np.testing.assert_array_equal(pre.alarm, full.alarm[:k + 1])
    # an episode known on day t is reported the same way (confirmation included)
    known = [(e.start, e.confirmed) for e in full.episodes if e.start <= t]
    told = [(e.start, e.confirmed if e.confirmed is not None and e.confirmed <= t else None)
            for e in full.episodes if e.start <= t]
    assert [(e.start, e.confirmed) for e in pre.episodes] == told
    assert len(known) == len(pre.episodes)


# --------------------------------------------------------------------------- #
# Point in time                                                               #
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("kwargs", [
    {"rule": "pointwise"}, {"rule": "sadf", "gate": True, "lag": 1},
    {"min_window": 25, "reps": 200, "seed": 3},
])
def test_monitor_psy_reading_uses_only_data_up_to_its_date(kwargs) -> None:
    y = _bubbly()
    full = monitor_psy(y, training=100, min_duration=2, **kwargs)
    assert full.alarm.any()  # the test must see alarms and confirmations
    for t in range(100, 200, 7):
        _same_reading(full, monitor_psy(y[:t + 1], training=100, min_duration=2, **kwargs), t)


def test_monitor_ps2020_reading_uses_only_data_up_to_its_date() -> None:
    y = _bubbly(150, start=100)
    kw = {"training": 80, "horizon": 12, "every": 5, "reps": 39, "seed": 2, "min_duration": 2}
    full = monitor_ps2020(y, **kw)
    assert full.alarm.any() and full.recomputed == tuple(range(80, 150, 5))
    for t in (80, 84, 85, 101, 123, 149):
        _same_reading(full, monitor_ps2020(y[:t + 1], **kw), t)


# --------------------------------------------------------------------------- #
# Against slow plain references                                               #
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize(("rule", "lag"), [("pointwise", 0), ("sadf", 2)])
def test_monitor_psy_matches_radf_on_every_prefix(rule, lag) -> None:
    y = pd.Series(_bubbly(180, start=120, seed=4),
                  index=pd.date_range("2001-01-05", periods=180, freq="W-FRI"))
    res = monitor_psy(y, training=110, lag=lag, rule=rule, level=0.9, gate=True)
    assert res.labels[0] == y.index[110] and res.cv_source == "table"
    for k, t in enumerate(range(110, 180)):
        ref = radf(y.iloc[:t + 1], lag=lag)  # PSY window of the sample up to t
        cv = mc_cv(t + 1, lag=lag)  # the shipped tables, through mc_cv
        assert cv.source == "table"
        crit = cv.bsadf[-1, 0] if rule == "pointwise" else cv.sadf_seq[-1, 0]
        assert res.windows[k] == ref.min_window == psy_min_window(t + 1)
        assert res.bsadf[k] == pytest.approx(ref.bsadf[-1], abs=1e-9)
        assert res.gsadf[k] == pytest.approx(ref.gsadf, abs=1e-9)
        assert res.cv[k] == pytest.approx(crit, abs=1e-12)
        assert res.gsadf_cv[k] == pytest.approx(cv.gsadf[0], abs=1e-12)
        assert res.alarm[k] == (ref.bsadf[-1] > crit and ref.gsadf > cv.gsadf[0])
    frame = res.to_frame()
    assert list(frame.columns) == ["bsadf", "cv", "alarm", "confirmed", "min_window", "gsadf",
                                   "gsadf_cv"]
    assert frame.index[0] == y.index[110]
    assert "PSY real-time monitor" in res.summary()


def test_monitor_psy_with_a_fixed_window_matches_prefix_simulations() -> None:
    y = _bubbly(150, start=110, seed=2)
    res = monitor_psy(y, training=60, min_window=20, reps=100, seed=8, rule="sadf")
    assert res.cv_source == "simulation" and set(res.windows) == {20}
    for k, t in enumerate(range(60, 150, 9)):
        ref = radf(y[:t + 1], 20)
        cv = mc_cv(t + 1, 20, reps=100, seed=8, tables=False)
        j = (t - 60)
        assert res.bsadf[j] == pytest.approx(ref.bsadf[-1], abs=1e-9), k
        assert res.cv[j] == cv.sadf_seq[-1, 1]


def _plain_bootstrap_cv(y: np.ndarray, w: int, lag: int, horizon: int, reps: int,
                        seed: int, level: float, weights: str) -> float:
    """Phillips-Shi (2020) wild bootstrap written out plainly."""
    dy = np.diff(y)
    rows = np.arange(lag, dy.size)
    x = np.column_stack([np.ones(rows.size)] + [dy[rows - k] for k in range(1, lag + 1)])
    beta = np.linalg.lstsq(x, dy[rows], rcond=None)[0]
    resid = dy[rows] - x @ beta
    length = y.size + horizon - 1
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, resid.size, size=(reps, length - 1))
    if weights == "normal":
        mult = rng.standard_normal((reps, length - 1))
    else:
        mult = np.where(rng.integers(0, 2, size=(reps, length - 1)) == 1, 1.0, -1.0)
    peaks = []
    for b in range(reps):
        d = np.empty(length - 1)
        for t in range(length - 1):
            d[t] = dy[t] if t < lag else (mult[b, t] * resid[idx[b, t]]
                                          + sum(beta[k] * d[t - k] for k in range(1, lag + 1)))
        path = np.concatenate(([0.0], np.cumsum(d)))
        peaks.append(radf(path, w, lag).bsadf[-horizon:].max())
    return float(np.quantile(peaks, level))


@pytest.mark.parametrize(("lag", "weights"), [(0, "rademacher"), (1, "normal")])
def test_monitor_ps2020_matches_a_plain_bootstrap(lag, weights) -> None:
    y = _bubbly(110, start=85, seed=5)
    res = monitor_ps2020(y, training=70, horizon=10, every=15, lag=lag, reps=29, seed=11,
                         weights=weights)
    w = psy_min_window(70)
    assert set(res.windows) == {w} and res.recomputed == (70, 85, 100)
    for t in res.recomputed:
        seed_t = int(np.random.SeedSequence([11, t]).generate_state(1)[0])
        crit = _plain_bootstrap_cv(y[:t + 1], w, lag, 10, 29, seed_t, 0.95, weights)
        k = t - 70
        assert res.cv[k:k + 15] == pytest.approx(crit, rel=1e-8)
    for k, t in enumerate(range(70, 110)):
        assert res.bsadf[k] == pytest.approx(radf(y[:t + 1], w, lag).bsadf[-1], abs=1e-9)
    assert res.first_alarm == int(70 + np.flatnonzero(res.bsadf > res.cv)[0])
    assert "Phillips-Shi" in res.summary()


# --------------------------------------------------------------------------- #
# Size by simulation (small; benchmarks/sim_psy_monitor.py has the full tables)
# --------------------------------------------------------------------------- #
def test_false_alarm_rates_are_near_nominal() -> None:
    """Under the random-walk null: the pointwise PSY rule rejects on a given
    date about 5% of the time; the Phillips-Shi bootstrap has about 5%
    family-wise over its horizon. Four binomial standard errors of tolerance
    (plus, for the bootstrap, the noise of a 99-replication quantile)."""
    sims, training, horizon = 300, 40, 15
    rng = np.random.default_rng(2024)
    last_date, family = 0, 0
    for _ in range(sims):
        y = np.cumsum(rng.standard_normal(training + horizon))
        last_date += monitor_psy(y, training=training).alarm[-1]
        family += monitor_ps2020(y, training=training, horizon=horizon, reps=99,
                                 seed=int(rng.integers(1 << 30))).alarm.any()
    se = math.sqrt(0.05 * 0.95 / sims)
    assert abs(last_date / sims - 0.05) <= 4 * se
    assert abs(family / sims - 0.05) <= 4 * se + 0.02


# --------------------------------------------------------------------------- #
# Episodes and bad input                                                      #
# --------------------------------------------------------------------------- #
def test_realtime_episodes_confirm_after_min_duration() -> None:
    alarm = np.array([0, 1, 1, 1, 1, 0, 0, 1, 1, 0, 1], dtype=bool)
    stat = np.array([0, 1, 3, 2, 5, 0, 0, 1, 1, 0, 2.0])
    series = np.r_[np.zeros(50), 5, 5, 6, 7, 8, 9, 9, 9, 8, 8, 7.0]  # indexed by position
    eps, conf = realtime_episodes(alarm, stat, np.arange(50, 61), series, 3)
    assert [(e.start, e.confirmed, e.end, e.duration, e.ongoing, e.kind, e.peak) for e in eps] \
        == [(51, 53, 55, 4, False, "positive", 54), (57, None, 59, 2, False, "negative", 57),
            (60, None, None, 1, True, "positive", 60)]
    assert conf.astype(int).tolist() == [0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0]


def test_monitor_result_reports_first_alarm_and_confirmation() -> None:
    y = _bubbly()
    res = monitor_psy(y, training=100, min_duration=3)
    hits = np.flatnonzero(res.alarm)
    assert res.first_alarm == 100 + hits[0]
    confirmed = [e for e in res.episodes if e.confirmed is not None]
    assert confirmed and res.first_confirmed == confirmed[0].confirmed
    assert confirmed[0].confirmed == confirmed[0].start + 2
    assert res.min_duration == 3 and monitor_psy(y, training=100).min_duration == 5


@pytest.mark.parametrize(("call", "exc", "match"), [
    (lambda y: monitor_psy(y, training=8), InfeasibleTestError,
     r"monitor_psy: training=8 .*training >= 9"),
    (lambda y: monitor_psy(y, training=12, lag=4), InfeasibleTestError,
     r"monitor_psy: training=12 .* lag=4 .*training >= 14"),
    (lambda y: monitor_psy(y, training=15, min_window=20), InfeasibleTestError,
     r"min_window=20 .*training >= 20"),
    (lambda y: monitor_ps2020(y, training=20, horizon=10, min_window=25), InfeasibleTestError,
     r"monitor_ps2020: training=20 .*training >= 25"),
    (lambda y: monitor_ps2020(y, training=5, horizon=10), InfeasibleTestError,
     r"monitor_ps2020: training=5 .* at least 10"),
    (lambda y: monitor_psy(y, training=300), ValueError, "nothing to monitor"),
    (lambda y: monitor_psy(y, training=50, lag=6), ValueError, "lags"),
    (lambda y: monitor_psy(y, training=50, rule="max"), ValueError, "rule"),
    (lambda y: monitor_psy(y, training=50, level=0.975), ValueError, "level"),
    (lambda y: monitor_psy(y, training=50, min_duration=0), ValueError, "min_duration"),
])
def test_bad_arguments_say_what_is_needed(call, exc, match) -> None:
    y = np.cumsum(np.random.default_rng(0).standard_normal(200))
    with pytest.raises(exc, match=match):
        call(y)


def test_gaps_flat_stretches_and_long_series_are_refused() -> None:
    y = pd.Series(np.cumsum(np.random.default_rng(1).standard_normal(200)),
                  index=pd.date_range("2020-01-03", periods=200, freq="W-FRI"))
    gappy = y.copy()
    gappy.iloc[57] = np.nan
    with pytest.raises(ValueError, match=r"monitor_psy: y has 1 gaps .* position 57 \(2021"):
        monitor_psy(gappy, training=100)
    with pytest.raises(ValueError, match="monitor_ps2020: y has 1 gaps"):
        monitor_ps2020(gappy, training=100, horizon=10)
    flat = y.copy()
    flat.iloc[120:145] = flat.iloc[120]
    w = psy_min_window(101)
    with pytest.raises(ValueError, match=rf"flat .* 25 consecutive .* shorter than {w}"):
        monitor_psy(flat, training=100)
    short_flat = y.copy()
    short_flat.iloc[120:120 + w - 1] = short_flat.iloc[120]
    assert monitor_psy(short_flat, training=100).bsadf.size == 100
    with pytest.raises(InfeasibleTestError, match="exceed the shipped PSY tables"):
        monitor_psy(np.cumsum(np.random.default_rng(2).standard_normal(5100)), training=5000)
    with pytest.raises(ValueError, match="monitor_psy: log transform needs positive"):
        monitor_psy(y, training=100, log=True)
