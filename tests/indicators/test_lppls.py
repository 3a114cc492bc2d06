"""LPPLS engine: linear solve, parameter recovery, agreement with PyPI ``lppls``,
the FCO filters (the resolved oscillation count and the critical time next to
the window end), the Trust indicator, the Nasdaq 2000 bubble, Python/numba
parity and bad input."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

from bubblewatch.core.errors import InfeasibleTestError
from indicators import _lppls_kernels as K
from indicators import lppls as L
from tests.conftest import REPO_ROOT, load_shared_prices


def synthetic(n: int, tc_ahead: float, m: float, omega: float, b: float, c1: float,
              c2: float, sigma: float, seed: int, a: float = 5.0):
    """An LPPLS log-price path over trading days 0..n-1 with Gaussian noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(n, dtype=float)
    tc = t[-1] + tc_ahead
    y = L.lppls_model(t, tc, m, omega, a, b, c1, c2) + rng.normal(0.0, sigma, n)
    return t, y, tc


# --------------------------------------------------------------------------- #
# Linear parameters: the Filimonov-Sornette solve against numpy lstsq         #
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize(
    ("tc_shift", "m", "omega"),
    [(25.0, 0.5, 8.0), (-30.0, 0.9, 12.0), (0.3, 0.2, 4.0), (120.0, 1.7, 40.0)],
)
def test_linear_params_match_lstsq(tc_shift: float, m: float, omega: float) -> None:
    rng = np.random.default_rng(7)
    t = np.arange(400, dtype=float)
    y = 4.0 + np.cumsum(rng.normal(0.001, 0.02, t.size))
    tc = t[-1] + tc_shift
    a, b, c1, c2, sse = L.linear_params(t, y, tc, m, omega)
    d = np.maximum(np.abs(tc - t), 1e-8)
    f = d**m
    x = np.column_stack([np.ones_like(t), f, f * np.cos(omega * np.log(d)),
                         f * np.sin(omega * np.log(d))])
    coef, _res, *_ = np.linalg.lstsq(x, y, rcond=None)
    np.testing.assert_allclose([a, b, c1, c2], coef, rtol=1e-6, atol=1e-9 * np.abs(coef).max())
    assert sse == pytest.approx(float(np.sum((y - x @ coef) ** 2)), rel=1e-9)


def test_linear_params_singular_design_gives_nan() -> None:
    t = np.arange(50, dtype=float)
    a, b, *_ = L.linear_params(t, np.sin(t), 60.0, 0.0, 5.0)  # m = 0: f = 1 = constant
    assert np.isnan(a) and np.isnan(b)


# --------------------------------------------------------------------------- #
# Parameter recovery on synthetic bubbles with noise                          #
# --------------------------------------------------------------------------- #
RECOVERY_CASES = [
    # n, tc - t2 (days), m, omega, B, C1, C2, noise sd, seed
    (500, 20.0, 0.5, 8.0, -0.02, 0.002, -0.0015, 0.005, 1),
    (400, 10.0, 0.7, 6.0, -0.01, 0.0008, 0.0006, 0.003, 2),
    (600, 40.0, 0.35, 10.0, -0.06, 0.004, 0.003, 0.005, 3),
    (300, 15.0, 0.6, 7.0, 0.012, -0.001, 0.0008, 0.003, 4),  # negative bubble (B > 0)
]


@pytest.mark.parametrize("case", RECOVERY_CASES)
def test_recovers_known_parameters(case: tuple) -> None:
    n, ahead, m, om, b, c1, c2, sigma, seed = case
    t, y, tc = synthetic(n, ahead, m, om, b, c1, c2, sigma, seed)
    res = L.fit(t, y)
    assert abs(res.tc - tc) <= 3.0, (res.tc, tc)
    assert res.m == pytest.approx(m, abs=0.1)
    assert res.omega == pytest.approx(om, abs=0.6)
    assert np.sign(res.b) == np.sign(b)
    assert res.bubble == ("positive" if b < 0 else "negative")
    # the residual is noise-sized: no worse than the truth's
    true_sse = float(np.sum((y - L.lppls_model(t, tc, m, om, 5.0, b, c1, c2)) ** 2))
    assert res.sse <= true_sse * (1 + 1e-9)
    assert res.rmse == pytest.approx(sigma, rel=0.2)


