"""Terminal output: one rich console for results, one for messages (stderr),
progress bars for long work and logging set-up. Used by the command line and by
long jobs that report progress; nothing here exits the process."""

from __future__ import annotations

import logging
import sys

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
