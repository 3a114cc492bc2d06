"""The shocks indicator: its intervals against statsmodels prediction intervals,
the cohort interval and Kolari-Pynnönen statistic against a plain reference,
recovery times against a plain loop on the real prices, the bad-input cases,
the shrug-off reading, the exposure figures, the settings' events reaching
``compute`` without ``init``, and the default alert rules."""

from __future__ import annotations

import csv
import math
from datetime import date
from functools import cache

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from bubblewatch.core.errors import ConfigError
from bubblewatch.core.settings import EventEntry
from bubblewatch.core.universe import Instrument, Universe, default_universe
from indicators.frame_source import FrameSource
from indicators.registry import ComputeContext, IndicatorResult
from indicators.shocks import (
    INDICATOR,
    WINDOW_MENU,
    ShocksMeta,
    ShocksParams,
    load_events,
    shock_keys,
)
from ingest.reference import FIGURES_FILE, reference_frames
from tests.conftest import load_shared_prices, make_settings

EST = (-250, -11)


# --------------------------------------------------------------------------- helpers
@cache
def _prices(symbol: str) -> pd.DataFrame:
    return load_shared_prices(symbol)


def _source(symbols: list[str], events: pd.DataFrame | None = None,
            cut: pd.Timestamp | None = None) -> FrameSource:
    ref, all_events = reference_frames()
    frames = {s: _prices(s) for s in symbols}
    if cut is not None:
        frames = {s: f[f.index <= cut] for s, f in frames.items()}
    return FrameSource(price_frames=frames, reference_frame=ref,
                       events_frame=all_events if events is None else events)


def _run(key: str, source: FrameSource, universe: Universe | None = None,
         **params: object) -> IndicatorResult[ShocksMeta]:
    ctx = ComputeContext(source, universe or default_universe())
    return INDICATOR.compute(ctx, key, INDICATOR.parse_params(params))


def _aligned(symbol: str, cut: pd.Timestamp | None = None) -> pd.DataFrame:
    """Adjusted closes of ``symbol`` and ^GSPC on the sessions both have."""
    both = pd.concat([_prices(symbol)["adj_close"].rename("s"),
                      _prices("^GSPC")["adj_close"].rename("m")], axis=1, join="inner").dropna()
    return both if cut is None else both[both.index <= cut]


def _events(*keys: str) -> pd.DataFrame:
    _, ev = reference_frames()
    return ev[ev["key"].isin(keys)].reset_index(drop=True)


# --------------------------------------------------------------------------- intervals
def test_car_intervals_match_statsmodels_prediction_intervals() -> None:
    """One event, so no session is excluded: the day-0 interval is statsmodels'
    observation interval of the market model, read as an abnormal return."""
    res = _run("NVDA", _source(["NVDA", "^GSPC"], _events("deepseek_shock")),
               windows=[[0, 0], [0, 5]], shrug_window=[0, 5])
    row = res.frame.loc["2025-01-27"]
    lv = _aligned("NVDA")
    r, rm = lv["s"].pct_change(), lv["m"].pct_change()
    d0 = lv.index.get_loc(pd.Timestamp("2025-01-27"))
    est = list(range(d0 + EST[0], d0 + EST[1] + 1))
    fit = sm.OLS(r.iloc[est].to_numpy(), sm.add_constant(rm.iloc[est].to_numpy())).fit()
    pred = fit.get_prediction(np.array([[1.0, rm.iloc[d0]]])).summary_frame(alpha=0.05)
    y0 = r.iloc[d0]
    assert row["car_0"] == pytest.approx(y0 - pred["mean"].iloc[0], abs=1e-12)
    assert row["ci_lo_0"] == pytest.approx(y0 - pred["obs_ci_upper"].iloc[0], abs=1e-10)
    assert row["ci_hi_0"] == pytest.approx(y0 - pred["obs_ci_lower"].iloc[0], abs=1e-10)
    # [0,+5]: the summed prediction error's variance, by hand from the fit
    win = list(range(d0, d0 + 6))
    xw = sm.add_constant(rm.iloc[win].to_numpy(), has_constant="add")
    car = float((r.iloc[win].to_numpy() - fit.predict(xw)).sum())
    xs = xw.sum(axis=0)
    half = stats.t.ppf(0.975, fit.df_resid) * math.sqrt(6 * fit.scale
                                                         + xs @ fit.cov_params() @ xs)
    assert (row["car_0_5"], row["ci_lo_0_5"], row["ci_hi_0_5"]) == pytest.approx(
        (car, car - half, car + half), abs=1e-10)
    # known fact: NVIDIA fell ~17% on the day, the S&P 500 ~1.5%
    assert row["ret_0"] == pytest.approx(118.42 / 142.62 - 1, abs=5e-4)
    assert row["car_0"] < -0.10 and row["t_0"] < -3 and row["ci_hi_0"] < 0
    assert res.meta.latest_event == "deepseek_shock" and res.meta.kind == "symbol"


