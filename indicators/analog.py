"""Analog: the AI cycle laid over the dot-com path.

For each analog pair (Nvidia vs Cisco; the equal-weighted AI basket vs the
dot-com basket) both price paths are normalised to 1 at an anchor and aligned
in trading days since it:

``event``
    named dates, by default ChatGPT's launch (2022-11-30) for the AI side and
    the Netscape IPO (1995-08-09) for the dot-com side;
``peak``
    each series' highest close (the dot-com one within the search range);
``runup_start``
    the low from which the latest two-year run-up of 100% or more began
    (Greenwood-Shleifer-You), and the one that carried the dot-com peak.

The distance between the paths is the root-mean-square difference of their
log levels since the anchor. The best-matching offset slides a window as long
as the AI path since its anchor across the dot-com series (within
``dotcom_search``) and keeps the window with the smallest distance: "today
looks like Cisco on <date>". What the dot-com series did over the following
6, 12 and 24 months (126, 252, 504 trading days) from that date is reported
beside it. This is pattern matching on one historical path, not a forecast.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view
from pydantic import BaseModel, ConfigDict, Field

from indicators.registry import (
    Column,
    ComputeContext,
    DataSource,
    Indicator,
    IndicatorResult,
    Meta,
    Params,
)
from indicators.runup import key_series, runup_frame

if TYPE_CHECKING:
    from bubblewatch.core.universe import Universe

ANCHORS = ("event", "peak", "runup_start")  # the values of AnalogParams.anchor


@dataclass(frozen=True, slots=True)
class BestMatch:
    """The dot-com window closest to the AI path.

    ``end`` is the dot-com date that corresponds to the AI path's last day;
    ``offset_days`` how many trading days later (positive) or earlier that
    window starts than the anchor alignment; ``forward`` maps a horizon in
    trading days to the dot-com simple return from ``end`` (None when the
    history stops first).
    """

    start: date
    end: date
    distance: float
    offset_days: int
    forward: Mapping[int, float | None]


def anchor_position(series: pd.Series, when: date) -> int:
    """Position of the first trading day on or after ``when``.

    Raises
    ------
    ValueError
        If ``when`` is after the last date of the series.
    """
    pos = int(series.index.searchsorted(pd.Timestamp(when)))
    if pos >= len(series):
        raise ValueError(f"anchor {when} is after the last price ({series.index[-1].date()})")
    return pos


def runup_start_position(series: pd.Series, before: int | None = None,
                         window: int = 504, threshold: float = 1.0) -> int | None:
    """Start of the latest GSY run-up beginning at or before position ``before``:
    the lowest close in the ``window`` days preceding the run-up's first
    flagged day. None if the series never rose ``threshold`` in ``window`` days."""
    flag = runup_frame(series, None, window=window, threshold=threshold)["flag"]
    flagged = np.flatnonzero(flag.fillna(0.0).to_numpy() > 0.5)
    if before is not None:
        flagged = flagged[flagged <= before]
    if not len(flagged):
        return None
    # first day of the last run of flagged days
    breaks = np.flatnonzero(np.diff(flagged) > 1)
    first = int(flagged[breaks[-1] + 1] if len(breaks) else flagged[0])
    lo = max(0, first - window)
    return lo + int(np.argmin(series.to_numpy()[lo : first + 1]))


def peak_position(series: pd.Series, search: tuple[date, date] | None = None) -> int:
    """Position of the highest close, within ``search`` (inclusive) when given.

    Raises
    ------
    ValueError
        If ``search`` holds no observation.
    """
    lo, hi = 0, len(series)
    if search is not None:
        lo = int(series.index.searchsorted(pd.Timestamp(search[0])))
        hi = int(series.index.searchsorted(pd.Timestamp(search[1]), side="right"))
    if hi <= lo:
        raise ValueError(f"no prices between {search[0]} and {search[1]}" if search else
                         "no prices")
    return lo + int(np.argmax(series.to_numpy()[lo:hi]))


def paths_around(ai: pd.Series, dotcom: pd.Series, ai_anchor: date | pd.Timestamp,
                 dotcom_anchor: date | pd.Timestamp, *, before: int = 750,
                 after: int = 750) -> pd.DataFrame:
    """Both paths rebased to 100 at their anchors, on a common axis of trading
    days since the anchor, for a window of ``before``/``after`` trading days.

    Each anchor snaps to the first trading day on or after it. Unlike
    :func:`aligned_paths` (the stored series, from the AI anchor to today), the
    dot-com path runs on past the AI side's last day, showing what followed.

    Returns
    -------
    DataFrame indexed by ``t`` (trading days from the anchor) with ``ai``,
    ``dotcom`` (100 at ``t = 0``), ``ai_date`` and ``dotcom_date``.
    """
    cols = {}
    for name, s, when in (("ai", ai, ai_anchor), ("dotcom", dotcom, dotcom_anchor)):
        s = s.dropna().sort_index()
        p0 = anchor_position(s, pd.Timestamp(when).date())
        lo, hi = max(0, p0 - before), min(len(s), p0 + after + 1)
        part = s.iloc[lo:hi]
        t = np.arange(lo, hi) - p0
        cols[name] = pd.Series(part.to_numpy() / float(s.iloc[p0]) * 100.0, index=t)
        cols[f"{name}_date"] = pd.Series(pd.DatetimeIndex(part.index), index=t)
    out = pd.DataFrame(cols)
    out.index.name = "t"
    return out[["ai", "dotcom", "ai_date", "dotcom_date"]]


def aligned_paths(ai: pd.Series, dotcom: pd.Series, ai_anchor: int, dotcom_anchor: int,
                  pre_days: int = 0) -> pd.DataFrame:
    """Both paths normalised at their anchors, on the AI series' dates.

    Returns ``t`` (trading days since the anchor), ``ai_path``,
    ``dotcom_path`` (the dot-com level ``t`` trading days after its anchor)
    and ``distance`` (RMS log difference from the anchor to each day).
    """
    first = max(0, ai_anchor - pre_days)
    a = ai.to_numpy(dtype=float)
    c = dotcom.to_numpy(dtype=float)
    k = np.arange(first, len(a))
    t = k - ai_anchor
    j = dotcom_anchor + t
    ok = (j >= 0) & (j < len(c))
    ai_path = a[k] / a[ai_anchor]
    dc_path = np.full(len(k), np.nan)
    dc_path[ok] = c[j[ok]] / c[dotcom_anchor]
    diff2 = (np.log(ai_path) - np.log(dc_path)) ** 2
    since = t >= 0
    cum = np.cumsum(np.where(since & ok, diff2, 0.0))
    cnt = np.cumsum(since & ok)
    with np.errstate(invalid="ignore", divide="ignore"):
        dist = np.where(since & (cnt > 0), np.sqrt(cum / np.maximum(cnt, 1)), np.nan)
    dist[since & ~ok] = np.nan
    return pd.DataFrame({"t": t.astype(float), "ai_path": ai_path, "dotcom_path": dc_path,
                         "distance": dist}, index=ai.index[first:])


def best_match(ai: pd.Series, dotcom: pd.Series, ai_anchor: int, dotcom_anchor: int,
               search: tuple[date, date], horizons: tuple[int, ...] = (126, 252, 504),
               match_days: int = 0) -> BestMatch:
    """Slide the AI path (since ``ai_anchor``, or its last ``match_days``) over the
    dot-com series and return the closest window.

    Windows must lie inside ``search``. Distance: RMS difference of log paths
    normalised at each window's first day.

    Raises
    ------
    ValueError
        If the search range holds no window as long as the AI path.
    """
    a = np.log(ai.to_numpy(dtype=float))
    start = ai_anchor if match_days <= 0 else max(0, len(a) - 1 - match_days)
    x = a[start:] - a[start]
    n = len(x)
    lo = int(dotcom.index.searchsorted(pd.Timestamp(search[0])))
    hi = int(dotcom.index.searchsorted(pd.Timestamp(search[1]), side="right"))
    c = np.log(dotcom.to_numpy(dtype=float))
    if hi - lo < n:
        raise ValueError(
            f"the dot-com search range {search[0]}..{search[1]} has {hi - lo} trading days, "
            f"fewer than the {n} of the AI path; widen dotcom_search or set match_days")
    windows = sliding_window_view(c[lo:hi], n)
    dist = np.sqrt(np.mean((windows - windows[:, :1] - x) ** 2, axis=1))
    w = int(np.nanargmin(dist))
    j_start, j_end = lo + w, lo + w + n - 1
    forward: dict[int, float | None] = {}
    for h in horizons:
        forward[h] = float(np.exp(c[j_end + h] - c[j_end]) - 1.0) if j_end + h < len(c) else None
    aligned_start = dotcom_anchor + (start - ai_anchor)
    return BestMatch(
        start=dotcom.index[j_start].date(), end=dotcom.index[j_end].date(),
        distance=float(dist[w]), offset_days=int(j_start - aligned_start), forward=forward,
    )


def forward_returns(series: pd.Series, pos: int,
                    horizons: tuple[int, ...]) -> dict[int, float | None]:
    """Simple returns from position ``pos`` over each horizon (None past the end)."""
    v = series.to_numpy(dtype=float)
    return {h: (float(v[pos + h] / v[pos] - 1.0) if pos + h < len(v) else None) for h in horizons}


def resolve_event(source: DataSource, name: str) -> date:
    """An event key of the reference events (``"chatgpt"``) or an ISO date."""
    events = source.events()
    if events is not None and not events.empty:
        hit = events[events["key"] == name]
        if not hit.empty:
            return pd.Timestamp(hit["date"].iloc[0]).date()
    from ingest.reference import reference_events

    builtin = {e["key"]: e["date"] for e in reference_events()}
    if name in builtin:
        return builtin[name]
    try:
        return date.fromisoformat(str(name))
    except ValueError:
        raise ValueError(f"unknown anchor event {name!r}: use an ISO date or one of "
                         f"{', '.join(sorted(builtin))}") from None


def _anchors(ai: pd.Series, dotcom: pd.Series, params: AnalogParams, source: DataSource,
             search: tuple[date, date]) -> tuple[int, int, str]:
    kind = params.anchor
    dc_peak = peak_position(dotcom, search)
    if kind == "peak":
        return peak_position(ai), dc_peak, "highest close of each series"
    if kind == "runup_start":
        a0 = runup_start_position(ai)
        d0 = runup_start_position(dotcom, before=dc_peak)
        if a0 is not None and d0 is not None:
            return a0, d0, "start of the latest 100% two-year run-up"
        kind = "event"  # fall through, said in the note
        note = "no 100% run-up found; fell back to the event anchors"
    else:
        note = "named events"
    ai_when = resolve_event(source, params.ai_event)
    dc_when = resolve_event(source, params.dotcom_event)
    return anchor_position(ai, ai_when), anchor_position(dotcom, dc_when), note


class AnalogParams(Params):
    """Parameters of the analog indicator."""

    anchor: Literal["event", "peak", "runup_start"] = Field(
        "event", description="how both paths are anchored: named events, each series' peak, "
        "or the start of its latest 100% two-year run-up")
    ai_event: str = Field("chatgpt", description="AI-side anchor: a reference event key or an "
                          "ISO date")
    dotcom_event: str = Field("netscape_ipo", description="dot-com-side anchor: a reference "
                              "event key or an ISO date")
    pre_days: int = Field(0, ge=0, description="trading days shown before the anchor")
    dotcom_search: tuple[date, date] = Field(
        (date(1993, 1, 1), date(2003, 12, 31)),
        description="dates within which the dot-com match and peak are searched")
    horizons_days: tuple[int, ...] = Field((126, 252, 504), description="horizons of 'what "
                                           "followed', trading days")
    match_days: int = Field(0, ge=0, description="match only the last this many trading days "
                            "(0: the whole path since the anchor)")


class AnalogMatch(BaseModel):
    """The dot-com window closest to the AI path since its anchor."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    dotcom_start: date
    dotcom_date: date
    distance: float
    offset_days: int
    forward_returns: dict[str, float | None]
    text: str


