"""Valuation & vendor financing: trailing P/E and P/S with their percentiles,
days sales outstanding and inventory days, Nvidia now against Cisco then."""

from __future__ import annotations

import re

import pandas as pd
import streamlit as st

from dashboard import charts as ch
from dashboard import data, ui
from dashboard import transforms as tf

ctx = ui.context()
url = ctx.url
ref = data.reference(url)

st.title("Valuation & vendor financing")


def cisco_ref(pattern: str) -> pd.DataFrame:
    """Cisco reference rows whose metric matches ``pattern`` (a regex)."""
    rows = tf.reference_series(ref, entity="CSCO", contains=False)
    if rows.empty:
        return rows
    return rows[rows["metric"].astype(str).str.fullmatch(pattern, flags=re.IGNORECASE)]


# --------------------------------------------------------------------------- valuation
VALUATION_LABELS = ui.labels("valuation")
EQ_LABELS = ui.labels("earnings_quality")
st.subheader("Trailing valuation (point in time)")
st.caption("P/E and P/S per day from the close and the trailing-four-quarter earnings and "
           "revenue known on that day (only filings already filed), against Cisco in 2000.")
picked = ui.pick_series(url, "valuation", "Company (valuation)", key="symbol")
if picked is not None:
    symbol, info, val = picked
    if val.empty:
        ui.missing_indicator("valuation", symbol)
    else:
        ratios = [c for c in ("pe_ttm", "ps_ttm") if c in val.columns]
        last = val.ffill().iloc[-1]
        cols = st.columns(4)
        for col, f in zip(cols, ("pe_ttm", "ps_ttm", "pe_pctile", "ps_pctile"), strict=False):
            if f in val.columns:
                pct = f.endswith("pctile")
                v = float(last[f])
                if pct and v <= 1.0:
                    v *= 100.0
                col.metric(VALUATION_LABELS[f], f"{v:.0f}" + (" %" if pct else "×"),
                           help=ui.explain("valuation", f))
        vmeta = data.run_meta(url, "valuation", symbol)
        peak_pe = vmeta.csco_peak_pe if vmeta is not None else None
        peak_ps = vmeta.csco_peak_ps if vmeta is not None else None
        if peak_pe is None:
            hit = cisco_ref(r"pe_peak")
            peak_pe = float(hit["value"].iloc[0]) if not hit.empty else None
        if peak_ps is None:
            hit = cisco_ref(r"ps_peak")
            peak_ps = float(hit["value"].iloc[0]) if not hit.empty else None
        hl = {}
        if peak_pe is not None:
            hl[f"Cisco P/E at 2000 peak ({peak_pe:.0f}×)"] = float(peak_pe)
        if peak_ps is not None:
            hl[f"Cisco P/S at 2000 peak ({peak_ps:.0f}×)"] = float(peak_ps)
        if ratios:
            ui.chart(ch.series_chart(val[ratios], title=f"{symbol}: trailing P/E and P/S",
                                     y_title="Multiple (×, log scale)", unit="×",
                                     labels=VALUATION_LABELS,
                                     colors={"pe_ttm": ch.AI_COLOR, "ps_ttm": "#F3A712"},
                                     hlines=hl, log_y=True),
                     val[ratios], f"valuation-{symbol}", key="valuation",
                     about=ui.about_run(info))
        pcts = [c for c in ("pe_pctile", "ps_pctile") if c in val.columns]
        if pcts:
            scale = 100.0 if val[pcts].max().max() <= 1.0 else 1.0
            ui.chart(ch.series_chart(val[pcts] * scale,
                                     title=f"{symbol}: percentile against its own history",
                                     y_title="Percentile (0-100)", unit="pctile",
                                     labels=VALUATION_LABELS, y_range=(0, 100),
                                     colors={"pe_pctile": ch.AI_COLOR,
                                             "ps_pctile": "#F3A712"}),
                     val[pcts], f"valuation-pctile-{symbol}", key="valuation_pctile",
                     about=ui.about_run(info))
        sens = [c for c in ("pe_eps_m25", "pe_eps_m50", "pe_eps_m75") if c in val.columns]
        if sens:
            st.markdown(f"**Earnings sensitivity** — {symbol}'s P/E on "
                        f"{val.index[-1]:%Y-%m-%d} if trailing earnings fell by:")
            scols = st.columns(len(sens) + 1)
            scols[0].metric("0 % (today)", f"{last['pe_ttm']:.0f}×" if "pe_ttm" in last else "–")
            for col, c in zip(scols[1:], sens, strict=True):
                col.metric(f"{c[-2:]} %", f"{last[c]:.0f}×",
                           help="Cisco's earnings went from +2.7bn (FY2000) to −1.0bn (FY2001)")
        ui.run_caption(info)
        ui.note("valuation", vmeta.note if vmeta is not None else None)

