"""Event study: abnormal returns, CARs and every test statistic against a plain
statsmodels OLS reference written here, the bad-input cases, and the DeepSeek
shock in the real price files."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from indicators.event_study import (
    Event,
    EventStudy,
    event_study,
    events_from_frame,
    shrug_off,
)

EST = (-250, -11)
WINDOWS = ((0, 0), (-1, 1), (0, 5), (0, 20))


# --------------------------------------------------------------------------- synthetic market
def _market(n: int = 700, seed: int = 7, shocks: dict[str, float] | None = None,
            event_pos: int = 500) -> tuple[dict[str, pd.Series], pd.DatetimeIndex]:
    """A benchmark and three securities with known alpha/beta, correlated
    idiosyncratic noise, and a shock of ``shocks[sym]`` on session ``event_pos``."""
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2020-01-01", periods=n)
    rm = rng.normal(0.0004, 0.01, n)
    common = rng.normal(0, 0.006, n)
    out = {"^GSPC": pd.Series(100 * np.cumprod(1 + rm), index=dates)}
    for i, (sym, beta) in enumerate((("AAA", 1.4), ("BBB", 0.8), ("CCC", 1.1))):
        e = 0.5 * common + rng.normal(0, 0.012 + 0.003 * i, n)
        r = 0.0002 * (i - 1) + beta * rm + e
        if event_pos < n:
            r[event_pos] += (shocks or {}).get(sym, 0.0)
        out[sym] = pd.Series(50 * np.cumprod(1 + r), index=dates)
    return out, dates


def _returns(s: pd.Series) -> pd.Series:
    return s.pct_change().iloc[1:]


def _reference(prices: dict[str, pd.Series], sym: str, d0: int, start: int, end: int,
               drop: set[int] = frozenset()) -> dict[str, float]:
    """Market model by sm.OLS over [d0-250, d0-11] (minus ``drop`` positions),
    prediction errors over the window, the CAR variance from the parameter
    covariance, and the Patell standardised CAR, step by step."""
    r = prices[sym].pct_change()
    rm = prices["^GSPC"].pct_change()
    est = [i for i in range(d0 + EST[0], d0 + EST[1] + 1) if i not in drop]
    fit = sm.OLS(r.iloc[est].to_numpy(), sm.add_constant(rm.iloc[est].to_numpy())).fit()
    win = list(range(d0 + start, d0 + end + 1))
    x_win = sm.add_constant(rm.iloc[win].to_numpy(), has_constant="add")
    ar = r.iloc[win].to_numpy() - fit.predict(x_win)
    xs = x_win.sum(axis=0)
    var_car = len(win) * fit.scale + xs @ fit.cov_params() @ xs
    pred = fit.get_prediction(x_win)
    se_obs = np.sqrt(pred.se_mean ** 2 + fit.scale)
    return {"alpha": fit.params[0], "beta": fit.params[1], "sigma": math.sqrt(fit.scale),
            "car": ar.sum(), "ar0": ar[-start] if start <= 0 <= end else np.nan,
            "sd": math.sqrt(var_car), "t": ar.sum() / math.sqrt(var_car),
            "p": 2 * stats.t.sf(abs(ar.sum() / math.sqrt(var_car)), fit.df_resid),
            "csar": float((ar / se_obs).sum()), "resid": fit.resid, "df": fit.df_resid,
            "raw": float(np.prod(1 + r.iloc[win].to_numpy()) - 1)}


def test_abnormal_returns_and_cars_match_statsmodels() -> None:
    prices, dates = _market(shocks={"AAA": -0.08, "BBB": -0.05, "CCC": -0.02})
    ev = Event("shock", dates[500].date(), "demand_shock")
    res = event_study(prices, [ev], symbols=["AAA", "BBB", "CCC"])
    assert not res.skipped
    for sym in ("AAA", "BBB", "CCC"):
        r = res.reaction("shock", sym)
        assert r.day0 == dates[500].date() and not r.shifted
        assert r.n_estimation == 240 and r.n_excluded == 0
        for start, end in WINDOWS:
            ref = _reference(prices, sym, 500, start, end)
            w = r.window(start, end)
            assert w.car == pytest.approx(ref["car"], abs=1e-12)
            assert w.sd == pytest.approx(ref["sd"], rel=1e-10)
            assert w.t == pytest.approx(ref["t"], rel=1e-9)
            assert w.p == pytest.approx(ref["p"], rel=1e-7)
            assert w.csar == pytest.approx(ref["csar"], rel=1e-9)
            assert w.raw == pytest.approx(ref["raw"], rel=1e-10)
            assert w.df == ref["df"]
        ref = _reference(prices, sym, 500, 0, 0)
        assert (r.alpha, r.beta, r.sigma) == pytest.approx(
            (ref["alpha"], ref["beta"], ref["sigma"]), rel=1e-9)
        assert r.ar0 == pytest.approx(ref["ar0"], abs=1e-12)
        assert r.ret0 == pytest.approx(_returns(prices[sym]).iloc[499], abs=1e-15)
        assert np.allclose(r.residuals.to_numpy(), ref["resid"], atol=1e-12)
    # the injected shock shows up as a large negative day-0 abnormal return
    assert res.reaction("shock", "AAA").window(0, 0).t < -4


def test_cohort_statistics_match_a_step_by_step_reference() -> None:
    prices, dates = _market(shocks={"AAA": -0.08, "BBB": -0.05, "CCC": -0.03})
    syms = ["AAA", "BBB", "CCC"]
    res = event_study(prices, [Event("shock", dates[500].date())], symbols=syms,
                      cohorts={"all": syms})
    for start, end in WINDOWS:
        refs = [_reference(prices, s, 500, start, end) for s in syms]
        cars = np.array([r["car"] for r in refs])
        n = len(cars)
        # cross-sectional t: scipy's one-sample t test of the CARs
        tt = stats.ttest_1samp(cars, 0.0)
        # Patell: each CSAR over sqrt(L2 (L1-2)/(L1-4)), summed over sqrt(N)
        l2 = end - start + 1
        z_i = [r["csar"] / math.sqrt(l2 * r["df"] / (r["df"] - 2)) for r in refs]
        patell = sum(z_i) / math.sqrt(n)
        # BMP (1991): standardised CARs tested with their cross-sectional s.d.
        scar = np.array([r["car"] / r["sd"] for r in refs])
        bmp = scar.mean() / (scar.std(ddof=1) / math.sqrt(n))
        # Kolari-Pynnonen (2010): average pairwise correlation of estimation residuals
        resid = np.vstack([r["resid"] for r in refs])
        corr = np.corrcoef(resid)
        rbar = corr[np.triu_indices(n, 1)].mean()
        kp = bmp * math.sqrt((1 - rbar) / (1 + (n - 1) * rbar))
        c = res.cohort("shock", "all", start, end)
        assert c.n == 3 and c.members == tuple(syms)
        assert c.mean_car == pytest.approx(cars.mean(), abs=1e-12)
        assert c.t_cs == pytest.approx(tt.statistic, rel=1e-9)
        assert c.p_cs == pytest.approx(tt.pvalue, rel=1e-7)
        assert c.patell_z == pytest.approx(patell, rel=1e-9)
        assert c.p_patell == pytest.approx(2 * stats.norm.sf(abs(patell)), rel=1e-7)
        assert c.bmp_t == pytest.approx(bmp, rel=1e-9)
        assert c.p_bmp == pytest.approx(2 * stats.t.sf(abs(bmp), n - 1), rel=1e-7)
        assert c.mean_corr == pytest.approx(rbar, rel=1e-9)
        assert c.kp_t == pytest.approx(kp, rel=1e-9)
    # the common noise component makes the residuals positively correlated,
    # so the KP adjustment shrinks the BMP statistic
    c0 = res.cohort("shock", "all", 0, 0)
    assert c0.mean_corr > 0.05 and abs(c0.kp_t) < abs(c0.bmp_t)
    frame = res.cohort_frame()
    assert len(frame) == len(WINDOWS) and set(frame["window"]) == {
        "[0]", "[-1,+1]", "[0,+5]", "[0,+20]"}


def test_an_equal_weight_basket_reacts_like_the_mean_of_its_members() -> None:
    """OLS is linear in the dependent variable: with the same regressors, the
    basket's alpha, beta and abnormal returns are the members' averages."""
    from indicators.runup import basket_index

    prices, dates = _market(shocks={"AAA": -0.08, "BBB": -0.02})
    prices["basket"] = basket_index({s: prices[s] for s in ("AAA", "BBB", "CCC")})
    res = event_study(prices, [Event("shock", dates[500].date())],
                      symbols=["AAA", "BBB", "CCC", "basket"], cohorts={"all": ["AAA", "BBB", "CCC"]})
    basket = res.reaction("shock", "basket")
    members = [res.reaction("shock", s) for s in ("AAA", "BBB", "CCC")]
    assert basket.beta == pytest.approx(np.mean([m.beta for m in members]), rel=1e-9)
    for start, end in WINDOWS:
        assert basket.window(start, end).car == pytest.approx(
            res.cohort("shock", "all", start, end).mean_car, abs=1e-12)


def test_non_trading_days_and_after_close_news_move_day_zero() -> None:
    prices, dates = _market()
    saturday = (dates[500] + pd.Timedelta(days=(5 - dates[500].weekday()) % 7)).date()
    assert pd.Timestamp(saturday).weekday() == 5
    late = Event("late", dates[450].date(), after_close=True)
    res = event_study(prices, [Event("weekend", saturday), late], symbols=["AAA"])
    r = res.reaction("weekend", "AAA")
    monday = dates[dates.searchsorted(pd.Timestamp(saturday))].date()
    assert r.day0 == monday and r.shifted
    assert any("not a trading day" in n and str(monday) in n for n in r.notes)
    r = res.reaction("late", "AAA")
    assert r.day0 == dates[451].date() and any("after the close" in n for n in r.notes)
    assert r.window(0, 0).car == pytest.approx(_reference(prices, "AAA", 451, 0, 0)["car"])


def test_listing_and_short_history_are_skipped_with_a_reason() -> None:
    prices, dates = _market()
    prices["NEW"] = prices["AAA"].iloc[400:]  # lists on session 400
    res = event_study(prices, [Event("early", dates[300].date()),
                               Event("soon_after", dates[450].date()),
                               Event("later", dates[690].date())],
                      symbols=["NEW"])
    reasons = {s.event: s.reason for s in res.skipped}
    assert "not yet listed" in reasons["early"]
    assert "only 39 estimation sessions" in reasons["soon_after"]
    r = res.reaction("later", "NEW")  # 240 sessions after the listing, less soon_after's 7
    assert (r.n_estimation, r.n_excluded) == (233, 7)
    assert not r.window(0, 20).complete and math.isnan(r.window(0, 20).car)
    assert r.window(0, 5).complete
    assert any("incomplete" in n for n in r.notes)
    with pytest.raises(KeyError, match="not yet listed"):
        res.reaction("early", "NEW")


def test_an_earlier_event_in_the_estimation_window_is_excluded_or_kept() -> None:
    prices, dates = _market(shocks={"AAA": -0.1}, event_pos=400)
    events = [Event("first", dates[400].date()), Event("second", dates[500].date())]
    res = event_study(prices, events, symbols=["AAA"])
    r = res.reaction("second", "AAA")
    drop = set(range(399, 406))  # sessions [-1, +5] around the first event
    assert r.n_excluded == 7 and r.n_estimation == 233
    assert any("first" in n for n in r.notes)
    ref = _reference(prices, "AAA", 500, 0, 5, drop=drop)
    assert r.window(0, 5).car == pytest.approx(ref["car"], abs=1e-12)
    assert r.window(0, 5).t == pytest.approx(ref["t"], rel=1e-9)
    kept = event_study(prices, events, symbols=["AAA"], overlap="keep").reaction("second", "AAA")
    assert kept.n_excluded == 0 and kept.n_estimation == 240
    assert kept.sigma > r.sigma  # the -10% shock inflates the residual s.d.
    assert any("contains: first" in n for n in kept.notes)
    near = event_study(prices, [Event("a", dates[500].date()), Event("b", dates[510].date())],
                       symbols=["AAA"])
    assert near.reaction("a", "AAA").overlapping == ("b",)


def test_recovery_time_counts_sessions_to_the_pre_event_close() -> None:
    prices, dates = _market()
    path = prices["AAA"].copy()
    pre = path.iloc[499]
    # fall 10% on day 0, stay below until session 512, then above
    path.iloc[500:512] = pre * 0.9
    path.iloc[512:] = path.iloc[512:] * (pre * 1.01 / path.iloc[512])
    path.iloc[512:] = np.maximum(path.iloc[512:], pre * 1.001)
    stuck = prices["AAA"].copy()
    stuck.iloc[500:] = pre * 0.8
    res = event_study({"^GSPC": prices["^GSPC"], "UP": path, "DOWN": stuck},
                      [Event("e", dates[500].date())])
    up = res.reaction("e", "UP")
    assert up.recovery_days == 12 and up.recovered_on == dates[512].date()
    assert not up.recovery_censored and up.pre_close == pytest.approx(pre)
    down = res.reaction("e", "DOWN")
    assert down.recovery_censored and down.recovery_days is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"windows": [(2, 1)]}, r"window \(2, 1\) starts after it ends"),
        ({"estimation": (-250, -1)}, r"must end before the earliest event window"),
        ({"estimation": (-20, -30)}, r"must start before it ends"),
        ({"estimation": (-60, -11)}, r"fewer than min_estimation=120"),
        ({"benchmark": "^NDX"}, r"benchmark '\^NDX' is not among the prices"),
        ({"symbols": ["ZZZ"]}, r"no prices for ZZZ"),
        ({"cohorts": {"ai": ["AAA", "ZZZ"]}}, r"cohort 'ai' lists ZZZ"),
        ({"overlap": "drop"}, r"overlap must be 'exclude' or 'keep'"),
        ({"min_estimation": 5}, r"at least 10 sessions"),
        ({"exclude": (3, -1)}, r"exclude span"),
    ],
)
def test_bad_arguments_are_refused(kwargs: dict, message: str) -> None:
    prices, dates = _market(n=300)
    with pytest.raises(ValueError, match=message):
        event_study(prices, [Event("e", dates[280].date())], **kwargs)


def test_duplicate_event_keys_and_empty_events_are_refused() -> None:
    prices, dates = _market(n=300)
    with pytest.raises(ValueError, match="duplicate event key 'e'"):
        event_study(prices, [Event("e", dates[280].date()), Event("e", dates[290].date())])
    with pytest.raises(ValueError, match="no events"):
        event_study(prices, [])
    frame = pd.DataFrame({"key": ["e", "e"], "date": [dates[280], dates[290]]})
    with pytest.raises(ValueError, match="duplicate event key"):
        event_study(prices, frame)
    with pytest.raises(ValueError, match="missing"):
        events_from_frame(pd.DataFrame({"key": ["e"]}))


# --------------------------------------------------------------------------- shrugging off
def test_shrug_off_slope_matches_statsmodels_and_counts_a_shared_day_once() -> None:
    positions = [300, 360, 420, 480, 540, 600]
    sizes = [-0.12, -0.09, -0.07, -0.05, -0.03, -0.02]
    prices, dates = _market(n=700)
    r = prices["AAA"].pct_change().fillna(0).to_numpy(copy=True)
    for pos, size in zip(positions, sizes, strict=True):
        r[pos] += size
    prices["AAA"] = pd.Series(50 * np.cumprod(1 + r), index=dates)
    events = [Event(f"e{i}", dates[p].date(), "export_control") for i, p in enumerate(positions)]
    events.append(Event("twin", dates[480].date(), "export_control"))  # same day as e3
    res = event_study(prices, events, symbols=["AAA"])
    s = shrug_off(res, "AAA", category="export_control", window=(0, 0))
    assert s.n == 6 and "twin" not in s.events
    assert any("twin shares day 0" in n for n in s.notes)
    assert any("anecdote" in n for n in s.notes)  # six events only
    y = np.abs([res.reaction(f"e{i}", "AAA").window(0, 0).car for i in range(6)])
    fit = sm.OLS(y, sm.add_constant(np.arange(1.0, 7.0))).fit()
    assert s.slope == pytest.approx(fit.params[1], rel=1e-9)
    assert s.se == pytest.approx(fit.bse[1], rel=1e-9)
    assert s.t == pytest.approx(fit.tvalues[1], rel=1e-9)
    assert s.p == pytest.approx(fit.pvalues[1], rel=1e-7)
    assert s.slope < 0  # the shocks shrink
    years = shrug_off(res, "AAA", category="export_control", window=(0, 0), x="years")
    xs = np.array([(dates[p] - dates[300]).days / 365.25 for p in positions])
    assert years.slope == pytest.approx(sm.OLS(y, sm.add_constant(xs)).fit().params[1], rel=1e-9)
    two = shrug_off(res, "AAA", events=["e0", "e1"])
    assert two.n == 2 and math.isnan(two.slope)
    with pytest.raises(ValueError, match="either category or events"):
        shrug_off(res, "AAA")
    with pytest.raises(ValueError, match="neither a studied symbol nor a cohort"):
        shrug_off(res, "ZZZ", category="export_control")


# --------------------------------------------------------------------------- real data
AI = ["NVDA", "MSFT", "GOOGL", "AMZN", "META", "ORCL", "AMD", "AVGO", "SMCI", "CRWV"]


@pytest.fixture(scope="module")
def ai_study() -> EventStudy:
    from indicators.runup import basket_index
    from ingest.reference import reference_frames
    from tests.conftest import load_shared_prices

    _, events = reference_frames()
    prices = {s: load_shared_prices(s)["adj_close"] for s in [*AI, "^IXIC", "^GSPC"]}
    prices["ai_basket"] = basket_index({s: prices[s] for s in AI})
    wanted = events[events["era"] == "ai"]
    return event_study(prices, wanted, cohorts={"ai": AI})


def test_deepseek_shock_in_the_shared_prices(ai_study: EventStudy, shared_data: Path) -> None:
    from ingest.reference import reference_rows

    figures = {r["key"]: r["value"] for r in reference_rows()[0]}
    nvda = ai_study.reaction("deepseek_shock", "NVDA")
    assert nvda.day0 == date(2025, 1, 27) and not nvda.shifted
    # the raw move is the cited -16.97% (FACTS.md §14)
    assert nvda.ret0 * 100 == pytest.approx(figures["nvda_deepseek_change"], abs=0.05)
    assert nvda.ar0 < -0.10 and nvda.window(0, 0).t < -3
    # the Nasdaq Composite fell 3.1% that day (FACTS.md §14)
    assert round(ai_study.reaction("deepseek_shock", "^IXIC").ret0 * 100, 1) == -3.1
    for sym in ("AMD", "AVGO", "ai_basket"):
        assert ai_study.reaction("deepseek_shock", sym).ar0 < 0, sym
    cohort = ai_study.cohort("deepseek_shock", "ai", 0, 0)
    assert cohort.n == 9 and "CRWV" not in cohort.members  # listed 2025-03-28
    assert cohort.mean_car < 0
    assert any(s.event == "deepseek_shock" and s.symbol == "CRWV" and "not yet listed" in s.reason
               for s in ai_study.skipped)
    # the H20 licence came after the close: day 0 is 2025-04-16
    assert ai_study.reaction("h20_licence", "NVDA").day0 == date(2025, 4, 16)
    # China's action plan came on a Saturday: day 0 is the next Monday
    plan = ai_study.reaction("china_ai_action_plan", "NVDA")
    assert plan.day0 == date(2025, 7, 28) and plan.shifted
    frame = ai_study.to_frame()
    assert {"event", "symbol", "window", "car", "t", "recovery_days"} <= set(frame.columns)
