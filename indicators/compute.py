"""The compute job: run registered indicators over the database.

For every selected indicator (dependencies first) and every key it declares
for the universe, the job reads inputs through a
:class:`~db.source.DatabaseSource`, calls the indicator and stores the
result with its parameters (hash), as-of date and ``computed_at``. Each
(indicator, key) is written in its own transaction: one that fails is
recorded in the run log and never stops the others.

Incremental indicators get ``ctx.since`` (the last stored date for the same
parameters); the job keeps only rows from that date on and upserts them
without touching older rows. ``full=True`` recomputes and replaces everything.

Before any indicator runs, the job brings the dated events in the database in
line with the built-in file and the settings' ``[[events]]``
(:func:`sync_events`), so an event added to the settings is studied by the
next ``compute`` without ``bubblewatch init``.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from bubblewatch.core.errors import ConfigError, InfeasibleTestError
from db.runlog import record_run
from indicators.registry import (
    ComputeContext,
    Indicator,
    IndicatorEvent,
    IndicatorResult,
    Params,
    all_indicators,
    params_dict,
    params_hash,
)

if TYPE_CHECKING:
    from bubblewatch.core.settings import EventEntry, Settings
    from bubblewatch.core.universe import Universe

log = logging.getLogger(__name__)

JOB = "compute"


@dataclass
class ComputeReport:
    """What one compute run did: rows written per ``indicator/key``, errors,
    notes (missing inputs), seconds per indicator (wall clock, all keys) and
    the part of them spent storing results."""

    rows: dict[str, int] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    store_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


def select_indicators(names: Sequence[str] | None) -> list[Indicator]:
    """Registered indicators in dependency order, restricted to ``names``.

    Raises
    ------
    ConfigError
        Naming the unknown indicators and the known ones.
    """
    everything = all_indicators()
    if not names:
        return everything
    known = {i.name for i in everything}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ConfigError(f"unknown indicator(s) {', '.join(unknown)}; known: "
                          f"{', '.join(sorted(known))} (see `bubblewatch indicators`)")
    wanted = set(names)
    return [i for i in everything if i.name in wanted]


def select_keys(indicator: Indicator, universe: Universe,
                symbols: Sequence[str] | None) -> list[str]:
    """The indicator's keys; with ``symbols`` only keys that are those symbols
    (basket, pair and cohort keys are computed only in runs over every symbol),
    including the indicator's ``optional_keys`` that were asked for."""
    keys = list(indicator.keys(universe))
    if not symbols:
        return keys
    wanted = set(symbols)
    if indicator.optional_keys is not None:
        keys += [k for k in indicator.optional_keys(universe) if k not in keys]
    return [k for k in keys if k in wanted]


def _plain(v: Any) -> Any:
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def event_rows(events: Sequence[IndicatorEvent]) -> list[dict[str, Any]]:
    """:class:`IndicatorEvent` objects as rows for ``indicator_event``."""
    return [{"kind": e.kind, "start": e.start, "end": e.end, "peak": e.peak,
             "ongoing": bool(e.ongoing), "attrs": {str(k): _plain(v) for k, v in e.attrs.items()}}
            for e in events]


def check_result(ind: Indicator, key: str, result: IndicatorResult) -> None:
    """Refuse a result that breaks the indicator's contract (wrong metadata
    model, fields it did not declare)."""
    if not isinstance(result.meta, ind.meta):
        raise TypeError(f"{ind.name}/{key}: metadata is {type(result.meta).__name__}, "
                        f"not {ind.meta.__name__}")
    undeclared = [c for c in result.frame.columns if c not in ind.columns]
    if undeclared:
        raise TypeError(f"{ind.name}/{key}: fields {', '.join(map(str, undeclared))} are not "
                        "declared in the indicator's columns")


def as_of_date(result: IndicatorResult) -> date | None:
    """The last date of the result's series (None when empty)."""
    if result.frame.empty:
        return None
    return pd.DatetimeIndex(result.frame.index).max().date()