def test_derived_quantities_follow_their_definitions() -> None:
    t, y, _ = synthetic(450, 20.0, 0.5, 8.0, -0.02, 0.002, -0.0015, 0.005, 11)
    r = L.fit(t, y)
    c = np.hypot(r.c1, r.c2)
    assert r.c == pytest.approx(c)
    assert r.damping == pytest.approx(r.m * abs(r.b) / (r.omega * c), rel=1e-9)
    # tc 20 days ahead: the oscillation at t2 is resolved, the published count holds
    assert r.tc - t[-1] > r.omega / np.pi
    osc = r.omega / (2 * np.pi) * np.log(abs(r.tc - t[0]) / abs(r.tc - t[-1]))
    assert r.oscillations == pytest.approx(osc, rel=1e-9)
    assert float(L.oscillations(r.tc, r.omega, t[0], t[-1])) == pytest.approx(osc, rel=1e-12)
    assert float(L.damping(r.m, r.omega, r.b, r.c1, r.c2)) == pytest.approx(r.damping, rel=1e-9)
    fitted = r.predict(t)
    assert r.sse == pytest.approx(float(np.sum((y - fitted) ** 2)), rel=1e-9)
    assert r.relative_error == pytest.approx(float(np.mean(np.abs((y - fitted) / fitted))),
                                             rel=1e-9)
    assert r.relative_error_price == pytest.approx(
        float(np.mean(np.abs(np.exp(y) / np.exp(fitted) - 1.0))), rel=1e-9)
    assert (r.t1, r.t2, r.n_obs, r.dt) == (0.0, 449.0, 450, 449.0)
    assert r.tc_ahead == pytest.approx(r.tc - 449.0)


def test_fit_is_invariant_to_the_time_unit() -> None:
    t, y, _ = synthetic(400, 25.0, 0.6, 7.0, -0.015, 0.001, 0.001, 0.004, 5)
    r1 = L.fit(t, y)
    r2 = L.fit(2.5 * t + 1000.0, y)  # another unit and origin
    assert r2.tc == pytest.approx(2.5 * r1.tc + 1000.0, rel=1e-6)
    assert (r2.m, r2.omega) == pytest.approx((r1.m, r1.omega), rel=1e-6)
    assert r2.sse == pytest.approx(r1.sse, rel=1e-6)
    np.testing.assert_allclose(r2.predict(2.5 * t + 1000.0), r1.predict(t), atol=1e-7)


def test_fit_is_deterministic() -> None:
    t, y, _ = synthetic(300, 12.0, 0.5, 9.0, -0.02, 0.002, 0.001, 0.01, 9)
    assert L.fit(t, y) == L.fit(t, y)


# --------------------------------------------------------------------------- #
# Agreement with PyPI lppls on the cost at the optimum it finds               #
# --------------------------------------------------------------------------- #
def _lppls_cases():
    ixic = np.log(load_shared_prices("^IXIC")["adj_close"].loc[:"2000-03-09"].to_numpy())
    nvda = np.log(load_shared_prices("NVDA")["adj_close"].loc[:"2024-06-18"].to_numpy())
    return [
        ("synthetic", synthetic(400, 20.0, 0.5, 8.0, -0.02, 0.002, -0.0015, 0.006, 21)[1]),
        ("ixic-150", ixic[-150:]),
        ("ixic-500", ixic[-500:]),
        ("nvda-250", nvda[-250:]),
    ]


@pytest.mark.parametrize("case", range(4))
def test_cost_not_worse_than_lppls_optimum(case: int) -> None:
    """``lppls`` (5 seeds, ``fit(25)``) against our global search over a box that
    contains its optima with ``m >= 0`` (``m < 0`` is outside the LPPLS model)."""
    from lppls import lppls
    name, y = _lppls_cases()[case]
    t = np.arange(y.size, dtype=float)
    obs = np.array([t, y])
    model = lppls.LPPLS(observations=obs)
    found = []
    for seed in range(5):
        random.seed(seed)
        np.random.seed(seed)
        tc, m, w, *_ = model.fit(25)
        if tc == 0 and m == 0:
            continue  # no converged search
        theirs = float(model.func_restricted(np.array([tc, m, w]), obs))
        # the same cost: at their (tc, m, w) our exact linear solve gives their SSE,
        # or slightly less (lppls adds a 1e-8 ridge to the normal equations)
        ours_there = L.linear_params(t, y, tc, m, w)[4]
        assert ours_there <= theirs * (1 + 1e-9)
        assert ours_there == pytest.approx(theirs, rel=1e-2)
        if m >= 0:
            found.append((tc, m, w, theirs))
    assert found, f"{name}: lppls found no optimum with m >= 0 in 5 seeds"
    dt = t[-1] - t[0]
    rel = [(f[0] - t[-1]) / dt for f in found]
    ours = L.fit(
        t, y,
        tc_range=(min(-0.2, *rel) - 0.01, max(0.2, *rel) + 0.01),
        m_range=(0.0, max(2.0, *(f[1] + 0.1 for f in found))),
        omega_range=(min(1.0, *(f[2] / 2 for f in found)),
                     max(50.0, *(f[2] + 5 for f in found))),
    )
    best_theirs = min(f[3] for f in found)
    assert ours.sse <= best_theirs * (1 + 1e-6) + 1e-9, (name, ours, found)


