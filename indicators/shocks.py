"""Policy and demand shocks: event studies of export controls, China's
responses, the DeepSeek shock, financing news and the dot-com profit warnings,
with recovery times, a "shrugging off" reading and revenue exposure.

The maths is :mod:`indicators.event_study` (market model, CARs, the BMP and
Kolari-Pynnönen tests, recovery times, :func:`~indicators.event_study.shrug_off`);
this module chooses the events and securities, stores the results in a shape
the dashboard and the alert rules can read, and adds the exposure figures.

Keys
----
* every symbol of the universe except the market index (the benchmark of the
  market model reacts by construction with an abnormal return of zero);
* ``ai_basket`` and ``dotcom_basket``: equal-weighted, daily-rebalanced
  baskets (:func:`indicators.runup.basket_index`), one price series each;
* ``ai`` and ``dotcom``: the cohort aggregates over the same members as the
  baskets, tested across members (cross-sectional mean CAR, BMP and KP t).

Stored rows
-----------
One row per **event day 0** (the first session on or after the news; the next
session for news after the US close), so an alert rule reads the latest
event. Events that share a day 0 (two BIS announcements on 2025-05-13) are one
row; ``n_events`` counts them and ``meta.events`` names them. Per window
``[a,b]`` of :data:`WINDOW_MENU` (suffix ``0``, ``0_1``, ``m1_1``, ``0_5``,
``0_20``, ``0_60``):

* ``car_<w>``: the CAR (symbols, baskets) or the members' mean CAR
  (cohorts), a fraction;
* ``ci_lo_<w>``, ``ci_hi_<w>``: its 95% interval. For a security,
  ``car ± t(0.975, L1-2) sd(CAR)`` with the prediction-error s.d. that
  includes the estimation error of the market model. For a cohort, the
  cross-sectional interval of the mean widened by the Kolari-Pynnönen
  factor ``sqrt((1 + (N-1) r) / (1 - r))`` for the average residual
  correlation ``r`` (the same correction as ``kp_t``);
* ``t_<w>`` (securities): ``CAR / sd(CAR)``, the standardised CAR;
* ``bmp_t_<w>``, ``kp_t_<w>``, ``p_kp_<w>``, ``n_<w>`` (cohorts): the
  Boehmer-Musumeci-Poulsen t (robust to event-induced variance), its
  Kolari-Pynnönen adjustment for cross-correlation (all members react on the
  same day), the KP two-sided p-value, and the members with a complete window.

Per event (securities and baskets): ``ret_0`` (raw day-0 return), ``beta``,
``sigma`` (daily residual s.d.), ``n_estimation``, ``shifted`` (1 when day 0
is not the news date: a weekend, holiday or after-the-close release),
``recovery_days`` (sessions from day 0 to the first close at or above the
close before day 0; while that has not happened, the sessions elapsed so
far), ``recovered`` (1/0), ``recovery_median_before`` and
``recovery_vs_history``: the recovery (or elapsed) time over the median
recovery time of this key's *earlier* events whose price fell below the
pre-event close and came back (at least ``recovery_history_min`` of them).
Above 1 the recovery is slower than usual; it grows day by day while the
price has not come back, so an ``above`` rule fires as soon as the recovery
falls behind. Cohorts also store ``mean_corr`` (average pairwise correlation
of the members' estimation-window residuals) and carry their basket's
recovery fields (recovery is a property of a price path, not of a test).

Alerts
------
The existing rule types read the latest row: ``below`` on ``car_0`` or
``t_0`` (a large abnormal fall on the latest event), ``below`` on ``kp_t_0``
for a cohort, ``above`` on ``recovery_vs_history``. A level rule fires on the
transition, so two large shocks in a row alert once; the second alerts only
if an event with a small reaction came between them (or the state was reset).

Shrugging off
-------------
For each key and each group of events of one category and era (export
controls of the AI cycle, profit warnings of the dot-com cycle...) with at
least three distinct day 0, :func:`~indicators.event_study.shrug_off`
regresses ``|CAR|`` over ``shrug_window`` and the recovery time on the order
(or years) of the events; a negative slope says reactions shrink as shocks
repeat. Cohort keys read the members' mean ``|CAR|`` and the basket's
recovery time. With three to seven events the slope is an anecdote, said so
in the reading; censored recoveries are left out.

Exposure
--------
China and data-centre revenue shares (and China revenue) of the key's company
over time come from the cited reference figures
(``ingest/reference_data/figures.csv``), with their coverage in words:
how many figures, from when to when, quarterly or annual, and which are
missing. Dated charges and sales at risk (NVIDIA's H20 charges, AMD's MI308
charge, Cisco's 2001 inventory charge) are listed beside them and linked to
the event announced within a week before them.

Limits
------
Those of :mod:`indicators.event_study` (daily data; a calm-year market model
in a bubble year; normal errors; the benchmark holds the AI heavyweights
themselves, which pulls their abnormal returns toward zero on market-wide AI
news), plus: the baskets change membership as companies list, so the
``ai_basket`` of 2000 is Microsoft, Oracle, Amazon, NVIDIA and AMD; the
recovery history mixes categories; exposure figures are sparse and partly
secondary (each carries its source tag).

References
----------
MacKinlay, A. C. (1997). Event studies in economics and finance. *Journal of
Economic Literature*, 35(1), 13-39.

Boehmer, E., Musumeci, J. & Poulsen, A. B. (1991). Event-study methodology under
conditions of event-induced variance. *Journal of Financial Economics*, 30(2),
253-272.

Kolari, J. W. & Pynnönen, S. (2010). Event study testing with cross-sectional
correlation of abnormal returns. *Review of Financial Studies*, 23(11),
3996-4025.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator
from scipy.special import stdtrit

from bubblewatch.core.errors import ConfigError
from bubblewatch.core.settings import EventCategory
from indicators.event_study import (
    DEFAULT_ESTIMATION,
    DEFAULT_EXCLUDE,
    DEFAULT_MIN_ESTIMATION,
    CohortStat,
    Event,
    EventStudy,
    Reaction,
    ShrugOff,
    event_study,
    events_from_frame,
    shrug_off,
    window_label,
)
from indicators.registry import (
    Column,
    ComputeContext,
    DataSource,
    Indicator,
    IndicatorResult,
    Meta,
    Params,
)
from indicators.runup import basket_index, close_series

if TYPE_CHECKING:
    from bubblewatch.core.universe import Universe

#: Event windows that can be stored (sessions relative to day 0) -> field suffix.
WINDOW_MENU: dict[tuple[int, int], str] = {
    (0, 0): "0", (0, 1): "0_1", (-1, 1): "m1_1", (0, 5): "0_5", (0, 20): "0_20",
    (0, 60): "0_60",
}
DEFAULT_WINDOWS: tuple[tuple[int, int], ...] = ((0, 0), (-1, 1), (0, 5), (0, 20))
#: Cohort aggregate key -> the basket whose members it tests.
COHORTS: dict[str, str] = {"ai": "ai_basket", "dotcom": "dotcom_basket"}
BASKETS: tuple[str, ...] = ("ai_basket", "dotcom_basket")
#: Categories studied by default: news, not ex-post dates (market peaks and
#: troughs are known only afterwards) and not listings.
DEFAULT_CATEGORIES: tuple[str, ...] = (
    "export_control", "china_policy", "demand_shock", "financing", "earnings",
    "dotcom_turning_point", "product_launch", "monetary_policy",
)
#: Reference metrics read as revenue exposure (unit in the reference table).
EXPOSURE_METRICS: dict[str, str] = {
    "china_revenue_share": "China share of revenue",
    "dc_revenue_share": "Data-centre share of revenue",
    "china_revenue": "Revenue from China",
}
#: Reference metrics read as dated costs of a shock (charges, sales at risk).
CHARGE_METRICS: dict[str, str] = {
    "inventory_charge_guidance": "announced charge",
    "inventory_charge": "charge booked",
    "export_control_sales_at_risk": "sales at risk",
    "h20_revenue_unshipped": "revenue not shipped",
    "h20_revenue_loss_forecast": "revenue lost (forecast)",
}
#: Recovery fields; cohort rows carry their basket's.
RECOVERY_FIELDS = ("recovery_days", "recovered", "recovery_median_before", "recovery_vs_history")
#: A dated figure belongs to an event announced at most this many days before it.
LINK_DAYS = 7
#: Shortest period read as a year (shorter ones are quarters), days.
YEAR_DAYS = 300


def suffix(window: tuple[int, int]) -> str:
    """Field suffix of a window: ``(0, 5)`` -> ``"0_5"``, ``(-1, 1)`` -> ``"m1_1"``."""
    try:
        return WINDOW_MENU[window]
    except KeyError:
        raise KeyError(f"window {list(window)} is not stored; windows: "
                       f"{', '.join(str(list(w)) for w in WINDOW_MENU)}") from None


# --------------------------------------------------------------------------- parameters
class ShocksParams(Params):
    """Parameters of the shocks indicator."""

    benchmark: str = Field("^GSPC", min_length=1, description="market index of the market "
                           "model R_it = a + b R_mt + e")
    windows: tuple[tuple[int, int], ...] = Field(
        DEFAULT_WINDOWS, description="event windows, sessions relative to day 0 (inclusive), "
        "from " + ", ".join(str(list(w)) for w in WINDOW_MENU))
    estimation: tuple[int, int] = Field(DEFAULT_ESTIMATION, description="estimation window of "
                                        "the market model, sessions relative to day 0")
    exclude: tuple[int, int] = Field(DEFAULT_EXCLUDE, description="sessions around another "
                                     "event's day 0 left out of an estimation window")
    min_estimation: int = Field(DEFAULT_MIN_ESTIMATION, ge=10, description="fewest estimation "
                                "sessions a fit may use (fewer: the event is skipped)")
    overlap: Literal["exclude", "keep"] = Field("exclude", description="'exclude' drops other "
                                                "events' sessions from the estimation window")
    categories: tuple[EventCategory, ...] = Field(
        DEFAULT_CATEGORIES, min_length=1, description="event categories studied")  # type: ignore[arg-type]
    shrug_window: tuple[int, int] = Field((0, 5), description="window whose |CAR| the "
                                          "shrug-off reading regresses on the event order")
    shrug_x: Literal["order", "years"] = Field("order", description="shrug-off regressor: "
                                               "event order (1, 2, ...) or years since the first")
    recovery_history_min: int = Field(3, ge=1, description="fewest earlier recoveries for the "
                                      "median that recovery_vs_history divides by")

    @model_validator(mode="after")
    def _consistent(self) -> ShocksParams:
        if not self.windows:
            raise ValueError("windows: give at least one, e.g. [[0, 0], [0, 5]]")
        bad = [list(w) for w in self.windows if tuple(w) not in WINDOW_MENU]
        if bad:
            raise ValueError(f"windows {bad} cannot be stored; choose from "
                             f"{', '.join(str(list(w)) for w in WINDOW_MENU)}")
        if len(set(self.windows)) != len(self.windows):
            raise ValueError("windows: each window once")
        e0, e1 = self.estimation
        first = min(a for a, _ in self.windows)
        if not e0 < e1 < first:
            raise ValueError(f"estimation {list(self.estimation)} must start before it ends and "
                             f"end before the earliest event window starts (session {first})")
        if e1 - e0 + 1 < self.min_estimation:
            raise ValueError(f"estimation {list(self.estimation)} holds {e1 - e0 + 1} sessions, "
                             f"fewer than min_estimation={self.min_estimation}")
        if self.exclude[0] > self.exclude[1]:
            raise ValueError(f"exclude {list(self.exclude)} starts after it ends")
        if self.shrug_window not in self.windows:
            raise ValueError(f"shrug_window {list(self.shrug_window)} is not among the windows "
                             f"{[list(w) for w in self.windows]}")
        if len(set(self.categories)) != len(self.categories):
            raise ValueError("categories: each category once")
        return self


# --------------------------------------------------------------------------- metadata
class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class StudiedEvent(_Model):
    """An event with a stored row for this key: its news date and day 0."""

    key: str
    date: date
    day0: date
    category: str
    era: str
    title: str
    shifted: bool = False
    same_day0_as: str | None = None
    overlapping: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)


class SkippedEvent(_Model):
    """An (event, security) pair that could not be studied, and why."""

    event: str
    symbol: str
    reason: str


class ShrugReading(_Model):
    """Do reactions to one kind of shock shrink as it repeats? (see the module docstring)"""

    subject: str
    category: str
    era: str
    measure: Literal["abs_car", "recovery"]
    window: str
    x: str
    n: int
    events: list[str]
    values: list[float]
    slope: float | None = None
    t: float | None = None
    p: float | None = None
    reading: str
    notes: list[str] = Field(default_factory=list)


class DatedFigure(_Model):
    """A cited reference figure used as exposure or as a dated cost."""

    key: str
    entity: str
    metric: str
    what: str
    period_start: date
    period_end: date
    period: Literal["day", "quarter", "year"]
    value: float
    unit: str
    label: str
    source_tag: str
    event: str | None = None


class ShocksMeta(Meta):
    """What is stored beside each key's event rows."""

    kind: Literal["symbol", "basket", "cohort"] = "symbol"
    benchmark: str = "^GSPC"
    windows: list[str] = Field(default_factory=list)
    events: list[StudiedEvent] = Field(default_factory=list)
    skipped: list[SkippedEvent] = Field(default_factory=list)
    members: list[str] = Field(default_factory=list)
    members_missing: list[str] = Field(default_factory=list)
    shrug_off: list[ShrugReading] = Field(default_factory=list)
    exposure: list[DatedFigure] = Field(default_factory=list)
    charges: list[DatedFigure] = Field(default_factory=list)
    exposure_coverage: list[str] = Field(default_factory=list)
    prices_through: date | None = None
    latest_event: str | None = None


