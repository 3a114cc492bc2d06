"""How fresh the data is: the age of the newest data of each source, measured
against the date it should have reached by now.

One function, :func:`freshness_report`, answers for every reader: the
dashboard's sidebar table, its stale-data banner and Overview panel, ``bubblewatch
status`` and ``bubblewatch up`` (which backfills when it finds the database
empty or stale). It measures **data age**, not how long ago a job ran: a job
that ran an hour ago on a folder of prices that ends in August leaves the
prices months old, and says so.

Sources and their rules
-----------------------
========================  ===================================================
source (scope)            expected date, and when it is stale
========================  ===================================================
Prices (per exchange)     the last session of the exchange that has closed
                          (:mod:`bubblewatch.core.calendar`: holidays and
                          early closes from ``exchange_calendars``). Stale when
                          the exchange's newest price is more than
                          :data:`PRICE_LAG_SESSIONS` session behind it (the
                          evening before the daily run is not stale; a missed
                          day is). ``partial`` when the newest is current but
                          some symbols end earlier or have no prices.
Fundamentals (per         companies report every quarter. The report on the
company)                  quarter after the newest period held is due
                          :data:`QUARTER_REPORT_DAYS` days after that quarter
                          ends, :data:`ANNUAL_REPORT_DAYS` after a fiscal year
                          end (the SEC deadlines of the slowest,
                          non-accelerated filers: Form 10-Q 45 days, 10-K 90
                          days). Stale when at least one report is overdue;
                          the age is the number of quarters missing.
Indicators                the same session as the prices (the market index's
                          exchange). Stale when the newest indicator date is
                          more than :data:`PRICE_LAG_SESSIONS` behind it, or
                          behind the newest price (compute has not caught up).
Alert evaluation          the same session. ``never`` until a rule has been
                          evaluated on data (an alert state exists); stale
                          when the evaluated data is behind, or indicators
                          were computed after the last evaluation.
Alert delivery            ``never`` before alerts were evaluated; ``failed``
                          while deliveries have failed for good; stale when a
                          delivery has been due for more than
                          :data:`DELIVERY_DUE_MINUTES` minutes (nothing is
                          sending: the scheduler is not running).
========================  ===================================================

A source whose last run failed says so (``failed`` when its data is also
missing or stale; otherwise a note in ``detail``), with the error of that run.
Statuses: ``ok``, ``partial``, ``stale``, ``failed``, ``missing`` (no data
yet) and ``never`` (never evaluated). Nothing is ``ok`` for something that
was never done. Every time is timezone-aware UTC.
"""

from __future__ import annotations

import calendar as _cal
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import PurePath
from typing import Any

from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from bubblewatch.core.calendar import Sessions, aware, format_time, sessions
from bubblewatch.core.universe import Instrument, Universe
from db.models import FundamentalFact, IndicatorRun, PriceBar, RunLog

#: Sessions the newest price (and indicator, and evaluated alert) may lag the
#: last closed session before it counts as stale.
PRICE_LAG_SESSIONS = 1
#: Days after a fiscal quarter's end by which its Form 10-Q is due (non-accelerated filers).
QUARTER_REPORT_DAYS = 45
#: Days after a fiscal year's end by which its Form 10-K is due (non-accelerated filers).
ANNUAL_REPORT_DAYS = 90
#: Mean length of a fiscal quarter (days): 365.25 / 4.
QUARTER_DAYS = 91.3125
#: Minutes a due delivery may wait before the outbox counts as stuck.
DELIVERY_DUE_MINUTES = 15
#: Forms whose facts date a company's reporting (periodic reports, amendments included).
PERIODIC_FORMS = ("10-K", "10-Q", "10-K/A", "10-Q/A", "10-KT", "10-QT", "20-F", "40-F")

#: Order of badness, for the status of a group of rows.
SEVERITY = {"ok": 0, "never": 1, "missing": 2, "partial": 3, "stale": 4, "failed": 5}

