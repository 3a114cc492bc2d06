"""Per-symbol work in batches: the unit of work of ``bubblewatch compute``.

A batch is a list of symbols and the symbol-keyed indicators to compute for
them (dependencies first). :func:`run_batch` reads the batch's inputs in a few
bulk queries, computes every (indicator, symbol) item, and writes every result
of the batch in **one transaction** through the same upserts as everywhere
(:func:`db.repo.store_indicator_results`). It runs in the calling process or
on a Dask worker (:mod:`indicators.distributed`): the same function, the same
numbers.

Incremental work: unless ``full``, an indicator with an updater
(:data:`indicators.incremental.UPDATERS`) is updated from its stored result
and the prices since shortly before its last date, when the stored prices of
the key (and, for run-ups, of the market index) are unchanged up to that date
(a fingerprint: rows and the sum of ``adj_close``); otherwise the key is
computed in full. Other incremental indicators get ``ctx.since`` as in the
serial job.

Failures stay with their item: an item whose data is bad is reported (with
its type and message) and the batch's other items are stored. If the batch's
transaction itself fails, each result is stored alone so one bad write cannot
take the others with it. Re-running a batch (a retried task) stores the same
values again, which changes nothing.
"""

from __future__ import annotations

import gc
import logging
import math
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from bubblewatch.core.errors import InfeasibleTestError
from indicators.compute_items import as_of_date, check_result, event_rows
from indicators.incremental import UPDATERS, Stored, Update, UpdateInputs, Updater
from indicators.registry import (
    ComputeContext,
    IndicatorResult,
    Params,
    get,
    params_dict,
    params_hash,
)
from indicators.runup import positive_closes

if TYPE_CHECKING:
    from bubblewatch.core.universe import Universe
    from db.repo import RawCloses

log = logging.getLogger(__name__)

#: Relative tolerance of the price fingerprint's sum (databases add in any order).
FINGERPRINT_RTOL = 1e-9


@dataclass(frozen=True, slots=True)
class BatchSpec:
    """One batch: the symbols' keys per indicator (names in dependency order)."""

    url: str
    universe: Universe | None  # None: passed to run_batch (scattered once on a cluster)
    indicators: tuple[str, ...]
    params: Mapping[str, Params]
    keys: Mapping[str, tuple[str, ...]]
    full: bool = False
    batch_id: int = 0

    @property
    def symbols(self) -> list[str]:
        return list(dict.fromkeys(k for n in self.indicators for k in self.keys.get(n, ())))

    @property
    def items(self) -> int:
        return sum(len(self.keys.get(n, ())) for n in self.indicators)


@dataclass(frozen=True, slots=True)
class ItemOutcome:
    """What happened to one ``indicator/key``: ``status`` ``ok``, ``skipped``
    (too little data: a note, not a failure) or ``error``; ``how``
    ``incremental``, ``full`` or ``since`` (the indicator's own ``ctx.since``)."""

    item: str
    status: str
    rows: int = 0
    note: str | None = None
    how: str = ""
    #: The note goes to the run log only (a partial result that says what is missing).
    quiet: bool = False


@dataclass
class BatchReport:
    """Outcomes of one batch, its compute and store seconds, the worker."""

    batch_id: int
    outcomes: list[ItemOutcome] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    store_seconds: float = 0.0
    worker: str | None = None


class BatchSource:
    """:class:`~indicators.registry.DataSource` of one batch: prices read in
    bulk, results computed earlier in the batch seen before they are stored."""

    def __init__(self, session: Any, universe: Universe, pending: Mapping[tuple[str, str], Any]):
        from db.source import DatabaseSource

        self._db = DatabaseSource(session, universe)
        self._session = session
        self._prices: dict[str, pd.DataFrame] = {}
        self._pending = pending

    def preload(self, symbols: Sequence[str]) -> None:
        """Read the full price history of ``symbols`` in one query."""
        from db import repo

        missing = [s for s in symbols if s not in self._prices]
        if missing:
            frames, _ = repo.price_frames(self._session, missing)
            self._prices.update(frames)

    def prices(self, symbol: str) -> pd.DataFrame:
        if symbol not in self._prices:
            self.preload([symbol])
        return self._prices[symbol]

    def facts(self, symbol: str, as_of: date | None = None) -> pd.DataFrame:
        return self._db.facts(symbol, as_of)

    def reference(self) -> pd.DataFrame:
        return self._db.reference()

    def events(self) -> pd.DataFrame:
        return self._db.events()

    def indicator(self, name: str, key: str) -> pd.DataFrame:
        stored = self._db.indicator(name, key)
        w = self._pending.get((name, key))
        if w is None:
            return stored
        new = w.frame.copy()
        new.index = pd.DatetimeIndex(new.index)
        if w.mode == "replace" or stored.empty:
            return new.sort_index()
        if w.mode == "tail":
            stored = stored[stored.index < pd.Timestamp(w.replace_from)]
        out = new.combine_first(stored) if w.mode == "merge" else pd.concat([stored, new])
        return out.sort_index()