# --------------------------------------------------------------------------- events
def load_events(frame: pd.DataFrame, categories: Sequence[str]
                ) -> tuple[tuple[Event, ...], dict[str, str]]:
    """The events of ``categories`` from an events frame (``db.repo.events_frame``
    shape) and each one's era.

    Raises
    ------
    ConfigError
        When two events share a key (naming it and both dates).
    """
    if frame is None or frame.empty:
        return (), {}
    missing = [c for c in ("key", "date", "category") if c not in frame.columns]
    if missing:
        raise ConfigError(f"the events table lacks columns {', '.join(missing)}; run "
                          "`bubblewatch db-upgrade`")
    dup = frame[frame["key"].duplicated(keep=False)]
    if not dup.empty:
        k = str(dup["key"].iloc[0])
        dates = ", ".join(str(pd.Timestamp(d).date()) for d in dup.loc[dup["key"] == k, "date"])
        raise ConfigError(f"event key {k!r} is used by more than one event ({dates}); give each "
                          "event its own key in the settings' [[events]]")
    chosen = frame[frame["category"].isin(list(categories))]
    eras = {str(k): str(e or "other") for k, e in
            zip(chosen["key"], chosen.get("era", pd.Series(["other"] * len(chosen))), strict=True)}
    return events_from_frame(chosen.reset_index(drop=True)), eras


