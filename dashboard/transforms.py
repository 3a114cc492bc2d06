"""Pure pandas transforms behind the dashboard pages (no Streamlit, no I/O).

These reshape stored data for display: rebasing and aligning price paths,
equal-weighted baskets, top movers, data-freshness status, the composite's
components. They compute nothing heavy: every indicator is read from the
database as the compute job stored it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from bubblewatch.core.calendar import format_time
from db.freshness import Freshness, FreshnessReport
from indicators.vocabulary import component_label

#: The Nasdaq Composite's record close of the dot-com era (5,048.62 on 2000-03-10).
DOTCOM_PEAK = date(2000, 3, 10)

#: Window searched for the dot-com cohort's peak reading of a score.
DOTCOM_ERA = (date(1995, 1, 1), date(2003, 12, 31))

#: Trading days per month/year used to express horizons.
TRADING_DAYS_PER_MONTH = 21
TRADING_DAYS_PER_YEAR = 252


def top_movers(
    closes: pd.DataFrame, windows: Mapping[str, int] | None = None, sort_by: str | None = None
) -> pd.DataFrame:
    """Percent change of each symbol over trailing windows of trading days.

    Parameters
    ----------
    closes
        Wide closes (``DatetimeIndex`` x symbol).
    windows
        Label -> trading days (default 1 day, 1 week, 1 month).
    sort_by
        Label to sort by, largest absolute move first (default the second window).

    Returns
    -------
    DataFrame
        ``symbol, last_date, last`` and one column per window label (percent).
    """
    windows = dict(windows or {"1d": 1, "1w": 5, "1m": 21})
    recs = []
    for sym in closes.columns:
        s = closes[sym].dropna()
        if len(s) < 2:
            continue
        rec: dict[str, Any] = {"symbol": sym, "last_date": s.index[-1].date(),
                               "last": float(s.iloc[-1])}
        for label, n in windows.items():
            rec[label] = (float(s.iloc[-1] / s.iloc[-1 - n] - 1.0) * 100.0
                          if len(s) > n else np.nan)
        recs.append(rec)
    df = pd.DataFrame(recs, columns=["symbol", "last_date", "last", *windows])
    key = sort_by or list(windows)[min(1, len(windows) - 1)]
    if df.empty:
        return df
    return df.reindex(df[key].abs().sort_values(ascending=False, na_position="last").index) \
        .reset_index(drop=True)


# --------------------------------------------------------------------------- freshness
#: Columns of the freshness table, as shown.
FRESHNESS_COLUMNS = ["source", "status", "newest", "expected", "behind", "last_success",
                     "detail", "command"]


def freshness_frame(rows: Sequence[Freshness]) -> pd.DataFrame:
    """The freshness rows of :func:`db.freshness.freshness_report` as a table:
    ``source`` (``Prices (XNYS)``), ``status``, ``newest`` and ``expected``
    (dates), ``behind`` (``68 sessions``), ``last_success`` (with its time
    zone, or ``never``), ``detail``, ``command``."""
    recs = [{
        "source": r.label, "status": r.status,
        "newest": f"{r.newest:%Y-%m-%d}" if r.newest else "–",
        "expected": f"{r.expected:%Y-%m-%d}" if r.expected else "–",
        "behind": r.behind_text, "last_success": format_time(r.last_run),
        "detail": r.detail, "command": r.command,
    } for r in rows]
    return pd.DataFrame(recs, columns=FRESHNESS_COLUMNS)


def stale_banner_text(report: FreshnessReport) -> str | None:
    """The stale-data banner: ``**Data is stale:** ...`` naming every source
    that is not fresh (the summary rows; ``bubblewatch status`` prints the
    same phrases), or None when all are."""
    problems = report.problems()
    if not problems:
        return None
    stale = any(r.status in ("stale", "failed") for r in report.summary)
    head = "Data is stale" if stale else "Data is incomplete"
    return (f"**{head}** (at {format_time(report.now)}): " + "; ".join(problems)
            + ". Refresh with `bubblewatch up`, which fills what is missing and keeps it "
              "current.")


# --------------------------------------------------------------------------- composite
def score_at(series: pd.Series, when: date | pd.Timestamp) -> tuple[pd.Timestamp, float] | None:
    """The last value of ``series`` on or before ``when`` (None if none)."""
    s = series.dropna()
    s = s[s.index <= pd.Timestamp(when)]
    if s.empty:
        return None
    return pd.Timestamp(s.index[-1]), float(s.iloc[-1])


def component_table(
    ai: pd.DataFrame,
    dotcom: pd.DataFrame,
    weights: Mapping[str, float] | None = None,
    peak: date | pd.Timestamp = DOTCOM_PEAK,
) -> pd.DataFrame:
    """Composite components today (AI) beside the dot-com reading at its peak.

    Parameters
    ----------
    ai, dotcom
        Wide composite frames (fields ``score`` and ``c_<name>``, 0-100).
    weights
        Component name (without ``c_``) -> weight, from the run's meta.
    peak
        Date of the dot-com reading (last value on or before it).

    Returns
    -------
    DataFrame
        ``component, label, weight, ai, dotcom_peak, ai_date, dotcom_date`` with
        scores 0-100 (NaN where a side has no value); ``label`` is the
        component's name for people (its composite column label).
    """
    weights = dict(weights or {})
    names = sorted({c[2:] for c in [*ai.columns, *dotcom.columns] if str(c).startswith("c_")},
                   key=lambda n: (-float(weights.get(n, 0) or 0), n))
    recs = []
    for n in names:
        col = f"c_{n}"
        a = score_at(ai[col], ai.index.max()) if col in ai.columns and not ai.empty else None
        d = score_at(dotcom[col], peak) if col in dotcom.columns and not dotcom.empty else None
        recs.append({
            "component": n, "label": component_label(n), "weight": weights.get(n, np.nan),
            "ai": a[1] if a else np.nan, "dotcom_peak": d[1] if d else np.nan,
            "ai_date": a[0].date() if a else None, "dotcom_date": d[0].date() if d else None,
        })
    return pd.DataFrame(recs, columns=["component", "label", "weight", "ai", "dotcom_peak",
                                       "ai_date", "dotcom_date"])



# --------------------------------------------------------------------------- episodes
#: Readable names of the stored episode attributes (``attr_<name>`` columns).
EPISODE_COLUMNS = {"duration": "Observations above the critical value",
                   "peak_bsadf": "Peak BSADF", "peak_stat": "Peak statistic"}
#: Readable names of the episode table's own columns.
EPISODE_HEADERS = {"kind": "Direction", "start": "Start", "end": "End", "peak": "Peak",
                   "ongoing": "Ongoing", "calendar days": "Calendar days"}
#: How a PSY episode kind reads.
EPISODE_KINDS = {"positive": "explosive rise", "negative": "explosive fall"}


def episode_table(eps: pd.DataFrame) -> pd.DataFrame:
    """Stored episodes as a table for people: newest first, every column
    named in words, the direction in words, ``Calendar days`` from start to
    end (empty while ongoing)."""
    view = eps.drop(columns=[c for c in ("indicator", "key") if c in eps.columns])
    days = [(pd.Timestamp(e) - pd.Timestamp(s)).days if e is not None and pd.notna(e) else None
            for s, e in zip(view["start"], view["end"], strict=True)]
    view = view.assign(**{"calendar days": days})
    if "kind" in view.columns:
        view["kind"] = view["kind"].map(lambda k: EPISODE_KINDS.get(str(k), str(k)))
    if "ongoing" in view.columns:
        view["ongoing"] = view["ongoing"].map(lambda v: "yes" if bool(v) else "no")
    names = {c: EPISODE_COLUMNS.get(c[5:], c[5:].replace("_", " ").capitalize())
             for c in view.columns if c.startswith("attr_")}
    view = view.sort_values("start", ascending=False)
    return view.rename(columns={**names, **EPISODE_HEADERS})


@dataclass(frozen=True, slots=True)
class ExceedanceSummary:
    """How often a statistic was above its critical value: ``above`` of
    ``total`` observations, first and last such date."""

    above: int
    total: int
    first: date | None
    last: date | None


def exceedances(stat: pd.Series, cv: pd.Series) -> ExceedanceSummary:
    """Observations where ``stat`` (BSADF) is above ``cv`` (its critical value),
    on the dates both have."""
    both = pd.concat([stat.rename("s"), cv.rename("c")], axis=1).dropna()
    hit = both.index[both["s"] > both["c"]]
    return ExceedanceSummary(len(hit), len(both),
                             hit.min().date() if len(hit) else None,
                             hit.max().date() if len(hit) else None)


# --------------------------------------------------------------------------- helpers
def wide_between(df: pd.DataFrame, start: date | None, end: date | None) -> pd.DataFrame:
    """Rows of a ``DatetimeIndex`` frame within ``[start, end]`` (open ends allowed)."""
    if df.empty:
        return df
    mask = np.ones(len(df), dtype=bool)
    if start is not None:
        mask &= df.index >= pd.Timestamp(start)
    if end is not None:
        mask &= df.index <= pd.Timestamp(end)
    return df[mask]


def active_alerts(events: pd.DataFrame, states: pd.DataFrame) -> pd.DataFrame:
    """Alerts whose announced condition still holds: the latest event of each
    (rule, key) whose stored state is still that event's condition.

    Parameters
    ----------
    events
        ``alert_event`` rows (``rule_id, key, condition, as_of, created_at`` ...).
    states
        ``alert_state`` rows (``rule_id, key, condition``).
    """
    if events is None or events.empty:
        return pd.DataFrame(columns=[] if events is None else events.columns)
    ev = events.sort_values([c for c in ("as_of", "created_at", "id") if c in events.columns])
    latest = ev.groupby(["rule_id", "key"], as_index=False, sort=False).tail(1)
    if states is None or states.empty or "condition" not in states.columns:
        return latest.iloc[0:0]
    st_ = states[["rule_id", "key", "condition"]].rename(columns={"condition": "_now"})
    merged = latest.merge(st_, on=["rule_id", "key"], how="inner")
    active = merged[merged["condition"] == merged["_now"]].drop(columns="_now")
    sort = [c for c in ("as_of", "created_at") if c in active.columns]
    return active.sort_values(sort, ascending=False).reset_index(drop=True) if sort else active


# --------------------------------------------------------------------------- units
_UNIT_SCALE = {"usd": 1.0, "usd m": 1e6, "usd mn": 1e6, "usd million": 1e6, "usd millions": 1e6,
               "usd bn": 1e9, "usd b": 1e9, "usd billion": 1e9, "usd billions": 1e9}


def to_usd_bn(values: pd.Series, unit: str | None = None) -> pd.Series:
    """Money values converted to USD billions.

    ``unit`` is ``"USD"``, ``"USD m"`` or ``"USD bn"`` (case-insensitive). Without
    a unit, values above 1e6 in absolute size are taken as USD (XBRL facts are
    stored in dollars), smaller ones as USD millions (reference tables).
    """
    if unit is not None:
        key = unit.strip().lower()
        if key not in _UNIT_SCALE:
            raise ValueError(f"unknown money unit {unit!r}; use USD, USD m or USD bn")
        return values * (_UNIT_SCALE[key] / 1e9)
    big = values.abs().max() if not values.empty else 0.0
    return values / 1e9 if big > 1e6 else values / 1e3


def reference_series(ref: pd.DataFrame, *, entity: str | Sequence[str] | None = None,
                     metric: str | Sequence[str] | None = None,
                     contains: bool = True) -> pd.DataFrame:
    """Rows of the reference table for entity/metric (substring match when
    ``contains``), indexed by period end, sorted."""
    if ref is None or ref.empty:
        return pd.DataFrame(columns=ref.columns if ref is not None else [])

    def match(col: pd.Series, wanted: str | Sequence[str] | None) -> pd.Series:
        if wanted is None:
            return pd.Series(True, index=col.index)
        words = [wanted] if isinstance(wanted, str) else list(wanted)
        low = col.astype(str).str.lower()
        m = pd.Series(False, index=col.index)
        for w in words:
            m |= low.str.contains(w.lower(), regex=False) if contains else (low == w.lower())
        return m

    out = ref[match(ref["entity"], entity) & match(ref["metric"], metric)].copy()
    out["period_end"] = pd.to_datetime(out["period_end"])
    return out.dropna(subset=["period_end"]).sort_values("period_end").set_index("period_end")


def keys_in_words(texts: pd.Series, labels: Mapping[str, str]) -> pd.Series:
    """``texts`` with every whole-word key of ``labels`` (``h20_licence``)
    replaced by its label; the longest key wins where keys overlap."""
    if not labels:
        return texts.astype(str)
    pattern = re.compile(r"\b(" + "|".join(re.escape(k) for k in sorted(labels, key=len,
                                                                          reverse=True)) + r")\b")
    return texts.astype(str).map(lambda t: pattern.sub(lambda m: labels[m.group(1)], t))


def sources_in_words(ref: pd.DataFrame) -> pd.Series:
    """The ``source`` of each reference figure with the keys of other figures
    it was computed from (``csco_close_peak_2000``) replaced by their labels."""
    if ref is None or ref.empty or "source" not in ref.columns:
        return pd.Series(dtype=object)
    labels = dict(zip(ref["key"].astype(str), ref["label"].astype(str), strict=True))
    return keys_in_words(ref["source"], labels)


def to_calendar_quarter(series: pd.Series) -> pd.Series:
    """Re-key a fiscal-quarter series by the end of the calendar quarter its
    period end falls in (Oracle's quarter to 31 August -> 30 September), so
    companies on different fiscal calendars stack; the last value wins."""
    if series.empty:
        return series
    idx = pd.DatetimeIndex(series.index).to_period("Q").to_timestamp(how="end").normalize()
    out = pd.Series(series.to_numpy(), index=idx, name=series.name)
    return out.groupby(level=0).last()


#: People's headers of :func:`provenance_view`.
PROVENANCE_HEADERS = {
    "component": "Component", "reading": "Reading", "weight": "Weight",
    "ai_score": "AI score", "ai_coverage": "AI coverage", "ai_as_of": "AI as of",
    "ai_age_days": "Age (days)", "ai_stale": "Stale", "dotcom_score": "Dot-com peak score",
    "dotcom_coverage": "Dot-com coverage", "ai_why": "Why not scored",
}


def provenance_view(prov: pd.DataFrame, label: Callable[[str], str],
                    reading_names: Mapping[str, str]) -> pd.DataFrame:
    """The composite's provenance table (:func:`indicators.composite.provenance_table`)
    in people's words: components by ``label``, readings by ``reading_names``,
    scores rounded, weights and coverage as percentages, stale as yes/no, and
    ``–`` where a side has no value."""
    def pct(v: Any) -> str:
        return "–" if v is None or pd.isna(v) else f"{100 * float(v):.0f}%"

    def num(v: Any) -> str:
        return "–" if v is None or pd.isna(v) else f"{float(v):.0f}"

    out = pd.DataFrame({
        "component": prov["component"].map(label),
        "reading": prov["reading"].map(lambda r: reading_names.get(r, r)),
        "weight": prov["weight"].map(pct),
        "ai_score": prov["ai_score"].map(num),
        "ai_coverage": prov["ai_coverage"].map(pct),
        "ai_as_of": prov["ai_as_of"].map(lambda d: "–" if d is None or pd.isna(d)
                                         else f"{pd.Timestamp(d):%Y-%m-%d}"),
        "ai_age_days": prov["ai_age_days"].map(num),
        "ai_stale": prov["ai_stale"].map(lambda v: "–" if v is None or pd.isna(v)
                                         else ("yes" if v else "no")),
        "dotcom_score": prov["dotcom_score"].map(num),
        "dotcom_coverage": prov["dotcom_coverage"].map(pct),
        "ai_why": prov["ai_why"].map(lambda v: v if isinstance(v, str) and v else "–"),
    })
    return out.rename(columns=PROVENANCE_HEADERS)
