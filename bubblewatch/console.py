"""Terminal output shared by every CLI command: one rich console, progress
bars, and the rule that a known error prints one clear line (no traceback)
and exits non-zero."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from bubblewatch.errors import BubblewatchError

console = Console(stderr=False, highlight=False)
err_console = Console(stderr=True, highlight=False)


def configure_logging(level: str = "INFO") -> None:
    """Log to stderr through rich; called once by the CLI, never on import."""
    root = logging.getLogger()
    if any(isinstance(h, RichHandler) for h in root.handlers):
        root.setLevel(level.upper())
        return
    handler = RichHandler(console=err_console, show_path=False, rich_tracebacks=False)
    logging.basicConfig(level=level.upper(), handlers=[handler], format="%(message)s")
    for noisy in ("httpx", "httpcore", "yfinance", "apscheduler", "alembic",
                  "urllib3", "peewee", "numba"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))


def progress(transient: bool = False) -> Progress:
    """A progress bar for long work (hidden when output is not a terminal)."""
    return Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=transient,
        disable=not sys.stderr.isatty(),
    )


@contextmanager
def cli_errors() -> Iterator[None]:
    """Turn a :class:`BubblewatchError` into one red line and exit code 1."""
    try:
        yield
    except BubblewatchError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", soft_wrap=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        err_console.print("[yellow]interrupted[/]")
        raise typer.Exit(130) from None