# --------------------------------------------------------------------------- keys
def shock_keys(universe: Universe) -> list[str]:
    """Symbols (not the market index), the two baskets, the two cohorts."""
    syms = [s for s in universe.symbols if s != universe.market_index]
    baskets = [b for b in BASKETS if b in universe.baskets]
    cohorts = [c for c, b in COHORTS.items() if b in universe.baskets]
    return [*syms, *baskets, *cohorts]


# --------------------------------------------------------------------------- frames
def _tq(df: int) -> float:
    """The 97.5% quantile of Student's t with ``df`` degrees of freedom."""
    return float(stdtrit(df, 0.975)) if df > 0 else float("nan")


def _sessions_after(series: pd.Series, bench: pd.Series, day0: date) -> int:
    """Sessions (both series quoted) from ``day0`` to the last one."""
    idx = series.index.intersection(bench.index)
    return int((idx >= pd.Timestamp(day0)).sum()) - 1


def _group_day0(reactions: Sequence[Reaction]) -> list[tuple[Reaction, list[str]]]:
    """Reactions by day 0 (first by news date and key), with the keys sharing it."""
    by_day: dict[date, list[Reaction]] = {}
    for r in sorted(reactions, key=lambda r: (r.day0, r.event_date, r.event)):
        by_day.setdefault(r.day0, []).append(r)
    return [(rs[0], [r.event for r in rs]) for rs in by_day.values()]


