"""The ``bubblewatch`` command line.

Thin commands: read settings, call a job in :mod:`bubblewatch.app.jobs`, print
what happened. The indicator, alert and dashboard commands live beside this
module and are mounted in :mod:`bubblewatch.app.cli`.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from bubblewatch.app.cli.common import App, cli_errors, split_list
from bubblewatch.core.console import configure_logging, console, err_console, progress
from bubblewatch.core.errors import ConfigError
from bubblewatch.core.settings import check_log_level, get_settings

log = logging.getLogger(__name__)

app = App(
    name="bubblewatch",
    help="Watch the AI build-out against the dot-com build-out: ingest, compute, alert, show.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

class Source(str, Enum):
    yahoo = "yahoo"
    edgar = "edgar"
    all = "all"


@app.callback()
def main(
    log_level: Annotated[str | None, typer.Option(
        metavar="LEVEL", help="DEBUG, INFO, WARNING or ERROR.")] = None,
) -> None:
    with cli_errors():
        level = get_settings().log_level
        if log_level is not None:
            try:
                level = check_log_level(log_level)
            except ValueError as exc:
                raise ConfigError(f"--log-level: {exc}") from None
        configure_logging(level)


@app.command()
def init() -> None:
    """Create or migrate the database and load the universe and reference data."""
    from bubblewatch.app.jobs import init_db
    from db.session import masked_url

    with cli_errors():
        settings = get_settings()
        counts = init_db(settings)
        console.print(f"database ready: {escape(masked_url(settings.resolved_database_url))}",
                      highlight=False)
        for what, c in counts.items():
            console.print(f"  {what}: {c.inserted} new, {c.updated} updated, {c.unchanged} unchanged")


@app.command("db-upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Run database migrations (to head by default)."""
    from db.migrate import current_revision, upgrade

    with cli_errors():
        url = get_settings().resolved_database_url
        upgrade(url, revision)
        console.print(f"database at revision {current_revision(url)}")


@app.command()
def ingest(
    source: Annotated[Source, typer.Option(help="Live source to pull from.")] = Source.all,
    from_dir: Annotated[Path | None, typer.Option(
        "--from-dir", metavar="DIR", help="Load DIR/prices/*.csv and DIR/edgar/CIK*.json instead (offline).",
        file_okay=False)] = None,
    symbols: Annotated[str | None, typer.Option(
        metavar="A,B", help="Comma-separated symbols (default: all).")] = None,
    full: Annotated[bool, typer.Option(help="Re-download full history (Yahoo).")] = False,
) -> None:
    """Pull prices and fundamentals into the database (idempotent)."""
    with cli_errors():
        settings = get_settings()
        syms = split_list(symbols)
        if from_dir is None:
            # fail fast (before the heavy imports) when the network is unreachable
            from ingest.http import check_reachable

            if source in (Source.yahoo, Source.all):
                check_reachable(settings.market.base_url, "Yahoo Finance")
            if source in (Source.edgar, Source.all):
                check_reachable(settings.sec.base_url, "SEC EDGAR")
        from bubblewatch.app import jobs

        reports = []
        with progress() as bar:
            if from_dir is not None:
                task = bar.add_task(f"loading {from_dir}", total=None)
                reports.append(jobs.ingest_from_dir(settings, from_dir, syms,
                                                    on_item=lambda _i: bar.advance(task)))
            else:
                if source in (Source.yahoo, Source.all):
                    n = len(settings.universe.subset(syms).instruments if syms else settings.universe.instruments)
                    task = bar.add_task("Yahoo prices", total=n)
                    reports.append(jobs.ingest_yahoo(settings, syms, full=full,
                                                     on_item=lambda _i: bar.advance(task)))
                if source in (Source.edgar, Source.all):
                    task = bar.add_task("SEC companyfacts", total=None)
                    reports.append(jobs.ingest_edgar(settings, syms,
                                                     on_item=lambda _i: bar.advance(task)))
        failed = False
        for rep in reports:
            for item, c in rep.counts.items():
                console.print(f"[green]ok[/]     {escape(item)}: {c.inserted} new, {c.updated} "
                              f"updated, {c.unchanged} unchanged", soft_wrap=True)
            for item, err in rep.errors.items():
                failed = True
                line = err if err.startswith(item) else f"{item}: {err}"
                err_console.print(f"[red]failed[/] {escape(line)}", soft_wrap=True)
            for w in rep.warnings:
                err_console.print(f"[yellow]skipped[/] {escape(w)}", soft_wrap=True)
            t = rep.total
            console.print(f"{rep.job}: {t.inserted} rows new, {t.updated} updated, "
                          f"{t.unchanged} unchanged, {len(rep.errors)} failed")
        if failed:
            raise typer.Exit(1)