PRICES, FUNDAMENTALS, INDICATORS = "Prices", "Fundamentals", "Indicators"
EVALUATION, DELIVERY = "Alert evaluation", "Alert delivery"

#: What refreshes each source.
COMMANDS = {
    PRICES: "bubblewatch ingest --source yahoo",
    FUNDAMENTALS: "bubblewatch ingest --source edgar",
    INDICATORS: "bubblewatch compute",
    EVALUATION: "bubblewatch alerts check",
    DELIVERY: "bubblewatch alerts send",
}
JOBS = {PRICES: "ingest_prices", FUNDAMENTALS: "ingest_fundamentals", INDICATORS: "compute",
        EVALUATION: "alerts_evaluate", DELIVERY: "alerts_deliver"}


@dataclass(frozen=True, slots=True)
class Freshness:
    """The age of one source's data.

    Attributes
    ----------
    source, scope
        ``Prices`` per exchange (``XNYS``), ``Fundamentals`` per company
        (symbol), ``Indicators``, ``Alert evaluation``, ``Alert delivery`` (``all``).
    status
        ``ok``, ``partial``, ``stale``, ``failed``, ``missing`` or ``never``.
    newest
        Newest data date held (None when there is none).
    expected
        The date the data should have reached by now (None where it has no
        calendar: delivery).
    behind, unit
        How far ``newest`` lags ``expected``: trading ``sessions``, fiscal
        ``quarters`` or ``minutes``.
    last_run
        When the job that refreshes it last succeeded (UTC; None: never).
    detail
        One line: what is behind, what failed and why.
    command
        What refreshes it.
    last_error
        The error of the last run, where that run failed for this source
        (also in ``detail``).
    """

    source: str
    scope: str
    status: str
    newest: date | None
    expected: date | None
    behind: int | None
    unit: str
    last_run: datetime | None
    detail: str
    command: str
    last_error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def behind_text(self) -> str:
        """``68 sessions``, ``1 quarter``, ``–`` when unknown."""
        if self.behind is None:
            return "–"
        unit = self.unit[:-1] if self.behind == 1 and self.unit.endswith("s") else self.unit
        return f"{self.behind} {unit}"

    @property
    def label(self) -> str:
        """``Prices (XNYS)``, ``Fundamentals (NVDA)``, ``Indicators``."""
        return self.source if self.scope == "all" else f"{self.source} ({self.scope})"


@dataclass(frozen=True, slots=True)
class SymbolFreshness:
    """The newest price of one symbol against its exchange's last closed session."""

    symbol: str
    exchange: str
    rows: int
    first: date | None
    newest: date | None
    expected: date | None
    behind: int | None
    status: str
    error: str | None = None


@dataclass(frozen=True, slots=True)
class FreshnessReport:
    """Every source's freshness at ``now`` (see the module docstring)."""

    now: datetime
    rows: tuple[Freshness, ...]
    symbols: tuple[SymbolFreshness, ...]

    def of(self, source: str) -> list[Freshness]:
        return [r for r in self.rows if r.source == source]

    @property
    def has_prices(self) -> bool:
        return any(s.rows for s in self.symbols)

    @property
    def newest_price(self) -> date | None:
        dates = [s.newest for s in self.symbols if s.newest is not None]
        return max(dates) if dates else None

    @property
    def summary(self) -> tuple[Freshness, ...]:
        """One row per source and exchange: the companies' rows folded into
        one ``Fundamentals`` row (the sidebar's table)."""
        out = [r for r in self.rows if r.source == PRICES]
        funds = self.of(FUNDAMENTALS)
        if funds:
            out.append(fold_companies(funds))
        out += [r for r in self.rows if r.source not in (PRICES, FUNDAMENTALS)]
        return tuple(out)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows)

    def problems(self) -> list[str]:
        """One phrase per summary row that is not ok, e.g. ``prices (XNYS)
        stale: newest 2026-08-21, 68 sessions behind 2026-11-27``."""
        return [f"{r.source.lower()}{'' if r.scope == 'all' else f' ({r.scope})'} {r.status}: "
                f"{r.detail}" for r in self.summary if not r.ok]