# --------------------------------------------------------------------------- #
# FCO filters                                                                 #
# --------------------------------------------------------------------------- #
def _hand_fit(**kw: float) -> L.LpplsFit:
    base = {"tc": 510.0, "m": 0.5, "omega": 8.0, "a": 5.0, "b": -0.02, "c1": 0.001, "c2": 0.0,
            "sse": 1.0, "t1": 0.0, "t2": 500.0, "n_obs": 501, "damping": 1.0,
            "oscillations": 3.0, "relative_error": 0.01, "nfev": 1,
            "relative_error_price": 0.02}
    base.update(kw)
    return L.LpplsFit(**base)  # type: ignore[arg-type]


def test_fco_filter_bounds_are_inclusive() -> None:
    f = L.FCO_FILTER
    assert _hand_fit().qualifies()
    for kw in ({"m": 0.01}, {"m": 1.2}, {"omega": 2.0}, {"omega": 25.0}, {"tc": 475.0},
               {"tc": 550.0}, {"oscillations": 2.5}, {"damping": 0.8},
               {"relative_error": 0.05}, {"tc": 502.6}, {"tc": 497.4}):
        assert f.qualifies(_hand_fit(**kw)), kw


@pytest.mark.parametrize(
    "kw",
    [{"m": 0.009}, {"m": 1.21}, {"omega": 1.99}, {"omega": 25.1}, {"tc": 474.9},
     {"tc": 550.1}, {"oscillations": 2.49}, {"damping": 0.79}, {"relative_error": 0.051},
     {"damping": float("nan")}, {"tc": 502.5}, {"tc": 500.0}, {"tc": 497.5}],
)
def test_fco_filter_rejects(kw: dict) -> None:
    assert not _hand_fit(**kw).qualifies()


def test_trust_filter_is_filter_2_of_table_1() -> None:
    f2 = L.FCO_TRUST_FILTER
    assert (f2.m, f2.omega, f2.tc) == ((0.01, 0.99), (2.0, 25.0), (-0.05, 0.1))
    assert (f2.min_oscillations, f2.min_damping, f2.max_relative_error) == (2.5, 1.0, 0.2)
    assert _hand_fit(relative_error=0.15).qualifies(f2)
    assert not _hand_fit(damping=0.9).qualifies(f2)
    assert not _hand_fit(m=1.0).qualifies(f2)


def test_custom_filter_and_validation() -> None:
    loose = L.FcoFilter(min_damping=0.0)
    assert _hand_fit(damping=0.1).qualifies(loose)
    on_price = L.FcoFilter(relative_error="price")
    assert _hand_fit(relative_error=0.5).qualifies(on_price)
    assert not _hand_fit(relative_error_price=0.06).qualifies(on_price)
    assert _hand_fit(tc=500.0).qualifies(L.FcoFilter(resolved_tc=False))
    with pytest.raises(ValueError, match="FcoFilter.m"):
        L.FcoFilter(m=(1.0, 0.5))
    with pytest.raises(ValueError, match="relative_error must be one of"):
        L.FcoFilter(relative_error="logs")


