"""Rule evaluation, table-driven: a value path goes in one day at a time (state
carried over as the service does) and the days an alert fires come out."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pandas as pd
import pytest

from alerts.config import Rule, parse_rulebook
from alerts.rules import RuleInput, RuleState, evaluate, evaluate_rule

D0 = date(2025, 1, 1)


def series(vals: list[float]) -> pd.Series:
    return pd.Series(vals, index=pd.date_range(D0, periods=len(vals), freq="D"), dtype=float)


def walk(rule: Rule, vals: list[float], thresholds: list[float] | None = None) -> list[bool]:
    """Evaluate after each new value; True where an alert fired."""
    state: RuleState | None = None
    fired = []
    for i in range(1, len(vals) + 1):
        data = RuleInput(values=series(vals[:i]),
                         thresholds=series(thresholds[:i]) if thresholds else None)
        out = evaluate_rule(rule, "NVDA", data, state)
        state = out.state
        fired.append(out.alert is not None)
    return fired


def rule(type_: str, **kw) -> Rule:  # type: ignore[no-untyped-def]
    base = {"id": "r", "indicator": "x", "keys": ("NVDA",), "type": type_, "field": "v"}
    return Rule(**(base | kw))


F, T = False, True


@pytest.mark.parametrize(
    ("r", "vals", "expected"),
    [
        # fires at the threshold, stays quiet inside the hysteresis band, re-arms below 0.8
        (rule("above", threshold=1.0, hysteresis=0.2),
         [0.5, 1.0, 1.1, 0.9, 0.85, 0.79, 1.05], [F, T, F, F, F, F, T]),
        # already above on the first evaluation: told once
        (rule("above", threshold=1.0), [1.5, 1.6, 1.7], [T, F, F]),
        (rule("below", threshold=-0.2, hysteresis=0.05),
         [-0.1, -0.25, -0.18, -0.14, -0.3], [F, T, F, F, T]),
        # a crossing needs a previous side and must clear threshold ± hysteresis
        (rule("cross", threshold=0.0, hysteresis=0.5),
         [-1, 0.2, 0.6, -0.2, -0.6, 1.0], [F, F, T, F, T, T]),
        (rule("cross", threshold=0.0, hysteresis=0.5, direction="up"),
         [-1, 0.2, 0.6, -0.2, -0.6, 1.0], [F, F, T, F, F, T]),
        (rule("cross", threshold=0.0, direction="down"), [1, -1, 1, -1], [F, T, F, T]),
        (rule("band", bands=(40.0, 60.0, 80.0), labels=("low", "mid", "high", "top"),
              hysteresis=2.0),
         [30, 45, 59, 61, 59, 57.9, 85, 20], [F, T, F, T, F, T, T, T]),
        (rule("band", bands=(40.0, 60.0, 80.0), labels=("low", "mid", "high", "top"),
              direction="up"),
         [30, 45, 61, 57, 85], [F, T, T, F, T]),
        # first evaluation in the lowest band says nothing
        (rule("band", bands=(40.0,), labels=("calm", "hot")), [10, 50], [F, T]),
        (rule("change", threshold=2.0, days=2, direction="up"),
         [10, 10, 10, 12, 12.5, 11], [F, F, F, T, F, F]),
        (rule("change", threshold=2.0, days=2, direction="down"),
         [10, 10, 10, 12, 12.5, 10], [F, F, F, F, F, T]),
        (rule("change", threshold=0.2, days=1, relative=True),
         [100, 100, 130, 100, 75, 75, 100], [F, F, T, F, F, F, T]),
    ],
)
def test_transitions(r: Rule, vals: list[float], expected: list[bool]) -> None:
    assert walk(r, vals) == expected


def test_percentile_against_own_history() -> None:
    r = rule("percentile", threshold=95.0, hysteresis=5.0)
    base = [float(v) for v in range(1, 26)]
    fired = walk(r, [*base, 26.0, 25.5, 5.0, 27.0])
    assert fired[:19] == [F] * 19  # fewer than 20 observations: no data
    assert fired[19]  # a new high in 20 observations is the 100th percentile
    assert fired[-4:] == [F, F, F, T]  # 96th stays on (hysteresis), 21st re-arms
    below = rule("percentile", threshold=10.0, direction="below")
    assert walk(below, [*base, 0.5, 30.0, 0.1])[-3:] == [T, F, T]


def test_cool_down_holds_the_alert_until_it_expires() -> None:
    r = rule("above", threshold=1.0, cooldown_days=5)
    vals = [1.5, 0.5, 1.5, 1.5, 1.5, 1.5]
    assert walk(r, vals) == [T, F, F, F, F, T]
    # the held state keeps the old condition so the alert still comes
    state = None
    notes = []
    for i in range(1, 4):
        out = evaluate_rule(r, "NVDA", RuleInput(values=series(vals[:i])), state)
        state, _ = out.state, notes.append(out.note)
    assert notes[2] == f"held by cool-down until {D0 + timedelta(days=5)}"
    assert state is not None and state.condition == "off" and state.last_fired == D0


def test_threshold_from_another_field_and_alert_contents() -> None:
    # parsed from a rules file, so the words come from the psy indicator's own columns
    (r,) = parse_rulebook('[[rules]]\nid = "r"\nindicator = "psy"\nkey = "NVDA"\n'
                          'type = "above"\nfield = "bsadf"\nthreshold_field = "cv95"\n'
                          'format = ".2f"\ndescription = "Explosive."\n', environ={}).rules
    state = None
    outs = []
    for vals, cvs in (([0.5], [1.2]), ([0.5, 1.5], [1.2, 1.3])):
        out = evaluate_rule(r, "NVDA", RuleInput(values=series(vals), thresholds=series(cvs)),
                            state)
        state = out.state
        outs.append(out)
    assert outs[0].alert is None
    a = outs[1].alert
    assert a is not None
    assert (a.value, a.threshold, a.as_of) == (1.5, 1.3, D0 + timedelta(days=1))
    assert (a.value_text, a.threshold_text, a.condition, a.previous) == ("1.50", "1.30", "on", "off")
    # what crossed what (labels from the indicator's columns), since when, then what it means
    happened, meaning = a.explanation.split("\n\n")
    assert meaning == "Explosive."
    assert happened == ("Backward sup ADF (BSADF) of NVDA was 1.50 on 2025-01-02, at or above "
                        "its BSADF critical value, 95% (1.30); it got there on that day.")
    assert a.title == "NVDA: Backward sup ADF (BSADF) 1.50, at or above its BSADF critical " \
                      "value, 95% (1.30)"


def _events(*rows: tuple[str, str, str | None]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"kind": k, "start": date.fromisoformat(s), "end": date.fromisoformat(e) if e else None,
          "ongoing": e is None} for k, s, e in rows],
        columns=["kind", "start", "end", "ongoing"],
    )


def test_episode_start_and_end() -> None:
    start = rule("episode_start", indicator="psy", field=None)
    end = rule("episode_end", indicator="psy", field=None, id="e")
    steps = [
        (date(2025, 1, 5), _events(("positive", "2024-03-01", "2024-04-01"))),
        (date(2025, 1, 10), _events(("positive", "2024-03-01", "2024-04-01"),
                                    ("positive", "2025-01-08", None),
                                    ("negative", "2025-01-02", None))),
        (date(2025, 1, 11), _events(("positive", "2025-01-08", None))),
        (date(2025, 2, 3), _events(("positive", "2025-01-08", "2025-02-01"))),
        (date(2025, 2, 4), _events(("positive", "2025-01-08", "2025-02-01"),
                                   ("negative", "2025-02-02", None))),
    ]
    got = {"start": [], "end": []}
    states: dict[str, RuleState | None] = {"start": None, "end": None}
    for as_of, ev in steps:
        for name, r in (("start", start), ("end", end)):
            out = evaluate_rule(r, "NVDA", RuleInput(events=ev, as_of=as_of), states[name])
            states[name] = out.state
            got[name].append(out.alert.title if out.alert else None)
    assert got["start"] == [None, "NVDA: explosive rise under way since 2025-01-08", None, None,
                            None]
    # an old finished episode on the first evaluation is history, not news
    assert got["end"] == [None, None, None, "NVDA: explosive rise ended on 2025-02-01", None]


def test_episode_end_on_first_evaluation_only_when_recent() -> None:
    r = rule("episode_end", indicator="psy", field=None, recent_days=7)
    ev = _events(("positive", "2025-01-08", "2025-02-01"))
    assert evaluate_rule(r, "K", RuleInput(events=ev, as_of=date(2025, 2, 5))).alert is not None
    assert evaluate_rule(r, "K", RuleInput(events=ev, as_of=date(2025, 2, 20))).alert is None


def test_editing_a_rule_resets_its_state_and_reruns_are_quiet() -> None:
    r = rule("above", threshold=1.0)
    data = RuleInput(values=series([0.5, 1.2]))
    first = evaluate_rule(r, "NVDA", data)
    assert first.alert is not None and first.state.rule_hash == r.hash
    again = evaluate_rule(r, "NVDA", data, first.state)
    assert again.alert is None and again.note == "no change"
    edited = replace(r, threshold=1.1)
    refired = evaluate_rule(edited, "NVDA", data, first.state)
    assert refired.alert is not None and refired.alert.threshold == 1.1
    # same rule, key, date and condition -> same dedupe key; another date -> another
    assert refired.alert.dedupe_key == first.alert.dedupe_key
    later = evaluate_rule(r, "NVDA", RuleInput(values=series([0.5, 0.5, 1.3])))
    assert later.alert is not None and later.alert.dedupe_key != first.alert.dedupe_key


def test_no_data_and_errors_do_not_stop_other_rules() -> None:
    good = rule("above", threshold=1.0, id="good")
    empty = rule("above", threshold=1.0, id="empty")
    broken = rule("above", threshold=1.0, id="broken")
    res = evaluate([
        (broken, "NVDA", RuleInput(values=42), None),  # type: ignore[arg-type]
        (empty, "NVDA", RuleInput(values=series([])), None),
        (good, "NVDA", RuleInput(values=series([2.0])), None),
    ])
    assert [e[0] for e in res.errors] == ["broken"]
    notes = {o.rule_id: o.note for o in res.outcomes}
    assert notes["empty"].startswith("no data") and notes["good"] == "fired"
    assert [a.rule_id for a in res.alerts] == ["good"]


BAND = rule("band", bands=(20.0, 40.0, 60.0), labels=("low", "moderate", "elevated", "high"),
            hysteresis=2.0, same_inputs_change_field="d")


def walk_with_changes(r: Rule, vals: list[float], changes: list[float]
                      ) -> list[tuple[bool, str]]:
    """Like :func:`walk`, with the same-inputs change series; (fired, note) per day."""
    state: RuleState | None = None
    out = []
    for i in range(1, len(vals) + 1):
        o = evaluate_rule(r, "ai", RuleInput(values=series(vals[:i]),
                                             same_inputs_change=series(changes[:i])), state)
        state = o.state
        out.append((o.alert is not None, o.note))
    return out


def test_band_change_from_an_arriving_input_alone_is_not_an_alert() -> None:
    # day 3: a component arrives and lifts the score from 38 to 45 (moderate -> elevated)
    # although on unchanged inputs it moved by +0.5 only; day 4: a real move of +16
    vals = [25.0, 37.5, 45.0, 61.0]
    changes = [float("nan"), 12.5, 0.5, 16.0]
    got = walk_with_changes(BAND, vals, changes)
    assert [f for f, _ in got] == [True, False, False, True]
    assert "silent: inputs changed" in got[2][1] and "would be 38," in got[2][1]
    # without the change field the arrival is an alert: the difference is the field
    plain = replace(BAND, same_inputs_change_field=None)
    assert [f for f, _ in walk_with_changes(plain, vals, changes)] == [T, F, T, T]


def test_a_real_move_on_an_arrival_day_still_alerts() -> None:
    # the arrival adds 3 points, the reading itself moves +8 the same day: both cross 40
    got = walk_with_changes(BAND, [25.0, 35.0, 46.0], [float("nan"), 10.0, 8.0])
    assert [f for f, _ in got] == [T, F, T]


def test_staleness_dropping_the_band_is_silent_and_gaps_add_up() -> None:
    # day 3: a component goes stale and the score falls 45.5 -> 36 with no move on unchanged
    # inputs; day 5: it is back (+4); days 4 and 5 are evaluated together: +1 and +1 on
    # unchanged inputs, 36 + 2 = 38 is still 'moderate', so the return to 'elevated' is
    # the input's doing too
    vals = [45.0, 45.5, 36.0, 37.0, 42.0]
    changes = [float("nan"), 0.5, 0.0, 1.0, 1.0]
    state = None
    seen = []
    for upto in (1, 2, 3, 5):
        o = evaluate_rule(BAND, "ai", RuleInput(values=series(vals[:upto]),
                                                same_inputs_change=series(changes[:upto])),
                          state)
        state = o.state
        seen.append((o.alert is not None, o.state.condition))
    assert seen == [(T, "elevated"), (F, "elevated"), (F, "moderate"), (F, "elevated")]
    # had the reading itself risen 5 points over those two days, the change would alert
    o = evaluate_rule(BAND, "ai", RuleInput(values=series(vals), same_inputs_change=series(
        [*changes[:3], 2.5, 2.5])), replace(state, condition="moderate",
                                            as_of=D0 + timedelta(days=2)))
    assert o.alert is not None and o.alert.condition == "elevated"


def test_missing_same_inputs_changes_fall_back_to_alerting() -> None:
    got = walk_with_changes(BAND, [25.0, 45.0], [float("nan"), float("nan")])
    assert [f for f, _ in got] == [T, T]