def reaction_frame(reactions: Sequence[Reaction], windows: Sequence[tuple[int, int]],
                   elapsed: Mapping[date, int], history_min: int = 3) -> pd.DataFrame:
    """One row per day 0 of one security's (or basket's) reactions.

    ``elapsed`` gives, per day 0, the sessions from it to the last price (the
    recovery time so far of a censored recovery). See the module docstring
    for the fields.
    """
    rows: dict[pd.Timestamp, dict[str, float]] = {}
    done: list[tuple[date, float]] = []  # completed recoveries with a dip: (day0, sessions)
    for r, shared in _group_day0(reactions):
        row: dict[str, float] = {}
        for w in windows:
            wc = r.window(*w)
            s = suffix(w)
            half = _tq(wc.df) * wc.sd
            row |= {f"car_{s}": wc.car, f"ci_lo_{s}": wc.car - half, f"ci_hi_{s}": wc.car + half,
                    f"t_{s}": wc.t}
        own = float(r.recovery_days) if not r.recovery_censored and r.recovery_days is not None \
            else float(elapsed.get(r.day0, np.nan))
        earlier = [v for d, v in done if d < r.day0]
        median = float(np.median(earlier)) if len(earlier) >= history_min else float("nan")
        if own == 0:
            ratio = 0.0
        elif math.isfinite(median) and median > 0:
            ratio = own / median
        else:
            ratio = float("nan")
        row |= {
            "ret_0": r.ret0, "beta": r.beta, "sigma": r.sigma,
            "n_estimation": float(r.n_estimation), "shifted": float(r.shifted),
            "n_events": float(len(shared)), "recovery_days": own,
            "recovered": 0.0 if r.recovery_censored else 1.0,
            "recovery_median_before": median, "recovery_vs_history": ratio,
        }
        if not r.recovery_censored and r.recovery_days:
            done.append((r.day0, float(r.recovery_days)))
        rows[pd.Timestamp(r.day0)] = row
    return _as_frame(rows)