# --------------------------------------------------------------------------- #
# The critical time at the window end: resolved oscillations                  #
# --------------------------------------------------------------------------- #
def test_oscillation_count_is_floored_at_the_nyquist_horizon() -> None:
    """The published count, except that |tc - t2| is floored at omega * step / pi,
    where the local period 2 pi |tc - t| / omega is two samples."""
    om, t1, t2 = 8.0, 0.0, 499.0
    horizon = om / np.pi
    published = om / (2 * np.pi) * np.log((510.0 - t1) / (510.0 - t2))
    assert float(L.oscillations(510.0, om, t1, t2)) == pytest.approx(published, rel=1e-12)
    at_t2 = om / (2 * np.pi) * np.log((t2 - t1) / horizon)
    for tc in (t2, t2 + 1e-8, t2 + 0.5 * horizon, t2 - 0.5 * horizon):
        assert float(L.oscillations(tc, om, t1, t2)) == pytest.approx(at_t2, rel=1e-3), tc
    # with another sampling step the horizon scales with it
    assert float(L.oscillations(t2, om, t1, t2, step=2.0)) == pytest.approx(
        om / (2 * np.pi) * np.log((t2 - t1) / (2 * horizon)), rel=1e-12)
    assert float(L.oscillations(t1, om, t1, t2)) == 0.0
    # the kernel's count (window units, step 1/(n-1)) is the same number
    k = K.resolved_oscillations_python(om, (t2 - t1) / (t2 - t1), 0.0, 1.0 / (t2 - t1))
    assert k == pytest.approx(at_t2, rel=1e-12)


def test_vacuous_oscillation_count_is_excluded_by_hand() -> None:
    """tc a hair after t2 with a low frequency: the published count (|tc - t2| floored
    at 1e-8) is far above 2.5, yet fewer than 2.5 oscillations are observable."""
    t2, om = 124.0, 3.0
    tc = t2 + 1e-8
    published = om / (2 * np.pi) * np.log(tc / (tc - t2))
    resolved = float(L.oscillations(tc, om, 0.0, t2))
    assert published > 8.0 and resolved < 2.5
    fit = _hand_fit(tc=tc, t2=t2, n_obs=125, omega=om, oscillations=resolved)
    assert not fit.qualifies()
    assert not fit.qualifies(L.FcoFilter(resolved_tc=False))  # the count alone rejects it
    assert fit.qualifies(L.FcoFilter(resolved_tc=False, min_oscillations=2.0))


def test_critical_time_at_the_last_observation_is_excluded() -> None:
    """An LPPLS path whose critical time is the last observation: the engine puts tc
    on t2, where the published count is unbounded; the fit and every window's fit
    are excluded, while the same filter without the resolution condition would
    take them. Twenty days earlier the same path qualifies."""
    t, y, tc = synthetic(420, 0.0, 0.5, 8.0, -0.03, 0.0015, -0.0008, 0.002, 12)
    r = L.fit(t, y)
    assert abs(r.tc - tc) < 0.05
    published = r.omega / (2 * np.pi) * np.log(abs(r.tc - t[0]) / max(abs(r.tc - t[-1]), 1e-8))
    assert published > 10.0
    assert 2.5 < r.oscillations < published  # the resolved count is finite
    assert not r.qualifies()
    assert r.qualifies(L.FcoFilter(resolved_tc=False))
    price = np.exp(y)
    kw = {"min_window": 150, "max_window": 400, "window_step": 50}
    now = L.confidence(price, [-1, -21], **kw)
    assert now.pos_conf[0] == 0.0
    assert L.confidence(price, [-1], filters=L.FcoFilter(resolved_tc=False),
                        **kw).pos_conf[0] >= 0.5
    assert now.pos_conf[1] >= 0.5  # tc 20 days ahead
    assert now.to_frame()["pos_tc_median_days"].iloc[1] == pytest.approx(20.0, abs=5.0)


# --------------------------------------------------------------------------- #
# The filter against lppls's own, on lppls's fits                             #
# --------------------------------------------------------------------------- #
def _lppls_nested(y: np.ndarray, windows: range) -> tuple:
    from lppls import lppls
    t = np.arange(y.size, dtype=float)
    model = lppls.LPPLS(observations=np.array([t, y]))
    fits = []
    for w in windows:
        obs = np.array([t[-w:], y[-w:]])
        random.seed(w)
        np.random.seed(w)
        tc, m, om, a, b, c, c1, c2, o, d = model.fit(25, obs=obs)
        fits.append({"tc": tc, "m": m, "w": om, "a": a, "b": b, "c": c, "c1": c1, "c2": c2,
                     "t1": obs[0, 0], "t2": obs[0, -1], "O": o, "D": d})
    return model, fits


