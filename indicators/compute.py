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
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

import pandas as pd

from bubblewatch.core.errors import ConfigError, InfeasibleTestError
from db.runlog import record_run
from indicators.compute_items import as_of_date, check_result, event_rows
from indicators.registry import (
    ComputeContext,
    Indicator,
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
    #: Batches of symbols run, and the Dask cluster they ran on (None: this process).
    batches: int = 0
    cluster: str | None = None
    #: How each batched item was computed: ``incremental``, ``full`` or ``since``.
    modes: dict[str, str] = field(default_factory=dict)

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
    from db import repo
    from db.session import session_scope
    from ingest.reference import all_events

    rows = all_events(user_events)
    with session_scope(url) as s:
        return repo.sync_reference_events(s, rows)


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
    # symbol keys go in batches (in process or on a Dask cluster); basket, pair
    # and cohort keys, which read several symbols' results, run afterwards here
    symset = set(universe.symbols)
    batched = {ind.name: tuple(k for k in keys if k in symset) for ind, keys in plan}
    rest = [(ind, [k for k in keys if k not in symset]) for ind, keys in plan]
    with record_run(url, JOB) as rec, progress() as bar:
        task = bar.add_task("computing", total=sum(len(k) for _, k in plan), visible=show_progress)

        def done(item: str, status: str, rows: int, note: str | None, quiet: bool,
                 how: str = "") -> None:
            if how:
                report.modes[item] = how
            if status == "error":
                report.errors[item] = note or "failed"
                rec.fail(item, note or "failed")
            else:
                report.rows[item] = rows
                if note and not quiet:
                    report.notes[item] = note
                rec.ok(item, rows, **({"note": note} if note else {}))
            bar.update(task, description=item)
            bar.advance(task)
            if on_item:
                name, _, key = item.partition("/")
                on_item(name, key)

        if any(batched.values()):
            _run_batched(settings, url, universe, [i.name for i in indicators], params_of,
                         batched, full, done, report)
        for ind, keys in rest:
            if not keys:
                continue
            params = params_of[ind.name]
            phash = params_hash(params)
            t0 = time.perf_counter()
            # one read session per indicator sees what earlier indicators committed
            with session_scope(url) as read:
                shared.use(DatabaseSource(read, universe))
                for key in keys:
                    item = f"{ind.name}/{key}"
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
                        done(item, "ok", 0, f"skipped: {exc}", False)
                    except Exception as exc:  # one item never stops the others
                        msg = f"{type(exc).__name__}: {exc}"
                        log.warning("compute %s failed: %s", item, msg)
                        log.debug("compute %s", item, exc_info=True)
                        done(item, "error", 0, msg, False)
                    else:
                        missing = result.meta.missing
                        done(item, "ok", n, str(missing) if missing else None,
                             not result.frame.empty)
            report.seconds[ind.name] = report.seconds.get(ind.name, 0.0) + time.perf_counter() - t0
    return report


#: Rough compute seconds per symbol (PSY + run-up + regime and the rest), for
#: batch sizes: a full computation is dominated by the regime model's fit.
SECONDS_PER_SYMBOL = {"full": 0.3, "incremental": 0.02}


def use_cluster(settings: Settings, n_symbols: int) -> bool:
    """Whether this run fans out over Dask (``[dask]`` settings): always with
    ``in_process = "never"``, never with ``"always"``; otherwise when a
    scheduler address is set or the run covers ``min_symbols`` symbols or more."""
    d = settings.dask
    if d.in_process == "always":
        return False
    if d.in_process == "never" or d.address:
        return True
    return n_symbols >= d.min_symbols


def _run_batched(settings: Settings, url: str, universe: Universe, names: Sequence[str],
                 params_of: Mapping[str, Params], batched: Mapping[str, tuple[str, ...]],
                 full: bool, done: Callable[..., None],
                 report: ComputeReport) -> None:
    """The symbol keys of every indicator, in batches of symbols: on a Dask
    cluster (:mod:`indicators.distributed`) or here, one batch after another."""
    from indicators.batch import BatchSpec, batch_size, make_batches, run_batch

    symbols = list(dict.fromkeys(k for n in names for k in batched.get(n, ())))
    cluster = use_cluster(settings, len(symbols))
    d = settings.dask
    workers = (d.n_workers or max(1, os.cpu_count() or 1)) if cluster else 1
    size = d.batch_size or batch_size(
        len(symbols), workers * d.threads_per_worker,
        SECONDS_PER_SYMBOL["full" if full else "incremental"])
    specs = []
    for i, part in enumerate(make_batches(symbols, size)):
        members = set(part)
        specs.append(BatchSpec(url, universe if not cluster else None, tuple(names),
                               {n: params_of[n] for n in names},
                               {n: tuple(k for k in batched.get(n, ()) if k in members)
                                for n in names}, full, i))

    def take(rep: Any) -> None:
        for o in rep.outcomes:
            done(o.item, o.status, o.rows, o.note, o.quiet, o.how)
        for name, sec in rep.seconds.items():
            report.seconds[name] = report.seconds.get(name, 0.0) + sec
        report.store_seconds["batches"] = (report.store_seconds.get("batches", 0.0)
                                           + rep.store_seconds)
        report.batches += 1

    if not cluster:
        for spec in specs:
            take(run_batch(spec))
        return
    from indicators.distributed import cluster_client, run_batches

    with cluster_client(d.address, n_workers=d.n_workers,
                        threads_per_worker=d.threads_per_worker,
                        connect_timeout_s=d.connect_timeout_s, data_dir=settings.data_dir,
                        psy_cache=str(settings.resolved_cache_dir)) as client:
        report.cluster = str(d.address or f"local cluster of {workers} processes")
        for rep in run_batches(client, specs, universe):
            take(rep)