# --------------------------------------------------------------------------- the report
def freshness_report(session: Session, universe: Universe,
                     now: datetime | None = None) -> FreshnessReport:
    """Measure every source's data age at ``now`` (default: the current time).

    Parameters
    ----------
    session
        A session on a migrated database (only reads).
    universe
        Which symbols and companies are expected, and on which exchange.
    now
        The time to measure at (timezone-aware; naive means UTC).

    Returns
    -------
    FreshnessReport
        Rows in the order prices (per exchange), fundamentals (per company),
        indicators, alert evaluation, alert delivery; and one row per symbol.
    """
    now = aware(now or datetime.now(UTC)).astimezone(UTC)
    runs = _runs(session)
    symbols, price_rows = _prices(session, universe, now, runs.get(JOBS[PRICES]))
    newest_price = max((s.newest for s in symbols if s.newest), default=None)
    index_exchange = _exchange_of(universe, universe.market_index)
    market = sessions(index_exchange, until=now.date())
    expected = market.last_closed(now)
    rows = [*price_rows,
            *_fundamentals(session, universe, now, runs.get(JOBS[FUNDAMENTALS])),
            _indicators(session, market, expected, newest_price, runs.get(JOBS[INDICATORS]))]
    rows += _alerts(session, now, market, expected, runs)
    return FreshnessReport(now, tuple(rows), tuple(symbols))


def fold_companies(rows: Sequence[Freshness]) -> Freshness:
    """The companies' fundamentals rows as one row: the worst status (``partial``
    when some are current and the rest were never loaded), the newest date,
    and who is behind or missing."""
    current = [r for r in rows if r.ok]
    missing = [r for r in rows if r.newest is None]
    behind = [r for r in rows if r.newest is not None and not r.ok]
    if len(current) == len(rows):
        status = "ok"
    elif current and not behind and all(r.status == "missing" for r in missing):
        status = "partial"
    else:
        status = max((r.status for r in rows), key=SEVERITY.__getitem__)
    parts = [(f"{len(rows) - len(missing)} of {len(rows)} companies loaded, "
              f"{len(current)} current")]
    if behind:
        parts.append("behind: " + ", ".join(f"{r.scope} {r.behind_text}" for r in behind))
    if missing:
        parts.append("never loaded: " + ", ".join(r.scope for r in missing))
    errors = list(dict.fromkeys(r.last_error for r in rows if r.last_error))
    if errors:
        parts.append("last run failed: " + "; ".join(errors[:2]))
    newest = max((r.newest for r in rows if r.newest), default=None)
    last = max((r.last_run for r in rows if r.last_run), default=None)
    lag = max((r.behind for r in rows if r.behind is not None), default=None)
    return Freshness(FUNDAMENTALS, "all", status, newest, None, lag, "quarters", last,
                     "; ".join(parts), COMMANDS[FUNDAMENTALS], errors[0] if errors else None)


# --------------------------------------------------------------------------- run log
@dataclass(frozen=True, slots=True)
class _Run:
    status: str
    finished: datetime | None
    error: str | None
    failed_items: dict[str, str]
    last_ok: datetime | None


def _runs(session: Session) -> dict[str, _Run]:
    out: dict[str, _Run] = {}
    for job in JOBS.values():
        last = session.scalar(select(RunLog).where(RunLog.job == job, RunLog.status != "running")
                              .order_by(RunLog.started_at.desc(), RunLog.id.desc()).limit(1))
        if last is None:
            continue
        ok = session.scalar(select(func.max(RunLog.finished_at))
                            .where(RunLog.job == job, RunLog.status.in_(["ok", "partial"])))
        failed = {str(k): str(v.get("error", "")) for k, v in (last.detail or {}).items()
                  if isinstance(v, dict) and v.get("status") == "failed"}
        out[job] = _Run(last.status, _utc(last.finished_at), last.error, failed, _utc(ok))
    return out


