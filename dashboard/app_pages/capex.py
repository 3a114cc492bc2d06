"""Capex & revenue gap: hyperscaler capex by quarter and trailing four
quarters against dot-com telecom carrier capex, and Sequoia's revenue gap."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import charts as ch
from dashboard import data, ui
from dashboard import transforms as tf
from indicators.coverage import short_name

ctx = ui.context()
url = ctx.url
hyperscalers = list(ctx.universe.baskets.get("hyperscalers", ()))

#: Telecom series of the ``capex``/``telecom`` result shown as history (forecasts left out).
TELECOM_LABELS = {
    "us_equipment_spending": "US carriers, equipment",
    "na_wireline_capex": "North American wireline",
    "na_service_provider_capex": "North American service providers",
    "global_carrier_capex": "Global carriers",
    "equipment_spending_lehman": "Telecom equipment (Lehman)",
}

st.title("Capex & the revenue gap")
st.caption("Capex is the cash-flow line *purchases of property and equipment* from SEC "
           "filings, each company on its own fiscal calendar, summed by calendar quarter. "
           "Telecom carrier capex comes from the built-in reference table, for the years its "
           "cited sources give.")


def unit_of(key: str) -> str | None:
    meta = data.run_meta(url, "capex", key)
    return meta.unit if meta is not None else None


def telecom_history() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Telecom capex (USD bn, one column per series) and the figures' sources."""
    tmeta = data.run_meta(url, "capex", "telecom")
    tel = data.indicator(url, "capex", "telecom")
    cols = [c for c in TELECOM_LABELS if c in tel.columns]
    if cols:
        out = pd.DataFrame({TELECOM_LABELS[c]: tf.to_usd_bn(tel[c].dropna(), unit_of("telecom"))
                            for c in cols})
        figs = pd.DataFrame([f.model_dump() for f in (tmeta.figures if tmeta else [])])
        return out, figs
    ref = tf.reference_series(data.reference(url), entity="telecom",
                              metric=["capex", "equipment_spending"])
    ref = ref[~ref["metric"].astype(str).str.contains("forecast|growth|bubble")]
    if ref.empty:
        return pd.DataFrame(), pd.DataFrame()
    out = pd.DataFrame({f"{e} {m}": tf.to_usd_bn(g["value"].astype(float), g["unit"].iloc[0])
                        for (e, m), g in ref.groupby(["entity", "metric"])})
    return out, ref.reset_index()[["key", "value", "label", "source"]]


# --------------------------------------------------------------------------- capex
capex_keys = data.keys_of(url, "capex")
if "hyperscalers" not in capex_keys:
    ui.missing_indicator("capex", "hyperscalers")
