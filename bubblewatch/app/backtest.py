"""The backtest job: replay the pipeline point in time, replay the alert rules
on it, store both, and judge the warnings by what followed.

:func:`run_backtest`
    1. checks the request (period, keys, peaks) against the data, so a bad
       input fails before minutes of work, naming what is available;
    2. runs the ``track_record`` indicator for every requested key through the
       compute job (stored like any indicator: dashboard, ``export`` and
       :func:`indicators.load` read it);
    3. replays the current alert rules on the stored readings
       (:mod:`alerts.replay`) and stores what would have fired as
       ``track_record_alerts``;
    4. builds the report: for each key, each reference peak and each signal
       (the headline warning and every real-time monitor), the first warning
       and its lead time; and the share of calm dates flagged (false alarms)
       inside the evaluation window (:mod:`indicators.lead_time`).

Peaks: the built-in reference peaks
(:data:`indicators.track_record.REFERENCE_PEAKS`), the user's ``--peak
KEY=DATE``, and the crash peaks found in each key's reading-date closes
(running highs followed by a 40% fall within two years, with hindsight; see
:func:`indicators.track_record.judge`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

import pandas as pd

from bubblewatch.core.errors import ConfigError
from indicators.composite import COHORTS
from indicators.track_record import ALERTS_NAME, NAME, REFERENCE_PEAKS, judge, track_keys

if TYPE_CHECKING:
    from alerts.replay import AlertReplay
    from bubblewatch.core.settings import Settings
    from indicators.pit_replay import ReplayParams

@dataclass
class BacktestReport:
    """What one backtest did and found (see the module docstring)."""

    start: date
    end: date
    freq: str
    keys: list[str]
    leads: pd.DataFrame
    alarms: pd.DataFrame
    alerts: pd.DataFrame
    calm_window: tuple[date | None, date | None]
    #: Stored readings (dates with a headline score), summed over the keys.
    readings: int = 0
    seconds: float = 0.0
    #: Wall seconds of the job's stages (``replay``, ``storing``, ``alert replay``).
    stages: dict[str, float] = field(default_factory=dict)
    #: Wall seconds of the replay's own stages (each second in one stage only;
    #: with ``stored``, those of the run that stored the results).
    replay_stages: dict[str, float] = field(default_factory=dict)
    skipped_rules: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The report as plain JSON values."""
        def rows(df: pd.DataFrame) -> list[dict[str, Any]]:
            out = df.astype(object).where(df.notna(), None)
            return [{k: (v.isoformat() if isinstance(v, date) else v) for k, v in r.items()}
                    for r in out.to_dict("records")]
        return {
            "period": {"start": self.start.isoformat(), "end": self.end.isoformat(),
                       "freq": self.freq},
            "calm_window": [d.isoformat() if d else None for d in self.calm_window],
            "keys": self.keys, "readings": self.readings, "seconds": round(self.seconds, 1),
            "stages": {k: round(v, 1) for k, v in self.stages.items()},
            "replay_stages": {k: round(v, 1) for k, v in self.replay_stages.items()},
            "params": self.params, "first_warnings": rows(self.leads),
            "false_alarms": rows(self.alarms), "alerts": rows(self.alerts),
            "skipped_rules": self.skipped_rules, "errors": self.errors, "notes": self.notes,
        }

    def to_csv(self) -> str:
        """First warnings and false alarms as one long table (``table`` column)."""
        leads = self.leads.assign(table="first_warning")
        alarms = self.alarms.assign(table="false_alarms")
        both = pd.concat([leads, alarms], ignore_index=True, sort=False)
        cols = ["table", *[c for c in both.columns if c != "table"]]
        return both[cols].to_csv(index=False)


