"""The Track record page's figures and tables: pure functions of the stored
``track_record`` and ``track_record_alerts`` results (no Streamlit, no I/O)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.charts import (
    AI_COLOR,
    DATE_HOVER,
    DOTCOM_COLOR,
    FONT,
    INDEX_COLOR,
    POSITIVE_COLOR,
    cohort_color,
)
from indicators.composite import SCORE_BAND_EDGES
from indicators.track_record import SIGNALS
from indicators.vocabulary import signal_label

SEVERITY_COLORS = {"info": "#7F7F7F", "warning": "#F3A712", "critical": POSITIVE_COLOR}
#: Columns of the chart's download: the readings, what followed, and every flag.
CHART_COLUMNS = ("score", "score_p05", "score_p95", "ai_only", "stress", "level",
                 "fwd_mdd_12m", "fwd_mdd_24m", "calm", *(f"flag_{s}" for s in SIGNALS))


def ordered_keys(keys: Sequence[str]) -> list[str]:
    """Cohorts first (dot-com, AI), then the symbols in their stored order."""
    first = [k for k in ("dotcom", "ai") if k in keys]
    return first + [k for k in keys if k not in first]


def key_color(key: str) -> str:
    return cohort_color(key) if key in ("ai", "dotcom") else INDEX_COLOR


def chart_frame(wide: pd.DataFrame) -> pd.DataFrame:
    """The chart's data, one row per reading date (what its download serves)."""
    cols = [c for c in CHART_COLUMNS if c in wide.columns]
    out = wide[cols].copy()
    out.index = pd.DatetimeIndex(out.index, name="date")
    return out


