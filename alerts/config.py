"""Alert rules and subscribers, read from one TOML file.

The file holds two arrays of tables::

    [[rules]]
    id = "nvda-runup"            # unique, stable: alert state is keyed on it
    indicator = "runup"          # a registered indicator
    key = "NVDA"                 # symbol or basket; a list; or "*" = every key
    type = "above"               # see RULE_TYPES
    field = "ret_2y"
    threshold = 1.0              # or threshold_field = "cv95" (same indicator, same key)
    hysteresis = 0.1             # re-arm only once the value is back below 0.9
    severity = "warning"         # info | warning | critical
    cooldown_days = 5            # at most one alert per 5 days for (rule, key)
    label = "Nvidia doubled in two years"      # optional: the rule's name for people
    description = "What it means: ..."         # optional: one line for subscribers

``label`` and ``description`` are what subscribers and the dashboard read.
Without them the label is derived from the field's :class:`~indicators.registry.Column`
(``"Two-year return at or above +100%"``) and the description is the
column's explanation with its unit. ``format`` (a Python format spec such as
``".1%"``) prints the figures; without it they are written in the field's unit
(:func:`indicators.vocabulary.format_value`).

    [[subscribers]]
    name = "risk-desk"
    email = ["risk@example.org"]
    slack_webhook_env = "BUBBLEWATCH_SLACK_RISK"   # NAME of the env var, never the URL
    rules = ["nvda-runup"]       # and/or severities = ["critical"]; neither = everything
    mode = "immediate"           # or "digest" (one message a day at digest_time)
    digest_time = "08:00"        # scheduler time zone

Onboarding: a subscriber channel that has never been sent anything (a new
subscriber, a new address or webhook) gets, at the first evaluation where
anything it wants holds, **one onboarding digest of the current state** (every
condition that holds now, each with the date it has held since) instead of one
message per condition. After a long gap in evaluations (the previous one more
than :data:`CATCH_UP_AFTER_DAYS` days earlier) every subscriber gets one such
catch-up digest instead of a burst of separate alerts.

Every problem is reported with the file, the line and the field. Loading is
forgiving by default: a broken rule (or subscriber channel) is left out and
reported in :attr:`RuleBook.problems`, the others still load. ``strict=True``
(``bubblewatch alerts list``) refuses the whole file instead. A file that is
not valid TOML is always refused.

Rule types (``type``)
---------------------
``above`` / ``below``
    The latest value is at/above (at/below) ``threshold``. Fires once on the
    transition; re-arms when the value is back past ``threshold ∓ hysteresis``.
``cross``
    The value changes side of ``threshold`` (``direction`` up, down or both).
    With ``hysteresis`` h a crossing needs the value to reach ``threshold ± h``.
``change``
    Change over ``days`` calendar days (``relative = true``: as a fraction,
    0.2 = +20 %) reaches ``threshold`` (> 0) up, down or either way.
``percentile``
    The latest value's percentile (0-100) within its own history (or the last
    ``lookback_days``) is at/above ``threshold`` (``direction = "below"``: at/below).
``episode_start`` / ``episode_end``
    An episode of ``kind`` (PSY: ``positive``/``negative``) stored by the
    indicator starts / ends. ``field``/``threshold_field`` are reported only.
``band``
    The value moves to another band; ``bands`` are increasing edges and
    ``labels`` (one more than the edges) name the bands. With
    ``same_inputs_change_field`` (a field of the same indicator holding each
    date's change on unchanged inputs, e.g. the composite's
    ``score_change_same_inputs``) a band change caused only by an input
    arriving or going stale is recorded silently, not alerted.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import time
from hashlib import sha256
from importlib import resources
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bubblewatch.core.errors import ConfigError
from indicators.vocabulary import format_value

if TYPE_CHECKING:
    from bubblewatch.core.universe import Universe
    from indicators.registry import Indicator

RULE_TYPES = (
    "above", "below", "cross", "change", "percentile", "episode_start", "episode_end", "band",
)
SEVERITIES = ("info", "warning", "critical")
MODES = ("immediate", "digest")
#: Key meaning "every key the indicator was computed for".
ALL_KEYS = "*"

#: A gap between two evaluations longer than this (days) turns the alerts of the next
#: one into one catch-up digest per subscriber channel (see the module docstring).
CATCH_UP_AFTER_DAYS = 14

_COMMON = {"id", "indicator", "key", "type", "severity", "cooldown_days", "description",
           "enabled", "label"}
_ALLOWED: dict[str, set[str]] = {
    "above": {"field", "threshold", "threshold_field", "hysteresis", "format"},
    "below": {"field", "threshold", "threshold_field", "hysteresis", "format"},
    "cross": {"field", "threshold", "threshold_field", "hysteresis", "format", "direction"},
    "change": {"field", "threshold", "days", "relative", "direction", "hysteresis", "format"},
    "percentile": {"field", "threshold", "lookback_days", "direction", "hysteresis", "format"},
    "episode_start": {"kind", "field", "threshold_field", "format"},
    "episode_end": {"kind", "field", "threshold_field", "format", "recent_days"},
    "band": {"field", "bands", "labels", "direction", "hysteresis", "format",
             "same_inputs_change_field"},
}
_SUBSCRIBER_KEYS = {"name", "email", "slack_webhook_env", "rules", "severities", "mode",
                    "digest_time", "enabled"}
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
_ENV_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_EMAIL_RE = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")


# --------------------------------------------------------------------------- results
@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong in a rules file, located by file, line and field."""

    file: str
    line: int
    where: str
    field: str | None
    message: str

    def __str__(self) -> str:
        fld = f" {self.field}:" if self.field else ""
        return f"{self.file}:{self.line}: {self.where}{fld} {self.message}"


