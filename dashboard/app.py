"""bubblewatch dashboard: the Streamlit entrypoint.

Run with ``bubblewatch dashboard`` (or ``streamlit run dashboard/app.py``).
Sets the shared chrome (page config, sidebar, the stale-data banner), then
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
from db.session import masked_url

st.set_page_config(page_title="bubblewatch", page_icon=":material/bubble_chart:", layout="wide")

PAGES = [
    st.Page("app_pages/overview.py", title="Overview", icon=":material/speed:", default=True),
    st.Page("app_pages/analog.py", title="AI vs dot-com", icon=":material/compare_arrows:",
            url_path="analog"),
    st.Page("app_pages/explosiveness.py", title="Explosiveness", icon=":material/trending_up:",
            url_path="explosiveness"),
    st.Page("app_pages/lppls.py", title="LPPLS", icon=":material/ssid_chart:", url_path="lppls"),
    st.Page("app_pages/capex.py", title="Capex & revenue gap", icon=":material/factory:",
            url_path="capex"),
    st.Page("app_pages/valuation.py", title="Valuation & vendor financing",
            icon=":material/balance:", url_path="valuation"),
    st.Page("app_pages/alerts.py", title="Alerts", icon=":material/notifications:",
            url_path="alerts"),
    st.Page("app_pages/export.py", title="Export", icon=":material/download:", url_path="export"),
]

page = st.navigation(PAGES)

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
        chrome.stale_banner(url)
        page.run()
except (SQLAlchemyError, sqlite3.Error, BubblewatchError) as exc:
    chrome.page_error(exc, url)
