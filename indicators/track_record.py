"""Track record: what bubblewatch would have said on each date, and what followed.

``track_record`` replays the pipeline point in time (:mod:`indicators.pit_replay`)
for one key, a cohort (``ai``, ``dotcom``) or a symbol, and stores per reading
date (weekly by default, from 1995):

* the composite readings as they would have been made then: ``score`` (the
  like-for-like headline), its 5-95% band, ``band``, ``ai_only`` (AI cohort),
  ``stress``, the component scores ``c_<name>``, and the same-inputs changes
  the band alerts read;
* the real-time monitors' flags ``flag_<procedure>`` (a PSY-type monitor flags
  a date inside a positive episode confirmed by then; a CUSUM monitor while
  its detector is above the boundary) and ``flag_composite`` (the headline in
  ``warn_band`` or above);
* the inputs the default alert rules read, replayed point in time
  (``ret_2y``, ``high_var_prob``, ``bsadf``/``cv95``, ``pos_conf``, ``pe_ttm``);
* what followed, with hindsight, for judging the readings and never read by
  them: ``level`` (the close or basket level), ``fwd_mdd_12m``/``fwd_mdd_24m``
  (forward maximum drawdowns) and ``calm`` (1: no 40% crash within two years;
  0: one follows; empty: not known yet), see :mod:`indicators.lead_time`.

Events are the real-time episodes (kind = procedure; ``attrs.confirmed`` is
the date the monitor reported it, ``attrs.direction`` positive or negative),
the CUSUM alarm spells, and the headline's warning spells (kind
``composite``).

It is not run by a plain ``bubblewatch compute`` (no default keys): ``bubblewatch
backtest`` runs it for every key, or ``bubblewatch compute track_record
--symbols ai,NVDA`` for some. The keys of one run share their inputs (the
members' monitors, the baskets, the regime refits), so a run over every key
costs little more than one over the two cohorts.

``track_record_alerts`` holds the alerts the current rules would have fired on
those readings; :mod:`alerts.replay` makes them (the rules live above the
indicators) and ``bubblewatch backtest`` stores them, so ``compute`` never
runs it.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from bubblewatch.core.errors import ConfigError
from indicators.composite import COHORTS, COMPONENTS
from indicators.lead_time import (
    CRASH,
    CRASH_YEARS,
    alarm_table,
    calm_flags,
    crash_peaks,
    forward_max_drawdown,
    lead_table,
)
from indicators.pit_replay import (
    COMPOSITE,
    PROCEDURES,
    Replay,
    ReplayParams,
    realtime_inputs_note,
)
from indicators.registry import (
    Column,
    ComputeContext,
    Indicator,
    IndicatorEvent,
    IndicatorResult,
    Meta,
    Params,
    params_hash,
)

if TYPE_CHECKING:
    from bubblewatch.core.universe import Universe

NAME = "track_record"
ALERTS_NAME = "track_record_alerts"

#: Signals judged in the report, in order: the headline warning, then the monitors.
SIGNALS: tuple[str, ...] = (COMPOSITE, *PROCEDURES)
#: Each signal as people read it (page headers, chart rows, the flag columns' labels);
#: :func:`indicators.vocabulary.signal_label` reads it.
SIGNAL_LABELS: dict[str, str] = {
    COMPOSITE: "Headline (warn band)",
    "psy_pointwise": "PSY, pointwise",
    "psy_sadf": "PSY, SADF rule",
    "ps2020": "Phillips-Shi 2020",
    "hb": "Homm-Breitung",
    "ahltz": "AHLTZ",
    "bd": "Breitung-Diegel",
}
#: Reference peaks of the report: the Nasdaq Composite's record close (2000-03-10, also the
#: dot-com cohort's compared date) and Cisco's (2000-03-27), from the product brief.
REFERENCE_PEAKS: tuple[tuple[str, date], ...] = (
    ("^IXIC", date(2000, 3, 10)),
    ("CSCO", date(2000, 3, 27)),
    ("dotcom", date(2000, 3, 10)),
)
#: A crash peak found within this many days of a given peak is the same peak.
NEAR_DAYS = 31

#: (indicator, field) the live rules read -> the column holding its replay.
REPLAYED_FIELDS: dict[tuple[str, str], str] = {
    ("composite", "score"): "score",
    ("composite", "ai_only"): "ai_only",
    ("composite", "stress"): "stress",
    ("composite", "coverage"): "coverage",
    ("composite", "score_change_same_inputs"): "score_change_same_inputs",
    ("composite", "ai_only_change_same_inputs"): "ai_only_change_same_inputs",
    ("runup", "ret_2y"): "ret_2y",
    ("regime", "high_var_prob"): "high_var_prob",
    ("psy", "bsadf"): "bsadf",
    ("psy", "cv95"): "cv95",
    ("lppls", "pos_conf"): "pos_conf",
    ("valuation", "pe_ttm"): "pe_ttm",
}
#: Indicators whose episodes are replayed -> the event kind holding them.
REPLAYED_EPISODES: dict[str, str] = {"psy": "psy_pointwise"}
_BASKET_TO_COHORT = {b: c for c, b in COHORTS.items()}
#: Live indicators keyed by cohort (composite), by basket and symbol, or by symbol.
_KEYED_BY = {"composite": "cohort", "runup": "both", "regime": "both", "psy": "symbol",
             "lppls": "symbol", "valuation": "symbol"}


def replayed_key(indicator: str, live_key: str) -> str | None:
    """The ``track_record`` key that replays ``indicator``'s ``live_key``
    (``ai_basket`` -> ``ai``), or None when the backtest does not replay it."""
    kind = _KEYED_BY.get(indicator)
    if kind is None:
        return None
    if kind == "cohort":
        return live_key if live_key in COHORTS else None
    if live_key in _BASKET_TO_COHORT:
        return _BASKET_TO_COHORT[live_key] if kind == "both" else None
    return None if live_key in COHORTS else live_key


def live_key(indicator: str, key: str) -> str:
    """The live key a ``track_record`` key stands for in ``indicator`` (``ai`` ->
    ``ai_basket`` for run-up and regime)."""
    if key in COHORTS and _KEYED_BY.get(indicator) == "both":
        return COHORTS[key]
    return key


# --------------------------------------------------------------------------- metadata
class ProcedureSummary(BaseModel):
    """One signal on one key: what flags a date, how often, and any note."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    flags: str
    first_flag: date | None = None
    flagged_dates: int = 0
    readings: int = 0
    note: str | None = None


