"""The real-time indicators (``psy_rt``, ``monitor_*``, ``psy_gpt``,
``cohort_psy``): each against its engine on the same data, each point in
time (the reading for date t equals a computation on the data truncated at
t, filings included), and bad input recorded by the compute job as notes
naming the key, the procedure and the minimum needed.

Oracles: the engines called directly on series sampled here
(:func:`~indicators.psy_monitor.monitor_psy`, :func:`~indicators.cusum.hb_monitor`...),
statsmodels OLS and the whole-sample :func:`~indicators.psy.radf` for the
projection step, and recomputation on truncated inputs.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from bubblewatch.core.universe import default_universe
from indicators import registry
from indicators.critical_values.tables import load_table
from indicators.cusum import ahltz_monitor, bd_monitor, hb_monitor
from indicators.frame_source import FrameSource
from indicators.monitors import rolling_cusum
from indicators.panel import cohort_reading
from indicators.psy import psy_min_window, radf
from indicators.psy_indicator import sample
from indicators.psy_monitor import monitor_ps2020, monitor_psy
from indicators.registry import ComputeContext
from tests.conftest import load_shared_facts, load_shared_prices

UNIVERSE = default_universe()
NVDA_CIK = 1045810


@pytest.fixture(scope="module")
def ixic() -> pd.DataFrame:
    return load_shared_prices("^IXIC")


@pytest.fixture(scope="module")
def nvda() -> tuple[pd.DataFrame, pd.DataFrame]:
    return load_shared_prices("NVDA"), load_shared_facts(NVDA_CIK, "NVDA")


def run(name: str, key: str, prices: dict[str, pd.DataFrame], facts: dict | None = None,
        **params: object) -> registry.IndicatorResult:
    ind = registry.get(name)
    ctx = ComputeContext(FrameSource(prices, facts or {}), UNIVERSE)
    return ind.compute(ctx, key, ind.parse_params(params))


def weekly(bars: pd.DataFrame, start: str = "1990-01-01") -> pd.Series:
    px = bars["adj_close"]
    return sample(px[px.index >= pd.Timestamp(start)], "W")


def cut(bars: pd.DataFrame, t: pd.Timestamp) -> pd.DataFrame:
    return bars[bars.index <= t]


# --------------------------------------------------------------------------- psy_rt
def test_psy_rt_equals_the_engine(ixic: pd.DataFrame) -> None:
    res = run("psy_rt", "^IXIC", {"^IXIC": ixic})
    f = res.frame
    s = weekly(ixic)
    pw = monitor_psy(s, training=156, log=True, gate=True)
    sa = monitor_psy(s, training=156, log=True, rule="sadf")
    assert list(f.index) == list(s.index[156:])
    np.testing.assert_allclose(f["bsadf"], pw.bsadf, rtol=1e-12)
    np.testing.assert_array_equal(f["cv_pointwise"], pw.cv)
    np.testing.assert_array_equal(f["cv_sadf"], sa.cv)
    np.testing.assert_array_equal(f["gsadf_cv"], pw.gsadf_cv)
    np.testing.assert_array_equal(f["alarm_pointwise"], pw.bsadf > pw.cv)
    np.testing.assert_array_equal(f["alarm_gated"], pw.alarm)
    np.testing.assert_array_equal(f["alarm_sadf"], sa.alarm)
    np.testing.assert_array_equal(f["alarm"], f["alarm_sadf"])  # the default rule
    np.testing.assert_array_equal(f["confirmed"], sa.confirmed)
    # events are the engine's episodes of the chosen rule, with their confirmation date
    assert [(e.start, e.attrs["confirmed"]) for e in res.events] == [
        (pd.Timestamp(e.start_label).date(),
         None if e.confirmed_label is None else pd.Timestamp(e.confirmed_label).date().isoformat())
        for e in sa.episodes]
    assert res.meta.first_alarm["sadf"] == f.index[f["alarm_sadf"] > 0][0].date()
    assert res.meta.cv_source == "table" and res.meta.min_duration == round(np.log(156))


@pytest.mark.parametrize("day", ["1995-07-14", "1999-12-31", "2000-03-10", "2008-10-10"])
def test_psy_rt_is_point_in_time(ixic: pd.DataFrame, day: str) -> None:
    full = run("psy_rt", "^IXIC", {"^IXIC": ixic}, rule="pointwise").frame
    t = pd.Timestamp(day)
    short = run("psy_rt", "^IXIC", {"^IXIC": cut(ixic, t)}, rule="pointwise").frame
    assert short.index[-1] == t
    pd.testing.assert_series_equal(short.iloc[-1], full.loc[t], rtol=1e-9, check_names=False)


# --------------------------------------------------------------------------- monitors
CUSUM = {"monitor_hb": ("hb", hb_monitor), "monitor_ahltz": ("ahltz", ahltz_monitor),
         "monitor_bd": ("bd", bd_monitor)}


@pytest.mark.parametrize("name", list(CUSUM))
def test_cusum_monitor_windows_equal_the_engine(ixic: pd.DataFrame, name: str) -> None:
    res = run(name, "^IXIC", {"^IXIC": ixic})
    f = res.frame
    s = weekly(ixic)
    _, engine = CUSUM[name]
    train, h = 156, 52
    for k in (0, 5, 21, int(f["window"].max())):  # the last window is incomplete
        chunk = s.iloc[k * h: train + (k + 1) * h]
        direct = engine(chunk, train, h, log=True)
        rows = f[f["window"] == k]
        assert list(rows.index) == list(chunk.index[train:])
        np.testing.assert_allclose(rows["statistic"], direct.statistic, rtol=1e-12)
        np.testing.assert_allclose(rows["boundary"], direct.boundary, rtol=1e-12)
        np.testing.assert_array_equal(rows["alarm"], direct.alarm)
        first = rows.index[rows["first_in_window"] > 0]
        assert list(first) == ([] if direct.first_alarm is None else [direct.first_alarm])
    # the alarm dates in meta and the events are each window's first crossing
    firsts = [d.date() for d in f.index[f["first_in_window"] > 0]]
    assert res.meta.alarm_dates == firsts == [e.start for e in res.events]
    assert res.meta.windows == int(f["window"].max()) + 1


def test_ps2020_monitor_equals_the_engine(ixic: pd.DataFrame) -> None:
    res = run("monitor_ps2020", "^IXIC", {"^IXIC": ixic}, reps=19, start="2005-01-01")
    s = weekly(ixic, "2005-01-01")
    direct = monitor_ps2020(s, training=156, horizon=52, reps=19, seed=0, log=True)
    f = res.frame
    np.testing.assert_allclose(f["statistic"], direct.bsadf, rtol=1e-12)
    np.testing.assert_array_equal(f["boundary"], direct.cv)
    np.testing.assert_array_equal(f["alarm"], direct.alarm)
    np.testing.assert_array_equal(f["confirmed"], direct.confirmed)
    assert len(res.events) == len(direct.episodes)


@pytest.mark.parametrize("name,params", [
    ("monitor_hb", {}), ("monitor_ahltz", {}), ("monitor_bd", {}),
    ("monitor_ps2020", {"reps": 19, "start": "1995-01-01"}),
])
def test_monitors_are_point_in_time(ixic: pd.DataFrame, name: str, params: dict) -> None:
    full = run(name, "^IXIC", {"^IXIC": ixic}, **params).frame
    for day in ("1999-03-05", "2000-03-10", "2001-01-05"):
        t = pd.Timestamp(day)
        short = run(name, "^IXIC", {"^IXIC": cut(ixic, t)}, **params).frame
        assert short.index[-1] == t
        pd.testing.assert_series_equal(short.iloc[-1], full.loc[t], rtol=1e-9,
                                       check_names=False)


def test_rolling_cusum_reading_equals_the_series_cut_there(ixic: pd.DataFrame) -> None:
    s = weekly(ixic)
    full = rolling_cusum(s, "hb", training=156, horizon=52)
    t = s.index[700]
    part = rolling_cusum(s[:t], "hb", training=156, horizon=52)
    assert part.latest().date == t.date()
    assert part.latest().statistic == pytest.approx(full.frame().loc[t, "statistic"], rel=1e-12)


# --------------------------------------------------------------------------- psy_gpt
def test_psy_gpt_equals_an_independent_projection(nvda: tuple) -> None:
    import statsmodels.api as sm

    from ingest.pit import pit_ttm

    bars, facts = nvda
    res = run("psy_gpt", "NVDA", {"NVDA": bars}, {"NVDA": facts})
    f = res.frame
    s = weekly(bars)
    rev = pit_ttm(facts, "revenue", s.index)["value"]
    first = int(np.argmax(rev.notna().to_numpy()))
    logp = np.log(s.iloc[first:])
    x = np.log(rev.iloc[first:]).to_numpy()
    assert res.meta.sample_start == logp.index[0].date() and res.meta.note is None
    table = load_table(0)
    for t in (104, 300, len(logp) - 1):
        design = np.column_stack([np.ones(t + 1), x[:t + 1]])
        fit = sm.OLS(logp.iloc[:t + 1].to_numpy(), design).fit()
        day = logp.index[t]
        row = f.loc[day]
        assert row["resid"] == pytest.approx(fit.resid[-1], abs=1e-9)
        assert row["beta_revenue"] == pytest.approx(fit.params[1], rel=1e-8)
        assert row["r2"] == pytest.approx(fit.rsquared, rel=1e-8)
        w = psy_min_window(t + 1)
        assert row["gpt_bsadf"] == pytest.approx(radf(fit.resid, w, 0).bsadf[-1], rel=1e-9)
        assert row["gpt_cv"] == table.at(np.array([t + 1]), "sadf")[0, 1]
    raw = monitor_psy(logp, training=104, rule="sadf")
    np.testing.assert_allclose(f["raw_bsadf"], raw.bsadf, rtol=1e-12)
    np.testing.assert_array_equal(f["raw_alarm"], raw.alarm)


def test_psy_gpt_stale_proxy_is_named_and_left_out(nvda: tuple) -> None:
    """NVIDIA's trailing capex is stale from 2013 to 2024 in its filings: with
    capex as a proxy the sample starts after the stale stretch and the
    metadata says why."""
    bars, facts = nvda
    res = run("psy_gpt", "NVDA", {"NVDA": bars}, {"NVDA": facts}, proxies=["revenue", "capex"],
              training=52)
    assert res.meta.sample_start > date(2024, 1, 1)
    assert "capex: the trailing figure known was stale" in res.meta.note
    assert "2013-05-17" in res.meta.note


def test_psy_gpt_is_point_in_time_filings_included(nvda: tuple) -> None:
    bars, facts = nvda
    full = run("psy_gpt", "NVDA", {"NVDA": bars}, {"NVDA": facts}).frame
    for day in ("2016-06-03", "2023-08-25"):  # the second one is days after a 10-Q
        t = pd.Timestamp(day)
        known = facts[pd.to_datetime(facts["filed"]) <= t]
        short = run("psy_gpt", "NVDA", {"NVDA": cut(bars, t)}, {"NVDA": known}).frame
        assert short.index[-1] == t
        pd.testing.assert_series_equal(short.iloc[-1], full.loc[t], rtol=1e-9,
                                       check_names=False)


# --------------------------------------------------------------------------- cohort_psy
def test_cohort_psy_equals_the_engine() -> None:
    frames = {s: load_shared_prices(s) for s in UNIVERSE.cohort("dotcom")}
    res = run("cohort_psy", "dotcom", frames, reps=19)
    panel = pd.DataFrame({s: np.log(sample(b["adj_close"]["1995":"2003"], "W"))
                          for s, b in frames.items()})
    direct = cohort_reading(panel, reference="CSCO", log=False, reps=19, seed=0,
                            lags=range(-6, 7))
    f, m = res.frame, res.meta
    np.testing.assert_allclose(f["panel_bsadf"], direct.panel.bsadf, rtol=1e-12)
    np.testing.assert_allclose(f["cv95"], direct.cv.bsadf[:, 1], rtol=1e-12)
    assert m.panel_gsadf == pytest.approx(direct.panel_gsadf)
    assert m.explosive_together == direct.explosive_together and m.reason == direct.reason
    assert [(p.member, p.lag, p.p_value) for p in m.pairs] == [
        (p.y_symbol, p.lag, p.p_value) for p in direct.pairs]
    assert m.episode_start == pd.Timestamp(direct.episode_start).date()


# --------------------------------------------------------------------------- through the job
def _bars(dates: pd.DatetimeIndex, close: np.ndarray) -> pd.DataFrame:
    c = np.round(close, 4)
    return pd.DataFrame({"date": dates.strftime("%Y-%m-%d"), "open": c, "high": c, "low": c,
                         "close": c, "adj_close": c, "volume": 1000})


@pytest.fixture(scope="module")
def job_db(seeded_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, object]:
    """A copy of the seeded database with three planted series (a gap, a flat
    stretch, a short history) and the compute job run over them and NVDA."""
    import sqlite3

    from bubblewatch.app.jobs import ingest_from_dir
    from indicators.compute import run_compute
    from tests.conftest import make_settings

    tmp = tmp_path_factory.mktemp("rt-job")
    dst = tmp / "db.sqlite"
    with sqlite3.connect(seeded_db_url.removeprefix("sqlite:///")) as a, sqlite3.connect(dst) as b:
        a.backup(b)
    url = f"sqlite:///{dst}"
    rng = np.random.default_rng(4)
    days = pd.bdate_range("2010-01-04", "2019-12-31")
    walk = 50 * np.exp(np.cumsum(0.01 * rng.standard_normal(days.size)))
    gap = (days < "2015-03-02") | (days > "2015-05-29")
    flat = walk.copy()
    flat[(days >= "2017-01-02") & (days <= "2018-06-29")] = flat[days < "2017-01-02"][-1]
    short = days >= "2018-06-01"
    (tmp / "data" / "prices").mkdir(parents=True)
    for sym, d, c in (("GAPPY", days[gap], walk[gap]), ("FLAT", days, flat),
                      ("SHORT", days[short], walk[short])):
        _bars(d, c).to_csv(tmp / "data" / "prices" / f"{sym}.csv", index=False)
    extra = [{"symbol": s, "name": s, "cohorts": ["ai"]} for s in ("GAPPY", "FLAT", "SHORT")]
    settings = make_settings(url, universe={"symbols": ["NVDA", "CSCO", "GAPPY", "FLAT",
                                                        "SHORT"],
                                            "extra_instruments": extra})
    assert ingest_from_dir(settings, tmp / "data").ok
    names = ["psy_rt", "monitor_ps2020", "monitor_hb", "monitor_ahltz", "monitor_bd", "psy_gpt"]
    report = run_compute(settings, names, symbols=["NVDA", "CSCO", "GAPPY", "FLAT", "SHORT"],
                         overrides={"monitor_ps2020": {"reps": 19, "start": "2012-01-01"}},
                         show_progress=False)
    return url, report


def test_bad_input_becomes_notes_naming_key_procedure_and_minimum(job_db) -> None:
    _, report = job_db
    assert report.ok, report.errors
    notes = report.notes
    for name in ("psy_rt", "monitor_ps2020", "monitor_hb", "monitor_ahltz", "monitor_bd"):
        gap = notes[f"{name}/GAPPY"]
        assert "GAPPY" in gap and "gap of" in gap and "2015-02-27" in gap
        assert "at most 28 days" in gap
        short = notes[f"{name}/SHORT"]
        assert "SHORT" in short and "it needs at least 157" in short
        assert "training sample of 156" in short
    for name, proc in (("monitor_hb", "homm_breitung"), ("monitor_ahltz", "ahltz"),
                       ("monitor_bd", "breitung_diegel")):
        flat = notes[f"{name}/FLAT"]
        assert f"FLAT: {proc} (FLAT)" in flat
        assert "unchanged consecutive values" in flat and "at most 11" in flat
    for name in ("psy_rt", "monitor_ps2020"):
        flat = notes[f"{name}/FLAT"]
        assert "FLAT" in flat and "flat" in flat and "shorter than" in flat
    assert "CSCO: GPT-robust PSY: no SEC fundamentals" in notes["psy_gpt/CSCO"]
    assert "psy_gpt/GAPPY" not in report.rows  # no CIK: not a company key
    assert not any(k.startswith(("psy_rt/NVDA", "monitor_hb/NVDA")) for k in notes)


def test_stored_readings_equal_the_engine(job_db) -> None:
    from db import repo
    from db.session import session_scope

    url, _ = job_db
    with session_scope(url) as s:
        stored = repo.indicator_wide(s, "psy_rt", "NVDA")
        hb = repo.indicator_wide(s, "monitor_hb", "NVDA")
    w = weekly(load_shared_prices("NVDA"))
    sa = monitor_psy(w, training=156, log=True, rule="sadf")
    np.testing.assert_allclose(stored["bsadf"].to_numpy(), sa.bsadf, rtol=1e-12)
    np.testing.assert_array_equal(stored["alarm"].to_numpy() > 0.5, sa.alarm)
    direct = rolling_cusum(w, "hb", training=156, horizon=52)
    np.testing.assert_allclose(hb["statistic"].to_numpy(), direct.statistic, rtol=1e-12)


def test_registered_on_the_explosiveness_page() -> None:
    for name in ("psy_rt", "monitor_ps2020", "monitor_hb", "monitor_ahltz", "monitor_bd",
                 "psy_gpt", "cohort_psy"):
        ind = registry.get(name)
        assert ind.page == "explosiveness"
        assert ind.parse_params() == ind.defaults
    keys = registry.get("monitor_hb").keys(UNIVERSE)
    assert "ai_basket" in keys and "dotcom_basket" in keys and "CSCO" in keys
    assert registry.get("cohort_psy").keys(UNIVERSE) == ["ai", "dotcom"]
    with pytest.raises(Exception, match="horizon=3000 is more than 19"):
        registry.get("monitor_hb").parse_params({"horizon": 3000})
    assert registry.get("psy_rt").parse_params({"level": 99}).level == 0.99
    assert date(1990, 1, 1) == registry.get("psy_rt").defaults.start

