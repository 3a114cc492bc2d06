"""Text, tables and figures of the Explosiveness page beyond the whole-sample
PSY chart: the real-time reading beside the whole-sample one, the real-time
monitors, the adoption-robust reading and the cohort panel.

Pure functions from stored results (wide frames, events and the indicators'
typed metadata) to strings, frames and plotly figures. No Streamlit calls, no
I/O and no statistics: every number shown is a stored one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard import charts as ch
from indicators.cohort_psy import CohortMeta
from indicators.monitors import MonitorMeta
from indicators.psy_indicator import PsyTest
from indicators.psy_realtime import RULE_WORDS, PsyRtMeta

#: The monitor indicators in the order the page shows them, with a short name.
MONITORS: dict[str, str] = {
    "monitor_ps2020": "Phillips-Shi 2020",
    "monitor_hb": "Homm-Breitung CUSUM",
    "monitor_ahltz": "Astill et al. CUSUM",
    "monitor_bd": "Breitung-Diegel wCUSUM",
}
#: Short names of the real-time PSY rules.
RULE_NAMES: dict[str, str] = {"pointwise": "pointwise", "sadf": "SADF rule",
                              "gated": "GSADF-gated"}
ALARM_COLOR = "#D62728"
CONFIRMED_FILL = "rgba(214, 39, 40, 0.14)"
FREQ_WORDS = {"D": "daily", "W": "weekly", "M": "monthly"}
FREQ_UNITS = {"D": "days", "W": "weeks", "M": "months"}


def _d(x: Any) -> str:
    return "–" if x is None or (isinstance(x, float) and np.isnan(x)) else \
        pd.Timestamp(x).strftime("%Y-%m-%d")


# --------------------------------------------------------------------------- real time vs whole
def alarm_mask(frame: pd.DataFrame, field: str) -> pd.Series:
    """``frame[field]`` as booleans (missing readings are no alarm)."""
    if field not in frame.columns:
        return pd.Series(False, index=frame.index)
    return frame[field].fillna(0.0) > 0.5


def why_readings_differ(test: PsyTest | None, whole: pd.DataFrame, rt: pd.DataFrame,
                        rt_meta: PsyRtMeta, rule: str, *, symbol: str) -> str:
    """One paragraph, from the stored metadata and series, saying what the
    whole-sample test and the real-time monitor (under ``rule``) concluded
    and why they can disagree."""
    unit = FREQ_UNITS.get(rt_meta.freq, "observations")
    alarms = alarm_mask(rt, f"alarm_{rule}")
    n_alarm = int(alarms.sum())
    first = _d(alarms.index[alarms.to_numpy()][0]) if n_alarm else None
    rt_text = (f"The real-time monitor ({RULE_NAMES[rule]}: {RULE_WORDS[rule]}) alarmed in "
               f"{n_alarm} of {len(rt)} {unit} from {_d(rt.index.min())}, first on {first}."
               if n_alarm else
               f"The real-time monitor ({RULE_NAMES[rule]}: {RULE_WORDS[rule]}) never alarmed "
               f"in {len(rt)} {unit} from {_d(rt.index.min())}.")
    if test is None:
        return (f"No whole-sample PSY test of {symbol} is stored (`bubblewatch compute psy`). "
                + rt_text)
    level = test.sig_level
    gcv = test.gsadf_cv_at(level)
    cv_field = f"cv{round(level * 100)}"
    above = 0
    if cv_field in whole.columns and "bsadf" in whole.columns:
        above = int((whole["bsadf"] > whole[cv_field]).sum())
    sample = (f"{test.T} {FREQ_WORDS.get(rt_meta.freq, '')} observations from "
              f"{_d(test.first_date)} to {_d(test.last_date)}")
    gtxt = f"GSADF {test.gsadf:.2f} against its {level:.0%} critical value " + (
        f"{gcv:.2f}" if gcv is not None else "(not stored)")
    if test.rejected:
        whole_text = (f"The whole-sample test rejects: {gtxt} over the {sample}, so its "
                      "episodes are reported.")
    elif test.require_rejection:
        whole_text = (
            f"The whole-sample test does not reject: {gtxt} over the {sample}. Its BSADF was "
            f"above its {level:.0%} critical value on {above} {unit}, but episodes are only "
            "reported when GSADF rejects (exuber's rule), so it shows none.")
    else:
        whole_text = (f"The whole-sample test does not reject ({gtxt} over the {sample}); its "
                      "episodes are dated without that gate.")
    why = ""
    if not test.rejected and n_alarm:
        why = (
            " The two answer different questions. GSADF is the largest statistic over every "
            "window of the whole history, and its critical value is the bar for that "
            "maximum over the whole sample: a long history (and a run-up that starts early, "
            "so no window contrasts it with a calm stretch) keeps it under the bar. The "
            "real-time monitor compares each date's BSADF only with the critical value of a "
            f"sample ending that date, with the smaller window of that shorter sample "
            f"({int(rt['min_window'].iloc[0]) if 'min_window' in rt else '?'} to "
            f"{int(rt['min_window'].iloc[-1]) if 'min_window' in rt else '?'} {unit}), "
            "and never looks at later data.")
    elif test.rejected and not n_alarm:
        why = (" The whole-sample test uses hindsight (its critical values and window "
               "belong to the whole sample) while the monitor's bar on each date is that of "
               "the sample to date under the chosen rule; try the pointwise rule, which is "
               "lower.")
    return " ".join([whole_text, rt_text + why])


def realtime_chart(rt: pd.DataFrame, episodes: pd.DataFrame, *, symbol: str,
                   rule: str) -> go.Figure:
    """Real-time PSY: the log price with every alarm marked on top, the
    real-time BSADF against the chosen rule's critical value below, confirmed
    episodes shaded in both (from the first alarm to the end of the run)."""
    cv_field = "cv_sadf" if rule == "sadf" else "cv_pointwise"
    alarms = alarm_mask(rt, f"alarm_{rule}")
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.06,
                        row_heights=[0.45, 0.55])
    if "series" in rt.columns:
        s = rt["series"].dropna()
        fig.add_scatter(x=s.index, y=s.to_numpy(), name=f"{symbol} log price", mode="lines",
                        line={"color": ch.INDEX_COLOR, "width": 1.5}, row=1, col=1,
                        hovertemplate=ch.DATE_HOVER + ": %{y:.3f}<extra>log price</extra>")
        a = s[alarms.reindex(s.index, fill_value=False)]
        fig.add_scatter(x=a.index, y=a.to_numpy(), name="alarm", mode="markers",
                        marker={"color": ALARM_COLOR, "size": 5}, row=1, col=1,
                        hovertemplate=ch.DATE_HOVER + ": alarm<extra></extra>")
    b = rt["bsadf"].dropna() if "bsadf" in rt.columns else pd.Series(dtype=float)
    fig.add_scatter(x=b.index, y=b.to_numpy(), name="BSADF (real time)", mode="lines",
                    line={"color": ch.AI_COLOR, "width": 1.6}, row=2, col=1,
                    hovertemplate=ch.DATE_HOVER + ": BSADF %{y:.2f}<extra></extra>")
    if cv_field in rt.columns:
        c = rt[cv_field].dropna()
        fig.add_scatter(x=c.index, y=c.to_numpy(), name=f"critical value ({RULE_NAMES[rule]})",
                        mode="lines", line={"color": ch.CV_COLOR, "width": 1.2, "dash": "dash"},
                        row=2, col=1, hovertemplate=ch.DATE_HOVER + ": cv %{y:.2f}<extra></extra>")
    ab = b[alarms.reindex(b.index, fill_value=False)]
    fig.add_scatter(x=ab.index, y=ab.to_numpy(), name="alarm", mode="markers",
                    marker={"color": ALARM_COLOR, "size": 5}, row=2, col=1, showlegend=False,
                    hovertemplate=ch.DATE_HOVER + ": alarm, BSADF %{y:.2f}<extra></extra>")
    shade(fig, confirmed_spans(episodes), rt.index.max() if not rt.empty else None, (1, 2))
    fig.update_yaxes(title_text="log price", row=1, col=1)
    fig.update_yaxes(title_text="ADF t-statistic", row=2, col=1)
    fig = _layout(fig, f"{symbol}: real-time BSADF ({RULE_NAMES[rule]}), every alarm marked, "
                  "confirmed episodes shaded", height=520)
    fig.update_xaxes(title_text="Date", row=2, col=1)
    return fig


def confirmed_spans(episodes: pd.DataFrame) -> pd.DataFrame:
    """The stored real-time episodes that were confirmed (``attr_confirmed``
    set): ``start, end, kind``."""
    if episodes is None or episodes.empty or "attr_confirmed" not in episodes.columns:
        return pd.DataFrame(columns=["start", "end", "kind"])
    keep = episodes["attr_confirmed"].notna()
    return episodes.loc[keep, ["start", "end", "kind"]]


def shade(fig: go.Figure, spans: pd.DataFrame, last: pd.Timestamp | None,
          rows: Sequence[int]) -> None:
    """Shade ``spans`` (``start, end``; an open end runs to ``last``) in each row."""
    shapes = list(fig.layout.shapes or ())
    for sp in spans.itertuples(index=False):
        end = pd.Timestamp(sp.end) if sp.end is not None and pd.notna(sp.end) else last
        if end is None:
            continue
        for r in rows:
            suffix = "" if r == 1 else str(r)
            shapes.append({"type": "rect", "xref": f"x{suffix}", "yref": f"y{suffix} domain",
                           "x0": pd.Timestamp(sp.start), "x1": end, "y0": 0, "y1": 1,
                           "fillcolor": CONFIRMED_FILL, "line": {"width": 0}, "layer": "below"})
    fig.update_layout(shapes=shapes)


def _layout(fig: go.Figure, title: str, height: int = 420) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0.0, "xanchor": "left", "font": {"size": 16}},
        height=height, margin={"l": 10, "r": 10, "t": 56, "b": 10}, hovermode="x unified",
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1.0},
        font={"family": ch.FONT}, template="plotly_white")
    return fig


# --------------------------------------------------------------------------- monitors
def monitor_table(frames: Mapping[str, pd.DataFrame],
                  metas: Mapping[str, MonitorMeta | None]) -> pd.DataFrame:
    """One row per stored monitor of a key: what it controls, its latest
    reading and its alarms."""
    rows = []
    for name, label in MONITORS.items():
        f, m = frames.get(name), metas.get(name)
        if f is None or f.empty or m is None:
            continue
        last = f.dropna(subset=["statistic"]).iloc[-1]
        alarms = alarm_mask(f, "alarm")
        rows.append({
            "monitor": label,
            "false alarms": m.false_alarms,
            "design": m.design,
            "latest reading": f"{last.name:%Y-%m-%d}",
            "detector": round(float(last["statistic"]), 2),
            "boundary": round(float(last["boundary"]), 2),
            "alarm now": "yes" if bool(last["alarm"] > 0.5) else "no",
            "readings with alarm": int(alarms.sum()),
            "alarm dates (latest 5)": ", ".join(_d(x) for x in m.alarm_dates[-5:]) or "none",
        })
    return pd.DataFrame(rows)


def monitors_chart(price: pd.Series, frames: Mapping[str, pd.DataFrame], *,
                   symbol: str) -> go.Figure:
    """The log price on top and, below, one lane per monitor with a mark on
    every reading with an alarm (larger marks on each alarm date: a CUSUM
    window's first crossing, a Phillips-Shi confirmation)."""
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.06,
                        row_heights=[0.55, 0.45])
    p = price.dropna()
    fig.add_scatter(x=p.index, y=p.to_numpy(), name=f"{symbol} log price", mode="lines",
                    line={"color": ch.INDEX_COLOR, "width": 1.5}, row=1, col=1,
                    hovertemplate=ch.DATE_HOVER + ": %{y:.3f}<extra>log price</extra>")
    for name, label in MONITORS.items():
        f = frames.get(name)
        if f is None or f.empty:
            continue
        a = f.index[alarm_mask(f, "alarm").to_numpy()]
        fig.add_scatter(x=a, y=[label] * len(a), name=label, mode="markers",
                        marker={"size": 5, "color": ALARM_COLOR, "opacity": 0.45}, row=2, col=1,
                        showlegend=False,
                        hovertemplate=ch.DATE_HOVER + ": alarm<extra>" + label + "</extra>")
        key_field = "first_in_window" if "first_in_window" in f.columns else "confirmed"
        marks = f.index[_onsets(alarm_mask(f, key_field))]
        fig.add_scatter(x=marks, y=[label] * len(marks), name=f"{label}: alarm date",
                        mode="markers", marker={"size": 10, "color": ALARM_COLOR,
                                                "symbol": "triangle-up"}, row=2, col=1,
                        showlegend=False,
                        hovertemplate=ch.DATE_HOVER + ": alarm date<extra>" + label + "</extra>")
    fig.update_yaxes(title_text="log price", row=1, col=1)
    fig.update_yaxes(type="category", categoryorder="array",
                     categoryarray=list(MONITORS.values())[::-1], row=2, col=1)
    fig = _layout(fig, f"{symbol}: alarms of the real-time monitors (triangles: alarm dates)",
                  height=480)
    fig.update_layout(hovermode="closest")
    fig.update_xaxes(title_text="Date", row=2, col=1)
    return fig


