"""Jobs: plain functions the CLI and the scheduler call.

Each job takes the settings, records itself in the run log, and writes each
item (a price file, a symbol, a companyfacts document) in its own
transaction: one bad item never stops the others, and a rejected item leaves
the database exactly as it was.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from bubblewatch.core.errors import BubblewatchError, IngestError, SourceUnavailableError
from bubblewatch.core.settings import Settings
from bubblewatch.core.universe import Universe
from db import repo
from db.migrate import upgrade
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
            from bubblewatch.core.errors import ConfigError

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
    upgrade(url)
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
    upgrade(url)
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
    upgrade(url)
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
