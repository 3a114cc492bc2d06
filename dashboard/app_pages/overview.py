"""Overview: the composite score today against the dot-com peak, its
components, top movers, active alerts and data freshness."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import streamlit as st

from dashboard import charts as ch
from dashboard import chrome, data, ui
from dashboard import transforms as tf
from indicators.composite import provenance_table

ctx = ui.context()
url = ctx.url
inv = data.inventory(url)

st.title("Where does the AI cycle stand against the dot-com peak?")

# --------------------------------------------------------------------------- composite score
READING_NAMES = {"headline": "like for like", "ai_only": "AI only", "stress": "stress",
                 "excluded": "not scored"}


def fmt_range(lo: float | None, hi: float | None) -> str:
    return f"{lo:.0f}-{hi:.0f}" if lo is not None and hi is not None else "–"


def mc_band(frame: pd.DataFrame) -> pd.DataFrame | None:
    """The stored 5-95% band of the headline as ``lo``/``hi`` (None if not stored)."""
    if not {"score_p05", "score_p95"} <= set(frame.columns):
        return None
    return frame[["score_p05", "score_p95"]].set_axis(["lo", "hi"], axis=1)


ai = data.indicator(url, "composite", "ai")
dc = data.indicator(url, "composite", "dotcom")
meta = data.run_meta(url, "composite", "ai")
latest = meta.latest if meta is not None else None
if ai.empty or "score" not in ai.columns or latest is None:
    ui.missing_indicator("composite", "ai")
else:
    info = data.run_info(url, "composite", "ai") or {}
    peak = meta.dotcom_peak_reading
    head = [ui.component_label(n) for n in meta.readings.get("headline", [])]
    ai_only = [ui.component_label(n) for n in meta.readings.get("ai_only", [])]
    peak_txt = f"{peak.score:.0f}" if peak is not None and peak.score is not None else "–"
    ai_txt = f"{latest.score:.0f}" if latest.score is not None else "–"
    st.markdown(f"## Like for like: AI **:orange[{ai_txt}]** vs dot-com peak "
                f"**:blue[{peak_txt}]**")
    st.caption(
        f"Bubble-risk score (0 = calm, 100 = the most bubble-like) on the components both "
        f"cohorts have: {', '.join(head) or 'none'}. AI cohort on "
        f"{ui.day(latest.date)}: **{latest.band}**, 5-95% of "
        f"{meta.uncertainty.draws} draws of weights and bounds "
        f"{fmt_range(latest.score_p05, latest.score_p95)}"
        + (f"; dot-com cohort at the Nasdaq peak ({ui.day(peak.date)}): **{peak.band}**, "
           f"{fmt_range(peak.score_p05, peak.score_p95)}" if peak is not None else "")
        + (f". In {100 * meta.uncertainty.share_ai_below_dotcom_peak:.0f}% of the draws the AI "
           "reading is below the dot-com peak's."
           if meta.uncertainty.share_ai_below_dotcom_peak is not None else "."))
    left, right = st.columns([2, 3])
    with left:
        fig = ch.score_gauge(latest.score if latest.score is not None else 0.0,
                             peak.score if peak is not None else None,
                             title="Like-for-like bubble-risk score",
                             as_of=f"{latest.date:%Y-%m-%d}")
        st.plotly_chart(fig, key="chart_gauge", config=ui.PLOTLY_CONFIG)
        m1, m2 = st.columns(2)
        m1.metric("AI today (like for like)", ai_txt,
                  delta=(f"{latest.score - peak.score:+.0f} vs peak"
                         if peak is not None and latest.score is not None
                         and peak.score is not None else None),
                  delta_color="inverse",
                  help=f"band {latest.band}; uncertainty 5-95% "
                       f"{fmt_range(latest.score_p05, latest.score_p95)}; coverage "
                       f"{100 * (latest.coverage or 0):.0f}% of the weight")
        m2.metric("Dot-com peak", peak_txt,
                  help=(f"dot-com cohort on {peak.date:%Y-%m-%d}; 5-95% "
                        f"{fmt_range(peak.score_p05, peak.score_p95)}") if peak else None)
        m3, m4 = st.columns(2)
        m3.metric("AI-only sub-score",
                  f"{latest.ai_only:.0f}" if latest.ai_only is not None else "–",
                  help="components without a dot-com counterpart, not in the headline: "
                       + (", ".join(ai_only) or "none") + "; 5-95% "
                       + fmt_range(latest.ai_only_p05, latest.ai_only_p95) + "; coverage "
                       + f"{100 * (latest.ai_only_coverage or 0):.0f}% of the weight")
        m4.metric("Stress", f"{latest.stress:.0f}" if latest.stress is not None else "–",
                  delta=(f"{latest.stress - peak.stress:+.0f} vs dot-com peak"
                         if peak is not None and peak.stress is not None
                         and latest.stress is not None else None),
                  delta_color="off",
                  help="drawdown, volatility and the high-variance state: high in busts as "
                       "well as manias, so never part of the bubble score; 5-95% "
                       + fmt_range(latest.stress_p05, latest.stress_p95))
        st.caption(f"AI-only sub-score {latest.ai_only or 0:.0f} "
                   f"({fmt_range(latest.ai_only_p05, latest.ai_only_p95)}) on "
                   f"{', '.join(ai_only) or 'no component'}; stress {latest.stress or 0:.0f} "
                   f"({fmt_range(latest.stress_p05, latest.stress_p95)}).")
    with right:
        prov = provenance_table(latest, peak)
        chart_rows = prov[prov["reading"] != "excluded"]
        table = pd.DataFrame({
            "component": [f"{ui.component_label(c)} · {READING_NAMES.get(r, r)}"
                          for c, r in zip(chart_rows["component"], chart_rows["reading"],
                                          strict=True)],
            "weight": chart_rows["weight"], "ai": chart_rows["ai_score"].astype(float),
            "dotcom_peak": chart_rows["dotcom_score"].astype(float),
            "ai_date": chart_rows["ai_as_of"], "dotcom_date": chart_rows["dotcom_as_of"]})
        if table.empty:
            st.info("The composite run stored no components.")
        else:
            ui.chart(ch.components_chart(table), prov, "composite-components", key="components",
                     about=ui.about_run(info))
    shown = tf.provenance_view(prov, ui.component_label, READING_NAMES)
    with st.expander("Components: coverage, as-of date and age", expanded=False):
        ui.table(shown, key="composite_provenance",
                 column_config={"Why not scored": st.column_config.TextColumn(width="large")})
    missing = {**meta.missing_components}
    if missing:
        st.caption("Not scored for the AI cohort: "
                   + "; ".join(ui.component_label(m)
                               + (f" ({ui.words('composite', why)})" if why else "")
                               for m, why in missing.items())
                   + f". Run `{ui.CMD_COMPUTE}` after loading the data they need.")
    stale = [ui.component_label(c.name) for c in latest.components if c.stale]
    if stale:
        st.warning("Stale inputs left out until they are refreshed: " + ", ".join(stale),
                   icon=":material/schedule:")
    ui.run_caption(info)
    extra = {"AI-only sub-score": ai.get("ai_only"), "AI stress": ai.get("stress"),
             "Dot-com stress": dc.get("stress")}
    hist = pd.DataFrame({"ai": ai["score"], "ai_p05": ai.get("score_p05"),
                         "ai_p95": ai.get("score_p95"), "ai_only": ai.get("ai_only"),
                         "ai_stress": ai.get("stress")})
    if "score" in dc.columns:
        hist = hist.join(pd.DataFrame({"dotcom": dc["score"], "dotcom_p05": dc.get("score_p05"),
                                       "dotcom_p95": dc.get("score_p95"),
                                       "dotcom_stress": dc.get("stress")}), how="outer")
    with st.expander("Score history", expanded=False):
        ui.chart(ch.score_history(ai["score"], dc["score"] if "score" in dc.columns else None,
                                  peak=pd.Timestamp(meta.compared_dates.get("dotcom")
                                                    or tf.DOTCOM_PEAK),
                                  ai_band=mc_band(ai), dotcom_band=mc_band(dc), extra=extra),
                 hist, "composite-score-history", key="score_history", about=ui.about_run(info))

st.divider()

# --------------------------------------------------------------------------- movers + alerts
col_movers, col_alerts = st.columns([3, 2])
with col_movers:
    st.subheader("Top movers")
    if inv["price_rows"] == 0:
        ui.empty_state("prices", ui.CMD_INGEST)
    else:
        last, _ = chrome.price_age(url)
        closes = data.closes(url, last - timedelta(days=50), tuple(ctx.universe.symbols))
        movers = tf.top_movers(closes)
        quiet = sorted(set(ctx.universe.symbols) - set(movers["symbol"]))
        if movers.empty:
            st.info("Not enough recent prices to compute moves.")
        else:
            window = ui.select("Window", ["1d", "1w", "1m"], key="movers", default="1w",
                               horizontal=True)
            cohorts = {i.symbol: ("ai" if "ai" in i.cohorts else
                                  "dotcom" if "dotcom" in i.cohorts else "index")
                       for i in ctx.universe.instruments}
            ui.chart(ch.movers_chart(movers.head(12), window, cohorts), movers, "top-movers",
                     key="movers", about={"as_of": str(movers["last_date"].max()),
                                          "unit": "percent change of close"})
        if quiet:
            st.caption(f"No prices in the 50 days to {last:%Y-%m-%d} for: {', '.join(quiet)} "
                       f"(refresh with `{ui.CMD_INGEST}`).")
with col_alerts:
    st.subheader("Active alerts")
    tables = data.alert_tables(url)
    if "alert_event" not in tables:
        ui.empty_state("alerts", ui.CMD_ALERTS_CHECK,
                       "The alert tables do not exist yet: run `bubblewatch db-upgrade` first.")
    else:
        active = tf.active_alerts(tables["alert_event"], tables.get("alert_state"))
        if active.empty:  # an all-clear only for alerts evaluated on current data
            chrome.alerts_all_clear(url)
            st.caption(f"Alerts are evaluated by `{ui.CMD_ALERTS_CHECK}` after each compute.")
        else:
            sev = {"critical": "red", "warning": "orange", "info": "blue"}
            for row in active.head(6).itertuples(index=False):
                colour = sev.get(str(row.severity), "gray")
                # titles and explanations carry rules-file text: shown as written
                st.markdown(f":{colour}-badge[{row.severity}] **{chrome.plain(row.title)}**")
                st.caption(chrome.plain(row.explanation))
            st.caption(f"{len(active)} active; history and deliveries on the Alerts page.")

st.divider()

# --------------------------------------------------------------------------- freshness
st.subheader("Data freshness")
chrome.freshness_panel(url)
c1, c2, c3, c4 = st.columns(4)
c1.metric("Symbols with prices", inv["price_symbols"])
c2.metric("Fundamental facts", f"{inv['fact_rows']:,}",
          help=f"{inv['fact_companies']} companies; last filed {inv['fact_last_filed']}")
c3.metric("Reference figures", inv["reference_figures"])
c4.metric("Indicator series", inv["indicator_runs"], help=f"{inv['indicators']} indicators")
if inv["reference_figures"] == 0:
    ui.empty_state("reference figures", ui.CMD_INIT)