def _onsets(mask: pd.Series) -> np.ndarray:
    """Readings where ``mask`` turns on (first of each run)."""
    m = mask.to_numpy(dtype=bool)
    prev = np.concatenate(([False], m[:-1]))
    return m & ~prev


# --------------------------------------------------------------------------- GPT-robust
def gpt_chart(frame: pd.DataFrame, *, symbol: str) -> go.Figure:
    """Adoption-robust PSY: the log price and what the proxies explain on top;
    the real-time BSADF of the raw price and of what remains against their
    critical value below, alarms marked."""
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.06,
                        row_heights=[0.45, 0.55])
    for field, label, color, dash in (("log_price", "log price", ch.INDEX_COLOR, None),
                                      ("fitted", "explained by revenue and capex",
                                       ch.DOTCOM_COLOR, "dot")):
        if field in frame.columns:
            s = frame[field].dropna()
            fig.add_scatter(x=s.index, y=s.to_numpy(), name=label, mode="lines",
                            line={"color": color, "width": 1.5, "dash": dash}, row=1, col=1,
                            hovertemplate=ch.DATE_HOVER + ": %{y:.3f}<extra>" + label
                            + "</extra>")
    for field, alarm, label, color in (("raw_bsadf", "raw_alarm", "BSADF, raw price",
                                        ch.AI_COLOR),
                                       ("gpt_bsadf", "gpt_alarm", "BSADF, what remains",
                                        ch.DOTCOM_COLOR)):
        if field not in frame.columns:
            continue
        s = frame[field].dropna()
        fig.add_scatter(x=s.index, y=s.to_numpy(), name=label, mode="lines",
                        line={"color": color, "width": 1.5}, row=2, col=1,
                        hovertemplate=ch.DATE_HOVER + ": %{y:.2f}<extra>" + label + "</extra>")
        a = s[alarm_mask(frame, alarm).reindex(s.index, fill_value=False)]
        fig.add_scatter(x=a.index, y=a.to_numpy(), name=f"{label}: alarm", mode="markers",
                        marker={"color": color, "size": 6}, row=2, col=1, showlegend=False,
                        hovertemplate=ch.DATE_HOVER + ": alarm<extra>" + label + "</extra>")
    if "gpt_cv" in frame.columns:
        c = frame["gpt_cv"].dropna()
        fig.add_scatter(x=c.index, y=c.to_numpy(), name="critical value", mode="lines",
                        line={"color": ch.CV_COLOR, "width": 1.2, "dash": "dash"}, row=2, col=1,
                        hovertemplate=ch.DATE_HOVER + ": cv %{y:.2f}<extra></extra>")
    fig.update_yaxes(title_text="log price", row=1, col=1)
    fig.update_yaxes(title_text="ADF t-statistic", row=2, col=1)
    fig = _layout(fig, f"{symbol}: real-time PSY on the raw price and net of adoption "
                  "(revenue, capex)", height=520)
    fig.update_xaxes(title_text="Date", row=2, col=1)
    return fig


