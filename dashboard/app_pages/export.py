"""Export: any stored indicator series (or prices, or the reference table)
for a symbol and date range, as CSV, Parquet, Excel or JSON, carrying the
same context as ``bubblewatch export``: parameters, as-of date, sampling,
coverage, units, labels and source."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from dashboard import data, ui
from dashboard import transforms as tf
from dashboard.downloads import FORMATS, to_bytes
from indicators import export

ctx = ui.context()
url = ctx.url

st.title("Export")
st.caption("Every series the dashboard shows, as a file with its context: parameters, as-of "
           "date, how often rows are dated, coverage, units, labels and source (CSV: comment "
           "lines starting with # at the top, which pandas skips with comment=\"#\"; JSON: "
           "*meta*; Parquet: file metadata; Excel: *about* sheet). Column names stay the "
           "machine names; the labels are in the metadata. The same files come from "
           "`bubblewatch export`.")

#: Price columns for people (prices are stored in USD per share, split-adjusted).
PRICE_COLUMNS = {
    "open": ("Open", "USD per share", "first trade of the day, split-adjusted"),
    "high": ("High", "USD per share", "highest trade of the day, split-adjusted"),
    "low": ("Low", "USD per share", "lowest trade of the day, split-adjusted"),
    "close": ("Close", "USD per share", "last trade of the day, split-adjusted"),
    "adj_close": ("Adjusted close", "USD per share", "close adjusted for splits and dividends"),
    "volume": ("Volume", "shares", "shares traded that day"),
    "source": ("Source", "text", "where the row was loaded from"),
}
#: Reference-table columns for people.
REFERENCE_COLUMNS = {
    "key": ("Figure key", "text", "stable name of the figure"),
    "entity": ("Who", "text", "company or group the figure is about"),
    "metric": ("Metric", "text", "what is measured"),
    "value": ("Value", "see unit", "the cited figure"),
    "unit": ("Unit", "text", "unit of the value"),
    "period_start": ("Period start", "date", "first day the figure covers"),
    "period_end": ("Period end", "date", "last day the figure covers"),
    "label": ("Figure", "text", "what the figure is, in words"),
    "source_tag": ("Source kind", "text", "how the figure was obtained"),
    "source": ("Source", "URL or citation", "where the figure comes from"),
}
#: Preferred first dataset: the most asked-for series.
PREFERRED = ("valuation", "composite", "psy", "runup")
PREVIEW_ROWS = 200

cat = data.catalog(url)
PRICES, REFERENCE = "prices", "reference figures"
indicators = sorted(cat["indicator"].unique().tolist())
datasets = indicators + [PRICES, REFERENCE]
if cat.empty:
    ui.empty_state("indicator results", ui.CMD_COMPUTE,
                   "Prices and reference figures can still be exported below.")


def dataset_label(name: str) -> str:
    if name == PRICES:
        return "Prices (daily, USD)"
    if name == REFERENCE:
        return "Reference figures (cited, dot-com and AI)"
    return ui.title(name)


c1, c2 = st.columns(2)
with c1:
    dataset = ui.select("Indicator or dataset", datasets, key="dataset",
                        default=next((d for d in PREFERRED if d in indicators), PRICES),
                        format_func=dataset_label)
key: str | None
if dataset == REFERENCE:
    key = None
elif dataset == PRICES:
    cov = data.coverage(url)
    with c2:
        if cov.empty:
            ui.empty_state("prices", ui.CMD_INGEST)
            st.stop()
        key = ui.select("Symbol", cov["symbol"].tolist(), key="key", default="NVDA",
                        format_func=lambda k: ui.key_label(k, long=True))
else:
    with c2:
        key = ui.select("Symbol or group", data.keys_of(url, dataset), key="key", default="NVDA",
                        format_func=lambda k: ui.key_label(k, long=True))

info = data.run_info(url, dataset, key) if key and dataset not in (PRICES, REFERENCE) else None
names: dict[str, str]
lo: date | None
hi: date | None
if dataset == REFERENCE:
    frame = data.reference(url)
    if frame.empty:
        ui.empty_state("reference figures", ui.CMD_INIT)
        st.stop()
    about: dict = {"title": "Reference figures", "columns": REFERENCE_COLUMNS,
                   "source": "bubblewatch built-in reference table "
                             "(ingest/reference_data/figures.csv), each row with its source"}
    names = {c: v[0] for c, v in REFERENCE_COLUMNS.items()}
    lo = hi = None
else:
    assert key is not None
    full = data.prices(url, key) if dataset == PRICES else data.indicator(url, dataset, key)
    if full.empty:
        if dataset == PRICES:
            ui.empty_state(f"prices for {key}", ui.CMD_INGEST)
        else:
            ui.missing_indicator(dataset, key)
        st.stop()
    first, last = full.index.min().date(), full.index.max().date()
    c3, c4 = st.columns([2, 2])
    with c3:
        rng = st.date_input("Dates (New York trading days)",
                            value=(max(first, date(last.year - 5, 1, 1)), last),
                            min_value=first, max_value=last, key="w_range")
    lo, hi = (rng if isinstance(rng, tuple) and len(rng) == 2 else (first, last))
    names = ({c: v[0] for c, v in PRICE_COLUMNS.items()} if dataset == PRICES
             else ui.labels(dataset, list(full.columns)))
    with c4:
        fields = st.multiselect("Fields (all if empty)", list(full.columns), key="w_fields",
                                format_func=lambda c: names.get(c, c))
    frame = full.loc[pd.Timestamp(lo):pd.Timestamp(hi), fields or list(full.columns)]
    if dataset == PRICES:
        about = {"title": f"Daily prices of {ui.key_label(key, long=True)}",
                 "columns": PRICE_COLUMNS, "symbol": key,
                 "source": "bubblewatch database: prices as loaded by `bubblewatch ingest`"}
    else:
        about = ui.about_run(info)
    about.update({"start": str(lo), "end": str(hi)})

fmt = ui.select("Format", list(FORMATS), key="format", default="csv", horizontal=True,
                format_func=lambda f: {"csv": "CSV", "parquet": "Parquet", "xlsx": "Excel",
                                       "json": "JSON"}[f])
name = "-".join(str(p) for p in (dataset, key, lo, hi) if p)
d = to_bytes(frame, fmt, name=name, about=about)
st.download_button(f"Download {len(frame):,} rows as {fmt.upper()}", d.data, file_name=d.file_name,
                   mime=d.mime, key="export_download", type="primary",
                   icon=":material/download:", on_click="ignore")
st.caption(f"File {d.file_name} · {len(d.data) / 1024:,.1f} KiB · {len(frame):,} rows × "
           f"{frame.shape[1]} columns")
if isinstance(frame.index, pd.DatetimeIndex) and len(frame):
    st.caption("Rows in the file: " + export.sampling_text(export.observed_sampling(frame.index))
               + ".")
if info:
    ui.run_caption(info)

if frame.empty:
    st.info(f"No rows between {ui.day(lo)} and {ui.day(hi)}: widen the dates.",
            icon=":material/info:")
else:
    preview = frame.head(PREVIEW_ROWS)
    if isinstance(preview.index, pd.DatetimeIndex):
        preview = preview.reset_index(names="date")
        names = {"date": "Date", **names}
    if dataset == REFERENCE:
        preview = preview[[c for c in ("entity", "label", "value", "unit", "period_end",
                                       "source") if c in preview.columns]]
        preview = preview.assign(entity=preview["entity"].map(ui.entity_label))
        if "source" in preview.columns:
            preview = preview.assign(source=tf.sources_in_words(frame).reindex(
                preview.index).to_numpy())
    st.markdown(f"**Preview:** the first {len(preview):,} of {len(frame):,} rows"
                + (f", from {ui.day(lo)}" if lo else "") + ".")
    ui.table(preview, key="export_preview", names=names)
