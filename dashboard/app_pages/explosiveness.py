"""Explosiveness: the PSY backward sup ADF sequence against its critical
value, with the date-stamped bubble episodes shaded, per symbol; when no
episode is dated, why (read from the stored test) and what would date one."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import charts as ch
from dashboard import data, ui
from dashboard import transforms as tf

ctx = ui.context()
url = ctx.url

#: What one observation is at each sampling frequency of the test.
PERIOD = {"W": ("week", "weeks"), "D": ("trading day", "trading days"), "M": ("month", "months")}

st.title("Explosiveness (PSY bubble test)")
st.caption("Phillips, Shi & Yu (2015): a bubble episode is dated when the backward sup ADF "
           "statistic (BSADF) rises above its critical value; shaded spans are the stored "
           "episodes (red: explosive rise, green: explosive fall).")

keys = data.keys_of(url, "psy")
if not keys:
    ui.missing_indicator("psy")
    st.stop()
symbol = ui.select("Symbol", keys, key="symbol", default="NVDA" if "NVDA" in keys else keys[0],
                   format_func=lambda k: ui.key_label(k, long=True))
info = data.run_info(url, "psy", symbol)
wide = data.indicator(url, "psy", symbol)
if wide.empty or "bsadf" not in wide.columns:
    ui.missing_indicator("psy", symbol)
    st.stop()

cv_fields = [c for c in ("cv90", "cv95", "cv99") if c in wide.columns]
cv_field = ui.select("Critical value", cv_fields, key="cv", default="cv95",
                     format_func=lambda c: f"{c[2:]} %", horizontal=True) if cv_fields else "cv95"
eps = data.episodes(url, "psy", symbol)
meta = data.run_meta(url, "psy", symbol)
test = meta.test if meta is not None else None
one, many = PERIOD.get(meta.freq if meta is not None else "W", ("observation", "observations"))

last = wide.dropna(subset=["bsadf"]).iloc[-1]
m1, m2, m3, m4 = st.columns(4)
m1.metric(f"BSADF on {ui.day(last.name)}", f"{last['bsadf']:.2f}",
          help=ui.explain("psy", "bsadf"))
if cv_field in wide.columns:
    m2.metric(f"{cv_field[2:]} % critical value", f"{last[cv_field]:.2f}",
              delta=f"{last['bsadf'] - last[cv_field]:+.2f} above it" if last["bsadf"]
              > last[cv_field] else f"{last['bsadf'] - last[cv_field]:+.2f} below it",
              delta_color="inverse")
if test is not None:
    cv_test = test.gsadf_cv_at(test.sig_level)
    m3.metric("Whole-sample GSADF", f"{test.gsadf:.2f}",
              help=(f"{test.sig_level:.0%} critical value {cv_test:.2f}: the test "
                    + ("rejects" if test.rejected else "does not reject")
                    + f" 'no bubble' on {ui.day(test.first_date)} to {ui.day(test.last_date)}")
              if cv_test is not None else None)
ongoing = (eps["ongoing"].astype(bool).any() if not eps.empty and "ongoing" in eps.columns
           else False)
level = f"{test.sig_level:.0%}" if test is not None else "the chosen level"
m4.metric(f"Episodes (at {level})", f"{len(eps)}", help="stored date-stamped episodes",
          delta="one ongoing now" if ongoing else None, delta_color="inverse")

first_day, last_day = wide.index.min().date(), wide.index.max().date()
lo, hi = st.slider("Dates shown", min_value=first_day, max_value=last_day,
                   value=(first_day, last_day), format="YYYY-MM-DD", key="w_window")
shown = tf.wide_between(wide, lo, hi)
shown_eps = eps
if not eps.empty:
    ends = pd.to_datetime(eps["end"]).fillna(pd.Timestamp(last_day))
    shown_eps = eps[(ends >= pd.Timestamp(lo)) & (pd.to_datetime(eps["start"]) <= pd.Timestamp(hi))]

fig = ch.bsadf_chart(shown, shown_eps, symbol=symbol, cv_field=cv_field,
                     cv_label=f"{cv_field[2:]} % critical value")
ui.chart(fig, shown, f"psy-{symbol}", key="psy", about=ui.about_run(info))
ui.run_caption(info)


def why_no_episode() -> None:
    """Say why no episode is dated in the dates shown, from the stored test."""
    sig_field = f"cv{round(100 * test.sig_level)}" if test is not None else "cv95"
    cv = shown[sig_field] if sig_field in shown.columns else shown[cv_field]
    ex = tf.exceedances(shown["bsadf"], cv)
    span = f"{ui.day(lo)} to {ui.day(hi)}"
    above = (f"In the dates shown ({span}), BSADF was above its {level} critical value in "
             f"{ex.above} of {ex.total} {many}"
             + (f", first on {ui.day(ex.first)} and last on {ui.day(ex.last)}" if ex.above
                else ""))
    cmd = f"bubblewatch compute psy --symbols {symbol} --full"
    if test is None:
        ui.missing_indicator("psy", symbol)
        return
    if not eps.empty:
        st.info(f"**No episode of {ui.key_label(symbol)} between {span}.** {above}; the stored "
                f"episodes lie outside these dates.", icon=":material/info:")
        return
    cv_test = test.gsadf_cv_at(test.sig_level)
    if not test.rejected and test.require_rejection:
        st.info(
            f"**No episode is dated for {ui.key_label(symbol, long=True)} at {level}, because the "
            f"whole-sample test does not reject.** The GSADF statistic of the whole sample "
            f"({ui.day(test.first_date)} to {ui.day(test.last_date)}) is {test.gsadf:.2f}, below "
            f"its {level} critical value {cv_test:.2f}, and episodes are dated only when it "
            f"rejects (the rule of the R package exuber). {above}.  \n"
            f"To date episodes anyway: `{cmd} --param require_rejection=false`; to test a shorter "
            f"sample where the test may reject: `{cmd} --param start=1995-01-01`.",
            icon=":material/info:")
    elif ex.above:
        st.info(f"**No episode of {ui.key_label(symbol, long=True)} at {level} in {span}.** "
                f"{above}, but never for {test.min_duration} {many} in a row, the shortest "
                f"episode dated (the minimum duration, about log T of the {test.T} {many} "
                f"tested). A shorter minimum dates them: `{cmd} --param min_duration=2`.",
                icon=":material/info:")
    else:
        st.info(f"**No episode of {ui.key_label(symbol, long=True)} in {span}:** BSADF never "
                f"rose above its {level} critical value, so no explosive stretch was found.",
                icon=":material/info:")


st.subheader("Date-stamped episodes")
if shown_eps.empty:
    why_no_episode()
else:
    view = tf.episode_table(shown_eps)
    ui.table(view, key="episodes")
    ui.download(shown_eps, f"psy-{symbol}-episodes", key="episodes", about={
        "title": f"Explosive episodes of {symbol} (PSY)",
        "source": "stored episodes of `bubblewatch compute psy`",
        "parameters": (info or {}).get("params")}, label="Download episodes (CSV)")
