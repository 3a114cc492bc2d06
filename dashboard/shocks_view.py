"""Tables and figures of the Policy & shocks page: pure functions from the
stored ``shocks`` results (wide frames and :class:`~indicators.shocks.ShocksMeta`)
to frames and plotly figures. No Streamlit calls, no I/O and no statistics:
every number shown is a stored one.

Frames named ``*_view`` and the figures are for people: keys by ``label``
(a symbol, basket or cohort as the universe names it), events by their title
and date (``events``: key -> name), categories by their names
(:func:`indicators.vocabulary.category_label`), people's headers. The other
frames keep the machine keys: they are what the downloads serve."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import pandas as pd
import plotly.graph_objects as go

from dashboard import charts as ch
from dashboard.transforms import keys_in_words
from indicators import vocabulary
from indicators.event_study import window_label
from indicators.shocks import COHORTS, WINDOW_MENU, ShocksMeta, StudiedEvent

#: Window label ("[0,+5]") -> field suffix ("0_5").
WINDOW_SUFFIX = {window_label(a, b): s for (a, b), s in WINDOW_MENU.items()}
CATEGORY_COLORS = {
    "export_control": "#D62728", "china_policy": "#E4572E", "demand_shock": "#6C4AB6",
    "financing": "#76B041", "earnings": "#2F6DB5", "dotcom_turning_point": "#17BEBB",
    "product_launch": "#F3A712", "monetary_policy": "#8C564B", "market_peak_trough": "#7F7F7F",
    "listing": "#BCBD22",
}
KIND_ORDER = {"cohort": 0, "basket": 1, "symbol": 2}
#: People's names of the cycles (``era``) events belong to.
ERA_NAMES = {"ai": "AI cycle", "dotcom": "Dot-com", "other": "Other"}
#: People's names of the shrug-off measures.
MEASURE_NAMES = {"abs_car": "|CAR|", "recovery": "Recovery time"}
#: People's headers of :func:`shrug_view`.
SHRUG_HEADERS = {
    "key": "Study of", "subject": "Measured on", "category": "Category", "era": "Cycle",
    "measure": "Measure", "window": "Window", "n": "Events", "slope": "Slope", "t": "t",
    "p": "p", "reading": "Reading", "events": "Events studied", "notes": "Notes",
}
#: People's headers of :func:`charges_view`.
CHARGE_HEADERS = {
    "symbol": "Who", "period_start": "Period start", "period_end": "Period end",
    "what": "What", "value": "Value", "unit": "Unit", "event": "After event",
    "label": "Figure", "source_tag": "Source kind",
}
#: People's headers of :func:`skipped_view`.
SKIPPED_HEADERS = {"event": "Event", "symbol": "Security", "reason": "Why not"}


def ordered_keys(metas: Mapping[str, ShocksMeta | None]) -> list[str]:
    """Cohorts, then baskets, then symbols (each in stored order)."""
    return sorted((k for k, m in metas.items() if m is not None),
                  key=lambda k: (KIND_ORDER[metas[k].kind], list(metas).index(k)))  # type: ignore[union-attr]


def primary_events(meta: ShocksMeta) -> list[StudiedEvent]:
    """The events with their own row (not sharing an earlier event's day 0)."""
    return [e for e in meta.events if e.same_day0_as is None]


def _titles(meta: ShocksMeta) -> dict[str, tuple[str, str]]:
    """day 0 (ISO) -> (event keys, titles) joined, for events sharing a day 0."""
    out: dict[str, tuple[list[str], list[str]]] = {}
    for e in meta.events:
        keys, titles = out.setdefault(e.day0.isoformat(), ([], []))
        keys.append(e.key)
        titles.append(e.title)
    return {d: (", ".join(k), "; ".join(t)) for d, (k, t) in out.items()}


def event_rows(wide: pd.DataFrame, meta: ShocksMeta, window: str) -> pd.DataFrame:
    """One row per stored event of a key: day 0, event, title, category, era,
    the CAR over ``window`` (label) with its interval and test statistic, and
    the recovery fields."""
    s = WINDOW_SUFFIX[window]
    titles = _titles(meta)
    rows = []
    for e in primary_events(meta):
        ts = pd.Timestamp(e.day0)
        if ts not in wide.index:
            continue
        r = wide.loc[ts]
        stat_name = "KP t" if meta.kind == "cohort" else "t"
        stat = r.get(f"kp_t_{s}") if meta.kind == "cohort" else r.get(f"t_{s}")
        keys, title = titles[e.day0.isoformat()]
        rows.append({
            "day0": ts, "date": pd.Timestamp(e.date), "event": keys, "title": title,
            "category": e.category, "era": e.era, "window": window,
            "car": r.get(f"car_{s}"), "ci_lo": r.get(f"ci_lo_{s}"), "ci_hi": r.get(f"ci_hi_{s}"),
            "stat": stat_name, "stat_value": stat,
            "recovery_days": r.get("recovery_days"), "recovered": r.get("recovered"),
            "recovery_vs_history": r.get("recovery_vs_history"),
            "recovery_median_before": r.get("recovery_median_before"),
        })
    return pd.DataFrame(rows)


def timeline_chart(rows: pd.DataFrame, subject: str, window: str) -> go.Figure:
    """CAR of each event (dots on its day 0, coloured by category, named by the
    category's name) with its 95% interval as error bars; ``subject`` is the
    key's name for people."""
    fig = go.Figure()
    for cat, g in rows.groupby("category", sort=False):
        name = vocabulary.category_label(str(cat))
        fig.add_scatter(
            x=g["day0"], y=100 * g["car"], mode="markers", name=name,
            marker={"color": CATEGORY_COLORS.get(str(cat), ch.INDEX_COLOR), "size": 10},
            error_y={"type": "data", "symmetric": False,
                     "array": 100 * (g["ci_hi"] - g["car"]),
                     "arrayminus": 100 * (g["car"] - g["ci_lo"]), "thickness": 1.2},
            customdata=g[["title", "stat", "stat_value"]].to_numpy(),
            hovertemplate=(ch.DATE_HOVER + " %{customdata[0]}<br>CAR %{y:+.1f} %, "
                           "%{customdata[1]} = %{customdata[2]:.2f}<extra>" + name
                           + "</extra>"))
    if not rows.empty:
        fig.add_hline(y=0, line={"color": ch.CV_COLOR, "width": 1})
    fig = ch._layout(fig, f"{subject}: CAR {window} by event, 95 % interval",
                     "CAR, % (abnormal vs market model)", "Day 0")
    fig.update_layout(hovermode="closest")
    return fig


def cross_section(wides: Mapping[str, pd.DataFrame], metas: Mapping[str, ShocksMeta | None],
                  event: str, window: str) -> pd.DataFrame:
    """Every key's reaction to ``event`` over ``window``: CAR, interval, the
    key's test (t, or BMP and KP t for cohorts) and recovery time."""
    s = WINDOW_SUFFIX[window]
    rows = []
    for key in ordered_keys(metas):
        meta = metas[key]
        assert meta is not None
        ev = next((e for e in meta.events if e.key == event), None)
        wide = wides.get(key, pd.DataFrame())
        if ev is None or pd.Timestamp(ev.day0) not in wide.index:
            continue
        r = wide.loc[pd.Timestamp(ev.day0)]
        rows.append({
            "key": key, "kind": meta.kind, "day0": pd.Timestamp(ev.day0), "window": window,
            "car": r.get(f"car_{s}"), "ci_lo": r.get(f"ci_lo_{s}"), "ci_hi": r.get(f"ci_hi_{s}"),
            "t": r.get(f"t_{s}"), "bmp_t": r.get(f"bmp_t_{s}"), "kp_t": r.get(f"kp_t_{s}"),
            "p_kp": r.get(f"p_kp_{s}"), "n": r.get(f"n_{s}"),
            "recovery_days": r.get("recovery_days"), "recovered": r.get("recovered"),
        })
    return pd.DataFrame(rows)


def cross_chart(cross: pd.DataFrame, title: str, label: Callable[[str], str]) -> go.Figure:
    """Horizontal bars of the CARs of every key (named by ``label``) with their
    95% intervals."""
    fig = go.Figure()
    if not cross.empty:
        colors = [ch.cohort_color(k) if kind == "cohort"
                  else ch.cohort_color(k.split("_")[0]) if kind == "basket" else ch.INDEX_COLOR
                  for k, kind in zip(cross["key"], cross["kind"], strict=True)]
        fig.add_bar(
            y=[label(k) for k in cross["key"]], x=100 * cross["car"], orientation="h",
            marker={"color": colors},
            error_x={"type": "data", "symmetric": False,
                     "array": 100 * (cross["ci_hi"] - cross["car"]),
                     "arrayminus": 100 * (cross["car"] - cross["ci_lo"]), "thickness": 1.2},
            hovertemplate="%{y}: CAR %{x:+.1f} %<extra></extra>", name="CAR")
        fig.update_yaxes(autorange="reversed")
    fig = ch._layout(fig, title, None, "CAR, % (95 % interval)",
                     height=max(320, 28 * len(cross) + 120))
    fig.update_layout(hovermode="closest", showlegend=False)
    return fig


def car_table(wides: Mapping[str, pd.DataFrame], metas: Mapping[str, ShocksMeta | None],
              event: str, windows: Sequence[str]) -> pd.DataFrame:
    """:func:`cross_section` over every window in ``windows``: one row per
    (key, window), keys in page order, windows in the given order."""
    parts = [cross_section(wides, metas, event, w) for w in windows]
    parts = [p for p in parts if not p.empty]
    if not parts:
        return pd.DataFrame()
    out = pd.concat(parts, ignore_index=True)
    order = {k: i for i, k in enumerate(ordered_keys(metas))}
    out["_k"], out["_w"] = out["key"].map(order), out["window"].map(list(windows).index)
    return out.sort_values(["_k", "_w"]).drop(columns=["_k", "_w"]).reset_index(drop=True)


def cross_display(cross: pd.DataFrame, label: Callable[[str], str]) -> pd.DataFrame:
    """:func:`cross_section` for people: keys named by ``label``, people's
    headers, CARs in percent, statistics rounded, day 0 as a date, empty
    columns dropped (gaps left for :func:`dashboard.ui.table` to show as ``–``)."""
    if cross.empty:
        return cross
    out = pd.DataFrame({
        "Symbol, basket or cohort": cross["key"].map(label), "Kind": cross["kind"],
        "Day 0": pd.to_datetime(cross["day0"]).dt.strftime("%Y-%m-%d"),
        "Window": cross["window"],
        "CAR %": (100 * cross["car"]).round(2),
        "95 % low": (100 * cross["ci_lo"]).round(2),
        "95 % high": (100 * cross["ci_hi"]).round(2),
        "t": cross["t"].astype(float).round(2), "BMP t": cross["bmp_t"].astype(float).round(2),
        "KP t": cross["kp_t"].astype(float).round(2),
        "KP p": cross["p_kp"].astype(float).round(3), "Members": cross["n"],
        f"{vocabulary.label('shocks', 'recovery_days')} (sessions)": cross["recovery_days"],
        vocabulary.label("shocks", "recovered"): cross["recovered"].map(
            {1.0: "yes", 0.0: "not yet"}),
    })
    return out.dropna(axis=1, how="all")


def recovery_chart(rows: pd.DataFrame, subject: str) -> go.Figure:
    """Recovery time of each event, one bar per day 0 (solid: recovered; open:
    the sessions so far), against the median of the earlier recoveries;
    ``subject`` is the key's name for people."""
    fig = go.Figure()
    if not rows.empty:
        x = pd.to_datetime(rows["day0"]).dt.strftime("%Y-%m-%d")
        done = (rows["recovered"] == 1).to_numpy()
        for mask, name, style in ((done, "recovered", {"color": ch.DOTCOM_COLOR}),
                                  (~done, "not yet: sessions so far",
                                   {"color": "white", "line": {"color": ch.AI_COLOR, "width": 2}})):
            g = rows[mask]
            fig.add_bar(x=x[mask], y=g["recovery_days"], name=name, marker=style,
                        customdata=g[["title"]].to_numpy(),
                        hovertemplate="%{x} %{customdata[0]}: %{y:,.0f} sessions"
                        "<extra>" + name + "</extra>")
        med = rows["recovery_median_before"].notna().to_numpy()
        fig.add_scatter(x=x[med], y=rows.loc[med, "recovery_median_before"], mode="markers",
                        name="median of earlier recoveries",
                        marker={"symbol": "line-ew-open", "size": 22, "color": ch.CV_COLOR,
                                "line": {"width": 3}},
                        hovertemplate="%{x}: median %{y:,.0f} sessions<extra></extra>")
        fig.update_xaxes(type="category", categoryorder="array", categoryarray=list(x))
    fig = ch._layout(fig, f"{subject}: sessions to recover the pre-event close",
                     "sessions", "Day 0")
    fig.update_layout(hovermode="closest", barmode="overlay")
    return fig


def shrug_table(metas: Mapping[str, ShocksMeta | None], keys: Sequence[str]) -> pd.DataFrame:
    """The shrug-off readings of ``keys``, one row per (subject, category, era, measure)."""
    rows = []
    for key in keys:
        meta = metas.get(key)
        for s in (meta.shrug_off if meta is not None else []):
            rows.append({"key": key, "subject": s.subject, "category": s.category, "era": s.era,
                         "measure": s.measure, "window": s.window, "n": s.n,
                         "slope": s.slope, "t": s.t, "p": s.p, "reading": s.reading,
                         "events": ", ".join(s.events), "notes": "; ".join(s.notes)})
    return pd.DataFrame(rows)


def shrug_view(shrug: pd.DataFrame, label: Callable[[str], str],
               events: Mapping[str, str]) -> pd.DataFrame:
    """:func:`shrug_table` for people: keys by ``label``, categories, cycles and
    measures by their names, events (also those named in the notes) by
    ``events`` (key -> title and date), people's headers."""
    if shrug.empty:
        return shrug
    out = shrug.assign(
        key=shrug["key"].map(label), subject=shrug["subject"].map(label),
        category=shrug["category"].map(vocabulary.category_label),
        era=shrug["era"].map(lambda e: ERA_NAMES.get(e, e)),
        measure=shrug["measure"].map(lambda m: MEASURE_NAMES.get(m, m)),
        events=shrug["events"].map(lambda t: "; ".join(
            events.get(k, k) for k in str(t).split(", ") if k)),
        notes=keys_in_words(shrug["notes"], events),
        slope=shrug["slope"].astype(float).round(4), t=shrug["t"].astype(float).round(2),
        p=shrug["p"].astype(float).round(3))
    return out[list(SHRUG_HEADERS)].rename(columns=SHRUG_HEADERS)


def exposure_frame(metas: Mapping[str, ShocksMeta | None]) -> pd.DataFrame:
    """Every key's revenue-exposure figures (one row per cited figure)."""
    rows = [{**f.model_dump(), "symbol": key} for key, m in metas.items() if m is not None
            for f in m.exposure]
    return pd.DataFrame(rows)


def charges_frame(metas: Mapping[str, ShocksMeta | None]) -> pd.DataFrame:
    """Every key's dated charges and sales at risk, with the event they follow."""
    rows = [{**f.model_dump(), "symbol": key} for key, m in metas.items() if m is not None
            for f in m.charges]
    return pd.DataFrame(rows)


def charges_view(charges: pd.DataFrame, label: Callable[[str], str],
                 events: Mapping[str, str]) -> pd.DataFrame:
    """:func:`charges_frame` for people: the company by ``label``, each charge
    by its label (not its key), the event it followed by its title and date
    (``events``), people's headers; no event stays a gap."""
    if charges.empty:
        return charges
    out = charges.assign(
        symbol=charges["symbol"].map(label),
        event=charges["event"].map(lambda k: events.get(k, k) if isinstance(k, str) else None))
    return out[list(CHARGE_HEADERS)].rename(columns=CHARGE_HEADERS)


def skipped_view(skipped: pd.DataFrame, label: Callable[[str], str],
                 events: Mapping[str, str]) -> pd.DataFrame:
    """The events a key could not be studied for (``event, symbol, reason``),
    for people: events by ``events``, securities by ``label``."""
    out = skipped.assign(event=skipped["event"].map(lambda k: events.get(k, k)),
                         symbol=skipped["symbol"].map(label))
    return out[list(SKIPPED_HEADERS)].rename(columns=SKIPPED_HEADERS)


def exposure_chart(exposure: pd.DataFrame) -> go.Figure:
    """China and data-centre revenue shares (%) by period end, one colour per
    company and metric: quarterly figures as a line with dots, annual ones as
    open diamonds."""
    fig = go.Figure()
    shares = exposure[exposure["unit"] == "%"] if not exposure.empty else exposure
    pairs = sorted(set(zip(shares["entity"], shares["metric"], strict=True))) \
        if not shares.empty else []
    for (entity, metric, period), g in (shares.groupby(["entity", "metric", "period"], sort=True)
                                        if not shares.empty else []):
        g = g.sort_values("period_end")
        color = ch.PALETTE[pairs.index((entity, metric)) % len(ch.PALETTE)]
        quarterly = period == "quarter"
        name = f"{entity}: {g['what'].iloc[0]} ({'quarterly' if quarterly else 'annual'})"
        fig.add_scatter(
            x=pd.to_datetime(g["period_end"]), y=g["value"], name=name,
            mode="lines+markers" if quarterly else "markers", line={"color": color},
            marker={"size": 9 if quarterly else 11, "color": color,
                    "symbol": "circle" if quarterly else "diamond-open"},
            customdata=g[["label", "source_tag"]].to_numpy(),
            hovertemplate=ch.DATE_HOVER + ": %{y:.1f} %<br>%{customdata[0]} "
            "(source %{customdata[1]})<extra></extra>")
    fig = ch._layout(fig, "Revenue exposure: China and data-centre shares (cited figures)",
                     "% of revenue", "Period end", height=460)
    fig.update_layout(hovermode="closest", legend={"orientation": "h", "yanchor": "top",
                                                   "y": -0.18, "xanchor": "left", "x": 0.0})
    return fig


def cohort_members(meta: ShocksMeta | None) -> str:
    """``"NVDA, MSFT, ... (missing: X)"`` for a basket or cohort."""
    if meta is None or not meta.members:
        return ""
    text = ", ".join(m for m in meta.members if m not in meta.members_missing)
    return text + (f" (no prices: {', '.join(meta.members_missing)})"
                   if meta.members_missing else "")


def cohort_basket(key: str) -> str | None:
    """The basket behind a cohort key (None for other keys)."""
    return COHORTS.get(key)