class AnalogMeta(Meta):
    """What is stored beside each analog pair's aligned paths."""

    ai: str
    dotcom: str
    anchor: str | None = None
    anchor_rule: str | None = None
    ai_anchor_date: date | None = None
    dotcom_anchor_date: date | None = None
    last_date: date | None = None
    days_since_anchor: int | None = None
    distance: float | None = None
    aligned_dotcom_date: date | None = None
    aligned_forward_returns: dict[str, float | None] | None = None
    best_match: AnalogMatch | None = None


def compute(ctx: ComputeContext, key: str, params: AnalogParams) -> IndicatorResult[AnalogMeta]:
    pair = next((p for p in ctx.universe.analog_pairs if p.name == key), None)
    if pair is None:
        raise ValueError(f"{key!r} is not an analog pair of the universe")
    ai = key_series(ctx.source, ctx.universe, pair.ai)
    dotcom = key_series(ctx.source, ctx.universe, pair.dotcom)
    missing = [n for n, s in ((pair.ai, ai), (pair.dotcom, dotcom)) if s.empty]
    if missing:
        return IndicatorResult(pd.DataFrame(), AnalogMeta(
            ai=pair.ai, dotcom=pair.dotcom,
            missing=f"no prices for {', '.join(missing)}: load them with `bubblewatch ingest`"))
    search = params.dotcom_search
    horizons = params.horizons_days
    ai_anchor, dc_anchor, how = _anchors(ai, dotcom, params, ctx.source, search)
    frame = aligned_paths(ai, dotcom, ai_anchor, dc_anchor, params.pre_days)
    n = len(ai) - 1 - ai_anchor
    aligned_pos = dc_anchor + n
    best, note = None, None
    if n >= 20:
        m = best_match(ai, dotcom, ai_anchor, dc_anchor, search, horizons, params.match_days)
        best = AnalogMatch(
            dotcom_start=m.start, dotcom_date=m.end, distance=m.distance,
            offset_days=m.offset_days, forward_returns={str(h): r for h, r in m.forward.items()},
            text=f"{pair.ai} today looks like {pair.dotcom} on {m.end.isoformat()}")
    else:
        note = f"only {n} trading days since the anchor; no best match computed"
    meta = AnalogMeta(
        ai=pair.ai, dotcom=pair.dotcom, anchor=params.anchor, anchor_rule=how,
        ai_anchor_date=ai.index[ai_anchor].date(),
        dotcom_anchor_date=dotcom.index[dc_anchor].date(),
        last_date=ai.index[-1].date(), days_since_anchor=int(n),
        distance=float(frame["distance"].iloc[-1]) if len(frame) else None,
        aligned_dotcom_date=(dotcom.index[aligned_pos].date()
                             if aligned_pos < len(dotcom) else None),
        aligned_forward_returns=({str(h): r for h, r in
                                  forward_returns(dotcom, aligned_pos, horizons).items()}
                                 if aligned_pos < len(dotcom) else None),
        best_match=best, note=note)
    return IndicatorResult(frame, meta)


