"""Explosiveness: the whole-sample PSY test beside the real-time reading
(what the test said on each date), the real-time monitors with their
alarms, the reading net of adoption, and whether each cohort is explosive
together. When the whole-sample test dates no episode, the page says why
(read from the stored test) and what would date one."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from dashboard import charts as ch
from dashboard import data, ui
from dashboard import explosiveness_view as ev
from dashboard import transforms as tf
from indicators.psy_indicator import PsyTest
from indicators.psy_realtime import RULES

ctx = ui.context()
url = ctx.url

#: What one observation is at each sampling frequency of the test.
PERIOD = {"W": ("week", "weeks"), "D": ("trading day", "trading days"), "M": ("month", "months")}

st.title("Explosiveness (PSY bubble test)")
st.caption("Phillips, Shi & Yu (2015): a bubble episode is dated when the backward sup ADF "
           "statistic (BSADF) rises above its critical value; shaded spans are the stored "
           "episodes (red: explosive rise, green: explosive fall). The whole-sample test judges "
           "the whole history with hindsight; the real-time reading and the monitors below "
           "use, on each date, only the prices known that day.")

psy_keys = data.keys_of(url, "psy")
rt_keys = data.keys_of(url, "psy_rt")
keys = psy_keys + [k for k in rt_keys if k not in psy_keys]
if not keys:
    ui.missing_indicator("psy")
    st.stop()
symbol = ui.select("Symbol or basket", keys, key="symbol",
                   default="NVDA" if "NVDA" in keys else keys[0],
                   format_func=lambda k: ui.key_label(k, long=True))



def why_no_episode(shown: pd.DataFrame, eps: pd.DataFrame, test: PsyTest | None,
                   cv_field: str, lo: date, hi: date, level: str, many: str) -> None:
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


def whole_sample(wide: pd.DataFrame, test: PsyTest | None, freq: str | None) -> None:
    """The stored whole-sample test of ``symbol``: latest reading, chart, episodes."""
    info = data.run_info(url, "psy", symbol)
    _, many = PERIOD.get(freq or "W", ("observation", "observations"))
    cv_fields = [c for c in ("cv90", "cv95", "cv99") if c in wide.columns]
    cv_field = ui.select("Critical value", cv_fields, key="cv", default="cv95",
                         format_func=lambda c: f"{c[2:]} %", horizontal=True) \
        if cv_fields else "cv95"
    eps = data.episodes(url, "psy", symbol)

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
                        + f" 'no bubble' on {ui.day(test.first_date)} to "
                        f"{ui.day(test.last_date)}")
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
        starts = pd.to_datetime(eps["start"])
        shown_eps = eps[(ends >= pd.Timestamp(lo)) & (starts <= pd.Timestamp(hi))]

    fig = ch.bsadf_chart(shown, shown_eps, symbol=symbol, cv_field=cv_field,
                         cv_label=f"{cv_field[2:]} % critical value")
    ui.chart(fig, shown, f"psy-{symbol}", key="psy", about=ui.about_run(info))
    ui.run_caption(info)

    st.subheader("Date-stamped episodes")
    if shown_eps.empty:
        why_no_episode(shown, eps, test, cv_field, lo, hi, level, many)
    else:
        view = tf.episode_table(shown_eps)
        ui.table(view, key="episodes")
        ui.download(shown_eps, f"psy-{symbol}-episodes", key="episodes", about={
            "title": f"Explosive episodes of {symbol} (PSY)",
            "source": "stored episodes of `bubblewatch compute psy`",
            "parameters": (info or {}).get("params")}, label="Download episodes (CSV)")


# --------------------------------------------------------------------------- whole sample
st.subheader("Whole sample")
wide = data.indicator(url, "psy", symbol) if symbol in psy_keys else pd.DataFrame()
meta = data.run_meta(url, "psy", symbol) if symbol in psy_keys else None
test = meta.test if meta is not None else None
if symbol not in psy_keys:
    st.info(f"No whole-sample PSY test of {ui.key_label(symbol, long=True)} is stored: the `psy` "
            "indicator covers symbols (`bubblewatch compute psy --symbols SYMBOL`); baskets are "
            "read in real time below.")
elif wide.empty or "bsadf" not in wide.columns:
    ui.missing_indicator("psy", symbol)
else:
    whole_sample(wide, test, meta.freq if meta is not None else None)

# --------------------------------------------------------------------------- real time
st.subheader("Real time: what the test said on each date")
rt = data.indicator(url, "psy_rt", symbol) if symbol in rt_keys else pd.DataFrame()
rt_meta = data.run_meta(url, "psy_rt", symbol) if symbol in rt_keys else None
if rt.empty or rt_meta is None:
    ui.missing_indicator("psy_rt", symbol)
else:
    rt_info = data.run_info(url, "psy_rt", symbol)
    rule = ui.select("Alarm rule", list(RULES), key="rule", default=rt_meta.rule,
                     format_func=lambda r: ev.RULE_NAMES[r], horizontal=True,
                     help="pointwise: 5 % of calm dates alarm by design; SADF rule (exuber) "
                          "and the GSADF gate alarm far less often (see the README's "
                          "simulated false-alarm rates)")
    alarms = ev.alarm_mask(rt, f"alarm_{rule}")
    lastr = rt.iloc[-1]
    cv_col = "cv_sadf" if rule == "sadf" else "cv_pointwise"
    r1, r2, r3, r4 = st.columns(4)
    r1.metric(f"Real-time BSADF on {ui.day(rt.index[-1])}", f"{lastr['bsadf']:.2f}",
              delta=f"{lastr['bsadf'] - lastr[cv_col]:+.2f} vs its critical value",
              delta_color="inverse")
    r2.metric("Alarm now", "yes" if bool(alarms.iloc[-1]) else "no")
    r3.metric("First alarm", ui.day(alarms.index[alarms.to_numpy()][0])
              if alarms.any() else "none")
    r4.metric(f"Readings with an alarm ({ev.RULE_NAMES[rule]})",
              f"{int(alarms.sum())} of {len(rt)}")
    st.markdown(ev.why_readings_differ(test, wide, rt, rt_meta, rule, symbol=symbol))
    rt_eps = data.episodes(url, "psy_rt", symbol) if rule == rt_meta.rule else pd.DataFrame()
    ui.chart(ev.realtime_chart(rt, rt_eps, symbol=symbol, rule=rule), rt, f"psy-rt-{symbol}",
             key="psy_rt", about=ui.about_run(rt_info))
    ui.run_caption(rt_info)

# --------------------------------------------------------------------------- monitors
st.subheader("Real-time monitors with a stated false-alarm rate")
frames = {n: data.indicator(url, n, symbol) for n in ev.MONITORS}
metas = {n: (data.run_meta(url, n, symbol) if not frames[n].empty else None)
         for n in ev.MONITORS}
shown = {n: f for n, f in frames.items() if not f.empty}
if not shown:
    ui.missing_indicator("monitor_ps2020", symbol)
else:
    table = ev.monitor_table(frames, metas)
    st.dataframe(table, hide_index=True, key="monitors")
    price = rt["series"] if not rt.empty and "series" in rt.columns else pd.Series(dtype=float)
    wide_alarms = pd.concat({n: f["alarm"] for n, f in shown.items()}, axis=1)
    ui.chart(ev.monitors_chart(price, shown, symbol=symbol), wide_alarms,
             f"monitors-{symbol}", key="monitors_chart")
    st.caption("Each CUSUM monitor (Homm-Breitung, Astill et al., Breitung-Diegel) watches "
               "one year at a time after re-training on the three years before it, so its "
               "false-alarm rate holds per year; Phillips-Shi re-computes its bootstrap "
               "critical value every year from the data to date. Alarms are what each said "
               "on the day.")

# --------------------------------------------------------------------------- net of adoption
st.subheader("Net of adoption: what remains of the price after revenue and capex")
gpt = data.indicator(url, "psy_gpt", symbol)
gpt_meta = data.run_meta(url, "psy_gpt", symbol) if not gpt.empty else None
if gpt.empty or gpt_meta is None:
    st.info(f"No adoption-robust reading of {symbol}: it needs the company's SEC filings "
            "(revenue and capex known on each date). Run `bubblewatch compute psy_gpt` after "
            "loading them.")
else:
    raw_a, gpt_a = ev.alarm_mask(gpt, "raw_alarm"), ev.alarm_mask(gpt, "gpt_alarm")
    g1, g2, g3 = st.columns(3)
    g1.metric("Readings with an alarm, raw price", f"{int(raw_a.sum())} of {len(gpt)}")
    g2.metric("Readings with an alarm, net of adoption", f"{int(gpt_a.sum())} of {len(gpt)}")
    g3.metric("Share of the price explained (R²)", f"{gpt_meta.latest_r2:.0%}"
              if gpt_meta.latest_r2 is not None else "–")
    ui.chart(ev.gpt_chart(gpt, symbol=symbol), gpt, f"psy-gpt-{symbol}", key="psy_gpt",
             about=ui.about_run(data.run_info(url, "psy_gpt", symbol)))
    st.caption("In the spirit of Huang, Chen, Chen, Li & Zhang (2026): the log price is "
               "projected on the trailing revenue and capex known on each date and the PSY "
               "test is run on what remains. Assumptions: " + "; ".join(gpt_meta.assumptions)
               + ".")

# --------------------------------------------------------------------------- cohorts
st.subheader("Cohorts: explosive together?")
cohorts = data.keys_of(url, "cohort_psy")
if not cohorts:
    ui.missing_indicator("cohort_psy")
for cohort in cohorts:
    cmeta = data.run_meta(url, "cohort_psy", cohort)
    cframe = data.indicator(url, "cohort_psy", cohort)
    if cmeta is None or cframe.empty:
        continue
    st.markdown(ev.cohort_text(cmeta))
    ui.chart(ev.cohort_chart(cframe, data.episodes(url, "cohort_psy", cohort), cohort=cohort,
                             level=cmeta.level), cframe, f"cohort-{cohort}",
             key=f"cohort_{cohort}", about=ui.about_run(data.run_info(url, "cohort_psy",
                                                                      cohort)))
    if cmeta.pairs:
        st.dataframe(ev.pairs_table(cmeta), hide_index=True, key=f"pairs_{cohort}")