def _synthetic(n: int = 600, event_pos: int = 450, seed: int = 3
               ) -> tuple[dict[str, pd.DataFrame], pd.DatetimeIndex, list[str]]:
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2015-01-01", periods=n)
    rm = rng.normal(0.0003, 0.01, n)
    common = rng.normal(0, 0.008, n)
    bars = {"^GSPC": 100 * np.cumprod(1 + rm)}
    names = ["AAA", "BBB", "CCC", "DDD"]
    for i, sym in enumerate(names):
        r = 0.0001 * i + (0.8 + 0.2 * i) * rm + 0.6 * common + rng.normal(0, 0.01 + 0.002 * i, n)
        r[event_pos] += (-0.06, -0.03, -0.045, 0.01)[i]
        bars[sym] = 40 * np.cumprod(1 + r)
    frames = {s: pd.DataFrame({"close": v, "adj_close": v}, index=pd.DatetimeIndex(dates,
                                                                                 name="date"))
              for s, v in bars.items()}
    return frames, dates, names


def test_cohort_interval_and_kp_statistic_match_a_plain_reference() -> None:
    frames, dates, names = _synthetic()
    d0 = 450
    events = pd.DataFrame([{"key": "shock", "date": dates[d0].date(), "title": "Shock",
                            "era": "ai", "category": "demand_shock", "after_close": False}])
    universe = Universe(tuple(Instrument(s, s, ("ai",)) for s in [*names, "^GSPC"]),
                        market_index="^GSPC", baskets={"ai_basket": tuple(names)})
    source = FrameSource(price_frames=frames, events_frame=events)
    res = _run("ai", source, universe)
    row = res.frame.loc[dates[d0]]
    # the reference: statsmodels market models, then the cohort formulas step by step
    rm = frames["^GSPC"]["adj_close"].pct_change()
    cars, scars, resids = [], [], []
    for s in names:
        r = frames[s]["adj_close"].pct_change()
        est = list(range(d0 + EST[0], d0 + EST[1] + 1))
        fit = sm.OLS(r.iloc[est].to_numpy(), sm.add_constant(rm.iloc[est].to_numpy())).fit()
        pred = fit.get_prediction(np.array([[1.0, rm.iloc[d0]]]))
        ar = r.iloc[d0] - pred.predicted_mean[0]
        cars.append(ar)
        scars.append(ar / math.sqrt(fit.scale + pred.se_mean[0] ** 2))
        resids.append(fit.resid)
    n, cars_a, scars_a = len(names), np.array(cars), np.array(scars)
    corr = np.corrcoef(np.vstack(resids))
    rbar = corr[~np.eye(n, dtype=bool)].mean()
    bmp = math.sqrt(n) * scars_a.mean() / scars_a.std(ddof=1)
    kp = bmp * math.sqrt((1 - rbar) / (1 + (n - 1) * rbar))
    half = (stats.t.ppf(0.975, n - 1) * cars_a.std(ddof=1) / math.sqrt(n)
            * math.sqrt((1 + (n - 1) * rbar) / (1 - rbar)))
    assert row["car_0"] == pytest.approx(cars_a.mean(), abs=1e-12)
    assert (row["ci_lo_0"], row["ci_hi_0"]) == pytest.approx(
        (cars_a.mean() - half, cars_a.mean() + half), abs=1e-10)
    assert row["bmp_t_0"] == pytest.approx(bmp, rel=1e-9)
    assert row["kp_t_0"] == pytest.approx(kp, rel=1e-9)
    assert row["p_kp_0"] == pytest.approx(2 * stats.t.sf(abs(kp), n - 1), rel=1e-7)
    assert row["mean_corr"] == pytest.approx(rbar, rel=1e-9) and row["n_0"] == n
    # the cohort carries its basket's recovery, read the same as the basket key
    basket = _run("ai_basket", source, universe).frame.loc[dates[d0]]
    for f in ("recovery_days", "recovered"):
        assert row[f] == basket[f]
    # the equal-weight basket's CAR is the members' mean (OLS is linear)
    assert basket["car_0"] == pytest.approx(row["car_0"], abs=1e-12)
    assert res.meta.kind == "cohort" and res.meta.members == names