# --------------------------------------------------------------------------- cohort
def cohort_text(meta: CohortMeta) -> str:
    """The cohort verdict in words, with its hedges."""
    who = {"ai": "AI cohort", "dotcom": "dot-com cohort"}.get(meta.cohort, meta.cohort)
    window = f"{_d(meta.window_start)} to {_d(meta.window_end) if meta.window_end else 'today'}"
    gcv = meta.panel_gsadf_cv[[0.90, 0.95, 0.99].index(meta.level)] if meta.panel_gsadf_cv \
        else None
    head = (f"**{who}** ({', '.join(meta.used)}; {window}): panel GSADF "
            f"{meta.panel_gsadf:.2f} against its {meta.level:.0%} critical value "
            f"{gcv:.2f}. " if meta.panel_gsadf is not None and gcv is not None else
            f"**{who}**: ")
    verdict = ("Explosive together" if meta.explosive_together else "Not explosive together")
    parts = [head + f"**{verdict}**: {meta.reason}."]
    if meta.excluded:
        parts.append(f"Left out (too little history in the window): {', '.join(meta.excluded)}.")
    parts.append(meta.caveat)
    return " ".join(parts)


def pairs_table(meta: CohortMeta) -> pd.DataFrame:
    """The co-explosiveness tests of a cohort, one row per member."""
    return pd.DataFrame([{
        "member": p.member, "against": p.reference, "lead/lag (obs.)": p.lag,
        "statistic": round(p.statistic, 3), "p-value": round(p.p_value, 3),
        "rejected (Bonferroni)": ("yes" if meta.bonferroni_level is not None
                                  and p.p_value < meta.bonferroni_level else "no"),
        "observations": p.nobs,
    } for p in meta.pairs])


