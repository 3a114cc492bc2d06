"""Cached, read-only loaders for the dashboard.

Every loader takes the database URL first (so a cache entry never leaks
between databases), opens a short read-only session on the process's one
engine for that URL (:func:`db.session.get_engine`), calls one :mod:`db.repo` or
:mod:`db.queries` read, and returns a plain frame or dict cached by
``st.cache_data`` for ``settings.dashboard.cache_ttl_s`` seconds. Widgets are
never read here: pages pass their values in.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st
from sqlalchemy.orm import Session

from bubblewatch.core.settings import Settings, get_settings
from db import queries as dq
from db import repo
from db.freshness import FreshnessReport
from db.session import get_engine
from indicators import registry
from indicators.registry import Meta


def _ttl() -> int:
    try:
        return int(get_settings().dashboard.cache_ttl_s)
    except Exception:  # noqa: BLE001 - invalid settings are reported by the app itself
        return 300


TTL = _ttl()


def settings() -> Settings:
    """The settings in force (read once per process, see :func:`get_settings`)."""
    return get_settings()


@contextmanager
def read_session(url: str) -> Iterator[Session]:
    """A session that only reads: rolled back and closed on exit."""
    with Session(get_engine(url)) as s:
        try:
            yield s
        finally:
            s.rollback()


def clear() -> None:
    """Drop every cached query result (tests; the app's refresh button)."""
    st.cache_data.clear()


# --------------------------------------------------------------------------- schema and inventory
@st.cache_data(ttl=TTL, show_spinner=False)
def schema_ready(url: str) -> bool:
    with read_session(url) as s:
        return dq.has_core_schema(s)


@st.cache_data(ttl=TTL, show_spinner=False)
def inventory(url: str) -> dict[str, Any]:
    with read_session(url) as s:
        return dq.data_inventory(s)


@st.cache_data(ttl=TTL, show_spinner=False)
def coverage(url: str) -> pd.DataFrame:
    with read_session(url) as s:
        return dq.price_coverage(s)


# --------------------------------------------------------------------------- prices
@st.cache_data(ttl=TTL, show_spinner=False, max_entries=64)
def prices(url: str, symbol: str) -> pd.DataFrame:
    """Daily bars of ``symbol`` (empty frame if none)."""
    with read_session(url) as s:
        return repo.price_frame(s, symbol)


@st.cache_data(ttl=TTL, show_spinner=False, max_entries=64)
def close(url: str, symbol: str) -> pd.Series:
    """Split-adjusted daily closes of ``symbol`` in USD (empty if none)."""
    with read_session(url) as s:
        return dq.close_series(s, symbol)


@st.cache_data(ttl=TTL, show_spinner=False, max_entries=16)
def closes(url: str, start: date, symbols: tuple[str, ...] = ()) -> pd.DataFrame:
    with read_session(url) as s:
        return dq.closes_since(s, start, symbols or None)


# --------------------------------------------------------------------------- indicators
@st.cache_data(ttl=TTL, show_spinner=False)
def catalog(url: str) -> pd.DataFrame:
    """Latest run per (indicator, key) with params and meta."""
    with read_session(url) as s:
        return dq.indicator_catalog(s)


def run_info(url: str, indicator: str, key: str) -> dict[str, Any] | None:
    """The catalog row of one (indicator, key), or None if never computed."""
    cat = catalog(url)
    hit = cat[(cat["indicator"] == indicator) & (cat["key"] == key)]
    return None if hit.empty else hit.iloc[0].to_dict()


def run_meta(url: str, indicator: str, key: str) -> Meta | None:
    """The typed metadata stored with one (indicator, key), or None if never computed
    (see each indicator's ``meta`` model in :mod:`indicators`)."""
    info = run_info(url, indicator, key)
    if info is None:
        return None
    return registry.get(indicator).read_meta(info.get("meta"))


def keys_of(url: str, indicator: str) -> list[str]:
    cat = catalog(url)
    return sorted(cat.loc[cat["indicator"] == indicator, "key"].astype(str))


@st.cache_data(ttl=TTL, show_spinner=False, max_entries=128)
def indicator(url: str, name: str, key: str) -> pd.DataFrame:
    """Latest stored result of ``name`` for ``key`` as a wide frame (empty if none)."""
    with read_session(url) as s:
        return repo.indicator_wide(s, name, key)


@st.cache_data(ttl=TTL, show_spinner=False, max_entries=32)
def indicator_long(url: str, name: str, key: str | None, start: date | None, end: date | None,
                   fields: tuple[str, ...] = ()) -> pd.DataFrame:
    """Long rows ``indicator, key, params_hash, field, date, value, computed_at``."""
    with read_session(url) as s:
        return repo.indicator_frame(s, name, key, fields=list(fields) or None, start=start,
                                    end=end)


@st.cache_data(ttl=TTL, show_spinner=False, max_entries=64)
def episodes(url: str, name: str, key: str) -> pd.DataFrame:
    """Stored episodes (``kind, start, end, peak, ongoing, attr_*``) of the latest run."""
    with read_session(url) as s:
        return repo.indicator_events(s, name, key)


# --------------------------------------------------------------------------- reference
@st.cache_data(ttl=TTL, show_spinner=False)
def reference(url: str) -> pd.DataFrame:
    with read_session(url) as s:
        return repo.reference_frame(s)


@st.cache_data(ttl=TTL, show_spinner=False)
def reference_events(url: str) -> pd.DataFrame:
    with read_session(url) as s:
        return repo.events_frame(s)


# --------------------------------------------------------------------------- operations
@st.cache_data(ttl=min(TTL, 60), show_spinner=False)
def freshness(url: str) -> FreshnessReport:
    """Every source's data age now (:func:`db.freshness.freshness_report`, the
    one computation ``bubblewatch status`` prints too)."""
    with read_session(url) as s:
        return dq.freshness(s, settings().universe)


@st.cache_data(ttl=min(TTL, 60), show_spinner=False)
def run_history(url: str, limit: int = 50) -> pd.DataFrame:
    with read_session(url) as s:
        return dq.run_history(s, limit)


@st.cache_data(ttl=min(TTL, 60), show_spinner=False)
def alert_tables(url: str, limit: int = 200) -> dict[str, pd.DataFrame]:
    """Every ``alert_*`` table's newest rows, secrets masked ({} before the
    alerts migration)."""
    with read_session(url) as s:
        return {n: dq.read_table(s, n, limit) for n in dq.alert_table_names(s)}


@st.cache_data(ttl=TTL, show_spinner=False)
def rulebook(rules_file: str | None) -> dict[str, Any]:
    """Alert rules and subscribers from the rules file (the shipped defaults
    when ``rules_file`` is None), for display.

    Returns
    -------
    dict
        ``path``, ``rules`` and ``subscribers`` (frames in people's words; a
        Slack channel shows the *name* of its environment variable and whether
        it is set, never the webhook), ``labels`` (rule id -> label),
        ``problems`` (list of str), ``error`` (str or None when the file could
        not be read at all).
    """
    return _rulebook(Path(rules_file) if rules_file else None)


def _rulebook(path: Path | None) -> dict[str, Any]:
    out: dict[str, Any] = {"path": str(path) if path else "<default rules>",
                           "rules": pd.DataFrame(), "subscribers": pd.DataFrame(),
                           "labels": {}, "problems": [], "error": None}
    from alerts.config import load_rulebook

    try:
        book = load_rulebook(path, universe=settings().universe)
    except Exception as exc:  # noqa: BLE001 - a broken rules file is shown, not raised
        out["error"] = str(exc)
        return out
    universe = settings().universe
    labels = {r.id: r.label for r in book.rules}
    out["labels"] = labels
    out["rules"] = pd.DataFrame([
        {"rule": r.label, "description": r.description,
         "keys": ("every computed key" if r.keys == ("*",)
                  else ", ".join(universe.label(k) for k in r.keys)),
         "severity": r.severity, "cooldown_days": r.cooldown_days}
        for r in book.rules
    ])
    subs = []
    for sub in book.subscribers:
        wants = [labels.get(r, r) for r in sub.rules] + [f"every {s} alert" for s in sub.severities]
        for ch in sub.channels:
            if ch.kind == "slack":
                target = f"${ch.target} ({'set' if os.environ.get(ch.target) else 'NOT SET'})"
            else:
                target = ch.target
            subs.append({"subscriber": sub.name,
                         "channel": "Slack" if ch.kind == "slack" else "e-mail",
                         "target": target, "rules": "; ".join(wants) or "every alert",
                         "mode": (f"daily digest at {sub.digest_time:%H:%M} "
                                  f"({settings().scheduler.timezone})"
                                  if sub.mode == "digest" else "at once")})
    out["subscribers"] = dq.mask_secrets(pd.DataFrame(subs))
    out["problems"] = [str(p) for p in book.problems]
    return out


@st.cache_data(ttl=TTL, show_spinner=False, max_entries=32)
def scan(url: str, cohorts: tuple[str, ...] = (), universe: str | None = None) -> pd.DataFrame:
    """The market-wide scan (:func:`indicators.scan.load_scan`)."""
    from indicators.scan import load_scan

    with read_session(url) as s:
        return load_scan(s, cohorts=cohorts, universe=universe)


@st.cache_data(ttl=TTL, show_spinner=False)
def universes(url: str) -> pd.DataFrame:
    """Stored universes: ``name, description, source, members, added_at``."""
    with read_session(url) as s:
        return repo.universes_frame(s)