def cohort_frame(stats: Sequence[CohortStat], day0: Mapping[str, date],
                 windows: Sequence[tuple[int, int]]) -> pd.DataFrame:
    """One row per day 0 of a cohort's aggregate reactions (``day0``: event -> day 0).

    The interval of the mean CAR is ``mean ± t(0.975, N-1) se`` with the
    cross-sectional ``se = mean / t_cs`` widened by the Kolari-Pynnönen factor.
    """
    rows: dict[pd.Timestamp, dict[str, float]] = {}
    seen: dict[date, str] = {}
    ordered = sorted(stats, key=lambda c: (day0.get(c.event, date.max), c.event_date, c.event))
    for c in ordered:
        d0 = day0.get(c.event)
        if d0 is None or (seen.get(d0, c.event) != c.event):
            continue
        seen[d0] = c.event
        if (c.start, c.end) not in WINDOW_MENU or (c.start, c.end) not in windows:
            continue
        s = suffix((c.start, c.end))
        row = rows.setdefault(pd.Timestamp(d0), {})
        se = c.mean_car / c.t_cs if math.isfinite(c.t_cs) and c.t_cs != 0 else float("nan")
        r = c.mean_corr
        infl = (1 + (c.n - 1) * r) / (1 - r) if math.isfinite(r) and r < 1 else float("nan")
        half = _tq(c.n - 1) * abs(se) * math.sqrt(infl) if infl > 0 else float("nan")
        row |= {f"car_{s}": c.mean_car, f"ci_lo_{s}": c.mean_car - half,
                f"ci_hi_{s}": c.mean_car + half, f"bmp_t_{s}": c.bmp_t, f"kp_t_{s}": c.kp_t,
                f"p_kp_{s}": c.p_kp, f"n_{s}": float(c.n), "mean_corr": r}
    n_events: dict[date, int] = {}
    for ev, d0 in day0.items():
        if any(c.event == ev for c in stats):
            n_events[d0] = n_events.get(d0, 0) + 1
    for ts, row in rows.items():
        row["n_events"] = float(n_events.get(ts.date(), 1))
    return _as_frame(rows)


def _as_frame(rows: Mapping[pd.Timestamp, Mapping[str, float]]) -> pd.DataFrame:
    if not rows:
        return pd.DataFrame()
    out = pd.DataFrame.from_dict(rows, orient="index").sort_index()
    out.index = pd.DatetimeIndex(out.index, name="date")
    return out.astype(float)


# --------------------------------------------------------------------------- shrugging off
def _words(s: ShrugOff) -> str:
    what = "|CAR|" if s.measure == "abs_car" else "recovery time"
    if s.n < 3 or not math.isfinite(s.p):
        return f"{s.n} events: too few for a trend in {what}"
    trend = ("shrinking" if s.slope < 0 else "growing") if s.p < 0.05 else "no clear trend"
    unit = "per event" if s.x == "order" else "a year"
    scale = 100.0 if s.measure == "abs_car" else 1.0
    amount = f"{scale * s.slope:+.2f}{' pp' if s.measure == 'abs_car' else ' sessions'} {unit}"
    small = " (few events: an anecdote)" if s.n < 8 else ""
    return f"{trend} in {what}: {amount}, p = {s.p:.2f}, n = {s.n}{small}"


def _finite(v: float) -> float | None:
    return float(v) if math.isfinite(v) else None


def shrug_readings(result: EventStudy, subject: str, eras: Mapping[str, str], *,
                   window: tuple[int, int], x: Literal["order", "years"],
                   recovery_subject: str | None) -> list[ShrugReading]:
    """Shrug-off readings of ``subject`` per (category, era) group of studied
    events with at least three distinct day 0; ``recovery_subject`` (a
    security or basket) gives the recovery-time reading (None: none)."""
    studied = {r.event: r.day0 for r in result.reactions}
    groups: dict[tuple[str, str], list[str]] = {}
    for ev in result.events:
        if ev.key in studied:
            groups.setdefault((ev.category, eras.get(ev.key, "other")), []).append(ev.key)
    out: list[ShrugReading] = []
    for (cat, era), keys in sorted(groups.items()):
        if len({studied[k] for k in keys}) < 3:
            continue
        todo: list[tuple[str, Literal["abs_car", "recovery"]]] = [(subject, "abs_car")]
        if recovery_subject is not None:
            todo.append((recovery_subject, "recovery"))
        for subj, measure in todo:
            try:
                s = shrug_off(result, subj, events=keys, window=window, measure=measure, x=x)
            except ValueError:
                continue  # the subject reacted to none of these events
            out.append(ShrugReading(
                subject=subj, category=cat, era=era, measure=measure,
                window=window_label(*window), x=x, n=s.n, events=list(s.events),
                values=[float(v) for v in s.values], slope=_finite(s.slope), t=_finite(s.t),
                p=_finite(s.p), reading=_words(s), notes=list(s.notes)))
    return out


