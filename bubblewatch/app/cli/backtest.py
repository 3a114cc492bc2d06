"""``bubblewatch backtest``: what bubblewatch would have said on each date, and its
track record (see :mod:`bubblewatch.app.backtest`)."""

from __future__ import annotations

import json
import sys
from datetime import date
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bubblewatch.app.cli.common import cli_errors, split_list
from bubblewatch.app.cli.indicators import _parse_params
from bubblewatch.core.console import console, err_console


class Freq(str, Enum):
    W = "W"
    D = "D"


class ReportFormat(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"


def _day(text: str | None, option: str) -> date | None:
    from bubblewatch.core.errors import ConfigError

    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"{option} {text!r} is not a date (YYYY-MM-DD)") from None


def backtest(
    start: Annotated[str, typer.Option(help="First reading date, YYYY-MM-DD.")] = "1995-01-01",
    end: Annotated[str | None, typer.Option(help="Last reading date (default: the last "
                                                 "price).")] = None,
    freq: Annotated[Freq, typer.Option(help="W: the last trading day of each week; D: every "
                                            "trading day.")] = Freq.W,
    symbols: Annotated[str | None, typer.Option(
        help="Comma-separated cohorts (ai, dotcom) and symbols (default: all).")] = None,
    peak: Annotated[list[str] | None, typer.Option(
        "--peak", help="SYMBOL=YYYY-MM-DD: a peak to judge the first warnings against "
                       "(repeatable), besides the reference peaks and the crashes found.")] = None,
    calm_start: Annotated[str | None, typer.Option(
        "--calm-start", help="First date counted in the false-alarm shares.")] = None,
    calm_end: Annotated[str | None, typer.Option(
        "--calm-end", help="Last date counted in the false-alarm shares.")] = None,
    warn_band: Annotated[str | None, typer.Option(
        "--warn-band", help="Headline band from which a reading is a warning: moderate, "
                            "elevated, high (default) or extreme.")] = None,
    param: Annotated[list[str] | None, typer.Option(
        "--param", help="NAME=VALUE replay parameter (repeatable; VALUE is JSON, else text), "
                        "e.g. --param ps2020_reps=499. See `bubblewatch indicators`.")] = None,
    stored: Annotated[bool, typer.Option(
        help="Report on the stored track record instead of replaying.")] = False,
    fmt: Annotated[ReportFormat, typer.Option("--format", help="table, csv or json.")] =
        ReportFormat.table,
    out: Annotated[Path | None, typer.Option(help="Write the csv/json report to this file.",
                                             dir_okay=False)] = None,
) -> None:
    """Replay the pipeline point in time and report its track record: first
    warnings before each peak, lead times and false alarms, per cohort and symbol."""
    from bubblewatch.app.backtest import parse_peaks, run_backtest
    from bubblewatch.core.errors import ConfigError
    from bubblewatch.core.settings import get_settings
    from indicators.registry import get

    with cli_errors():
        settings = get_settings()
        overrides = dict(_parse_params(param, ["track_record"]).get("track_record", {}))
        overrides.update({"start": start, "freq": freq.value})
        if end is not None:
            overrides["end"] = end
        if warn_band is not None:
            overrides["warn_band"] = warn_band
        params = get("track_record").parse_params(overrides)
        peaks = parse_peaks(peak, settings)
        window = (_day(calm_start, "--calm-start"), _day(calm_end, "--calm-end"))
        if window[0] and window[1] and window[0] > window[1]:
            raise ConfigError(f"--calm-start {window[0]} is after --calm-end {window[1]}")
        report = run_backtest(settings, params, keys=split_list(symbols), peaks=peaks,
                              calm_window=window, stored=stored,
                              show_progress=fmt == ReportFormat.table)
        if fmt == ReportFormat.table:
            _print(report)
        else:
            text = (json.dumps(report.to_json(), indent=2) + "\n" if fmt == ReportFormat.json
                    else report.to_csv())
            if out is None:
                sys.stdout.write(text)
            else:
                out.write_text(text, encoding="utf-8")
                err_console.print(f"wrote the report to {out}")
        for item, msg in report.errors.items():
            err_console.print(f"[red]failed[/] {escape(item)}: {escape(msg)}", soft_wrap=True)
        if report.errors:
            raise typer.Exit(1)


#: Short column headings of the signals.
HEADINGS = {"composite": "headline", "psy_pointwise": "PSY pw", "psy_sadf": "PSY sadf",
            "ps2020": "PS2020", "hb": "HB", "ahltz": "AHLTZ", "bd": "BD"}
