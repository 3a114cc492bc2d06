"""The ``bubblewatch`` command line: the root commands (:mod:`.main`) with the
indicator, alert and dashboard commands mounted on them. A command module that
fails to import stops the CLI at once with its own error: nothing is skipped."""

from __future__ import annotations

from bubblewatch.app.cli import alerts, backtest, dashboard, indicators, universe
from bubblewatch.app.cli.main import app

for _commands in (indicators, alerts, dashboard, universe, backtest):
    _commands.register(app)

__all__ = ["app"]