def test_filter_and_confidence_agree_with_lppls_on_the_same_windows() -> None:
    """lppls fits six windows; its ``compute_indicators`` with thresholds made equal
    to filter 1 (no relative error, no resolution condition: lppls has neither)
    and our filter on the same fits give the same decisions; their oscillation
    and damping values equal ours. On a synthetic bubble our own fits give the
    same confidence as lppls's (lppls divides by the fits with B < 0, all of them
    here)."""
    ixic = np.log(load_shared_prices("^IXIC")["adj_close"].loc[:"2000-03-09"].to_numpy())
    cases = [synthetic(420, 15.0, 0.5, 8.0, -0.03, 0.0012, -0.0009, 0.003, 31)[1], ixic[-400:]]
    config = {"m_min": 0.01, "m_max": 1.2, "w_min": 2.0, "w_max": 25.0, "O_min": 2.5,
              "D_min": 0.8, "tc_min_days": 1e9, "tc_max_days": 1e9, "tc_min_frac": 0.05,
              "tc_max_frac": 0.1}
    same = L.FcoFilter(resolved_tc=False, max_relative_error=np.inf)
    windows = range(400, 149, -50)
    decisions = []
    for y in cases:
        model, fits = _lppls_nested(y, windows)
        frame = model.compute_indicators([{"t2": float(y.size - 1), "p2": y[-1], "res": fits}],
                                         filter_conditions_config=config)
        theirs = [f["is_qualified"] for f in frame["_fits"].iloc[0]]
        ours = []
        for f in fits:
            osc = float(L.oscillations(f["tc"], f["w"], f["t1"], f["t2"], step=0.0))
            damp = float(L.damping(f["m"], f["w"], f["b"], f["c1"], f["c2"]))
            assert osc == pytest.approx(f["O"], rel=1e-9) and damp == pytest.approx(f["D"],
                                                                                    rel=1e-9)
            fit = L.LpplsFit(tc=f["tc"], m=f["m"], omega=f["w"], a=f["a"], b=f["b"],
                             c1=f["c1"], c2=f["c2"], sse=np.nan, t1=f["t1"], t2=f["t2"],
                             n_obs=int(f["t2"] - f["t1"]) + 1, damping=damp, oscillations=osc,
                             relative_error=0.0, nfev=0)
            ours.append(fit.qualifies(same))
        assert ours == theirs
        decisions += ours
        if y is cases[0]:
            mine = L.confidence(np.exp(y), [-1], min_window=150, max_window=400,
                                window_step=50, filters=same)
            assert all(f["b"] < 0 for f in fits)
            assert mine.pos_conf[0] == pytest.approx(frame["pos_conf"].iloc[0])
    assert any(decisions) and not all(decisions)


# --------------------------------------------------------------------------- #
# Confidence indicator                                                        #
# --------------------------------------------------------------------------- #
def test_confidence_on_a_synthetic_bubble() -> None:
    t, y, _tc = synthetic(420, 15.0, 0.5, 8.0, -0.03, 0.0012, -0.0009, 0.003, 31)  # D = 1.25
    price = pd.Series(np.exp(y), index=pd.bdate_range("2020-01-01", periods=t.size))
    res = L.confidence(price, [-1, -2], min_window=150, max_window=400, window_step=50)
    assert res.n_windows == 6 and list(res.windows) == [400, 350, 300, 250, 200, 150]
    assert res.pos_conf[0] >= 0.5 and res.neg_conf[0] == 0.0
    frame = res.to_frame()
    assert list(frame.index) == list(price.index[[-1, -2]])
    assert frame["pos_tc_median_days"].iloc[0] == pytest.approx(15.0, abs=5.0)
    # tc as a date: about 15 business days after the end
    expected = price.index[-1] + pd.offsets.BDay(15)
    assert abs((frame["pos_tc_median_date"].iloc[0] - expected).days) <= 8
    fits = res.fits_frame(0)
    assert len(fits) == 6 and fits["qualified"].sum() == res.n_pos[0]
    assert "positive" in res.summary()


def test_confidence_matches_single_fits() -> None:
    _t, y, _ = synthetic(300, 10.0, 0.6, 7.0, -0.02, 0.002, 0.001, 0.004, 41)
    res = L.confidence(np.exp(y), [299], min_window=200, max_window=300, window_step=100)
    for j, w in enumerate(res.windows):
        single = L.fit(np.arange(300 - w, 300, dtype=float), y[300 - w:])
        assert res.fits[0, j, 7] == pytest.approx(single.sse, rel=1e-12)
        assert res.fits[0, j, 0] == pytest.approx(single.tc, rel=1e-12)


