"""LPPLS: price with the confidence indicator below it and the distribution
of fitted critical times."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import charts as ch
from dashboard import data, ui
from dashboard import lppls_view as lv
from dashboard import transforms as tf

ctx = ui.context()
url = ctx.url

st.title("LPPLS bubble confidence")
st.caption("Log-periodic power law singularity fits (Filimonov & Sornette 2013) over windows "
           "of 125 to 750 trading days ending on each date; the confidence indicator is the "
           "share of fits passing the ETH Zurich Financial Crisis Observatory filters, the "
           "Trust indicator (diamonds) the share of resampled series whose fits still pass "
           "the stricter Trust filter (median over the windows).")

picked = ui.pick_series(url, "lppls", "Symbol", key="symbol")
if picked is None:
    st.stop()
symbol, info, conf = picked
if conf.empty:
    ui.missing_indicator("lppls", symbol)
    st.stop()

price = data.close(url, symbol)
if not price.empty and not conf.empty:
    lookback = conf.index.min() - (conf.index.max() - conf.index.min()) * 0.25
    price = tf.wide_between(price.to_frame("close"), lookback.date(), None)["close"]

last_day = conf.index[-1]
last = conf.iloc[-1]
m1, m2, m3 = st.columns(3)
if "pos_conf" in conf.columns:
    m1.metric(f"{ui.label('lppls', 'pos_conf')} ({ui.day(last_day)})",
              ui.fmt_field("lppls", "pos_conf", last.get("pos_conf")),
              help=ui.explain("lppls", "pos_conf"))
if "neg_conf" in conf.columns:
    m2.metric(ui.label("lppls", "neg_conf"), ui.fmt_field("lppls", "neg_conf", last.get("neg_conf")),
              help=ui.explain("lppls", "neg_conf"))
tc_label = "Critical time (median)"
tc_now = last.get("pos_tc_median_days") if "pos_tc_median_days" in conf.columns else None
qualified = bool(last.get("pos_conf", 0) > 0) if pd.notna(last.get("pos_conf")) else False
if qualified and tc_now is not None and pd.notna(tc_now):
    days = float(tc_now)
    m3.metric(tc_label, f"{abs(days):.0f} trading days " + ("after" if days >= 0 else "before"),
              help=f"median fitted critical time of the positive-bubble fits ending "
                   f"{ui.day(last_day)} that pass the filter, counted from that date")
else:
    earlier = (conf.loc[conf.get("pos_conf", pd.Series(dtype=float)) > 0,
                        "pos_tc_median_days"].dropna()
               if "pos_tc_median_days" in conf.columns else pd.Series(dtype=float))
    m3.metric(tc_label, "none", help=f"no fit ending {ui.day(last_day)} passes the filter "
              "(confidence 0%), so there is no critical time for that date")
    st.caption(f"No LPPLS fit ending {ui.day(last_day)} passes the FCO filter, so there is no "
               "critical time to show for it"
               + (f"; the last date with qualified fits is {ui.day(earlier.index[-1])}."
                  if not earlier.empty else "; no date in the stored window has one."))

trust = lv.latest_trust(conf)
if trust is not None:
    t1, t2 = st.columns(2)
    t1.metric(f"Positive-bubble Trust ({trust[0]:%Y-%m-%d})", f"{100 * trust[1]:.0f} %",
              help="median over the windows of the share of resampled series whose fit "
                   "(B<0) passes the Trust filter; computed on the latest date of each run "
                   "unless the run asks for every date (`bubblewatch compute lppls --param "
                   "trust_on=all`)")
    t2.metric("Negative-bubble Trust", f"{100 * trust[2]:.0f} %")

frame = conf.join(price.rename("close"), how="outer")
ui.chart(lv.add_trust(ch.lppls_chart(price, conf, symbol=symbol), conf), frame,
         f"lppls-{symbol}", key="lppls", about=ui.about_run(info))
ui.run_caption(info)

st.subheader("Critical-time distribution")
tc_cols = [c for c in conf.columns if "_tc_" in c]
if tc_cols and not conf[tc_cols].dropna(how="all").empty:
    ui.chart(ch.tc_chart(conf, symbol=symbol), conf[tc_cols].dropna(how="all"),
             f"lppls-{symbol}-tc", key="lppls_tc", about=ui.about_run(info))
else:
    st.info(f"No fit of {symbol} qualified in the stored window, so there is no critical-time "
            "distribution to show (confidence 0 on every date).")
