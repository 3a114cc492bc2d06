"""Export: any stored indicator series (or prices, or the reference table)
for a symbol and date range, as CSV, Parquet, Excel or JSON, with its
parameters and as-of date."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from dashboard import data, ui
from dashboard.downloads import FORMATS, to_bytes

ctx = ui.context()
url = ctx.url

st.title("Export")
st.caption("Every series the dashboard shows, as a file, with the parameters and as-of date "
           "it was computed with (Excel: *about* sheet; Parquet: file metadata; CSV: header "
           "comment lines). The same exports are available from `bubblewatch export`.")

cat = data.catalog(url)
PRICES, REFERENCE = "prices", "reference figures"
datasets = sorted(cat["indicator"].unique().tolist()) + [PRICES, REFERENCE]
if cat.empty:
    ui.empty_state("indicator results", ui.CMD_COMPUTE,
                   "Prices and reference figures can still be exported below.")

c1, c2 = st.columns(2)
with c1:
    dataset = ui.select("Indicator / dataset", datasets, key="dataset",
                        default=datasets[0] if not cat.empty else PRICES)
if dataset == REFERENCE:
    key = None
elif dataset == PRICES:
    cov = data.coverage(url)
    with c2:
        if cov.empty:
            ui.empty_state("prices", ui.CMD_INGEST)
            st.stop()
        key = ui.select("Symbol", cov["symbol"].tolist(), key="key", default="NVDA")
else:
    with c2:
        key = ui.select("Symbol / key", data.keys_of(url, dataset), key="key", default="NVDA")

info = data.run_info(url, dataset, key) if key and dataset not in (PRICES, REFERENCE) else None
if dataset == REFERENCE:
    frame = data.reference(url)
    if frame.empty:
        ui.empty_state("reference figures", ui.CMD_INIT)
        st.stop()
    about: dict = {"dataset": "reference figures"}
    lo = hi = None
else:
    full = data.prices(url, key) if dataset == PRICES else data.indicator(url, dataset, key)
    if full.empty:
        ui.empty_state(f"{dataset} data for {key}",
                       ui.CMD_INGEST if dataset == PRICES else f"{ui.CMD_COMPUTE} {dataset}")
        st.stop()
    first, last = full.index.min().date(), full.index.max().date()
    c3, c4 = st.columns([2, 2])
    with c3:
        rng = st.date_input("Date range", value=(max(first, date(last.year - 5, 1, 1)), last),
                            min_value=first, max_value=last, key="w_range")
    lo, hi = (rng if isinstance(rng, tuple) and len(rng) == 2 else (first, last))
    with c4:
        fields = st.multiselect("Fields (all if empty)", list(full.columns), key="w_fields")
    frame = full.loc[pd.Timestamp(lo):pd.Timestamp(hi), fields or list(full.columns)]
    about = ({"dataset": "prices", "symbol": key, "unit": "USD per share (split-adjusted)"}
             if dataset == PRICES else ui.about_run(info))
    about.update({"start": str(lo), "end": str(hi)})

fmt = ui.select("Format", list(FORMATS), key="format", default="csv", horizontal=True,
                format_func=lambda f: {"csv": "CSV", "parquet": "Parquet", "xlsx": "Excel",
                                       "json": "JSON"}[f])
name = "-".join(str(p) for p in (dataset, key, lo, hi) if p)
d = to_bytes(frame, fmt, name=name, about=about)
st.download_button(f"Download {len(frame):,} rows as {fmt.upper()}", d.data, file_name=d.file_name,
                   mime=d.mime, key="export_download", type="primary",
                   icon=":material/download:", on_click="ignore")
st.caption(f"`{d.file_name}` · {len(d.data) / 1024:,.1f} KiB · {len(frame):,} rows × "
           f"{frame.shape[1]} columns")
if info:
    ui.run_caption(info)
st.dataframe(frame.tail(200), key="export_preview")
