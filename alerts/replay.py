"""The alerts that would have fired: the rules replayed over a backtest.

The service evaluates every rule once after each ``compute`` on the stored
results, keeps the state of each (rule, key) and fires on transitions, with
cool-downs and hysteresis (:mod:`alerts.rules`). A replay does the same, date
by date, over the point-in-time readings of ``track_record``
(:mod:`indicators.track_record`): on each reading date ``D`` the rule sees the
series as stored up to ``D`` and the state left by the evaluation before, and
the very same :func:`alerts.rules.evaluate_rule` decides. So an alert here is
one the service would have sent had it run on each date with today's rules.

What a rule sees on ``D``
    ``values`` (and ``thresholds``, ``same_inputs_change``) up to ``D``, cut to
    the stretch the rule type reads (the last value; from the last evaluated
    date for band rules on unchanged inputs; from ``days`` before for change
    rules; all of it for percentile rules), which gives the rule engine the
    same answer as the whole stored series up to ``D``. Episode rules see the
    real-time episodes confirmed by ``D``, open unless they had ended by
    ``D``, and ``as_of`` = ``D``.
Which rules
    Rules on the composite (``score``, ``ai_only`` and their same-inputs
    changes), the run-up (``ret_2y``), the regime (``high_var_prob``), PSY
    (episodes, ``bsadf``/``cv95``), LPPLS (``pos_conf``, where the backtest
    fits it) and valuation (``pe_ttm``). ``ai_basket``/``dotcom_basket`` are
    read on the cohort keys ``ai``/``dotcom``. Rules on anything else (event
    studies, capex...) are skipped with the reason. A percentile rule ranks
    the value among the backtest's own reading dates (weekly by default),
    where the service ranks the stored daily and weekly values.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from alerts.config import ALL_KEYS, Rule
from alerts.rules import Alert, RuleInput, RuleState, evaluate_rule
from indicators.track_record import REPLAYED_EPISODES, REPLAYED_FIELDS, live_key, replayed_key

if TYPE_CHECKING:
    from bubblewatch.core.universe import Universe


@dataclass(frozen=True, slots=True)
class ReplayedAlert:
    """An alert the rules would have fired, on the backtest key ``key`` (the
    alert's own ``key`` is the live one: ``ai_basket`` for a run-up rule on
    ``ai``)."""

    key: str
    alert: Alert


@dataclass
class AlertReplay:
    """What a replay did: the alerts per backtest key, the (rule, key) pairs it
    evaluated, and the rules (or rule keys) it could not replay, with why."""

    alerts: dict[str, list[ReplayedAlert]] = field(default_factory=dict)
    evaluated: dict[str, list[str]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def all(self) -> list[ReplayedAlert]:
        out = [a for v in self.alerts.values() for a in v]
        return sorted(out, key=lambda a: (a.alert.as_of, a.key, a.alert.rule_id))


# --------------------------------------------------------------------------- inputs
class _Clean:
    """A stored column with its finite values only (what the rule engine keeps)."""

    def __init__(self, s: pd.Series | None):
        if s is None:
            s = pd.Series(dtype=float)
        s = pd.to_numeric(s, errors="coerce")
        s.index = pd.DatetimeIndex(s.index)
        s = s[np.isfinite(s.to_numpy(dtype=float))].sort_index()
        self.series = s
        self.t = s.index.to_numpy("datetime64[ns]")

    def upto(self, when: np.datetime64) -> int:
        return int(np.searchsorted(self.t, when, side="right"))

    def before(self, when: np.datetime64) -> int:
        return int(np.searchsorted(self.t, when, side="left"))


def _episodes_known(events: pd.DataFrame, day: pd.Timestamp) -> pd.DataFrame:
    """Real-time episodes as known on ``day``: confirmed by then, open unless
    they had ended by then (``kind`` is the episode's direction)."""
    cols = ["kind", "start", "end", "ongoing"]
    if events is None or events.empty:
        return pd.DataFrame(columns=cols)
    conf = pd.to_datetime(events["confirmed"])
    ev = events[conf <= day]
    if ev.empty:
        return pd.DataFrame(columns=cols)
    end = pd.to_datetime(ev["end"])
    open_ = end.isna() | (end > day)
    return pd.DataFrame({"kind": ev["direction"].to_numpy(), "start": ev["start"].to_numpy(),
                         "end": end.where(~open_).dt.date.to_numpy(),
                         "ongoing": open_.to_numpy()})


def _episode_frame(events: pd.DataFrame | None, kind: str) -> pd.DataFrame:
    """Stored ``track_record`` events of ``kind`` with their direction and
    confirmation date as columns (events as :func:`db.repo.indicator_events`
    returns them: attributes in ``attr_<name>`` columns)."""
    if events is None or events.empty or "kind" not in events:
        return pd.DataFrame()
    ev = events[events["kind"] == kind].copy()
    if ev.empty:
        return ev
    ev["direction"] = ev.get("attr_direction")
    ev["confirmed"] = ev.get("attr_confirmed")
    return ev


# --------------------------------------------------------------------------- replay
def replay_rule(rule: Rule, key: str, dates: Iterable[pd.Timestamp], *,
                values: pd.Series | None = None, thresholds: pd.Series | None = None,
                same_inputs_change: pd.Series | None = None,
                episodes: pd.DataFrame | None = None,
                state: RuleState | None = None,
                key_label: str | None = None) -> tuple[list[Alert], RuleState | None]:
    """Evaluate ``rule`` for the live key ``key`` on each of ``dates`` in turn,
    as the service would have after a compute on that date.

    Parameters
    ----------
    values, thresholds, same_inputs_change
        The rule's ``field``, ``threshold_field`` and
        ``same_inputs_change_field`` series over the whole replay (cut to
        each date here).
    episodes
        For episode rules: episodes with ``start``, ``end``, ``direction``
        (positive/negative) and ``confirmed`` (the date the monitor reported
        it).
    state
        The state before the first date (None: never evaluated).
    key_label
        The key as people read it, in the alerts' titles (``"Dot-com
        basket"``; the key itself when None), as the service names it.

    Returns
    -------
    The alerts fired, in date order, and the final state.
    """
    vals, thr = _Clean(values), _Clean(thresholds)
    ch = None
    if same_inputs_change is not None:
        ch = pd.to_numeric(same_inputs_change, errors="coerce")
        ch.index = pd.DatetimeIndex(ch.index)
        ch = ch.sort_index()
    episode = rule.type in ("episode_start", "episode_end")
    if episode and episodes is not None and not episodes.empty:
        conf = pd.to_datetime(episodes["confirmed"]).to_numpy("datetime64[ns]")
        ends = pd.to_datetime(episodes["end"]).to_numpy("datetime64[ns]")
    else:
        conf = ends = np.array([], dtype="datetime64[ns]")
    fired: list[Alert] = []
    last_sig: tuple[int, int] | None = None
    again = True
    known = _episodes_known(pd.DataFrame(), pd.Timestamp.min)
    for day in dates:
        day = pd.Timestamp(day)
        when = day.to_datetime64()
        if episode:
            # an episode rule decides on the episodes known on the day alone: between
            # two changes of them it can only repeat itself (unless a cool-down held it)
            seen = conf <= when
            sig = (int(seen.sum()), int((seen & (ends <= when)).sum()))
            if sig == last_sig and not again:
                continue
            if sig != last_sig:
                known = _episodes_known(episodes, day) if sig[0] else known.iloc[:0]
            last_sig = sig
        hi = vals.upto(when)
        lo = max(hi - 1, 0)
        if rule.type == "percentile":
            lo = 0 if rule.lookback_days is None else vals.before(
                (day - pd.Timedelta(days=rule.lookback_days)).to_datetime64())
        elif rule.type == "change" and rule.days is not None:
            lo = max(vals.upto((day - pd.Timedelta(days=rule.days)).to_datetime64()) - 1, 0)
        elif (rule.same_inputs_change_field is not None and state is not None
              and state.as_of is not None):
            lo = min(lo, vals.before(np.datetime64(state.as_of, "ns")))
        v = vals.series.iloc[lo:hi]
        t_hi = thr.upto(when)
        t = thr.series.iloc[max(t_hi - 1, 0):t_hi]
        c = None
        if ch is not None:
            first = v.index[0] if len(v) else day
            c = ch[(ch.index >= first) & (ch.index <= day)]
        data = RuleInput(values=v, thresholds=t, events=known if episode else None,
                         as_of=day.date() if episode else None, same_inputs_change=c,
                         key_label=key_label)
        out = evaluate_rule(rule, key, data, state)
        state = out.state
        again = out.alert is None and out.note != "no change"
        if out.alert is not None:
            fired.append(out.alert)
    return fired, state


def replay_track_record(rules: Sequence[Rule], frames: Mapping[str, pd.DataFrame],
                        events: Mapping[str, pd.DataFrame] | None = None,
                        universe: Universe | None = None) -> AlertReplay:
    """Replay ``rules`` over the stored ``track_record`` of each key.

    Parameters
    ----------
    rules
        Valid rules (a :class:`~alerts.config.RuleBook`'s).
    frames
        Backtest key -> its wide ``track_record`` frame (``DatetimeIndex``).
    events
        Backtest key -> its stored ``track_record`` events (``kind, start,
        end, attrs``), for episode rules.
    universe
        Names the keys in the alerts' titles (:meth:`Universe.label`, long
        form, as the service does); None: the keys themselves.

    Returns
    -------
    :class:`AlertReplay`; a rule that raises for one key is recorded in
    ``errors`` and never stops the others.
    """
    out = AlertReplay()
    events = events or {}
    for rule in rules:
        if rule.type in ("episode_start", "episode_end"):
            if rule.indicator not in REPLAYED_EPISODES:
                out.skipped[rule.id] = (f"the backtest does not replay {rule.indicator} "
                                        "episodes")
                continue
        elif (rule.indicator, rule.field) not in REPLAYED_FIELDS:
            out.skipped[rule.id] = (f"the backtest does not replay {rule.indicator}."
                                    f"{rule.field}")
            continue
        missing = [f for f in (rule.threshold_field, rule.same_inputs_change_field)
                   if f is not None and (rule.indicator, f) not in REPLAYED_FIELDS]
        if missing:
            out.skipped[rule.id] = (f"the backtest does not replay {rule.indicator}."
                                    f"{missing[0]}")
            continue
        targets = _targets(rule, frames, out)
        for key in targets:
            frame = frames[key]
            col = REPLAYED_FIELDS.get((rule.indicator, rule.field or ""))
            tcol = REPLAYED_FIELDS.get((rule.indicator, rule.threshold_field or ""))
            scol = REPLAYED_FIELDS.get((rule.indicator, rule.same_inputs_change_field or ""))
            eps = None
            if rule.type in ("episode_start", "episode_end"):
                eps = _episode_frame(events.get(key), REPLAYED_EPISODES[rule.indicator])
            elif col not in frame:
                continue  # the key has no such reading (a symbol without filings...)
            lk = live_key(rule.indicator, key)
            try:
                fired, _ = replay_rule(
                    rule, lk, frame.index, values=frame.get(col) if col else None,
                    thresholds=frame.get(tcol) if tcol else None,
                    same_inputs_change=frame.get(scol) if scol else None, episodes=eps,
                    key_label=universe.label(lk, long=True) if universe is not None else None)
            except Exception as exc:  # noqa: BLE001 - one (rule, key) never stops the others
                out.errors[f"{rule.id}/{key}"] = f"{type(exc).__name__}: {exc}"
                continue
            out.evaluated.setdefault(key, []).append(rule.id)
            if fired:
                out.alerts.setdefault(key, []).extend(ReplayedAlert(key, a) for a in fired)
    return out


def _targets(rule: Rule, frames: Mapping[str, pd.DataFrame], out: AlertReplay) -> list[str]:
    """The backtest keys a rule applies to (explicit keys not replayed are noted)."""
    if rule.keys == (ALL_KEYS,):
        return [k for k in frames if replayed_key(rule.indicator, live_key(rule.indicator, k))
                == k]
    keys = []
    for lk in rule.keys:
        k = replayed_key(rule.indicator, lk)
        if k is None or k not in frames:
            out.skipped[f"{rule.id}/{lk}"] = f"{lk!r} is not among the backtest's keys"
            continue
        keys.append(k)
    return keys


def alert_rows(alerts: Iterable[ReplayedAlert]) -> list[dict[str, object]]:
    """Alerts as plain rows (CLI tables, exports)."""
    return [{"key": a.key, "date": a.alert.as_of, "rule": a.alert.rule_id,
             "severity": a.alert.severity, "condition": a.alert.condition,
             "previous": a.alert.previous, "value": a.alert.value_text,
             "threshold": a.alert.threshold_text, "title": a.alert.title} for a in alerts]