class RefitSummary(BaseModel):
    """The regime refits behind ``high_var_prob``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    made: int
    failed: dict[str, str] = Field(default_factory=dict)


class TrackRecordMeta(Meta):
    """What is stored beside each key's track record."""

    kind: str = "symbol"
    first_date: date | None = None
    last_date: date | None = None
    freq: str = "W"
    readings: int = 0
    series: str = ""
    headline: list[str] = Field(default_factory=list)
    ai_only: list[str] = Field(default_factory=list)
    stress: list[str] = Field(default_factory=list)
    excluded: dict[str, str] = Field(default_factory=dict)
    warn_band: str = "high"
    signals: dict[str, ProcedureSummary] = Field(default_factory=dict)
    regime: RefitSummary | None = None
    calm_definition: str = (f"no fall of {CRASH:.0%} from a peak within {CRASH_YEARS} years "
                            "(Greenwood, Shleifer & You 2019), the years observed in full")
    point_in_time: list[str] = Field(default_factory=list)
    seconds: dict[str, float] = Field(default_factory=dict)


class TrackRecordAlertsParams(Params):
    """What the stored alerts were replayed from (set by ``bubblewatch backtest``)."""

    track_record_params: str = Field("", description="parameter hash of the track_record run "
                                     "the rules were replayed on")
    rules_file: str | None = Field(None, description="the rules file (None: the shipped "
                                   "default rules)")


class TrackRecordAlertsMeta(Meta):
    """The rules replayed on one key and what they would have fired."""

    rules: list[str] = Field(default_factory=list)
    skipped: dict[str, str] = Field(default_factory=dict)
    n_alerts: int = 0
    first_alert: date | None = None
    last_alert: date | None = None