def test_nasdaq_1999_2000_confidence() -> None:
    """^IXIC into the 2000-03-10 peak, full FCO grid (126 windows), weekly end dates.

    What the method implies: a qualified fit at ``t2`` puts tc within
    ``[t2 - 0.05 dt, t2 + 0.1 dt]``, so no reading can point at the peak from
    more than 0.1 * 749 = 75 trading days before it; readings earlier than that
    can only come from super-exponential stretches with their own, nearer
    critical times. 1999Q4 was one (the index rose from 2,746 to 4,069, +48% in
    the quarter), so it must give qualified positive fits and a positive mean,
    some of them two months or more before the peak; the quiet first half of
    1999 must not; the last weeks must read higher than January 2000, when the
    index moved sideways; and no negative bubble may qualify in a rising market.
    """
    px = load_shared_prices("^IXIC")["adj_close"]
    peak = px.index.get_loc(pd.Timestamp("2000-03-10"))
    q4 = px.loc["1999-10-01":"1999-12-31"].index[::5]
    jan = px.loc["2000-01-03":"2000-01-31"].index[::5]
    last = px.index[peak - 5 * np.arange(4)[::-1] - 1]  # the 4 weeks to 2000-03-09
    base = px.loc["1999-01-01":"1999-06-30"].index[::21]
    res = L.confidence(px, base.append(q4).append(jan).append(last))
    conf = pd.Series(res.pos_conf, index=res.index)
    assert conf.loc[base].max() == 0.0, conf
    assert conf.loc[q4].mean() > 0.0, conf
    early = conf.loc[px.index[: peak - 42 + 1].intersection(q4)]  # >= 2 months before
    assert (early > 0).any(), conf
    assert conf.loc[last[-3:]].mean() > conf.loc[jan].mean() + 0.1, conf
    assert conf.loc["2000-03-09"] >= 0.2, conf
    assert res.neg_conf.max() == 0.0
    # every qualified fit obeys the tc interval and the resolution condition
    fits = res.fits[res.qualified]
    ahead = fits[:, K.OUT_TC] - np.repeat(res.ends, res.qualified.sum(axis=1))
    dt = np.broadcast_to(res.windows - 1, res.qualified.shape)[res.qualified]
    assert np.all((ahead >= -0.05 * dt) & (ahead <= 0.1 * dt))
    assert np.all(np.abs(ahead) >= fits[:, K.OUT_OMEGA] / np.pi)


# --------------------------------------------------------------------------- #
# Trust indicator                                                             #
# --------------------------------------------------------------------------- #
_TRUST_KW = {"min_window": 150, "max_window": 400, "window_step": 50}


def test_trust_high_on_an_lppls_path_and_low_on_random_walks() -> None:
    """A synthetic bubble survives other draws of its noise; random walks have no
    LPPLS structure to survive (and the Trust filter is the stricter one)."""
    _t, y, _tc = synthetic(420, 15.0, 0.5, 8.0, -0.03, 0.0012, -0.0009, 0.003, 31)
    res = L.confidence(np.exp(y), [-1], trust_resamples=10, **_TRUST_KW)
    assert res.pos_conf[0] >= 0.5 and res.pos_trust is not None
    assert res.pos_trust[0] >= 0.8 and res.neg_trust is not None and res.neg_trust[0] == 0.0
    conf, trust = [], []
    for seed in range(8):
        rng = np.random.default_rng(100 + seed)
        walk = np.exp(5.0 + np.cumsum(rng.normal(0.0005, 0.015, 420)))
        r = L.confidence(walk, [-1], trust_resamples=10, **_TRUST_KW)
        assert r.pos_trust is not None and r.neg_trust is not None
        conf += [r.pos_conf[0], r.neg_conf[0]]
        trust += [r.pos_trust[0], r.neg_trust[0]]
    assert np.mean(conf) <= 0.05 and max(trust) <= 0.1, (conf, trust)


