"""Tests of the registered ``psy`` and ``psy_valuation`` indicators."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from bubblewatch.core.errors import ConfigError, InfeasibleTestError
from bubblewatch.core.universe import default_universe
from indicators.frame_source import FrameSource
from indicators.psy_indicator import INDICATORS, PsyParams, sample
from indicators.registry import ComputeContext, IndicatorEvent, get
from tests.conftest import load_shared_prices


@pytest.fixture(scope="module")
def universe():
    return default_universe()


def _ctx(universe, prices=None, results=None) -> ComputeContext:
    return ComputeContext(FrameSource(price_frames=prices or {}, results=results or {}), universe)


def test_registered(universe) -> None:
    psy, val = get("psy"), get("psy_valuation")
    assert (psy, val) == INDICATORS
    assert val.depends_on == ("valuation",)
    assert list(psy.keys(universe)) == universe.symbols
    assert set(val.keys(universe)) == {i.symbol for i in universe.with_cik}
    assert "^GSPC" not in val.keys(universe)
    assert {"series", "badf", "bsadf", "cv90", "cv95", "cv99"} <= set(psy.columns)
    assert {"ps_bsadf", "pe_cv95"} <= set(val.columns)
    with pytest.raises(ConfigError, match="no parameter 'window'"):
        psy.parse_params({"window": 3})
    assert psy.parse_params() == PsyParams() and psy.parse_params().freq == "W"
    assert psy.parse_params({"lag": "2", "sig_level": 95}) == PsyParams(lag=2, sig_level=0.95)


def test_sampling_keeps_real_dates() -> None:
    idx = pd.bdate_range("2024-01-01", "2024-03-06")  # ends on a Wednesday
    s = pd.Series(np.arange(len(idx), dtype=float), index=idx)
    w = sample(s, "W")
    assert w.index[-1] == pd.Timestamp("2024-03-06")  # not the coming Friday
    assert all(d.day_of_week == 4 for d in w.index[:-1])
    m = sample(s, "M")
    assert list(m.index) == [pd.Timestamp("2024-01-31"), pd.Timestamp("2024-02-29"),
                             pd.Timestamp("2024-03-06")]
    assert sample(s, "D").equals(s)


def test_nvda_weekly_2015_2026(universe, shared_data) -> None:
    ind = get("psy")
    ctx = _ctx(universe, {"NVDA": load_shared_prices("NVDA")})
    res = ind.compute(ctx, "NVDA", ind.parse_params({"start": "2015-01-01"}))
    frame = res.frame
    assert list(frame.columns) == ["series", "badf", "bsadf", "cv90", "cv95", "cv99", "excess"]
    assert isinstance(frame.index, pd.DatetimeIndex)
    assert frame.index[0] >= pd.Timestamp("2015-01-01")
    prices = load_shared_prices("NVDA")["adj_close"]
    assert frame["series"].iloc[-1] == pytest.approx(np.log(prices.iloc[-1]))
    assert res.meta.freq == "W"
    m = res.meta.test
    assert m.T == len(frame) and m.cv_method == "mc"
    assert m.gsadf == pytest.approx(frame["bsadf"].max())
    assert len(m.gsadf_cv) == 3 and m.min_duration == round(np.log(m.T))
    assert m.gsadf_cv_at(0.95) == m.gsadf_cv[1]
    # a steady exponential rise is a drift, not explosiveness: GSADF does not reject
    # since 2015, so (exuber's rule) no episode is reported ...
    assert m.rejected is (m.gsadf > m.gsadf_cv[1]) and not m.rejected
    assert res.events == ()
    # ... while monitoring without the overall gate shows where BSADF crossed
    mon = ind.compute(ctx, "NVDA", ind.parse_params({"start": "2015-01-01",
                                               "require_rejection": False}))
    assert mon.events and all(e.attrs["duration"] >= m.min_duration for e in mon.events)
    for e in mon.events:
        inside = mon.frame.loc[str(e.start):str(e.peak), "excess"]
        assert (inside > 0).all()


def test_nvda_ai_run_up_since_1999(universe, shared_data) -> None:
    ind = get("psy")
    ctx = _ctx(universe, {"NVDA": load_shared_prices("NVDA")})
    res = ind.compute(ctx, "NVDA", ind.parse_params({"reps": 400}))  # weekly since 1999
    assert res.meta.test.rejected is True
    assert all(isinstance(e, IndicatorEvent) for e in res.events)
    assert all(e.kind in ("positive", "negative") for e in res.events)
    ai = [e for e in res.events if e.kind == "positive" and e.start.year in (2023, 2024)]
    assert ai, res.events
    assert ai[0].peak >= dt.date(2024, 1, 1)


def test_exubers_critical_value_rule_is_more_conservative(universe, shared_data) -> None:
    """``bsadf_cv="sadf"``: higher critical values, so every episode it dates lies
    inside an episode of the default (pointwise) rule."""
    ind = get("psy")
    ctx = _ctx(universe, {"NVDA": load_shared_prices("NVDA")})
    point = ind.compute(ctx, "NVDA", ind.parse_params({"reps": 400}))
    sadf = ind.compute(ctx, "NVDA", ind.parse_params({"reps": 400, "bsadf_cv": "sadf"}))
    assert (point.meta.test.cv_bsadf_rule, sadf.meta.test.cv_bsadf_rule) == ("pointwise", "sadf")
    np.testing.assert_array_equal(sadf.frame["bsadf"], point.frame["bsadf"])
    cv_p, cv_s = point.frame["cv95"].dropna(), sadf.frame["cv95"].dropna()
    assert (cv_s >= cv_p - 1e-12).all() and (cv_s - cv_p).iloc[-100:].min() > 0.3
    assert len(sadf.events) >= 1  # the 1999-2000 run-up clears even the stricter rule
    for e in sadf.events:
        assert any(p.kind == e.kind and p.start <= e.start and (p.end is None or (
            e.end is not None and e.end <= p.end)) for p in point.events), e
    with pytest.raises(ConfigError, match="parameter 'bsadf_cv'.*'pointwise' or 'sadf'"):
        ind.parse_params({"bsadf_cv": "max", "reps": 50})


def test_frame_aligns_statistic_and_critical_values(universe, shared_data) -> None:
    ind = get("psy")
    ctx = _ctx(universe, {"^GSPC": load_shared_prices("^GSPC")})
    res = ind.compute(ctx, "^GSPC", ind.parse_params({"freq": "M", "reps": 200}))
    f = res.frame
    off = res.meta.test.min_window + res.meta.test.lag
    assert f["bsadf"].iloc[:off].isna().all() and f["cv95"].iloc[:off].isna().all()
    assert f["bsadf"].iloc[off:].notna().all() and f["cv95"].iloc[off:].notna().all()
    np.testing.assert_allclose(f["excess"], f["bsadf"] - f["cv95"])
    assert (f["cv90"].iloc[off:] < f["cv99"].iloc[off:]).all()


def test_too_short_series_is_infeasible(universe, shared_data) -> None:
    ind = get("psy")
    ctx = _ctx(universe, {"CRWV": load_shared_prices("CRWV")})
    with pytest.raises(InfeasibleTestError, match="min_obs"):
        ind.compute(ctx, "CRWV", ind.parse_params())
    with pytest.raises(InfeasibleTestError, match="no prices"):
        ind.compute(_ctx(universe), "CRWV", ind.parse_params())
    daily = ind.compute(ctx, "CRWV", ind.parse_params({"freq": "D", "reps": 100}))
    assert daily.meta.test.T == len(load_shared_prices("CRWV"))


@pytest.mark.parametrize(
    ("override", "match"),
    [({"freq": "Q"}, "parameter 'freq'.*'D', 'W' or 'M'"),
     ({"cv": "sb"}, "parameter 'cv'.*'mc' or 'wb'"),
     ({"start": "soon"}, "parameter 'start'.*given 'soon'"),
     ({"min_obs": 3}, "parameter 'min_obs'.*greater than or equal to 10"),
     ({"sig_level": 0.5}, "parameter 'sig_level'")],
)
def test_bad_parameters_are_refused_before_any_data(override, match) -> None:
    with pytest.raises(ConfigError, match=match):
        get("psy").parse_params({**override, "reps": 50})


def test_non_positive_prices_are_refused(universe) -> None:
    idx = pd.bdate_range("2010-01-01", periods=800)
    bars = pd.DataFrame({"adj_close": np.exp(np.cumsum(np.full(800, 0.001)) + np.sin(
        np.arange(800) / 7))}, index=idx)
    bars.iloc[500, 0] = 0.0
    ind = get("psy")
    with pytest.raises(ValueError, match="positive"):
        ind.compute(_ctx(universe, {"NVDA": bars}), "NVDA", ind.parse_params({"reps": 50}))


def test_wild_bootstrap_option(universe, shared_data) -> None:
    ind = get("psy")
    ctx = _ctx(universe, {"NVDA": load_shared_prices("NVDA")})
    res = ind.compute(ctx, "NVDA", ind.parse_params({"start": "2015-01-01", "freq": "M",
                                               "cv": "wb", "reps": 100}))
    m = res.meta.test
    assert m.cv_method == "wb" and m.cv_tb == m.min_window + 12
    off = m.min_window
    assert res.frame["cv95"].iloc[off:].nunique() == 1  # family-wise: one value


def _valuation_frame() -> pd.DataFrame:
    """A stand-in for the ``valuation`` indicator's result: daily P/S and P/E."""
    prices = load_shared_prices("NVDA")["adj_close"].loc["2012":]
    rng = np.random.default_rng(0)
    sales = np.exp(np.cumsum(rng.normal(0.0005, 0.001, len(prices))))
    ps = prices / sales
    pe = ps * 3.0
    pe.iloc[100:140] = -5.0  # a loss-making stretch: P/E is tested after it
    return pd.DataFrame({"ps_ttm": ps, "pe_ttm": pe, "market_cap": prices * 1e3})