def analog_keys(universe: Universe) -> list[str]:
    return [p.name for p in universe.analog_pairs if p.kind in ("price", "basket")]


INDICATOR = Indicator(
    name="analog",
    title="AI vs dot-com analog",
    description=(
        "Nvidia vs Cisco and the AI basket vs the dot-com basket: price paths normalised at an "
        "anchor (named event, peak, or run-up start) and aligned in trading days, the RMS "
        "distance between the log paths, and the best-matching dot-com window with what "
        "followed it over 6, 12 and 24 months."
    ),
    columns={
        "t": Column("Trading days since the anchor", "trading days",
                    "position relative to the anchor day (negative before it)"),
        "ai_path": Column("AI-side path", "ratio, 1.0 = anchor close",
                          "AI-side close divided by its close on the anchor day"),
        "dotcom_path": Column("Dot-com-side path", "ratio, 1.0 = anchor close",
                              "dot-com-side close the same number of trading days after its "
                              "anchor, divided by its anchor close"),
        "distance": Column("Distance between the paths", "log points",
                           "root-mean-square difference of the log paths from the anchor to "
                           "this day"),
    },
    params=AnalogParams,
    meta=AnalogMeta,
    keys=analog_keys,
    compute=compute,
    page="analog",
    sampling="daily (trading days of the AI side)",
)