# --------------------------------------------------------------------------- checks
def resolve_keys(settings: Settings, keys: Sequence[str] | None) -> list[str]:
    """The backtest keys asked for (all by default), symbols resolved.

    Raises
    ------
    ConfigError
        A key that is neither a cohort nor a symbol of the universe, with
        the ones available.
    """
    universe = settings.universe
    available = list(track_keys(universe))
    if not keys:
        return available
    out = []
    for k in keys:
        if k in available:
            out.append(k)
            continue
        try:
            out.append(universe.resolve(k))
        except KeyError:
            raise ConfigError(f"{k!r} is not a cohort or symbol of the universe; available: "
                              f"{', '.join(available)}") from None
    return list(dict.fromkeys(out))


def parse_peaks(texts: Sequence[str] | None, settings: Settings) -> list[tuple[str, date]]:
    """``["NVDA=2024-06-18"]`` -> ``[("NVDA", date(2024, 6, 18))]``.

    Raises
    ------
    ConfigError
        Not ``KEY=YYYY-MM-DD``, or a key that is not a cohort or symbol.
    """
    out = []
    for text in texts or ():
        key, sep, day = text.partition("=")
        if not sep or not key.strip() or not day.strip():
            raise ConfigError(f"--peak {text!r}: expected SYMBOL=YYYY-MM-DD (e.g. "
                              "--peak NVDA=2024-06-18)")
        try:
            when = date.fromisoformat(day.strip())
        except ValueError:
            raise ConfigError(f"--peak {text!r}: {day.strip()!r} is not a date "
                              "(YYYY-MM-DD)") from None
        out.append((resolve_keys(settings, [key.strip()])[0], when))
    return out


def _readings(frame: pd.DataFrame) -> pd.DatetimeIndex:
    return frame["score"].dropna().index if "score" in frame else frame.index[:0]


def _inside(frame: pd.DataFrame, day: date) -> bool:
    have = _readings(frame)
    return bool(len(have)) and have[0] <= pd.Timestamp(day) <= have[-1]


def _check_peaks(peaks: Sequence[tuple[str, date]], frames: Mapping[str, pd.DataFrame]) -> None:
    """Every user peak lies inside its key's readings (names the span otherwise)."""
    for key, day in peaks:
        frame = frames.get(key)
        if frame is None:
            raise ConfigError(f"peak {key}={day}: {key} is not in this backtest; its keys are "
                              f"{', '.join(frames)}")
        have = _readings(frame)
        if not len(have):
            raise ConfigError(f"peak {key}={day}: {key} has no reading in this backtest "
                              f"({frame.index[0].date()} to {frame.index[-1].date()})")
        if not _inside(frame, day):
            raise ConfigError(f"peak {key}={day} is outside the data: readings of {key} run "
                              f"from {have[0].date()} to {have[-1].date()}")


