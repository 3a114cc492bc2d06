"""Composite score: like-for-like readings, coverage weighting, non-saturating
scaling, carry-forward with as-of and staleness, a reproducible uncertainty
band, band changes from data arrival that the alert engine does not report,
and the real-data readings derived from the method."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from alerts.config import default_rules_text, parse_rulebook
from alerts.rules import RuleInput, RuleState, evaluate_rule
from bubblewatch.core.universe import default_universe
from indicators.composite import (
    BUILD_UP_NAMES,
    COMPONENTS,
    INDICATOR,
    STRESS_NAMES,
    carry,
    component_score,
    score_band,
    weighted_score,
)
from indicators.frame_source import FrameSource
from indicators.registry import ComputeContext

UNIVERSE = default_universe()
AI_MEMBERS = UNIVERSE.baskets["ai_basket"]
DC_MEMBERS = UNIVERSE.baskets["dotcom_basket"]
AI_DAYS = pd.bdate_range("2024-01-01", periods=80)
DC_DAYS = pd.bdate_range("1999-11-01", periods=80)


def test_weights_and_rules_are_documented() -> None:
    for reading in (BUILD_UP_NAMES, STRESS_NAMES):
        assert sum(c.weight for c in COMPONENTS if c.name in reading) == pytest.approx(1.0)
    for c in COMPONENTS:
        assert c.hi > c.lo and c.rule and c.max_age_days > 0
        assert {f"c_{c.name}", f"cov_{c.name}", f"age_{c.name}", f"stale_{c.name}"} <= set(
            INDICATOR.columns)
    assert not set(STRESS_NAMES) & set(BUILD_UP_NAMES)


def test_run_up_scaling_is_monotone_and_does_not_saturate_where_the_cohorts_differ() -> None:
    r = np.linspace(0.0, 9.5, 400)
    s = component_score(r, "runup")
    assert np.all(np.diff(s) > 0)  # strictly increasing from flat to +950%
    # independent arithmetic of the documented map: 100 ln(1 + r) / ln(11)
    ai, dotcom = component_score([0.69, 8.10], "runup")
    assert ai == pytest.approx(100 * np.log(1.69) / np.log(11))
    assert dotcom == pytest.approx(100 * np.log(9.10) / np.log(11))
    assert dotcom - ai > 60 and dotcom < 100  # +810% is not capped at the +150% reading
    old_linear = np.clip(100 * np.array([1.5, 8.10]) / 1.5, 0, 100)
    assert old_linear[0] == old_linear[1]  # the map it replaces could not tell them apart
    assert component_score(1.5, "runup")[0] < component_score(8.10, "runup")[0]
    assert component_score(-0.3, "runup")[0] == 0.0


def test_coverage_weighted_scoring() -> None:
    scores = np.array([[100.0, 0.0, np.nan], [50.0, 50.0, 90.0]])
    w = np.array([0.5, 0.3, 0.2])
    cov = np.array([[0.2, 1.0, 1.0], [1.0, 1.0, 0.5]])
    score, coverage = weighted_score(scores, w, cov)
    # a member-poor component counts for what it covers; a missing one is not a zero
    assert score[0] == pytest.approx((0.5 * 0.2 * 100) / (0.5 * 0.2 + 0.3))
    assert coverage[0] == pytest.approx(0.5 * 0.2 + 0.3)
    assert score[1] == pytest.approx((0.5 * 50 + 0.3 * 50 + 0.2 * 0.5 * 90) / (0.9))
    none, cov_none = weighted_score(np.full((1, 3), np.nan), w, np.ones((1, 3)))
    assert np.isnan(none[0]) and np.isnan(cov_none[0])


def test_carry_forward_keeps_the_as_of_and_goes_stale() -> None:
    days = pd.bdate_range("2024-01-01", periods=40)
    sparse = pd.Series([0.2, 0.4], index=days[[0, 10]])
    value, age = carry(sparse, days, max_age_days=21)
    assert value[days[9]] == 0.2 and age[days[9]] == (days[9] - days[0]).days
    assert value[days[10]] == 0.4 and age[days[10]] == 0
    stale = days[(days - days[10]).days > 21]
    assert value[stale].isna().all() and (age[stale] > 21).all()  # stale: dropped, age kept
    assert value[(days - days[10]).days <= 21].notna().all()  # never alternating with missing
    # a quarterly figure counts from the day it became known
    q = pd.Series([0.5], index=[pd.Timestamp("2024-01-05")])
    v, a = carry(q, days, 200, pd.Series([10.0], index=q.index))
    assert v[:"2024-01-14"].isna().all() and v["2024-01-15"] == 0.5 and a["2024-01-15"] == 0


# --------------------------------------------------------------------------- a hand-made case
def _results(lppls_until: int = 80, lppls_step: int = 10, with_psy: bool = True,
             lppls_again: int | None = None) -> dict[tuple[str, str], pd.DataFrame]:
    """Stored results for both cohorts: the AI cohort has every component, LPPLS every
    ``lppls_step``-th day up to ``lppls_until`` (and again from ``lppls_again``); the
    dot-com cohort only price ones."""
    res: dict[tuple[str, str], pd.DataFrame] = {}
    for basket, days, ret, rel, cov in (("ai_basket", AI_DAYS, 0.69, 0.20, 8 / 9),
                                        ("dotcom_basket", DC_DAYS, 8.10, 5.0, 1.0)):
        n = len(days)
        rp = np.full(n, ret)
        rm = (1 + rp) / (1 + rel) - 1
        res[("runup", basket)] = pd.DataFrame(
            {"ret_2y": ret, "ret_2y_price": rp, "ret_2y_net": rp - rm, "coverage": cov},
            index=days)
        res[("regime", basket)] = pd.DataFrame(
            {"drawdown": -0.1, "realised_vol": 0.3, "high_var_prob": 0.5, "coverage": cov},
            index=days)
    if with_psy:
        for members, days, hot in ((AI_MEMBERS, AI_DAYS, 3), (DC_MEMBERS, DC_DAYS, 7)):
            for i, m in enumerate(members):
                res[("psy", m)] = pd.DataFrame({"bsadf": 2.0 if i < hot else 0.0, "cv95": 1.0},
                                               index=days[::5])
    lp = AI_DAYS[:lppls_until:lppls_step]
    if lppls_again is not None:
        lp = lp.append(AI_DAYS[lppls_again::lppls_step])
    res[("lppls", "NVDA")] = pd.DataFrame({"pos_conf": np.linspace(0.3, 0.5, len(lp))},
                                          index=lp)
    res[("valuation", "NVDA")] = pd.DataFrame({"pe_pctile": 0.9, "ps_pctile": 0.7},
                                              index=AI_DAYS)
    q = pd.DatetimeIndex(["2023-09-30", "2023-12-31"])
    res[("capex", "hyperscalers")] = pd.DataFrame(
        {"capex_ttm_yoy": [0.4, 0.9], "coverage": 0.2, "days_to_known": [30.0, 35.0]}, index=q)
    return res


def _compute(results: dict, key: str, **params: object):  # type: ignore[no-untyped-def]
    p = {"ai_window": ["2020-01-01", None], "dotcom_window": ["1999-01-01", "2000-12-31"],
         "dotcom_peak_date": str(DC_DAYS[-1].date()), "mc_draws": 200, **params}
    ctx = ComputeContext(FrameSource(results=results), UNIVERSE)
    return INDICATOR.compute(ctx, key, INDICATOR.parse_params(p))


def test_headline_uses_the_same_components_on_both_sides() -> None:
    res = _results()
    ai, dc = _compute(res, "ai"), _compute(res, "dotcom")
    assert ai.meta.readings == dc.meta.readings
    head = ai.meta.readings["headline"]
    assert head == ["runup", "runup_net", "psy"]  # what the dot-com cohort has as well
    assert ai.meta.readings["ai_only"] == ["lppls", "valuation", "capex"]
    assert ai.meta.readings["stress"] == ["drawdown", "vol", "high_variance"]
    # the headline of each cohort is the coverage-weighted mean of exactly those components
    w = {c.name: c.weight for c in COMPONENTS}
    # MSFT and ORCL are in both baskets; this case gives them PSY rows in 1999-2000 only,
    # so on the AI side they are stale: 7 of 9 members
    for out, cov_basket, cov_psy in ((ai, 8 / 9, 7 / 9), (dc, 1.0, 1.0)):
        row = out.frame.iloc[-1]
        cov = {"runup": cov_basket, "runup_net": cov_basket, "psy": cov_psy}
        assert all(row[f"cov_{n}"] == pytest.approx(cov[n]) for n in head)
        num = sum(w[n] * cov[n] * row[f"c_{n}"] for n in head)
        assert row["score"] == pytest.approx(num / sum(w[n] * cov[n] for n in head))
        assert {c.name for c in out.meta.latest.components if c.reading == "headline"} == set(head)
    # no stress component raises the bubble score: change them, the headline stays
    calm = dict(res)
    calm[("regime", "dotcom_basket")] = res[("regime", "dotcom_basket")].assign(
        drawdown=-0.6, realised_vol=0.9, high_var_prob=1.0)
    again = _compute(calm, "dotcom")
    assert again.frame["score"].equals(dc.frame["score"])
    assert again.frame["stress"].iloc[-1] == pytest.approx(100.0)
    # every component absent from a side is stated, with why
    assert "no point-in-time valuation" in dc.meta.missing_components["valuation"]
    assert "not defined for the dot-com cohort" in dc.meta.missing_components["capex"]
    assert "earnings_quality" in ai.meta.missing_components  # no data: stated, not scored
    assert "revenue_gap" in ai.meta.missing_components
    assert "ai_only" not in dc.frame.columns  # the dot-com cohort has no AI-only sub-score


def test_an_ai_only_component_never_enters_the_headline() -> None:
    res = _results(with_psy=False)  # PSY now missing for both: headline = the run-ups
    ai = _compute(res, "ai")
    assert ai.meta.readings["headline"] == ["runup", "runup_net"]
    assert "psy" in ai.meta.excluded_components
    # remove the dot-com run-up: it leaves the headline of both sides, never one side only
    res.pop(("runup", "dotcom_basket"))
    ai2, dc2 = _compute(res, "ai"), _compute(res, "dotcom")
    assert ai2.meta.readings["headline"] == dc2.meta.readings["headline"] == []
    assert "runup" in ai2.meta.readings["ai_only"]
    assert ai2.frame["score"].isna().all() and "like-for-like" in ai2.meta.note


def test_low_frequency_component_is_carried_with_its_as_of_until_stale() -> None:
    # LPPLS on days 0, 10, 20, then nothing until day 60, 70 (present on the compared date)
    res = _results(lppls_until=30, lppls_step=10, lppls_again=60)
    f = _compute(res, "ai").frame
    c, age = f["c_lppls"], f["age_lppls"]
    first_stale = AI_DAYS[20] + pd.Timedelta(days=22)
    fresh = f.index[(f.index >= AI_DAYS[0]) & (f.index < first_stale)]
    assert c[fresh].notna().all()  # never alternates with missing between fits
    assert (age[fresh] <= 21).all() and age[AI_DAYS[10]] == 0
    assert age[AI_DAYS[9]] == (AI_DAYS[9] - AI_DAYS[0]).days
    gap = f.index[(f.index >= first_stale) & (f.index < AI_DAYS[60])]
    assert c[gap].isna().all() and (age[gap] > 21).all()
    assert (f.loc[gap, "stale_lppls"] == 1).all() and (f.loc[fresh, "stale_lppls"] == 0).all()
    # on every date but the two where LPPLS goes stale and comes back the sub-score's change
    # is a change on unchanged inputs
    steady = f["ai_only"].diff() - f["ai_only_change_same_inputs"]
    moved = steady[steady.abs() > 1e-9].index
    assert list(moved) == [gap[0], AI_DAYS[60]]
    # provenance on a stale date: as-of, age, the stale flag, why
    stale_res = _results(lppls_until=30, lppls_step=10)
    latest = {x.name: x for x in _compute(stale_res, "ai").meta.latest.components}
    assert latest["lppls"].stale and latest["lppls"].as_of == AI_DAYS[20].date()
    assert latest["lppls"].age_days == (AI_DAYS[-1] - AI_DAYS[20]).days
    assert "stale" in latest["lppls"].why_missing and latest["lppls"].reading == "excluded"


def test_uncertainty_band_is_seeded_and_brackets_the_median() -> None:
    res = _results()
    a, b = _compute(res, "ai").frame, _compute(res, "ai").frame
    cols = ["score_p05", "score_p50", "score_p95", "stress_p05", "stress_p95", "ai_only_p95"]
    pd.testing.assert_frame_equal(a[cols], b[cols])  # same seed, same band
    other = _compute(res, "ai", mc_seed=7).frame
    assert not np.allclose(other["score_p05"], a["score_p05"])
    assert (a["score_p05"] <= a["score_p50"]).all() and (a["score_p50"] <= a["score_p95"]).all()
    assert (a["score_p95"] - a["score_p05"] > 1).all()
    meta = _compute(res, "ai").meta
    assert meta.uncertainty.seed == INDICATOR.defaults.mc_seed
    assert meta.uncertainty.share_ai_below_dotcom_peak == 1.0  # +69% against +810%


def test_no_band_alert_from_a_component_arriving() -> None:
    """LPPLS arrives on day 30 and lifts the AI-only sub-score across a band edge; the
    default band rule replayed day by day stays silent that day, and alerts on a real move."""
    res = _results(lppls_until=0)
    lp = AI_DAYS[30::10]
    res[("lppls", "NVDA")] = pd.DataFrame({"pos_conf": 0.5}, index=lp)  # scores 100 at once
    # valuation low at first, a real move on day 60; capex growth modest
    val = pd.DataFrame({"pe_pctile": 0.2, "ps_pctile": 0.2}, index=AI_DAYS)
    val.loc[AI_DAYS[60]:, ["pe_pctile", "ps_pctile"]] = 1.0
    res[("valuation", "NVDA")] = val
    res[("capex", "hyperscalers")] = res[("capex", "hyperscalers")].assign(capex_ttm_yoy=0.1)
    f = _compute(res, "ai").frame
    assert score_band(f["ai_only"][AI_DAYS[29]]) != score_band(f["ai_only"][AI_DAYS[30]])
    assert f["composition_change"][AI_DAYS[30]] == 0  # the headline did not change inputs
    rule = parse_rulebook(default_rules_text(), "<default>").rule("composite-ai-only-band")
    state: RuleState | None = None
    alerts = {}
    for day in f.index:
        upto = f[f.index <= day]
        out = evaluate_rule(rule, "ai", RuleInput(values=upto["ai_only"],
                                                  same_inputs_change=upto[
                                                      "ai_only_change_same_inputs"]), state)
        state = out.state
        if out.alert is not None:
            alerts[day] = out.alert.condition
    assert AI_DAYS[30] not in alerts  # arrival alone: silent
    assert state is not None and state.condition == score_band(f["ai_only"].iloc[-1])
    band_moves = f.index[f["ai_only"].map(score_band) != f["ai_only"].shift().map(score_band)]
    assert AI_DAYS[60] in band_moves and AI_DAYS[60] in alerts  # the real move alerts


# --------------------------------------------------------------------------- real data
@pytest.fixture(scope="module")
def stored(computed_db_url: str) -> dict[str, object]:
    from db import repo
    from db.session import session_scope
    from indicators import registry

    with session_scope(computed_db_url) as s:
        out: dict[str, object] = {k: repo.indicator_wide(s, "composite", k)
                                  for k in ("ai", "dotcom")}
        for k in ("ai", "dotcom"):
            (run,) = repo.latest_runs(s, "composite", k)
            out[f"meta_{k}"] = registry.get("composite").read_meta(run.meta)
        out["runup"] = repo.indicator_wide(s, "runup", "dotcom_basket")
        out["ixic"] = repo.price_frame(s, "^IXIC")["close"]
        out["lppls"] = repo.indicator_wide(s, "lppls", "NVDA")
    return out


def test_real_data_like_for_like_and_the_dotcom_path(stored: dict) -> None:
    dc = stored["dotcom"]
    m_ai, m_dc = stored["meta_ai"], stored["meta_dotcom"]
    assert m_ai.readings == m_dc.readings and m_ai.readings["headline"]
    assert not set(m_ai.readings["headline"]) & {"valuation", "capex", "revenue_gap",
                                                  "earnings_quality", *STRESS_NAMES}
    peak = m_ai.dotcom_peak_reading
    assert str(peak.date) == "2000-03-10"
    # the run-up component at the peak is the documented map of the stored basket return
    r = stored["runup"].loc[:"2000-03-10", "ret_2y"].iloc[-1]
    comp = {c.name: c for c in peak.components}
    assert comp["runup"].score == pytest.approx(100 * np.log1p(r) / np.log(11))
    assert r > 7 and comp["runup"].score < 100  # +700% and more, still below the cap
    # never "high" while the Nasdaq is more than half below its peak
    ixic = stored["ixic"]
    dd = (ixic / ixic.cummax() - 1).reindex(dc.index, method="ffill")
    deep = dc.index[dd < -0.5]
    assert len(deep) > 50 and (dc.loc[deep, "score"] < 60).all()
    # the bubble score peaks around the Nasdaq peak; stress peaks in the bust
    assert pd.Timestamp("1999-10-01") <= dc["score"].idxmax() <= pd.Timestamp("2000-09-30")
    assert dc["stress"].loc["2001"].mean() > dc["stress"].loc["1999"].mean()
    assert (dc["score_p05"] <= dc["score"] + 1e-9).mean() > 0.9
    assert m_ai.latest.score_p05 <= m_ai.latest.score <= m_ai.latest.score_p95 + 1e-9


def test_real_lppls_arrival_never_makes_the_score_jump(stored: dict) -> None:
    ai = stored["ai"]
    fits = stored["lppls"].index  # stored every 20th trading day in the test database
    first = fits.min()
    span = ai.loc[first:fits.max()]
    # carried forward: the LPPLS component is present on every date between its fits
    assert span["c_lppls"].notna().all()
    arrivals = span.index.intersection(fits)[1:]
    assert len(arrivals) >= 2
    # on a fit day the sub-score's change is a change on unchanged inputs (LPPLS was
    # there the day before, carried): a new fit moves it, never its arrival
    steady = span["ai_only"].diff() - span["ai_only_change_same_inputs"]
    assert steady.loc[arrivals].abs().max() < 1e-9