def track_chart(wide: pd.DataFrame, *, key: str, name: str | None = None,
                peaks: Sequence[tuple[date, str]] = (), alerts: pd.DataFrame | None = None,
                warn_band: str = "high") -> go.Figure:
    """The reading as it was made, what followed, and every alarm, for ``key``
    (``name``: the key as people call it, in the title).

    Top: the headline (with its 5-95% band), the AI-only sub-score and the
    stress reading, the band edges, the peaks (dashed) and the alerts the
    rules would have fired (triangles, by severity). Middle: the largest fall
    over the next 12 and 24 months, hindsight, with GSY's 40% crash line.
    Bottom: one row per signal, a mark on every flagged date.
    """
    fig = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.05,
                        row_heights=[0.46, 0.27, 0.27])
    color = key_color(key)
    idx = pd.DatetimeIndex(wide.index)
    if {"score_p05", "score_p95"} <= set(wide.columns):
        fig.add_trace(go.Scatter(x=idx, y=wide["score_p95"], mode="lines", line={"width": 0},
                                 showlegend=False, hoverinfo="skip"), row=1, col=1)
        fig.add_trace(go.Scatter(x=idx, y=wide["score_p05"], mode="lines", line={"width": 0},
                                 fill="tonexty", fillcolor="rgba(120,120,120,0.18)",
                                 name="5-95% band", hoverinfo="skip"), row=1, col=1)
    if "score" in wide:
        fig.add_trace(go.Scatter(x=idx, y=wide["score"], name="Headline, as read then",
                                 line={"color": color, "width": 2},
                                 hovertemplate=DATE_HOVER + ": %{y:.1f}<extra>headline</extra>"),
                      row=1, col=1)
    if "ai_only" in wide and wide["ai_only"].notna().any():
        fig.add_trace(go.Scatter(x=idx, y=wide["ai_only"], name="AI-only sub-score",
                                 line={"color": AI_COLOR, "width": 1.2, "dash": "dot"},
                                 hovertemplate=DATE_HOVER + ": %{y:.1f}<extra>AI-only</extra>"),
                      row=1, col=1)
    if "stress" in wide:
        fig.add_trace(go.Scatter(x=idx, y=wide["stress"], name="Stress",
                                 line={"color": INDEX_COLOR, "width": 1, "dash": "dash"},
                                 hovertemplate=DATE_HOVER + ": %{y:.1f}<extra>stress</extra>"),
                      row=1, col=1)
    for edge in SCORE_BAND_EDGES:
        fig.add_hline(y=edge, line={"color": "#BBBBBB", "width": 0.8, "dash": "dot"},
                      row=1, col=1)
    if alerts is not None and not alerts.empty and "score" in wide:
        at = pd.to_datetime(alerts["start"])
        y = wide["score"].reindex(at, method="ffill").to_numpy() if len(wide) else []
        for sev, colour in SEVERITY_COLORS.items():
            mask = (alerts["attr_severity"] == sev).to_numpy() if "attr_severity" in alerts \
                else np.zeros(len(alerts), dtype=bool)
            if not mask.any():
                continue
            fig.add_trace(go.Scatter(
                x=at[mask], y=np.asarray(y, dtype=float)[mask], mode="markers",
                name=f"Alert ({sev})", marker={"symbol": "triangle-up", "size": 9,
                                               "color": colour},
                text=alerts.loc[mask, "attr_title"] if "attr_title" in alerts else None,
                hovertemplate=DATE_HOVER + ": %{text}<extra>alert</extra>"), row=1, col=1)
    for col, legend, dash in (("fwd_mdd_12m", "Largest fall, next 12 months", "dot"),
                              ("fwd_mdd_24m", "Largest fall, next 24 months", "solid")):
        if col in wide:
            fig.add_trace(go.Scatter(x=idx, y=100 * wide[col], name=legend,
                                     line={"color": DOTCOM_COLOR, "width": 1.3, "dash": dash},
                                     hovertemplate=DATE_HOVER + ": %{y:.0f}%<extra></extra>"),
                          row=2, col=1)
    fig.add_hline(y=-40, line={"color": POSITIVE_COLOR, "width": 1, "dash": "dash"},
                  annotation_text="crash: -40% within two years (GSY)",
                  annotation_position="bottom left", row=2, col=1)
    labels = []
    for sig in SIGNALS:
        col = f"flag_{sig}"
        if col not in wide:
            continue
        label = signal_label(sig)
        labels.append(label)
        on = idx[wide[col].to_numpy(dtype=float) > 0.5]
        fig.add_trace(go.Scatter(x=on, y=[label] * len(on), mode="markers", showlegend=False,
                                 marker={"symbol": "line-ns-open", "size": 10,
                                         "color": color if sig == "composite" else "#444444"},
                                 hovertemplate=DATE_HOVER + f"<extra>{label}</extra>"),
                      row=3, col=1)
    for day, origin in peaks:
        fig.add_vline(x=pd.Timestamp(day).timestamp() * 1000, line={
            "color": POSITIVE_COLOR if origin != "found" else "#999999", "width": 1,
            "dash": "dash"})
    fig.update_yaxes(title_text="score 0-100", range=[0, 100], row=1, col=1)
    fig.update_yaxes(title_text="fall, %", row=2, col=1)
    fig.update_yaxes(categoryorder="array", categoryarray=list(reversed(labels)), row=3, col=1)
    fig.update_layout(
        title={"text": f"{name or key}: what bubblewatch said then, and what followed (warnings: "
                       f"headline in the {warn_band!r} band or above)",
               "x": 0.0, "xanchor": "left", "font": {"size": 16}},
        height=760, margin={"l": 10, "r": 10, "t": 70, "b": 10}, hovermode="closest",
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.01, "xanchor": "right", "x": 1.0},
        font={"family": FONT}, template="plotly_white")
    return fig


#: Headers of the first-warnings table (the signals' columns are their labels).
LEAD_HEADERS = {"peak": "Peak", "origin": "Peak from"}
#: Where a judged peak comes from, in words.
ORIGINS = {"reference": "reference peak", "user": "given peak",
           "found": "found: a 40% fall followed"}
#: Headers of the false-alarms table (:func:`indicators.lead_time.alarm_table`'s columns).
ALARM_HEADERS = {"procedure": "Signal", "first_flag": "First flag", "calm_dates": "Calm dates",
                 "false_alarms": "False alarms", "false_alarm_share": "False-alarm share",
                 "pre_crash_dates": "Dates before a crash", "hits": "Hits",
                 "hit_share": "Hit share"}
#: Headers of the would-have-fired alerts (:func:`alert_rows`' columns).
ALERT_HEADERS = {"date": "Date", "rule": "Rule", "severity": "Severity",
                 "condition": "Condition", "previous": "Before", "title": "Alert"}
