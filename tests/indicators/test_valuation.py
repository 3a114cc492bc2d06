"""Valuation: split handling, no look-ahead, and NVIDIA's cited June-2025 multiples."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bubblewatch.core.universe import default_universe
from indicators.frame_source import FrameSource
from indicators.registry import ComputeContext
from indicators.valuation import (
    INDICATOR,
    expanding_percentile,
    known_asof,
    split_factors,
    valuation_frame,
)
from ingest.reference import reference_frames
from tests.conftest import load_shared_facts, load_shared_prices


def test_split_factors() -> None:
    counts = np.array([100, 101, 404, 405, 4050, 4049, 2025])  # 4:1, 10:1, then 1:2 reverse
    np.testing.assert_allclose(split_factors(counts), [20, 20, 5, 5, 0.5, 0.5, 1])
    np.testing.assert_allclose(split_factors(np.array([100, 130, 150])), [1, 1, 1])  # issuance


def test_known_asof_never_looks_ahead() -> None:
    periods = pd.DataFrame({
        "period_end": pd.to_datetime(["2024-03-31", "2024-06-30", "2024-03-31"]),
        "filed": pd.to_datetime(["2024-04-25", "2024-07-25", "2024-08-10"]),
        "value": [1.0, 2.0, 9.0],  # a late filing for an older period
    })
    days = pd.DatetimeIndex(["2024-04-24", "2024-04-25", "2024-07-24", "2024-07-25", "2024-09-01"])
    s = known_asof(periods, days)
    assert np.isnan(s.iloc[0])
    assert s.iloc[1:].tolist() == [1.0, 1.0, 2.0, 2.0]  # the older period never comes back


def test_expanding_percentile_matches_pandas_rank() -> None:
    rng = np.random.default_rng(0)
    x = pd.Series(rng.normal(size=300))
    x.iloc[[5, 50]] = np.nan
    ref = x.expanding().rank(method="max", pct=True)
    np.testing.assert_allclose(expanding_percentile(x).to_numpy(), ref.to_numpy())


@pytest.fixture(scope="module")
def nvda() -> tuple[pd.Series, pd.DataFrame]:
    p = load_shared_prices("NVDA")["close"]
    return p, load_shared_facts(1045810, "NVDA")


def test_nvidia_june_2025_matches_cited_figures(nvda: tuple[pd.Series, pd.DataFrame]) -> None:
    close, facts = nvda
    f, notes = valuation_frame(close, facts, csco_pe=207.56, csco_ps=29.26)
    day = f.loc["2025-06-25"]
    # FACTS.md §13: close 154.31, market value 3.763tn; trailing P/E ~49.8 (diluted EPS basis)
    assert day["market_cap"] == pytest.approx(3_763_000, rel=0.01)
    assert day["pe_ttm"] == pytest.approx(49.8, rel=0.03)
    assert day["pe_eps_m50"] == pytest.approx(2 * day["pe_ttm"])
    assert day["pe_eps_m75"] == pytest.approx(4 * day["pe_ttm"])
    assert day["pe_vs_csco_peak"] == pytest.approx(day["pe_ttm"] / 207.56)
    assert [s[1] for s in notes["splits_detected"]] == [4.0, 10.0]  # 2021 and 2024


def test_values_on_a_day_use_only_facts_filed_by_then(nvda: tuple[pd.Series, pd.DataFrame]) -> None:
    close, facts = nvda
    cut = pd.Timestamp("2025-03-01")  # after the 2024 split: prices and counts share a basis
    full, _ = valuation_frame(close, facts)
    known = facts[pd.to_datetime(facts["filed"]) <= cut]
    past, _ = valuation_frame(close[close.index <= cut], known.copy())
    cols = ["market_cap", "pe_ttm", "ps_ttm", "pe_pctile", "ps_pctile"]
    pd.testing.assert_frame_equal(full.loc[:cut, cols], past.loc[:cut, cols], rtol=1e-9)


def test_symbols_without_facts_say_so() -> None:
    ctx = ComputeContext(FrameSource({"CSCO": load_shared_prices("CSCO")},
                                     reference_frame=reference_frames()[0]), default_universe())
    res = INDICATOR.compute(ctx, "CSCO", INDICATOR.parse_params())
    assert res.frame.empty and "no SEC EDGAR fundamentals" in res.meta.missing
