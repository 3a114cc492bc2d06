"""Plotly figures for the dashboard: pure functions DataFrame -> Figure.

No Streamlit calls and no I/O here, so every chart is unit-tested on plain
frames. Conventions: the AI cycle is always drawn in :data:`AI_COLOR` and the
dot-com cycle in :data:`DOTCOM_COLOR`; every axis title carries its unit and
every hover label shows the date and the value with its unit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from indicators.composite import SCORE_BAND_EDGES

AI_COLOR = "#E4572E"
DOTCOM_COLOR = "#2F6DB5"
INDEX_COLOR = "#7F7F7F"
CV_COLOR = "#333333"
POSITIVE_COLOR = "#D62728"
NEGATIVE_COLOR = "#2CA02C"
EPISODE_FILL = "rgba(214, 39, 40, 0.14)"
NEG_EPISODE_FILL = "rgba(44, 160, 44, 0.14)"
#: Colours for several series of the same cohort (hyperscalers, symbols).
PALETTE = ["#F3A712", "#76B041", "#17BEBB", "#A23B72", "#6C4AB6", "#8C564B", "#BCBD22",
           "#2F6DB5", "#E4572E", "#7F7F7F"]

DATE_HOVER = "%{x|%Y-%m-%d}"
FONT = "Inter, Segoe UI, Helvetica, Arial, sans-serif"
#: Gauge shading of the score bands, low to extreme (indicators.composite.SCORE_BAND_LABELS).
BAND_COLORS = ("#EAF4EA", "#F4F4E0", "#FBEBD2", "#F8D9C9", "#F2C0BD")


def cohort_color(cohort: str) -> str:
    """Colour of a cohort: ``"ai"``, ``"dotcom"`` or anything else (grey)."""
    return {"ai": AI_COLOR, "dotcom": DOTCOM_COLOR}.get(cohort, INDEX_COLOR)


#: Longest line of a chart title: longer titles wrap, so a phone screen shows them whole.
TITLE_LINE = 44


def wrap_title(title: str, width: int = TITLE_LINE) -> str:
    """``title`` broken into lines of at most ``width`` characters (``<br>``)."""
    import textwrap

    return "<br>".join(textwrap.wrap(title, width, break_long_words=False)) or title


def _layout(fig: go.Figure, title: str, y_title: str | None = None, x_title: str | None = "Date",
            height: int = 420) -> go.Figure:
    """Shared layout: the title wrapped to fit a phone, the legend below the plot
    (it never covers the title or the lines), white template."""
    text = wrap_title(title)
    lines = text.count("<br>") + 1
    fig.update_layout(
        title={"text": text, "x": 0.0, "xanchor": "left", "font": {"size": 16}},
        height=height + 20 * (lines - 1),
        margin={"l": 10, "r": 10, "t": 36 + 22 * lines, "b": 10},
        hovermode="x unified",
        legend={"orientation": "h", "yanchor": "top", "y": -0.2, "xanchor": "left", "x": 0.0},
        font={"family": FONT},
        template="plotly_white",
    )
    if y_title is not None:
        fig.update_yaxes(title_text=y_title)
    if x_title is not None:
        fig.update_xaxes(title_text=x_title)
    return fig


#: Tick labels of date axes at every zoom: never a time of day (dates are trading
#: days), months and years once ticks are that far apart.
DATE_TICKS = [
    {"dtickrange": [None, "M1"], "value": "%Y-%m-%d"},
    {"dtickrange": ["M1", "M12"], "value": "%b %Y"},
    {"dtickrange": ["M12", None], "value": "%Y"},
]
#: A date axis spans at least this many days, so a few points close together do not
#: zoom it to hours.
MIN_DATE_SPAN_DAYS = 30


def date_axis(fig: go.Figure, dates: Sequence[object] | pd.Index | None = None,
              **where: int) -> go.Figure:
    """Make the x axis (``where``: ``row``/``col`` of a subplot) a date axis with
    date-only ticks; when ``dates`` span less than :data:`MIN_DATE_SPAN_DAYS`,
    widen its range around them."""
    fig.update_xaxes(type="date", tickformatstops=DATE_TICKS, hoverformat="%Y-%m-%d", **where)
    if dates is not None and len(dates):
        idx = pd.DatetimeIndex(pd.to_datetime(list(dates)))
        lo, hi = idx.min(), idx.max()
        if hi - lo < pd.Timedelta(days=MIN_DATE_SPAN_DAYS):
            mid = lo + (hi - lo) / 2
            half = pd.Timedelta(days=MIN_DATE_SPAN_DAYS / 2)
            fig.update_xaxes(range=[(mid - half).strftime("%Y-%m-%d"),
                                    (mid + half).strftime("%Y-%m-%d")], **where)
    return fig


def log_ticks(lo: float, hi: float) -> list[float]:
    """Readable tick values (1-2-5 steps) for a log axis spanning ``[lo, hi]``."""
    if not (np.isfinite(lo) and np.isfinite(hi)) or lo <= 0 or hi <= 0:
        return []
    lo, hi = min(lo, hi), max(lo, hi)
    out = []
    for e in range(int(np.floor(np.log10(lo))), int(np.ceil(np.log10(hi))) + 1):
        for m in (1, 2, 5):
            v = m * 10.0**e
            if lo <= v <= hi:
                out.append(v)
    if len(out) < 3:  # narrow range: add 1-10 steps
        out = sorted({m * 10.0**e for e in range(int(np.floor(np.log10(lo))),
                                                 int(np.ceil(np.log10(hi))) + 1)
                      for m in range(1, 10) if lo <= m * 10.0**e <= hi})
    if len(out) < 3:  # narrower still: evenly spaced round numbers
        raw = (hi - lo) / 4
        mag = 10.0 ** np.floor(np.log10(raw))
        step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
        first = np.ceil(lo / step) * step
        out = [float(round(v, 10)) for v in np.arange(first, hi + step / 2, step) if v <= hi]
    return out


def _log_axis(fig: go.Figure, values: Sequence[np.ndarray], **where: int) -> None:
    finite = [v[np.isfinite(v) & (v > 0)] for v in values]
    finite = [v for v in finite if v.size]
    if not finite:
        fig.update_yaxes(type="log", **where)
        return
    lo = min(float(v.min()) for v in finite)
    hi = max(float(v.max()) for v in finite)
    ticks = log_ticks(lo, hi)
    fig.update_yaxes(type="log", tickvals=ticks or None,
                     ticktext=[f"{t:,.10g}" for t in ticks] or None, **where)


# --------------------------------------------------------------------------- overview
def score_gauge(ai_score: float, dotcom_peak: float | None, *, title: str = "Bubble-risk score",
                as_of: str | None = None) -> go.Figure:
    """Gauge of today's AI composite score (0-100) with the dot-com peak reading
    as a threshold mark and the difference as the delta."""
    ind = go.Indicator(
        mode="gauge+number+delta" if dotcom_peak is not None else "gauge+number",
        value=float(ai_score),
        number={"suffix": " / 100", "font": {"color": AI_COLOR}, "valueformat": ".0f"},
        delta=({"reference": float(dotcom_peak), "increasing": {"color": POSITIVE_COLOR},
                "decreasing": {"color": NEGATIVE_COLOR}, "suffix": " vs dot-com peak",
                "valueformat": ".0f"}
               if dotcom_peak is not None else None),
        title={"text": title + (f"<br><span style='font-size:0.8em'>as of {as_of}</span>"
                                if as_of else "")},
        gauge={
            "axis": {"range": [0, 100], "tickvals": [0, *SCORE_BAND_EDGES, 100]},
            "bar": {"color": AI_COLOR, "thickness": 0.3},
            "steps": [{"range": [lo, hi], "color": color} for lo, hi, color in
                      zip((0.0, *SCORE_BAND_EDGES), (*SCORE_BAND_EDGES, 100.0), BAND_COLORS,
                          strict=True)],
            "threshold": ({"line": {"color": DOTCOM_COLOR, "width": 5}, "thickness": 0.9,
                           "value": float(dotcom_peak)} if dotcom_peak is not None else None),
        },
    )
    fig = go.Figure(ind)
    fig.update_layout(height=300, margin={"l": 30, "r": 30, "t": 70, "b": 10},
                      font={"family": FONT})
    return fig


def components_chart(table: pd.DataFrame, *, ai_label: str = "AI today",
                     dotcom_label: str = "Dot-com at peak") -> go.Figure:
    """Horizontal bars: each composite component (0-100) for the AI cycle today
    and for the dot-com cohort at its peak. ``table`` is
    :func:`dashboard.transforms.component_table` output."""
    names = table["label"] if "label" in table.columns else table["component"]
    # wrapped, so the bars keep their width on a phone
    labels = [wrap_title(f"{c} (weight\u00a0{w:.0%})" if pd.notna(w) else str(c), 24)
              for c, w in zip(names, table["weight"], strict=True)]
    fig = go.Figure()
    fig.add_bar(y=labels, x=table["ai"], orientation="h", name=ai_label, marker_color=AI_COLOR,
                customdata=table[["ai_date"]].astype(str),
                hovertemplate="%{y}: %{x:.0f} / 100 on %{customdata[0]}<extra>" + ai_label
                + "</extra>")
    fig.add_bar(y=labels, x=table["dotcom_peak"], orientation="h", name=dotcom_label,
                marker_color=DOTCOM_COLOR, customdata=table[["dotcom_date"]].astype(str),
                hovertemplate="%{y}: %{x:.0f} / 100 on %{customdata[0]}<extra>" + dotcom_label
                + "</extra>")
    fig.update_layout(barmode="group")
    fig.update_xaxes(range=[0, 100])
    fig.update_yaxes(autorange="reversed")
    fig = _layout(fig, "Score components", y_title=None, x_title="Component score (0-100)",
                  height=max(260, 60 + 52 * len(table)))
    fig.update_layout(hovermode="closest")
    return fig


def score_history(ai: pd.Series, dotcom: pd.Series | None, *, peak: pd.Timestamp | None = None,
                  ai_band: pd.DataFrame | None = None, dotcom_band: pd.DataFrame | None = None,
                  extra: Mapping[str, pd.Series] | None = None,
                  title: str = "Like-for-like score through time") -> go.Figure:
    """A 0-100 reading through time for both cycles, on their own dates.

    ``ai_band``/``dotcom_band`` (columns ``lo``, ``hi``) are drawn as shaded
    uncertainty bands (the Monte Carlo 5-95%); ``extra`` adds dotted lines
    (the AI-only sub-score, the stress readings) by name.
    """
    fig = go.Figure()
    for band, name, fill in ((dotcom_band, "Dot-com cohort", "rgba(47, 109, 181, 0.15)"),
                             (ai_band, "AI cohort", "rgba(228, 87, 46, 0.15)")):
        if band is None or band.dropna().empty:
            continue
        b = band.dropna()
        fig.add_scatter(x=b.index, y=b["hi"].to_numpy(), mode="lines", line={"width": 0},
                        showlegend=False, hoverinfo="skip")
        fig.add_scatter(x=b.index, y=b["lo"].to_numpy(), mode="lines", line={"width": 0},
                        fill="tonexty", fillcolor=fill, name=f"{name}: 5-95% of draws",
                        hovertemplate=DATE_HOVER + ": 5% %{y:.1f}<extra></extra>")
    for s, name, color in ((dotcom, "Dot-com cohort", DOTCOM_COLOR), (ai, "AI cohort", AI_COLOR)):
        if s is not None and not s.dropna().empty:
            s = s.dropna()
            fig.add_scatter(x=s.index, y=s.to_numpy(), name=name, mode="lines",
                            line={"color": color, "width": 2},
                            hovertemplate=DATE_HOVER + ": %{y:.1f} / 100<extra>" + name
                            + "</extra>")
    dashes = ["dot", "dash", "dashdot", "longdash"]
    for i, (name, s) in enumerate((extra or {}).items()):
        if s is None or s.dropna().empty:
            continue
        s = s.dropna()
        color = DOTCOM_COLOR if "dot-com" in name.lower() else AI_COLOR
        fig.add_scatter(x=s.index, y=s.to_numpy(), name=name, mode="lines",
                        line={"color": color, "width": 1.2, "dash": dashes[i % len(dashes)]},
                        hovertemplate=DATE_HOVER + ": %{y:.1f} / 100<extra>" + name
                        + "</extra>")
    if peak is not None:
        fig.add_vline(x=pd.Timestamp(peak).to_pydatetime(), line_dash="dot", line_color=DOTCOM_COLOR,
                      annotation_text="Nasdaq peak", annotation_position="top")
    fig.update_yaxes(range=[0, 100])
    fig = _layout(fig, title, "Score (0-100)")
    date_axis(fig)
    fig.update_layout(hovermode="closest")
    return fig


def movers_chart(movers: pd.DataFrame, window: str, cohorts: Mapping[str, str] | None = None
                 ) -> go.Figure:
    """Bar chart of percent moves over ``window`` (a column of ``movers``),
    coloured by cohort."""
    cohorts = cohorts or {}
    df = movers.dropna(subset=[window]).sort_values(window)
    colors = [cohort_color(cohorts.get(s, "")) for s in df["symbol"]]
    fig = go.Figure(go.Bar(
        x=df[window], y=df["symbol"], orientation="h", marker_color=colors,
        customdata=np.stack([df["last_date"].astype(str), df["last"]], axis=-1)
        if not df.empty else None,
        hovertemplate="%{y}: %{x:+.1f} % to %{customdata[0]} (close %{customdata[1]:.2f} USD)"
                      "<extra></extra>",
    ))
    fig = _layout(fig, f"Top movers ({window})", y_title=None, x_title=f"Change over {window} (%)",
                  height=max(260, 40 + 22 * len(df)))
    fig.update_layout(hovermode="closest", showlegend=False)
    return fig


# --------------------------------------------------------------------------- analog
def analog_chart(aligned: pd.DataFrame, *, ai_label: str, dotcom_label: str,
                 anchor_label: str, log_y: bool = True) -> go.Figure:
    """Aligned, rebased paths (100 at the anchor) against trading days from the
    anchor; hover shows each path's real date. ``aligned`` is
    :func:`indicators.analog.paths_around` output."""
    fig = go.Figure()
    for col, label, color in (("dotcom", dotcom_label, DOTCOM_COLOR), ("ai", ai_label, AI_COLOR)):
        s = aligned[[col, f"{col}_date"]].dropna()
        fig.add_scatter(
            x=s.index, y=s[col], name=label, mode="lines", line={"color": color, "width": 2},
            customdata=pd.DatetimeIndex(s[f"{col}_date"]).strftime("%Y-%m-%d"),
            hovertemplate="day %{x}: %{y:.1f} on %{customdata}<extra>" + label + "</extra>",
        )
    fig.add_vline(x=0, line_dash="dot", line_color=CV_COLOR, annotation_text=anchor_label,
                  annotation_position="top left")
    ai_end = aligned["ai"].last_valid_index()
    if ai_end is not None:
        fig.add_vline(x=int(ai_end), line_dash="dash", line_color=AI_COLOR,
                      annotation_text="today", annotation_position="bottom right")
    if log_y:
        _log_axis(fig, [aligned["ai"].to_numpy(dtype=float),
                        aligned["dotcom"].to_numpy(dtype=float)])
    fig = _layout(fig, f"{ai_label} vs {dotcom_label}, aligned at {anchor_label}",
                  "Price rebased to 100 at anchor (log scale)" if log_y
                  else "Price rebased to 100 at anchor",
                  "Trading days from anchor")
    fig.update_layout(hovermode="x unified")
    return fig


def series_chart(df: pd.DataFrame, *, title: str, y_title: str, unit: str = "",
                 colors: Mapping[str, str] | None = None, labels: Mapping[str, str] | None = None,
                 hlines: Mapping[str, float] | None = None, log_y: bool = False,
                 y_range: Sequence[float] | None = None) -> go.Figure:
    """Line per column of a ``DatetimeIndex`` frame, hover with date and unit;
    optional labelled horizontal reference lines."""
    colors = colors or {}
    labels = labels or {}
    fig = go.Figure()
    for i, col in enumerate(df.columns):
        s = df[col].dropna()
        name = labels.get(col, str(col))
        fig.add_scatter(x=s.index, y=s.to_numpy(), name=name, mode="lines",
                        line={"color": colors.get(col, PALETTE[i % len(PALETTE)]), "width": 2},
                        hovertemplate=DATE_HOVER + ": %{y:,.2f}" + (f" {unit}" if unit else "")
                        + "<extra>" + name + "</extra>")
    if hlines and not df.empty:
        # reference levels as traces, not shapes: shapes on log axes need log10 positions
        x0, x1 = df.index.min(), df.index.max()
        dashes = ["dot", "dash", "dashdot", "longdash"]
        for i, (label, y) in enumerate(hlines.items()):
            fig.add_scatter(x=[x0, x1], y=[y, y], name=label, mode="lines",
                            line={"color": CV_COLOR, "width": 1.2, "dash": dashes[i % 4]},
                            hovertemplate=f"{label}: %{{y:,.2f}}" + (f" {unit}" if unit else "")
                            + "<extra></extra>")
    if log_y:
        _log_axis(fig, [df[c].to_numpy(dtype=float) for c in df.columns]
                  + [np.array(list((hlines or {}).values()), dtype=float)])
    if y_range is not None:
        fig.update_yaxes(range=list(y_range))
    return date_axis(_layout(fig, title, y_title), df.index)


# --------------------------------------------------------------------------- explosiveness
def _shade(fig: go.Figure, episodes: pd.DataFrame, last: pd.Timestamp | None, rows: Sequence[int]
           ) -> None:
    """Shade episodes (``kind, start, end``) as rectangles spanning each row's
    full height; an open episode (no end) runs to ``last``. Shapes are added in
    one layout update (``add_vrect`` per shape is slow on subplots)."""
    if episodes is None or episodes.empty:
        return
    shapes = list(fig.layout.shapes or ())
    for ep in episodes.itertuples(index=False):
        start = pd.Timestamp(ep.start)
        end = pd.Timestamp(ep.end) if ep.end is not None and pd.notna(ep.end) else last
        if end is None:
            continue
        fill = NEG_EPISODE_FILL if getattr(ep, "kind", "positive") == "negative" else EPISODE_FILL
        for r in rows:
            suffix = "" if r == 1 else str(r)
            shapes.append({"type": "rect", "xref": f"x{suffix}", "yref": f"y{suffix} domain",
                           "x0": start, "x1": end, "y0": 0, "y1": 1, "fillcolor": fill,
                           "line": {"width": 0}, "layer": "below"})
    fig.update_layout(shapes=shapes)


def bsadf_chart(wide: pd.DataFrame, episodes: pd.DataFrame, *, symbol: str,
                cv_field: str = "cv95", cv_label: str = "95 % critical value",
                series_label: str = "log price") -> go.Figure:
    """PSY explosiveness: the tested series on top, the BSADF sequence against
    its critical value below, episodes shaded in both.

    Parameters
    ----------
    wide
        Stored ``psy`` result for one symbol (fields ``series``, ``bsadf``, ``cv95``...).
    episodes
        Stored episodes (``kind, start, end``); an open episode runs to the last date.
    """
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.06,
                        row_heights=[0.45, 0.55])
    if "series" in wide.columns:
        s = wide["series"].dropna()
        fig.add_scatter(x=s.index, y=s.to_numpy(), name=f"{symbol} {series_label}", mode="lines",
                        line={"color": INDEX_COLOR, "width": 1.5}, row=1, col=1,
                        hovertemplate=DATE_HOVER + ": %{y:.3f}<extra>" + series_label
                        + "</extra>")
    if "bsadf" in wide.columns:
        b = wide["bsadf"].dropna()
        fig.add_scatter(x=b.index, y=b.to_numpy(), name="BSADF", mode="lines",
                        line={"color": AI_COLOR, "width": 1.8}, row=2, col=1,
                        hovertemplate=DATE_HOVER + ": BSADF %{y:.2f}<extra></extra>")
    if cv_field in wide.columns:
        c = wide[cv_field].dropna()
        fig.add_scatter(x=c.index, y=c.to_numpy(), name=cv_label, mode="lines",
                        line={"color": CV_COLOR, "width": 1.2, "dash": "dash"}, row=2, col=1,
                        hovertemplate=DATE_HOVER + ": cv %{y:.2f}<extra></extra>")
    last = wide.index.max() if not wide.empty else None
    _shade(fig, episodes, last, rows=(1, 2))
    fig.update_yaxes(title_text=series_label, row=1, col=1)
    fig.update_yaxes(title_text="ADF t-statistic", row=2, col=1)
    fig = _layout(fig, f"{symbol}: backward sup ADF (PSY 2015) with shaded bubble episodes",
                  y_title=None, x_title=None, height=560)
    fig.update_xaxes(title_text="Date", row=2, col=1)
    return date_axis(fig, wide.index)


# --------------------------------------------------------------------------- LPPLS
def lppls_chart(price: pd.Series, conf: pd.DataFrame, *, symbol: str) -> go.Figure:
    """Price (log scale) above, the LPPLS confidence indicators (0-1, positive
    bubbles up, negative bubbles down) below."""
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.06,
                        row_heights=[0.6, 0.4])
    p = price.dropna()
    fig.add_scatter(x=p.index, y=p.to_numpy(), name=f"{symbol} close", mode="lines",
                    line={"color": INDEX_COLOR, "width": 1.5}, row=1, col=1,
                    hovertemplate=DATE_HOVER + ": %{y:,.2f} USD<extra></extra>")
    if "pos_conf" in conf.columns:
        s = conf["pos_conf"].dropna()
        fig.add_bar(x=s.index, y=s.to_numpy(), name="positive bubble confidence",
                    marker_color=POSITIVE_COLOR, marker_line_width=0, row=2, col=1,
                    hovertemplate=DATE_HOVER + ": %{y:.0%} of fits<extra>positive</extra>")
    if "neg_conf" in conf.columns:
        s = conf["neg_conf"].dropna()
        fig.add_bar(x=s.index, y=-s.to_numpy(), name="negative bubble confidence",
                    marker_color=NEGATIVE_COLOR, marker_line_width=0, row=2, col=1,
                    customdata=s.to_numpy(),
                    hovertemplate=DATE_HOVER + ": %{customdata:.0%} of fits<extra>negative"
                                               "</extra>")
    _log_axis(fig, [p.to_numpy(dtype=float)], row=1, col=1)
    fig.update_yaxes(title_text="Close (USD, log)", row=1, col=1)
    fig.update_yaxes(title_text="Confidence (share of fits)", tickformat=".0%", range=[-1, 1],
                     row=2, col=1)
    fig = _layout(fig, f"{symbol}: LPPLS confidence indicator (Sornette / FCO)", y_title=None,
                  x_title=None, height=560)
    fig.update_layout(bargap=0)
    fig.update_xaxes(title_text="Date", row=2, col=1)
    return date_axis(fig, p.index.union(conf.index))


def tc_chart(conf: pd.DataFrame, *, symbol: str) -> go.Figure:
    """Critical-time distribution through time: for each fit end date, the
    median fitted critical time of the qualified fits (trading days after the
    end date) with its 10-90 % quantile band, positive and negative bubbles."""
    fig = go.Figure()
    for side, color, fill in (("pos", POSITIVE_COLOR, "rgba(214, 39, 40, 0.18)"),
                              ("neg", NEGATIVE_COLOR, "rgba(44, 160, 44, 0.18)")):
        med = f"{side}_tc_median_days"
        if med not in conf.columns or conf[med].dropna().empty:
            continue
        label = "positive bubble" if side == "pos" else "negative bubble"
        lo, hi = f"{side}_tc_q10_days", f"{side}_tc_q90_days"
        if lo in conf.columns and hi in conf.columns:
            band = conf[[lo, hi]].dropna()
            fig.add_scatter(x=band.index, y=band[hi].to_numpy(), mode="lines", line={"width": 0},
                            showlegend=False, hoverinfo="skip")
            fig.add_scatter(x=band.index, y=band[lo].to_numpy(), mode="lines", line={"width": 0},
                            fill="tonexty", fillcolor=fill, name=f"{label}: 10-90 % of fits",
                            hovertemplate=DATE_HOVER + ": q10 %{y:.0f} trading days"
                                          "<extra></extra>")
        m = conf[med].dropna()
        fig.add_scatter(x=m.index, y=m.to_numpy(), mode="markers+lines", name=f"{label}: median",
                        line={"color": color, "width": 1.5}, marker={"size": 4},
                        hovertemplate=DATE_HOVER + ": tc in %{y:.0f} trading days"
                                      "<extra>" + label + "</extra>")
    fig = _layout(fig, f"{symbol}: fitted critical time tc of the qualified fits",
                  "tc, trading days after the fit date", "Fit end date", height=360)
    fig.update_layout(hovermode="closest")
    return date_axis(fig, conf.index)


# --------------------------------------------------------------------------- capex
def capex_chart(quarterly: pd.DataFrame, ttm: pd.Series | None, *, unit: str = "USD bn",
                coverage: str | None = None) -> go.Figure:
    """Stacked quarterly capex per company (bars) and the group's trailing four
    quarters (line), both in ``unit``.

    Parameters
    ----------
    quarterly
        ``DatetimeIndex`` (quarter end) x company, already in ``unit``.
    ttm
        Trailing-four-quarter total, already in ``unit``.
    coverage
        What the total covers ("Alphabet only: 1 of 5 hyperscalers"): named in
        the line's legend and the title.
    """
    fig = go.Figure()
    for i, col in enumerate(quarterly.columns):
        s = quarterly[col].dropna()
        fig.add_bar(x=s.index, y=s.to_numpy(), name=f"{col} quarterly",
                    marker_color=PALETTE[i % len(PALETTE)],
                    hovertemplate="quarter to " + DATE_HOVER + ": %{y:,.1f} " + unit
                    + "<extra>" + str(col) + "</extra>")
    if ttm is not None and not ttm.dropna().empty:
        t = ttm.dropna()
        name = (f"trailing 4 quarters ({coverage})" if coverage
                else "hyperscalers, trailing 4 quarters")
        fig.add_scatter(x=t.index, y=t.to_numpy(), name=name,
                        mode="lines+markers", line={"color": AI_COLOR, "width": 3},
                        hovertemplate="TTM to " + DATE_HOVER + ": %{y:,.1f} " + unit
                                      + "<extra></extra>")
    fig.update_layout(barmode="stack")
    title = "Hyperscaler capex: by quarter and trailing four quarters"
    fig = _layout(fig, title + (f"<br><sup>{coverage}</sup>" if coverage else ""),
                  f"Capex ({unit})", "Quarter end")
    return date_axis(fig, quarterly.index)


def capex_vs_telecom(hyperscalers: pd.Series, telecom: pd.DataFrame, *, unit: str = "USD bn",
                     coverage: str | None = None,
                     annual_total: tuple[pd.Timestamp, float, str] | None = None) -> go.Figure:
    """Side by side on the same y scale: telecom carrier capex (annual, one bar
    series per column of ``telecom``; the title names the years present) and
    hyperscaler capex (trailing four quarters, ``hyperscalers``).

    ``coverage`` says which hyperscalers the trailing series holds (shown in
    the right panel's title and legend); ``annual_total`` is ``(date, value,
    label)`` of a whole-group annual figure (the members' latest fiscal years),
    drawn as a marker: the like-for-like figure beside annual telecom totals.
    """
    years_present = sorted({pd.Timestamp(d).year for d in telecom.dropna(how="all").index})
    span = (f"{years_present[0]}-{years_present[-1]}" if len(years_present) > 1
            else "".join(map(str, years_present)))
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, horizontal_spacing=0.04,
                        subplot_titles=(f"Telecom carriers<br>{span + ', ' if span else ''}annual",
                                        "Hyperscalers<br>trailing 4 quarters"
                                        + (f"<br>{coverage}" if coverage else "")))
    blues = ["#2F6DB5", "#6A9BD8", "#A7C4EA", "#1B3F73", "#4F7FB8"]
    for i, col in enumerate(telecom.columns):
        t = telecom[col].dropna()
        years = [str(pd.Timestamp(d).year) for d in t.index]
        fig.add_bar(x=years, y=t.to_numpy(), name=str(col), marker_color=blues[i % len(blues)],
                    customdata=[f"{pd.Timestamp(d):%Y-%m-%d}" for d in t.index],
                    hovertemplate="year to %{customdata}: %{y:,.1f} " + unit
                    + "<extra>" + str(col) + "</extra>", row=1, col=1)
    fig.update_xaxes(type="category", categoryorder="category ascending", title_text="Year",
                     row=1, col=1)
    h = hyperscalers.dropna()
    fig.add_scatter(x=h.index, y=h.to_numpy(),
                    name="Hyperscalers, trailing 4 quarters" + (f" ({coverage})" if coverage
                                                                 else ""),
                    mode="lines", line={"color": AI_COLOR, "width": 3}, fill="tozeroy",
                    hovertemplate="TTM to " + DATE_HOVER + ": %{y:,.1f} " + unit
                                  + "<extra></extra>", row=1, col=2)
    if annual_total is not None:
        when, value, label = annual_total
        fig.add_scatter(x=[when], y=[value], name=label, mode="markers+text",
                        marker={"color": AI_COLOR, "size": 13, "symbol": "diamond"},
                        text=[f"{value:,.0f}"], textposition="middle left",
                        hovertemplate=label + ": %{y:,.1f} " + unit + "<extra></extra>",
                        row=1, col=2)
    fig.update_yaxes(title_text=f"Capex ({unit})", row=1, col=1)
    fig.update_xaxes(title_text="Quarter end", row=1, col=2)
    date_axis(fig, h.index, row=1, col=2)
    fig.update_layout(barmode="group")
    fig = _layout(fig, "Build-out spending then and now", y_title=None, x_title=None, height=500)
    fig.update_layout(hovermode="closest", margin={"t": 110},
                      legend={"orientation": "h", "yanchor": "top", "y": -0.18, "x": 0.0,
                              "xanchor": "left"})
    return fig