# --------------------------------------------------------------------------- recovery
def _recovery_reference(key_rows: pd.DatetimeIndex, lv: pd.DataFrame, history_min: int = 3
                        ) -> pd.DataFrame:
    """Recovery fields by a plain loop over the aligned closes."""
    close = lv["s"].to_numpy()
    pos = {d: i for i, d in enumerate(lv.index)}
    out, done = {}, []
    for d in key_rows:
        p = pos[d]
        pre = close[p - 1]
        k = next((j for j in range(len(close) - p) if close[p + j] >= pre), None)
        own = float(k) if k is not None else float(len(close) - 1 - p)
        earlier = [v for dd, v in done if dd < d]
        med = float(np.median(earlier)) if len(earlier) >= history_min else math.nan
        ratio = 0.0 if own == 0 else (own / med if med > 0 else math.nan)
        out[d] = {"recovery_days": own, "recovered": float(k is not None),
                  "recovery_median_before": med, "recovery_vs_history": ratio}
        if k:
            done.append((d, float(k)))
    return pd.DataFrame.from_dict(out, orient="index")


@pytest.mark.parametrize("cut", [None, "2025-03-11"])
def test_recovery_fields_match_a_plain_loop_on_real_prices(cut: str | None) -> None:
    """All built-in events of NVDA; with the prices cut 30 sessions after the
    DeepSeek shock, its recovery is still open and counts the sessions so far."""
    ts = pd.Timestamp(cut) if cut else None
    res = _run("NVDA", _source(["NVDA", "^GSPC"], cut=ts))
    lv = _aligned("NVDA", ts)
    ref = _recovery_reference(res.frame.index, lv)
    got = res.frame[ref.columns]
    pd.testing.assert_frame_equal(got, ref, check_names=False, check_freq=False)
    if cut:
        last = res.frame.iloc[-1]
        assert res.frame.index[-1] == pd.Timestamp("2025-01-27")
        elapsed = lv.index.get_loc(ts) - lv.index.get_loc(pd.Timestamp("2025-01-27"))
        assert last["recovered"] == 0 and last["recovery_days"] == elapsed == 30
        assert res.meta.prices_through == date(2025, 3, 11)
    else:  # it took NVIDIA until mid-2025 to close back above 142.62 (2025-01-24)
        assert got.loc["2025-01-27", "recovered"] == 1
        assert got.loc["2025-01-27", "recovery_days"] > 60