@dataclass(frozen=True, slots=True)
class Rule:
    """One validated alert rule. See the module docstring for the types.

    ``keys`` is ``("*",)`` for every computed key. Thresholds are in the unit
    of ``field``; ``format`` is a Python format spec used to print values (None:
    written in the field's unit). ``label`` and ``description`` are for people
    (derived from the field's column when the file gives none); ``field_label``,
    ``unit`` and ``threshold_label`` come from the indicator's columns.
    """

    id: str
    indicator: str
    keys: tuple[str, ...]
    type: str
    severity: str = "warning"
    field: str | None = None
    threshold: float | None = None
    threshold_field: str | None = None
    hysteresis: float = 0.0
    cooldown_days: int = 0
    direction: str = "both"
    days: int | None = None
    relative: bool = False
    lookback_days: int | None = None
    bands: tuple[float, ...] = ()
    labels: tuple[str, ...] = ()
    kind: str = "positive"
    recent_days: int = 7
    same_inputs_change_field: str | None = None
    description: str = ""
    format: str | None = None
    line: int = 0
    label: str = ""
    field_label: str | None = None
    unit: str | None = None
    threshold_label: str | None = None
    indicator_title: str = ""

    @property
    def hash(self) -> str:
        """Hash of everything that decides when the rule fires: editing the rule
        resets its stored state."""
        parts = (self.indicator, self.type, self.field, self.threshold, self.threshold_field,
                 self.hysteresis, self.direction, self.days, self.relative, self.lookback_days,
                 self.bands, self.labels, self.kind, self.same_inputs_change_field)
        return sha256(repr(parts).encode()).hexdigest()[:16]

    def fmt(self, value: float | None) -> str:
        """``value`` printed with the rule's format, else in the field's unit
        (``"no value"`` for None/NaN)."""
        if value is None or not math.isfinite(value):
            return "no value"
        if self.format is not None:
            return format(value, self.format)
        if self.unit is not None:
            return format_value(self.unit, value)
        return f"{value:,.4g}"


@dataclass(frozen=True, slots=True)
class Channel:
    """Where a subscriber is told: ``email`` (address) or ``slack`` (the name of
    the environment variable that holds the webhook URL)."""

    kind: str
    target: str


@dataclass(frozen=True, slots=True)
class Subscriber:
    name: str
    channels: tuple[Channel, ...]
    rules: tuple[str, ...] = ()
    severities: tuple[str, ...] = ()
    mode: str = "immediate"
    digest_time: time = time(8, 0)
    line: int = 0

    def wants(self, rule_id: str, severity: str) -> bool:
        """Whether an alert of ``rule_id`` / ``severity`` goes to this subscriber:
        listed rule or listed severity; with neither list, everything."""
        if not self.rules and not self.severities:
            return True
        return rule_id in self.rules or severity in self.severities


