"""Pure rule evaluation: (rule, key, stored indicator data, previous state) ->
(new state, alert or nothing).

The state of a (rule, key) is the *condition subscribers were last told about*
(``"on"``/``"off"`` for level rules, the side of the threshold for crossings,
the band label, ``"ongoing"``/``"none"`` for episodes). An alert fires only on a
transition of that condition, so re-running an evaluation on the same data
fires nothing new. Rules look at the latest value only (the as-of date of the
stored series); transitions in between two evaluations are not replayed.

Wording: every alert names the key as people know it (``RuleInput.key_label``,
``"NVIDIA (NVDA)"``), the field by its column label, the figure and threshold in
the field's unit, the date the condition has held since (read back from the
stored series) and, in a second paragraph, what it means (the rule's
description). Dates are exchange trading days in New York.

Cool-down: a transition that would fire less than ``cooldown_days`` after the
previous alert of the same (rule, key) is held back, and the notified condition
is left unchanged, so the alert fires after the cool-down if the condition
still holds. Transitions that do not notify (re-arming below the hysteresis
band, a crossing in the direction the rule ignores) update the state silently.

Changes of inputs: an indicator built from several inputs (the composite
score) can change band only because an input arrived or went stale. A band
rule with ``same_inputs_change_field`` reads, for every stored date, the
change of the value since the previous date over the inputs present on both
(:mod:`indicators.composite`). From the value on the date subscribers were
last told about, those changes add up to the value the indicator would have
had with unchanged inputs; when that value is still in the notified band,
the band change came from the inputs alone: the state moves to the new band
silently (note ``inputs changed``) and no alert fires. A move of the reading
itself on a day an input also changed still alerts.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from hashlib import sha256

import pandas as pd

from alerts.config import Rule, episode_words

ON, OFF = "on", "off"
ABOVE, BELOW = "above", "below"
ONGOING, NONE = "ongoing", "none"


@dataclass(frozen=True, slots=True)
class RuleInput:
    """Stored indicator data for one (rule, key).

    ``values`` is the rule's ``field`` and ``thresholds`` its ``threshold_field``
    (both indexed by date, ascending); ``events`` the indicator's episodes
    (``kind, start, end, ongoing``); ``as_of`` the last input date of the
    computation (used by episode rules); ``same_inputs_change`` the rule's
    ``same_inputs_change_field`` (band rules, see the module docstring);
    ``key_label`` the key as people read it (``"NVIDIA (NVDA)"``; the key
    itself when None).
    """

    values: pd.Series | None = None
    thresholds: pd.Series | None = None
    events: pd.DataFrame | None = None
    as_of: date | None = None
    same_inputs_change: pd.Series | None = None
    key_label: str | None = None


@dataclass(frozen=True, slots=True)
class RuleState:
    """What subscribers were last told about one (rule, key)."""

    condition: str | None = None
    as_of: date | None = None
    value: float | None = None
    last_fired: date | None = None
    rule_hash: str | None = None


@dataclass(frozen=True, slots=True)
class Alert:
    """One fired alert: the figure, the threshold and the as-of date.

    ``dedupe_key`` is stable for (rule, key, as-of, new condition), so storing
    the same alert twice is a no-op.
    """

    rule_id: str
    key: str
    indicator: str
    field: str | None
    rule_type: str
    severity: str
    as_of: date
    value: float | None
    threshold: float | None
    condition: str
    previous: str | None
    title: str
    explanation: str
    value_text: str = ""
    threshold_text: str = ""

    @property
    def dedupe_key(self) -> str:
        text = f"{self.rule_id}|{self.key}|{self.as_of.isoformat()}|{self.condition}"
        return sha256(text.encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Outcome:
    """Result of evaluating one (rule, key): the state to store, the alert if
    one fired, and a short note (``fired``, ``no change``, ``cool-down``...)."""

    rule_id: str
    key: str
    state: RuleState
    alert: Alert | None
    note: str
    value: float | None = None
    threshold: float | None = None


@dataclass(frozen=True, slots=True)
class Evaluation:
    outcomes: tuple[Outcome, ...] = ()
    errors: tuple[tuple[str, str, str], ...] = ()  # (rule id, key, message)

    @property
    def alerts(self) -> list[Alert]:
        return [o.alert for o in self.outcomes if o.alert is not None]


@dataclass(frozen=True, slots=True)
class _Measure:
    as_of: date
    m: float | None = None          # compared against t
    t: float | None = None
    value: float | None = None      # reported figure
    threshold: float | None = None  # reported threshold
    facts: str = ""
    extra: dict[str, object] = field(default_factory=dict)
    since: date | None = None       # first day of the current run of the condition


class _NoData(Exception):
    pass


# --------------------------------------------------------------------------- API
def evaluate(items: Iterable[tuple[Rule, str, RuleInput, RuleState | None]]) -> Evaluation:
    """Evaluate many (rule, key, input, state); an error in one never stops the
    others (it is returned in :attr:`Evaluation.errors`)."""
    outcomes: list[Outcome] = []
    errors: list[tuple[str, str, str]] = []
    for rule, key, data, state in items:
        try:
            outcomes.append(evaluate_rule(rule, key, data, state))
        except Exception as exc:  # noqa: BLE001 - isolate one broken (rule, key)
            errors.append((rule.id, key, f"{type(exc).__name__}: {exc}"))
    return Evaluation(tuple(outcomes), tuple(errors))


def evaluate_rule(rule: Rule, key: str, data: RuleInput, state: RuleState | None = None) -> Outcome:
    """Evaluate ``rule`` for ``key`` on ``data`` given the previous ``state``.

    A stored state of an edited rule (different :attr:`Rule.hash`) is ignored.
    """
    if state is not None and state.rule_hash not in (None, rule.hash):
        state = None
    prev_state = state or RuleState()
    prev = prev_state.condition
    try:
        meas = _measure(rule, data)
    except _NoData as exc:
        return Outcome(rule.id, key, replace(prev_state, rule_hash=rule.hash), None,
                       f"no data: {exc}")
    new = _condition(rule, meas, prev)
    fire = _fires(rule, prev, new, meas)
    base = RuleState(new, meas.as_of, meas.value, prev_state.last_fired, rule.hash)
    if fire and rule.type == "band" and rule.same_inputs_change_field is not None:
        steady = _same_inputs_value(data, prev_state.as_of, meas.as_of)
        if steady is not None and _condition(rule, replace(meas, m=steady), prev) == prev:
            return Outcome(
                rule.id, key, base, None,
                f"{prev or 'unset'} -> {new} (silent: inputs changed; on unchanged inputs the "
                f"value would be {rule.fmt(steady)}, still {prev!r})",
                meas.value, meas.threshold)
    if not fire:
        note = "no change" if new == prev else f"{prev or 'unset'} -> {new} (silent)"
        return Outcome(rule.id, key, base, None, note, meas.value, meas.threshold)
    last = prev_state.last_fired
    if last is not None and rule.cooldown_days and meas.as_of < last + timedelta(
            days=rule.cooldown_days):
        until = last + timedelta(days=rule.cooldown_days)
        held = replace(base, condition=prev)
        return Outcome(rule.id, key, held, None, f"held by cool-down until {until}",
                       meas.value, meas.threshold)
    title, explanation = _describe(rule, data.key_label or key, meas, new, prev)
    alert = Alert(
        rule_id=rule.id, key=key, indicator=rule.indicator, field=rule.field,
        rule_type=rule.type, severity=rule.severity, as_of=meas.as_of, value=meas.value,
        threshold=meas.threshold, condition=new, previous=prev, title=title,
        explanation=explanation, value_text=rule.fmt(meas.value),
        threshold_text=rule.fmt(meas.threshold),
    )
    return Outcome(rule.id, key, replace(base, last_fired=meas.as_of), alert, "fired",
                   meas.value, meas.threshold)


# --------------------------------------------------------------------------- measuring
def _clean(s: pd.Series | None) -> pd.Series:
    if s is None or s.empty:
        return pd.Series(dtype=float)
    s = pd.to_numeric(s, errors="coerce")
    s.index = pd.DatetimeIndex(s.index)
    return s[s.map(lambda v: math.isfinite(v))].sort_index()


def _at(s: pd.Series, when: pd.Timestamp) -> float | None:
    """Last value at or before ``when``."""
    s = s[s.index <= when]
    return float(s.iloc[-1]) if not s.empty else None


def _same_inputs_value(data: RuleInput, since: date | None, as_of: date) -> float | None:
    """The value on ``as_of`` had the inputs stayed as they were on ``since``:
    the stored value on ``since`` plus every same-inputs change after it.
    None when it cannot be told (no earlier state, no value on ``since``, or a
    change missing on a stored date in between)."""
    if since is None or since >= as_of:
        return None
    values = _clean(data.values)
    changes = data.same_inputs_change
    if changes is None or values.empty:
        return None
    t0, t1 = pd.Timestamp(since), pd.Timestamp(as_of)
    if t0 not in values.index:
        return None
    ch = pd.to_numeric(changes, errors="coerce")
    ch.index = pd.DatetimeIndex(ch.index)
    days = values.index[(values.index > t0) & (values.index <= t1)]
    step = ch.reindex(days)
    if step.isna().any():
        return None
    return float(values[t0] + step.sum())


def _measure(rule: Rule, data: RuleInput) -> _Measure:
    if rule.type in ("episode_start", "episode_end"):
        return _measure_episode(rule, data)
    values = _clean(data.values)
    if values.empty:
        raise _NoData(f"no stored {rule.field} values of indicator {rule.indicator}")
    ts = values.index[-1]
    as_of = ts.date()
    v = float(values.iloc[-1])
    t = rule.threshold
    if rule.threshold_field is not None:
        t = _at(_clean(data.thresholds), ts)
        if t is None:
            raise _NoData(f"no stored {rule.threshold_field} of indicator {rule.indicator} "
                          f"on {as_of}")
    if rule.type == "change":
        assert rule.days is not None
        then_ts = ts - pd.Timedelta(days=rule.days)
        v0 = _at(values, then_ts)
        if v0 is None:
            raise _NoData(f"no value {rule.days} days before {as_of}")
        if rule.relative:
            if v0 == 0:
                raise _NoData(f"value {rule.days} days before {as_of} is 0")
            change = v / v0 - 1.0
        else:
            change = v - v0
        signed = {"up": change, "down": -change, "both": abs(change)}[rule.direction]
        return _Measure(as_of, signed, t, change, t,
                        f"from {rule.fmt(v0)} on {then_ts.date()} to {rule.fmt(v)}",
                        {"level": v, "then": v0})
    if rule.type == "percentile":
        hist = values
        if rule.lookback_days is not None:
            hist = values[values.index > ts - pd.Timedelta(days=rule.lookback_days)]
        if len(hist) < 20:
            raise _NoData(f"only {len(hist)} observations of history (need 20)")
        pct = float((hist <= v).mean() * 100.0)
        return _Measure(as_of, pct, t, pct, t,
                        f"{rule.fmt(v)} ranks at the {_ordinal(pct)} percentile of "
                        f"{len(hist)} values from {hist.index[0].date()} to {as_of}",
                        {"level": v})
    return _Measure(as_of, v, t, v, t, since=_since(rule, values, data.thresholds))


def _ordinal(pct: float) -> str:
    n = round(pct)
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _since(rule: Rule, values: pd.Series, thresholds: pd.Series | None) -> date | None:
    """First day of the current run of the condition (the side of the
    threshold, or the band) in the stored series; None when it cannot be read."""
    if rule.type == "band":
        side = pd.Series([bisect_right(rule.bands, v) for v in values], index=values.index)
    else:
        if rule.threshold_field is not None:
            thr = _clean(thresholds)
            if thr.empty:
                return None
            t = thr.reindex(values.index.union(thr.index)).ffill().reindex(values.index)
        else:
            if rule.threshold is None:
                return None
            t = pd.Series(rule.threshold, index=values.index)
        ok = t.notna()
        values, t = values[ok], t[ok]
        if values.empty:
            return None
        side = values <= t if rule.type == "below" else values >= t
    changed = side.ne(side.iloc[-1])
    if not changed.any():
        return values.index[0].date()
    last_other = changed[changed].index[-1]
    return side.index[side.index > last_other][0].date()


def _measure_episode(rule: Rule, data: RuleInput) -> _Measure:
    ev = data.events if data.events is not None else pd.DataFrame()
    if not ev.empty and "kind" in ev.columns:
        ev = ev[ev["kind"] == rule.kind]
    else:
        ev = pd.DataFrame(columns=["kind", "start", "end", "ongoing"])
    values, thresholds = _clean(data.values), _clean(data.thresholds)
    as_of = data.as_of
    if as_of is None:
        dates = [d for d in [*_dates(ev.get("start")), *_dates(ev.get("end"))] if d]
        if not values.empty:
            dates.append(values.index[-1].date())
        if not dates:
            raise _NoData(f"no computation of {rule.indicator} to read episodes from")
        as_of = max(dates)
    ts = pd.Timestamp(as_of)
    v = _at(values, ts) if not values.empty else None
    t = _at(thresholds, ts) if not thresholds.empty else None
    extra: dict[str, object] = {}
    if ev.empty:
        return _Measure(as_of, None, None, v, t, f"no {episode_words(rule.kind)} on record",
                        {"ongoing": False})
    ev = ev.assign(_start=pd.to_datetime(ev["start"])).sort_values("_start")
    ongoing_mask = ev["end"].isna()
    if "ongoing" in ev.columns:
        ongoing_mask = ongoing_mask | ev["ongoing"].fillna(False).astype(bool)
    if bool(ongoing_mask.any()):
        row = ev[ongoing_mask].iloc[-1]
        start = pd.Timestamp(row["start"]).date()
        extra = {"ongoing": True, "start": start}
        facts = f"an {episode_words(rule.kind)} under way since {start}"
        since = start
    else:
        row = ev.iloc[-1]
        start, end = pd.Timestamp(row["start"]).date(), pd.Timestamp(row["end"]).date()
        extra = {"ongoing": False, "start": start, "end": end,
                 "recent": (as_of - end).days <= rule.recent_days}
        facts = (f"the last {episode_words(rule.kind)} ran from {start} to {end} "
                 f"({(end - start).days} days)")
        since = end
    return _Measure(as_of, None, None, v, t, facts, extra, since=since)


def _dates(col: pd.Series | None) -> list[date]:
    if col is None:
        return []
    return [pd.Timestamp(x).date() for x in col.dropna()]


# --------------------------------------------------------------------------- conditions
def _condition(rule: Rule, meas: _Measure, prev: str | None) -> str:
    typ, h = rule.type, rule.hysteresis
    if typ in ("episode_start", "episode_end"):
        return ONGOING if meas.extra.get("ongoing") else NONE
    m, t = meas.m, meas.t
    assert m is not None
    if typ == "band":
        j = bisect_right(rule.bands, m)
        i = rule.labels.index(prev) if prev in rule.labels else None
        if i is not None and j < i:  # moving down needs to clear the edge by h
            j = min(i, bisect_right(rule.bands, m + h))
        return rule.labels[j]
    assert t is not None
    if typ in ("above", "change") or (typ == "percentile" and rule.direction != "below"):
        return ON if (m >= t - h if prev == ON else m >= t) else OFF
    if typ in ("below", "percentile"):
        return ON if (m <= t + h if prev == ON else m <= t) else OFF
    if typ == "cross":
        if prev == ABOVE:
            return BELOW if m < t - h else ABOVE
        if prev == BELOW:
            return ABOVE if m >= t + h else BELOW
        return ABOVE if m >= t else BELOW
    raise ValueError(f"unknown rule type {typ!r}")


def _fires(rule: Rule, prev: str | None, new: str, meas: _Measure) -> bool:
    typ = rule.type
    if typ in ("above", "below", "change", "percentile"):
        return new == ON and prev != ON
    if typ == "cross":
        if prev is None or new == prev:
            return False
        return rule.direction == "both" or (rule.direction == "up") == (new == ABOVE)
    if typ == "band":
        i = rule.labels.index(prev) if prev in rule.labels else 0
        j = rule.labels.index(new)
        if i == j:
            return False
        return rule.direction == "both" or (rule.direction == "up") == (j > i)
    if typ == "episode_start":
        return new == ONGOING and prev != ONGOING
    if typ == "episode_end":
        if new != NONE or "end" not in meas.extra:
            return False
        return prev == ONGOING or (prev is None and bool(meas.extra.get("recent")))
    raise ValueError(f"unknown rule type {typ!r}")


# --------------------------------------------------------------------------- wording
def _change_text(rule: Rule, change: float) -> str:
    if rule.relative:
        return f"{100 * change:+.1f}%"
    if rule.unit is not None and rule.unit.startswith("score"):
        return f"{change:+.1f} points"
    text = rule.fmt(change)
    return text if text.startswith(("+", "-", "−")) or change < 0 else f"+{text}"


def _describe(rule: Rule, who: str, meas: _Measure, new: str, prev: str | None
              ) -> tuple[str, str]:
    """A short title and the explanation: what happened (figure, threshold,
    since when) and, after a blank line, what it means (the rule's description)."""
    what = rule.field_label or rule.indicator_title or rule.indicator
    val, thr = rule.fmt(meas.value), rule.fmt(meas.threshold)
    thr_text = f"its {rule.threshold_label} ({thr})" if rule.threshold_label else thr
    since = meas.since
    held = (f"; it has been so since {since}" if since is not None and since < meas.as_of
            else "; it got there on that day" if since == meas.as_of else "")
    day = f"on {meas.as_of}"
    typ = rule.type
    if typ == "above":
        title = f"{who}: {what} {val}, at or above {thr_text}"
        facts = (f"{what} of {who} was {val} {day}, at or above {thr_text}{held}."
                 + (f" The alert re-arms once it is back below "
                    f"{rule.fmt(meas.threshold - rule.hysteresis)}."
                    if rule.hysteresis and meas.threshold is not None else ""))
    elif typ == "below":
        title = f"{who}: {what} {val}, at or below {thr_text}"
        facts = (f"{what} of {who} was {val} {day}, at or below {thr_text}{held}."
                 + (f" The alert re-arms once it is back above "
                    f"{rule.fmt(meas.threshold + rule.hysteresis)}."
                    if rule.hysteresis and meas.threshold is not None else ""))
    elif typ == "cross":
        title = f"{who}: {what} moved {new} {thr_text} ({val})"
        facts = f"{what} of {who} moved {new} {thr_text}: {val} {day}{held}."
    elif typ == "change":
        change = meas.value or 0.0
        verb = "rose" if change > 0 else "fell"
        size = _change_text(rule, change)
        title = f"{who}: {what} {verb} {size.lstrip('+')} in {rule.days} days"
        facts = (f"{what} of {who} went {meas.facts}, a change of {size} over {rule.days} "
                 f"days, beyond the rule's {_change_text(rule, meas.threshold or 0.0)}.")
    elif typ == "percentile":
        pct = meas.value or 0.0
        title = f"{who}: {what} at the {_ordinal(pct)} percentile of its history"
        facts = (f"{what} of {who} {day}: {meas.facts}; the rule's line is the "
                 f"{_ordinal(meas.threshold or 0.0)} percentile.")
    elif typ == "band":
        moved = "up" if prev is None or rule.labels.index(new) > rule.labels.index(prev) \
            else "down"
        title = f"{who}: {what} moved {moved} to {new} ({val})"
        facts = (f"{what} of {who} was {val} {day}: the {new} band "
                 f"(edges {', '.join(rule.fmt(b) for b in rule.bands)})"
                 + (f", previously {prev}" if prev else "") + f"{held}.")
    elif typ == "episode_start":
        title = f"{who}: {episode_words(rule.kind)} under way since {meas.extra.get('start')}"
        facts = (f"{rule.indicator_title} finds {meas.facts} for {who}"
                 + (f"; {what} was {val} against {thr_text}" if meas.value is not None
                    else "") + f" (as of {meas.as_of}).")
    else:  # episode_end
        title = f"{who}: {episode_words(rule.kind)} ended on {meas.extra.get('end')}"
        facts = (f"For {who}, {meas.facts}"
                 + (f"; {what} was {val} against {thr_text}" if meas.value is not None
                    else "") + f" (as of {meas.as_of}).")
    meaning = rule.description.strip()
    return title, facts + (f"\n\n{meaning}" if meaning else "")
