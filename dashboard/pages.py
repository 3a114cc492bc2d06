"""The dashboard's pages, listed once: the entrypoint builds its navigation
from :data:`PAGES`, tests open pages by slug, and alert links reach a page
through the slug its indicator names in :data:`indicators.registry.PAGES`
(a test checks that every such slug is here)."""

from __future__ import annotations

from dataclasses import dataclass

from indicators import registry


@dataclass(frozen=True, slots=True)
class Page:
    """One page: ``slug`` is its URL path (``""`` for the Overview at the root)."""

    slug: str
    script: str
    title: str
    icon: str


def _title(slug: str) -> str:
    return registry.PAGES[slug]


PAGES: tuple[Page, ...] = (
    Page("", "app_pages/overview.py", _title(""), ":material/speed:"),
    Page("analog", "app_pages/analog.py", _title("analog"), ":material/compare_arrows:"),
    Page("explosiveness", "app_pages/explosiveness.py", _title("explosiveness"),
         ":material/trending_up:"),
    Page("lppls", "app_pages/lppls.py", _title("lppls"), ":material/ssid_chart:"),
    Page("capex", "app_pages/capex.py", _title("capex"), ":material/factory:"),
    Page("valuation", "app_pages/valuation.py", _title("valuation"), ":material/balance:"),
    Page("shocks", "app_pages/shocks.py", _title("shocks"), ":material/bolt:"),
    Page("scanner", "app_pages/scanner.py", "Scanner", ":material/radar:"),
    Page("track_record", "app_pages/track_record.py", _title("track_record"), ":material/history:"),
    Page("alerts", "app_pages/alerts.py", "Alerts", ":material/notifications:"),
    Page("export", "app_pages/export.py", "Export", ":material/download:"),
)


def by_slug(slug: str) -> Page:
    """The page at ``slug``; ``KeyError`` lists the known slugs."""
    for p in PAGES:
        if p.slug == slug:
            return p
    raise KeyError(f"no dashboard page {slug!r}; known: {', '.join(repr(p.slug) for p in PAGES)}")