@dataclass(frozen=True, slots=True)
class RuleBook:
    """Valid rules and subscribers of one file, and what was wrong in it."""

    path: str
    rules: tuple[Rule, ...] = ()
    subscribers: tuple[Subscriber, ...] = ()
    problems: tuple[Problem, ...] = ()

    def rule(self, rule_id: str) -> Rule:
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(f"no valid rule {rule_id!r} in {self.path}")


# --------------------------------------------------------------------------- line finding
@dataclass
class _Table:
    header_line: int
    keys: dict[str, int] = field(default_factory=dict)


class _Locator:
    """Line numbers of ``[[array]]`` tables and their keys (tomllib has none).

    Handles the plain TOML a rules file uses: headers, ``key = value`` lines,
    comments, multi-line arrays and strings (whose inner lines are skipped).
    """

    _HEADER = re.compile(r"^\s*\[\[\s*([A-Za-z0-9_\-.]+)\s*\]\]\s*(#.*)?$")
    _TABLE = re.compile(r"^\s*\[\s*([A-Za-z0-9_\-.]+)\s*\]\s*(#.*)?$")
    _KEY = re.compile(r"""^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_\-]+)\s*=""")

    def __init__(self, text: str):
        self.arrays: dict[str, list[_Table]] = {}
        self.root = _Table(1)
        current = self.root
        in_string: str | None = None
        for n, line in enumerate(text.splitlines(), start=1):
            if in_string is not None:
                if in_string in line:
                    in_string = None
                continue
            m = self._HEADER.match(line)
            if m:
                current = _Table(n)
                self.arrays.setdefault(m.group(1), []).append(current)
                continue
            m = self._TABLE.match(line)
            if m:
                current = _Table(n)
                self.root.keys.setdefault(m.group(1), n)
                continue
            m = self._KEY.match(line)
            if m:
                current.keys.setdefault(m.group(1).strip("\"'"), n)
                rest = line[m.end():]
                for q in ('"""', "'''"):
                    if rest.count(q) == 1:
                        in_string = q

    def line(self, array: str | None, index: int, key: str | None = None) -> int:
        if array is None:
            return self.root.keys.get(key or "", 1)
        tables = self.arrays.get(array, [])
        if index >= len(tables):
            return self.root.keys.get(array, 1)
        t = tables[index]
        return t.keys.get(key, t.header_line) if key else t.header_line


class _Bad(Exception):
    """A field failed validation (already recorded as a :class:`Problem`)."""


class _Checker:
    """Reads typed fields of one table, recording a located problem per error."""

    def __init__(self, file: str, loc: _Locator, array: str, index: int, table: Mapping[str, Any],
                 problems: list[Problem]):
        self.file, self.loc, self.array, self.index = file, loc, array, index
        self.table, self.problems = table, problems
        label = table.get("id") if array == "rules" else table.get("name")
        kind = "rule" if array == "rules" else "subscriber"
        self.where = (f"[[{array}]] #{index + 1} ({kind} {label!r})" if isinstance(label, str)
                      else f"[[{array}]] #{index + 1}")
        self.failed = False

    def problem(self, key: str | None, message: str) -> None:
        self.failed = True
        self.problems.append(Problem(
            self.file, self.loc.line(self.array, self.index, key), self.where, key, message))

    def fail(self, key: str | None, message: str) -> _Bad:
        self.problem(key, message)
        return _Bad(message)

    def has(self, key: str) -> bool:
        return key in self.table

    def string(self, key: str, default: str | None = None, *, required: bool = False,
               choices: Sequence[str] | None = None, pattern: re.Pattern[str] | None = None,
               ) -> str | None:
        if key not in self.table:
            if required:
                raise self.fail(key, "is required")
            return default
        v = self.table[key]
        if not isinstance(v, str) or not v.strip():
            raise self.fail(key, f"must be a non-empty string, got {v!r}")
        if choices is not None and v not in choices:
            raise self.fail(key, f"must be one of {', '.join(choices)}; got {v!r}")
        if pattern is not None and not pattern.match(v):
            raise self.fail(key, f"{v!r} is not a valid value (expected {pattern.pattern})")
        return v

    def number(self, key: str, default: float | None = None, *, required: bool = False,
               low: float | None = None, high: float | None = None, positive: bool = False,
               ) -> float | None:
        if key not in self.table:
            if required:
                raise self.fail(key, "is required (a number)")
            return default
        v = self.table[key]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise self.fail(key, f"must be a finite number, got {v!r}")
        if positive and v <= 0:
            raise self.fail(key, f"must be greater than 0, got {v!r}")
        if (low is not None and v < low) or (high is not None and v > high):
            raise self.fail(key, f"must be between {low} and {high}, got {v!r}")
        return float(v)

    def integer(self, key: str, default: int | None, *, low: int = 0) -> int | None:
        if key not in self.table:
            return default
        v = self.table[key]
        if isinstance(v, bool) or not isinstance(v, int) or v < low:
            raise self.fail(key, f"must be a whole number >= {low}, got {v!r}")
        return v

    def boolean(self, key: str, default: bool) -> bool:
        v = self.table.get(key, default)
        if not isinstance(v, bool):
            raise self.fail(key, f"must be true or false, got {v!r}")
        return v

    def str_list(self, key: str) -> tuple[str, ...]:
        if key not in self.table:
            return ()
        v = self.table[key]
        if isinstance(v, str):
            v = [v]
        if not isinstance(v, list) or not v or not all(isinstance(x, str) and x for x in v):
            raise self.fail(key, f"must be a string or a non-empty list of strings, got {v!r}")
        return tuple(v)

    def unknown_keys(self, allowed: Collection[str]) -> None:
        for k in self.table:
            if k not in allowed:
                close = [a for a in sorted(allowed) if a[:3] == k[:3]]
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                self.problem(k, f"unknown field{hint}; allowed: {', '.join(sorted(allowed))}")


