"""Shared chrome around every page: the sidebar, the stale-data banner, the
data-freshness panel, plain text for user-written words, and the one message a
page shows when the database fails."""

from __future__ import annotations

import logging
import re
from datetime import UTC, date, datetime

import pandas as pd
import streamlit as st

from bubblewatch.core.errors import BubblewatchError
from bubblewatch.core.settings import Settings
from dashboard import data, ui
from dashboard.transforms import FreshnessRule, business_days_between, freshness_status
from db.session import explain, masked_url, scrub

log = logging.getLogger(__name__)

#: Characters Markdown (CommonMark, GFM) and Streamlit's extensions (``:red[…]``
#: directives, ``$`` math) read as syntax wherever they stand.
_ALWAYS = re.compile(r"([\\`*_\[\]()<>!|~$&@#{}\"])")
#: ``:`` and ``.`` start syntax only when text follows at once (``http://``,
#: ``:red[``, ``:smile:``, ``www.x``); before a space they are punctuation.
_BEFORE_TEXT = re.compile(r"([:.])(?=\S)")
#: A list item, heading or rule at the very start.
_LEADING = re.compile(r"^([-+=]|\d+(?=\.))")

#: Jobs whose last success tells how fresh each source is, and what refreshes it.
FRESHNESS_RULES: tuple[FreshnessRule, ...] = (
    FreshnessRule("ingest_prices", "Prices", 4 * 24, "bubblewatch ingest --source yahoo"),
    FreshnessRule("ingest_fundamentals", "Fundamentals (SEC EDGAR)", 8 * 24,
                  "bubblewatch ingest --source edgar"),
    FreshnessRule("compute", "Indicators", 4 * 24, ui.CMD_COMPUTE),
    FreshnessRule("alerts_evaluate", "Alert evaluation", 4 * 24, ui.CMD_ALERTS_CHECK),
    FreshnessRule("alerts_deliver", "Alert delivery", 24, ui.CMD_ALERTS_SEND),
)

#: Business days after which the newest price counts as stale.
MAX_PRICE_AGE_BDAYS = 3

#: Background colour of each freshness status in the table.
STATUS_COLOR = {"ok": "#DFF2E1", "stale": "#FCE8C8", "failed": "#F8D0CD", "missing": "#ECECEC"}


def plain(text: object) -> str:
    """``text`` escaped so Streamlit's Markdown shows it as written: no links
    (``[x](url)``, ``<url>``, bare ``http://`` or ``www.`` addresses, e-mail
    addresses), no emphasis, HTML, math, colour directives or icons. For words
    that come from users' files (rules, labels, descriptions) and messages.
    Line breaks become spaces."""
    flat = " ".join(str(text).split())
    out = _BEFORE_TEXT.sub(r"\\\1", _ALWAYS.sub(r"\\\1", flat))
    return _LEADING.sub(_escape_leading, out, count=1)


def _escape_leading(m: re.Match[str]) -> str:
    mark = m.group(1)  # "1" of "1. item": escape the dot after it; "-", "+", "=": itself
    return f"{mark}\\" if mark.isdigit() else f"\\{mark}"


def page_error(exc: BaseException, url: str) -> None:
    """One error box instead of a traceback when a page fails on a known error:
    a database failure in words (masked URL, what to check) or a bubblewatch
    error's own message. An unknown database failure goes to the server log
    with its traceback; the box still shows its first line, password removed."""
    known = explain(exc, url)
    if known is not None:
        head, text = "The database could not be read.", str(known)
    elif isinstance(exc, BubblewatchError):
        head, text = "This page could not be shown.", str(exc)
    else:
        log.error("database error on a dashboard page", exc_info=exc)
        first = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or [""])[0]
        head = "The database could not be read."
        text = f"database error on {masked_url(url)}: {scrub(first, url) or type(exc).__name__}"
    st.error(f"**{head}** {plain(text)}  \nFix it, then press *Refresh data* in the sidebar "
             "or reload the page.", icon=":material/error:")


def today() -> date:
    return datetime.now(UTC).date()


def sidebar(settings: Settings, url: str) -> None:
    with st.sidebar:
        st.markdown("### :material/bubble_chart: bubblewatch")
        st.caption("The AI build-out measured against the dot-com fiber build-out.")
        st.caption(f"Database: `{masked_url(url)}`")
        if st.button("Refresh data", icon=":material/refresh:", key="refresh",
                     help=f"Cached queries refresh by themselves every "
                          f"{settings.dashboard.cache_ttl_s} s."):
            data.clear()


def price_age(url: str) -> tuple[date | None, int | None]:
    """Newest price date in the database and its age in business days."""
    last = data.inventory(url)["price_last_date"]
    if last is None:
        return None, None
    return last, business_days_between(last, today())


def stale_banner(url: str) -> None:
    """One warning line on every page when data is stale or missing."""
    inv = data.inventory(url)
    if inv["price_rows"] == 0:
        st.warning(f"**No prices in the database.** Run `{ui.CMD_INGEST}` "
                   f"(or `{ui.CMD_INGEST_DIR}` offline), then `{ui.CMD_COMPUTE}`.",
                   icon=":material/warning:")
        return
    last, age = price_age(url)
    problems = []
    if age is not None and age > MAX_PRICE_AGE_BDAYS:
        problems.append(f"newest price is {last:%Y-%m-%d} ({age} business days old)")
    if inv["indicator_runs"] == 0:
        problems.append(f"no indicators computed (run `{ui.CMD_COMPUTE}`)")
    if problems:
        st.warning("**Data is stale:** " + "; ".join(problems)
                   + f". Refresh with `{ui.CMD_INGEST}` and `{ui.CMD_COMPUTE}`"
                     " (or keep `bubblewatch up` running).", icon=":material/warning:")


def freshness_panel(url: str) -> pd.DataFrame:
    """Per source: status, last successful run, age and the command that refreshes it."""
    runs = data.freshness(url, tuple(r.job for r in FRESHNESS_RULES))
    status = freshness_status(runs, FRESHNESS_RULES, datetime.now(UTC))
    last, age = price_age(url)
    view = status.assign(
        last_success=status["last_success"].map(
            lambda t: "never" if t is None or pd.isna(t) else f"{pd.Timestamp(t):%Y-%m-%d %H:%M} UTC"),
        age=status["age_h"].map(lambda h: "–" if pd.isna(h) else
                                (f"{h:.0f} h" if h < 48 else f"{h / 24:.0f} days")),
    )[["source", "status", "last_success", "age", "last_error", "command"]]
    styled = view.style.map(lambda v: f"background-color: {STATUS_COLOR.get(v, '')}"
                            if v in STATUS_COLOR else "", subset=["status"])
    st.dataframe(styled, hide_index=True, key="freshness_table",
                 column_config={"last_error": st.column_config.TextColumn("last error",
                                                                           width="medium")})
    if last is not None:
        st.caption(f"Newest price in the database: {last:%Y-%m-%d} "
                   f"({age} business days ago).")
    bad = status[status["status"] != "ok"]
    if not bad.empty:
        st.caption("Not fresh: " + ", ".join(
            f"{r.source} ({r.status}; run `{r.command}`)" for r in bad.itertuples()))
    return status