#: Headers of the monitors' episodes (:func:`episode_rows`' columns).
EPISODE_HEADERS = {"signal": "Signal", "first alarm": "First alarm", "reported": "Reported",
                   "end": "End", "direction": "Direction"}


def _share(v: float | None) -> str | None:
    """A share as a percentage (None stays a gap)."""
    return None if v is None or pd.isna(v) else f"{v:.1%}"


def lead_view(leads: pd.DataFrame) -> pd.DataFrame:
    """First warnings as people read them: one row per peak, one column per
    signal (by its label), headers :data:`LEAD_HEADERS`."""
    if leads.empty:
        return pd.DataFrame(columns=list(LEAD_HEADERS.values()))
    rows = []
    for (peak, origin), g in leads.groupby(["peak", "origin"], sort=True):
        row: dict[str, object] = {"peak": peak, "origin": ORIGINS.get(origin, origin)}
        for _, r in g.iterrows():
            row[signal_label(r["procedure"])] = (
                "no warning" if r["first_warning"] is None or pd.isna(r["first_warning"])
                else f"{r['first_warning']} ({r['lead_weeks']:.0f} weeks)")
        rows.append(row)
    return pd.DataFrame(rows).rename(columns=LEAD_HEADERS)


def alarm_view(alarms: pd.DataFrame) -> pd.DataFrame:
    """False alarms per signal: calm dates, flagged ones, the shares (as
    percentages), headers :data:`ALARM_HEADERS`; gaps stay empty."""
    out = alarms[list(ALARM_HEADERS)].copy()
    out["procedure"] = out["procedure"].map(signal_label)
    for col in ("false_alarm_share", "hit_share"):
        out[col] = out[col].map(_share).astype(object)
    return out.rename(columns=ALARM_HEADERS)


def alert_rows(events: pd.DataFrame) -> pd.DataFrame:
    """The stored would-have-fired alerts as the download serves them: date,
    rule id, severity, condition, previous condition, title."""
    cols = list(ALERT_HEADERS)
    if events is None or events.empty:
        return pd.DataFrame(columns=cols)
    out = pd.DataFrame({
        "date": pd.to_datetime(events["start"]).dt.date, "rule": events["kind"],
        "severity": events.get("attr_severity"), "condition": events.get("attr_condition"),
        "previous": events.get("attr_previous"), "title": events.get("attr_title")})
    return out.sort_values(["date", "rule"]).reset_index(drop=True)


def alert_view(rows: pd.DataFrame, rule_labels: Mapping[str, str]) -> pd.DataFrame:
    """:func:`alert_rows` for people: each rule by its label (a rule no longer
    in the rules file says so), headers :data:`ALERT_HEADERS`."""
    out = rows.copy()
    out["rule"] = out["rule"].map(lambda r: rule_labels.get(r, "(no longer in the rules file)"))
    return out.rename(columns=ALERT_HEADERS)


def episode_rows(events: pd.DataFrame) -> pd.DataFrame:
    """Real-time episodes and CUSUM alarms as the monitors reported them, each
    signal by its label (what the download serves; :data:`EPISODE_HEADERS`
    names the columns on screen)."""
    cols = list(EPISODE_HEADERS)
    if events is None or events.empty:
        return pd.DataFrame(columns=cols)
    ev = events[events["kind"] != "composite"]
    start = pd.to_datetime(ev["start"]).dt.date
    reported = (pd.to_datetime(ev["attr_confirmed"]).dt.date if "attr_confirmed" in ev
                else start)
    direction = ev["attr_direction"] if "attr_direction" in ev else pd.Series(
        None, index=ev.index, dtype=object)
    return pd.DataFrame({
        "signal": ev["kind"].map(signal_label),
        "first alarm": start,
        "reported": pd.Series(reported, index=ev.index).where(
            pd.Series(reported, index=ev.index).notna(), start),
        "end": ev["end"],
        "direction": direction.fillna("positive (CUSUM: rises only)"),
    }).reset_index(drop=True)


def episode_view(rows: pd.DataFrame) -> pd.DataFrame:
    """:func:`episode_rows` with the headers :data:`EPISODE_HEADERS`."""
    return rows.rename(columns=EPISODE_HEADERS)
