"""Built-in reference data: cited dot-com era figures, AI-cycle markers and
dated events, read from data files and validated on load.

The dot-com fundamentals pre-date XBRL, so bubblewatch ships them as a small
table. The rows live in two files beside this module:

``reference_data/figures.csv``
    one figure per row: ``key, entity, metric, value, unit, period_start,
    period_end, label, source, source_tag``.
``reference_data/events.toml``
    one ``[[event]]`` table per dated event: ``key, date, title, era,
    category, after_close, description, source`` (the fields of
    :class:`bubblewatch.core.settings.EventEntry`).

Every figure comes from ``../shared/research/FACTS.md`` (§1–§17; the
UNVERIFIED items of §18 are never used) or from a page cited in its row, and
carries its source and a tag:

``P``
    primary: a company filing or the company's own press release (also its
    wire reprints).
``S``
    secondary: news outlets and data sites.
``S-weak``
    a single secondary source without an identifiable publisher.
``C``
    computed here from other rows: the source gives the formula, then a colon,
    then the keys of its inputs (``"80.06 x 6,917: csco_close_peak_2000,
    csco_shares_basic_fy2000"``); a computed row whose inputs are outside the
    table cites ``FACTS.md`` instead.

Units (:data:`UNITS`): money in ``USD m`` (millions of US dollars, also for
market values and industry totals), per-share prices in ``USD/share``, index
levels in ``index pts``, ratios in ``%`` or ``x``, counts in ``count``,
``people``, ``days``, ``m shares`` and ``m miles``. Periods are real dates:
fiscal years keep their own start and end (Cisco's year ends on the last
Saturday of July, NVIDIA's on the last Sunday of January); a figure for one
day has ``period_start == period_end``; a forecast keeps the period it
forecasts and says so in its label.

The files are read once per process and checked on load: dates parse, units
and tags come from the allowed sets, keys are unique, computed rows name
existing keys, sources are not empty, event categories come from
:data:`~bubblewatch.core.settings.EVENT_CATEGORIES`. A bad row raises
:class:`~bubblewatch.core.errors.IngestError` naming the file, the row and the
field. Users add their own events in the settings file (``[[events]]``);
:func:`all_events` merges them with the built-in ones.

:func:`reference_rows` returns the rows for :func:`db.repo.upsert_reference`;
``bubblewatch init`` loads them.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import re
import tomllib
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bubblewatch.core.errors import ConfigError, IngestError
from bubblewatch.core.settings import EVENT_CATEGORIES, EventEntry

DATA_DIR = Path(__file__).with_name("reference_data")
FIGURES_FILE = DATA_DIR / "figures.csv"
EVENTS_FILE = DATA_DIR / "events.toml"

SOURCE_TAGS = ("P", "S", "S-weak", "C")
SourceTag = Literal["P", "S", "S-weak", "C"]
UNITS = ("USD m", "USD/share", "index pts", "%", "x", "m shares", "people", "count", "days",
         "m miles")
Unit = Literal["USD m", "USD/share", "index pts", "%", "x", "m shares", "people", "count", "days",
               "m miles"]
FIGURE_COLUMNS = ("key", "entity", "metric", "value", "unit", "period_start", "period_end",
                  "label", "source", "source_tag")
EVENT_COLUMNS = ("key", "date", "title", "era", "category", "after_close", "description",
                 "source")

_KEY = r"^[a-z0-9][a-z0-9_]*$"
#: Keys named after the colon of a computed row's source.
_KEY_TOKEN = re.compile(r"\b[a-z][a-z0-9]*_[a-z0-9_]+\b")

__all__ = [
    "DATA_DIR", "EVENTS_FILE", "EVENT_CATEGORIES", "FIGURES_FILE", "SOURCE_TAGS", "UNITS",
    "EventEntry", "Figure", "all_events", "load_events", "load_figures", "reference_events",
    "reference_figures", "reference_frames", "reference_rows",
]


class Figure(BaseModel):
    """One cited figure (a row of ``figures.csv``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str = Field(pattern=_KEY, max_length=96)
    entity: str = Field(min_length=1, max_length=64)
    metric: str = Field(pattern=_KEY, max_length=64)
    value: float
    unit: Unit
    period_start: dt.date
    period_end: dt.date
    label: str = Field(min_length=1)
    source: str = Field(min_length=1)
    source_tag: SourceTag

    @field_validator("value")
    @classmethod
    def _finite(cls, v: float) -> float:
        if not math.isfinite(v):
            raise ValueError("must be a finite number")
        return v

    @field_validator("label", "source")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must not be blank")
        return v

    @model_validator(mode="after")
    def _period_and_citation(self) -> Figure:
        if self.period_end < self.period_start:
            raise ValueError(f"period_end {self.period_end} is before period_start "
                             f"{self.period_start}")
        if self.source_tag == "C":
            if ":" not in self.source and "FACTS.md" not in self.source:
                raise ValueError("a computed (C) row names its inputs after a colon "
                                 "('formula: key_a, key_b') or cites FACTS.md")
        elif "http" not in self.source and "GitHub" not in self.source:
            raise ValueError("a cited row needs a URL or a named GitHub data file in source")
        return self

    def inputs(self) -> tuple[str, ...]:
        """Keys a computed row names after the colon of its source."""
        if self.source_tag != "C" or ":" not in self.source:
            return ()
        return tuple(_KEY_TOKEN.findall(self.source.split(":", 1)[1]))

    def row(self) -> dict[str, Any]:
        return self.model_dump()


def _validation_message(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or "row"
        value = err.get("input")
        shown = "" if isinstance(value, dict) else f" (got {value!r})"
        parts.append(f"field {field!r}: {err['msg']}{shown}")
    return "; ".join(parts)


def load_figures(path: Path = FIGURES_FILE) -> tuple[Figure, ...]:
    """Read and validate ``figures.csv``. Raises :class:`IngestError` naming the
    file, the row (line number and key) and the field of the first bad row."""
    src = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise IngestError(f"cannot read the reference figures: {exc}", source=src) from exc
    reader = csv.DictReader(text.splitlines())
    header = tuple(reader.fieldnames or ())
    if header != FIGURE_COLUMNS:
        raise IngestError(f"header must be {','.join(FIGURE_COLUMNS)}, got {','.join(header)}",
                          source=src, location="line 1")
    figures: list[Figure] = []
    first_line: dict[str, int] = {}
    for line, raw in enumerate(reader, start=2):
        where = f"line {line}, key {raw.get('key')!r}"
        if None in raw or any(v is None for v in raw.values()):
            raise IngestError(f"expected {len(FIGURE_COLUMNS)} columns", source=src,
                              location=where)
        try:
            fig = Figure.model_validate({k: (v if v != "" else None) for k, v in raw.items()})
        except ValidationError as exc:
            raise IngestError(_validation_message(exc), source=src, location=where) from None
        if fig.key in first_line:
            raise IngestError(f"field 'key': {fig.key!r} is already used on line "
                              f"{first_line[fig.key]}; keys must be unique", source=src,
                              location=where)
        first_line[fig.key] = line
        figures.append(fig)
    for fig in figures:
        missing = [k for k in fig.inputs() if k not in first_line]
        if fig.source_tag == "C" and ":" in fig.source and not fig.inputs():
            missing = ["(none named)"]
        if missing:
            raise IngestError(f"field 'source': computed row names inputs that are not keys "
                              f"of the table: {', '.join(missing)}", source=src,
                              location=f"line {first_line[fig.key]}, key {fig.key!r}")
    return tuple(figures)


def load_events(path: Path = EVENTS_FILE) -> tuple[EventEntry, ...]:
    """Read and validate ``events.toml`` (``[[event]]`` tables). Raises
    :class:`IngestError` naming the file, the event (position and key) and the field."""
    src = str(path)
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise IngestError(f"cannot read the reference events: {exc}", source=src) from exc
    except tomllib.TOMLDecodeError as exc:
        raise IngestError(f"not valid TOML: {exc}", source=src) from exc
    extra = sorted(set(doc) - {"event"})
    if extra or not isinstance(doc.get("event"), list):
        raise IngestError("expected only [[event]] tables"
                          + (f", found {', '.join(extra)}" if extra else ""), source=src)
    events: list[EventEntry] = []
    seen: dict[str, int] = {}
    for n, raw in enumerate(doc["event"], start=1):
        where = f"event {n}, key {raw.get('key')!r}"
        missing = [c for c in EVENT_COLUMNS if c not in raw]
        if missing:
            raise IngestError(f"missing field(s) {', '.join(missing)}", source=src,
                              location=where)
        try:
            ev = EventEntry.model_validate(raw)
        except ValidationError as exc:
            raise IngestError(_validation_message(exc), source=src, location=where) from None
        bad = [p for p in ev.source.split(" ; ") if not p.strip().startswith("http")]
        if bad:
            raise IngestError(f"field 'source': a built-in event cites URLs separated by ' ; ', "
                              f"not {bad[0]!r}", source=src, location=where)
        if ev.key in seen:
            raise IngestError(f"field 'key': {ev.key!r} is already used by event {seen[ev.key]};"
                              " keys must be unique", source=src, location=where)
        seen[ev.key] = n
        events.append(ev)
    return tuple(events)


@cache
def _builtin_figures() -> tuple[Figure, ...]:
    return load_figures()


@cache
def _builtin_events() -> tuple[EventEntry, ...]:
    return load_events()


def _event_row(e: EventEntry) -> dict[str, Any]:
    return {c: getattr(e, c) for c in EVENT_COLUMNS}


def reference_figures() -> list[dict[str, Any]]:
    """Every built-in reference figure as a row dict (see the module docstring)."""
    return [f.row() for f in _builtin_figures()]


def reference_events() -> list[dict[str, Any]]:
    """The built-in dated events as row dicts: ``key, date, title, era`` (``"dotcom"``
    or ``"ai"``), ``category``, ``after_close``, ``description``, ``source``."""
    return [_event_row(e) for e in _builtin_events()]


def all_events(user_events: Sequence[EventEntry] = ()) -> list[dict[str, Any]]:
    """The built-in events plus the user's (``Settings.events``), ordered by date.

    Raises
    ------
    ConfigError
        A user event reuses the key of a built-in event (or of another user event).
    """
    builtin = {e.key: e for e in _builtin_events()}
    merged = list(builtin.values())
    seen: set[str] = set()
    for e in user_events:
        if e.key in builtin:
            b = builtin[e.key]
            raise ConfigError(
                f"event key {e.key!r} in the settings' [[events]] is already a built-in event "
                f"({b.date}, {b.title!r}, {EVENTS_FILE.name}); give your event another key")
        if e.key in seen:
            raise ConfigError(f"event key {e.key!r} appears twice in the settings' [[events]]; "
                              "give each event its own key")
        seen.add(e.key)
        merged.append(e)
    merged.sort(key=lambda e: (e.date, e.key))
    return [_event_row(e) for e in merged]


def reference_rows(
    user_events: Sequence[EventEntry] = (),
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``(figures, events)`` rows for :func:`db.repo.upsert_reference`; the events
    include ``user_events`` (see :func:`all_events`)."""
    return reference_figures(), all_events(user_events)


def reference_frames(user_events: Sequence[EventEntry] = ()) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The built-in tables as DataFrames shaped like :func:`db.repo.reference_frame`
    and :func:`db.repo.events_frame` (for :class:`~indicators.frame_source.FrameSource`)."""
    figures, events = reference_rows(user_events)
    return pd.DataFrame(figures), pd.DataFrame(events)