# --------------------------------------------------------------------------- loading
def default_rules_text() -> str:
    """The rule set shipped with bubblewatch (``alerts/default_rules.toml``)."""
    return resources.files("alerts").joinpath("default_rules.toml").read_text(encoding="utf-8")


def _read_text(path: Path) -> str:
    """The rules file as text; a file that is not UTF-8 or cannot be read is a
    :class:`ConfigError` naming the byte and line."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read the alert rules file {path}: {exc.strerror or exc}; "
                          "check BUBBLEWATCH_ALERTS__RULES_FILE and the file's permissions"
                          ) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ConfigError(f"{path}:{line}: not UTF-8 text (byte 0x{raw[exc.start]:02x}); save "
                          "the rules file as UTF-8") from None


def load_rulebook(
    path: Path | None,
    *,
    indicators: Mapping[str, Indicator] | None = None,
    universe: Universe | None = None,
    environ: Mapping[str, str] | None = None,
    strict: bool = False,
) -> RuleBook:
    """Read and validate a rules file (``None``: the shipped default rules).

    Parameters
    ----------
    path
        TOML file with ``[[rules]]`` and ``[[subscribers]]``.
    indicators
        Known indicators by name (default: the registry). Rules naming any
        other indicator, field or key are refused.
    universe
        Used to accept symbols typed as ``ixic`` for ``^IXIC``.
    environ
        Environment for the Slack webhook variables (default ``os.environ``).
    strict
        Raise :class:`~bubblewatch.core.errors.ConfigError` listing every problem
        instead of leaving broken rules out.
    """
    if path is None:
        text, name = default_rules_text(), "<default rules>"
    else:
        p = Path(path)
        if not p.is_file():
            raise ConfigError(
                f"alert rules file {p} does not exist; create it (see the default rules with "
                "`bubblewatch alerts list`) or unset BUBBLEWATCH_ALERTS__RULES_FILE"
            )
        text, name = _read_text(p), str(p)
    book = parse_rulebook(text, name, indicators=indicators, universe=universe, environ=environ)
    if strict and book.problems:
        raise ConfigError(
            f"{len(book.problems)} problem(s) in {name}; fix them and run "
            "`bubblewatch alerts list` again:\n" + "\n".join(f"  {p}" for p in book.problems)
        )
    return book


def parse_rulebook(
    text: str,
    file: str = "<rules>",
    *,
    indicators: Mapping[str, Indicator] | None = None,
    universe: Universe | None = None,
    environ: Mapping[str, str] | None = None,
) -> RuleBook:
    """Validate the TOML ``text`` of a rules file; see :func:`load_rulebook`."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}") from exc
    if indicators is None:
        from indicators import registry

        indicators = {i.name: i for i in registry.all_indicators()}
    env = os.environ if environ is None else environ
    loc = _Locator(text)
    problems: list[Problem] = []
    for k in data:
        if k not in ("rules", "subscribers"):
            problems.append(Problem(file, loc.line(None, 0, k), "top level", k,
                                    "unknown table; a rules file has [[rules]] and [[subscribers]]"))
    rules: list[Rule] = []
    declared: set[str] = set()
    for i, table in enumerate(_array(data, "rules", file, loc, problems)):
        chk = _Checker(file, loc, "rules", i, table, problems)
        rid = table.get("id")
        if isinstance(rid, str):
            if rid in declared:
                chk.problem("id", f"duplicate rule id {rid!r}; ids must be unique")
                continue
            declared.add(rid)
        rule = _parse_rule(chk, indicators, universe)
        if rule is not None and not chk.failed:
            rules.append(rule)
    subscribers: list[Subscriber] = []
    names: set[str] = set()
    for i, table in enumerate(_array(data, "subscribers", file, loc, problems)):
        chk = _Checker(file, loc, "subscribers", i, table, problems)
        sub = _parse_subscriber(chk, declared, env)
        if sub is None:
            continue
        if sub.name in names:
            chk.problem("name", f"duplicate subscriber name {sub.name!r}")
            continue
        names.add(sub.name)
        subscribers.append(sub)
    return RuleBook(file, tuple(rules), tuple(subscribers), tuple(problems))


