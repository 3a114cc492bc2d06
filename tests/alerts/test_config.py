"""Rules files: validation with file, line and field; broken rules are left
out without stopping the others."""

from __future__ import annotations

from dataclasses import replace
from datetime import time
from pathlib import Path

import pytest

from alerts.config import ALL_KEYS, default_rules_text, load_rulebook, parse_rulebook
from bubblewatch.core.errors import ConfigError
from bubblewatch.core.universe import default_universe
from tests.alerts.conftest import registered_indicators

ENV = {"BW_SLACK": "https://hooks.slack.example/services/T/B/x"}

GOOD = """\
[[rules]]
id = "nvda-runup"
indicator = "runup"
key = "nvda"
type = "above"
field = "ret_2y"
threshold = 1.0
hysteresis = 0.1

[[rules]]
id = "psy-start"
indicator = "psy"
key = "*"
type = "episode_start"
field = "bsadf"
threshold_field = "cv95"
"""


def parse(text: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return parse_rulebook(text, "rules.toml", indicators=registered_indicators(),
                          universe=default_universe(), environ=ENV if env is None else env)


def test_good_rules_and_subscribers_load() -> None:
    text = GOOD + """
[[subscribers]]
name = "desk"
email = ["a@example.org", "b@example.org"]
slack_webhook_env = "BW_SLACK"
severities = ["critical"]
mode = "digest"
digest_time = "07:30"
"""
    book = parse(text)
    assert book.problems == ()
    nvda, psy = book.rules
    assert nvda.keys == ("NVDA",)  # canonicalised through the universe
    assert (nvda.threshold, nvda.hysteresis, nvda.line) == (1.0, 0.1, 1)
    assert psy.keys == (ALL_KEYS,) and psy.threshold_field == "cv95" and psy.line == 10
    (sub,) = book.subscribers
    assert [(c.kind, c.target) for c in sub.channels] == [
        ("email", "a@example.org"), ("email", "b@example.org"), ("slack", "BW_SLACK")]
    assert sub.mode == "digest" and sub.digest_time == time(7, 30)
    assert sub.wants("anything", "critical") and not sub.wants("nvda-runup", "warning")


BROKEN_RULE = """\
[[rules]]
id = "{id}"
indicator = "runup"
key = "NVDA"
type = "above"
field = "ret_2y"
threshold = 1.0
"""


@pytest.mark.parametrize(
    ("line_text", "replace", "field", "line", "needle"),
    [
        ('indicator = "runup"', 'indicator = "bubblometer"', "indicator", 3, "unknown indicator"),
        ("threshold = 1.0", 'threshold = "high"', "threshold", 7, "finite number"),
        ("threshold = 1.0", "threshold = nan", "threshold", 7, "finite number"),
        ('field = "ret_2y"', 'field = "ret_3y"', "field", 6, "no field 'ret_3y'"),
        ('key = "NVDA"', 'key = "PETS.COM"', "key", 4, "not a key of indicator"),
        ('type = "above"', 'type = "moon"', "type", 5, "must be one of"),
        ("threshold = 1.0", "threshold = 1.0\ntreshold_typo = 2", "treshold_typo", 8,
         "unknown field"),
        ("threshold = 1.0", "threshold = 1.0\nhysteresis = -1", "hysteresis", 8, "between"),
        ("threshold = 1.0", "threshold = 1.0\nformat = '%%'", "format", 8, "format spec"),
        ("threshold = 1.0", 'threshold = 1.0\nthreshold_field = "flag"', "threshold", 7,
         "exactly one"),
    ],
)
def test_broken_rule_is_located_and_the_others_still_load(
    line_text: str, replace: str, field: str, line: int, needle: str
) -> None:
    broken = BROKEN_RULE.format(id="broken").replace(line_text, replace)
    text = broken + "\n" + BROKEN_RULE.format(id="fine")
    book = parse(text)
    assert [r.id for r in book.rules] == ["fine"]
    (p,) = book.problems
    assert (p.file, p.line, p.field) == ("rules.toml", line, field)
    assert needle in p.message
    assert str(p).startswith(f"rules.toml:{line}: [[rules]] #1 (rule 'broken') {field}:")


def test_rules_of_each_type_validate_their_own_fields() -> None:
    text = """\
[[rules]]
id = "band"
indicator = "composite"
key = "ai"
type = "band"
field = "score"
bands = [60, 40]

[[rules]]
id = "chg"
indicator = "composite"
key = "ai"
type = "change"
field = "score"
threshold = 5

[[rules]]
id = "pct"
indicator = "valuation"
key = "NVDA"
type = "percentile"
field = "pe_ttm"
threshold = 120

[[rules]]
id = "chg"
indicator = "composite"
key = "dotcom"
type = "above"
field = "score"
threshold = 5
"""
    book = parse(text)
    assert book.rules == ()
    got = [(p.line, p.field) for p in book.problems]
    assert got == [(7, "bands"), (9, "days"), (23, "threshold"), (26, "id")]
    assert "strictly increasing" in book.problems[0].message
    assert "duplicate rule id" in book.problems[3].message


@pytest.mark.parametrize(
    ("entry", "env", "field", "needle"),
    [
        ('slack_webhook_env = "BW_MISSING"', {}, "slack_webhook_env", "BW_MISSING is not set"),
        ('slack_webhook_env = "https://hooks.slack.com/services/T/B/x"', ENV, "slack_webhook_env",
         "never the URL itself"),
        ('slack_webhook_env = "BW_SLACK"', {"BW_SLACK": "not-a-url"}, "slack_webhook_env",
         "http(s) webhook URL"),
        ('email = "not-an-address"', ENV, "email", "not an e-mail address"),
        ('email = "a@example.org"\nrules = ["no-such-rule"]', ENV, "rules", "no rule with id"),
        ('email = "a@example.org"\ndigest_time = "25:00"', ENV, "digest_time", "HH:MM"),
    ],
)
def test_bad_subscriber_channels_are_refused(entry: str, env: dict[str, str], field: str,
                                             needle: str) -> None:
    text = GOOD + f'\n[[subscribers]]\nname = "desk"\n{entry}\n'
    book = parse(text, env)
    assert len(book.rules) == 2  # rules are unaffected
    (p,) = book.problems
    assert p.field == field and needle in p.message
    assert p.line == GOOD.count("\n") + 4 + (1 if field in ("rules", "digest_time") else 0)
    # the secret value never appears in a problem message
    assert "hooks.slack" not in str(p)


def test_a_subscriber_keeps_its_working_channels() -> None:
    text = GOOD + '\n[[subscribers]]\nname = "desk"\nemail = "a@example.org"\n' \
                  'slack_webhook_env = "BW_MISSING"\n'
    book = parse(text)
    (sub,) = book.subscribers
    assert [c.kind for c in sub.channels] == ["email"]
    assert [p.field for p in book.problems] == ["slack_webhook_env"]


def test_strict_loading_refuses_the_file_listing_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "alerts.toml"
    path.write_text(BROKEN_RULE.format(id="a").replace("1.0", "'x'") + "\n"
                    + BROKEN_RULE.format(id="b").replace("runup", "nope"))
    with pytest.raises(ConfigError) as info:
        load_rulebook(path, indicators=registered_indicators(), strict=True)
    msg = str(info.value)
    assert f"{path}:7:" in msg and "threshold" in msg
    assert f"{path}:11:" in msg and "unknown indicator 'nope'" in msg


def test_invalid_toml_and_missing_file_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "alerts.toml"
    path.write_text('[[rules]]\nid = "x"\nthreshold = = 3\n')
    with pytest.raises(ConfigError, match=r"not valid TOML.*line 3"):
        load_rulebook(path, indicators=registered_indicators())
    with pytest.raises(ConfigError, match="does not exist"):
        load_rulebook(tmp_path / "nope.toml", indicators=registered_indicators())


def test_unknown_indicator_is_checked_against_the_registry(indicators_registered) -> None:  # type: ignore[no-untyped-def]
    book = parse_rulebook(BROKEN_RULE.format(id="a").replace("runup", "tulips"), "r.toml",
                          universe=default_universe(), environ={})
    (p,) = book.problems
    assert p.field == "indicator"
    for name in registered_indicators():
        assert name in p.message  # the known names are listed


def test_default_rules_are_valid_against_the_project_indicators() -> None:
    book = parse_rulebook(default_rules_text(), "<default rules>", universe=default_universe(),
                          environ={})  # against the real registry
    assert book.problems == ()
    assert {r.indicator for r in book.rules} <= set(registered_indicators())
    assert len({r.id for r in book.rules}) == len(book.rules)


def test_default_band_rule_uses_the_composite_score_bands() -> None:
    """The alert and the dashboard name a score's band the same way."""
    from indicators.composite import SCORE_BAND_EDGES, SCORE_BAND_LABELS, score_band

    (rule,) = [r for r in parse(default_rules_text()).rules if r.id == "composite-ai-band"]
    assert tuple(rule.bands) == SCORE_BAND_EDGES
    assert tuple(rule.labels) == SCORE_BAND_LABELS
    assert [score_band(s) for s in (0.0, 19.9, 20.0, 46.3, 60.0, 80.0, 100.0)] == [
        "low", "low", "moderate", "elevated", "high", "extreme", "extreme"]
    assert score_band(float("nan")) == "no reading"


def test_band_rules_name_their_same_inputs_change_field() -> None:
    """The default band rules tell input arrivals from moves; a wrong field is refused."""
    from indicators.composite import INDICATOR

    book = parse(default_rules_text())
    for rid, field in (("composite-ai-band", "score_change_same_inputs"),
                       ("composite-ai-only-band", "ai_only_change_same_inputs")):
        r = book.rule(rid)
        assert r.same_inputs_change_field == field and field in INDICATOR.columns
    bad = parse("""\
[[rules]]
id = "b"
indicator = "composite"
key = "ai"
type = "band"
field = "score"
bands = [50.0]
same_inputs_change_field = "nope"
""")
    (p,) = bad.problems
    assert p.field == "same_inputs_change_field" and "no field 'nope'" in p.message
    # the field is part of what decides firing: changing it resets the stored state
    r = book.rule("composite-ai-band")
    assert replace(r, same_inputs_change_field=None).hash != r.hash