# --------------------------------------------------------------------------- bad input
def test_non_trading_days_listings_overlaps_and_shared_days() -> None:
    nvda = _run("NVDA", _source(["NVDA", "^GSPC"]))
    ev = {e.key: e for e in nvda.meta.events}
    # China's plan came on a Saturday: day 0 is Monday, and the row says so
    plan = ev["china_ai_action_plan"]
    assert plan.day0 == date(2025, 7, 28) and plan.shifted
    assert any("not a trading day: day 0 is the next session, 2025-07-28" in n
               for n in plan.notes)
    assert nvda.frame.loc["2025-07-28", "shifted"] == 1
    assert nvda.frame.loc["2025-01-27", "shifted"] == 0
    # two BIS steps on 2025-05-13 share one row
    assert ev["huawei_ascend_guidance"].same_day0_as == "ai_diffusion_rescinded"
    assert nvda.frame.loc["2025-05-13", "n_events"] == 2
    assert len(nvda.frame) == len({e.day0 for e in nvda.meta.events})
    # other events' sessions [-1, +5] are left out of DeepSeek's estimation window
    lv = _aligned("NVDA")
    pos = {d: i for i, d in enumerate(lv.index)}
    d0 = pos[pd.Timestamp("2025-01-27")]
    est = set(range(d0 + EST[0], d0 + EST[1] + 1))
    hit = set()
    for e in nvda.meta.events:
        if e.key != "deepseek_shock":
            hit |= est & set(range(pos[pd.Timestamp(e.day0)] - 1, pos[pd.Timestamp(e.day0)] + 6))
    assert hit and nvda.frame.loc["2025-01-27", "n_estimation"] == len(est) - len(hit)
    assert any(n.startswith("excluded from the estimation window the sessions of:")
               and "samr_nvidia_probe" in n for n in ev["deepseek_shock"].notes)
    assert set(ev["deepseek_shock"].overlapping) >= {"ai_diffusion_rule", "stargate"}
    # Broadcom's prices start in 2009: the dot-com warnings are skipped with a reason
    avgo = _run("AVGO", _source(["AVGO", "^GSPC"]))
    first = _prices("AVGO").index[0]
    skipped = {s.event: s.reason for s in avgo.meta.skipped}
    assert "not yet listed" in skipped["cisco_writedown"]
    assert avgo.frame.index.min() > first
    # CoreWeave: every event before listing or too soon after it; the result says why
    crwv = _run("CRWV", _source(["CRWV", "^GSPC"]))
    assert crwv.frame.empty and "could be studied for CRWV" in (crwv.meta.missing or "")
    assert "estimation sessions" in crwv.meta.missing


def test_duplicate_keys_bad_params_and_missing_inputs_are_refused_clearly() -> None:
    ev = _events("deepseek_shock", "h20_licence")
    dup = pd.concat([ev, ev.iloc[[0]].assign(date=date(2025, 2, 3))], ignore_index=True)
    with pytest.raises(ConfigError, match=r"'deepseek_shock' is used by more than one event "
                                          r"\(2025-01-27, 2025-02-03\)"):
        _run("NVDA", _source(["NVDA", "^GSPC"], dup))
    cases = [
        ({"windows": [[0, 3]]}, "cannot be stored; choose from"),
        ({"windows": [[0, 0]], "shrug_window": [0, 5]}, "shrug_window"),
        ({"estimation": [-250, 0]}, "must start before it ends and end before"),
        ({"estimation": [-100, -11]}, "fewer than min_estimation=120"),
        ({"categories": ["weather"]}, "categories"),
        ({"windows": [[0, 0], [0, 0]], "shrug_window": [0, 0]}, "each window once"),
    ]
    for given, message in cases:
        with pytest.raises(ConfigError, match=message):
            INDICATOR.parse_params(given)
    assert INDICATOR.parse_params({"windows": [[0, 60], [0, 5]]}).windows == ((0, 60), (0, 5))
    # no events of the categories, and the benchmark itself: a note, not a failure
    listings = _run("NVDA", _source(["NVDA", "^GSPC"]), categories=["listing"],
                    windows=[[0, 0]], shrug_window=[0, 0])
    assert [e.key for e in listings.meta.events] == ["coreweave_ipo"]  # Netscape: unlisted
    assert not listings.frame.empty and "car_0_5" not in listings.frame
    empty = _run("NVDA", _source(["NVDA", "^GSPC"], _events("netscape_ipo")))
    assert empty.frame.empty and "no dated events of the categories" in empty.meta.missing
    bench = _run("^GSPC", _source(["^GSPC"]))
    assert bench.frame.empty and "benchmark" in bench.meta.missing
    no_bench = _run("NVDA", _source(["NVDA"]))
    assert "no prices for the benchmark ^GSPC" in no_bench.meta.missing


def test_keys_and_declared_fields() -> None:
    u = default_universe()
    keys = shock_keys(u)
    assert "^GSPC" not in keys and {"NVDA", "^IXIC", "ai_basket", "dotcom_basket", "ai",
                                     "dotcom"} <= set(keys)
    assert keys[-4:] == ["ai_basket", "dotcom_basket", "ai", "dotcom"]
    for w, s in WINDOW_MENU.items():
        for f in ("car", "ci_lo", "ci_hi", "t", "bmp_t", "kp_t", "p_kp", "n"):
            assert f"{f}_{s}" in INDICATOR.columns, (w, f)
    assert INDICATOR.page == "shocks"
    assert ShocksParams().windows == ((0, 0), (-1, 1), (0, 5), (0, 20))
    events, eras = load_events(reference_frames()[1], ["export_control"])
    assert {e.category for e in events} == {"export_control"} and set(eras.values()) == {"ai"}


