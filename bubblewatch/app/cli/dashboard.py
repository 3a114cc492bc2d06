"""``bubblewatch dashboard``: serve the Streamlit dashboard in the foreground."""

from __future__ import annotations

from typing import Annotated

import typer

from bubblewatch.app.cli.common import cli_errors
from bubblewatch.core.console import console
from bubblewatch.core.settings import get_settings


def register(app: typer.Typer) -> None:
    """Add the ``dashboard`` command to the ``bubblewatch`` CLI."""

    @app.command()
    def dashboard(
        host: Annotated[str | None, typer.Option(
            help="Address to serve on (default: settings dashboard.host, 127.0.0.1).")] = None,
        port: Annotated[int | None, typer.Option(
            help="Port (default: settings dashboard.port, 8501).", min=1, max=65535)] = None,
    ) -> None:
        """Serve the dashboard (read-only on the database); Ctrl-C stops it."""
        from dashboard.server import run_dashboard

        with cli_errors():
            settings = get_settings()
            h = host or settings.dashboard.host
            p = port or settings.dashboard.port
            console.print(f"dashboard on [bold]http://{h}:{p}[/] (Ctrl-C to stop)")
            code = run_dashboard(settings, host=h, port=p)
            if code not in (0, None, -2, -15):
                raise typer.Exit(code)
