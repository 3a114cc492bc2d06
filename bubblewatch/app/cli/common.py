"""What every command shares: the rule that a known error prints one clear red
line (no traceback) and exits non-zero, and small argument parsers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer

from bubblewatch.core.console import err_console
from bubblewatch.core.errors import BubblewatchError


def split_list(text: str | None) -> list[str] | None:
    """``"NVDA, CSCO"`` -> ``["NVDA", "CSCO"]``; None or empty -> None."""
    return [s.strip() for s in text.split(",") if s.strip()] if text else None


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