def _run_note(run: _Run | None) -> str:
    """``; last run 2026-11-29 11:02 UTC failed: ...`` (empty when it went well)."""
    if run is None or run.status == "ok":
        return ""
    when = format_time(run.finished)
    if run.status == "partial":
        first = next(iter(run.failed_items.items()))
        return (f"; last run {when}: {len(run.failed_items)} failed ({_one_line(first[0])}: "
                f"{_one_line(first[1], 160)})")
    return f"; last run {when} {run.status}: {_one_line(run.error or 'no error recorded', 200)}"


def _run_error(run: _Run | None) -> str | None:
    """The error of a last run that failed as a whole (None otherwise)."""
    if run is None or run.status != "failed":
        return None
    return _one_line(run.error or "no error recorded", 200)


# --------------------------------------------------------------------------- prices
def _exchange_of(universe: Universe, symbol: str) -> str:
    try:
        return universe.get(symbol).exchange
    except KeyError:
        return "XNYS"


def _expected_for(ins: Instrument, expected: date) -> bool:
    return ins.listed is None or ins.listed <= expected


def _symbol_error(ins: Instrument, run: _Run | None) -> str | None:
    """The error of ``ins``'s item in the last run: the item is its symbol
    (live sources) or its file (``prices/NVDA.csv``, ``edgar/CIK0001045810.json``)."""
    if run is None:
        return None
    names = {ins.symbol.upper(), ins.file_stem.upper()}
    if ins.cik is not None:
        names.add(f"CIK{ins.cik:010d}")
    for item, err in run.failed_items.items():
        path = PurePath(item)
        stem = path.stem if path.suffix.lower() in (".csv", ".json") else item
        if stem.upper() in names:
            return _one_line(err, 200)
    return None


def _prices(session: Session, universe: Universe, now: datetime, run: _Run | None
            ) -> tuple[list[SymbolFreshness], list[Freshness]]:
    q = select(PriceBar.symbol, func.count(), func.min(PriceBar.date),
               func.max(PriceBar.date)).group_by(PriceBar.symbol)
    have = {s: (int(n), lo, hi) for s, n, lo, hi in session.execute(q)}
    by_exchange: dict[str, list[Instrument]] = {}
    for ins in universe.instruments:
        by_exchange.setdefault(ins.exchange, []).append(ins)
    symbols: list[SymbolFreshness] = []
    rows: list[Freshness] = []
    for exchange, members in by_exchange.items():
        oldest = min((have[i.symbol][2] for i in members if i.symbol in have), default=None)
        cal = sessions(exchange, since=oldest, until=now.date())
        expected = cal.last_closed(now)
        mine: list[SymbolFreshness] = []
        for ins in members:
            n, first, newest = have.get(ins.symbol, (0, None, None))
            if newest is None:
                status, behind = ("missing" if _expected_for(ins, expected) else "ok"), None
            else:
                behind = cal.count_after(newest, expected)
                status = "ok" if behind <= PRICE_LAG_SESSIONS else "stale"
            mine.append(SymbolFreshness(ins.symbol, exchange, n, first, newest, expected, behind,
                                        status, _symbol_error(ins, run)))
        symbols += mine
        rows.append(_exchange_row(exchange, mine, expected, cal, run))
    return symbols, rows


