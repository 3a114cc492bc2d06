"""Scanner: every symbol ranked by how explosive it is now, with its run-up,
LPPLS confidence and valuation percentile; filter by cohort and universe;
each row links to the symbol's pages."""

from __future__ import annotations

import numpy as np
import streamlit as st

from dashboard import data, ui

ctx = ui.context()
url = ctx.url

st.title("Scanner")
st.caption("Every symbol with stored readings, ranked by current explosiveness: the PSY "
           "BSADF statistic minus its 95% critical value on the latest week (above 0: "
           "explosive, Phillips, Shi & Yu 2015), then by the two-year run-up (Greenwood, "
           "Shleifer & You 2019). LPPLS confidence where computed; valuation percentile of the "
           "company's own history where SEC fundamentals exist. The same table: "
           "`bubblewatch scan --format csv`.")

everything = data.scan(url)
if everything.empty:
    ui.empty_state("scan readings", f"{ui.CMD_COMPUTE} psy runup",
                   "Add index members or a watchlist with `bubblewatch universe add FILE`.")
    st.stop()

cohort_opts = sorted({c for cs in everything["cohorts"] for c in cs.split(", ") if c})
unis = data.universes(url)
uni_opts = ["all symbols", *unis["name"].tolist()]
c1, c2 = st.columns(2)
chosen = c1.multiselect("Cohorts", cohort_opts, key="w_scan_cohorts",
                        help="symbols in any of these cohorts (all when empty)")
universe = ui.select("Universe", uni_opts, key="universe", help="current members of a "
                     "universe stored with `bubblewatch universe add`")
table = data.scan(url, tuple(chosen), None if universe == uni_opts[0] else universe)

m1, m2, m3 = st.columns(3)
m1.metric("Symbols", f"{len(table):,}")
m2.metric("Explosive now (BSADF > 95% critical value)", f"{int(np.nansum(table['explosive'])):,}")
m3.metric("Two-year run-up of 100% or more", f"{int(np.nansum(table['runup'])):,}")

show = table.copy()
for col in ("ret_2y", "ret_2y_net", "pos_conf", "neg_conf", "ps_pctile", "pe_pctile",
            "drawdown"):
    show[col] = 100 * show[col]
show["psy_page"] = "/explosiveness?symbol=" + show["symbol"].str.replace("^", "%5E", regex=False)
show["lppls_page"] = "/lppls?symbol=" + show["symbol"].str.replace("^", "%5E", regex=False)
show["valuation_page"] = "/valuation?symbol=" + show["symbol"].str.replace("^", "%5E",
                                                                             regex=False)
pct = st.column_config.NumberColumn
st.dataframe(
    show[["rank", "symbol", "name", "excess", "ret_2y", "ret_2y_net", "pos_conf", "ps_pctile",
          "pe_pctile", "drawdown", "cohorts", "universes", "psy_date", "psy_page",
          "lppls_page", "valuation_page"]],
    hide_index=True, width="stretch", height=560,
    column_config={
        "excess": pct("BSADF − cv95", format="%.2f",
                      help="BSADF minus its 95% critical value; above 0 explosive"),
        "ret_2y": pct("2-year return", format="%.0f%%"),
        "ret_2y_net": pct("net of market", format="%.0f%%"),
        "pos_conf": pct("LPPLS conf.", format="%.0f%%"),
        "ps_pctile": pct("P/S pctile", format="%.0f%%"),
        "pe_pctile": pct("P/E pctile", format="%.0f%%"),
        "drawdown": pct("drawdown", format="%.0f%%"),
        "psy_date": st.column_config.DateColumn("PSY as of"),
        "psy_page": st.column_config.LinkColumn("explosiveness", display_text="PSY ›"),
        "lppls_page": st.column_config.LinkColumn("LPPLS", display_text="LPPLS ›"),
        "valuation_page": st.column_config.LinkColumn("valuation", display_text="valuation ›"),
    },
)
ui.download(table, "scan", key="scan", label="Download the scan (CSV)",
            about={"ranked_by": "excess = BSADF - cv95, then ret_2y",
                   "cohorts": list(chosen), "universe": universe})
