"""Scanner: every symbol ranked by how explosive it is now, with its run-up,
LPPLS confidence and valuation percentile; filter by cohort and universe;
each row links to the symbol's pages."""

from __future__ import annotations

import numpy as np
import streamlit as st

from dashboard import data, ui
from dashboard import scanner_view as sv

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
                        format_func=lambda k: ui.key_label(k, long=True),
                        help="symbols in any of these cohorts (all when empty)")
universe = ui.select("Universe", uni_opts, key="universe", help="current members of a "
                     "universe stored with `bubblewatch universe add`")
table = data.scan(url, tuple(chosen), None if universe == uni_opts[0] else universe)

m1, m2, m3 = st.columns(3)
m1.metric("Symbols", f"{len(table):,}")
m2.metric("Explosive now (BSADF > 95% critical value)", f"{int(np.nansum(table['explosive'])):,}")
m3.metric("Two-year run-up of 100% or more", f"{int(np.nansum(table['runup'])):,}")

names = sv.headers()
ui.table(
    sv.scan_view(table, lambda k: ui.key_label(k, long=True)), key="scan", names=names,
    links=tuple(sv.PAGE_LINKS), width="stretch", height=560,
    column_config={
        **{names[col]: st.column_config.TextColumn(help=ui.explain(ind, fld))
           for col, (ind, fld) in sv.READINGS.items()},
        names["psy_date"]: st.column_config.TextColumn(
            help="the latest week of the PSY reading (New York trading day)"),
        **{names[col]: st.column_config.LinkColumn(names[col], display_text=text)
           for col, (_, _, text) in sv.PAGE_LINKS.items()},
    },
)
ui.download(table, "scan", key="scan", label="Download the scan (CSV)",
            about={"ranked_by": "excess = BSADF - cv95, then ret_2y",
                   "cohorts": list(chosen), "universe": universe})
