"""Run-up (GSY): checked against plain pandas/numpy references on real prices."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bubblewatch.core.universe import default_universe
from indicators.frame_source import FrameSource
from indicators.registry import ComputeContext
from indicators.runup import (
    INDICATOR,
    basket_index,
    gsy_base_rates,
    runup_frame,
    runup_spells,
    thin,
    window_returns,
)
from ingest.reference import reference_frames
from tests.conftest import load_shared_prices


@pytest.fixture(scope="module")
def csco() -> pd.Series:
    return load_shared_prices("CSCO")["adj_close"]


@pytest.fixture(scope="module")
def gspc() -> pd.Series:
    return load_shared_prices("^GSPC")["adj_close"]


def test_matches_a_plain_reference(csco: pd.Series, gspc: pd.Series) -> None:
    price_only = load_shared_prices("CSCO")["close"]
    out = runup_frame(csco, gspc, price_only=price_only, window=504)
    rng = np.random.default_rng(7)
    for i in rng.integers(504, len(csco), size=20):
        d = csco.index[i]
        ret = csco.iloc[i] / csco.iloc[i - 504] - 1
        ret_price = price_only.iloc[i] / price_only.iloc[i - 504] - 1
        m_now = gspc[gspc.index <= d].iloc[-1]
        m_then = gspc[gspc.index <= csco.index[i - 504]].iloc[-1]
        logs = np.diff(np.log(csco.iloc[i - 504 : i + 1].to_numpy()))
        assert out.loc[d, "ret_2y"] == pytest.approx(ret, rel=1e-12)
        assert out.loc[d, "ret_2y_price"] == pytest.approx(ret_price, rel=1e-12)
        # net of the market: price return against the S&P 500 price index
        assert out.loc[d, "ret_2y_net"] == pytest.approx(ret_price - (m_now / m_then - 1),
                                                         rel=1e-9)
        assert out.loc[d, "vol_2y"] == pytest.approx(np.std(logs, ddof=1) * np.sqrt(252), rel=1e-9)
        assert out.loc[d, "flag"] == float(ret >= 1.0)
    assert out["ret_2y"].iloc[:504].isna().all() and out["flag"].iloc[:504].isna().all()


def test_cisco_was_in_a_run_up_at_its_2000_peak(csco: pd.Series, gspc: pd.Series) -> None:
    out = runup_frame(csco, gspc)
    peak = out.loc["2000-03-27"]
    assert peak["flag"] == 1.0 and peak["ret_2y"] > 3  # more than +300% in two years
    events = runup_spells(out, csco)
    spell = next(e for e in events if e.start <= pd.Timestamp("2000-03-27").date() <= e.end)
    assert spell.peak.isoformat() == "2000-03-27"  # the record close is inside the spell
    assert spell.attrs["crashed"] == 1  # -40% within two years of the peak (it fell ~90%)


def test_spells_merge_short_gaps_and_mark_pending_crashes() -> None:
    idx = pd.bdate_range("2020-01-01", periods=12)
    frame = pd.DataFrame({"ret_2y": [0, 1.2, 1.1, 0.9, 1.3, 1.4, 0, 0, 0, 0, 1.5, 1.6],
                          "flag": [0, 1, 1, 0, 1, 1, 0, 0, 0, 0, 1, 1]}, index=idx, dtype=float)
    price = pd.Series([1, 2, 3, 2.5, 4, 5, 4, 3.5, 2.9, 2.8, 3, 3.1], index=idx, dtype=float)
    events = runup_spells(frame, price, horizon=2, merge_gap=2)
    assert [(e.start, e.end) for e in events] == [
        (idx[1].date(), idx[5].date()), (idx[10].date(), None)]
    first, last = events
    assert first.peak == idx[5].date() and first.attrs["crashed"] == 0  # 5 -> 3.5 is -30%
    assert last.ongoing and last.attrs["crashed"] is None  # horizon not over yet
    assert runup_spells(frame, price, horizon=3, merge_gap=2)[0].attrs["crashed"] == 1  # 2.9


def test_basket_is_an_equal_weight_daily_rebalanced_index() -> None:
    idx = pd.bdate_range("2024-01-01", periods=4)
    a = pd.Series([10.0, 11.0, 12.1, 12.1], index=idx)
    b = pd.Series([5.0, 4.0], index=idx[2:])  # lists on day 3
    basket = basket_index({"A": a, "B": b})
    expected = np.cumprod([1.0, 1.1, 1.1, (0.0 + -0.2) / 2 + 1])
    np.testing.assert_allclose(basket.to_numpy(), expected)


def _plain_fixed_member_return(closes: dict[str, pd.Series], day: pd.Timestamp,
                               window: int) -> tuple[float, int]:
    """Slow reference: the members priced both ``window`` union-calendar rows
    before ``day`` and on ``day``, their equal-weighted daily-rebalanced return."""
    cal = pd.DatetimeIndex(sorted(set().union(*[s.index for s in closes.values()])))
    t = cal.get_loc(day)
    start = cal[t - window]
    inside = [m for m, s in closes.items() if start in s.index and day in s.index]
    level = 1.0
    for d0, d1 in zip(cal[t - window:t], cal[t - window + 1:t + 1], strict=True):
        r = [closes[m][d1] / closes[m][d0] - 1 for m in inside
             if d0 in closes[m].index and d1 in closes[m].index]
        level *= 1 + (sum(r) / len(r) if r else 0.0)
    return level - 1, len(inside)


def test_basket_return_keeps_the_same_members_at_both_ends() -> None:
    idx = pd.bdate_range("2024-01-01", periods=12)
    rng = np.random.default_rng(3)
    walk = lambda n: pd.Series(np.exp(np.cumsum(rng.normal(0, 0.05, n))))
    a = walk(12).set_axis(idx)
    b = walk(7).set_axis(idx[5:])           # lists on day 6
    c = walk(9).set_axis(idx[:9])           # prices end on day 9
    closes = {"A": a, "B": b, "C": c}
    out = window_returns(closes, 4)
    for day in idx[4:]:
        ret, n = _plain_fixed_member_return(closes, day, 4)
        assert out.loc[day, "ret"] == pytest.approx(ret, rel=1e-12), day
        assert out.loc[day, "n_members"] == n, day
    assert out.loc[idx[8], "n_members"] == 2  # A and C (B listed inside the window)
    assert out.loc[idx[11], "n_members"] == 2  # A and B (C ended)
    assert out["ret"].iloc[:4].isna().all()


def test_basket_records_its_coverage_and_says_when_it_shrinks() -> None:
    universe = default_universe()
    members = universe.baskets["ai_basket"]
    prices = {s: load_shared_prices(s) for s in (*members, "^GSPC")}
    ctx = ComputeContext(FrameSource(prices), universe)
    res = INDICATOR.compute(ctx, "ai_basket", INDICATOR.parse_params())
    f, meta = res.frame, res.meta
    ends = {m: prices[m].index.max() for m in members}
    last = max(ends.values())
    # SMCI's price file ends early: the last return is over the others only, and says so
    gone = [m for m in members if ends[m] < last]
    assert gone and f["n_members"].iloc[-1] == len(members) - len(gone)
    assert f["coverage"].iloc[-1] == pytest.approx((len(members) - len(gone)) / len(members))
    assert all(f"{m} prices end {ends[m].date()}" in meta.note for m in gone)
    assert meta.member_spans["NVDA"].first == prices["NVDA"].index.min().date()
    assert meta.coverage == pytest.approx(f["coverage"].iloc[-1])
    # the same members at both ends: equal to the slow reference on the last day
    closes = {m: prices[m]["adj_close"] for m in members}
    ret, n = _plain_fixed_member_return(closes, f.index[-1], 504)
    assert f["ret_2y"].iloc[-1] == pytest.approx(ret, rel=1e-9) and n == f["n_members"].iloc[-1]
    # net of the market is price against price: the basket's close-based return less ^GSPC's
    gspc = prices["^GSPC"]["close"]
    cal = f.index
    day = cal[-1]
    then = pd.DatetimeIndex(sorted(set().union(*[prices[m].index for m in members])))
    then = then[then.get_loc(day) - 504]
    m_ret = gspc[:day].iloc[-1] / gspc[:then].iloc[-1] - 1
    assert f["ret_2y_net"].iloc[-1] == pytest.approx(f["ret_2y_price"].iloc[-1] - m_ret,
                                                     rel=1e-9)
    # basket_members=each_day: the daily-rebalanced index over whoever is priced each day
    daily = INDICATOR.compute(ctx, "ai_basket", INDICATOR.parse_params(
        {"basket_members": "each_day"})).frame
    level = basket_index(closes)
    assert daily["ret_2y"].iloc[-1] == pytest.approx(
        level.iloc[-1] / level.iloc[-1 - 504] - 1, rel=1e-12)
    assert daily["n_members"].iloc[-1] == len(members) - len(gone)


def test_a_member_without_prices_is_named_not_silently_dropped() -> None:
    universe = default_universe()
    members = universe.baskets["dotcom_basket"]
    prices = {s: load_shared_prices(s) for s in (*members, "^GSPC") if s != "VIAV"}
    res = INDICATOR.compute(ComputeContext(FrameSource(prices), universe), "dotcom_basket",
                            INDICATOR.parse_params())
    assert "no prices for VIAV" in res.meta.note
    assert res.meta.member_spans["VIAV"].first is None
    at_peak = res.frame.loc["2000-03-10"]
    assert at_peak["n_members"] == len(members) - 1
    assert at_peak["coverage"] == pytest.approx((len(members) - 1) / len(members))


def test_thin_keeps_recent_days_and_weekly_history() -> None:
    idx = pd.bdate_range("2024-01-01", "2024-03-29")
    frame = pd.DataFrame({"x": np.arange(len(idx), dtype=float)}, index=idx)
    out = thin(frame, 10)
    assert out.index[-10:].equals(idx[-10:])
    old = out.index[:-10]
    assert (old.day_of_week == 4).all()  # Fridays (every week here ends on a Friday)
    assert len(old) == len(pd.DatetimeIndex(idx[:-10]).to_period("W-FRI").unique())
    assert thin(frame, 0).equals(frame)


def test_indicator_on_real_data_reports_base_rates() -> None:
    figures, _ = reference_frames()
    assert gsy_base_rates(figures) == {"50": 20.0, "100": 53.0, "150": 80.0}
    universe = default_universe()
    symbols = ("NVDA", "^GSPC", *universe.baskets["dotcom_basket"])
    prices = {s: load_shared_prices(s) for s in symbols}
    ctx = ComputeContext(FrameSource(prices, reference_frame=figures), universe)
    nvda = INDICATOR.compute(ctx, "NVDA", INDICATOR.parse_params())
    assert nvda.meta.gsy_crash_probability_pct["100"] == 53.0
    assert set(nvda.frame.columns) == {"ret_2y", "ret_2y_price", "ret_2y_net", "vol_2y", "flag"}
    assert nvda.frame.index.min() >= pd.Timestamp("1995-01-01")
    basket = INDICATOR.compute(ctx, "dotcom_basket", INDICATOR.parse_params())
    assert basket.frame.loc[:"2000-03-10", "flag"].iloc[-1] == 1.0  # the dot-com run-up
