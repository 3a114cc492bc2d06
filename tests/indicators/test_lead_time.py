"""Lead times, calm dates and false alarms on hand-built cases, and the forward
drawdown against a plain loop."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from indicators.lead_time import (
    alarm_table,
    calm_flags,
    crash_peaks,
    first_warning,
    forward_max_drawdown,
    forward_mdd_python,
    lead_table,
    ledger,
)


def slow_forward_mdd(price: pd.Series, day: pd.Timestamp, months: int) -> float:
    """The definition, written out: deepest fall from any running high after ``day``."""
    window = price[(price.index >= price.index[price.index <= day][-1])
                   & (price.index <= day + pd.DateOffset(months=months))]
    v = window.to_list()
    if len(v) < 2:
        return np.nan
    worst = 0.0
    for i in range(1, len(v)):
        worst = min(worst, v[i] / max(v[: i + 1]) - 1.0)
    return worst


def test_forward_drawdown_matches_the_definition_on_a_random_path() -> None:
    rng = np.random.default_rng(7)
    idx = pd.bdate_range("2000-01-03", periods=400)
    price = pd.Series(100 * np.exp(np.cumsum(rng.normal(0, 0.03, idx.size))), index=idx)
    days = idx[::37]
    got = forward_max_drawdown(price, days, 6)
    want = [slow_forward_mdd(price, d, 6) for d in days]
    np.testing.assert_allclose(got.to_numpy(), want, rtol=0, atol=1e-12)
    # the jitted kernel and its plain-Python twin agree
    out_py = np.empty(3)
    out_jit = np.empty(3)
    args = (price.to_numpy(), np.array([0, 10, 390]), np.array([50, 60, 399]))
    forward_mdd_python(*args, out_py)
    from indicators.lead_time import forward_mdd

    forward_mdd(*args, out_jit)
    np.testing.assert_array_equal(out_py, out_jit)


def test_forward_drawdown_counts_a_peak_reached_after_the_date() -> None:
    idx = pd.to_datetime(["2000-01-03", "2000-02-01", "2000-03-01", "2000-04-03", "2001-06-01"])
    price = pd.Series([100.0, 200.0, 80.0, 150.0, 10.0], index=idx)
    got = forward_max_drawdown(price, idx[:1], 12)
    assert got.iloc[0] == pytest.approx(80 / 200 - 1)  # 200 after the date, then 80: -60%
    # the fall to 10 is 17 months later: outside 12 months, inside 24
    assert forward_max_drawdown(price, idx[:1], 24).iloc[0] == pytest.approx(10 / 200 - 1)
    assert np.isnan(forward_max_drawdown(price, idx[-1:], 12).iloc[0])  # nothing after


def test_calm_dates_crashes_and_undetermined_tail() -> None:
    idx = pd.date_range("2000-01-07", periods=6 * 52, freq="W-FRI")
    values = np.full(idx.size, 100.0)
    values[110:] = 50.0  # a 50% fall in week 110
    price = pd.Series(values, index=idx)
    calm = calm_flags(price, idx)
    weeks_to_fall = 110 - np.arange(idx.size)
    # a crash follows the dates up to two years before the fall
    crash = [i for i in range(idx.size)
             if 0 < weeks_to_fall[i] and idx[110] <= idx[i] + pd.DateOffset(years=2)]
    assert (calm.iloc[crash] == 0.0).all()
    assert calm.iloc[crash[0] - 1] == 1.0  # just over two years before: calm
    assert calm.iloc[110] == 1.0  # flat after the fall, two years observed
    # the last two years have no crash so far and are not observed in full
    tail = idx > idx[-1] - pd.DateOffset(years=2)
    assert calm[tail].isna().all()


def test_crash_peaks_are_highs_followed_by_a_forty_percent_fall_within_two_years() -> None:
    idx = pd.date_range("2000-01-03", periods=10, freq="180D")
    # high 100 -> 55 (-45%, crash) -> new high 120 -> 80 (-33%) -> 130 -> 70 only 900 days on
    price = pd.Series([100, 55, 120, 80, 130, 125, 124, 123, 122, 70], index=idx, dtype=float)
    assert crash_peaks(price) == [idx[0]]
    price.iloc[5:8] = [75.0, 120.0, 125.0]
    assert crash_peaks(price) == [idx[0], idx[4]]


def test_first_warning_and_lead_time_on_a_hand_built_case() -> None:
    idx = pd.date_range("1997-01-03", "2000-12-29", freq="W-FRI")
    flags = pd.Series(0.0, index=idx)
    flags[pd.Timestamp("1997-06-06")] = 1.0        # more than two years before: ignored
    flags[pd.Timestamp("1998-10-02")] = 1.0        # the first inside the window
    flags[pd.Timestamp("1999-12-31")] = 1.0
    flags[pd.Timestamp("2000-06-02")] = 1.0        # after the peak: ignored
    lead = first_warning(flags, date(2000, 3, 10))
    assert lead.first == date(1998, 10, 2)
    assert lead.days == (date(2000, 3, 10) - date(1998, 10, 2)).days == 525
    assert lead.weeks == 75.0
    none = first_warning(pd.Series(0.0, index=idx), date(2000, 3, 10))
    assert none.first is None and none.days is None and none.weeks is None
    on_peak = first_warning(pd.Series(1.0, index=[pd.Timestamp("2000-03-10")]),
                            date(2000, 3, 10))
    assert on_peak.days == 0


def test_false_alarm_share_counts_calm_dates_only() -> None:
    idx = pd.date_range("2003-01-03", periods=10, freq="W-FRI")
    flags = pd.Series([1, 0, 1, 0, 0, 1, 1, np.nan, 0, 1], index=idx, dtype=float)
    calm = pd.Series([1, 1, 1, 1, 0, 0, 1, 1, np.nan, 1], index=idx, dtype=float)
    led = ledger(flags, calm)
    # calm with a reading: 0,1,2,3,6,9 -> flagged 0,2,6,9; pre-crash 4,5 -> flagged 5
    assert (led.calm, led.false_alarms, led.pre_crash, led.hits) == (6, 4, 2, 1)
    assert led.false_alarm_share == pytest.approx(4 / 6)
    assert led.hit_share == pytest.approx(0.5)
    assert led.first_flag == date(2003, 1, 3)
    window = ledger(flags, calm, date(2003, 1, 10), date(2003, 2, 7))
    assert (window.calm, window.false_alarms) == (3, 1)
    assert window.first_flag == date(2003, 1, 17)  # the first flag inside the window
    assert ledger(flags.iloc[:0], calm).false_alarm_share is None


def test_report_tables() -> None:
    idx = pd.date_range("1998-01-02", "2002-12-27", freq="W-FRI")
    f = pd.Series((idx >= "1999-06-04").astype(float), index=idx)
    calm = pd.Series(np.where(idx < "1998-03-13", 1.0, 0.0), index=idx)
    flags = {"X": {"composite": f, "hb": f * 0}}
    leads = lead_table(flags, {"X": [(date(2000, 3, 10), "reference")]})
    assert list(leads["procedure"]) == ["composite", "hb"]
    row = leads.iloc[0]
    assert row["first_warning"] == date(1999, 6, 4) and row["lead_days"] == 280
    assert leads.iloc[1]["first_warning"] is None
    alarms = alarm_table(flags, {"X": calm})
    assert alarms.set_index("procedure").loc["composite", "calm_dates"] == 10
    assert alarms.set_index("procedure").loc["composite", "false_alarms"] == 0
