"""The alerts a backtest says would have fired are the ones the service fires
when it evaluates after each day's compute: a built history is stored one day
at a time and ``evaluate_job`` runs after each day (the service, with its
stored states), against one :func:`alerts.replay.replay_track_record` over the
whole history."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from alerts.config import parse_rulebook
from alerts.replay import replay_rule, replay_track_record
from alerts.service import evaluate_job
from bubblewatch.core.universe import default_universe
from db import repo
from db.session import session_scope
from indicators.registry import params_hash
from tests.alerts.conftest import registered_indicators
from tests.conftest import make_settings

RULES = """\
[[rules]]
id = "band"
indicator = "composite"
key = "ai"
type = "band"
field = "score"
bands = [20.0, 40.0, 60.0, 80.0]
labels = ["low", "moderate", "elevated", "high", "extreme"]
hysteresis = 2.0
same_inputs_change_field = "score_change_same_inputs"
cooldown_days = 14
format = ".1f"

[[rules]]
id = "jump"
indicator = "composite"
key = "ai"
type = "change"
field = "score"
days = 14
threshold = 10.0
direction = "up"
cooldown_days = 7

[[rules]]
id = "doubling"
indicator = "runup"
key = "*"
type = "above"
field = "ret_2y"
threshold = 1.0
hysteresis = 0.2
cooldown_days = 21

[[rules]]
id = "psy-start"
indicator = "psy"
key = "*"
type = "episode_start"
kind = "positive"
field = "bsadf"
threshold_field = "cv95"
cooldown_days = 10

[[rules]]
id = "psy-end"
indicator = "psy"
key = "CSCO"
type = "episode_end"
kind = "positive"
field = "bsadf"
threshold_field = "cv95"