def test_psy_valuation(universe, shared_data) -> None:
    ind = get("psy_valuation")
    val = _valuation_frame()
    ctx = _ctx(universe, results={("valuation", "NVDA"): val})
    res = ind.compute(ctx, "NVDA", ind.parse_params({"reps": 200}))
    cols = set(res.frame.columns)
    assert {"ps_series", "ps_bsadf", "ps_cv95", "pe_series", "pe_bsadf", "pe_excess"} <= cols
    assert res.meta.transform == "level"
    assert res.meta.ps.T > res.meta.pe.T  # P/E starts after the losses
    pe_start = pd.Timestamp(res.meta.pe.first_date)
    assert pe_start > val.index[139]
    ps = res.frame["ps_series"].dropna()
    assert ps.iloc[-1] == pytest.approx(val["ps_ttm"].iloc[-1])  # levels, not logs
    assert all(e.attrs["series"] in ("ps", "pe") for e in res.events)
    assert [e.start for e in res.events] == sorted(e.start for e in res.events)


def test_psy_valuation_without_data(universe) -> None:
    ind = get("psy_valuation")
    res = ind.compute(_ctx(universe), "GOOGL", ind.parse_params())
    assert res.frame.empty and res.events == ()
    assert "no valuation data" in res.meta.missing
    short = pd.DataFrame({"ps_ttm": np.linspace(5, 9, 30), "pe_ttm": np.nan},
                         index=pd.bdate_range("2024-01-01", periods=30))
    ctx = _ctx(universe, results={("valuation", "GOOGL"): short})
    res = ind.compute(ctx, "GOOGL", ind.parse_params())
    assert res.frame.empty
    assert "min_obs" in res.meta.ps_note and res.meta.pe_note


def test_events_are_dates(universe, shared_data) -> None:
    ind = get("psy")
    ctx = _ctx(universe, {"^IXIC": load_shared_prices("^IXIC")})
    res = ind.compute(ctx, "^IXIC", ind.parse_params({"reps": 200}))
    assert res.events
    for e in res.events:
        assert isinstance(e.start, dt.date) and isinstance(e.peak, dt.date)
        assert e.ongoing == (e.end is None)
        assert e.start <= e.peak and (e.end is None or e.peak < e.end)
