"""Track record: what bubblewatch would have said on each date (replayed point
in time by ``bubblewatch backtest``) against what followed, with every alarm."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import data, ui
from dashboard import track_record_view as tv
from dashboard import transforms as tf
from indicators.track_record import ALERTS_NAME, NAME, REFERENCE_PEAKS, judge


def _components(names: list[str]) -> str:
    """Composite components by their names."""
    return ", ".join(ui.component_label(c) for c in names)


ctx = ui.context()
url = ctx.url
rules_file = ctx.settings.alerts.rules_file
rule_labels = data.rulebook(str(rules_file) if rules_file else None)["labels"]

st.title("Track record")
st.caption("What bubblewatch would have said on each date, replayed point in time: prices and "
           "filings as known then, the real-time PSY and CUSUM monitors, the regime model "
           "refitted on the data of its day. Below each reading: the largest fall that "
           "followed (hindsight). A date is **calm** when no 40% fall from a peak followed "
           "within two years (Greenwood, Shleifer & You 2019); a warning on a calm date is a "
           "false alarm.")

keys = tv.ordered_keys(data.keys_of(url, NAME))
if not keys:
    ui.empty_state("track record", "bubblewatch backtest",
                   "It replays the pipeline since 1995 and stores what it would have said.")
    st.stop()
key = ui.select("Cohort or symbol", keys, key="key", default="dotcom",
                format_func=lambda k: ui.key_label(k, long=True))
name = ui.key_label(key, long=True)
wide = data.indicator(url, NAME, key)
info = data.run_info(url, NAME, key)
meta = data.run_meta(url, NAME, key)
if wide.empty or "score" not in wide:
    ui.empty_state(f"track record for {name}", f"bubblewatch backtest --symbols {key}")
    st.stop()
events = data.episodes(url, NAME, key)
alerts = data.episodes(url, ALERTS_NAME, key)
warn_band = getattr(meta, "warn_band", "high")

peaks = [(key, d, "reference") for k, d in REFERENCE_PEAKS if k == key
         and wide["score"].dropna().index[0] <= pd.Timestamp(d) <= wide.index[-1]]
first_year, last_year = int(wide.index[0].year), int(wide.index[-1].year)
span = st.slider("False alarms counted over", first_year, last_year, (first_year, last_year),
                 key="w_years", help="the calm dates of these years (inclusive)")
leads, alarms = judge({key: wide}, peaks, (pd.Timestamp(f"{span[0]}-01-01").date(),
                                          pd.Timestamp(f"{span[1]}-12-31").date()))
all_peaks = sorted({(r.peak, r.origin) for r in leads.itertuples()})

head = alarms.set_index("procedure").reindex(["composite"]).iloc[0] if not alarms.empty \
    else None
m1, m2, m3, m4 = st.columns(4)
m1.metric("Readings", f"{len(wide):,}", help=f"{wide.index[0]:%Y-%m-%d} to "
          f"{wide.index[-1]:%Y-%m-%d}, {'weekly' if getattr(meta, 'freq', 'W') == 'W' else 'daily'}")
m2.metric("Peaks judged", f"{len(all_peaks)}",
          help="reference peaks and the 40% crashes found in the data")
if head is not None and pd.notna(head["false_alarm_share"]):
    m3.metric("Headline false alarms", f"{head['false_alarm_share']:.1%}",
              help=f"{int(head['false_alarms'])} of {int(head['calm_dates'])} calm dates flagged "
                   f"({span[0]}-{span[1]})")
m4.metric("Alerts that would have fired", f"{len(alerts)}",
          help="the current alert rules replayed on these readings")

frame = tv.chart_frame(wide)
fig = tv.track_chart(wide, key=key, name=name, peaks=all_peaks, alerts=alerts,
                     warn_band=warn_band)
ui.chart(fig, frame.reset_index(), f"track-record-{key}", key="track",
         about=ui.about_run(info))
ui.run_caption(info)
if meta is not None and meta.headline:
    baskets = {b: ui.key_label(b, long=True) for b in ctx.universe.baskets}
    series = tf.keys_in_words(pd.Series([meta.series], dtype=object), baskets).iloc[0]
    st.caption(f"Headline components: {_components(meta.headline)}; stress: "
               f"{_components(meta.stress)}"
               + (f"; AI-only: {_components(meta.ai_only)}" if meta.ai_only else "")
               + f". Series: {series}.")

st.subheader("First warning before each peak")
st.caption("The earliest flagged reading in the two years before the peak, and how long before "
           "it came. Found peaks are running highs followed by a 40% fall within two years.")
ui.table(tv.lead_view(leads), key="leads")
ui.download(leads, f"track-record-{key}-first-warnings", key="leads",
            about=ui.about_run(info), label="Download first warnings (CSV)")

st.subheader("False alarms")
ui.table(tv.alarm_view(alarms), key="alarms")
ui.download(alarms, f"track-record-{key}-false-alarms", key="alarms",
            about=ui.about_run(info), label="Download false alarms (CSV)")

st.subheader("Alerts that would have fired")
if alerts.empty:
    st.info(f"The current rules would have fired no alert on the readings of {name}.")
else:
    rows = tv.alert_rows(alerts)
    ui.table(tv.alert_view(rows, rule_labels), key="alerts")
    ui.download(rows, f"track-record-{key}-alerts", key="alerts",
                about=ui.about_run(data.run_info(url, ALERTS_NAME, key)),
                label="Download alerts (CSV)")

st.subheader("Episodes as the monitors reported them")
erows = tv.episode_rows(events)
if erows.empty:
    st.info(f"No monitor reported an episode on {name}.")
else:
    ui.table(tv.episode_view(erows), key="episodes")
    ui.download(erows, f"track-record-{key}-episodes", key="episodes",
                about=ui.about_run(info), label="Download episodes (CSV)")