def _exchange_row(exchange: str, mine: Sequence[SymbolFreshness], expected: date,
                  cal: Sessions, run: _Run | None) -> Freshness:
    dated = [s for s in mine if s.newest is not None]
    last_ok = run.last_ok if run else None
    if not dated:
        status = "failed" if run is not None and run.status == "failed" else "missing"
        return Freshness(PRICES, exchange, status, None, expected, None, "sessions", last_ok,
                         f"no prices for any of {len(mine)} symbols" + _run_note(run),
                         COMMANDS[PRICES], _run_error(run))
    newest = max(s.newest for s in dated)  # type: ignore[type-var]
    behind = cal.count_after(newest, expected)
    lagging = [s for s in mine if s.status != "ok"]
    parts = [(f"newest {newest:%Y-%m-%d}, {behind} session{'s' * (behind != 1)} behind "
              f"{expected:%Y-%m-%d} (the last {exchange} session closed)")]
    earlier = [s for s in lagging if s.newest != newest]
    if earlier:
        names = ", ".join(f"{s.symbol} {s.newest:%Y-%m-%d}" if s.newest else f"{s.symbol} none"
                          for s in earlier)
        parts.append(f"{len(earlier)} of {len(mine)} symbols end earlier: {names}")
    failed_syms = [s for s in mine if s.error]
    if failed_syms:
        parts.append("failed: " + "; ".join(f"{s.symbol}: {s.error}" for s in failed_syms[:3]))
    if behind > PRICE_LAG_SESSIONS:
        status = "failed" if run is not None and run.status == "failed" else "stale"
    else:
        status = "partial" if lagging else "ok"
    return Freshness(PRICES, exchange, status, newest, expected, behind, "sessions", last_ok,
                     "; ".join(parts) + ("" if failed_syms else _run_note(run)),
                     COMMANDS[PRICES], _run_error(run))


# --------------------------------------------------------------------------- fundamentals
def _is_year_end(period_end: date, fye_month: int) -> bool:
    """Whether a fiscal period ending about ``period_end`` closes the fiscal
    year (within 20 days of the end of month ``fye_month``: 52/53-week years
    end on a weekday near the month's end, and the quarter grid drifts)."""
    for year in (period_end.year - 1, period_end.year, period_end.year + 1):
        end = date(year, fye_month, _cal.monthrange(year, fye_month)[1])
        if abs((period_end - end).days) <= 20:
            return True
    return False


def reports_overdue(newest_period: date, today: date, fye_month: int = 12
                    ) -> tuple[int, date, date]:
    """Fiscal quarters after ``newest_period`` whose report is overdue on ``today``.

    Parameters
    ----------
    newest_period
        End of the newest fiscal period the company's reports hold.
    today
        The day to judge on.
    fye_month
        Month (1-12) in which the fiscal year ends (its report has the longer deadline).

    Returns
    -------
    (overdue, expected_period, next_due)
        How many quarterly reports are overdue; the end of the newest period
        that should be reported by ``today`` (``newest_period`` when none is
        overdue); when the next report falls due.
    """
    k = 0
    while True:
        period = newest_period + timedelta(days=round((k + 1) * QUARTER_DAYS))
        due = period + timedelta(days=ANNUAL_REPORT_DAYS if _is_year_end(period, fye_month)
                                 else QUARTER_REPORT_DAYS)
        if due > today:
            expected = (newest_period if k == 0
                        else newest_period + timedelta(days=round(k * QUARTER_DAYS)))
            return k, expected, due
        k += 1


