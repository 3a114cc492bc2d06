"""The dashboard server process: load the app's modules, then run Streamlit.

Streamlit runs the app script only when a browser connects, so the first page
view would otherwise pay for importing pandas, SQLAlchemy, plotly and the
dashboard modules (about 3 s on two cores). Importing them here, while the
server starts, takes that off the first view. Invoked by
:func:`dashboard.server.streamlit_command` as ``python -m dashboard.launch run
APP [options]`` (the arguments of ``streamlit run``).
"""

from __future__ import annotations

import logging
import sys

#: Modules the pages import, loaded before the server accepts a connection.
PRELOAD = ("dashboard.data", "dashboard.charts", "dashboard.transforms", "dashboard.ui",
           "dashboard.chrome", "plotly.graph_objects")


def preload() -> None:
    """Import :data:`PRELOAD`. Streamlit's data cache warns once per cached
    function that no runtime exists yet; harmless here (the caches themselves
    are created on first use, inside the runtime), so that warning is muted."""
    import importlib

    import streamlit  # noqa: F401 - sets up its loggers, which the level below then overrides

    cache_log = logging.getLogger("streamlit.runtime.caching.cache_data_api")
    level = cache_log.level
    cache_log.setLevel(logging.ERROR)
    try:
        for name in PRELOAD:
            importlib.import_module(name)
    finally:
        cache_log.setLevel(level)


def main() -> None:
    preload()
    from streamlit.web import cli

    sys.exit(cli.main(prog_name="streamlit"))


if __name__ == "__main__":
    main()
