"""bubblewatch dashboard: the Streamlit entrypoint.

Run with ``bubblewatch dashboard`` (or ``streamlit run dashboard/app.py``).
Sets the shared chrome (page config, sidebar with the data-freshness table,
the stale-data banner), then
hands over to the selected page in ``app_pages/``. Reads the database named by
the settings (``BUBBLEWATCH_DATABASE_URL``) and never writes to it. Invalid
settings, an unreachable database and a database error on any page show one
error box saying what to fix, never a traceback (and never the password).
"""

from __future__ import annotations

import sys
from pathlib import Path

# `streamlit run dashboard/app.py` puts dashboard/ on sys.path, not the project root
_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

import sqlite3

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from bubblewatch.core.errors import BubblewatchError
from dashboard import chrome, data, ui
from dashboard.pages import PAGES
from db.session import masked_url

st.set_page_config(page_title="bubblewatch", page_icon=chrome.favicon(), layout="wide")

NAVIGATION = [
    st.Page(p.script, title=p.title, icon=p.icon, default=p.slug == "",
            **({"url_path": p.slug} if p.slug else {}))
    for p in PAGES
]

page = st.navigation(NAVIGATION)

try:
    settings = data.settings()
except BubblewatchError as exc:
    st.error(f"**Settings are invalid:** {chrome.plain(exc)}")
    st.stop()

url = settings.resolved_database_url
st.session_state["_bw_ctx"] = ui.PageContext(settings, url)

chrome.sidebar(settings, url)
try:
    ready = data.schema_ready(url)
    if not ready:
        ui.empty_state("database", ui.CMD_INIT,
                       f"`{masked_url(url)}` has no bubblewatch tables. Then load data with "
                       f"`{ui.CMD_INGEST}` (or `{ui.CMD_INGEST_DIR}`) and `{ui.CMD_COMPUTE}`.")
    else:
        chrome.freshness_sidebar(url)
        chrome.stale_banner(url)
        page.run()
except (SQLAlchemyError, sqlite3.Error, BubblewatchError) as exc:
    chrome.page_error(exc, url)
