"""AI vs dot-com: NVDA vs CSCO (and the baskets) on aligned paths, the
best-matching Cisco date and what Cisco did next."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import charts as ch
from dashboard import data, ui
from dashboard import transforms as tf
from indicators import registry
from indicators.analog import paths_around, peak_position, runup_start_position
from indicators.runup import basket_index
from ingest.reference import reference_events

ctx = ui.context()
url = ctx.url
uni = ctx.universe

st.title("AI vs dot-com: is Nvidia the new Cisco?")

pairs = {p.name: p for p in uni.analog_pairs if p.kind in ("price", "basket")}
if not pairs:
    st.error("The universe defines no price or basket analog pairs; see `[universe]` in the "
             "settings file.")
    st.stop()


def pair_label(name: str) -> str:
    p = pairs[name]
    return uni.label(name) + (f" — {p.description}" if p.description else "")


pair_name = ui.select("Comparison", list(pairs), key="pair", format_func=pair_label)
pair = pairs[pair_name]


def leg(name: str) -> tuple[pd.Series, str]:
    """Price series of a symbol or an equal-weighted basket (the analog
    indicator's index, 100 on its first day), and its label."""
    if name in uni.baskets:
        closes = {m: data.close(url, m).dropna() for m in uni.baskets[name]}
        return 100.0 * basket_index(closes), uni.label(name)
    return data.close(url, name), uni.label(name)


def runup_start(series: pd.Series) -> pd.Timestamp | None:
    """Start of the latest two-year doubling, by the analog indicator's rule."""
    pos = runup_start_position(series.dropna())
    return None if pos is None else pd.Timestamp(series.dropna().index[pos])


ai, ai_label = leg(pair.ai)
dc, dc_label = leg(pair.dotcom)
if ai.empty or dc.empty:
    missing = [n for n, s in ((pair.ai, ai), (pair.dotcom, dc)) if s.empty]
    ui.empty_state(f"prices for {', '.join(missing)}", ui.CMD_INGEST)
    st.stop()

info = data.run_info(url, "analog", pair_name)
meta = data.run_meta(url, "analog", pair_name)
# the stored run's parameters (the defaults before a first compute)
params = registry.get("analog").parse_params((info or {}).get("params"))
best = meta.best_match if meta is not None else None
best_date = pd.Timestamp(best.dotcom_date) if best is not None else None

# --------------------------------------------------------------------------- anchors
def _ev_label(ev: pd.DataFrame, key: str) -> str:
    row = ev[ev["key"] == key].iloc[0]
    return f"{pd.Timestamp(row['date']):%Y-%m-%d} {row['title']}"


ANCHORS = {
    "best": "Best match: today ↔ the closest Cisco-path date",
    "peak": "Peaks: each path's highest close",
    "runup": "Run-up start: when the 2-year doubling began",
    "event": "Named events (ChatGPT ↔ Netscape IPO ...)",
}
anchor_opts = [a for a in ANCHORS if a != "best" or best_date is not None]
anchor = ui.select("Align the paths at", anchor_opts, key="anchor", format_func=ANCHORS.get,
                   default="best" if best_date is not None else "peak")

search = params.dotcom_search  # where the indicator looks for the dot-com peak and match
dc_peak = pd.Timestamp(dc.index[peak_position(dc, search)])
if anchor == "best":
    assert best_date is not None
    a_ai, a_dc, a_label = ai.index[-1], best_date, f"today ≈ {best_date:%Y-%m-%d}"
elif anchor == "peak":
    a_ai, a_dc = pd.Timestamp(ai.index[peak_position(ai)]), dc_peak
    a_label = f"peaks ({a_ai:%Y-%m-%d} / {a_dc:%Y-%m-%d})"
elif anchor == "runup":
    r_ai = runup_start(ai)
    r_dc = runup_start(dc[dc.index <= pd.Timestamp(search[1])])
    if r_ai is None or r_dc is None:
        st.info("No 2-year doubling found in one of the paths; showing the peaks instead.")
        a_ai, a_dc = pd.Timestamp(ai.index[peak_position(ai)]), dc_peak
    else:
        a_ai, a_dc = r_ai, r_dc
    a_label = f"run-up start ({a_ai:%Y-%m-%d} / {a_dc:%Y-%m-%d})"
else:
    events = data.reference_events(url)
    if events.empty:  # not initialised yet: the built-in events
        events = pd.DataFrame(reference_events())
    ai_ev, dc_ev = (events[events["era"] == era].sort_values("date").reset_index(drop=True)
                    for era in ("ai", "dotcom"))
    c1, c2 = st.columns(2)
    with c1:
        k_ai = ui.select("AI-era event", list(ai_ev["key"]), key="ai_event",
                         default=((info or {}).get("params", {}).get("ai_event")
                                  or "chatgpt"),
                         format_func=lambda k: _ev_label(ai_ev, k))
    with c2:
        k_dc = ui.select("Dot-com-era event", list(dc_ev["key"]), key="dc_event",
                         default=((info or {}).get("params", {}).get("dotcom_event")
                                  or "netscape_ipo"),
                         format_func=lambda k: _ev_label(dc_ev, k))
    a_ai = pd.Timestamp(ai_ev.loc[ai_ev["key"] == k_ai, "date"].iloc[0])
    a_dc = pd.Timestamp(dc_ev.loc[dc_ev["key"] == k_dc, "date"].iloc[0])
    a_label = (f"{ai_ev.loc[ai_ev['key'] == k_ai, 'title'].iloc[0]} ↔ "
               f"{dc_ev.loc[dc_ev['key'] == k_dc, 'title'].iloc[0]}")


years = st.slider("Years shown before and after the anchor", 1, 8, 3, key="w_years")
aligned = paths_around(ai, dc, a_ai, a_dc, before=years * tf.TRADING_DAYS_PER_YEAR,
                       after=years * tf.TRADING_DAYS_PER_YEAR)
fig = ch.analog_chart(aligned, ai_label=ai_label, dotcom_label=dc_label, anchor_label=a_label)
ui.chart(fig, aligned, f"analog-{pair_name}-{anchor}", key="analog_paths",
         about={"pair": pair_name, "anchor": anchor, "ai_anchor": f"{a_ai:%Y-%m-%d}",
                "dotcom_anchor": f"{a_dc:%Y-%m-%d}", "unit": "price rebased to 100 at anchor"})

# --------------------------------------------------------------------------- best match
st.subheader("Where on the Cisco path are we?")
if info is None:
    ui.missing_indicator("analog", pair_name)
else:
    ui.run_caption(info)
    if best is None or best_date is None:
        st.info(ui.words("analog", str((meta.note or meta.missing if meta is not None else None)
                                       or "This analog run stored no best match.")))
    else:
        dist = best.distance
        c1, c2, c3 = st.columns(3)
        c1.metric(f"Today ({ai.index[-1]:%Y-%m-%d}) looks like {dc_label} on",
                  f"{best_date:%Y-%m-%d}")
        c2.metric("Path distance at the best match",
                  ui.fmt_num(float(dist), 3) if isinstance(dist, (int, float)) else "–",
                  help="Root-mean-square difference of the rebased log paths (lower = closer).")
        to_peak = (dc_peak - best_date).days
        c3.metric(f"{dc_label}'s dot-com peak was", f"{abs(to_peak)} days "
                  + ("later" if to_peak >= 0 else "earlier"))
        # the indicator's own figures (horizons in trading days): one set of numbers,
        # the same as in exports and alerts
        fwd = pd.DataFrame([{"horizon_trading_days": int(h), "return_pct": 100 * v}
                            for h, v in best.forward_returns.items() if v is not None])
        st.markdown(f"**What {dc_label} did next** (from {best_date:%Y-%m-%d}):")
        if fwd.empty:
            st.info(f"The prices of {dc_label} end before the first horizon after "
                    f"{best_date:%Y-%m-%d}.")
        else:
            cols = st.columns(len(fwd))
            for col, row in zip(cols, fwd.itertuples(index=False), strict=True):
                months = round(row.horizon_trading_days / 21)
                col.metric(f"over {row.horizon_trading_days} trading days (≈{months} months)",
                           f"{row.return_pct:+.0f} %")
        ui.download(fwd, f"analog-{pair_name}-what-followed", key="what_followed",
                    about={"pair": pair_name, "best_date": f"{best_date:%Y-%m-%d}"},
                    label="Download what followed (CSV)")
    stored = data.indicator(url, "analog", pair_name)
    if not stored.empty:
        cols = [c for c in ("distance",) if c in stored.columns]
        if cols:
            anchors = (f" ({meta.ai_anchor_date} ↔ {meta.dotcom_anchor_date})"
                       if meta is not None and meta.ai_anchor_date and meta.dotcom_anchor_date
                       else "")
            ui.chart(ch.series_chart(stored[cols], title="Distance between the paths since the "
                                     f"stored anchor{anchors}",
                                     y_title="Path distance (RMS of log difference)",
                                     colors={"distance": ch.AI_COLOR}),
                     stored, f"analog-{pair_name}", key="analog_distance",
                     about=ui.about_run(info))
        else:
            ui.download(stored, f"analog-{pair_name}", key="analog_stored",
                        about=ui.about_run(info), label="Download stored analog series (CSV)")
