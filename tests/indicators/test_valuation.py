"""Valuation: split handling, no look-ahead on any day, the review's two days
against an independent recomputation, NVIDIA's cited June-2025 multiples and
Cisco's peak multiples from the figures public at the peak."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bubblewatch.core.errors import DataQualityWarning
from bubblewatch.core.universe import default_universe
from indicators.frame_source import FrameSource
from indicators.registry import ComputeContext
from indicators.valuation import (
    INDICATOR,
    cisco_peak_multiples,
    expanding_percentile,
    share_splits,
    split_factor,
    split_factors,
    valuation_frame,
)
from ingest.reference import reference_frames
from tests.conftest import load_shared_facts, load_shared_prices
from tests.ingest.test_pit import oracle_facts, oracle_ttm

COLUMNS = ["market_cap", "pe_ttm", "ps_ttm", "pe_pctile", "ps_pctile", "pe_vs_csco_peak",
           "ps_vs_csco_peak", "pe_eps_m25", "pe_eps_m50", "pe_eps_m75"]


def test_split_factors() -> None:
    counts = np.array([100, 101, 404, 405, 4050, 4049, 2025])  # 4:1, 10:1, then 1:2 reverse
    np.testing.assert_allclose(split_factors(counts), [20, 20, 5, 5, 0.5, 0.5, 1])
    np.testing.assert_allclose(split_factors(np.array([100, 130, 150])), [1, 1, 1])  # issuance


def test_split_factor_by_count_date() -> None:
    splits = pd.DataFrame({"last_before": pd.to_datetime(["2021-05-21", "2024-05-24"]),
                           "first_after": pd.to_datetime(["2021-08-13", "2024-08-23"]),
                           "ratio": [4.0, 10.0]})
    ends = pd.Series(pd.to_datetime(["2021-05-21", "2021-08-13", "2024-05-24", "2024-08-23",
                                     None]))
    np.testing.assert_allclose(split_factor(ends, splits), [40, 10, 10, 1, np.nan])


def test_expanding_percentile_matches_pandas_rank() -> None:
    rng = np.random.default_rng(0)
    x = pd.Series(rng.normal(size=300))
    x.iloc[[5, 50]] = np.nan
    ref = x.expanding().rank(method="max", pct=True)
    np.testing.assert_allclose(expanding_percentile(x).to_numpy(), ref.to_numpy())


def _load(sym: str, cik: int) -> tuple[pd.Series, pd.DataFrame]:
    facts = load_shared_facts(cik, sym)
    order = np.argsort(pd.to_datetime(facts["filed"]).to_numpy(), kind="stable")
    return load_shared_prices(sym)["close"], facts.iloc[order].reset_index(drop=True)


@pytest.fixture(scope="module")
def nvda() -> tuple[pd.Series, pd.DataFrame]:
    return _load("NVDA", 1045810)


@pytest.fixture(scope="module")
def googl() -> tuple[pd.Series, pd.DataFrame]:
    return _load("GOOGL", 1652044)


def _quiet_frame(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        return valuation_frame(*args, **kwargs)


@pytest.fixture(scope="module")
def stored(nvda: tuple[pd.Series, pd.DataFrame], googl: tuple[pd.Series, pd.DataFrame]
           ) -> dict[str, tuple[pd.Series, pd.DataFrame, pd.DataFrame, pd.DataFrame]]:
    """The full history of each company, computed once: (close, facts, splits, frame)."""
    out = {}
    for sym, (close, facts) in (("NVDA", nvda), ("GOOGL", googl)):
        splits = share_splits(facts)
        frame, _ = _quiet_frame(close, facts, csco_pe=207.56, csco_ps=29.26)
        out[sym] = (close, facts, splits, frame)
    return out


def _as_of(close: pd.Series, facts: pd.DataFrame, splits: pd.DataFrame, day: pd.Timestamp
           ) -> pd.Series:
    """The last row of ``valuation_frame`` on the facts filed by ``day`` (and
    the closes up to it; the split calendar is the price file's)."""
    filed = pd.to_datetime(facts["filed"]).to_numpy()
    known = facts.iloc[: np.searchsorted(filed, np.datetime64(day), side="right")]
    frame, _ = _quiet_frame(close[close.index <= day], known, csco_pe=207.56, csco_ps=29.26,
                            splits=splits)
    assert frame.index[-1] == day
    return frame.iloc[-1]


def _differs(a: pd.Series, b: pd.Series) -> list[str]:
    return [c for c in COLUMNS if not (a[c] == b[c] or (np.isnan(a[c]) and np.isnan(b[c])))]


def test_stored_history_equals_an_as_of_recomputation_on_every_tested_day(
        stored: dict[str, tuple]) -> None:
    bad, n = [], 0
    for sym, (close, facts, splits, frame) in stored.items():
        days = frame.index
        filed = pd.DatetimeIndex(pd.to_datetime(facts["filed"]).unique())
        even = days[np.linspace(0, len(days) - 1, 100).round().astype(int)]
        on_filing = days[days.isin(filed)]
        on_filing = on_filing[np.linspace(0, len(on_filing) - 1, 30).round().astype(int)]
        sample = even.union(on_filing).union(pd.DatetimeIndex(["2021-11-19", "2024-06-28"])
                                             .intersection(days))
        for day in sample:
            n += 1
            cols = _differs(frame.loc[day], _as_of(close, facts, splits, day))
            if cols:
                bad.append((sym, day.date(), cols))
    print(f"valuation: {n} dates recomputed as of the day, {len(bad)} differ")
    assert n >= 250
    assert bad == []


@settings(max_examples=15, deadline=None)
@given(sym=st.sampled_from(["NVDA", "GOOGL"]), u=st.floats(0.0, 1.0))
def test_any_day_equals_its_as_of_recomputation(stored: dict[str, tuple], sym: str,
                                                u: float) -> None:
    close, facts, splits, frame = stored[sym]
    day = frame.index[int(u * (len(frame) - 1))]
    assert _differs(frame.loc[day], _as_of(close, facts, splits, day)) == []


def _independent_multiple(close: pd.Series, facts: pd.DataFrame, quantity: str,
                          day: pd.Timestamp, later_splits: float) -> tuple[float, float]:
    """(TTM in USD m, multiple) on ``day`` from the plain recomputation: TTM of
    :func:`oracle_ttm`; the share count of the latest date filed by then, as
    first reported (cover page count preferred), put on the price file's basis
    by the splits after ``day`` (``later_splits``, from prices/SOURCES.md)."""
    ttm, _ = oracle_ttm(oracle_facts(facts, quantity), day)
    sh = facts[facts["concept"].isin(["EntityCommonStockSharesOutstanding",
                                      "CommonStockSharesOutstanding"])
               & (pd.to_datetime(facts["filed"]) <= day)]
    sh = sh.assign(prio=(sh["concept"] != "EntityCommonStockSharesOutstanding").astype(int))
    sh = sh.sort_values(["filed", "accession"]).drop_duplicates(["concept", "period_end"])
    sh = sh.sort_values("prio").drop_duplicates("period_end")
    count = float(sh.loc[pd.to_datetime(sh["period_end"]).idxmax(), "value"])
    mcap = float(close.loc[day]) * count * later_splits / 1e6
    return ttm / 1e6, mcap / (ttm / 1e6)


def test_the_reviews_two_days(stored: dict[str, tuple]) -> None:
    close, facts, _, frame = stored["NVDA"]
    day = pd.Timestamp("2021-11-19")
    rev, ps = _independent_multiple(close, facts, "revenue", day, later_splits=10.0)
    print(f"NVDA 2021-11-19 P/S: layer {frame.loc[day, 'ps_ttm']:.2f}, independent {ps:.2f} "
          f"(TTM revenue {rev:,.0f} USD m)")
    assert rev == 21_897  # Q3 FY2021 to Q2 FY2022; the Q3 FY2022 10-Q came on 2021-11-22
    assert ps == pytest.approx(38, abs=0.5)
    assert frame.loc[day, "ps_ttm"] == pytest.approx(ps, rel=1e-12)
    close, facts, _, frame = stored["GOOGL"]
    day = pd.Timestamp("2024-06-28")
    ni, pe = _independent_multiple(close, facts, "net_income", day, later_splits=1.0)
    print(f"GOOGL 2024-06-28 P/E: layer {frame.loc[day, 'pe_ttm']:.2f}, independent {pe:.2f} "
          f"(TTM net income {ni:,.0f} USD m)")
    assert ni == 82_406  # Q2 2023 to Q1 2024, NetIncomeLoss
    assert pe == pytest.approx(27.4, abs=0.1)
    assert frame.loc[day, "pe_ttm"] == pytest.approx(pe, rel=1e-12)


def test_nvidia_june_2025_matches_cited_figures(stored: dict[str, tuple]) -> None:
    close, facts, _, _ = stored["NVDA"]
    f, notes = _quiet_frame(close, facts, csco_pe=207.56, csco_ps=29.26)
    day = f.loc["2025-06-25"]
    # FACTS.md §13: close 154.31, market value 3.763tn; trailing P/E ~49.8 (diluted EPS basis)
    assert day["market_cap"] == pytest.approx(3_763_000, rel=0.01)
    assert day["pe_ttm"] == pytest.approx(49.8, rel=0.03)
    assert day["pe_eps_m50"] == pytest.approx(2 * day["pe_ttm"])
    assert day["pe_eps_m75"] == pytest.approx(4 * day["pe_ttm"])
    assert day["pe_vs_csco_peak"] == pytest.approx(day["pe_ttm"] / 207.56)
    assert [s[1] for s in notes["splits_detected"]] == [4.0, 10.0]  # 2021 and 2024
    prov = notes["fundamentals"]["revenue_ttm"]
    assert prov["concepts"] == "us-gaap:Revenues" and not prov["stale"]
    assert prov["filed"] >= prov["known_since"] >= prov["period_end"]


def test_cisco_peak_uses_figures_public_on_the_peak_date() -> None:
    figures, _ = reference_frames()
    peak = cisco_peak_multiples(figures)
    # fiscal 1999 (ended 1999-07-31), not fiscal 2000 (ended 2000-07-29, after the peak)
    assert peak.pe == pytest.approx(80.06 * 6917 / 2023)
    assert peak.ps == pytest.approx(80.06 * 6917 / 12173)
    assert "1999-07-31" in peak.basis and "2000-07-29" not in peak.basis
    no_fy1999 = figures[~figures["key"].isin(["csco_net_income_fy1999", "csco_revenue_fy1999",
                                              "csco_net_income_fy1998", "csco_revenue_fy1998",
                                              "csco_net_income_fy1997", "csco_revenue_fy1997"])]
    missing = cisco_peak_multiples(no_fy1999)
    assert missing.pe is None and "no Cisco net income public by 2000-03-27" in missing.basis
    assert cisco_peak_multiples(pd.DataFrame()).pe is None


def test_compute_states_what_each_day_rests_on() -> None:
    ctx = ComputeContext(FrameSource({"NVDA": load_shared_prices("NVDA")},
                                     {"NVDA": load_shared_facts(1045810, "NVDA")},
                                     reference_frame=reference_frames()[0]), default_universe())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        res = INDICATOR.compute(ctx, "NVDA", INDICATOR.params())
    assert res.meta.csco_peak_pe == pytest.approx(80.06 * 6917 / 2023)
    assert "1999-07-31" in res.meta.csco_peak_basis
    assert res.meta.fundamentals["net_income_ttm"].concepts == "us-gaap:NetIncomeLoss"
    assert res.frame["pe_vs_csco_peak"].iloc[-1] == pytest.approx(
        res.frame["pe_ttm"].iloc[-1] / res.meta.csco_peak_pe)


def test_symbols_without_facts_say_so() -> None:
    ctx = ComputeContext(FrameSource({"CSCO": load_shared_prices("CSCO")},
                                     reference_frame=reference_frames()[0]), default_universe())
    res = INDICATOR.compute(ctx, "CSCO", INDICATOR.parse_params())
    assert res.frame.empty and "no SEC EDGAR fundamentals" in res.meta.missing