# --------------------------------------------------------------------------- job
def run_backtest(
    settings: Settings,
    params: ReplayParams,
    *,
    keys: Sequence[str] | None = None,
    peaks: Sequence[tuple[str, date]] = (),
    calm_window: tuple[date | None, date | None] = (None, None),
    stored: bool = False,
    show_progress: bool = True,
) -> BacktestReport:
    """Replay, store and judge (see the module docstring).

    Parameters
    ----------
    settings
        Database, universe and rules file.
    params
        The replay's parameters (period, sampling, monitors).
    keys
        Cohorts and symbols (default: all).
    peaks
        ``(key, date)`` peaks besides the reference ones.
    calm_window
        Evaluation window of the false-alarm shares (None: the whole period).
    stored
        Report on the stored results of an earlier run instead of replaying.

    Raises
    ------
    ConfigError
        Unknown keys, a period without data, a peak outside a key's readings
        (each naming what is available), or keys whose replay failed.
    """
    from alerts.replay import replay_track_record
    from alerts.service import load_rules
    from db import repo
    from db.migrate import require_current
    from db.session import session_scope
    from indicators.compute import run_compute
    from indicators.registry import params_dict, params_hash

    t0 = time.perf_counter()
    url = settings.resolved_database_url
    require_current(url)
    wanted = resolve_keys(settings, keys)
    book = load_rules(settings)
    stages: dict[str, float] = {}
    errors: dict[str, str] = {}
    if not stored:
        _check_period(settings, params, peaks)
        t = time.perf_counter()
        report = run_compute(settings, [NAME], wanted, full=True,
                             overrides={NAME: params_dict(params)}, show_progress=show_progress)
        storing = report.store_seconds.get(NAME, 0.0)
        stages["replay"] = time.perf_counter() - t - storing
        stages["storing"] = storing
        errors.update(report.errors)
        done = [k for k in wanted if f"{NAME}/{k}" not in report.errors]
        if not done:
            raise ConfigError("the replay failed for every key: " + "; ".join(
                f"{k}: {v}" for k, v in report.errors.items()))
        wanted = done
    with session_scope(url) as s:
        runs = {r.key: r for r in repo.latest_runs(s, NAME)}
        missing = [k for k in wanted if k not in runs]
        if stored and missing:
            raise ConfigError(f"no stored track record for {', '.join(missing)}; run "
                              "`bubblewatch backtest` without --stored first")
        frames = {k: repo.indicator_wide(s, NAME, k) for k in wanted}
        events = {k: repo.indicator_events(s, NAME, k) for k in wanted}
        run_params = {k: dict(runs[k].params) for k in wanted if k in runs}
        stage_seconds = {k: dict((runs[k].meta or {}).get("seconds") or {}) for k in wanted
                         if k in runs}
        unread = {k: (runs[k].meta or {}).get("missing") for k in wanted
                  if k in runs and (runs[k].meta or {}).get("missing")}
    frames = {k: f for k, f in frames.items() if not f.empty}
    if not frames:
        raise ConfigError("the backtest stored no readings for " + ", ".join(wanted))
    _check_peaks(peaks, frames)
    all_peaks = [(k, d, "reference") for k, d in REFERENCE_PEAKS
                 if k in frames and _inside(frames[k], d)]
    all_peaks += [(k, d, "user") for k, d in peaks]
    t = time.perf_counter()
    replayed = replay_track_record(book.rules, frames, events, universe=settings.universe)
    stages["alert replay"] = time.perf_counter() - t
    if not stored:
        p_hash = params_hash(params)
        _store_alerts(url, replayed, frames, p_hash, str(settings.alerts.rules_file or ""))
    for k, v in replayed.errors.items():
        errors[f"alerts {k}"] = v
    first = min(f.index[0] for f in frames.values()).date()
    last = max(f.index[-1] for f in frames.values()).date()
    leads, alarms = judge(frames, all_peaks, calm_window)
    from alerts.replay import alert_rows

    alerts = pd.DataFrame(alert_rows(replayed.all()),
                          columns=["key", "date", "rule", "severity", "condition", "previous",
                                   "value", "threshold", "title"])
    merged: dict[str, float] = {}
    for secs in stage_seconds.values():
        for name, v in secs.items():
            merged[name] = max(merged.get(name, 0.0), float(v))
    notes = [str(why) for why in unread.values()]  # each names its key
    notes += [
        "first warning: the earliest flagged reading in the two years before the peak",
        ("calm date: no 40% fall from a peak within the next two years, observed in full; "
         "false-alarm share = flagged calm dates / calm dates; hit share = flagged pre-crash "
         "dates / pre-crash dates"),
        ("composite: headline in the warn band or above; PSY-type monitors: inside a positive "
         "episode confirmed by then; CUSUM monitors: detector above its boundary"),
    ]
    return BacktestReport(
        start=first, end=last, freq=str(params.freq), keys=list(frames), leads=leads,
        alarms=alarms, alerts=alerts, calm_window=calm_window,
        readings=sum(len(_readings(f)) for f in frames.values()),
        seconds=time.perf_counter() - t0, stages=stages, replay_stages=merged,
        skipped_rules=dict(replayed.skipped), errors=errors, notes=notes,
        params=next(iter(run_params.values()), {}))