# --------------------------------------------------------------------------- exposure
def _period(start: date, end: date) -> Literal["day", "quarter", "year"]:
    days = (end - start).days
    return "day" if days == 0 else ("year" if days >= YEAR_DAYS else "quarter")


def _link(when: date, events: Sequence[Event]) -> str | None:
    """The latest event announced on or at most :data:`LINK_DAYS` before ``when``."""
    near = [e for e in events if e.date <= when <= e.date + timedelta(days=LINK_DAYS)]
    return max(near, key=lambda e: (e.date, e.key)).key if near else None


def exposure_figures(reference: pd.DataFrame, entity: str, events: Sequence[Event]
                     ) -> tuple[list[DatedFigure], list[DatedFigure], list[str]]:
    """``(exposure, charges, coverage)`` of ``entity`` from the reference table:
    revenue-exposure figures by period, dated costs linked to their event, and
    one coverage line per exposure metric (or one saying there is none)."""
    exposure: list[DatedFigure] = []
    charges: list[DatedFigure] = []
    if reference is not None and not reference.empty:
        rows = reference[reference["entity"] == entity]
        for r in rows.to_dict("records"):
            metric = str(r["metric"])
            if metric not in EXPOSURE_METRICS and metric not in CHARGE_METRICS:
                continue
            start = pd.Timestamp(r["period_start"]).date()
            end = pd.Timestamp(r["period_end"]).date()
            period = _period(start, end)
            fig = DatedFigure(
                key=str(r["key"]), entity=entity, metric=metric,
                what=EXPOSURE_METRICS.get(metric) or CHARGE_METRICS[metric],
                period_start=start, period_end=end, period=period, value=float(r["value"]),
                unit=str(r["unit"]), label=str(r["label"]), source_tag=str(r["source_tag"]),
                event=_link(start, events) if metric in CHARGE_METRICS and period == "day"
                else None)
            (exposure if metric in EXPOSURE_METRICS else charges).append(fig)
    exposure.sort(key=lambda f: (f.metric, f.period_end, f.period_start))
    charges.sort(key=lambda f: (f.period_start, f.key))
    coverage = []
    for metric, what in EXPOSURE_METRICS.items():
        figs = [f for f in exposure if f.metric == metric]
        if not figs:
            continue
        q = sum(f.period == "quarter" for f in figs)
        y = sum(f.period == "year" for f in figs)
        tags = sorted({f.source_tag for f in figs})
        kinds = ", ".join(f"{n} {k}" for n, k in ((q, "quarterly"), (y, "annual")) if n)
        span = (f"period ending {figs[0].period_end}" if len(figs) == 1 else
                f"periods ending {figs[0].period_end} to {figs[-1].period_end}")
        coverage.append(
            f"{what}: {len(figs)} cited figure{'s' if len(figs) > 1 else ''}, {span} ({kinds}; "
            f"source tag{'s' if len(tags) > 1 else ''} {', '.join(tags)}); no figure for the "
            "other periods")
    if not coverage:
        coverage.append(f"no cited China or data-centre revenue figures for {entity} in the "
                        "reference table")
    return exposure, charges, coverage


# --------------------------------------------------------------------------- compute
def _studied(result: EventStudy, subject: str, eras: Mapping[str, str]) -> list[StudiedEvent]:
    by_day0: dict[date, str] = {}
    out = []
    for r in sorted((r for r in result.reactions if r.symbol == subject),
                    key=lambda r: (r.day0, r.event_date, r.event)):
        ev = next(e for e in result.events if e.key == r.event)
        out.append(StudiedEvent(
            key=r.event, date=r.event_date, day0=r.day0, category=r.category,
            era=eras.get(r.event, "other"), title=ev.title, shifted=r.shifted,
            same_day0_as=by_day0.get(r.day0), overlapping=list(r.overlapping),
            notes=list(r.notes)))
        by_day0.setdefault(r.day0, r.event)
    return out


def _skipped(result: EventStudy) -> list[SkippedEvent]:
    return [SkippedEvent(event=s.event, symbol=s.symbol, reason=s.reason) for s in result.skipped]


def _empty(key: str, params: ShocksParams, kind: Literal["symbol", "basket", "cohort"],
           missing: str, **extra: Any) -> IndicatorResult[ShocksMeta]:
    return IndicatorResult(pd.DataFrame(), ShocksMeta(
        kind=kind, benchmark=params.benchmark,
        windows=[window_label(*w) for w in params.windows], missing=missing, **extra))