class SharedInputs:
    """Prices, facts and reference data read once per compute run and shared by
    every indicator (they do not change while indicators run); stored
    indicator results are read through the current indicator's session and
    cached only until the next indicator starts."""

    def __init__(self) -> None:
        self.prices_cache: dict[str, pd.DataFrame] = {}
        self.facts_cache: dict[tuple[str, date | None], pd.DataFrame] = {}
        self.reference_frame: pd.DataFrame | None = None
        self.events_frame: pd.DataFrame | None = None
        self.source: Any = None  # the DatabaseSource of the current read session
        self.results_cache: dict[tuple[str, str], pd.DataFrame] = {}

    def prices(self, symbol: str) -> pd.DataFrame:
        if symbol not in self.prices_cache:
            self.prices_cache[symbol] = self.source.prices(symbol)
        return self.prices_cache[symbol]

    def facts(self, symbol: str, as_of: date | None = None) -> pd.DataFrame:
        if (symbol, as_of) not in self.facts_cache:
            self.facts_cache[(symbol, as_of)] = self.source.facts(symbol, as_of)
        return self.facts_cache[(symbol, as_of)]

    def reference(self) -> pd.DataFrame:
        if self.reference_frame is None:
            self.reference_frame = self.source.reference()
        return self.reference_frame

    def events(self) -> pd.DataFrame:
        if self.events_frame is None:
            self.events_frame = self.source.events()
        return self.events_frame

    def indicator(self, name: str, key: str) -> pd.DataFrame:
        # cached only while one indicator runs (its keys may share inputs);
        # reset by ``use`` so results committed later are always seen
        if (name, key) not in self.results_cache:
            self.results_cache[(name, key)] = self.source.indicator(name, key)
        return self.results_cache[(name, key)]

    def use(self, source: Any) -> None:
        """Read through ``source`` (a new session) and forget cached results."""
        self.source = source
        self.results_cache = {}


def sync_events(url: str, user_events: Sequence[EventEntry] = ()) -> int:
    """Make the database's dated events the built-in ones plus ``user_events``
    (the settings' ``[[events]]``): new and changed events are upserted, events
    no longer configured (a user event removed or renamed) are deleted, an
    unchanged set writes nothing. One transaction; returns the rows written or
    deleted.

    Raises
    ------
    ConfigError
        A user event reuses a key (:func:`ingest.reference.all_events`);
        raised before anything is written.
    """
    from sqlalchemy import delete

    from db import repo
    from db.models import ReferenceEvent
    from db.session import session_scope
    from ingest.reference import all_events

    rows = all_events(user_events)
    with session_scope(url) as s:
        _, counts = repo.upsert_reference(s, [], rows)
        gone = s.execute(delete(ReferenceEvent).where(
            ReferenceEvent.key.not_in([r["key"] for r in rows])))
    return counts.written + int(gone.rowcount or 0)


def _store(url: str, ind: Indicator, key: str, params: Params, phash: str,
           result: IndicatorResult, since: date | None) -> int:
    from db import repo
    from db.session import session_scope

    frame = result.frame
    if not frame.empty:
        frame = frame.copy()
        frame.index = pd.DatetimeIndex(frame.index)
    incremental = since is not None
    if incremental and not frame.empty:
        frame = frame[frame.index >= pd.Timestamp(since)]
    with session_scope(url) as s:
        return repo.store_indicator_result(
            s, indicator=ind.name, key=key, params=params_dict(params), params_hash=phash,
            frame=frame, events=event_rows(result.events),
            meta=result.meta.model_dump(mode="json"),
            # an incremental run with nothing new is still current as of ``since``
            as_of=as_of_date(result) or since, replace_values=not incremental,
        )


