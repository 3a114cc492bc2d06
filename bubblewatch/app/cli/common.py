"""What every command shares: the rule that a known error prints one clear red
line (no traceback) and exits non-zero, help without type tags, times with
their zone, and small argument parsers.

Known errors are every :class:`~bubblewatch.core.errors.BubblewatchError`,
the database errors :func:`db.session.explain` can put in words (server down,
login refused, disk full, read-only file...) and the operating-system errors
people fix themselves (disk full, read-only file system, permission denied).
Anything else is a bug and keeps its traceback. Messages are printed as text,
never as rich markup, so ``[universe]`` in a message stays ``[universe]``; the
database password never appears in them.
"""

from __future__ import annotations

import errno
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import typer
from rich.markup import escape
from sqlalchemy.exc import SQLAlchemyError
from typer.core import TyperCommand, TyperGroup

from bubblewatch.core.console import err_console
from bubblewatch.core.errors import BubblewatchError


def split_list(text: str | None) -> list[str] | None:
    """``"NVDA, CSCO"`` -> ``["NVDA", "CSCO"]``; None or empty -> None."""
    return [s.strip() for s in text.split(",") if s.strip()] if text else None


def print_error(message: str) -> None:
    """One red ``error:`` line on stderr (``message`` printed as plain text)."""
    err_console.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True, highlight=False)


def fail(message: str, code: int = 1) -> NoReturn:
    """Print ``message`` as one red line and leave with exit ``code``."""
    print_error(message)
    raise typer.Exit(code)


def _database_url() -> str | None:
    from bubblewatch.core.settings import get_settings

    try:
        return get_settings().resolved_database_url
    except BubblewatchError:
        return None


def os_error_line(exc: OSError) -> str | None:
    """One line for the operating-system errors people fix themselves, else None."""
    where = f" ({exc.filename})" if exc.filename else ""
    if exc.errno == errno.ENOSPC:
        return (f"no space left on the disk{where}; free space there, or point "
                "BUBBLEWATCH_DATA_DIR / BUBBLEWATCH_CACHE_DIR at another disk")
    if exc.errno == errno.EDQUOT:
        return f"disk quota exceeded{where}; free space or raise the quota"
    if exc.errno == errno.EROFS:
        return (f"the file system is read-only{where}; point BUBBLEWATCH_DATA_DIR / "
                "BUBBLEWATCH_CACHE_DIR at a writable folder")
    if exc.errno in (errno.EACCES, errno.EPERM):
        return (f"permission denied{where}; give this user access, or point "
                "BUBBLEWATCH_DATA_DIR / BUBBLEWATCH_CACHE_DIR at a folder it may write")
    return None


@contextmanager
def cli_errors() -> Iterator[None]:
    """Turn a known error into one red line and exit code 1 (130 on Ctrl-C)."""
    try:
        yield
    except BubblewatchError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        err_console.print("[yellow]interrupted[/]")
        raise typer.Exit(130) from None
    except (SQLAlchemyError, sqlite3.Error) as exc:
        from db.session import explain

        known = explain(exc, _database_url())
        if known is None:
            raise
        fail(str(known))
    except OSError as exc:
        line = os_error_line(exc)
        if line is None:
            raise
        fail(line)


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
