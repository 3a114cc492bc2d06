"""The ``bubblewatch`` command line.

Thin commands: read settings, call a job in :mod:`bubblewatch.app.jobs`, print
what happened. The indicator, alert and dashboard commands live beside this
module and are mounted in :mod:`bubblewatch.app.cli`.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from bubblewatch.app.cli.common import App, cli_errors, split_list, utc_text
from bubblewatch.core.console import configure_logging, console, err_console, progress
from bubblewatch.core.settings import get_settings

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
        configure_logging(log_level or get_settings().log_level)


@app.command()
def init() -> None:
    """Create or migrate the database and load the universe and reference data."""
    from bubblewatch.app.jobs import init_db
    from db.session import masked_url

    with cli_errors():
        settings = get_settings()
        counts = init_db(settings)
        console.print(f"database ready: {masked_url(settings.resolved_database_url)}")
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
    """Per symbol: rows, first/last date, and the last run of each job."""
    from db import repo
    from db.migrate import is_up_to_date
    from db.session import masked_url, session_scope

    with cli_errors():
        settings = get_settings()
        url = settings.resolved_database_url
        from db.migrate import upgrade

        if not is_up_to_date(url):
            upgrade(url)
        with session_scope(url) as s:
            prices = repo.price_counts(s)
            facts = repo.fact_counts(s)
            runs = {job: repo.last_run(s, job) for job in
                    ("ingest_prices", "ingest_fundamentals", "compute", "alerts_evaluate",
                     "alerts_deliver")}
        symbols = []
        for ins in settings.universe.instruments:
            n, first, last = prices.get(ins.symbol, (0, None, None))
            nf = facts.get(ins.cik, (0, None, None))[0] if ins.cik else 0
            symbols.append({"symbol": ins.symbol, "price_rows": n,
                            "first_date": first.isoformat() if first else None,
                            "last_date": last.isoformat() if last else None, "facts": nf})
        jobs = {
            job: None if r is None else {
                "status": r.status, "started_at": _iso_utc(r.started_at),
                "finished_at": _iso_utc(r.finished_at) if r.finished_at else None,
                "rows": r.rows, "error": r.error,
            }
            for job, r in runs.items()
        }
        if as_json:
            sys.stdout.write(json.dumps({"database": masked_url(url), "symbols": symbols,
                                         "jobs": jobs}, indent=2) + "\n")
            return
        table = Table(title=f"bubblewatch status ({masked_url(url)})")
        for col in ("symbol", "price rows", "first", "last", "facts"):
            table.add_column(col, justify="right" if col in ("price rows", "facts") else "left")
        for row in symbols:
            table.add_row(row["symbol"], str(row["price_rows"]), row["first_date"] or "-",
                          row["last_date"] or "-", str(row["facts"]))
        console.print(table)
        jt = Table(title="last runs")
        for col in ("job", "status", "started (UTC)", "rows", "error"):
            jt.add_column(col)
        for job, r in jobs.items():
            if r is None:
                jt.add_row(job, "never", "-", "-", "")
            else:
                colour = {"ok": "green", "partial": "yellow"}.get(r["status"], "red")
                jt.add_row(job, f"[{colour}]{r['status']}[/]",
                           utc_text(runs[job].started_at).removesuffix(" UTC"), str(r["rows"]),
                           (r["error"] or "")[:80])
        console.print(jt)


def _iso_utc(moment: datetime) -> str:
    """ISO 8601 in UTC with the zone (``+00:00``); a naive time is taken as UTC."""
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return aware.isoformat(timespec="seconds")


@app.command()
def schedule() -> None:
    """Run the scheduler in the foreground (Ctrl-C stops it)."""
    from bubblewatch.app.scheduler import run_scheduler

    with cli_errors():
        run_scheduler(get_settings())


@app.command()
def up() -> None:
    """Run the scheduler and the dashboard together (Ctrl-C stops both)."""
    from bubblewatch.app.scheduler import run_scheduler

    with cli_errors():
        settings = get_settings()
        from dashboard.server import start_dashboard, stop_dashboard

        server = start_dashboard(settings)
        console.print(f"dashboard on http://{settings.dashboard.host}:{settings.dashboard.port}")
        try:
            run_scheduler(settings)
        finally:
            stop_dashboard(server)
