"""TEST DATA for the dashboard tests: simple pandas stand-ins for the stored
indicator results, computed at test time from the real prices and filings of
the seeded database (never copied into the repository).

These are NOT the real indicators (those live in ``indicators/`` and are
tested there); they only give each dashboard page rows shaped like the real
ones (same indicator names, keys and fields) so the pages can be exercised.
Every run's ``meta`` says ``"test_data": true``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd

from bubblewatch.core.universe import default_universe
from db import repo
from db.dashboard_queries import close_series
from db.runlog import record_run
from db.session import session_scope
from indicators.registry import params_hash

TEST_META = {"test_data": True, "note": "dashboard test stand-in, not the real indicator"}

#: A Slack webhook planted in the test data to prove the dashboard masks it.
PLANTED_WEBHOOK = "https://hooks.slack.com/services/T00000000/B00000000/plantedSecretXYZ"


def _store(url: str, indicator: str, key: str, frame: pd.DataFrame, *, meta: dict | None = None,
           events: list[dict] | None = None, params: dict | None = None) -> None:
    params = {"test": True, **(params or {})}
    frame = frame.dropna(how="all")
    with session_scope(url) as s:
        repo.store_indicator_result(
            s, indicator=indicator, key=key, params=params, params_hash=params_hash(params),
            frame=frame, events=events or [], meta={**TEST_META, **(meta or {})},
            as_of=frame.index.max().date() if not frame.empty else None,
        )


def _closes(url: str, symbol: str) -> pd.Series:
    with session_scope(url) as s:
        return close_series(s, symbol)


def _basket(url: str, members: tuple[str, ...]) -> pd.Series:
    closes = pd.DataFrame({m: _closes(url, m) for m in members})
    rets = closes.pct_change(fill_method=None).mean(axis=1, skipna=True).fillna(0.0)
    return 100 * (1 + rets).cumprod()


def _score(px: pd.Series) -> pd.DataFrame:
    ret2 = px / px.shift(504) - 1
    vol = np.log(px).diff().rolling(63).std() * np.sqrt(252)
    c_runup = (ret2 * 50).clip(0, 100)
    c_vol = (vol.rank(pct=True) * 100)
    score = (0.6 * c_runup + 0.4 * c_vol).clip(0, 100)
    return pd.DataFrame({"score": score, "score_common": score, "coverage": 0.3,
                         "c_runup": c_runup, "c_vol": c_vol})


def _episodes(flag: pd.Series, min_days: int = 15) -> list[dict]:
    out, start = [], None
    idx = flag.index
    for i, f in enumerate(flag.to_numpy()):
        if f and start is None:
            start = i
        if (not f or i == len(flag) - 1) and start is not None:
            end = i if f else i - 1
            if end - start + 1 >= min_days:
                ongoing = bool(f and i == len(flag) - 1)
                out.append({"kind": "positive", "start": idx[start].date(),
                            "end": None if ongoing else idx[end].date(),
                            "peak": idx[start:end + 1][0].date(), "ongoing": ongoing,
                            "attrs": {"duration": end - start + 1}})
            start = None
    return out


def store_test_indicators(url: str) -> dict[str, object]:
    """Store stand-in results for every indicator the dashboard reads; return
    facts the tests compare against (e.g. the best-match date)."""
    uni = default_universe()
    facts: dict[str, object] = {}

    # composite: AI cohort since 2015, dot-com cohort 1995-2003
    ai_px = _basket(url, uni.baskets["ai_basket"])
    dc_px = _basket(url, uni.baskets["dotcom_basket"])
    ai = _score(ai_px)
    ai = ai[ai.index >= "2015-01-01"]
    dc = _score(dc_px)
    dc = dc[(dc.index >= "1995-01-01") & (dc.index <= "2003-12-31")]
    weights = {"runup": 0.6, "vol": 0.4, "lppls": 0.1}
    missing = {"lppls": "no lppls results for the cohort"}
    cparams = {"dotcom_peak_date": "2000-03-10"}
    _store(url, "composite", "ai", ai, params=cparams,
           meta={"weights": weights, "missing_components": missing})
    _store(url, "composite", "dotcom", dc, params=cparams,
           meta={"weights": weights, "missing_components": missing})
    facts["ai_score"] = float(ai["score"].dropna().iloc[-1])
    facts["dotcom_peak_score"] = float(dc["score"][:"2000-03-10"].dropna().iloc[-1])

    # analog: best match = dot-com-era Cisco date whose 2y return is closest to NVDA's today
    for key, (a, d) in {"nvda_csco": (_closes(url, "NVDA"), _closes(url, "CSCO")),
                        "ai_dotcom_basket": (ai_px, dc_px)}.items():
        a_ret = float(a.iloc[-1] / a.iloc[-505] - 1)
        d_ret = (d / d.shift(504) - 1)["1996-01-01":"2002-12-31"]
        best = pd.Timestamp((d_ret - a_ret).abs().idxmin())
        ai_path = (a / a.iloc[-505] * 100)[-756:]
        distance = (np.log(ai_path).diff().rolling(21).std()).rename("distance")
        frame = pd.DataFrame({"ai_path": ai_path, "distance": distance})
        fwd = {str(h): (float(d.iloc[d.index.get_loc(best) + h] / d.loc[best] - 1))
               for h in (126, 252, 504)}
        _store(url, "analog", key, frame, params={"anchor": "event", "ai_event": "chatgpt",
                                                  "dotcom_event": "netscape_ipo"},
               meta={"ai_anchor_date": "2022-11-30", "dotcom_anchor_date": "1995-08-09",
                     "best_match": {"dotcom_date": best.date().isoformat(), "distance": 0.123,
                                    "forward_returns": fwd}})
        facts[f"best_{key}"] = best.date()
        facts[f"fwd_{key}"] = fwd

    # psy: log price, a rolling z-score standing in for BSADF, constant critical values
    for sym, start, end in (("NVDA", "2015-01-01", None), ("CSCO", "1995-01-01", "2003-12-31")):
        lp = np.log(_closes(url, sym))[start:end]
        z = (lp - lp.rolling(250).mean()) / lp.rolling(250).std()
        frame = pd.DataFrame({"series": lp, "bsadf": z, "cv90": 1.2, "cv95": 1.5, "cv99": 2.1})
        frame = frame.dropna(subset=["bsadf"])
        eps = _episodes(frame["bsadf"] > frame["cv95"])
        _store(url, "psy", sym, frame, events=eps,
               meta={"gsadf": float(z.max()), "gsadf_cv": {"90": 1.2, "95": 1.5, "99": 2.1}})
        facts[f"psy_episodes_{sym}"] = len(eps)

    # lppls: confidence from the 1-year return, tc from the confidence
    px = _closes(url, "NVDA")["2021-01-01":]
    r1 = px / px.shift(252) - 1
    pos = ((r1 - 0.5) / 2).clip(0, 1)
    neg = (-r1).clip(0, 1)
    tc = ((1 - pos) * 250 + 5).where(pos > 0)
    _store(url, "lppls", "NVDA", pd.DataFrame(
        {"pos_conf": pos, "neg_conf": neg, "pos_tc_median_days": tc,
         "pos_tc_q10_days": tc * 0.6, "pos_tc_q90_days": tc * 1.5}).dropna(subset=["pos_conf"]))
    facts["lppls_tc_dates"] = int(tc.notna().sum())

    # capex / revenue gap / earnings quality from the real NVDA and GOOGL filings
    from ingest.quarterly import quarterly_series

    fact_frames: dict[str, pd.DataFrame] = {}

    def quarterly(sym: str, metric: str) -> pd.Series:
        if sym not in fact_frames:
            with session_scope(url) as s:
                fact_frames[sym] = repo.facts_frame(s, symbol=sym)
        q = quarterly_series(fact_frames[sym], metric)
        return pd.Series(q["value"].to_numpy(), index=pd.to_datetime(q["period_end"]))

    g = quarterly("GOOGL", "capex") / 1e6  # USD m, like the real indicator
    g_frame = pd.DataFrame({"capex_q": g, "capex_ttm": g.rolling(4).sum(),
                            "capex_ttm_yoy": g.rolling(4).sum().pct_change(4)})
    _store(url, "capex", "GOOGL", g_frame, meta={"unit": "USD m"})
    _store(url, "capex", "hyperscalers", g_frame,
           meta={"unit": "USD m", "note": "total covers GOOGL only (test data)"})
    facts["googl_capex_ttm_bn"] = float(g_frame["capex_ttm"].dropna().iloc[-1] / 1e3)
    with session_scope(url) as s:
        ref = repo.reference_frame(s)
    tel = ref[(ref["entity"] == "telecom_us_carriers") & (ref["metric"] == "equipment_spending")]
    if not tel.empty:
        _store(url, "capex", "telecom", pd.DataFrame(
            {"us_equipment_spending": tel["value"].to_numpy(dtype=float)},
            index=pd.DatetimeIndex(pd.to_datetime(tel["period_end"]))),
            meta={"unit": "USD m", "figures": tel[["key", "value", "label", "source"]]
                  .to_dict("records")})
        facts["telecom_peak_bn"] = float(tel["value"].max() / 1e3)

    rev = quarterly("NVDA", "revenue") / 1e6
    _store(url, "revenue_gap", "NVDA", pd.DataFrame(
        {"dc_run_rate": rev * 4 * 0.8, "required_revenue": rev * 4 * 0.8 * 2 * 2,
         "ai_revenue_reported": rev * 0.1}),
        meta={"unit": "USD m"}, params={"run_rate_quarters": 4, "tco_multiplier": 2.0})
    f = fact_frames["NVDA"]
    f = f[f["concept"].isin(["AccountsReceivableNetCurrent", "InventoryNet"])]
    stock = (f.sort_values("filed").drop_duplicates(["concept", "period_end"], keep="last")
             .pivot_table(index="period_end", columns="concept", values="value"))
    stock.index = pd.to_datetime(stock.index)
    eq = pd.DataFrame({
        "dso": stock["AccountsReceivableNetCurrent"].reindex(rev.index) / 1e6 / rev * 91,
        "inventory_days": stock["InventoryNet"].reindex(rev.index) / 1e6 / rev * 91,
    })
    eq["dso_yoy"] = eq["dso"].diff(4)
    _store(url, "earnings_quality", "NVDA", eq)

    # valuation: a price-only stand-in for P/E and P/S
    px = _closes(url, "NVDA")["2019-01-01":]
    pe = px / px.rolling(500, min_periods=60).mean() * 30
    _store(url, "valuation", "NVDA", pd.DataFrame(
        {"pe_ttm": pe, "ps_ttm": pe / 2, "pe_pctile": pe.expanding().rank(pct=True),
         "ps_pctile": (pe / 2).expanding().rank(pct=True), "pe_eps_m25": pe / 0.75,
         "pe_eps_m50": pe / 0.5, "pe_eps_m75": pe / 0.25}),
        meta={"csco_peak_pe": 190.0, "csco_peak_ps": 30.0})

    # runup, regime: for the export page
    px = _closes(url, "NVDA")
    _store(url, "runup", "NVDA", pd.DataFrame({"ret_2y": px / px.shift(504) - 1})["2010":])

    with record_run(url, "compute") as rec:
        rec.ok("test indicators", rows=1)
    _store_alerts(url)
    return facts


def _store_alerts(url: str) -> None:
    """One active alert, one resolved one, and deliveries (one failed with an
    error text that leaks a webhook URL, which the dashboard must mask)."""
    try:
        from db.alerts_models import AlertDelivery, AlertEvent, AlertState
    except ImportError:  # alerts not built yet: the pages show their empty state
        return
    now = datetime.now(UTC)
    with session_scope(url) as s:
        e1 = AlertEvent(dedupe_key="t1", rule_id="nvda_psy_start", key="NVDA", indicator="psy",
                        field="bsadf", rule_type="episode_start", severity="warning",
                        as_of=date(2026, 8, 21), value=2.4, threshold=1.5, value_text="2.4",
                        threshold_text="1.5", condition="ongoing", previous="none",
                        title="NVDA: explosive episode started",
                        explanation="BSADF 2.4 crossed its 95 % critical value 1.5.",
                        link="http://127.0.0.1:8501/explosiveness?symbol=NVDA")
        e2 = AlertEvent(dedupe_key="t2", rule_id="composite_high", key="ai", indicator="composite",
                        field="score", rule_type="above", severity="critical",
                        as_of=date(2026, 7, 1), value=81.0, threshold=80.0, value_text="81",
                        threshold_text="80", condition="on", previous="off",
                        title="ai: composite.score 81 ≥ 80",
                        explanation="composite score for ai was 81, at or above 80.", link="")
        s.add_all([e1, e2])
        s.flush()
        s.add_all([
            AlertState(rule_id="nvda_psy_start", key="NVDA", rule_hash="x", condition="ongoing",
                       as_of=date(2026, 8, 21), value=2.4),
            AlertState(rule_id="composite_high", key="ai", rule_hash="x", condition="off",
                       as_of=date(2026, 8, 21), value=70.0),
            AlertDelivery(delivery_key="d1", event_id=e1.id, subscriber="analyst",
                          channel="email", target="analyst@example.org", status="sent",
                          attempts=1, next_attempt_at=now, sent_at=now),
            AlertDelivery(delivery_key="d2", event_id=e1.id, subscriber="desk", channel="slack",
                          target="DESK_SLACK_WEBHOOK", status="failed", attempts=5,
                          next_attempt_at=now + timedelta(hours=1),
                          last_error=f"HTTP 404 from {PLANTED_WEBHOOK}"),
        ])