# --------------------------------------------------------------------------- columns
def _columns() -> dict[str, Column]:
    cols = {
        "score": Column("Headline score, as read then", "score 0-100",
                        "like-for-like headline from the inputs known on the date"),
        "score_p05": Column("Headline, 5th percentile", "score 0-100", "Monte Carlo band"),
        "score_p95": Column("Headline, 95th percentile", "score 0-100", "Monte Carlo band"),
        "coverage": Column("Headline coverage", "fraction 0-1",
                           "share of the headline's weight backed by data"),
        "band": Column("Band", "0 low, 1 moderate, 2 elevated, 3 high, 4 extreme",
                       "band of the headline (edges 20, 40, 60, 80)"),
        "score_change_same_inputs": Column(
            "Headline change on unchanged inputs", "score points",
            "change since the previous reading over the components present on both"),
        "ai_only": Column("AI-only sub-score, as read then", "score 0-100",
                          "AI cohort: components without a dot-com counterpart"),
        "ai_only_p05": Column("AI-only, 5th percentile", "score 0-100", "Monte Carlo band"),
        "ai_only_p95": Column("AI-only, 95th percentile", "score 0-100", "Monte Carlo band"),
        "ai_only_coverage": Column("AI-only coverage", "fraction 0-1",
                                   "share of the sub-score's weight backed by data"),
        "ai_only_change_same_inputs": Column(
            "AI-only change on unchanged inputs", "score points",
            "change since the previous reading over the components present on both"),
        "stress": Column("Stress reading, as read then", "score 0-100",
                         "drawdown, volatility and high-variance state"),
        "stress_coverage": Column("Stress coverage", "fraction 0-1",
                                  "share of the stress reading's weight backed by data"),
        "flag_composite": Column("Headline warning", "1 = yes, 0 = no",
                                 "headline in the warning band or above (warn_band)"),
        "ret_2y": Column("Two-year return, as read then", "fraction, 1.0 = +100%",
                         "run-up input (total return over 504 trading days)"),
        "high_var_prob": Column("High-variance probability, as read then", "probability 0-1",
                                "regime model refitted yearly, filtered to the date"),
        "bsadf": Column("Real-time BSADF", "t-statistic",
                        "BSADF of the weekly log close up to the date"),
        "cv95": Column("Real-time BSADF critical value, 95%", "t-statistic",
                       "95% critical value for a sample ending on the date"),
        "pos_conf": Column("LPPLS confidence (coarse grid)", "fraction 0-1",
                           "positive-bubble confidence, fitted every few months"),
        "pe_ttm": Column("Trailing P/E, as known then", "times earnings",
                         "market value / trailing earnings filed by the date"),
        "level": Column("Price level", "USD or index (basket: 1.0 at its start)",
                        "the close (total return) or the basket level on the date"),
        "fwd_mdd_12m": Column("Largest fall in the next 12 months (hindsight)",
                              "fraction, -0.4 = 40% down",
                              "deepest peak-to-trough fall within a year after the date"),
        "fwd_mdd_24m": Column("Largest fall in the next 24 months (hindsight)",
                              "fraction, -0.4 = 40% down",
                              "deepest peak-to-trough fall within two years after the date"),
        "calm": Column("Calm date (hindsight)", "1 = calm, 0 = a crash follows",
                       "no 40% fall within two years (empty: the two years are not over)"),
    }
    for name, text in PROCEDURES.items():
        cols[f"flag_{name}"] = Column(f"Flag: {SIGNAL_LABELS[name]}", "1 = yes, 0 = no", text)
    for c in COMPONENTS:
        cols[f"c_{c.name}"] = Column(f"Component: {c.name.replace('_', ' ')}", "score 0-100",
                                     f"{c.source}, as read then")
    return cols


COLUMNS = _columns()


# --------------------------------------------------------------------------- compute
_REPLAYS: dict[tuple[int, str], tuple[weakref.ref[Any], Replay]] = {}


def replay_for(ctx: ComputeContext, params: ReplayParams) -> Replay:
    """The :class:`Replay` of this source and parameters, made once and shared
    by the keys of a run (dropped with the source)."""
    key = (id(ctx.source), params_hash(params))
    hit = _REPLAYS.get(key)
    if hit is not None and hit[0]() is ctx.source and hit[1].universe == ctx.universe:
        return hit[1]
    replay = Replay(ctx, params)
    try:
        # the cache is bound now: at interpreter exit the module's names may already be None
        ref = weakref.ref(ctx.source, lambda _r, k=key, cache=_REPLAYS: cache.pop(k, None))
    except TypeError:  # a source that cannot be weakly referenced is not shared
        return replay
    _REPLAYS[key] = (ref, replay)
    return replay


def _series_text(replay: Replay, key: str) -> str:
    if key in COHORTS:
        return (f"equal-weighted {COHORTS[key]} of {', '.join(replay.members(key))} "
                "(daily rebalanced, members from their first price)")
    return f"{key}: adjusted close"


