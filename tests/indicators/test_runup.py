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
    out = runup_frame(csco, gspc, window=504)
    rng = np.random.default_rng(7)
    for i in rng.integers(504, len(csco), size=20):
        d = csco.index[i]
        ret = csco.iloc[i] / csco.iloc[i - 504] - 1
        m_now = gspc[gspc.index <= d].iloc[-1]
        m_then = gspc[gspc.index <= csco.index[i - 504]].iloc[-1]
        logs = np.diff(np.log(csco.iloc[i - 504 : i + 1].to_numpy()))
        assert out.loc[d, "ret_2y"] == pytest.approx(ret, rel=1e-12)
        assert out.loc[d, "ret_2y_net"] == pytest.approx(ret - (m_now / m_then - 1), rel=1e-9)
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
    assert set(nvda.frame.columns) == {"ret_2y", "ret_2y_net", "vol_2y", "flag"}
    assert nvda.frame.index.min() >= pd.Timestamp("1995-01-01")
    basket = INDICATOR.compute(ctx, "dotcom_basket", INDICATOR.parse_params())
    assert basket.frame.loc[:"2000-03-10", "flag"].iloc[-1] == 1.0  # the dot-com run-up
