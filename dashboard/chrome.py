"""Shared chrome around every page: the favicon (drawn here, so nothing is
fetched from the internet), the sidebar (with its data-freshness table), the
stale-data banner, the data-freshness panel, the alerts' all-clear (only for
alerts evaluated on current data), plain text for user-written words, and the
one message a page shows when the database fails.

Freshness is computed once, below the dashboard, by
:func:`db.freshness.freshness_report` (data age against the trading calendar);
``bubblewatch status`` prints the same rows and phrases."""

from __future__ import annotations

import logging
import re
from datetime import UTC, date, datetime
from functools import cache
from typing import Any

import pandas as pd
import streamlit as st

from bubblewatch.core.calendar import format_time
from bubblewatch.core.errors import BubblewatchError
from bubblewatch.core.settings import Settings
from dashboard import data, ui
from dashboard.transforms import freshness_frame, stale_banner_text
from db.freshness import EVALUATION, PRICES
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

#: Background colour of each freshness status in the tables.
STATUS_COLOR = {"ok": "#DFF2E1", "partial": "#FCE8C8", "stale": "#FCE8C8", "failed": "#F8D0CD",
                "missing": "#ECECEC", "never": "#ECECEC"}


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


@cache
def favicon() -> Any:
    """The page icon: a small bubble drawn in memory (Streamlit would fetch a
    ``:material/...:`` or emoji icon from a font CDN)."""
    from PIL import Image, ImageDraw

    img = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    draw.ellipse((6, 6, 58, 58), fill=(228, 87, 46, 255))
    draw.ellipse((18, 16, 30, 28), fill=(255, 255, 255, 200))
    return img


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
    """Newest price in the database and how many trading sessions it lags
    the last session closed on its exchange (None, None without prices)."""
    report = data.freshness(url)
    newest = report.newest_price
    if newest is None:
        return None, None
    behind = [r.behind for r in report.of(PRICES) if r.newest == newest and r.behind is not None]
    return newest, min(behind, default=None)


def stale_banner(url: str) -> None:
    """One warning line on every page when data is stale, missing or never
    evaluated (the same phrases as ``bubblewatch status``)."""
    report = data.freshness(url)
    if not report.has_prices:
        st.warning(f"**No prices in the database.** Run `bubblewatch up` (or `{ui.CMD_INGEST}`, "
                   f"or `{ui.CMD_INGEST_DIR}` offline, then `{ui.CMD_COMPUTE}`).",
                   icon=":material/warning:")
        return
    text = stale_banner_text(report)
    if text:
        st.warning(plain_code(text), icon=":material/warning:")


def plain_code(text: str) -> str:
    """``text`` whose only Markdown is its own ``**bold**`` head and
    `` `commands` ``: everything between them is escaped with :func:`plain`
    (the details quote run-log errors and file names)."""
    parts = re.split(r"(\*\*[^*]+\*\*|`[^`]+`)", text)
    return "".join(p if (p.startswith("**") and p.endswith("**")) or
                   (p.startswith("`") and p.endswith("`")) else _plain_keep_space(p)
                   for p in parts)


def _plain_keep_space(part: str) -> str:
    out = plain(part)
    lead = " " if part[:1].isspace() else ""
    tail = " " if part[-1:].isspace() else ""
    return lead + out + tail


def freshness_sidebar(url: str) -> None:
    """A compact freshness table in the sidebar: one row per source (the
    companies folded into one fundamentals row)."""
    report = data.freshness(url)
    view = freshness_frame(report.summary)[["source", "status", "behind"]]
    with st.sidebar:
        st.caption(f"Data freshness at {format_time(report.now)}")
        st.dataframe(_styled(view), hide_index=True, key="freshness_sidebar")


#: Headers of the freshness tables (columns of :func:`dashboard.transforms.freshness_frame`).
FRESHNESS_HEADERS = {"source": "Source", "status": "Status", "newest": "Newest data",
                     "expected": "Expected", "behind": "Behind", "last_success": "Last success",
                     "detail": "Detail", "command": "Refresh with"}


def _styled(view: pd.DataFrame):  # type: ignore[no-untyped-def]
    shown = view.rename(columns=FRESHNESS_HEADERS)
    return shown.style.map(lambda v: f"background-color: {STATUS_COLOR.get(v, '')}"
                           if v in STATUS_COLOR else "", subset=["Status"])


def freshness_panel(url: str) -> pd.DataFrame:
    """Per source (prices per exchange, fundamentals per company, indicators,
    alert evaluation and delivery): status, newest data date against the date
    expected from the trading calendar, how far behind, last success and the
    command that refreshes it."""
    report = data.freshness(url)
    view = freshness_frame(report.rows)
    st.dataframe(_styled(view), hide_index=True, key="freshness_table",
                 column_config={"Detail": st.column_config.TextColumn(width="large")})
    newest, behind = price_age(url)
    st.caption(f"Measured at {format_time(report.now)}: the newest data of each source against "
               "the date it should have reached (prices, indicators and alerts: the last "
               "trading session closed on the exchange's calendar; fundamentals: the SEC "
               "filing deadlines)."
               + (f" Newest price {newest:%Y-%m-%d}, {behind} trading sessions behind."
                  if newest is not None and behind is not None else ""))
    return view


def alerts_all_clear(url: str) -> None:
    """What to show when no alert is active: an all-clear only when the
    alerts were evaluated on current data; otherwise say they were never
    evaluated, or on what old data the last evaluation ran."""
    row = data.freshness(url).of(EVALUATION)[0]
    if row.status in ("never", "missing") or row.newest is None:
        st.info("**Alerts never evaluated.** No rule has been checked against the data yet, so "
                "this is not an all-clear. Run `bubblewatch alerts check` (`bubblewatch up` "
                "does it after filling the database).", icon=":material/hourglass_empty:")
    elif row.ok:
        st.success(f"No active alerts: no rule's condition holds on the data to "
                   f"{row.newest:%Y-%m-%d} (evaluated {format_time(row.last_run)}).",
                   icon=":material/check_circle:")
    else:
        st.warning(f"No active alerts at the last evaluation ({format_time(row.last_run)}, on "
                   f"data to {row.newest:%Y-%m-%d}), which is {row.status}: "
                   f"{plain(row.detail)}. Run `bubblewatch alerts check` once the data is "
                   "current.", icon=":material/schedule:")