def _summary(flag: pd.Series, text: str, note: str | None) -> ProcedureSummary:
    f = flag.dropna()
    hits = f.index[f.to_numpy(dtype=float) > 0.5]
    return ProcedureSummary(flags=text, first_flag=hits[0].date() if len(hits) else None,
                            flagged_dates=len(hits), readings=len(f), note=note)


def _spells(flag: pd.Series, score: pd.Series, kind: str) -> list[IndicatorEvent]:
    f = flag.fillna(0.0).to_numpy(dtype=float) > 0.5
    edges = np.diff(np.r_[0, f.astype(np.int8), 0])
    out = []
    idx = flag.index
    for s, e in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True):
        seg = score.iloc[s:e]
        peak = seg.idxmax() if seg.notna().any() else idx[s]
        out.append(IndicatorEvent(kind=kind, start=idx[s].date(),
                                  end=idx[e].date() if e < len(idx) else None,
                                  peak=pd.Timestamp(peak).date(), ongoing=e >= len(idx),
                                  attrs={"peak_score": float(seg.max())
                                         if seg.notna().any() else None,
                                         "readings": int(e - s)}))
    return out


def compute(ctx: ComputeContext, key: str, params: ReplayParams
            ) -> IndicatorResult[TrackRecordMeta]:
    """Replay ``key`` point in time over the period (see the module docstring)."""
    replay = replay_for(ctx, params)
    replay.check_key(key)
    grid = replay.grid
    part = replay.partition()
    frame = replay.readings(key).copy()
    frame["flag_composite"] = replay.warning(key)
    flags = replay.flags(key)
    for proc in params.procedures:
        frame[f"flag_{proc}"] = flags[proc]
    run = replay.runup(key)
    if "ret_2y" in run:
        frame["ret_2y"] = replay._on_grid(run["ret_2y"])
    reg = replay.regime(key)
    if "high_var_prob" in reg:
        frame["high_var_prob"] = replay._on_grid(reg["high_var_prob"])
    if key not in COHORTS:
        pf = replay.psy_frame(key)
        for col in ("bsadf", "cv95"):
            if col in pf:
                frame[col] = replay._on_grid(pf[col])
        if key in replay.lppls_keys():
            lp = replay.lppls(key)
            if not lp.empty:
                frame["pos_conf"] = lp["pos_conf"].reindex(grid)
        val = replay.fundamentals().get(("valuation", key))
        if val is not None and "pe_ttm" in val:
            frame["pe_ttm"] = replay._on_grid(val["pe_ttm"])
    level = replay.level(key)
    frame["level"] = replay._on_grid(level)
    frame["fwd_mdd_12m"] = forward_max_drawdown(level, grid, 12).to_numpy()
    frame["fwd_mdd_24m"] = forward_max_drawdown(level, grid, 24).to_numpy()
    frame["calm"] = calm_flags(level, grid).to_numpy()
    frame.index = pd.DatetimeIndex(grid, name="date")
    frame = frame.astype(float)

    mon = replay.monitors(key)
    signals = {COMPOSITE: _summary(frame["flag_composite"],
                                   f"headline in the {params.warn_band!r} band or above", None)}
    for proc in params.procedures:
        signals[proc] = _summary(frame[f"flag_{proc}"], PROCEDURES[proc], mon.notes.get(proc))
    events = [*replay.monitor_events(key),
              *_spells(frame["flag_composite"], frame.get("score", pd.Series(
                  np.nan, index=grid)), COMPOSITE)]
    events.sort(key=lambda e: (e.start, e.kind))
    refit = None
    if key in COHORTS or key in params.regime_keys:
        refits = replay.refits(key)
        refit = RefitSummary(made=sum(r.fit is not None for r in refits),
                             failed={r.date.date().isoformat(): r.why or "" for r in refits
                                     if r.fit is None})
    missing = None
    if frame["score"].isna().all() if "score" in frame else True:
        missing = (f"no reading for {key} between {grid[0].date()} and {grid[-1].date()}: "
                   "its prices start too late for a two-year run-up or the monitors' training")
    meta = TrackRecordMeta(
        kind="cohort" if key in COHORTS else "symbol", first_date=grid[0].date(),
        last_date=grid[-1].date(), freq=params.freq, readings=len(grid),
        series=_series_text(replay, key), headline=list(part.headline),
        ai_only=list(part.ai_only) if key == "ai" else [], stress=list(part.stress),
        excluded=dict(part.excluded), warn_band=params.warn_band, signals=signals,
        regime=refit, point_in_time=realtime_inputs_note(params),
        seconds={k: round(v, 2) for k, v in replay.seconds.items()}, missing=missing)
    keep = [c for c in frame.columns if frame[c].notna().any()]
    return IndicatorResult(frame[keep], meta, tuple(events))