@contextmanager
def _long_lived_objects_frozen() -> Iterator[None]:
    """Leave the objects alive before the block out of the garbage
    collector's full passes while it runs (:func:`gc.freeze`).

    A batch allocates enough to trigger a full pass, which would walk every
    object of the process (modules, caches, a service's state: about 250,000
    in the command line's process, 0.15 s a pass, a tenth of a 100-symbol
    daily update). Objects made inside the block are collected as usual; the
    frozen ones return to the collector afterwards (with two batches in one
    process, when the first ends: the collector's work, never a result, is
    what that changes)."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def run_batch(spec: BatchSpec, universe: Universe | None = None) -> BatchReport:
    """Compute and store one batch (see the module docstring); ``universe``
    stands in for ``spec.universe`` when that is None."""
    with _long_lived_objects_frozen():
        return _run_batch(spec, universe)


def _run_batch(spec: BatchSpec, universe: Universe | None) -> BatchReport:
    from dataclasses import replace

    from db import repo
    from db.session import session_scope

    if spec.universe is None:
        if universe is None:
            raise ValueError("run_batch needs a universe (in the spec or as an argument)")
        spec = replace(spec, universe=universe)
    report = BatchReport(spec.batch_id)
    pending: dict[tuple[str, str], Any] = {}
    with session_scope(spec.url) as read:
        src = BatchSource(read, spec.universe, pending)
        ref = src.reference()
        t0 = time.perf_counter()
        fps = repo.price_fingerprints(read, [*spec.symbols, spec.universe.market_index])
        if spec.full:
            src.preload([*spec.symbols, spec.universe.market_index])
        report.seconds["reads"] = time.perf_counter() - t0
        updates = {} if spec.full else _prepare_updates(spec, read, ref, fps, report.seconds)
        for name in spec.indicators:
            keys = list(spec.keys.get(name, ()))
            if not keys:
                continue
            t0 = time.perf_counter()
            _run_indicator(spec, name, keys, read, src, fps, pending, report,
                           updates.get(name, {}))
            report.seconds[name] = report.seconds.get(name, 0.0) + time.perf_counter() - t0
    t0 = time.perf_counter()
    _store(spec.url, pending, report)
    report.store_seconds = time.perf_counter() - t0
    return report


def _run_indicator(spec: BatchSpec, name: str, keys: list[str], read: Any, src: BatchSource,
                   fps: Mapping[str, tuple[int, float, date | None]],
                   pending: dict[tuple[str, str], Any], report: BatchReport,
                   updates: Mapping[str, Update | None]) -> None:
    from db import repo
    from db.repo import SeriesWrite

    ind = get(name)
    params = spec.params[name]
    phash = params_hash(params)
    upd = UPDATERS.get(name)  # its state is stored after a full computation too
    since_of: dict[str, date | None] = {}
    if not spec.full and (ind.incremental or upd is not None):
        since_of = repo.last_indicator_dates(read, name, keys, phash)
    market = spec.universe.market_index
    for key in keys:
        item = f"{name}/{key}"
        try:
            u = updates.get(key)
            if u is not None:
                last = (pd.DatetimeIndex(u.frame.index).max().date() if not u.frame.empty
                        else None)
                w = SeriesWrite(
                    name, key, params_dict(params), phash, u.frame,
                    u.meta.model_dump(mode="json"), last or since_of.get(key),
                    None if u.events is None else event_rows(u.events), "tail",
                    u.replace_from, {**u.state, "inputs": _inputs(fps, key, market, upd)})
                how = "incremental"
            else:
                since = since_of.get(key) if ind.incremental and not spec.full else None
                if upd is not None:
                    since = None  # an updater's indicator that cannot update recomputes in full
                result: IndicatorResult[Any] = ind.compute(
                    ComputeContext(src, spec.universe, since), key, params)
                check_result(ind, key, result)
                frame = result.frame
                if since is not None and not frame.empty:
                    frame = frame[pd.DatetimeIndex(frame.index) >= pd.Timestamp(since)]
                state = None
                if upd is not None:
                    state = {**upd.state(result, positive_closes(src.prices(key)), params),
                             "inputs": _inputs(fps, key, market, upd)}
                w = SeriesWrite(
                    name, key, params_dict(params), phash, frame,
                    result.meta.model_dump(mode="json"), as_of_date(result) or since,
                    event_rows(result.events), "merge" if since is not None else "replace",
                    None, state)
                how = "since" if since is not None else "full"
                missing = result.meta.missing
                if missing:
                    pending[(name, key)] = w
                    report.outcomes.append(ItemOutcome(item, "ok", 0, str(missing), how,
                                                       quiet=not result.frame.empty))
                    continue
            pending[(name, key)] = w
            report.outcomes.append(ItemOutcome(item, "ok", 0, None, how))
        except InfeasibleTestError as exc:
            report.outcomes.append(ItemOutcome(item, "skipped", 0, f"skipped: {exc}"))
        except Exception as exc:  # one item never stops the others
            msg = f"{type(exc).__name__}: {exc}"
            log.warning("compute %s failed: %s", item, msg)
            log.debug("compute %s", item, exc_info=True)
            report.outcomes.append(ItemOutcome(item, "error", 0, msg))


def _inputs(fps: Mapping[str, tuple[int, float, date | None]], key: str, market: str,
            upd: Updater) -> dict[str, Any]:
    syms = [key, market] if upd.needs_market and key != market else [key]
    return {s: [fps[s][0], fps[s][1], fps[s][2].isoformat() if fps[s][2] else None]
            for s in syms if s in fps}


def _unchanged(stored_fp: Any, now: tuple[int, float, date | None], raw: RawCloses) -> bool:
    """Whether the stored prices up to the fingerprint's last date are the
    ones the stored result was computed from (``raw``: this symbol's raw
    rows read for the update, day numbers and ``adj_close``, reaching back
    before that date)."""
    if not stored_fp or now[2] is None or stored_fp[2] is None:
        return False
    rows, total = int(stored_fp[0]), float(stored_fp[1])
    last = np.datetime64(str(stored_fp[2]), "D").astype(np.int64)
    after = raw.adj_close[raw.days > last]
    return now[0] - after.shape[0] == rows and math.isclose(
        now[1] - float(after.sum()), total, rel_tol=FINGERPRINT_RTOL, abs_tol=1e-12)


def _prepare_updates(spec: BatchSpec, read: Any, ref: pd.DataFrame,
                     fps: Mapping[str, tuple[int, float, date | None]],
                     seconds: dict[str, float]) -> dict[str, dict[str, Update | None]]:
    """Incremental updates of every updater indicator of the batch, for the
    keys with a stored result and unchanged prices: stored metadata, state,
    events and series tails read in bulk per indicator, then the prices of
    every symbol read once, from the earliest date any of its updates needs.
    Adds the reading time to ``seconds["reads"]`` and each indicator's
    updating time to ``seconds[name]``."""
    from db import repo

    t0 = time.perf_counter()
    market = spec.universe.market_index  # type: ignore[union-attr]
    plans = []
    for name in spec.indicators:
        upd = UPDATERS.get(name)
        keys = list(spec.keys.get(name, ()))
        if upd is None or not keys:
            continue
        params = spec.params[name]
        phash = params_hash(params)
        since_of = repo.last_indicator_dates(read, name, keys, phash)
        have = [k for k in keys if since_of.get(k) is not None]
        if not have:
            continue
        metas = repo.indicator_metas(read, name, have, phash)
        states = repo.indicator_states(read, name, have, phash)
        events = repo.indicator_event_lists(read, name, have, phash) if upd.needs_events else {}
        starts = [upd.series_from(since_of[k], params) for k in have]  # type: ignore[arg-type]
        series_start = None if any(x is None for x in starts) else min(starts)  # type: ignore[type-var]
        series = repo.indicator_series(read, name, have, phash, start=series_start)
        stored = {k: Stored(series[k], metas.get(k) or {}, events.get(k, []), states[k],
                            since_of[k])  # type: ignore[arg-type]
                  for k in have if k in series and k in states}
        if stored:
            plans.append((name, upd, params, stored))
    if not plans:
        seconds["reads"] = seconds.get("reads", 0.0) + time.perf_counter() - t0
        return {}
    price_start: dict[str, date] = {}
    for _, upd, params, stored in plans:
        for k, st in stored.items():
            first = upd.prices_from(st, params)
            price_start[k] = min(first, price_start.get(k, first))
    price_start[market] = min(price_start.values())
    frames, raw_by = repo.price_frames(read, list(price_start), start=price_start,
                                       closes_only=True)
    none = repo.RawCloses(np.empty(0, dtype=np.int64), np.empty(0))
    market_closes = positive_closes(frames[market], "close")  # a price index: price-only closes
    seconds["reads"] = seconds.get("reads", 0.0) + time.perf_counter() - t0
    out: dict[str, dict[str, Update | None]] = {}
    for name, upd, params, stored in plans:
        t0 = time.perf_counter()
        res: dict[str, Update | None] = {}
        for k, st in stored.items():
            fp = (st.state or {}).get("inputs") or {}
            syms = [k, market] if upd.needs_market and k != market else [k]
            if not all(s_ in fps and _unchanged(fp.get(s_), fps[s_], raw_by.get(s_, none))
                       for s_ in syms):
                continue  # prices changed (or no fingerprint): full recomputation
            prices = frames[k]
            start = pd.Timestamp(upd.prices_from(st, params))
            if len(prices) and prices.index[0] < start:
                prices = prices[prices.index >= start]
            try:
                res[k] = upd.update(UpdateInputs(
                    k, params, market, prices, market_closes if upd.needs_market else None,
                    ref, st))
            except (ValueError, KeyError, IndexError) as exc:
                log.debug("%s/%s: incremental update failed (%s); recomputing", name, k, exc)
                res[k] = None
        out[name] = res
        seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - t0
    return out


def _store(url: str, pending: Mapping[tuple[str, str], Any], report: BatchReport) -> None:
    """All results of the batch in one transaction (each alone if that fails)."""
    from db import repo
    from db.session import session_scope

    writes = list(pending.values())
    if not writes:
        return
    rows: dict[str, int] = {}
    try:
        with session_scope(url) as s:
            counts = repo.store_indicator_results(s, writes)
        rows = {f"{w.indicator}/{w.key}": n for w, n in zip(writes, counts, strict=True)}
    except Exception as exc:  # noqa: BLE001 - find the write that fails, keep the others
        log.warning("storing batch %s failed (%s: %s); storing its results one by one",
                    report.batch_id, type(exc).__name__, exc)
        for w in writes:
            item = f"{w.indicator}/{w.key}"
            try:
                with session_scope(url) as s:
                    (rows[item],) = repo.store_indicator_results(s, [w])
            except Exception as one:  # noqa: BLE001
                msg = f"{type(one).__name__} while storing: {one}".splitlines()[0]
                _set(report, item, status="error", note=msg)
    for item, n in rows.items():
        _set(report, item, rows=n)


def _set(report: BatchReport, item: str, **changes: Any) -> None:
    for i, o in enumerate(report.outcomes):
        if o.item == item and o.status != "error":
            report.outcomes[i] = ItemOutcome(
                o.item, changes.get("status", o.status), changes.get("rows", o.rows),
                changes.get("note", o.note), o.how, o.quiet)


def make_batches(symbols: Sequence[str], size: int) -> list[list[str]]:
    """``symbols`` in consecutive batches of at most ``size``."""
    size = max(1, int(size))
    return [list(symbols[i:i + size]) for i in range(0, len(symbols), size)]


def batch_size(n_symbols: int, n_workers: int, seconds_per_symbol: float,
               min_task_s: float = 0.1) -> int:
    """Symbols per task: each task at least ``min_task_s`` of work (scheduler
    overhead is ~1 ms a task), and at least four tasks per worker where the
    symbols allow (so a slow batch does not hold the run up)."""
    per_task = max(1, math.ceil(min_task_s / max(seconds_per_symbol, 1e-6)))
    spread = max(1, n_symbols // max(1, 4 * n_workers))
    return int(max(per_task, min(spread, 500)))


__all__ = ["BatchReport", "BatchSpec", "ItemOutcome", "batch_size", "make_batches", "run_batch"]