def test_trust_follows_its_definition() -> None:
    """Rebuild every synthetic series by hand (fitted log price plus the residual at
    the documented hashed index), fit it with :func:`fit`, apply filter 2 one fit at
    a time and take the median over the windows."""
    n_boot = 3
    _t, y, _ = synthetic(330, 12.0, 0.6, 7.0, -0.02, 0.0015, 0.0008, 0.004, 8)
    price = np.exp(y)
    res = L.confidence(price, [-1, -11], min_window=200, max_window=300, window_step=50,
                       trust_resamples=n_boot, seed=7)
    assert res.trust_fits is not None and res.pos_trust_windows is not None
    assert res.trust_fits.shape == (2, 3, n_boot, K.NOUT) and res.trust_resamples == n_boot
    t_all = np.arange(price.size, dtype=float)
    pos_share = np.zeros((2, 3))
    for i, end in enumerate(res.ends):
        for j, w in enumerate(res.windows):
            tw, yw = t_all[end - w + 1:end + 1], y[end - w + 1:end + 1]
            best = res.fits[i, j]
            fitted = L.lppls_model(tw, *best[[K.OUT_TC, K.OUT_M, K.OUT_OMEGA, K.OUT_A, K.OUT_B,
                                              K.OUT_C1, K.OUT_C2]])
            resid = yw - fitted
            key = K.resample_key_python(7, int(end), int(w))
            for b in range(n_boot):
                pick = [K.mix32_python(key ^ K.mix32_python(b * w + k)) % w for k in range(w)]
                ref = L.fit(tw, fitted + resid[pick])
                got = res.trust_fits[i, j, b]
                assert got[K.OUT_SSE] == pytest.approx(ref.sse, rel=1e-8, abs=1e-12)
                assert got[K.OUT_TC] == pytest.approx(ref.tc, abs=1e-3)  # a flat direction
                pos_share[i, j] += (ref.qualifies(L.FCO_TRUST_FILTER) and ref.b < 0) / n_boot
    np.testing.assert_allclose(res.pos_trust_windows, pos_share, atol=1e-12)
    np.testing.assert_allclose(res.pos_trust, np.median(pos_share, axis=1), atol=1e-12)
    frame = res.to_frame()
    assert list(frame["pos_trust"]) == list(res.pos_trust)
    assert (frame["trust_resamples"] == n_boot).all() and "trust" in res.summary()


def test_trust_draws_are_seeded_per_end_and_window() -> None:
    _t, y, _ = synthetic(330, 12.0, 0.6, 7.0, -0.02, 0.0015, 0.0008, 0.004, 9)
    kw = {"min_window": 250, "max_window": 300, "window_step": 50, "trust_resamples": 2}
    both = L.confidence(np.exp(y), [-1, -6], seed=3, **kw)
    alone = L.confidence(np.exp(y), [-6], seed=3, **kw)
    other = L.confidence(np.exp(y), [-6], seed=4, **kw)
    assert both.trust_fits is not None and alone.trust_fits is not None
    assert other.trust_fits is not None
    np.testing.assert_array_equal(both.trust_fits[1], alone.trust_fits[0])
    assert not np.array_equal(alone.trust_fits[..., K.OUT_SSE], other.trust_fits[..., K.OUT_SSE])
    no_trust = L.confidence(np.exp(y), [-6], min_window=250, max_window=300, window_step=50)
    assert no_trust.pos_trust is None and "pos_trust" not in no_trust.to_frame()
    np.testing.assert_array_equal(no_trust.fits, alone.fits)


# --------------------------------------------------------------------------- #
# Python vs numba                                                             #
# --------------------------------------------------------------------------- #
_PARITY = textwrap.dedent(
    """
    import json, warnings
    import numpy as np
    warnings.simplefilter("ignore")
    from indicators import lppls as L
    rng = np.random.default_rng(3)
    t = np.arange(40, dtype=float)
    y = L.lppls_model(t, 45.0, 0.5, 6.0, 3.0, -0.05, 0.01, 0.005) + rng.normal(0, 0.002, 40)
    kw = dict(grid=(2, 2, 3), n_starts=2, max_iter=6)
    r = L.fit(t, y, **kw)
    c = L.confidence(np.exp(y), [39, 35], min_window=25, max_window=35, window_step=5, **kw)
    tr = L.confidence(np.exp(y), [39], min_window=30, max_window=35, window_step=5,
                      trust_resamples=2, seed=5, **kw)
    print(json.dumps({"fit": [r.tc, r.m, r.omega, r.a, r.b, r.c1, r.c2, r.sse],
                      "lin": list(L.linear_params(t, y, 44.0, 0.7, 5.0)),
                      "fits": c.fits[..., :8].ravel().tolist(),
                      "derived": c.fits[..., 8:11].ravel().tolist(),
                      "trust": tr.trust_fits[..., :8].ravel().tolist()}))
    """
)


