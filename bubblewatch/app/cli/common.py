"""What every command shares: the rule that a known error prints one clear red
line (no traceback) and exits non-zero, help without type tags, times with
their zone, and small argument parsers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup

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


def _tidy_help(params: list[Any]) -> list[Any]:
    """Help shows what to type, not Python types: a flag takes no value (no
    ``<bool>`` tag), a choice lists its values, anything else shows a
    placeholder in capitals (``--start DATE``)."""
    for p in params:
        if getattr(p, "param_type_name", "") == "argument":
            p.display_type_rich = _no_type  # the placeholder (NAME) says it already
        if p.metavar is not None:
            continue
        desc = getattr(p, "type_descriptor", None)
        if getattr(p, "is_flag", False):
            p.metavar = ""
        elif desc is not None and desc.is_choice and desc.choices:
            p.metavar = "|".join(str(getattr(c, "value", c)) for c in desc.choices)
        else:
            p.metavar = (p.name or "value").upper()
    return params


def _no_type(ctx: Any = None) -> None:
    return None


class HelpCommand(TyperCommand):
    """A command whose help has no type tags (see :func:`_tidy_help`)."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _tidy_help(super().get_params(ctx))


class HelpGroup(TyperGroup):
    """A command group whose help has no type tags (see :func:`_tidy_help`)."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _tidy_help(super().get_params(ctx))


class App(typer.Typer):
    """``typer.Typer`` whose commands and groups show help without type tags."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("cls", HelpGroup)
        kwargs.setdefault("rich_markup_mode", "rich")
        super().__init__(**kwargs)

    def command(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        kwargs.setdefault("cls", HelpCommand)
        return super().command(*args, **kwargs)


def utc_text(moment: datetime | None) -> str:
    """``YYYY-MM-DD HH:MM:SS UTC`` (a naive time is taken as UTC); ``-`` for None."""
    if moment is None:
        return "-"
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return f"{aware:%Y-%m-%d %H:%M:%S} UTC"