def _array(data: Mapping[str, Any], name: str, file: str, loc: _Locator,
           problems: list[Problem]) -> list[Mapping[str, Any]]:
    v = data.get(name, [])
    if not isinstance(v, list) or not all(isinstance(t, dict) for t in v):
        problems.append(Problem(file, loc.line(None, 0, name), "top level", name,
                                f"must be an array of tables ([[{name}]])"))
        return []
    return v


def _parse_rule(chk: _Checker, indicators: Mapping[str, Indicator],
                universe: Universe | None) -> Rule | None:
    try:
        rid = chk.string("id", required=True, pattern=_ID_RE)
        rtype = chk.string("type", required=True, choices=RULE_TYPES)
        assert rid is not None and rtype is not None
        chk.unknown_keys(_COMMON | _ALLOWED[rtype])
        if not chk.boolean("enabled", True):
            return None
        name = chk.string("indicator", required=True)
        assert name is not None
        ind = indicators.get(name)
        if ind is None:
            raise chk.fail("indicator", f"unknown indicator {name!r}; known: "
                           f"{', '.join(sorted(indicators)) or 'none registered'}")
        columns = set(ind.columns)

        def check_field(key: str, value: str | None) -> None:
            if value is not None and columns and value not in columns:
                raise chk.fail(key, f"indicator {name!r} has no field {value!r}; fields: "
                               f"{', '.join(sorted(columns))}")

        fld = chk.string("field", required=rtype not in ("episode_start", "episode_end"))
        check_field("field", fld)
        tfield = chk.string("threshold_field")
        check_field("threshold_field", tfield)
        keys = _parse_keys(chk, ind, universe)
        severity = chk.string("severity", "warning", choices=SEVERITIES)
        cooldown = chk.integer("cooldown_days", 0)
        hysteresis = chk.number("hysteresis", 0.0, low=0.0)
        fmt = chk.string("format")
        try:
            if fmt is not None:
                format(1.5, fmt)
        except (ValueError, TypeError):
            raise chk.fail("format", f"{fmt!r} is not a Python format spec such as '.2f' or "
                           "'.1%'") from None
        kw: dict[str, Any] = {}
        if rtype in ("above", "below", "cross"):
            if chk.has("threshold") == (tfield is not None):
                raise chk.fail("threshold", "give exactly one of threshold (a number) or "
                               "threshold_field (a field of the same indicator)")
            kw["threshold"] = chk.number("threshold")
            if rtype == "cross":
                kw["direction"] = chk.string("direction", "both", choices=("up", "down", "both"))
        elif rtype == "change":
            kw["threshold"] = chk.number("threshold", required=True, positive=True)
            kw["days"] = chk.integer("days", None, low=1)
            if kw["days"] is None:
                raise chk.fail("days", "is required (calendar days to measure the change over)")
            kw["relative"] = chk.boolean("relative", False)
            kw["direction"] = chk.string("direction", "both", choices=("up", "down", "both"))
        elif rtype == "percentile":
            kw["threshold"] = chk.number("threshold", required=True, low=0.0, high=100.0)
            kw["lookback_days"] = chk.integer("lookback_days", None, low=30)
            kw["direction"] = chk.string("direction", "above", choices=("above", "below"))
        elif rtype in ("episode_start", "episode_end"):
            kw["kind"] = chk.string("kind", "positive")
            if rtype == "episode_end":
                kw["recent_days"] = chk.integer("recent_days", 7, low=0)
        elif rtype == "band":
            kw["bands"], kw["labels"] = _parse_bands(chk)
            kw["direction"] = chk.string("direction", "both", choices=("up", "down", "both"))
            kw["same_inputs_change_field"] = chk.string("same_inputs_change_field")
            check_field("same_inputs_change_field", kw["same_inputs_change_field"])
        given_label = chk.string("label")
        given_description = chk.string("description")
        if chk.failed:
            return None
        rule = Rule(
            id=rid, indicator=name, keys=keys, type=rtype, severity=severity or "warning",
            field=fld, threshold_field=tfield, hysteresis=hysteresis or 0.0,
            cooldown_days=cooldown or 0, format=fmt, line=chk.loc.line("rules", chk.index),
            field_label=ind.columns[fld].label if fld in ind.columns else None,
            unit=ind.columns[fld].unit if fld in ind.columns else None,
            threshold_label=(ind.columns[tfield].label if tfield in ind.columns else None),
            indicator_title=ind.title, **kw,
        )
        return replace(rule, label=(given_label or default_label(rule)).strip(),
                       description=(given_description or default_description(rule, ind)).strip())
    except _Bad:
        return None