# --------------------------------------------------------------------------- shrugging off
def test_shrug_off_readings_match_statsmodels_on_the_stored_cars() -> None:
    res = _run("NVDA", _source(["NVDA", "^GSPC"]))
    (reading,) = [s for s in res.meta.shrug_off
                  if (s.category, s.era, s.measure) == ("export_control", "ai", "abs_car")]
    rows = [e for e in res.meta.events if (e.category, e.era) == ("export_control", "ai")
            and e.same_day0_as is None]
    y = np.abs([res.frame.loc[pd.Timestamp(e.day0), "car_0_5"] for e in rows])
    fit = sm.OLS(y, sm.add_constant(np.arange(1.0, len(y) + 1))).fit()
    assert reading.n == len(y) == 6 and reading.events == [e.key for e in rows]
    assert reading.slope == pytest.approx(fit.params[1], rel=1e-9)
    assert reading.p == pytest.approx(fit.pvalues[1], rel=1e-7)
    assert "anecdote" in reading.reading and reading.window == "[0,+5]"
    # the dot-com cohort's shocks: the five profit warnings of 2000-2001
    dot = _run("dotcom", _source(["CSCO", "INTC", "QCOM", "GLW", "VIAV", "ORCL", "MSFT",
                                  "^GSPC"]))
    (warn,) = [s for s in dot.meta.shrug_off if (s.category, s.era, s.measure)
               == ("earnings", "dotcom", "abs_car")]
    assert warn.subject == "dotcom" and warn.events == [
        "lucent_warning_2000_01", "intel_warning_2000_09", "lucent_warning_2000_10",
        "lucent_warning_2000_12", "cisco_writedown"]
    means = [dot.frame.loc[pd.Timestamp(e.day0), "car_0_5"] for e in dot.meta.events
             if e.key in warn.events]
    assert warn.values == pytest.approx(np.abs(means), abs=1e-12)
    assert any(s.subject == "dotcom_basket" and s.measure == "recovery" for s in dot.meta.shrug_off)


# --------------------------------------------------------------------------- exposure
def test_exposure_and_charges_come_from_the_cited_figures() -> None:
    with FIGURES_FILE.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    want = {r["key"] for r in rows if r["entity"] == "NVDA" and r["metric"] in (
        "china_revenue_share", "dc_revenue_share", "china_revenue")}
    res = _run("NVDA", _source(["NVDA", "^GSPC"]))
    assert {f.key for f in res.meta.exposure} == want and len(want) >= 20
    share = {f.key: f for f in res.meta.exposure}["nvda_china_revenue_share_fy2025"]
    assert (share.value, share.unit, share.period) == (13.0, "%", "year")
    assert any(c.startswith("China share of revenue: 5 cited figures") for c in
               res.meta.exposure_coverage)
    charges = {c.key: c for c in res.meta.charges}
    assert charges["nvda_h20_charge_guidance_2025_04"].event == "h20_licence"
    assert charges["nvda_h20_charge_guidance_2025_04"].value == 5500
    amd = _run("AMD", _source(["AMD", "^GSPC"]))
    assert {c.key: c.event for c in amd.meta.charges} == {
        "amd_mi308_charge_guidance_2025_04": "h20_licence"}
    csco = _run("CSCO", _source(["CSCO", "^GSPC"]))
    assert {c.key: c.event for c in csco.meta.charges}["csco_inventory_charge_guidance_2001"] \
        == "cisco_writedown"
    assert csco.meta.exposure == [] and "no cited China" in csco.meta.exposure_coverage[0]


# --------------------------------------------------------------------------- compute job
def _counts(url: str) -> tuple[int, int]:
    import sqlite3

    with sqlite3.connect(url.removeprefix("sqlite:///")) as c:
        return (c.execute("select coalesce(sum(n_values), 0) from indicator_block").fetchone()[0],
                c.execute("select count(*) from reference_event").fetchone()[0])