def judge(frames: Mapping[str, pd.DataFrame], peaks: Sequence[tuple[str, date, str]],
          calm_window: tuple[date | None, date | None] = (None, None)
          ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The report on stored track records: first warnings before the peaks and
    the false-alarm shares of every signal on every key.

    Parameters
    ----------
    frames
        Key -> its stored ``track_record`` frame.
    peaks
        ``(key, date, origin)``: the reference and the user's peaks. Crash peaks
        found in each key's ``level`` (hindsight, :func:`~indicators.lead_time.crash_peaks`)
        after its first reading are added with origin ``"found"``, unless within
        :data:`NEAR_DAYS` of a given one.
    calm_window
        Evaluation window of the false-alarm shares (None: all dates).

    Returns
    -------
    :func:`~indicators.lead_time.lead_table` and
    :func:`~indicators.lead_time.alarm_table` of every key.
    """
    flags = {k: {sig: f[f"flag_{sig}"] for sig in SIGNALS if f"flag_{sig}" in f}
             for k, f in frames.items()}
    found: dict[str, list[tuple[date, str]]] = {}
    for k, d, origin in peaks:
        found.setdefault(k, []).append((d, origin))
    for k, f in frames.items():
        if "level" not in f:
            continue
        given = [pd.Timestamp(d) for d, _ in found.get(k, [])]
        for p in crash_peaks(f["level"]):
            near = any(abs((p - g).days) <= NEAR_DAYS for g in given)
            read = "score" in f and bool(f["score"].loc[:p].notna().any())
            if read and not near:
                found.setdefault(k, []).append((p.date(), "found"))
    for v in found.values():
        v.sort()
    calm = {k: f["calm"] if "calm" in f else pd.Series(dtype=float) for k, f in frames.items()}
    return (lead_table(flags, found),
            alarm_table(flags, calm, calm_window[0], calm_window[1]))


def track_keys(universe: Universe) -> Sequence[str]:
    """Every key a track record can be made for: the cohorts, then the symbols."""
    return [*(c for c, b in COHORTS.items() if b in universe.baskets), *universe.symbols]


def _never_computed(ctx: ComputeContext, key: str,
                    params: TrackRecordAlertsParams) -> IndicatorResult[TrackRecordAlertsMeta]:
    raise ConfigError(f"{ALERTS_NAME} is written by `bubblewatch backtest`, which replays the "
                      "alert rules on the stored track_record readings; run that instead")


INDICATORS = (
    Indicator(
        name=NAME,
        title="Track record (point-in-time backtest)",
        description=(
            "What bubblewatch would have said on each date since 1995, replayed point in time "
            "(prices and filings as known then, the real-time PSY and CUSUM monitors, the "
            "regime model refitted yearly), with the forward drawdowns that followed: the "
            "composite readings, each monitor's flags and episodes, and whether a 40% crash "
            "followed within two years (Greenwood, Shleifer & You 2019)."
        ),
        columns=COLUMNS,
        params=ReplayParams,
        meta=TrackRecordMeta,
        keys=lambda universe: [],
        optional_keys=track_keys,
        compute=compute,
        page="track_record",
        sampling="the last trading day of each week from 1995 (daily by parameter)",
    ),
    Indicator(
        name=ALERTS_NAME,
        title="Alerts that would have fired (backtest)",
        description=(
            "The alerts the current rules would have fired on the track_record readings, "
            "replayed date by date with the service's own rule engine (transitions, "
            "cool-downs, hysteresis); written by `bubblewatch backtest`."
        ),
        columns={
            "alerts": Column("Alerts fired", "count", "alerts the rules would have fired that "
                             "day"),
            "warnings": Column("Warnings fired", "count", "of which warning or critical"),
        },
        params=TrackRecordAlertsParams,
        meta=TrackRecordAlertsMeta,
        keys=lambda universe: [],
        compute=_never_computed,
        page="track_record",
        sampling="the dates on which an alert would have fired",
        depends_on=(NAME,),
    ),
)