#: How an episode kind reads in a rule label (PSY stores ``positive``/``negative``).
EPISODE_KIND_WORDS = {"positive": "explosive rise", "negative": "explosive fall"}


def episode_words(kind: str) -> str:
    """``"positive"`` -> ``"explosive rise"``; other kinds in words."""
    return EPISODE_KIND_WORDS.get(kind, kind.replace("_", " "))


def default_label(rule: Rule) -> str:
    """The rule's name for people when the rules file gives no ``label``,
    built from the field's column label and the threshold."""
    what = rule.field_label or rule.indicator_title or rule.indicator
    thr = rule.threshold_label or rule.fmt(rule.threshold)
    typ = rule.type
    if typ == "above":
        return f"{what} at or above {thr}"
    if typ == "below":
        return f"{what} at or below {thr}"
    if typ == "cross":
        way = {"up": "rises above", "down": "falls below"}.get(rule.direction, "crosses")
        return f"{what} {way} {thr}"
    if typ == "change":
        assert rule.threshold is not None
        size = (f"{100 * rule.threshold:g}%" if rule.relative
                else rule.fmt(rule.threshold).lstrip("+"))
        way = {"up": "rises", "down": "falls"}.get(rule.direction, "moves")
        return f"{what} {way} by {size} or more within {rule.days} days"
    if typ == "percentile":
        assert rule.threshold is not None
        if rule.direction == "below":
            return f"{what} in the bottom {rule.threshold:g}% of its history"
        return f"{what} in the top {100 - rule.threshold:g}% of its history"
    if typ in ("episode_start", "episode_end"):
        verb = "begins" if typ == "episode_start" else "ends"
        return f"{rule.indicator_title}: {episode_words(rule.kind)} {verb}"
    return f"{what} changes band"


def default_description(rule: Rule, ind: Indicator) -> str:
    """What the rule's figure means, from the indicator's column (or its title
    and description for episode rules), when the rules file gives none."""
    if rule.field is not None and rule.field in ind.columns and rule.type not in (
            "episode_start", "episode_end"):
        col = ind.columns[rule.field]
        return f"{col.label} ({col.unit}): {col.description}."
    return ind.description