[[rules]]
id = "shock"
indicator = "shocks"
key = "*"
type = "below"
field = "car_0"
threshold = -0.05
"""

DAYS = pd.date_range("2024-01-05", periods=32, freq="W-FRI")
#: The headline: up through the bands, a dip inside the hysteresis, a band change
#: that only an input's arrival makes (changes on unchanged inputs stay small), a
#: second move up inside the cool-down, and the way back down.
SCORE = np.array([10, 15, 22, 25, 24, 19.5, 21, 30, 41, 39, 37.5, 45, 52, 61, 58, 57,
                  59.5, 62, 66, 70, 81, 79, 77, 60, 55, 41, 38, 30, 18.5, 17, 25, 26.0])
SAME = np.diff(SCORE, prepend=np.nan)
SAME[8] = 0.5    # 30 -> 41 came from an input arriving: on unchanged inputs +0.5
RET = np.array([0.5, 0.8, 1.05, 1.1, 0.95, 0.85, 0.79, 1.01, 1.2, 0.9, 1.3, 1.1, 0.7, 0.6,
                1.02, 1.0, np.nan, 1.1, 0.5, 0.5, 0.5, 1.4, 1.5, 1.6, 0.7, 0.75, 0.6, 1.2,
                1.3, 0.3, 0.2, 1.1])
#: Real-time PSY episodes of CSCO: (first alarm, confirmed, end or None).
EPISODES = [(DAYS[2], DAYS[4], DAYS[7]), (DAYS[8], DAYS[9], DAYS[10]),
            (DAYS[11], DAYS[14], DAYS[20]), (DAYS[25], DAYS[27], None)]


def _known(day: pd.Timestamp) -> list[dict[str, object]]:
    """The episodes the live PSY indicator stores on ``day``."""
    rows = []
    for start, conf, end in EPISODES:
        if conf <= day:
            open_ = end is None or end > day
            rows.append({"kind": "positive", "start": start.date(), "peak": None,
                         "end": None if open_ else end.date(), "ongoing": open_, "attrs": {}})
    return rows


def _book(tmp_path: Path):  # type: ignore[no-untyped-def]
    path = tmp_path / "rules.toml"
    path.write_text(RULES)
    book = parse_rulebook(RULES, str(path), indicators=registered_indicators(),
                          universe=default_universe())
    assert not book.problems, book.problems
    return path, book


def _service_alerts(url: str, rules: Path) -> list[tuple[str, str, date, str, str, str]]:
    settings = make_settings(url, alerts={"rules_file": str(rules)})
    fired = []
    p = {"source": "test"}
    for i, day in enumerate(DAYS):
        with session_scope(url) as s:
            upto = slice(0, i + 1)
            series = {
                ("composite", "ai"): pd.DataFrame({"score": SCORE[upto],
                                                   "score_change_same_inputs": SAME[upto]},
                                                  index=DAYS[upto]),
                ("runup", "ai_basket"): pd.DataFrame({"ret_2y": RET[upto]}, index=DAYS[upto]),
                ("psy", "CSCO"): pd.DataFrame({"bsadf": np.linspace(0, 2, 32)[upto],
                                               "cv95": np.full(i + 1, 1.2)}, index=DAYS[upto]),
            }
            for (name, key), frame in series.items():
                repo.store_indicator_result(
                    s, indicator=name, key=key, params=p, params_hash=params_hash(p),
                    frame=frame, events=_known(day) if name == "psy" else None, meta={},
                    as_of=day.date())
        report = evaluate_job(settings, now=day.to_pydatetime())
        fired += [(a.rule_id, a.key, a.as_of, a.condition, a.value_text, a.title)
                  for a in report.alerts]
    return fired


def _replayed(book) -> tuple[list[tuple[str, str, date, str, str, str]], object]:  # type: ignore[no-untyped-def]
    frames = {"ai": pd.DataFrame({"score": SCORE, "score_change_same_inputs": SAME,
                                  "ret_2y": RET}, index=DAYS),
              "CSCO": pd.DataFrame({"bsadf": np.linspace(0, 2, 32), "cv95": 1.2}, index=DAYS)}
    events = {"CSCO": pd.DataFrame([
        {"kind": "psy_pointwise", "start": s.date(), "end": None if e is None else e.date(),
         "attr_direction": "positive", "attr_confirmed": c.date().isoformat()}
        for s, c, e in EPISODES])}
    out = replay_track_record(book.rules, frames, events, universe=default_universe())
    rows = [(a.alert.rule_id, a.alert.key, a.alert.as_of, a.alert.condition,
             a.alert.value_text, a.alert.title) for a in out.all()]
    return rows, out


def test_replay_fires_what_the_service_fires_day_by_day(alerts_db: str, tmp_path: Path) -> None:
    path, book = _book(tmp_path)
    service = _service_alerts(alerts_db, path)
    replayed, out = _replayed(book)
    assert sorted(replayed) == sorted(service)
    # the case exercises what makes the rules stateful
    kinds = {r[0] for r in service}
    assert {"band", "jump", "doubling", "psy-start", "psy-end"} <= kinds
    band = [(d, c) for r, _, d, c, _, _ in service if r == "band"]
    assert (DAYS[8].date(), "elevated") not in band  # inputs arrived: silent
    assert len([r for r in service if r[0] == "doubling"]) < int(
        np.nansum((RET[1:] >= 1.0) & (RET[:-1] < 1.0)))  # hysteresis and cool-down hold some
    assert out.skipped["shock"].startswith("the backtest does not replay shocks")
    # ai stands for ai_basket in run-up rules, and psy rules never read a cohort
    assert {r[1] for r in replayed if r[0] == "doubling"} == {"ai_basket"}
    # titles name the keys as the service does, never by their machine keys
    assert all(r[5].startswith("AI basket: ") for r in replayed if r[0] == "doubling")
    assert all(r[5].startswith("Cisco Systems (CSCO): ") for r in replayed
               if r[0].startswith("psy-"))
    assert "ai" not in out.evaluated or "psy-start" not in out.evaluated["ai"]


def test_replay_rule_keeps_state_across_calls(tmp_path: Path) -> None:
    _, book = _book(tmp_path)
    rule = book.rule("doubling")
    values = pd.Series(RET, index=DAYS)
    whole, _ = replay_rule(rule, "ai_basket", DAYS, values=values)
    first, state = replay_rule(rule, "ai_basket", DAYS[:15], values=values)
    rest, _ = replay_rule(rule, "ai_basket", DAYS[15:], values=values, state=state)
    assert [a.as_of for a in whole] == [a.as_of for a in first + rest]
    assert all(a.condition == "on" for a in whole)


@pytest.mark.parametrize("cut", [5, 13, 26])
def test_an_alert_never_depends_on_later_readings(tmp_path: Path, cut: int) -> None:
    _, book = _book(tmp_path)
    rule = book.rule("band")
    full, _ = replay_rule(rule, "ai", DAYS, values=pd.Series(SCORE, index=DAYS),
                          same_inputs_change=pd.Series(SAME, index=DAYS))
    part, _ = replay_rule(rule, "ai", DAYS[:cut], values=pd.Series(SCORE[:cut], index=DAYS[:cut]),
                          same_inputs_change=pd.Series(SAME[:cut], index=DAYS[:cut]))
    assert [a.dedupe_key for a in part] == [a.dedupe_key for a in full
                                            if a.as_of <= DAYS[cut - 1].date()]
