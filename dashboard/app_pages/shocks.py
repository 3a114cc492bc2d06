"""Policy & shocks: event studies of export controls, China's responses, the
DeepSeek shock and the dot-com profit warnings (abnormal returns with their
intervals, cohort tests, recovery times, whether reactions shrink), and the
China and data-centre revenue exposure behind them."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import data, ui
from dashboard import shocks_view as sv
from dashboard import transforms as tf

NAME = "shocks"
ctx = ui.context()
url = ctx.url

st.title("Policy & demand shocks")
st.caption("Market-model event studies (MacKinlay 1997): the abnormal return of each security, "
           "basket and cohort around dated news against the S&P 500, with a 95 % interval. "
           "Cohorts are tested across their members with the Boehmer-Musumeci-Poulsen t, "
           "corrected for same-day cross-correlation (Kolari-Pynnönen). Day 0 is the first "
           "session that could react.")

keys = data.keys_of(url, NAME)
if not keys:
    ui.missing_indicator(NAME)
    st.stop()
metas = {k: data.run_meta(url, NAME, k) for k in keys}
wides = {k: data.indicator(url, NAME, k) for k in keys}
ordered = sv.ordered_keys(metas)
shown = [k for k in ordered if not wides[k].empty]
if not shown:
    ui.missing_indicator(NAME)
    st.stop()
any_meta = metas[shown[0]]
assert any_meta is not None
windows = any_meta.windows
#: Event key -> "title (news date)": readers see events by title and date, never by key.
EVENTS = ui.event_labels()

# --------------------------------------------------------------------------- timeline
st.subheader("Event timeline")
c1, c2 = st.columns([2, 3])
with c1:
    subject = ui.select("Symbol, basket or cohort", shown, key="subject",
                        default="NVDA" if "NVDA" in shown else shown[0],
                        format_func=lambda k: ui.key_label(k, long=True))
with c2:
    window = ui.select("Window (sessions from day 0)", windows, key="window",
                       default="[0]", horizontal=True)
era = ui.select("Cycle", ["ai", "dotcom", "all"], key="era", horizontal=True,
                format_func=lambda e: {**sv.ERA_NAMES, "all": "All"}[e])
who = ui.key_label(subject)
meta = metas[subject]
assert meta is not None
info = data.run_info(url, NAME, subject)
rows = sv.event_rows(wides[subject], meta, window)
if era != "all" and not rows.empty:
    rows = rows[rows["era"] == era]
if rows.empty:
    which = {"ai": "AI-cycle ", "dotcom": "dot-com "}.get(era, "")
    st.info(f"No {which}event of {ui.key_label(subject, long=True)} has a stored reaction.")
else:
    latest = rows.iloc[-1]
    m1, m2, m3 = st.columns(3)
    m1.metric("Latest event", f"{latest['day0']:%Y-%m-%d}", help=latest["title"])
    m2.metric(f"CAR {window}", f"{100 * latest['car']:+.1f} %",
              help=f"95 % interval {100 * latest['ci_lo']:+.1f} to {100 * latest['ci_hi']:+.1f} %; "
                   f"{latest['stat']} = {latest['stat_value']:.2f}")
    if pd.notna(latest.get("recovery_days")):
        done = latest["recovered"] == 1
        n = int(latest["recovery_days"])
        m3.metric("Recovery" if done else "Not recovered after",
                  f"{n} session{'' if n == 1 else 's'}",
                  help="sessions until the price closed back at the close before day 0")
    ui.chart(sv.timeline_chart(rows, who, window), rows, f"shocks-{subject}-timeline",
             key="shocks_timeline", about=ui.about_run(info))
members = sv.cohort_members(meta)
if members:
    st.caption(f"Members: {members}.")
ui.run_caption(info)

# --------------------------------------------------------------------------- one event
st.subheader("One event across symbols, baskets and cohorts")
events = {e.key: e for e in sv.primary_events(meta)} or {
    e.key: e for m in metas.values() if m is not None for e in sv.primary_events(m)}
options = sorted(events, key=lambda k: (events[k].day0, k))
event = ui.select("Event", options, key="event",
                  default="deepseek_shock" if "deepseek_shock" in options else options[-1],
                  format_func=lambda k: f"{events[k].day0:%Y-%m-%d} · {events[k].title}")
chosen = events[event]
cross = sv.cross_section(wides, metas, event, window)
title = f"{chosen.title} ({chosen.day0:%Y-%m-%d}): CAR {window}"
ui.chart(sv.cross_chart(cross, title, ui.key_label), cross, f"shocks-{event}-{window}",
         key="shocks_event", about={"event": event, "window": window})
notes = [n for n in chosen.notes if "excluded" not in n]
if chosen.shifted or notes:
    st.caption(" · ".join(tf.keys_in_words(pd.Series(notes, dtype=object), EVENTS)))
if chosen.overlapping:
    st.caption(f"Windows overlap with {'; '.join(EVENTS.get(k, k) for k in chosen.overlapping)}: "
               "their CARs share sessions and cannot be read separately.")
ui.table(sv.cross_display(cross, ui.key_label), key="car_table")
table = sv.car_table(wides, metas, event, windows)
ui.download(table, f"shocks-{event}-cars", key="car_table", about={"event": event},
            label="Download CAR table, every window (CSV)")

# --------------------------------------------------------------------------- recovery
st.subheader("Recovery times")
rec_key = sv.cohort_basket(subject) or subject
rec_meta = metas.get(rec_key)
if rec_meta is None or wides.get(rec_key, pd.DataFrame()).empty:
    ui.missing_indicator(NAME, rec_key)
else:
    rec = sv.event_rows(wides[rec_key], rec_meta, window)
    if era != "all" and not rec.empty:
        rec = rec[rec["era"] == era]
    rec = rec.dropna(subset=["recovery_days"]) if not rec.empty else rec
    if rec.empty:
        st.info(f"No recovery time stored for {ui.key_label(rec_key, long=True)}.")
    else:
        cols = ["day0", "event", "title", "category", "recovery_days", "recovered",
                "recovery_median_before", "recovery_vs_history"]
        ui.chart(sv.recovery_chart(rec, ui.key_label(rec_key)), rec[cols],
                 f"shocks-{rec_key}-recovery",
                 key="shocks_recovery", about=ui.about_run(data.run_info(url, NAME, rec_key)))
        st.caption(f"{ui.label(NAME, 'recovery_vs_history')} above 1: slower than the median "
                   "of the earlier recoveries of "
                   f"{ui.key_label(rec_key, long=True)} (events whose price dipped and came "
                   "back).")

# --------------------------------------------------------------------------- shrugging off
st.subheader("Shrugging off repeated shocks")
st.caption("Per category and cycle (at least three events): the slope of |CAR| and of the "
           "recovery time on the order of the events. Negative and significant: the market "
           "reacts less each time. A handful of events makes an anecdote, not evidence.")
shrug = sv.shrug_table(metas, [k for k in ("ai", "dotcom", subject) if k in metas])
if shrug.empty:
    st.info("No category has three or more studied events for these keys.")
else:
    ui.table(sv.shrug_view(shrug.drop_duplicates(subset=["subject", "category", "era",
                                                          "measure"]), ui.key_label, EVENTS),
             key="shrug_table")
    ui.download(shrug, "shocks-shrug-off", key="shrug_table",
                label="Download shrug-off readings (CSV)")

# --------------------------------------------------------------------------- exposure
st.subheader("Exposure: China and data-centre revenue")
exposure = sv.exposure_frame(metas)
charges = sv.charges_frame(metas)
if exposure.empty:
    ui.empty_state("revenue-exposure figures", f"{ui.CMD_INIT} && {ui.CMD_COMPUTE} {NAME}")
else:
    ui.chart(sv.exposure_chart(exposure), exposure, "shocks-exposure", key="shocks_exposure",
             about={"source": "ingest/reference_data/figures.csv"})
    for key, m in metas.items():
        if m is not None and m.exposure:
            st.caption(f"**{ui.key_label(key, long=True)}**: " + " · ".join(m.exposure_coverage))
if not charges.empty:
    st.markdown("**Charges and sales at risk** (dated, with the event they followed)")
    cols = ["symbol", "period_start", "period_end", "what", "value", "unit", "event", "label",
            "source_tag", "key"]
    ui.table(sv.charges_view(charges, ui.key_label, EVENTS), key="charges")
    ui.download(charges[cols], "shocks-charges", key="charges",
                label="Download charges (CSV)")

# --------------------------------------------------------------------------- notes
with st.expander(f"Events {who} could not be studied ({len(meta.skipped)})"):
    skipped = pd.DataFrame([s.model_dump() for s in meta.skipped],
                           columns=["event", "symbol", "reason"])
    ui.table(sv.skipped_view(skipped, ui.key_label, EVENTS), key="skipped")