def _parse_keys(chk: _Checker, ind: Indicator, universe: Universe | None) -> tuple[str, ...]:
    keys = chk.str_list("key")
    if not keys:
        raise chk.fail("key", "is required: a symbol or basket, a list of them, or \"*\"")
    if ALL_KEYS in keys:
        return (ALL_KEYS,)
    known: set[str] | None = None
    if universe is not None:
        try:
            known = set(ind.keys(universe))
        except Exception:  # noqa: BLE001 - a faulty keys() must not break rule loading
            known = None
    out: list[str] = []
    for k in keys:
        canon = k
        if universe is not None:
            try:
                canon = universe.resolve(k)
            except KeyError:
                canon = k
        if known is not None and canon not in known:
            raise chk.fail("key", f"{k!r} is not a key of indicator {ind.name!r}; keys: "
                           f"{', '.join(sorted(known))} (or \"*\")")
        out.append(canon)
    return tuple(dict.fromkeys(out))


def _parse_bands(chk: _Checker) -> tuple[tuple[float, ...], tuple[str, ...]]:
    bands = chk.table.get("bands")
    if (not isinstance(bands, list) or not bands
            or not all(isinstance(b, (int, float)) and not isinstance(b, bool)
                       and math.isfinite(b) for b in bands)):
        raise chk.fail("bands", f"must be a non-empty list of numbers, got {bands!r}")
    if any(b >= c for b, c in pairwise(bands)):
        raise chk.fail("bands", f"edges must be strictly increasing, got {bands!r}")
    labels = chk.str_list("labels") or tuple(f"band {i}" for i in range(len(bands) + 1))
    if len(labels) != len(bands) + 1:
        raise chk.fail("labels", f"needs {len(bands) + 1} labels for {len(bands)} edges, "
                       f"got {len(labels)}")
    return tuple(float(b) for b in bands), labels


def _parse_subscriber(chk: _Checker, rule_ids: Collection[str],
                      env: Mapping[str, str]) -> Subscriber | None:
    try:
        chk.unknown_keys(_SUBSCRIBER_KEYS)
        name = chk.string("name", required=True, pattern=_ID_RE)
        assert name is not None
        if not chk.boolean("enabled", True):
            return None
        channels: list[Channel] = []
        for addr in chk.str_list("email"):
            if _EMAIL_RE.match(addr):
                channels.append(Channel("email", addr))
            else:
                chk.problem("email", f"{addr!r} is not an e-mail address")
        for var in chk.str_list("slack_webhook_env"):
            channels += _slack_channel(chk, var, env)
        if not chk.has("email") and not chk.has("slack_webhook_env"):
            raise chk.fail(None, "has no channel: give email and/or slack_webhook_env")
        rules = chk.str_list("rules")
        for r in rules:
            if r not in rule_ids:
                chk.problem("rules", f"no rule with id {r!r} in this file")
        severities = chk.str_list("severities")
        for s in severities:
            if s not in SEVERITIES:
                chk.problem("severities", f"{s!r} is not one of {', '.join(SEVERITIES)}")
        mode = chk.string("mode", "immediate", choices=MODES) or "immediate"
        digest = _parse_time(chk, chk.string("digest_time", "08:00") or "08:00")
        if not channels:
            return None
        return Subscriber(name, tuple(channels), rules, severities, mode, digest,
                          chk.loc.line("subscribers", chk.index))
    except _Bad:
        return None


def _slack_channel(chk: _Checker, var: str, env: Mapping[str, str]) -> list[Channel]:
    if var.startswith(("http://", "https://")) or "/" in var:
        chk.problem("slack_webhook_env", "must be the NAME of an environment variable that "
                    "holds the webhook URL, never the URL itself (remove the URL from this file)")
        return []
    if not _ENV_RE.match(var):
        chk.problem("slack_webhook_env", f"{var!r} is not a valid environment variable name")
        return []
    value = env.get(var, "")
    if not value:
        chk.problem("slack_webhook_env", f"environment variable {var} is not set; export it "
                    "with the Slack incoming-webhook URL")
        return []
    if not value.startswith(("https://", "http://")):
        chk.problem("slack_webhook_env", f"environment variable {var} does not hold an "
                    "http(s) webhook URL")
        return []
    return [Channel("slack", var)]


def _parse_time(chk: _Checker, text: str) -> time:
    m = re.fullmatch(r"(\d{1,2}):(\d{2})", text)
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        raise chk.fail("digest_time", f"must be HH:MM (24-hour), got {text!r}")
    return time(int(m.group(1)), int(m.group(2)))

