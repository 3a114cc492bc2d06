"""Chart functions: pure DataFrame -> Figure, checked for the things a reader
relies on: cohort colours, units in axis titles, dates in hover labels,
reference marks where they belong."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dashboard import charts as ch
from indicators.analog import paths_around
from tests.conftest import load_shared_prices


@pytest.fixture(scope="module")
def aligned() -> pd.DataFrame:
    nvda = load_shared_prices("NVDA")["close"]
    csco = load_shared_prices("CSCO")["close"]
    return paths_around(nvda, csco, pd.Timestamp("2022-11-30"), pd.Timestamp("1995-08-09"))


def test_analog_chart_colours_units_and_dates(aligned):
    fig = ch.analog_chart(aligned, ai_label="NVDA", dotcom_label="CSCO", anchor_label="events")
    by_name = {t.name: t for t in fig.data}
    assert by_name["NVDA"].line.color == ch.AI_COLOR
    assert by_name["CSCO"].line.color == ch.DOTCOM_COLOR
    assert "rebased to 100" in fig.layout.yaxis.title.text
    assert fig.layout.xaxis.title.text == "Trading days from anchor"
    # hover shows each path's real date, which the trading-day axis does not
    assert "%{customdata}" in by_name["CSCO"].hovertemplate
    assert by_name["CSCO"].customdata[list(by_name["CSCO"].x).index(0)] == "1995-08-09"
    assert fig.layout.yaxis.type == "log"
    ticks = list(fig.layout.yaxis.tickvals)
    assert 100 in ticks and ticks == sorted(ticks)
    assert {round(t / 10 ** np.floor(np.log10(t))) for t in ticks} <= {1, 2, 5}
    # the "today" marker sits at the AI path's last day
    xs = [s.x0 for s in fig.layout.shapes]
    assert aligned["ai"].last_valid_index() in xs


def test_log_ticks_cover_the_range():
    assert ch.log_ticks(30, 700) == [50, 100, 200, 500]
    assert ch.log_ticks(0.9, 1.5) == [1.0, 1.2, 1.4]  # narrow range: round steps
    assert ch.log_ticks(170, 232) == [180, 200, 220]  # one log step would leave one tick
    assert ch.log_ticks(-1, 10) == []


def test_gauge_marks_the_dotcom_peak():
    fig = ch.score_gauge(62.4, 81.0, as_of="2026-08-21")
    ind = fig.data[0]
    assert ind.value == pytest.approx(62.4)
    assert ind.gauge.threshold.value == 81.0 and ind.delta.reference == 81.0
    assert ind.gauge.axis.range == (0, 100)
    assert "2026-08-21" in ind.title.text
    assert ch.score_gauge(50, None).data[0].gauge.threshold.value is None


def test_bsadf_chart_shades_open_and_closed_episodes():
    idx = pd.bdate_range("2020-01-01", periods=100)
    wide = pd.DataFrame({"series": np.linspace(0, 1, 100), "bsadf": np.linspace(-1, 3, 100),
                         "cv95": 1.5}, index=idx)
    eps = pd.DataFrame([
        {"kind": "positive", "start": idx[10].date(), "end": idx[20].date()},
        {"kind": "negative", "start": idx[40].date(), "end": idx[45].date()},
        {"kind": "positive", "start": idx[80].date(), "end": None},  # ongoing
    ])
    fig = ch.bsadf_chart(wide, eps, symbol="NVDA")
    shapes = fig.layout.shapes
    assert len(shapes) == 6  # three episodes, shaded in both rows
    assert {s.yref for s in shapes} == {"y domain", "y2 domain"}
    assert pd.Timestamp(shapes[-1].x1) == idx[-1]  # the open one runs to the last date
    assert shapes[2].fillcolor == ch.NEG_EPISODE_FILL
    names = {t.name for t in fig.data}
    assert {"BSADF", "95 % critical value"} <= names
    assert fig.layout.yaxis2.title.text == "ADF t-statistic"


def test_lppls_chart_negative_confidence_drawn_downwards():
    idx = pd.bdate_range("2024-01-01", periods=50)
    conf = pd.DataFrame({"pos_conf": 0.4, "neg_conf": 0.2}, index=idx)
    price = pd.Series(np.linspace(100, 150, 50), index=idx)
    fig = ch.lppls_chart(price, conf, symbol="NVDA")
    neg = next(t for t in fig.data if t.name.startswith("negative"))
    assert np.all(np.asarray(neg.y) == -0.2) and np.all(np.asarray(neg.customdata) == 0.2)
    assert fig.layout.yaxis2.tickformat == ".0%"
    assert "USD" in fig.layout.yaxis.title.text


def test_series_chart_reference_lines_survive_log_axes():
    idx = pd.bdate_range("2024-01-01", periods=20)
    df = pd.DataFrame({"pe_ttm": np.linspace(20, 60, 20)}, index=idx)
    fig = ch.series_chart(df, title="t", y_title="Multiple (×)", unit="×",
                          hlines={"Cisco P/E at 2000 peak": 190.0}, log_y=True)
    line = next(t for t in fig.data if t.name == "Cisco P/E at 2000 peak")
    assert list(line.y) == [190.0, 190.0]
    assert max(fig.layout.yaxis.tickvals) <= 200 and min(fig.layout.yaxis.tickvals) >= 20
    assert "%{x|%Y-%m-%d}" in fig.data[0].hovertemplate and "×" in fig.data[0].hovertemplate


def test_capex_charts_units():
    q = pd.DataFrame({"GOOGL": [10.0, 12.0], "MSFT": [15.0, 19.0]},
                     index=pd.to_datetime(["2025-09-30", "2025-12-31"]))
    fig = ch.capex_chart(q, q.sum(axis=1).cumsum())
    assert fig.layout.barmode == "stack" and fig.layout.yaxis.title.text == "Capex (USD bn)"
    assert all("USD bn" in t.hovertemplate for t in fig.data)
    tel = pd.DataFrame({"US carriers": [110.0, 66.0]},
                       index=pd.to_datetime(["2000-12-31", "2002-12-31"]))
    fig2 = ch.capex_vs_telecom(q.sum(axis=1), tel)
    bar = next(t for t in fig2.data if t.type == "bar")
    assert list(bar.x) == ["2000", "2002"] and bar.marker.color == ch.DOTCOM_COLOR
    titles = [a.text for a in fig2.layout.annotations]
    assert "Telecom carriers<br>2000-2002, annual" in titles  # the years the data covers


def test_movers_chart_colours_by_cohort():
    movers = pd.DataFrame({"symbol": ["NVDA", "CSCO", "^GSPC"], "last_date": ["2026-08-21"] * 3,
                           "last": [1.0, 2.0, 3.0], "1w": [5.0, -2.0, 1.0]})
    fig = ch.movers_chart(movers, "1w", {"NVDA": "ai", "CSCO": "dotcom", "^GSPC": "index"})
    bar = fig.data[0]
    colours = dict(zip(bar.y, bar.marker.color, strict=True))
    assert colours == {"NVDA": ch.AI_COLOR, "CSCO": ch.DOTCOM_COLOR, "^GSPC": ch.INDEX_COLOR}
    assert fig.layout.xaxis.title.text == "Change over 1w (%)"


def test_tc_chart_band_and_median():
    idx = pd.bdate_range("2025-01-01", periods=10)
    conf = pd.DataFrame({"pos_tc_median_days": np.arange(10.0) + 20,
                         "pos_tc_q10_days": np.arange(10.0) + 10,
                         "pos_tc_q90_days": np.arange(10.0) + 40}, index=idx)
    fig = ch.tc_chart(conf, symbol="NVDA")
    names = [t.name for t in fig.data]
    assert "positive bubble: median" in names and "positive bubble: 10-90 % of fits" in names
    assert not any(n and n.startswith("negative") for n in names)  # no negative fields given
    assert fig.layout.yaxis.title.text == "tc, trading days after the fit date"


def test_date_axes_never_show_a_time_of_day():
    """A few LPPLS fit dates close together used to zoom the axis to hours
    ("23:59:59.999"): date axes tick in days at the finest and span a month at least."""
    conf = pd.DataFrame({"pos_tc_median_days": [-3.0, 4.0, 6.0],
                         "pos_tc_q10_days": [-5.0, 1.0, 2.0], "pos_tc_q90_days": [1.0, 9.0, 12.0]},
                        index=pd.to_datetime(["2026-08-19", "2026-08-20", "2026-08-21"]))
    fig = ch.tc_chart(conf, symbol="NVDA")
    axis = fig.layout.xaxis
    assert axis.type == "date"
    lo, hi = (pd.Timestamp(x) for x in axis.range)
    assert hi - lo >= pd.Timedelta(days=ch.MIN_DATE_SPAN_DAYS)
    formats = [s.value for s in axis.tickformatstops]
    assert formats and not any("%H" in f or "%M" in f or "%S" in f for f in formats)
    assert formats[0] == "%Y-%m-%d" and axis.hoverformat == "%Y-%m-%d"


def test_long_titles_wrap_for_phones_and_legends_sit_below():
    fig = ch.series_chart(pd.DataFrame({"a": [1.0, 2.0]},
                                       index=pd.to_datetime(["2024-01-01", "2024-06-01"])),
                          title="Required vs reported AI revenue (annualised), every quarter",
                          y_title="USD bn")
    lines = fig.layout.title.text.split("<br>")
    assert len(lines) == 2 and all(len(line) <= ch.TITLE_LINE for line in lines)
    assert fig.layout.legend.y < 0  # below the plot, never over the title
