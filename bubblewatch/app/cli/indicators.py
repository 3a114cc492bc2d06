"""``bubblewatch compute``, ``bubblewatch export`` and ``bubblewatch indicators``."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from bubblewatch.app.cli.common import cli_errors, split_list
from bubblewatch.core.console import console, err_console


class Format(str, Enum):
    csv = "csv"
    parquet = "parquet"
    xlsx = "xlsx"
    json = "json"


def _parse_params(pairs: list[str] | None, names: list[str] | None) -> dict[str, dict[str, Any]]:
    """``["span=756", "freq=\"M\""]`` for one named indicator -> ``{name: {...}}``."""
    import json as _json

    from bubblewatch.core.errors import ConfigError

    if not pairs:
        return {}
    if not names or len(names) != 1:
        raise ConfigError("--param needs exactly one indicator name, e.g. "
                          "`bubblewatch compute lppls --param span=756`")
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--param {pair!r}: expected NAME=VALUE")
        try:
            out[key.strip()] = _json.loads(text)
        except ValueError:
            out[key.strip()] = text
    return {names[0]: out}


def compute(
    names: Annotated[list[str] | None, typer.Argument(
        help="Indicators to compute (default: all). See `bubblewatch indicators`.")] = None,
    symbols: Annotated[str | None, typer.Option(
        metavar="A,B", help="Comma-separated symbols: only those keys (baskets, pairs and cohorts are "
             "computed in runs over all symbols).")] = None,
    full: Annotated[bool, typer.Option(
        help="Recompute every date and replace stored rows (default: incremental).")] = False,
    param: Annotated[list[str] | None, typer.Option(
        "--param", metavar="NAME=VALUE", help="Parameter override for the one indicator named "
                        "(repeatable; VALUE is JSON, else text), e.g. --param span=756.")] = None,
) -> None:
    """Compute indicators from the database and store the results."""
    from bubblewatch.core.settings import get_settings
    from indicators.compute import run_compute

    with cli_errors():
        overrides = _parse_params(param, names)
        report = run_compute(get_settings(), names or None, split_list(symbols), full,
                             overrides=overrides)
        # one line per item for a few hundred; beyond that, the summary and failures
        for item, n in (report.rows.items() if len(report.rows) <= 500 else ()):
            note = report.notes.get(item)
            if note:
                console.print(f"[yellow]no data[/] {item}: {note}")
            else:
                console.print(f"[green]ok[/]      {item}: {n} values written")
        for item, err in report.errors.items():
            err_console.print(f"[red]failed[/]  {item}: {err}", soft_wrap=True)
        timing = ", ".join(f"{k} {v:.1f}s" for k, v in report.seconds.items())
        console.print(f"compute: {len(report.rows)} results, {report.total_rows} values written, "
                      f"{len(report.errors)} failed ({timing})")
        if report.errors:
            raise typer.Exit(1)


def export(
    name: Annotated[str, typer.Argument(help="Indicator name.")],
    symbol: Annotated[str | None, typer.Option(
        "--symbol", "--key", metavar="KEY",
        help="Symbol or key (pair, basket, cohort); default all keys.")] = None,
    start: Annotated[str | None, typer.Option(
        metavar="DATE", help="First date, YYYY-MM-DD (a New York trading day).")] = None,
    end: Annotated[str | None, typer.Option(metavar="DATE", help="Last date, YYYY-MM-DD.")] = None,
    as_of: Annotated[str | None, typer.Option(
        "--as-of", metavar="DATE",
        help="Only rows dated on or before this day, YYYY-MM-DD.")] = None,
    fmt: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.csv,
    out: Annotated[Path | None, typer.Option(
        metavar="FILE",
        help="Output file (default: stdout for csv/json, NAME[_KEY].FORMAT otherwise).",
        dir_okay=False)] = None,
) -> None:
    """Export one indicator's stored series with its context.

    Every format carries the parameters, as-of date, how often rows are dated
    (and where that changes), coverage, units, labels and source: CSV as
    `#` comment lines at the top (stdout included; read it back with
    `pandas.read_csv(path, comment="#")`), JSON under "meta", Parquet in the
    file's key-value metadata, Excel in an "about" sheet.
    """
    from bubblewatch.core.errors import ConfigError
    from bubblewatch.core.settings import get_settings
    from indicators import export as ex
    from indicators.api import load

    with cli_errors():
        settings = get_settings()
        key = symbol
        if symbol is not None:
            try:
                key = settings.universe.resolve(symbol)
            except KeyError:
                key = symbol  # baskets, pairs and cohorts are not symbols
        try:
            frame = load(name, key, start=start, end=end, as_of=as_of, settings=settings)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        if out is None and fmt.value in ex.BINARY:
            out = Path(ex.default_filename(name, key, fmt.value))
        if out is None:
            sys.stdout.buffer.write(ex.to_bytes(frame, fmt.value))
            sys.stdout.flush()
            return
        paths = ex.write(frame, fmt.value, out)
        err_console.print(f"wrote {len(frame)} rows to {', '.join(str(p) for p in paths)}")
        for k, why in (frame.attrs.get("missing") or {}).items():
            err_console.print(f"[yellow]no rows[/] for {k}: {why}", soft_wrap=True)


def list_indicators(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show descriptions.")] = False,
) -> None:
    """List every indicator with its parameters and fields (labels and units)."""
    import json

    from indicators.registry import all_indicators, params_dict

    with cli_errors():
        table = Table(title="indicators", show_lines=True)
        for col in ("name", "parameters (default)", "fields"):
            table.add_column(col, overflow="fold")
        for ind in all_indicators():
            defaults = params_dict(ind.defaults)
            params = "\n".join(
                f"{k} = {json.dumps(defaults[k])}" + (f"\n  [dim]{f.description}[/]"
                                                    if verbose and f.description else "")
                for k, f in ind.params.model_fields.items()) or "-"
            cols = "\n".join(f"{k}: {c.label} ({c.unit})" for k, c in ind.columns.items())
            head = f"[bold]{ind.name}[/]\n{ind.title}\n[dim]rows: {ind.sampling}[/]"
            if verbose:
                head += f"\n\n{ind.description}"
            if ind.depends_on:
                head += f"\n(reads: {', '.join(ind.depends_on)})"
            table.add_row(head, params, cols)
        console.print(table)


def register(app: typer.Typer) -> None:
    """Mount ``compute``, ``export`` and ``indicators`` on the main app."""
    app.command("compute")(compute)
    app.command("export")(export)
    app.command("indicators")(list_indicators)