def _fundamentals(session: Session, universe: Universe, now: datetime, run: _Run | None
                  ) -> list[Freshness]:
    companies = universe.with_cik
    if not companies:
        return []
    q = (select(FundamentalFact.cik, func.max(FundamentalFact.period_end),
                func.max(FundamentalFact.filed))
         .where(FundamentalFact.form.in_(PERIODIC_FORMS), FundamentalFact.taxonomy != "dei")
         .group_by(FundamentalFact.cik))
    have = {int(c): (p, f) for c, p, f in session.execute(q)}
    any_facts = {int(c) for c in session.scalars(select(FundamentalFact.cik).distinct())}
    today = now.date()
    last_ok = run.last_ok if run else None
    run_failed = _run_error(run)
    out = []
    for ins in companies:
        period, filed = have.get(int(ins.cik), (None, None))  # type: ignore[arg-type]
        err = _symbol_error(ins, run) or run_failed
        if period is None:
            why = ("facts loaded, but none from a periodic report (10-Q, 10-K)"
                   if ins.cik in any_facts else "no companyfacts loaded")
            status = "failed" if err else "missing"
            out.append(Freshness(FUNDAMENTALS, ins.symbol, status, None, None, None, "quarters",
                                 None, why + (f"; last run failed: {err}" if err else ""),
                                 COMMANDS[FUNDAMENTALS], err))
            continue
        overdue, expected, due = reports_overdue(period, today, ins.fiscal_year_end)
        detail = f"periods to {period:%Y-%m-%d} (filed {filed:%Y-%m-%d}); "
        if overdue:
            detail += (f"{overdue} quarterly report{'s' * (overdue != 1)} overdue, the newest "
                       f"for the quarter ending about {expected:%Y-%m-%d}")
        else:
            detail += f"next report due by about {due:%Y-%m-%d}"
        if err:
            detail += f"; last run failed: {err}"
        status = ("failed" if err else "stale") if overdue else "ok"
        out.append(Freshness(FUNDAMENTALS, ins.symbol, status, period, expected, overdue,
                             "quarters", last_ok, detail, COMMANDS[FUNDAMENTALS], err))
    return out


# --------------------------------------------------------------------------- indicators
def _indicators(session: Session, market: Sessions, expected: date, newest_price: date | None,
                run: _Run | None) -> Freshness:
    newest, series = session.execute(
        select(func.max(IndicatorRun.last_date),
               func.count(func.distinct(IndicatorRun.indicator + "/" + IndicatorRun.key)))
    ).one()
    last_ok = run.last_ok if run else None
    if newest is None:
        status = "failed" if run is not None and run.status == "failed" else "missing"
        return Freshness(INDICATORS, "all", status, None, expected, None, "sessions", last_ok,
                         "never computed" + _run_note(run), COMMANDS[INDICATORS],
                         _run_error(run))
    behind = market.count_after(newest, expected)
    detail = (f"{series} series, newest {newest:%Y-%m-%d}, {behind} session"
              f"{'s' * (behind != 1)} behind {expected:%Y-%m-%d}")
    late = newest_price is not None and newest < newest_price
    if late:
        detail += f"; prices reach {newest_price:%Y-%m-%d}: compute has not caught up"
    if behind > PRICE_LAG_SESSIONS or late:
        status = "failed" if run is not None and run.status == "failed" else "stale"
    else:
        status = "ok"
    return Freshness(INDICATORS, "all", status, newest, expected, behind, "sessions", last_ok,
                     detail + _run_note(run), COMMANDS[INDICATORS], _run_error(run))