#: Width of the tables when the output is not a terminal (files, pipes).
FILE_WIDTH = 200


def _cell_lead(row: pd.Series) -> str:
    if row["first_warning"] is None or pd.isna(row["first_warning"]):
        return "-"
    return f"{row['first_warning']} {row['lead_weeks']:.0f}w"


def _cell_share(row: pd.Series) -> str:
    """False-alarm share, hit share and first flag of one signal on one key."""
    lines = ["-" if not row["calm_dates"] else
             f"{row['false_alarm_share']:.1%} {row['false_alarms']}/{row['calm_dates']}"]
    if row["pre_crash_dates"]:
        lines.append(f"hits {row['hit_share']:.1%} {row['hits']}/{row['pre_crash_dates']}")
    first = row["first_flag"]
    if first is not None and not pd.isna(first):
        lines.append(f"first {first}")
    return "\n".join(lines)


def _show(table: Table) -> None:
    if console.is_terminal:
        console.print(table)
    else:  # files and pipes get the whole table, not one folded to 80 columns
        Console(file=sys.stdout, width=FILE_WIDTH, highlight=False).print(table)


def _timing(report: Any) -> str:
    """``146 s: replay 108 s (ps2020 76 s, ...), storing 17 s, alert replay 16 s``:
    the replay's own stages (largest first) only when this run replayed."""
    parts = []
    for stage, secs in report.stages.items():
        text = f"{stage} {secs:.0f} s"
        if stage == "replay":
            inner = sorted(report.replay_stages.items(), key=lambda kv: -kv[1])
            detail = ", ".join(f"{k} {v:.0f} s" for k, v in inner if v >= 0.5)
            text += f" ({detail})" if detail else ""
        parts.append(text)
    return f"{report.seconds:.0f} s" + (": " + ", ".join(parts) if parts else "")


def _print(report: Any) -> None:
    console.print(f"[bold]backtest[/] {report.start} to {report.end}, "
                  f"{'weekly' if report.freq == 'W' else 'daily'} readings, "
                  f"{len(report.keys)} keys, {report.readings:,} readings stored: "
                  f"{_timing(report)}", highlight=False, soft_wrap=True)
    signals = list(dict.fromkeys(report.leads["procedure"])) or list(
        dict.fromkeys(report.alarms["procedure"]))
    lt = Table(title="First warning before each peak (date, lead in weeks)")
    for col in ("key", "peak", "origin", *signals):
        lt.add_column(HEADINGS.get(col, col), no_wrap=True)
    for (key, peak, origin), g in report.leads.groupby(["key", "peak", "origin"], sort=False):
        cells = {r["procedure"]: _cell_lead(r) for _, r in g.iterrows()}
        lt.add_row(key, str(peak), origin, *[cells.get(s, "") for s in signals])
    if report.leads.empty:
        console.print("no reference, given or found peak (a 40% fall within two years) in the "
                      "period: no first warnings to judge; add one with --peak SYMBOL=DATE")
    else:
        _show(lt)
    lo, hi = report.calm_window
    span = f"{lo or report.start} to {hi or report.end}"
    at = Table(title=f"False alarms: share of calm dates flagged (flagged/calm), hits: share "
                     f"of pre-crash dates flagged, and first flag, {span}")
    for col in ("key", *signals):
        at.add_column(HEADINGS.get(col, col), no_wrap=True)
    for key, g in report.alarms.groupby("key", sort=False):
        cells = {r["procedure"]: _cell_share(r) for _, r in g.iterrows()}
        at.add_row(key, *[cells.get(s, "") for s in signals])
    _show(at)
    if not report.alerts.empty:
        al = Table(title="Alerts the current rules would have fired")
        for col in ("key", "alerts", "warning", "first", "last", "rules"):
            al.add_column(col)
        for key, g in report.alerts.groupby("key", sort=False):
            rules = ", ".join(f"{r} {n}" for r, n in g["rule"].value_counts().items())
            al.add_row(key, str(len(g)), str(int((g["severity"] != "info").sum())),
                       str(g["date"].min()), str(g["date"].max()), rules)
        _show(al)
    for rule, why in report.skipped_rules.items():
        console.print(f"[dim]rule {escape(rule)} not replayed: {escape(why)}[/]", soft_wrap=True)
    for note in report.notes:
        console.print(f"[dim]{escape(note)}[/]", soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Mount ``backtest`` on the main app."""
    app.command("backtest")(backtest)
