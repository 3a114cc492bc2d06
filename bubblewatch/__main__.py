"""``python -m bubblewatch`` = the ``bubblewatch`` console script."""

from bubblewatch.cli import app

app()
