"""The built-in reference table: well-formed, sourced, and internally consistent."""

from __future__ import annotations

import itertools
import re
from datetime import date

import pytest

from db.models import ReferenceEvent, ReferenceFigure
from ingest.reference import SOURCE_TAGS, reference_frames, reference_rows

FIGURES, EVENTS = reference_rows()
BY_KEY = {r["key"]: r for r in FIGURES}


def v(key: str) -> float:
    return BY_KEY[key]["value"]


def test_keys_unique_and_columns_match_the_tables() -> None:
    assert len(BY_KEY) == len(FIGURES)
    assert len({e["key"] for e in EVENTS}) == len(EVENTS)
    fig_cols = {c.name for c in ReferenceFigure.__table__.columns} - {"id"}
    ev_cols = {c.name for c in ReferenceEvent.__table__.columns} - {"id"}
    assert all(set(r) == fig_cols for r in FIGURES)
    assert all(set(e) == ev_cols for e in EVENTS)
    assert all(len(r["key"]) <= 96 and len(r["source_tag"]) <= 8 for r in FIGURES)


def test_every_figure_is_sourced_and_dated() -> None:
    for r in FIGURES:
        assert r["source_tag"] in SOURCE_TAGS, r["key"]
        assert r["source"].strip() and r["label"].strip(), r["key"]
        if r["source_tag"] != "C":
            assert "http" in r["source"] or "GitHub" in r["source"], r["key"]
        assert r["period_start"] is not None and r["period_start"] <= r["period_end"], r["key"]


def test_computed_rows_name_existing_inputs() -> None:
    for r in FIGURES:
        if r["source_tag"] != "C" or ":" not in r["source"]:
            continue
        refs = re.findall(r"\b[a-z][a-z0-9]*_[a-z0-9_]+\b", r["source"].split(":", 1)[1])
        assert refs, r["key"]
        missing = [k for k in refs if k not in BY_KEY]
        assert not missing, (r["key"], missing)


def test_arithmetic_identities() -> None:
    # Nasdaq: 5,048.62 -> 1,114.11 is a 77.93% fall (FACTS.md §1)
    assert round(v("ixic_drawdown_close"), 2) == -77.93
    assert round(v("ixic_drawdown_intraday"), 2) == -78.40
    assert v("ixic_drawdown_close") == pytest.approx(
        100 * (v("ixic_close_trough_2002") / v("ixic_close_peak_2000") - 1))
    assert round(v("csco_drawdown_peak_to_low"), 1) == -89.9
    # Cisco's peak market value from the computed rows brackets the reported >550bn
    assert v("csco_market_cap_peak_low") < 560_000 < v("csco_market_cap_peak_high")
    assert v("csco_market_cap_peak_low") > v("csco_market_cap_peak_reported")
    assert v("csco_pe_peak_fy2000") > 200  # "over 200x annual profit"
    # NVIDIA quarters sum to the fiscal years (FACTS.md §11 check row)
    for fy, quarters in {2024: "fy24", 2025: "fy25", 2026: "fy26"}.items():
        total = sum(v(f"nvda_revenue_{quarters}q{i}") for i in range(1, 5))
        assert total == v(f"nvda_revenue_fy{fy}")
    dc26 = sum(v(f"nvda_dc_revenue_fy26q{i}") for i in range(1, 5))
    assert dc26 == pytest.approx(v("nvda_dc_revenue_fy2026"))
    dc25 = sum(v(f"nvda_dc_revenue_fy25q{i}") for i in range(1, 5))
    assert dc25 == pytest.approx(v("nvda_dc_revenue_fy2025"), rel=2e-3)  # rounded quarters
    assert sum(v(f"nvda_dc_revenue_fy21q{i}") for i in range(1, 5)) == v("nvda_dc_revenue_fy2021")
    # quarterly hyperscaler capex sums to the annual 10-K figure
    for sym, years in {"googl": (2023, 2024, 2025), "amzn": (2024,)}.items():
        for y in years:
            assert sum(v(f"{sym}_capex_{y}q{i}") for i in range(1, 5)) == v(f"{sym}_capex_{y}")
    # Sequoia: 150 x 2 x 2 = 600; 600 - 500 = 100
    assert v("sequoia_required_revenue_2024") == 4 * v("sequoia_dc_run_rate_2024")
    assert v("sequoia_implied_ai_revenue_2024") == (
        v("sequoia_required_revenue_2024") - v("sequoia_gap_2024"))
    assert round(v("nvda_deepseek_change"), 2) == -16.97
    assert v("jdsu_net_loss_fy2001_incl_addon") == (
        v("jdsu_net_loss_fy2001") - v("jdsu_goodwill_addon_2001_09"))