else:
    info = data.run_info(url, "capex", "hyperscalers")
    meta = data.run_meta(url, "capex", "hyperscalers")
    unit = unit_of("hyperscalers")
    total = data.indicator(url, "capex", "hyperscalers")
    ttm = tf.to_usd_bn(total["capex_ttm"].dropna(), unit) if "capex_ttm" in total else None
    companies = [k for k in hyperscalers if k in capex_keys]
    quarterly = pd.DataFrame({
        k: tf.to_calendar_quarter(tf.to_usd_bn(w["capex_q"].dropna(), unit_of(k)))
        for k in companies if "capex_q" in (w := data.indicator(url, "capex", k)).columns
    }).sort_index()
    if quarterly.empty and "capex_q" in total.columns:
        quarterly = tf.to_usd_bn(total["capex_q"].dropna(), unit).to_frame("hyperscalers")

    last = total.ffill().iloc[-1] if not total.empty else pd.Series(dtype=float)
    coverage = meta.coverage_label if meta is not None else None
    partial = meta is not None and meta.coverage is not None and meta.coverage < 1.0
    c1, c2, c3, c4 = st.columns(4)
    if ttm is not None and not ttm.empty:
        c1.metric("Hyperscaler capex (TTM)", f"{ttm.iloc[-1]:,.0f} USD bn",
                  help=f"trailing four calendar quarters to {ttm.index[-1]:%Y-%m-%d}; "
                       f"covers {coverage or 'unknown members'}")
    n_yoy = int(last["n_members_yoy"]) if pd.notna(last.get("n_members_yoy")) else None
    for col, field, label in ((c2, "capex_ttm_yoy", "Growth y/y (TTM)"),
                              (c3, "capex_to_revenue", "Capex / revenue"),
                              (c4, "capex_to_ocf", "Capex / operating cash flow")):
        if field in last.index and pd.notna(last[field]):
            col.metric(label, f"{100 * last[field]:+.0f} %" if field.endswith("yoy")
                       else f"{100 * last[field]:.0f} %",
                       help=(f"over the {n_yoy} companies with trailing capex in both years"
                             if field.endswith("yoy") and n_yoy else
                             "trailing capex over the same companies' trailing figure"))
    if coverage:
        (st.warning if partial else st.caption)(
            f"**Coverage: {coverage}.** "
            + ("A partial total: every figure here covers these companies only, and growth "
               "compares the same companies in both years. "
               if partial else "Growth compares the same companies in both years. ")
            + (f"Load the others' companyfacts (`{ui.CMD_INGEST}`) to complete it."
               if partial else ""), **({"icon": ":material/percent:"} if partial else {}))
    ui.note("capex", meta.note if meta is not None else None)

    if quarterly.empty:
        ui.missing_indicator("capex", "hyperscalers")
    else:
        start = quarterly.index.max() - pd.DateOffset(years=8)
        q_recent = quarterly[quarterly.index >= start]
        ttm_recent = ttm[ttm.index >= start] if ttm is not None else None
        frame = (pd.concat([q_recent, ttm_recent.rename("hyperscalers_ttm")], axis=1, sort=True)
                 if ttm_recent is not None else q_recent)
        ui.chart(ch.capex_chart(q_recent, ttm_recent, coverage=coverage), frame,
                 "capex-hyperscalers", key="capex_q",
                 about={**ui.about_run(info), "unit": "USD bn", "coverage": coverage})
    ui.run_caption(info)

    st.subheader("Then and now: telecom carriers vs hyperscalers")
    telecom, figures = telecom_history()
    if telecom.empty:
        ui.empty_state("telecom capex figures", f"{ui.CMD_INIT} && {ui.CMD_COMPUTE} capex")
    elif ttm is None or ttm.empty:
        st.info("No hyperscaler trailing-four-quarter series to compare with.")
    else:
        ttm_name = "Hyperscalers, trailing 4 quarters" + (f" ({coverage})" if coverage else "")
        both = pd.concat([telecom, ttm.rename(ttm_name)], axis=1, sort=True)
        ref_total = meta.reference_total if meta is not None else None
        annual = None
        if ref_total is not None:
            when_total = pd.Timestamp(max(ref_total.fiscal_years.values()))
            annual = (when_total, ref_total.value / 1e3,
                      f"Latest fiscal years, {ref_total.label} (reference table)")
            both.loc[when_total, annual[2]] = annual[1]
        ui.chart(ch.capex_vs_telecom(ttm, telecom, coverage=coverage, annual_total=annual),
                 both, "capex-telecom-vs-hyperscalers", key="capex_vs_telecom",
                 about={"unit": "USD bn", "coverage": coverage})
        series, when = telecom.max().idxmax(), telecom.max(axis=1).idxmax()
        peak_tel = float(telecom[series].max())
        st.caption(f"Hyperscalers' trailing four quarters to {ttm.index[-1]:%Y-%m-%d}: "
                   f"{ttm.iloc[-1]:,.0f} USD bn ({coverage or 'coverage unknown'}), "
                   f"{ttm.iloc[-1] / peak_tel:.2f}× the largest telecom figure ({series}, "
                   f"{peak_tel:,.0f} USD bn in {when:%Y})"
                   + (": a partial total set against a sector total, not like with like."
                      if partial else "."))
        if ref_total is not None:
            years = ", ".join(f"{short_name(m)} {d:%Y-%m}"
                              for m, d in ref_total.fiscal_years.items())
            st.caption(f"Like with like, annual against annual: the latest fiscal years of "
                       f"{ref_total.label} in the reference table sum to "
                       f"**{ref_total.value / 1e3:,.0f} USD bn** (fiscal years ending {years}), "
                       f"{ref_total.value / 1e3 / peak_tel:.2f}× the largest telecom figure.")
        if meta is not None and meta.telecom_comparison:
            st.caption(meta.telecom_comparison)
        if not figures.empty:
            with st.expander("Sources of the telecom figures"):
                ui.table(figures[["label", "value", "source"]], key="telecom_sources",
                         names={"label": "Figure", "value": "Value", "source": "Source"},
                         column_config={"Source": st.column_config.TextColumn(width="large")})

st.divider()

