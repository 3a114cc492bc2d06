"""Composite score: the documented rules on hand-made inputs, and the dot-com
reading from real run-up and regime results."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bubblewatch.core.universe import default_universe
from indicators import regime, runup
from indicators.composite import COMPONENTS, INDICATOR, scale, weighted_score
from indicators.frame_source import FrameSource
from indicators.registry import ComputeContext
from tests.conftest import load_shared_prices

W = {c.name: c.weight for c in COMPONENTS}


def test_weights_sum_to_one_and_rules_are_documented() -> None:
    assert sum(W.values()) == pytest.approx(1.0)
    for c in COMPONENTS:
        assert c.hi > c.lo and c.rule and f"c_{c.name}" in INDICATOR.columns


def test_scale_and_weighted_mean_with_missing_components() -> None:
    x = pd.Series([-1.0, 0.0, 0.75, 1.5, 3.0])
    assert scale(x, 0.0, 1.5).tolist() == [0.0, 0.0, 50.0, 100.0, 100.0]
    comps = pd.DataFrame({"runup": [100.0, 50.0], "psy": [0.0, np.nan], "vol": [np.nan, np.nan]})
    score, coverage = weighted_score(comps, W)
    assert score.iloc[0] == pytest.approx((100 * 0.20 + 0 * 0.20) / 0.40)
    assert score.iloc[1] == pytest.approx(50.0)  # only runup present that day
    assert coverage.tolist() == pytest.approx([0.40, 0.20])


def _results(**series: dict[str, pd.Series]) -> dict[tuple[str, str], pd.DataFrame]:
    out = {}
    for name_key, cols in series.items():
        name, key = name_key.split("__")
        out[(name, key)] = pd.DataFrame(cols)
    return out


def test_score_from_stored_results_names_missing_components() -> None:
    idx = pd.bdate_range("2024-01-01", periods=5)
    members = default_universe().baskets["ai_basket"]
    results = _results(
        runup__ai_basket={"ret_2y": pd.Series(0.75, index=idx)},  # -> 50
        regime__ai_basket={"realised_vol": pd.Series(0.60, index=idx),  # -> 100
                           "crash_prob": pd.Series(0.2, index=idx)},  # -> 20
    )
    # half of the members with PSY results are explosive -> 50
    for i, m in enumerate(members[:2]):
        results[("psy", m)] = pd.DataFrame({"bsadf": 2.0 if i == 0 else 0.5, "cv95": 1.0},
                                           index=idx)
    ctx = ComputeContext(FrameSource(results=results), default_universe())
    res = INDICATOR.compute(ctx, "ai", INDICATOR.parse_params({"ai_window": ["2000-01-01", None]}))
    f = res.frame
    expected = (50 * 0.20 + 50 * 0.20 + 100 * 0.10 + 20 * 0.05) / (0.20 + 0.20 + 0.10 + 0.05)
    assert f["score"].iloc[-1] == pytest.approx(expected)
    assert f["score_common"].iloc[-1] == pytest.approx(expected)  # all present ones are common
    assert f["coverage"].iloc[-1] == pytest.approx(0.55)
    assert f["c_psy"].iloc[-1] == 50.0
    assert set(res.meta.missing_components) == {
        "lppls", "valuation", "capex", "earnings_quality", "revenue_gap"}
    assert res.meta.weights == W


def test_dotcom_reading_in_march_2000_beats_2002() -> None:
    universe = default_universe()
    members = universe.baskets["dotcom_basket"]
    prices = {s: load_shared_prices(s) for s in (*members, "^GSPC")}
    src = FrameSource(prices)
    ctx = ComputeContext(src, universe)
    for ind in (runup.INDICATOR, regime.INDICATOR):
        src.results[(ind.name, "dotcom_basket")] = ind.compute(
            ctx, "dotcom_basket", ind.parse_params({"daily_days": 0})).frame
    res = INDICATOR.compute(ctx, "dotcom", INDICATOR.parse_params())
    peak = res.meta.peak_reading
    assert str(peak.date) == "2000-03-10"
    f = res.frame
    assert f.index.min() >= pd.Timestamp("1995-01-01")
    assert f.index.max() <= pd.Timestamp("2003-12-31")
    assert peak.score > f.loc["2002-06-01":"2002-12-31", "score"].max()  # bubble vs bust
    assert peak.c_runup == 100.0  # the basket had more than doubled in two years
    assert "valuation" in res.meta.missing_components