# --------------------------------------------------------------------------- alerts
def _alerts(session: Session, now: datetime, market: Sessions, expected: date,
            runs: dict[str, _Run]) -> list[Freshness]:
    names = set(inspect(session.get_bind()).get_table_names())
    if not {"alert_state", "alert_delivery"} <= names:
        why = "the alert tables do not exist yet: run `bubblewatch db-upgrade`"
        return [Freshness(s, "all", "missing", None, None, None, "", None, why, COMMANDS[s])
                for s in (EVALUATION, DELIVERY)]
    from db.alerts_models import AlertDelivery, AlertState

    ev_run, dl_run = runs.get(JOBS[EVALUATION]), runs.get(JOBS[DELIVERY])
    n_states, as_of, updated = session.execute(
        select(func.count(), func.max(AlertState.as_of), func.max(AlertState.updated_at))).one()
    if not n_states:
        failed = ev_run is not None and ev_run.status == "failed"
        why = "alerts never evaluated on data" + (_run_note(ev_run) if failed else "")
        return [
            Freshness(EVALUATION, "all", "failed" if failed else "never", None, expected, None,
                      "sessions", None, why, COMMANDS[EVALUATION], _run_error(ev_run)),
            Freshness(DELIVERY, "all", "never", None, None, None, "", None,
                      "nothing to deliver: alerts never evaluated", COMMANDS[DELIVERY]),
        ]
    evaluated = max((t for t in (_utc(updated), ev_run.last_ok if ev_run else None) if t),
                    default=None)
    compute = runs.get(JOBS[INDICATORS])
    computed = compute.last_ok if compute else None
    behind = market.count_after(as_of, expected) if as_of else None
    detail = (f"{n_states} rule/key states, evaluated {format_time(evaluated)} on data to "
              f"{as_of:%Y-%m-%d}" if as_of else f"{n_states} rule/key states")
    late = computed is not None and evaluated is not None and computed > evaluated
    if late:
        detail += f"; indicators computed since ({format_time(computed)})"
    if (behind is not None and behind > PRICE_LAG_SESSIONS) or late:
        status = "failed" if ev_run is not None and ev_run.status == "failed" else "stale"
    else:
        status = "ok"
    rows = [Freshness(EVALUATION, "all", status, as_of, expected, behind, "sessions", evaluated,
                      detail + _run_note(ev_run), COMMANDS[EVALUATION], _run_error(ev_run))]

    counts = dict(session.execute(select(AlertDelivery.status, func.count())
                                  .group_by(AlertDelivery.status)).all())
    sent_at = _utc(session.scalar(select(func.max(AlertDelivery.sent_at))))
    due_before = now - timedelta(minutes=DELIVERY_DUE_MINUTES)
    oldest_due = _utc(session.scalar(
        select(func.min(AlertDelivery.next_attempt_at))
        .where(AlertDelivery.status == "pending")))
    n_failed, n_pending, n_sent = (int(counts.get(k, 0)) for k in ("failed", "pending", "sent"))
    parts = [f"{n_sent} sent" + (f", newest {format_time(sent_at)}" if sent_at else ""),
             f"{n_pending} waiting", f"{n_failed} failed"]
    waiting = None
    if n_pending and oldest_due is not None and oldest_due < due_before:
        waiting = int((now - oldest_due).total_seconds() // 60)
    if n_failed:
        err = session.scalar(select(AlertDelivery.last_error)
                             .where(AlertDelivery.status == "failed")
                             .order_by(AlertDelivery.id.desc()).limit(1))
        status = "failed"
        parts.append(f"last error: {_one_line(err or 'none recorded', 160)}; fix the channel, "
                     "then `bubblewatch alerts send --retry-failed`")
    elif waiting is not None:
        status = "stale"
        parts.append(f"due since {format_time(oldest_due)}: nothing is sending them (is the "
                     "scheduler running?)")
    else:
        status = "ok"
        if not counts:
            parts = ["nothing queued yet: no alert has fired for a subscriber"]
    rows.append(Freshness(DELIVERY, "all", status, sent_at.date() if sent_at else None, None,
                          waiting, "minutes", dl_run.last_ok if dl_run else None,
                          "; ".join(parts) + ("" if n_failed else _run_note(dl_run)),
                          COMMANDS[DELIVERY]))
    return rows


# --------------------------------------------------------------------------- helpers
def _utc(ts: Any) -> datetime | None:
    if ts is None:
        return None
    return aware(ts).astimezone(UTC)


def _one_line(text: str, limit: int = 120) -> str:
    first = " ".join(str(text).split())
    return first if len(first) <= limit else first[: limit - 3] + "..."


def worst(statuses: Iterable[str]) -> str:
    """The worst of ``statuses`` (``ok`` for none)."""
    return max(statuses, key=SEVERITY.__getitem__, default="ok")