def run_compute(
    settings: Settings,
    names: Sequence[str] | None = None,
    symbols: Sequence[str] | None = None,
    full: bool = False,
    *,
    on_item: Callable[[str, str], None] | None = None,
    show_progress: bool = True,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> ComputeReport:
    """Compute indicators and store the results.

    Parameters
    ----------
    settings
        Database URL and universe.
    names
        Indicator names (default: every registered indicator).
    symbols
        Restrict symbol keys to these (resolved against the universe).
    full
        Ignore stored results: recompute every date and replace old rows.
    on_item
        Called with ``(indicator, key)`` after each item.
    show_progress
        Show a rich progress bar (only drawn on a terminal).
    overrides
        Indicator name -> parameter overrides (unknown names are refused). The
        result is stored under its own parameter hash beside the default run,
        and becomes the latest run that reads and exports see.

    Returns
    -------
    A :class:`ComputeReport`; the same outcome is in the run log (job
    ``compute``), item ``indicator/key``.
    """
    from bubblewatch.core.console import progress
    from db import repo
    from db.migrate import require_current
    from db.session import session_scope
    from db.source import DatabaseSource

    url = settings.resolved_database_url
    universe = settings.universe
    indicators = select_indicators(names)
    if symbols:
        # keys that are not symbols (cohorts) may be named when an indicator offers them
        named = {k for ind in indicators if ind.optional_keys is not None
                 for k in ind.optional_keys(universe)} - set(universe.symbols)
        try:
            symbols = [s if s in named else universe.resolve(s) for s in symbols]
        except KeyError as exc:
            raise ConfigError(str(exc.args[0])) from None
    unknown = sorted(set(overrides or {}) - {ind.name for ind in indicators})
    if unknown:
        raise ConfigError(f"parameters given for {', '.join(unknown)}, which this run does not "
                          "compute; name the indicator too (`bubblewatch compute NAME --param "
                          "...`)")
    # every parameter is validated before any data is read
    params_of = {ind.name: ind.parse_params((overrides or {}).get(ind.name))
                 for ind in indicators}
    require_current(url)
    sync_events(url, settings.events)
    plan = [(ind, select_keys(ind, universe, symbols)) for ind in indicators]
    report = ComputeReport()
    shared = SharedInputs()
    with record_run(url, JOB) as rec, progress() as bar:
        task = bar.add_task("computing", total=sum(len(k) for _, k in plan), visible=show_progress)
        for ind, keys in plan:
            params = params_of[ind.name]
            phash = params_hash(params)
            t0 = time.perf_counter()
            # one read session per indicator sees what earlier indicators committed
            with session_scope(url) as read:
                shared.use(DatabaseSource(read, universe))
                for key in keys:
                    item = f"{ind.name}/{key}"
                    bar.update(task, description=item)
                    try:
                        since = None
                        if ind.incremental and not full:
                            since = repo.last_indicator_date(read, ind.name, key, phash)
                        ctx = ComputeContext(shared, universe, since,
                                             settings.resolved_cache_dir)
                        result = ind.compute(ctx, key, params)
                        check_result(ind, key, result)
                        t_store = time.perf_counter()
                        n = _store(url, ind, key, params, phash, result, since)
                        report.store_seconds[ind.name] = (report.store_seconds.get(ind.name, 0.0)
                                                          + time.perf_counter() - t_store)
                    except InfeasibleTestError as exc:  # too little data: a note, not a failure
                        report.rows[item] = 0
                        report.notes[item] = f"skipped: {exc}"
                        rec.ok(item, 0, note=f"skipped: {exc}")
                    except Exception as exc:  # one item never stops the others
                        msg = f"{type(exc).__name__}: {exc}"
                        log.warning("compute %s failed: %s", item, msg)
                        log.debug("compute %s", item, exc_info=True)
                        report.errors[item] = msg
                        rec.fail(item, msg)
                    else:
                        report.rows[item] = n
                        missing = result.meta.missing
                        if missing and result.frame.empty:
                            report.notes[item] = str(missing)
                        rec.ok(item, n, **({"note": str(missing)} if missing else {}))
                    bar.advance(task)
                    if on_item:
                        on_item(ind.name, key)
            report.seconds[ind.name] = report.seconds.get(ind.name, 0.0) + time.perf_counter() - t0
    return report