st.divider()

# --------------------------------------------------------------------------- vendor financing
st.subheader("Vendor financing & quality of earnings")
st.caption("Days sales outstanding (receivables / revenue × days) and inventory days "
           "(inventory / cost of revenue × days): rising DSO while revenue booms is how Cisco "
           "and Lucent's customer financing showed up in 1999-2001.")
picked_eq = ui.pick_series(url, "earnings_quality", "Company (financing)", key="eq_symbol")
if picked_eq is not None:
    eq_symbol, einfo, eq = picked_eq
    days = [c for c in ("dso", "inventory_days") if c in eq.columns]
    if not days:
        ui.missing_indicator("earnings_quality", eq_symbol)
    else:
        cisco_days = cisco_ref(r"(dso|inventory_days)")
        hl = {f"Cisco {EQ_LABELS.get(str(r.metric), str(r.label)).lower()} "
              f"{r.Index:%Y}": float(r.value) for r in cisco_days.itertuples()}
        emeta = data.run_meta(url, "earnings_quality", eq_symbol)
        enote = emeta.dotcom_note if emeta is not None else None
        ui.chart(ch.series_chart(eq[days], title=f"{eq_symbol}: DSO and inventory days",
                                 y_title="Days", unit="days",
                                 labels=EQ_LABELS,
                                 colors={"dso": ch.AI_COLOR, "inventory_days": "#F3A712"},
                                 hlines=dict(list(hl.items())[:4])),
                 eq, f"earnings-quality-{eq_symbol}", key="earnings_quality",
                 about=ui.about_run(einfo))
        growth = [c for c in ("dso_yoy", "recv_minus_rev_growth") if c in eq.columns]
        if growth:
            st.caption("Latest: " + "; ".join(
                f"{EQ_LABELS[c].lower()} {ui.fmt_field('earnings_quality', c, v)}"
                f" (quarter to {ui.day(s.index[-1])})"
                for c in growth if not (s := eq[c].dropna()).empty
                for v in [float(s.iloc[-1])]))
        ui.run_caption(einfo)
        ui.note("earnings_quality", str(enote) if enote else None)

REFERENCE_HEADERS = {"entity": "Who", "label": "Figure", "value": "Value", "unit": "Unit",
                     "period_end": "Period end", "source": "Source"}
VF_PATTERN = "financ|receivable|dso|inventory|commitment|investment|order|contract|write"
ref_vf = tf.reference_series(ref)
if ref_vf.empty:
    ui.empty_state("reference figures", ui.CMD_INIT)
else:
    ref_vf = ref_vf[ref_vf["metric"].astype(str).str.contains(VF_PATTERN, case=False)]
    eras = {"Dot-com (Cisco, Lucent, telecom vendors)": ["CSCO", "Lucent", "telecom_vendors",
                                                         "Nortel"],
            "AI now (Nvidia, CoreWeave, OpenAI)": ["NVDA", "CRWV", "OpenAI"]}
    for title, entities in eras.items():  # one above the other: the figures need the width
        rows = ref_vf[ref_vf["entity"].isin(entities)].reset_index()
        with st.container():
            st.markdown(f"**{title}**")
            if rows.empty:
                st.caption("No reference figures.")
                continue
            view = rows.assign(entity=rows["entity"].map(ui.entity_label),
                               source=tf.sources_in_words(rows).to_numpy())[
                ["entity", "label", "value", "unit", "period_end", "source"]]
            ui.table(view, key=f"vf_{entities[0]}", names=REFERENCE_HEADERS,
                     column_config={"Figure": st.column_config.TextColumn(width="large"),
                                    "Source": st.column_config.LinkColumn(width="small")})
            ui.download(rows, f"vendor-financing-{entities[0]}", key=f"vf_{entities[0]}",
                        label="Download (CSV)",
                        about={"title": f"Vendor financing reference figures: {title}",
                               "source": "bubblewatch built-in reference table, each row with "
                                         "its source"})
