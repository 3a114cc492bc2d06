"""``python -m bubblewatch`` = the ``bubblewatch`` console script."""

from bubblewatch.app.cli import app

app()
