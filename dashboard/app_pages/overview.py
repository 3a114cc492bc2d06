"""Overview: the composite score today against the dot-com peak, its
components, top movers, active alerts and data freshness."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import streamlit as st

from dashboard import charts as ch
from dashboard import chrome, data, ui
from dashboard import transforms as tf
from indicators.composite import score_band

ctx = ui.context()
url = ctx.url
inv = data.inventory(url)

st.title("Where does the AI cycle stand against the dot-com peak?")

# --------------------------------------------------------------------------- composite score
ai = data.indicator(url, "composite", "ai")
dc = data.indicator(url, "composite", "dotcom")
if ai.empty or "score" not in ai.columns:
    ui.missing_indicator("composite", "ai")
else:
    info = data.run_info(url, "composite", "ai") or {}
    meta = data.run_meta(url, "composite", "ai")
    peak_day = pd.Timestamp((info.get("params") or {}).get("dotcom_peak_date") or tf.DOTCOM_PEAK)
    ai_s = ai["score"].dropna()
    ai_date, ai_score = ai_s.index[-1], float(ai_s.iloc[-1])
    peak = tf.score_at(dc["score"], peak_day) if "score" in dc.columns else None
    dc_max = None
    if "score" in dc.columns and not dc["score"].dropna().empty:
        era = tf.wide_between(dc[["score"]], *tf.DOTCOM_ERA)["score"].dropna()
        if not era.empty:
            dc_max = (pd.Timestamp(era.idxmax()), float(era.max()))
    peak_txt = f"{peak[1]:.0f}" if peak else "–"
    st.markdown(
        f"## AI composite **:orange[{ai_score:.0f}]** vs dot-com peak **:blue[{peak_txt}]**"
    )
    st.caption(
        f"AI cohort score on {ai_date:%Y-%m-%d} ({score_band(ai_score)} risk), against the "
        f"dot-com cohort's score at the Nasdaq peak of {peak_day:%Y-%m-%d}"
        + (f" (read on {peak[0]:%Y-%m-%d})" if peak else " (not computed: run "
           f"`{ui.CMD_COMPUTE} composite`)") + ". 0 = calm, 100 = the most bubble-like reading.")
    left, right = st.columns([2, 3])
    with left:
        fig = ch.score_gauge(ai_score, peak[1] if peak else None, title="AI bubble-risk score",
                             as_of=f"{ai_date:%Y-%m-%d}")
        st.plotly_chart(fig, key="chart_gauge", config=ui.PLOTLY_CONFIG)
        m1, m2, m3 = st.columns(3)
        m1.metric("AI today", f"{ai_score:.0f}",
                  delta=(f"{ai_score - peak[1]:+.0f} vs peak" if peak else None),
                  delta_color="inverse")
        m2.metric("Dot-com peak", peak_txt,
                  help=f"dot-com cohort score on {peak[0]:%Y-%m-%d}" if peak else None)
        m3.metric("Dot-com max", f"{dc_max[1]:.0f}" if dc_max else "–",
                  help=f"highest dot-com reading, on {dc_max[0]:%Y-%m-%d}" if dc_max else None)
    with right:
        table = tf.component_table(ai, dc, meta.weights if meta else {}, peak_day)
        if table.empty:
            st.info("The composite run stored no components.")
        else:
            ui.chart(ch.components_chart(table), table, "composite-components", key="components",
                     about=ui.about_run(info))
    if "score_common" in ai.columns and "score_common" in dc.columns:
        common_ai = tf.score_at(ai["score_common"], ai_date)
        common_dc = tf.score_at(dc["score_common"], peak_day)
        if common_ai and common_dc:
            st.caption(f"Like for like (only the price-based components both cohorts have): "
                       f"AI {common_ai[1]:.0f} vs dot-com peak {common_dc[1]:.0f}.")
    missing = meta.missing_components if meta else {}
    if missing:
        items = missing.items()
        st.caption("Components without data, left out of the AI score (weights rescaled): "
                   + "; ".join(ui.component_label(m)
                               + (f" ({ui.words('composite', why)})" if why else "")
                               for m, why in items)
                   + f". Run `{ui.CMD_COMPUTE}` after loading the data they need.")
    ui.run_caption(info)
    hist = pd.DataFrame({"ai": ai["score"]})
    if "score" in dc.columns:
        hist = hist.join(dc["score"].rename("dotcom"), how="outer")
    with st.expander("Score history", expanded=False):
        ui.chart(ch.score_history(ai["score"], dc["score"] if "score" in dc.columns else None,
                                  peak=peak_day),
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
        if active.empty:
            st.success("No active alerts: no rule's condition holds right now.",
                       icon=":material/check_circle:")
            st.caption(f"Alerts are evaluated by `{ui.CMD_ALERTS_CHECK}` after each compute.")
        else:
            sev = {"critical": "red", "warning": "orange", "info": "blue"}
            for row in active.head(6).itertuples(index=False):
                colour = sev.get(str(row.severity), "gray")
                st.markdown(f":{colour}-badge[{row.severity}] **{row.title}**")
                st.caption(str(row.explanation))
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