# --------------------------------------------------------------------------- revenue gap
st.subheader("The revenue gap (Sequoia: AI's $600B question)")
st.caption("Nvidia data-centre revenue run-rate × 2 (the rest of the data-centre cost) × 2 "
           "(a 50 % gross margin for whoever sells AI) = the revenue AI must earn to pay for "
           "the build-out (Cahn, Sequoia 2024); against it the AI revenue actually reported.")
GAP_LABELS = ui.labels("revenue_gap", ["required_revenue", "ai_revenue_reported", "dc_run_rate",
                                        "gap_assumed"])
gap_keys = data.keys_of(url, "revenue_gap")
if not gap_keys:
    ui.missing_indicator("revenue_gap")
else:
    gkey = ui.select("Series", gap_keys, key="gap_key") if len(gap_keys) > 1 else gap_keys[0]
    ginfo = data.run_info(url, "revenue_gap", gkey)
    gap = data.indicator(url, "revenue_gap", gkey)
    cols = [c for c in GAP_LABELS if c in gap.columns]
    if not cols:
        ui.missing_indicator("revenue_gap", gkey)
    else:
        gmeta = data.run_meta(url, "revenue_gap", gkey)
        gunit = gmeta.unit if gmeta is not None else None
        label = gmeta.ai_revenue_label if gmeta is not None else None
        shown = pd.DataFrame({c: tf.to_usd_bn(gap[c].dropna(), gunit) for c in cols})
        last = shown.ffill().iloc[-1]
        st.caption(f"Latest quarter ({ui.day(gap.index.max())}), annualised, in USD bn a year:")
        items = list(last.items())
        if gmeta is not None and gmeta.gap_share is not None:
            items.append(("gap_share", gmeta.gap_share))
        for i in range(0, len(items), 2):  # two a row: the labels need the width
            for col, (name, v) in zip(st.columns(2), items[i:i + 2], strict=False):
                if name == "gap_share":
                    col.metric("Not covered by reported AI revenue", f"{100 * v:.1f} %",
                               help="(required - reported AI revenue) / required; read with "
                                    "the coverage")
                    continue
                col.metric(GAP_LABELS[name], f"{v:,.0f}",
                           help=ui.explain("revenue_gap", name)
                           + (f"; covers {label}" if name == "ai_revenue_reported" and label
                              else ""))
        if label:
            partial = (gmeta.ai_revenue_coverage or 0) < 1.0
            (st.warning if partial else st.caption)(
                f"**Reported AI revenue: {label}.** "
                + ("Members without a reported AI-revenue figure are not counted as zero but "
                   "left out, so the reported sum understates AI revenue and the gap is an "
                   "upper bound." if partial else ""),
                **({"icon": ":material/percent:"} if partial else {}))
        ui.chart(ch.series_chart(shown, title="Required vs reported AI revenue (annualised)",
                                 y_title="USD bn a year", unit="USD bn",
                                 labels={**GAP_LABELS, "ai_revenue_reported":
                                         f"Reported AI revenue ({label})" if label
                                         else "Reported AI revenue"},
                                 colors={"required_revenue": ch.AI_COLOR,
                                         "ai_revenue_reported": ch.DOTCOM_COLOR}),
                 gap, f"revenue-gap-{gkey}", key="revenue_gap", about=ui.about_run(ginfo))
        params = (ginfo or {}).get("params") or {}
        if params:
            st.caption("Assumptions: " + "; ".join(
                "{}: {}".format(*ui.param_text("revenue_gap", k, v)) for k, v in params.items()))
        inputs = gmeta.sequoia_inputs if gmeta is not None else None
        if inputs is not None:
            st.markdown(
                f"**Sequoia's inputs** — run-rate = Data Center quarter × "
                f"{inputs.run_rate_quarters:g}; × {inputs.tco_multiplier:g} for the rest of "
                f"the data-centre cost; × {inputs.margin_multiplier:g} for the end user's "
                "margin"
                + (f"; scenario AI revenue {inputs.assumed_ai_revenue / 1e3:,.0f} USD bn"
                   if inputs.assumed_ai_revenue is not None else "") + ".")
            if inputs.published:
                ui.table(pd.DataFrame([f.model_dump() for f in inputs.published])[
                    ["label", "value", "source"]], key="sequoia_inputs",
                    names={"label": "Published figure", "value": "Value",
                           "source": "Source"},
                    column_config={"Source": st.column_config.TextColumn(width="large")})
        ui.run_caption(ginfo)
