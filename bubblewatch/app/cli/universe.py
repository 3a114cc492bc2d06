"""``bubblewatch universe add|list|show`` (universe files) and ``bubblewatch scan``
(every symbol ranked by its latest explosiveness, run-up, LPPLS confidence and
valuation percentile)."""

from __future__ import annotations

import math
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from bubblewatch.app.cli.common import cli_errors, split_list
from bubblewatch.core.console import console

universe_app = typer.Typer(help="Universes from files: index members and watchlists (CSV, TOML).",
                           no_args_is_help=True)


class ScanFormat(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"


def register(app: typer.Typer) -> None:
    """Mount ``universe`` and ``scan`` on the main app."""
    app.add_typer(universe_app, name="universe")
    app.command("scan")(scan)


@universe_app.command("add")
def add(
    file: Annotated[Path, typer.Argument(help="A .csv or .toml universe file.", dir_okay=False)],
    name: Annotated[str | None, typer.Option(
        help="Name to store it under (default: the file's name or stem).")] = None,
) -> None:
    """Check a universe file and store it (``<data_dir>/universes/NAME.toml`` and
    the database); select it with ``[universe] name = "NAME"``."""
    import tomli_w

    from bubblewatch.core.settings import get_settings
    from bubblewatch.core.universe_files import read_universe_file
    from db import repo
    from db.migrate import upgrade
    from db.session import session_scope

    with cli_errors():
        settings = get_settings()
        uf = read_universe_file(file, name)
        folder = settings.universes_dir
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{uf.name}.toml"
        target.write_bytes(tomli_w.dumps(uf.to_toml()).encode())
        url = settings.resolved_database_url
        upgrade(url)
        with session_scope(url) as s:
            repo.upsert_instruments(s, [i for i in uf.instruments()
                                        if i.symbol not in set(settings.universe.symbols)])
            n = repo.store_universe(s, uf.name, uf.description, str(file),
                                    [(m.symbol, m.joined, m.left) for m in uf.memberships()])
        console.print(f"universe [bold]{escape(uf.name)}[/]: {n} symbols, {len(uf.rows)} "
                      f"membership spans, stored as {target}")
        selected = settings.universe_config.get("name") or settings.universe_config.get("file")
        if selected != uf.name:
            console.print(escape(f'select it with [universe] name = "{uf.name}" in '
                                 "bubblewatch.toml"))


@universe_app.command("list")
def list_universes() -> None:
    """Stored universes, and which one the settings select."""
    from bubblewatch.core.settings import get_settings
    from bubblewatch.core.universe_files import stored_universes

    with cli_errors():
        settings = get_settings()
        cfg = settings.universe_config
        table = Table("name", "symbols", "spans", "description", "selected")
        for uf in stored_universes(settings.universes_dir):
            table.add_row(escape(uf.name), str(len(uf.symbols)), str(len(uf.rows)),
                          escape(uf.description), "yes" if cfg.get("name") == uf.name else "")
        console.print(table)
        u = settings.universe
        console.print(f"in use: {escape(u.name)} ({len(u.symbols)} symbols)")


@universe_app.command("show")
def show(
    name: Annotated[str, typer.Argument(help="A stored universe.")],
    limit: Annotated[int, typer.Option(help="Rows to print (0: all).")] = 50,
) -> None:
    """The members of a stored universe with their dated membership."""
    from bubblewatch.core.settings import get_settings
    from bubblewatch.core.universe_files import load_named

    with cli_errors():
        uf = load_named(name, get_settings().universes_dir)
        table = Table("symbol", "name", "cohorts", "cik", "joined", "left")
        rows = uf.rows if limit <= 0 else uf.rows[:limit]
        for r in rows:
            table.add_row(escape(r.symbol), escape(r.name or ""), escape(", ".join(r.cohorts)),
                          str(r.cik or ""), str(r.joined or ""), str(r.left or ""))
        console.print(table)
        more = len(uf.rows) - len(rows)
        console.print(f"{uf.name}: {len(uf.symbols)} symbols, {len(uf.rows)} spans"
                      + (f" ({more} more rows: --limit 0)" if more > 0 else ""))


def scan(
    cohort: Annotated[str | None, typer.Option(help="Only these cohorts (comma-separated).")] = None,
    universe: Annotated[str | None, typer.Option(
        help="Only current members of this stored universe.")] = None,
    fmt: Annotated[ScanFormat, typer.Option("--format", help="Output format.")] = ScanFormat.table,
    out: Annotated[Path | None, typer.Option(help="Write to this file (csv/json).",
                                             dir_okay=False)] = None,
    limit: Annotated[int, typer.Option(help="Rows (0: all).")] = 0,
) -> None:
    """Every symbol ranked by current explosiveness (BSADF minus its 95% critical
    value), with its run-up, LPPLS confidence and valuation percentile."""
    from bubblewatch.core.settings import get_settings
    from db.session import session_scope
    from indicators.scan import load_scan

    with cli_errors():
        settings = get_settings()
        with session_scope(settings.resolved_database_url) as s:
            table = load_scan(s, cohorts=split_list(cohort) or (), universe=universe)
        if limit > 0:
            table = table.head(limit)
        if fmt is ScanFormat.table:
            t = Table(*["rank", "symbol", "excess", "ret_2y", "pos_conf", "ps_pctile",
                        "cohorts"])
            for r in table.itertuples():
                t.add_row(str(r.rank), escape(r.symbol), _num(r.excess), _num(r.ret_2y, "%"),
                          _num(r.pos_conf, "%"), _num(r.ps_pctile, "%"), escape(r.cohorts))
            console.print(t)
            return
        text = (table.to_csv(index=False, date_format="%Y-%m-%d") if fmt is ScanFormat.csv
                else table.to_json(orient="records", date_format="iso", indent=1))
        if out is None:
            sys.stdout.write(text)
        else:
            out.write_text(text)
            console.print(f"scan: {len(table)} symbols written to {out}")


def _num(v: float, unit: str = "") -> str:
    if not math.isfinite(v):
        return "–"
    return f"{100 * v:.0f}%" if unit == "%" else f"{v:.2f}"