def test_cisco_fiscal_years_and_headline_figures() -> None:
    assert v("csco_revenue_fy2000") == 18928 and v("csco_net_income_fy2000") == 2668
    assert v("csco_revenue_fy2001") == 22293 and v("csco_net_income_fy2001") == -1014
    assert v("csco_inventory_charge_fy2001") == 2249
    fy = {r["key"]: r for r in FIGURES if r["entity"] == "CSCO" and r["metric"] == "revenue"}
    assert len(fy) == 8  # FY1997-FY2004
    for r in fy.values():
        assert r["period_end"].weekday() == 5  # last Saturday of July
        assert r["period_end"].month == 7 and r["period_end"].day >= 25
        assert (r["period_end"] - r["period_start"]).days + 1 in (364, 371)  # 52 or 53 weeks
    ends = sorted((r["period_start"], r["period_end"]) for r in fy.values())
    assert all((b[0] - a[1]).days == 1 for a, b in itertools.pairwise(ends))  # contiguous years
    assert BY_KEY["csco_close_peak_2000"]["period_end"] == date(2000, 3, 27)


def test_unverified_items_are_not_in_the_table() -> None:
    """FACTS.md §18: Cisco inventory, receivables and capex FY1997-2004 are
    unverified and must not appear."""
    banned = {("CSCO", "inventory"), ("CSCO", "receivables"), ("CSCO", "capex")}
    assert not [r["key"] for r in FIGURES if (r["entity"], r["metric"]) in banned]
    assert not [r["key"] for r in FIGURES if "UNVERIFIED" in r["label"].upper()]


def test_events_cover_both_eras() -> None:
    dates = {e["key"]: e["date"] for e in EVENTS}
    assert dates["netscape_ipo"] == date(1995, 8, 9)
    assert dates["irrational_exuberance"] == date(1996, 12, 5)
    assert dates["nasdaq_peak"] == date(2000, 3, 10)
    assert dates["cisco_writedown"] == date(2001, 4, 16)
    assert dates["chatgpt"] == date(2022, 11, 30)
    assert dates["deepseek_shock"] == date(2025, 1, 27)
    assert dates["coreweave_ipo"] == date(2025, 3, 28)
    assert {e["era"] for e in EVENTS} == {"dotcom", "ai"}
    assert all(e["source"].startswith("http") for e in EVENTS)


def test_frames_round_trip() -> None:
    figures, events = reference_frames()
    assert len(figures) == len(FIGURES) and len(events) == len(EVENTS)
    assert figures["key"].is_unique


def test_price_figures_agree_with_the_shared_price_files() -> None:
    """Cited closes against the independent Yahoo-derived files in ../shared/data."""
    from tests.conftest import load_shared_prices

    ixic, csco, nvda = (load_shared_prices(s)["close"] for s in ("^IXIC", "CSCO", "NVDA"))
    for key, series in (("ixic_close_peak_2000", ixic), ("ixic_close_trough_2002", ixic),
                        ("csco_close_peak_2000", csco), ("nvda_close_2025_01_27", nvda),
                        ("nvda_close_2025_01_24", nvda), ("nvda_close_record_2025_06_25", nvda)):
        day = BY_KEY[key]["period_end"]
        assert series.loc[str(day)] == pytest.approx(v(key), abs=0.01), key
    assert ixic.loc["2000-03-10"] == ixic.loc["1999-01-01":"2003-12-31"].max()