def cohort_chart(frame: pd.DataFrame, episodes: pd.DataFrame, *, cohort: str,
                 level: float) -> go.Figure:
    """Panel BSADF against its critical value, panel episodes shaded."""
    cv_field = f"cv{round(level * 100)}"
    fig = go.Figure()
    if "panel_bsadf" in frame.columns:
        s = frame["panel_bsadf"].dropna()
        fig.add_scatter(x=s.index, y=s.to_numpy(), name="panel BSADF", mode="lines",
                        line={"color": ch.cohort_color(cohort), "width": 1.6},
                        hovertemplate=ch.DATE_HOVER + ": %{y:.2f}<extra>panel BSADF</extra>")
    if cv_field in frame.columns:
        c = frame[cv_field].dropna()
        fig.add_scatter(x=c.index, y=c.to_numpy(), name=f"{level:.0%} critical value",
                        mode="lines", line={"color": ch.CV_COLOR, "width": 1.2, "dash": "dash"},
                        hovertemplate=ch.DATE_HOVER + ": cv %{y:.2f}<extra></extra>")
    shade(fig, episodes if episodes is not None and not episodes.empty else
          pd.DataFrame(columns=["start", "end"]), frame.index.max() if not frame.empty
          else None, (1,))
    fig = _layout(fig, f"{cohort}: panel BSADF (average ADF of the members), panel episodes "
                  "shaded", height=380)
    fig.update_yaxes(title_text="average ADF t-statistic")
    fig.update_xaxes(title_text="Date")
    return fig