def _run_parity(disable: bool) -> dict:
    env = dict(os.environ)
    if disable:
        env["BUBBLEWATCH_DISABLE_NUMBA"] = "1"
    else:
        env.pop("BUBBLEWATCH_DISABLE_NUMBA", None)
    out = subprocess.run([sys.executable, "-c", _PARITY], cwd=REPO_ROOT, env=env,
                         capture_output=True, text=True, timeout=300, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_python_and_numba_kernels_agree() -> None:
    py = _run_parity(disable=True)
    nb = _run_parity(disable=False)
    for k in ("fit", "lin", "fits", "derived", "trust"):
        np.testing.assert_allclose(py[k], nb[k], rtol=1e-8, atol=1e-12, err_msg=k)


# --------------------------------------------------------------------------- #
# Bad input                                                                   #
# --------------------------------------------------------------------------- #
def test_fit_bad_input() -> None:
    t = np.arange(100, dtype=float)
    y = np.linspace(1.0, 2.0, 100)
    with pytest.raises(InfeasibleTestError, match="at least 20"):
        L.fit(t[:10], y[:10])
    with pytest.raises(ValueError, match="missing or infinite"):
        L.fit(t, np.where(t == 50, np.nan, y))
    with pytest.raises(ValueError, match="strictly increasing"):
        L.fit(t[::-1], y)
    with pytest.raises(ValueError, match="differ in length"):
        L.fit(t, y[:-1])
    with pytest.raises(ValueError, match="one-dimensional"):
        L.fit(np.ones((10, 10)), np.ones((10, 10)))
    with pytest.raises(ValueError, match="m_range"):
        L.fit(t, y, m_range=(1.0, 0.5))
    with pytest.raises(ValueError, match="m_range low end"):
        L.fit(t, y, m_range=(-1.0, 0.5))
    with pytest.raises(ValueError, match="grid"):
        L.fit(t, y, grid=(0, 2, 2))
    with pytest.raises(InfeasibleTestError, match="constant"):
        L.fit(t, np.ones(100))


def test_confidence_bad_input() -> None:
    price = pd.Series(np.linspace(10.0, 20.0, 300),
                      index=pd.bdate_range("2021-01-01", periods=300))
    kw = {"min_window": 100, "max_window": 200, "window_step": 50}
    with pytest.raises(ValueError, match="must be > 0"):
        L.confidence(price.where(price.index != price.index[5], -1.0), **kw)
    with pytest.raises(ValueError, match="must be > 0"):
        L.confidence(price.where(price.index != price.index[5], 0.0), **kw)
    with pytest.raises(ValueError, match="missing or infinite"):
        L.confidence(price.where(price.index != price.index[5]), **kw)
    with pytest.raises(InfeasibleTestError, match="longer than the data"):
        L.confidence(price, min_window=125, max_window=750)
    with pytest.raises(InfeasibleTestError, match="longer than the data up to end"):
        L.confidence(price, [150], **kw)
    with pytest.raises(ValueError, match="not in the price index"):
        L.confidence(price, ["2021-01-02"], **kw)  # a Saturday
    with pytest.raises(ValueError, match="need a price Series"):
        L.confidence(price.to_numpy(), ["2021-06-01"], **kw)
    with pytest.raises(ValueError, match="end positions"):
        L.confidence(price, [300], **kw)
    with pytest.raises(ValueError, match="max_window"):
        L.confidence(price, min_window=200, max_window=100)
    with pytest.raises(ValueError, match="min_window must be >= 20"):
        L.confidence(price, min_window=5, max_window=100)
    with pytest.raises(ValueError, match="window_step"):
        L.confidence(price, min_window=100, max_window=200, window_step=0)
    with pytest.raises(ValueError, match="quantiles"):
        L.confidence(price, quantiles=(0.5, 1.5), **kw)
    with pytest.raises(ValueError, match="empty"):
        L.confidence(price, [], **kw)
    with pytest.raises(ValueError, match="trust_resamples"):
        L.confidence(price, trust_resamples=-1, **kw)
    with pytest.raises(ValueError, match="trust_resamples"):
        L.confidence(price, trust_resamples=2.5, **kw)
    with pytest.raises(ValueError, match="seed"):
        L.confidence(price, trust_resamples=2, seed=-1, **kw)