def _check_period(settings: Settings, params: ReplayParams,
                  peaks: Sequence[tuple[str, date]] = ()) -> None:
    """A period without prices, or a peak outside the prices or the period,
    fails here, before the replay, naming the span of the data."""
    from db import repo
    from db.session import session_scope

    with session_scope(settings.resolved_database_url) as s:
        counts = repo.price_counts(s)
    universe = settings.universe
    span = {sym: (f, lst) for sym, (n, f, lst) in counts.items()
            if n and sym in universe.symbols and f is not None and lst is not None}
    if not span:
        raise ConfigError("no prices in the database for the universe; load them with "
                          "`bubblewatch ingest` (or `--from-dir DIR`)")
    first = min(f for f, _ in span.values())
    last = max(lst for _, lst in span.values())
    if params.end is not None and params.start > params.end:
        raise ConfigError(f"backtest period {params.start} to {params.end} is empty: the start "
                          "is after the end")
    end = params.end or last
    if params.start > last or end < first:
        raise ConfigError(f"no prices between {params.start} and {end}; the data run from "
                          f"{first} to {last}: choose a period inside it")
    for key, day in peaks:
        members = list(universe.baskets.get(COHORTS[key], ())) if key in COHORTS else [key]
        have = [span[m] for m in members if m in span]
        if not have:
            raise ConfigError(f"peak {key}={day}: there are no prices for {key}; load them "
                              "with `bubblewatch ingest`")
        lo, hi = min(f for f, _ in have), max(x for _, x in have)
        if not (lo <= day <= hi and params.start <= day <= end):
            raise ConfigError(f"peak {key}={day} is outside the data: {key} prices run from "
                              f"{lo} to {hi} and the backtest reads {params.start} to {end}")


def _store_alerts(url: str, replayed: AlertReplay, frames: Mapping[str, pd.DataFrame],
                  track_hash: str, rules_file: str) -> None:
    from db import repo
    from db.session import session_scope
    from indicators.registry import get, params_dict, params_hash

    ind = get(ALERTS_NAME)
    params = ind.parse_params({"track_record_params": track_hash,
                               "rules_file": rules_file or None})
    phash = params_hash(params)
    with session_scope(url) as s:
        for key in frames:
            fired = replayed.alerts.get(key, [])
            rows = [{"date": pd.Timestamp(a.alert.as_of), "w": a.alert.severity != "info"}
                    for a in fired]
            frame = pd.DataFrame(rows, columns=["date", "w"])
            if frame.empty:
                wide = pd.DataFrame(columns=["alerts", "warnings"], dtype=float)
            else:
                wide = frame.groupby("date").agg(alerts=("w", "size"), warnings=("w", "sum"))
                wide = wide.astype(float)
            events = [{"kind": a.alert.rule_id, "start": a.alert.as_of, "end": None,
                       "peak": None, "ongoing": False,
                       "attrs": {"severity": a.alert.severity, "condition": a.alert.condition,
                                 "previous": a.alert.previous, "value": a.alert.value,
                                 "threshold": a.alert.threshold, "title": a.alert.title,
                                 "live_key": a.alert.key, "indicator": a.alert.indicator,
                                 "field": a.alert.field}}
                      for a in fired]
            days = sorted(a.alert.as_of for a in fired)
            meta = ind.make_meta(rules=sorted(set(replayed.evaluated.get(key, []))),
                                 skipped=dict(replayed.skipped), n_alerts=len(fired),
                                 first_alert=days[0] if days else None,
                                 last_alert=days[-1] if days else None)
            repo.store_indicator_result(
                s, indicator=ALERTS_NAME, key=key, params=params_dict(params),
                params_hash=phash, frame=wide, events=events,
                meta=meta.model_dump(mode="json"), as_of=frames[key].index[-1].date())