def _study(prices: Mapping[str, pd.Series], events: Sequence[Event], params: ShocksParams,
           symbols: Sequence[str], cohorts: Mapping[str, Sequence[str]] | None = None
           ) -> EventStudy:
    return event_study(
        prices, events, symbols=symbols, benchmark=params.benchmark, cohorts=cohorts,
        windows=params.windows, estimation=params.estimation,
        min_estimation=params.min_estimation, overlap=params.overlap, exclude=params.exclude)


def _members(source: DataSource, members: Sequence[str]) -> tuple[dict[str, pd.Series], list[str]]:
    closes = {m: close_series(source, m) for m in members}
    have = {m: s for m, s in closes.items() if len(s) > 1}
    return have, [m for m in members if m not in have]


def compute(ctx: ComputeContext, key: str, params: ShocksParams
            ) -> IndicatorResult[ShocksMeta]:
    universe = ctx.universe
    kind: Literal["symbol", "basket", "cohort"] = (
        "cohort" if key in COHORTS else "basket" if key in universe.baskets else "symbol")
    events, eras = load_events(ctx.source.events(), params.categories)
    if not events:
        return _empty(key, params, kind, "no dated events of the categories "
                      f"{', '.join(params.categories)}: `bubblewatch compute` loads the built-in "
                      "ones and the settings' [[events]]; or widen --param categories")
    if key == params.benchmark:
        return _empty(key, params, kind, f"{key} is the benchmark of the market model: its "
                      "abnormal returns are zero by construction")
    bench = close_series(ctx.source, params.benchmark)
    if len(bench) < 2:
        return _empty(key, params, kind, f"no prices for the benchmark {params.benchmark}: "
                      "load them with `bubblewatch ingest`")
    common: dict[str, Any] = {"kind": kind, "benchmark": params.benchmark,
                              "windows": [window_label(*w) for w in params.windows]}
    if kind == "cohort":
        basket = COHORTS[key]
        members = list(universe.baskets[basket])
        have, missing = _members(ctx.source, members)
        if len(have) < 2:
            return _empty(key, params, kind, f"prices for fewer than two members of {basket} "
                          f"({', '.join(members)}): load them with `bubblewatch ingest`",
                          members=members, members_missing=missing)
        prices = {**have, basket: basket_index(have).rename(basket), params.benchmark: bench}
        result = _study(prices, events, params, [*have, basket], {key: list(have)})
        day0 = {r.event: r.day0 for r in result.reactions if r.symbol in have}
        frame = cohort_frame(result.cohorts, day0, params.windows)
        # the basket's recovery, so recovery rules read cohorts like any other key
        b_reactions = [r for r in result.reactions if r.symbol == basket]
        b_series = prices[basket]
        recovery = reaction_frame(
            b_reactions, params.windows,
            {r.day0: _sessions_after(b_series, bench, r.day0) for r in b_reactions},
            params.recovery_history_min)
        if not frame.empty and not recovery.empty:
            frame = frame.join(recovery[list(RECOVERY_FIELDS)], how="left")
        studied = _studied(result, basket, eras)
        readings = shrug_readings(result, key, eras, window=params.shrug_window,
                                  x=params.shrug_x, recovery_subject=basket)
        note = (f"members without prices: {', '.join(missing)}" if missing else None)
        meta = ShocksMeta(
            **common, events=studied, skipped=_skipped(result), members=members,
            members_missing=missing, shrug_off=readings,
            prices_through=min(s.index[-1] for s in have.values()).date(),
            latest_event=studied[-1].key if studied else None, note=note,
            missing=None if not frame.empty else "no event fell inside the members' prices")
        return IndicatorResult(frame, meta)
    extra: dict[str, Any] = {}
    if kind == "basket":
        members = list(universe.baskets[key])
        have, missing = _members(ctx.source, members)
        series = basket_index(have).rename(key) if have else pd.Series(dtype=float)
        extra = {"members": members, "members_missing": missing}
        if missing:
            extra["note"] = f"members without prices: {', '.join(missing)}"
    else:
        series = close_series(ctx.source, key)
    if len(series) < 2:
        return _empty(key, params, kind, f"no prices for {key}: load them with "
                      "`bubblewatch ingest`", **extra)
    result = _study({key: series, params.benchmark: bench}, events, params, [key])
    reactions = [r for r in result.reactions if r.symbol == key]
    elapsed = {r.day0: _sessions_after(series, bench, r.day0) for r in reactions}
    frame = reaction_frame(reactions, params.windows, elapsed, params.recovery_history_min)
    studied = _studied(result, key, eras)
    exposure, charges, coverage = exposure_figures(ctx.source.reference(), key, events)
    readings = shrug_readings(result, key, eras, window=params.shrug_window, x=params.shrug_x,
                              recovery_subject=key)
    last = series.index.intersection(bench.index)
    meta = ShocksMeta(
        **common, **extra, events=studied, skipped=_skipped(result), shrug_off=readings,
        exposure=exposure, charges=charges, exposure_coverage=coverage,
        prices_through=last[-1].date() if len(last) else None,
        latest_event=studied[-1].key if studied else None,
        missing=None if not frame.empty else
        f"none of the {len(events)} events could be studied for {key} (prices "
        f"{series.index[0].date()} to {series.index[-1].date()}); each reason is in skipped, "
        f"the latest: {result.skipped[-1].reason if result.skipped else 'none'}")
    return IndicatorResult(frame, meta)