@app.command()
def status(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """How fresh the data is (per source, against the trading calendar), per
    symbol (rows, dates, sessions behind) and the last run of each job."""
    from bubblewatch.core.calendar import format_time
    from db import repo
    from db.freshness import freshness_report
    from db.migrate import require_current
    from db.runlog import close_stale_runs
    from db.session import masked_url, session_scope

    with cli_errors():
        settings = get_settings()
        universe = settings.universe  # settings problems first, before the database
        url = settings.resolved_database_url
        require_current(url)
        close_stale_runs(url)
        with session_scope(url) as s:
            fresh = freshness_report(s, universe)
            facts = repo.fact_counts(s)
            runs = {job: repo.last_run(s, job) for job in
                    ("ingest_prices", "ingest_fundamentals", "compute", "alerts_evaluate",
                     "alerts_deliver")}
        symbols = [{
            "symbol": f.symbol, "exchange": f.exchange, "price_rows": f.rows,
            "first_date": _iso(f.first), "last_date": _iso(f.newest),
            "expected_date": _iso(f.expected), "sessions_behind": f.behind, "status": f.status,
            "error": f.error,
            "facts": facts.get(ins.cik, (0, None, None))[0] if ins.cik else 0,
        } for f in fresh.symbols for ins in [universe.get(f.symbol)]]
        jobs = {
            job: None if r is None else {
                "status": r.status, "started_at": _utc_iso(r.started_at),
                "finished_at": _utc_iso(r.finished_at), "rows": r.rows, "error": r.error,
            }
            for job, r in runs.items()
        }
        freshness = [{
            "source": r.source, "scope": r.scope, "status": r.status,
            "newest": _iso(r.newest), "expected": _iso(r.expected), "behind": r.behind,
            "unit": r.unit, "last_run": _utc_iso(r.last_run), "detail": r.detail,
            "command": r.command,
        } for r in fresh.rows]
        if as_json:
            sys.stdout.write(json.dumps({
                "database": masked_url(url), "now": _utc_iso(fresh.now),
                "freshness": freshness, "problems": fresh.problems(), "symbols": symbols,
                "jobs": jobs}, indent=2) + "\n")
            return
        ft = Table(title=f"data freshness at {format_time(fresh.now)} "
                         f"({escape(masked_url(url))})")
        for col in ("source", "status", "newest", "expected", "behind", "last run", "detail"):
            ft.add_column(col, overflow="fold", no_wrap=col != "detail",
                          min_width=20 if col == "detail" else None)
        for r in fresh.rows:
            ft.add_row(escape(r.label), _coloured(r.status), _iso(r.newest) or "-",
                       _iso(r.expected) or "-", r.behind_text, format_time(r.last_run),
                       escape(r.detail))
        console.print(ft)
        table = Table(title="prices per symbol")
        for col in ("symbol", "exchange", "price rows", "first", "last", "behind", "status",
                    "facts"):
            table.add_column(col, justify="right" if col in ("price rows", "facts", "behind")
                             else "left")
        for row in symbols:
            table.add_row(row["symbol"], row["exchange"], str(row["price_rows"]),
                          row["first_date"] or "-", row["last_date"] or "-",
                          "-" if row["sessions_behind"] is None
                          else f"{row['sessions_behind']} sessions",
                          _coloured(row["status"]), str(row["facts"]))
        console.print(table)
        jt = Table(title="last runs")
        for col in ("job", "status", "started", "rows", "error"):
            jt.add_column(col)
        for job, r in jobs.items():
            if r is None:
                jt.add_row(job, "never", "-", "-", "")
            else:
                jt.add_row(job, _coloured(r["status"]), format_time(runs[job].started_at),
                           str(r["rows"]), escape((r["error"] or "")[:80]))
        console.print(jt)
        for line in fresh.problems():
            console.print(f"[yellow]not fresh[/] {escape(line)}", soft_wrap=True)


_STATUS_COLOUR = {"ok": "green", "partial": "yellow", "stale": "yellow", "failed": "red",
                  "missing": "bright_black", "never": "bright_black"}


def _coloured(status: str) -> str:
    return f"[{_STATUS_COLOUR.get(status, 'red')}]{status}[/]"


def _iso(d: object) -> str | None:
    return None if d is None else d.isoformat()  # type: ignore[attr-defined]


def _utc_iso(t: object) -> str | None:
    from bubblewatch.core.calendar import aware

    return None if t is None else aware(t).isoformat()  # type: ignore[arg-type]


@app.command()
def schedule() -> None:
    """Run the scheduler in the foreground (Ctrl-C or SIGTERM stops it)."""
    from bubblewatch.app.scheduler import exit_now, run_scheduler

    with cli_errors():
        if run_scheduler(get_settings()):
            exit_now(0)


@app.command()
def up(
    from_dir: Annotated[Path | None, typer.Option(
        "--from-dir", help="Fill the database from DIR/prices/*.csv and DIR/edgar/CIK*.json "
                           "instead of the live sources (offline, air-gapped).",
        file_okay=False)] = None,
    host: Annotated[str | None, typer.Option(
        help="Dashboard address (default: settings dashboard.host, 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(
        help="Dashboard port (default: settings dashboard.port, 8501).", min=1,
        max=65535)] = None,
    backfill: Annotated[bool, typer.Option(
        "--backfill/--no-backfill",
        help="Fill an empty or stale database before serving it (default), or serve what "
             "it has and leave the rest to the scheduler.")] = True,
) -> None:
    """Fill an empty or stale database, then serve the dashboard and run the
    scheduler (Ctrl-C or SIGTERM stops both).

    The database is stale when the newest price of an exchange is more than
    one session behind the last session that closed there. The backfill runs
    init, prices and fundamentals, compute and alert evaluation, printing each
    step; then the dashboard address (once it answers) and the next run of
    each scheduled job.
    """
    from bubblewatch.app.scheduler import (
        StopSignal,
        exit_now,
        lease_kept,
        run_scheduler,
        signals_held,
        stop_on_signals,
        take_lease,
    )
    from db.migrate import upgrade
    from db.runlog import close_stale_runs
    from db.session import masked_url

    abandoned, interrupted = False, None
    with cli_errors(), stop_on_signals():
        t_start = time.monotonic()
        settings = get_settings()
        if from_dir is not None and not from_dir.is_dir():
            raise ConfigError(f"--from-dir {from_dir}: no such folder; give the folder that "
                              "holds prices/*.csv and edgar/CIK##########.json")
        url = settings.resolved_database_url
        h, p = host or settings.dashboard.host, port or settings.dashboard.port
        upgrade(url)
        close_stale_runs(url)
        lease = take_lease(url)
        server = None
        from dashboard.server import start_dashboard, stop_dashboard, wait_until_ready

        try:
            try:
                log_file = settings.data_dir / "dashboard.log"
                server = start_dashboard(settings, host=h, port=p, log_file=log_file)
                console.print(f"bubblewatch up on {escape(masked_url(url))}", highlight=False,
                              soft_wrap=True)
                if backfill:
                    with lease_kept(lease):
                        _up_backfill(settings, from_dir)
                fresh = _up_freshness(settings)
                waited = wait_until_ready(server, h, p, timeout=180)
                _print_next_runs(settings)
                shown = "127.0.0.1" if h in ("0.0.0.0", "") else h
                console.print(f"dashboard on [bold]http://{shown}:{p}[/] (answering; "
                              f"{time.monotonic() - t_start:.0f} s after the start, server log "
                              f"{escape(str(log_file))}); Ctrl-C or SIGTERM stops the dashboard "
                              "and the scheduler", highlight=False, soft_wrap=True)
                log.debug("dashboard ready after %.1f s of waiting; %d sources not fresh",
                          waited, len(fresh.problems()))
                abandoned = run_scheduler(settings, lease=lease)
            except KeyboardInterrupt as exc:  # a stop before the scheduler ran
                interrupted = (f"stopped by {exc}" if isinstance(exc, StopSignal)
                               else "stopped by Ctrl-C")
        finally:
            with signals_held():
                if server is not None:
                    stop_dashboard(server)
                lease.release()
                if interrupted:
                    err_console.print(
                        f"{interrupted} before the scheduler started; what was written is kept "
                        "(each item in its own transaction) and the next `bubblewatch up` goes "
                        "on from there; dashboard stopped, lease released", highlight=False,
                        soft_wrap=True)
    if abandoned:
        exit_now(0)


def _up_backfill(settings, from_dir: Path | None) -> None:  # type: ignore[no-untyped-def]
    """Fill the database when :func:`plan_backfill` says so, printing each step."""
    from bubblewatch.app.jobs import BACKFILL_STEPS, backfill, plan_backfill

    fresh = _freshness(settings)
    plan = plan_backfill(fresh, from_dir)
    if not plan.needed:
        newest = fresh.newest_price
        console.print(f"data is current (newest price {newest:%Y-%m-%d}): no backfill needed",
                      highlight=False, soft_wrap=True)
        return
    console.print(f"backfill: {escape(plan.reason or '')}; filling the database now",
                  highlight=False, soft_wrap=True)
    n = 4 if from_dir is not None else len(BACKFILL_STEPS)
    announced: list[str] = []

    def on_step(step: str, what: str) -> None:
        announced.append(step)
        console.print(f"[{len(announced)}/{n}] {step}: {escape(what)} ...", highlight=False,
                      soft_wrap=True)

    def on_done(res) -> None:  # type: ignore[no-untyped-def]
        colour = {"ok": "green", "partial": "yellow", "skipped": "yellow"}.get(res.status, "red")
        took = f" ({_duration(res.seconds)})" if res.seconds >= 1 else ""
        head = "     "
        if res.step not in announced and res.status == "skipped" and res.step in (
                "compute", "alerts"):
            announced.append(res.step)
            head = f"[{len(announced)}/{n}]"
        console.print(f"{head} [{colour}]{res.status}[/] {res.step}: {escape(res.summary)}{took}",
                      highlight=False, soft_wrap=True)
        for line in res.errors:
            err_console.print(f"      [red]failed[/] {escape(line)}", highlight=False,
                              soft_wrap=True)
        for line in res.warnings:
            err_console.print(f"      [yellow]skipped[/] {escape(line)}", highlight=False,
                              soft_wrap=True)

    with progress(transient=True) as bar:
        task = bar.add_task("loading", total=None)
        report = backfill(settings, plan, on_step=on_step, on_done=on_done,
                          on_item=lambda item: bar.update(task, advance=1, description=item))
    failed = [s for s in report.steps if s.status == "failed"]
    console.print(f"backfill {'done' if not failed else 'finished with failures'} in "
                  f"{_duration(report.seconds)}", highlight=False, soft_wrap=True)


def _freshness(settings):  # type: ignore[no-untyped-def]
    from db.freshness import freshness_report
    from db.session import session_scope

    with session_scope(settings.resolved_database_url) as s:
        return freshness_report(s, settings.universe)


def _up_freshness(settings):  # type: ignore[no-untyped-def]
    """Print what is not fresh (the dashboard's banner says the same); on a
    stale database with no way to refresh, one line saying what is served."""
    from db.freshness import PRICES

    fresh = _freshness(settings)
    problems = fresh.problems()
    if not problems:
        console.print("freshness: every source is current", highlight=False, soft_wrap=True)
    for line in problems:
        console.print(f"[yellow]not fresh[/] {escape(line)}", highlight=False, soft_wrap=True)
    if fresh.has_prices and any(not r.ok for r in fresh.of(PRICES)):
        newest = fresh.newest_price
        console.print(f"serving what the database has (newest price {newest:%Y-%m-%d}); the "
                      "scheduled daily run below fetches the rest from Yahoo Finance when it "
                      "can reach it", highlight=False, soft_wrap=True)
    return fresh


def _print_next_runs(settings) -> None:  # type: ignore[no-untyped-def]
    from bubblewatch.app.scheduler import next_runs
    from bubblewatch.core.calendar import format_time

    tz = settings.scheduler.timezone
    console.print(f"scheduler: next runs ({tz}; UTC in brackets)", highlight=False,
                  soft_wrap=True)
    for job_id, name, when in next_runs(settings):
        console.print(f"  {job_id:<13} {escape(name):<30} {format_time(when, tz)} "
                      f"({format_time(when)})", highlight=False, soft_wrap=True)


def _duration(seconds: float) -> str:
    m, s = divmod(round(seconds), 60)
    return f"{m} min {s} s" if m else f"{s} s"
