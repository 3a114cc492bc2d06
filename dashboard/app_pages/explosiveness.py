"""Explosiveness: the PSY backward sup ADF sequence against its critical
value, with the date-stamped bubble episodes shaded, per symbol."""

from __future__ import annotations

import streamlit as st

from dashboard import charts as ch
from dashboard import data, ui
from dashboard import transforms as tf

ctx = ui.context()
url = ctx.url

st.title("Explosiveness (PSY bubble test)")
st.caption("Phillips, Shi & Yu (2015): a bubble episode is dated when the backward sup ADF "
           "statistic (BSADF) rises above its critical value; shaded spans are the stored "
           "episodes (red: explosive up, green: explosive down).")

picked = ui.pick_series(url, "psy", "Symbol", key="symbol")
if picked is None:
    st.stop()
symbol, info, wide = picked
if wide.empty or "bsadf" not in wide.columns:
    ui.missing_indicator("psy", symbol)
    st.stop()

cv_fields = [c for c in ("cv90", "cv95", "cv99") if c in wide.columns]
cv_field = ui.select("Critical value", cv_fields, key="cv", default="cv95",
                     format_func=lambda c: f"{c[2:]} %", horizontal=True) if cv_fields else "cv95"
eps = data.episodes(url, "psy", symbol)
meta = data.run_meta(url, "psy", symbol)
test = meta.test if meta is not None else None

last = wide.dropna(subset=["bsadf"]).iloc[-1]
m1, m2, m3, m4 = st.columns(4)
m1.metric(f"BSADF on {last.name:%Y-%m-%d}", f"{last['bsadf']:.2f}")
if cv_field in wide.columns:
    m2.metric(f"{cv_field[2:]} % critical value", f"{last[cv_field]:.2f}",
              delta=f"{last['bsadf'] - last[cv_field]:+.2f} BSADF − cv", delta_color="inverse")
if test is not None:
    cv95 = test.gsadf_cv_at(0.95)
    m3.metric("GSADF (whole sample)", f"{test.gsadf:.2f}",
              help=f"95 % critical value {cv95:.2f}" if cv95 is not None else None)
ongoing = (eps["ongoing"].astype(bool).any() if not eps.empty and "ongoing" in eps.columns
           else False)
m4.metric("Episodes", f"{len(eps)}", help="stored date-stamped episodes",
          delta="ongoing now" if ongoing else None, delta_color="inverse")

fig = ch.bsadf_chart(wide, eps, symbol=symbol, cv_field=cv_field,
                     cv_label=f"{cv_field[2:]} % critical value")
ui.chart(fig, wide, f"psy-{symbol}", key="psy", about=ui.about_run(info))
ui.run_caption(info)

st.subheader("Date-stamped episodes")
if eps.empty:
    st.info(f"No episode of {symbol} passed the minimum duration at this significance level.")
else:
    view = tf.episode_table(eps)
    st.dataframe(view, hide_index=True, key="episodes")
    ui.download(view, f"psy-{symbol}-episodes", key="episodes", about=ui.about_run(info),
                label="Download episodes (CSV)")
