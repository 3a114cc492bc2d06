"""The LPPLS page's Trust readings: pure functions from the stored ``lppls``
result to text and figure layers (no Streamlit calls, no statistics)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard import charts as ch

TRUST_SIDES = {"pos_trust": ("positive-bubble Trust", ch.POSITIVE_COLOR, 1.0),
               "neg_trust": ("negative-bubble Trust", ch.NEGATIVE_COLOR, -1.0)}


def latest_trust(conf: pd.DataFrame) -> tuple[pd.Timestamp, float, float] | None:
    """``(date, positive, negative)`` of the latest end date with a Trust
    reading, or None when none is stored."""
    if "pos_trust" not in conf.columns:
        return None
    rows = conf.dropna(subset=["pos_trust"])
    if rows.empty:
        return None
    last = rows.iloc[-1]
    return pd.Timestamp(rows.index[-1]), float(last["pos_trust"]), float(last.get(
        "neg_trust", float("nan")))


def add_trust(fig: go.Figure, conf: pd.DataFrame) -> go.Figure:
    """Trust readings as diamonds on the confidence panel (row 2 of
    :func:`dashboard.charts.lppls_chart`): positive up, negative down."""
    for field, (label, color, sign) in TRUST_SIDES.items():
        if field not in conf.columns:
            continue
        s = conf[field].dropna()
        if s.empty:
            continue
        fig.add_scatter(x=s.index, y=sign * s.to_numpy(), name=label, mode="markers",
                        marker={"symbol": "diamond", "size": 8, "color": color,
                                "line": {"color": "white", "width": 1}},
                        customdata=s.to_numpy(), row=2, col=1,
                        hovertemplate=ch.DATE_HOVER + ": Trust %{customdata:.0%}<extra>"
                        + label + "</extra>")
    return fig