def test_compute_studies_a_new_settings_event_without_init(seeded_db_copy: str) -> None:
    from db import repo
    from db.session import get_engine, session_scope
    from indicators.compute import run_compute, sync_events

    url = seeded_db_copy
    gtc = EventEntry(key="gtc_2024_blackwell", date=date(2024, 3, 18), after_close=True,
                     title="Blackwell unveiled at GTC", category="product_launch", era="ai",
                     source="https://nvidianews.nvidia.com/news/nvidia-blackwell-platform-arrives")
    universe = {"symbols": ["NVDA", "^GSPC"]}
    with_event = make_settings(url, universe=universe, events=[gtc])
    report = run_compute(with_event, ["shocks"], symbols=["NVDA"], show_progress=False)
    assert report.ok and report.rows["shocks/NVDA"] > 0
    with session_scope(url) as s:
        wide = repo.indicator_wide(s, "shocks", "NVDA")
        stored = repo.events_frame(s)
    assert "gtc_2024_blackwell" in set(stored["key"])
    assert pd.Timestamp("2024-03-19") in wide.index  # after the close: the next session
    # idempotent: a second sync writes nothing, a second compute changes no value
    assert sync_events(url, [gtc]) == 0
    again = run_compute(with_event, ["shocks"], symbols=["NVDA"], show_progress=False)
    assert again.rows["shocks/NVDA"] == 0
    # a clash with a built-in key stops the run before anything is written
    before = _counts(url)
    clash = make_settings(url, universe=universe,
                          events=[gtc.model_copy(update={"key": "deepseek_shock"})])
    with pytest.raises(ConfigError, match="already a built-in event"):
        run_compute(clash, ["shocks"], symbols=["NVDA"], show_progress=False)
    assert _counts(url) == before
    # the event removed from the settings: gone from the table and from the results
    run_compute(make_settings(url, universe=universe), ["shocks"], symbols=["NVDA"],
                show_progress=False)
    with session_scope(url) as s:
        assert "gtc_2024_blackwell" not in set(repo.events_frame(s)["key"])
        wide = repo.indicator_wide(s, "shocks", "NVDA")
    assert pd.Timestamp("2024-03-19") not in wide.index and not wide.empty
    get_engine(url).dispose()


# --------------------------------------------------------------------------- alerts
def test_default_rules_fire_on_a_large_fall_and_a_slow_recovery() -> None:
    from alerts.config import default_rules_text, parse_rulebook
    from alerts.rules import RuleInput, evaluate_rule

    book = parse_rulebook(default_rules_text(), "<default rules>", universe=default_universe(),
                          environ={})
    fall, slow = book.rule("shocks-day0-fall"), book.rule("shocks-slow-recovery")
    full = _run("NVDA", _source(["NVDA", "^GSPC"])).frame
    median = full.loc["2025-01-27", "recovery_median_before"]
    lv = _aligned("NVDA")
    d0 = lv.index.get_loc(pd.Timestamp("2025-01-27"))

    def as_of(sessions: int) -> pd.DataFrame:
        return _run("NVDA", _source(["NVDA", "^GSPC"], cut=lv.index[d0 + sessions])).frame

    early, late = as_of(int(1.5 * median)), as_of(math.ceil(2.2 * median))
    out = evaluate_rule(fall, "NVDA", RuleInput(values=early["car_0"]))
    assert out.alert is not None and out.alert.as_of == date(2025, 1, 27)
    assert out.alert.value == pytest.approx(full.loc["2025-01-27", "car_0"])
    quiet = evaluate_rule(slow, "NVDA", RuleInput(values=early["recovery_vs_history"]))
    assert quiet.alert is None and quiet.state.condition == "off"
    loud = evaluate_rule(slow, "NVDA", RuleInput(values=late["recovery_vs_history"]),
                         quiet.state)
    assert loud.alert is not None and loud.value > 2
    # the H20 step (a smaller fall) re-arms the day-0 rule without an alert
    calm = evaluate_rule(fall, "NVDA", RuleInput(values=full.loc[:"2025-04-16", "car_0"]),
                         out.state)
    assert calm.alert is None and calm.state.condition == "off"