# --------------------------------------------------------------------------- columns
def _columns() -> dict[str, Column]:
    cols: dict[str, Column] = {}
    for w, s in WINDOW_MENU.items():
        lab = window_label(*w)
        cols |= {
            f"car_{s}": Column(f"CAR {lab}", "fraction, -0.05 = -5%",
                               f"cumulative abnormal return over sessions {lab} against the "
                               "market model; cohorts: the members' mean"),
            f"ci_lo_{s}": Column(f"CAR {lab}, 95% low", "fraction",
                                 "lower end of the 95% interval of the CAR (cohorts: "
                                 "cross-sectional, widened for cross-correlation)"),
            f"ci_hi_{s}": Column(f"CAR {lab}, 95% high", "fraction",
                                 "upper end of the 95% interval of the CAR"),
            f"t_{s}": Column(f"t {lab}", "t-statistic",
                             "CAR over its prediction-error s.d. (securities and baskets)"),
            f"bmp_t_{s}": Column(f"BMP t {lab}", "t-statistic",
                                 "Boehmer-Musumeci-Poulsen (1991) test across the cohort's "
                                 "members, robust to event-induced variance"),
            f"kp_t_{s}": Column(f"KP t {lab}", "t-statistic",
                                "BMP t adjusted for the members' residual cross-correlation "
                                "(Kolari & Pynnönen 2010)"),
            f"p_kp_{s}": Column(f"KP p {lab}", "p-value, two-sided",
                                "p-value of the Kolari-Pynnönen t (N - 1 df)"),
            f"n_{s}": Column(f"Members {lab}", "count",
                             "cohort members with a complete window"),
        }
    cols |= {
        "ret_0": Column("Day-0 return", "fraction", "raw return of the first session that "
                        "could react"),
        "beta": Column("Market beta", "ratio", "slope of the market model fitted over the "
                       "estimation window"),
        "sigma": Column("Residual volatility", "fraction a day",
                        "standard deviation of the market model's daily residuals"),
        "n_estimation": Column("Estimation sessions", "sessions",
                               "sessions the market model was fitted on"),
        "shifted": Column("Day 0 shifted", "1 = yes, 0 = no",
                          "1 when day 0 is not the news date (weekend, holiday, after the "
                          "close)"),
        "n_events": Column("Events that day", "count", "events sharing this day 0"),
        "recovery_days": Column("Recovery time", "sessions",
                                "sessions from day 0 to the first close at or above the close "
                                "before day 0; while not recovered, the sessions so far"),
        "recovered": Column("Recovered", "1 = yes, 0 = no",
                            "1 once the price closed back at the pre-event close"),
        "recovery_median_before": Column(
            "Median earlier recovery", "sessions",
            "median recovery time of this key's earlier events whose price dipped and came "
            "back"),
        "recovery_vs_history": Column(
            "Recovery vs history", "ratio, 1 = as usual",
            "recovery time (so far) over the median of the earlier recoveries; above 1 is "
            "slower"),
        "mean_corr": Column("Residual correlation", "correlation",
                            "average pairwise correlation of the members' estimation-window "
                            "residuals (cohorts)"),
    }
    return cols


INDICATOR = Indicator(
    name="shocks",
    title="Policy & demand shocks (event studies)",
    description=(
        "Market-model event studies (MacKinlay 1997) of dated events: export-control steps, "
        "China's responses, the DeepSeek shock, financing news and the dot-com profit "
        "warnings. Abnormal returns and CARs over [0], [-1,+1], [0,+5], [0,+20] with 95% "
        "intervals; across a cohort the Boehmer-Musumeci-Poulsen (1991) test and its "
        "Kolari-Pynnönen (2010) correction for same-day cross-correlation; recovery times "
        "against the key's history; whether reactions to repeated shocks shrink; China and "
        "data-centre revenue exposure and dated charges from the cited reference figures."
    ),
    columns=_columns(),
    params=ShocksParams,
    meta=ShocksMeta,
    keys=shock_keys,
    compute=compute,
    page="shocks",
    sampling="one row per event day 0 (the first session that could react); recomputed in "
             "full each run",
)
