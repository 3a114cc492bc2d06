"""Shared chrome around every page: the favicon (drawn here, so nothing is
fetched from the internet), the sidebar, the stale-data banner and the
data-freshness panel."""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import cache
from typing import Any

import pandas as pd
import streamlit as st

from bubblewatch.core.settings import Settings
from dashboard import data, ui
from dashboard.transforms import FreshnessRule, business_days_between, freshness_status
from db.session import masked_url

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

#: Headers of the freshness table.
FRESHNESS_COLUMNS = {"source": "Source", "status": "Status", "last_success": "Last success",
                     "age": "Age", "last_error": "Last error", "command": "Refresh with"}

#: Background colour of each freshness status in the table.
STATUS_COLOR = {"ok": "#DFF2E1", "stale": "#FCE8C8", "failed": "#F8D0CD", "missing": "#ECECEC"}


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
            lambda t: "never" if t is None or pd.isna(t) else ui.when(t)),
        age=status["age_h"].map(lambda h: "–" if pd.isna(h) else
                                (f"{h:.0f} h" if h < 48 else f"{h / 24:.0f} days")),
        last_error=status["last_error"].map(lambda e: e if isinstance(e, str) and e else "–"),
    )[["source", "status", "last_success", "age", "last_error", "command"]]
    view = ui.table_view(view, FRESHNESS_COLUMNS)
    styled = view.style.map(lambda v: f"background-color: {STATUS_COLOR.get(v, '')}"
                            if v in STATUS_COLOR else "", subset=["Status"])
    st.dataframe(styled, hide_index=True, key="freshness_table",
                 column_config={"Last error": st.column_config.TextColumn(width="medium")})
    if last is not None:
        st.caption(f"Newest price in the database: {last:%Y-%m-%d} "
                   f"({age} business days ago).")
    bad = status[status["status"] != "ok"]
    if not bad.empty:
        st.caption("Not fresh: " + ", ".join(
            f"{r.source} ({r.status}; run `{r.command}`)" for r in bad.itertuples()))
    return status
