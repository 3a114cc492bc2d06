"""Jobs: plain functions the CLI and the scheduler call.

Each job takes the settings, records itself in the run log, and writes each
item (a price file, a symbol, a companyfacts document) in its own
transaction: one bad item never stops the others, and a rejected item leaves
the database exactly as it was.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from bubblewatch.core.errors import (
    BubblewatchError,
    ConfigError,
    IngestError,
    SourceUnavailableError,
)
from bubblewatch.core.settings import Settings
from bubblewatch.core.universe import Universe
from db import repo
from db.freshness import EVALUATION, INDICATORS, PRICES, FreshnessReport
from db.migrate import require_current, upgrade
from db.runlog import RunRecorder, record_run
from db.session import session_scope
from db.upsert import UpsertCounts

if TYPE_CHECKING:
    import pandas as pd

    from ingest.models import FactRow, PriceLimits

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


@dataclass
class IngestReport:
    """What an ingest did, per item (file or symbol)."""

    job: str
    counts: dict[str, UpsertCounts] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    #: item -> the source that served it, where a job has more than one ("yahoo", "nasdaq")
    sources: dict[str, str] = field(default_factory=dict)

    @property
    def total(self) -> UpsertCounts:
        out = UpsertCounts()
        for c in self.counts.values():
            out = out + c
        return out

    @property
    def ok(self) -> bool:
        return not self.errors


def init_db(settings: Settings) -> dict[str, UpsertCounts]:
    """Migrate the database to head and load the universe and reference data."""
    url = settings.resolved_database_url
    upgrade(url)
    out: dict[str, UpsertCounts] = {}
    with session_scope(url) as s:
        out["instruments"] = repo.upsert_instruments(s, settings.universe.instruments)
        from ingest.reference import reference_rows

        figures, events = reference_rows(settings.events)
        out["reference_figures"], out["reference_events"] = repo.upsert_reference(s, figures, events)
    return out


def _ensure_instruments(url: str, universe: Universe) -> None:
    with session_scope(url) as s:
        repo.upsert_instruments(s, universe.instruments)


def _universe(settings: Settings, symbols: Sequence[str] | None) -> Universe:
    u = settings.universe
    if symbols:
        try:
            return u.subset(symbols)
        except KeyError as exc:
            raise ConfigError(str(exc.args[0])) from None
    return u


def ingest_from_dir(settings: Settings, root: Path, symbols: Sequence[str] | None = None,
                    on_item: Progress | None = None,
                    limits: PriceLimits | None = None) -> IngestReport:
    """Load ``root/prices/*.csv`` and ``root/edgar/CIK*.json`` (see :mod:`ingest.local`).

    Each file is validated and written in its own transaction (price files
    chunk by chunk inside it, so memory stays bounded): a bad file is reported
    with its line, field and value and leaves the database as it was, and the
    other files still load. ``limits`` overrides what a bar may hold
    (:class:`ingest.models.PriceLimits`; the documented defaults when None).
    """
    from ingest import local

    url = settings.resolved_database_url
    universe = settings.universe
    if symbols:
        _universe(settings, symbols)  # validates names
    require_current(url)
    _ensure_instruments(url, universe)
    report = IngestReport("ingest_dir")
    query = local.FolderQuery(Path(root), tuple(symbols) if symbols else None)
    prices, facts, problems = local.scan(query, universe)
    report.warnings.extend(problems)
    with record_run(url, "ingest_prices") as rec:
        for f in prices:
            _item(rec, report, str(f.path),
                  lambda f=f: _write_bar_chunks(url, f.symbol, "file",
                                                local.iter_price_chunks(f, limits)))
            if on_item:
                on_item(f.symbol)
        for p in problems:
            rec.fail(p.split(":")[0], p)
    if facts:
        by_cik = {i.cik: i.symbol for i in universe.with_cik}
        with record_run(url, "ingest_fundamentals") as rec:
            for ff in facts:
                _item(rec, report, str(ff.path),
                      lambda ff=ff: _write_facts(url, local.read_facts(ff, by_cik.get(ff.cik))))
                if on_item:
                    on_item(f"CIK{ff.cik:010d}")
    return report


def ingest_yahoo(settings: Settings, symbols: Sequence[str] | None = None,
                 fetch: Callable | None = None, full: bool = False,
                 on_item: Progress | None = None,
                 fallback_client: object | None = None) -> IngestReport:
    """Daily bars from Yahoo for every symbol; incremental from the last stored
    date (minus a week, to pick up corrections) unless ``full``. Symbols are
    downloaded in chunks of ``market.chunk_size`` by ``market.threads``
    threads (:func:`ingest.yahoo.extract_many`; a rate limit pauses them all).

    A symbol Yahoo fails on (no rows, an HTTP error, an answer that does not
    parse) is asked of the fallback source (``market.fallback``: Nasdaq) for
    the same dates. The run log records, per symbol, the ``source`` that
    served it and, for a fallback, ``yahoo_error``; a symbol both fail on is
    one error line naming both reasons, and the run goes on with the others.

    ``fetch`` replaces yfinance (see :data:`ingest.yahoo.Fetch`) and
    ``fallback_client`` the fallback's HTTP client; with ``fetch`` given no
    reachability probe is made.
    """
    from ingest import nasdaq, yahoo
    from ingest.http import check_reachable

    url = settings.resolved_database_url
    market = settings.market
    universe = _universe(settings, symbols)
    if fetch is None:
        check_reachable(market.base_url, "Yahoo Finance")
        fetch = yahoo.yfinance_fetcher(cache_dir=settings.resolved_cache_dir / "yfinance",
                                       timeout_s=market.timeout_s)
    fallback = None
    if market.fallback == "nasdaq":
        fallback = fallback_client or nasdaq.client(
            market.fallback_user_agent, rate=market.fallback_max_requests_per_second,
            timeout_s=market.timeout_s, retries=market.retries, backoff_s=market.backoff_s)
    require_current(url)
    _ensure_instruments(url, settings.universe)
    report = IngestReport("ingest_prices")
    with session_scope(url) as s:
        have = repo.price_counts(s)
    default_start = date.fromisoformat(market.start)
    queries = []
    for ins in universe.instruments:
        last = have.get(ins.symbol, (0, None, None))[2]
        start = default_start if full or last is None else last - timedelta(days=7)
        queries.append(yahoo.YahooQuery(ins.symbol, start))
    try:
        with record_run(url, "ingest_prices") as rec:
            # Yahoo in chunks, several threads at a time; the writes and the
            # fallback stay here, one symbol after another, as before
            chunks = yahoo.extract_many(queries, fetch, threads=market.threads,
                                        chunk_size=market.chunk_size, retries=market.retries,
                                        backoff_s=market.backoff_s)
            for chunk in chunks:
                for q, got in chunk:
                    served: dict[str, str] = {}

                    def work(q: yahoo.YahooQuery = q, got: object = got,
                             served: dict[str, str] = served) -> UpsertCounts:
                        try:
                            if isinstance(got, BaseException):
                                raise got
                            bars, served["source"] = yahoo.transform(q, got), "yahoo"
                        except IngestError as yahoo_exc:
                            if fallback is None:
                                raise
                            nq = nasdaq.NasdaqQuery(q.symbol, q.start,
                                                    base_url=market.fallback_base_url)
                            try:
                                bars = nasdaq.transform(nq, nasdaq.extract(nq, fallback))
                            except IngestError as nasdaq_exc:
                                both_down = (isinstance(yahoo_exc, SourceUnavailableError)
                                             and isinstance(nasdaq_exc, SourceUnavailableError))
                                # neither source reachable: the network is down, stop the run
                                cls = SourceUnavailableError if both_down else IngestError
                                raise cls(f"{yahoo_exc}; then {nasdaq_exc}") from None
                            served.update(source="nasdaq", yahoo_error=str(yahoo_exc))
                            log.warning("%s: served by Nasdaq because Yahoo failed: %s",
                                        q.symbol, yahoo_exc)
                        return _write_bars(url, q.symbol, served["source"], bars)

                    _item(rec, report, q.symbol, work)
                    if q.symbol in report.counts:
                        rec.detail[q.symbol].update(served)
                        report.sources[q.symbol] = served["source"]
                    if on_item:
                        on_item(q.symbol)
    finally:
        if fallback is not None and fallback_client is None:
            fallback.close()  # type: ignore[attr-defined]
    return report


def ingest_edgar(settings: Settings, symbols: Sequence[str] | None = None,
                 client: object | None = None, on_item: Progress | None = None,
                 use_cache: bool = True) -> IngestReport:
    """Companyfacts for every instrument with a CIK (documents downloaded less
    than a day ago are reused from ``<cache_dir>/edgar`` unless ``use_cache`` is
    false).

    Refuses, before any request, to run with the placeholder User-Agent
    (:class:`ConfigError` naming ``BUBBLEWATCH_SEC__USER_AGENT``). Requests are
    spaced for ``sec.max_requests_per_second`` across every process sharing the
    cache folder (see :func:`ingest.edgar.sec_client`).
    """
    from ingest import edgar
    from ingest.http import check_reachable

    edgar.check_user_agent(settings.sec.user_agent)
    url = settings.resolved_database_url
    universe = _universe(settings, symbols)
    own_client = client is None
    if client is None:
        check_reachable(settings.sec.base_url, "SEC EDGAR")
        client = edgar.sec_client(settings.sec, settings.resolved_cache_dir)
    require_current(url)
    _ensure_instruments(url, settings.universe)
    report = IngestReport("ingest_fundamentals")
    cache_dir = settings.resolved_cache_dir / "edgar"
    try:
        with record_run(url, "ingest_fundamentals") as rec:
            for ins in universe.with_cik:
                q = edgar.EdgarQuery(ins.cik, ins.symbol, settings.sec.base_url)  # type: ignore[arg-type]

                def work(q=q) -> UpsertCounts:
                    raw = edgar.extract(q, client, cache_dir if use_cache else None)
                    return _write_facts(url, edgar.transform(q, raw))

                _item(rec, report, ins.symbol, work)
                if on_item:
                    on_item(ins.symbol)
    finally:
        if own_client:
            client.close()  # type: ignore[attr-defined]
    return report


def _item(rec: RunRecorder, report: IngestReport, item: str, work: Callable[[], UpsertCounts]) -> None:
    """Run one item's work; any failure but a source outage is recorded
    against the item (one line, in the run log and the report) and the job
    goes on. Failures that are not bubblewatch's own keep their type in the
    message and their traceback in the DEBUG log."""
    try:
        counts = work()
    except SourceUnavailableError:
        raise
    except BubblewatchError as exc:
        log.debug("%s failed: %s", item, exc)
        message = " ".join(str(exc).splitlines()) or type(exc).__name__
    except Exception as exc:
        log.debug("%s failed unexpectedly", item, exc_info=True)
        message = (f"{item}: unexpected {type(exc).__name__}: {_one_line(str(exc))} "
                   "(nothing of it was stored; run with --log-level DEBUG for the traceback)")
    else:
        rec.ok(item, counts.written, inserted=counts.inserted, updated=counts.updated,
               unchanged=counts.unchanged)
        report.counts[item] = counts
        return
    rec.fail(item, message)
    report.errors[item] = message


def _one_line(text: str, limit: int = 500) -> str:
    """The first line of an error message (database errors append the SQL and
    its parameters on further lines), at most ``limit`` characters."""
    first = text.strip().splitlines()[0] if text.strip() else "(no message)"
    return first if len(first) <= limit else first[: limit - 3] + "..."


def _write_bars(url: str, symbol: str, source: str, bars: pd.DataFrame) -> UpsertCounts:
    with session_scope(url) as s:
        return repo.upsert_bars(s, symbol, source, bars)


def _write_bar_chunks(url: str, symbol: str, source: str,
                      chunks: Iterable[pd.DataFrame]) -> UpsertCounts:
    """Write validated chunks of one file in one transaction: an error while
    reading a later chunk rolls back the earlier ones."""
    total = UpsertCounts()
    with session_scope(url) as s:
        for bars in chunks:
            total = total + repo.upsert_bars(s, symbol, source, bars)
    return total


def _write_facts(url: str, rows: Sequence[FactRow]) -> UpsertCounts:
    with session_scope(url) as s:
        return repo.upsert_facts(s, rows)


# --------------------------------------------------------------------------- backfill
#: The steps of a backfill, in order.
BACKFILL_STEPS = ("init", "prices", "fundamentals", "compute", "alerts")


@dataclass(frozen=True, slots=True)
class StepResult:
    """One step of a backfill: ``status`` is ``ok``, ``partial`` (some items
    failed), ``failed``, or ``skipped`` (not needed, or not possible: the
    summary says why); ``errors`` holds one line per failed item."""

    step: str
    status: str
    summary: str
    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    seconds: float = 0.0
    written: int = 0


@dataclass(frozen=True, slots=True)
class BackfillPlan:
    """Why a backfill is needed (None: the data is current) and where from."""

    reason: str | None
    from_dir: Path | None = None

    @property
    def needed(self) -> bool:
        return self.reason is not None


@dataclass
class BackfillReport:
    """What a backfill did, step by step."""

    plan: BackfillPlan
    steps: list[StepResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return all(s.status in ("ok", "skipped") for s in self.steps)

    def step(self, name: str) -> StepResult | None:
        return next((s for s in self.steps if s.step == name), None)


def plan_backfill(fresh: FreshnessReport, from_dir: Path | None = None) -> BackfillPlan:
    """Whether ``up`` must fill the database before it serves it.

    The database needs a backfill when it holds no prices, or when the
    newest price of an exchange is more than
    :data:`db.freshness.PRICE_LAG_SESSIONS` session behind the last session
    that closed there (``stale``, ``failed`` or ``missing`` in
    :func:`db.freshness.freshness_report`); with a folder given, always (the
    user asked to load it). One current session behind is not stale: the
    scheduler's next daily run brings it.
    """
    if from_dir is not None:
        return BackfillPlan(f"loading {from_dir}", from_dir)
    if not fresh.has_prices:
        return BackfillPlan("the database holds no prices yet")
    behind = [r for r in fresh.of(PRICES) if r.status in ("stale", "failed", "missing")]
    if behind:
        return BackfillPlan("; ".join(f"prices ({r.scope}) end {r.newest:%Y-%m-%d}, "
                                      f"{r.behind_text} behind {r.expected:%Y-%m-%d}"
                                      if r.newest and r.expected else f"prices ({r.scope}) "
                                      f"{r.status}" for r in behind))
    return BackfillPlan(None)


StepHook = Callable[[str, str], None]


def backfill(settings: Settings, plan: BackfillPlan, *, on_step: StepHook | None = None,
             on_done: Callable[[StepResult], None] | None = None,
             on_item: Progress | None = None, show_progress: bool = True,
             fetch: Callable | None = None, edgar_client: object | None = None
             ) -> BackfillReport:
    """Fill the database: reference data, prices and fundamentals for the
    universe, indicators, then alert evaluation (each step in the run log).

    Parameters
    ----------
    settings
        Database, universe and sources.
    plan
        From :func:`plan_backfill`: a folder to load, or the live sources.
    on_step
        Called with ``(step, what it is about to do)`` before each step.
    on_done
        Called with each step's :class:`StepResult` as soon as it is known.
    on_item
        Called after each price file, symbol or companyfacts document.
    show_progress
        Let the compute job draw its progress bar (on a terminal only).
    fetch, edgar_client
        Replace yfinance and the SEC client (tests; see :func:`ingest_yahoo`
        and :func:`ingest_edgar`).

    Returns
    -------
    BackfillReport
        Each step's outcome with one line per failed item. A source that
        cannot be reached (no network, DNS failure) is one failed step and a
        source the settings refuse (the placeholder SEC User-Agent) one
        skipped step; the steps after it go on with what the database has.
        Every item is written in its own transaction, so a failure leaves
        nothing half-written.

    Notes
    -----
    Compute runs when this backfill wrote data, or when the indicators are
    missing or end before the newest price; alert evaluation when compute
    ran, or when the alerts were never evaluated or are behind. Evaluation
    is :func:`alerts.service.evaluate_job` as the scheduler runs it: rules
    evaluated for the first time fire on the current state, and what a
    subscriber is sent on its first evaluation is the alerts package's rule
    (an onboarding digest of the current state, not one message per
    condition).
    """
    report = BackfillReport(plan)
    t_all = time.perf_counter()

    def done(res: StepResult) -> None:
        report.steps.append(res)
        if on_done:
            on_done(res)

    def run(step: str, what: str, work: Callable[[], list[StepResult]]) -> None:
        if on_step:
            on_step(step, what)
        t0 = time.perf_counter()
        try:
            results = work()
        except SourceUnavailableError as exc:
            results = [StepResult(step, "failed", _one_line(str(exc)))]
        except ConfigError as exc:
            results = [StepResult(step, "skipped", _one_line(str(exc)))]
        except BubblewatchError as exc:
            results = [StepResult(step, "failed", _one_line(str(exc)))]
        took = time.perf_counter() - t0
        for i, res in enumerate(results):  # one load serving two steps is timed once
            done(replace(res, seconds=took if i == 0 else 0.0))

    run("init", "creating the tables and loading the reference data",
        lambda: [_init_step(settings)])
    if plan.from_dir is not None:
        folder = plan.from_dir
        run("prices", f"loading price files and companyfacts from {folder}",
            lambda: _folder_steps(settings, folder, on_item))
    else:
        run("prices", "downloading daily prices (Yahoo Finance, Nasdaq as fallback)",
            lambda: [_ingest_step("prices", _logged(settings, "ingest_prices", "yahoo", lambda:
                                                    ingest_yahoo(settings, fetch=fetch,
                                                                 on_item=on_item)),
                                  "symbols")])
        run("fundamentals", "downloading SEC companyfacts",
            lambda: [_ingest_step("fundamentals",
                                  _logged(settings, "ingest_fundamentals", "edgar", lambda:
                                          ingest_edgar(settings, client=edgar_client,
                                                       on_item=on_item)),
                                  "companies")])
    written = sum(s.written for s in report.steps if s.step in ("prices", "fundamentals"))
    fresh = _freshness(settings)
    ind = fresh.of(INDICATORS)[0]
    behind_prices = (ind.newest is not None and fresh.newest_price is not None
                     and ind.newest < fresh.newest_price)
    if not fresh.has_prices:
        done(StepResult("compute", "skipped", "no prices to compute from"))
    elif written or ind.newest is None or behind_prices:
        run("compute", "computing every indicator",
            lambda: [_compute_step(settings, show_progress)])
    else:
        done(StepResult("compute", "skipped", "the indicators reach the newest price"))
    fresh = _freshness(settings)
    ind, ev = fresh.of(INDICATORS)[0], fresh.of(EVALUATION)[0]
    computed = report.step("compute")
    since = ind.last_run is not None and (ev.last_run is None or ind.last_run > ev.last_run)
    if ind.newest is None:
        done(StepResult("alerts", "skipped", "no indicators to evaluate"))
    elif ((computed is not None and computed.status in ("ok", "partial")) or since
          or ev.status in ("never", "failed")):
        run("alerts", "evaluating the alert rules", lambda: [_alerts_step(settings)])
    else:
        done(StepResult("alerts", "skipped", "the alerts were evaluated on the newest "
                                             "indicators"))
    report.seconds = time.perf_counter() - t_all
    return report


def _logged(settings: Settings, job: str, item: str, work: Callable[[], IngestReport]
            ) -> IngestReport:
    """Run an ingest job; a refusal before it opened its run (source
    unreachable, settings refused) is still recorded in the run log as a
    failed run of ``job``, so the freshness table says what failed."""
    url = settings.resolved_database_url
    started = datetime.now(UTC)
    try:
        return work()
    except BubblewatchError as exc:
        with session_scope(url) as s:
            last = repo.last_run(s, job)
            opened = last is not None and _aware(last.started_at) >= started
        if not opened:
            try:
                with record_run(url, job) as rec:
                    rec.fail(item, _one_line(str(exc)))
            except Exception as record_exc:  # noqa: BLE001 - the refusal matters more
                log.warning("could not record the failure of %s: %s", job, record_exc)
        raise


def _aware(t: datetime) -> datetime:
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t


def _freshness(settings: Settings) -> FreshnessReport:
    from db.freshness import freshness_report

    with session_scope(settings.resolved_database_url) as s:
        return freshness_report(s, settings.universe)


def _init_step(settings: Settings) -> StepResult:
    counts = init_db(settings)
    new = sum(c.inserted for c in counts.values())
    what = ", ".join(f"{c.written + c.unchanged} {name.replace('_', ' ')}"
                     for name, c in counts.items())
    return StepResult("init", "ok", f"{what} ({new} new)", written=new)


def _status(errors: Sequence[str], done: int) -> str:
    if not errors:
        return "ok"
    return "partial" if done else "failed"


def _ingest_step(step: str, rep: IngestReport, noun: str) -> StepResult:
    t = rep.total
    errors = tuple(err if err.startswith(item) else f"{item}: {err}"
                   for item, err in rep.errors.items())
    via: dict[str, int] = {}
    for src in rep.sources.values():
        via[src] = via.get(src, 0) + 1
    served = f" (served by {', '.join(f'{k} {n}' for k, n in via.items())})" if via else ""
    return StepResult(step, _status(errors, len(rep.counts)),
                      f"{len(rep.counts)} {noun} loaded, {t.inserted} rows new, {t.updated} "
                      f"updated, {len(errors)} failed{served}", errors, tuple(rep.warnings),
                      written=t.inserted + t.updated)


def _folder_steps(settings: Settings, folder: Path, on_item: Progress | None
                  ) -> list[StepResult]:
    """Load the folder once; its price files and companyfacts files are
    reported as the prices and the fundamentals step."""
    rep = ingest_from_dir(settings, folder, on_item=on_item)
    prices, funds = IngestReport("ingest_prices"), IngestReport("ingest_fundamentals")
    for item, c in rep.counts.items():
        (funds if item.endswith(".json") else prices).counts[item] = c
    for item, err in rep.errors.items():
        (funds if item.endswith(".json") else prices).errors[item] = err
    prices.warnings.extend(rep.warnings)
    out = [_ingest_step("prices", prices, "price files")]
    if funds.counts or funds.errors:
        out.append(_ingest_step("fundamentals", funds, "companyfacts files"))
    else:
        out.append(StepResult("fundamentals", "skipped",
                              f"no companyfacts files (CIK##########.json) in {folder / 'edgar'}"))
    return out


def _compute_step(settings: Settings, show_progress: bool) -> StepResult:
    from indicators.compute import run_compute

    rep = run_compute(settings, show_progress=show_progress)
    errors = tuple(f"{item}: {_one_line(err)}" for item, err in rep.errors.items())
    empty = sum(1 for item in rep.rows if item in rep.notes)
    return StepResult("compute", _status(errors, len(rep.rows)),
                      f"{len(rep.rows)} results ({empty} without data), {rep.total_rows} values "
                      f"written, {len(errors)} failed", errors, written=rep.total_rows)


def _alerts_step(settings: Settings) -> StepResult:
    from alerts.service import evaluate_job

    rep = evaluate_job(settings)
    errors = tuple(f"{rule}/{key}: {_one_line(msg)}" for rule, key, msg in rep.evaluation.errors)
    problems = tuple(_one_line(str(p)) for p in rep.problems)
    n = len(rep.evaluation.outcomes)
    return StepResult("alerts", _status(errors, n),
                      f"{n} rule/key pairs evaluated, {len(rep.alerts)} alert(s) fired, "
                      f"{rep.queued} deliveries queued", errors, problems, written=rep.new_events)
