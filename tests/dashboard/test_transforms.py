"""Pure transforms behind the pages, on real prices from ../shared/data and
on small hand-built frames where the expected answer is known exactly."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import pytest

from dashboard import transforms as tf
from db.freshness import EVALUATION, FUNDAMENTALS, PRICES, Freshness, FreshnessReport
from tests.conftest import load_shared_prices


@pytest.fixture(scope="module")
def csco() -> pd.Series:
    return load_shared_prices("CSCO")["close"]


@pytest.fixture(scope="module")
def nvda() -> pd.Series:
    return load_shared_prices("NVDA")["close"]


def test_top_movers_sorted_by_absolute_move():
    idx = pd.bdate_range("2024-01-01", periods=30)
    closes = pd.DataFrame({"UP": np.linspace(100, 130, 30), "DOWN": np.linspace(100, 50, 30),
                           "FLAT": 100.0}, index=idx)
    out = tf.top_movers(closes, {"1d": 1, "1w": 5})
    assert list(out["symbol"]) == ["DOWN", "UP", "FLAT"]
    assert out.set_index("symbol").loc["UP", "1w"] == pytest.approx((130 / closes["UP"].iloc[-6] - 1) * 100)


def _row(source: str, scope: str, status: str, **kw) -> Freshness:  # type: ignore[no-untyped-def]
    base = {"newest": None, "expected": None, "behind": None, "unit": "sessions",
            "last_run": None, "detail": f"{source} detail", "command": f"refresh {source}"}
    return Freshness(source, scope, status, **{**base, **kw})


def test_freshness_frame_and_banner():
    now = datetime(2026, 11, 29, 11, 23, tzinfo=UTC)
    rows = (
        _row(PRICES, "XNYS", "stale", newest=date(2026, 8, 21), expected=date(2026, 11, 27),
             behind=68, last_run=datetime(2026, 11, 29, 9, 5, tzinfo=UTC)),
        _row(FUNDAMENTALS, "NVDA", "ok", newest=date(2026, 4, 26), behind=0, unit="quarters"),
        _row(FUNDAMENTALS, "CSCO", "missing", unit="quarters"),
        _row(EVALUATION, "all", "never"),
    )
    report = FreshnessReport(now, rows, ())
    view = tf.freshness_frame(report.rows)
    assert list(view.columns) == tf.FRESHNESS_COLUMNS
    first = view.iloc[0].to_dict()
    assert first["source"] == "Prices (XNYS)" and first["behind"] == "68 sessions"
    assert first["newest"] == "2026-08-21" and first["last_success"] == "2026-11-29 09:05 UTC"
    assert view.iloc[3]["last_success"] == "never" and view.iloc[3]["behind"] == "–"
    # the sidebar's rows: the companies folded into one, partial (one current, one never)
    summary = tf.freshness_frame(report.summary)
    assert list(summary["source"]) == ["Prices (XNYS)", "Fundamentals", "Alert evaluation"]
    assert list(summary["status"]) == ["stale", "partial", "never"]
    text = tf.stale_banner_text(report)
    assert text is not None and text.startswith("**Data is stale** (at 2026-11-29 11:23 UTC)")
    assert "prices (XNYS) stale: Prices detail" in text
    assert "alert evaluation never" in text and "never loaded: CSCO" in text
    # nothing stale, only never evaluated: incomplete, not stale
    only = FreshnessReport(now, rows[1:2] + rows[3:], ())
    assert tf.stale_banner_text(only).startswith("**Data is incomplete**")
    assert tf.stale_banner_text(FreshnessReport(now, rows[1:2], ())) is None


def test_component_table_reads_dotcom_at_peak():
    ai_idx = pd.bdate_range("2026-01-01", periods=3)
    dc_idx = pd.to_datetime(["2000-03-09", "2000-03-10", "2000-03-13"])
    ai = pd.DataFrame({"score": [1, 2, 3.0], "c_runup": [10, 20, 30.0], "c_psy": [5, 6, 7.0]},
                      index=ai_idx)
    dc = pd.DataFrame({"score": [9, 8, 7.0], "c_runup": [90, 80, 70.0]}, index=dc_idx)
    out = tf.component_table(ai, dc, {"runup": 0.2, "psy": 0.3}, date(2000, 3, 11)).set_index(
        "component")
    assert list(out.index) == ["psy", "runup"]  # heaviest weight first
    assert out.loc["runup", "ai"] == 30 and out.loc["runup", "dotcom_peak"] == 80
    assert out.loc["runup", "dotcom_date"] == date(2000, 3, 10)
    assert np.isnan(out.loc["psy", "dotcom_peak"])


def test_active_alerts_keeps_conditions_that_still_hold():
    events = pd.DataFrame([
        {"id": 1, "rule_id": "r", "key": "NVDA", "condition": "on", "as_of": date(2026, 1, 1)},
        {"id": 2, "rule_id": "r", "key": "NVDA", "condition": "off", "as_of": date(2026, 2, 1)},
        {"id": 3, "rule_id": "r", "key": "AMD", "condition": "on", "as_of": date(2026, 2, 1)},
        {"id": 4, "rule_id": "s", "key": "ai", "condition": "high", "as_of": date(2026, 3, 1)},
    ])
    states = pd.DataFrame([{"rule_id": "r", "key": "NVDA", "condition": "off"},
                           {"rule_id": "r", "key": "AMD", "condition": "on"},
                           {"rule_id": "s", "key": "ai", "condition": "low"}])
    out = tf.active_alerts(events, states)
    assert sorted(out["id"]) == [2, 3]  # latest per (rule, key) whose condition is current


def test_units_and_calendar_quarters():
    s = pd.Series([52_535.0], index=pd.to_datetime(["2024-12-31"]))
    assert tf.to_usd_bn(s, "USD m").iloc[0] == pytest.approx(52.535)
    assert tf.to_usd_bn(s * 1e6, "USD").iloc[0] == pytest.approx(52.535)
    with pytest.raises(ValueError, match="unknown money unit"):
        tf.to_usd_bn(s, "EUR")
    q = pd.Series([1.0, 2.0], index=pd.to_datetime(["2024-08-31", "2024-11-30"]))  # Oracle
    out = tf.to_calendar_quarter(q)
    assert list(out.index) == [pd.Timestamp("2024-09-30"), pd.Timestamp("2024-12-31")]


def test_episode_table_names_columns_in_words() -> None:
    eps = pd.DataFrame({
        "indicator": ["psy", "psy"], "key": ["NVDA", "NVDA"], "kind": ["positive", "positive"],
        "start": [date(2016, 5, 13), date(2023, 2, 10)], "end": [date(2018, 11, 16), None],
        "peak": [date(2016, 12, 23), date(2024, 6, 14)], "ongoing": [False, True],
        "attr_duration": [131, 185], "attr_peak_bsadf": [2.93, 1.99], "attr_extra_note": [1, 2],
    })
    view = tf.episode_table(eps)
    assert list(view.columns) == ["Direction", "Start", "End", "Peak", "Ongoing",
                                  "Observations above the critical value", "Peak BSADF",
                                  "Extra note", "Calendar days"]
    assert list(view["Start"]) == [date(2023, 2, 10), date(2016, 5, 13)]  # newest first
    assert view["Calendar days"].iloc[1] == 917 and pd.isna(view["Calendar days"].iloc[0])
    assert list(view["Direction"]) == ["explosive rise"] * 2
    assert list(view["Ongoing"]) == ["yes", "no"]


def test_exceedances_count_the_weeks_above_the_critical_value() -> None:
    idx = pd.date_range("1998-01-02", periods=6, freq="W-FRI")
    stat = pd.Series([0.1, 1.2, 1.5, 0.2, 2.0, float("nan")], index=idx)
    cv = pd.Series([1.0, 1.0, 1.6, 1.0, 1.0, 1.0], index=idx)
    ex = tf.exceedances(stat, cv)
    assert (ex.above, ex.total) == (2, 5)  # 1.2 > 1.0 and 2.0 > 1.0; 1.5 < 1.6; NaN left out
    assert (ex.first, ex.last) == (idx[1].date(), idx[4].date())
