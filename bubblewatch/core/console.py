"""Terminal output: one rich console for results, one for messages (stderr),
progress bars for long work and logging set-up. Used by the command line and by
long jobs that report progress; nothing here exits the process.

On a terminal, output fits its width. Piped or redirected (a file, ``grep``,
a CI log), a line is never wrapped in the middle: the consoles are
:data:`PIPE_WIDTH` columns wide (``COLUMNS`` overrides) and plain text is
printed as it is (soft wrap), so every message stays on one line."""

from __future__ import annotations

import logging
import os
import sys
from typing import TextIO

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

#: Width of the consoles when the output is not a terminal (tables are as wide as
#: their content, up to this).
PIPE_WIDTH = 400


def _console(stream: TextIO, stderr: bool) -> Console:
    if stream.isatty():
        return Console(stderr=stderr, highlight=False)
    width = int(os.environ["COLUMNS"]) if os.environ.get("COLUMNS", "").isdigit() else PIPE_WIDTH
    return Console(stderr=stderr, highlight=False, width=width, soft_wrap=True)


console = _console(sys.stdout, stderr=False)
err_console = _console(sys.stderr, stderr=True)


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
