"""Yahoo Finance daily bars through yfinance.

yfinance fails silently (an empty frame) or is rate limited; an empty frame
counts as a failure and rate limits are retried with exponential backoff.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pandas as pd

from bubblewatch.core.errors import EmptyDataError, IngestError
from ingest.models import canonical_bars

Fetch = Callable[[str, date | None, date | None], pd.DataFrame]


@dataclass(frozen=True, slots=True)
class YahooQuery:
    symbol: str
    start: date | None = None
    end: date | None = None


def yfinance_fetch(symbol: str, start: date | None, end: date | None) -> pd.DataFrame:
    """Download with yfinance (imported here: heavy, and only needed live)."""
    import yfinance as yf

    ticker = yf.Ticker(symbol)
    kwargs = {"start": start.isoformat() if start else "1900-01-01", "auto_adjust": False,
              "actions": False, "raise_errors": True}
    if end is not None:
        kwargs["end"] = end.isoformat()
    return ticker.history(**kwargs)


def _is_rate_limit(exc: Exception) -> bool:
    name = type(exc).__name__
    return "RateLimit" in name or "Too Many Requests" in str(exc) or "429" in str(exc)


def extract(query: YahooQuery, fetch: Fetch = yfinance_fetch, *, retries: int = 3,
            backoff_s: float = 2.0, sleep: Callable[[float], None] = time.sleep) -> pd.DataFrame:
    """Raw bars for one symbol; retries rate limits and empty answers."""
    source = f"yahoo:{query.symbol}"
    last: Exception | None = None
    for attempt in range(retries + 1):
        try:
            raw = fetch(query.symbol, query.start, query.end)
        except Exception as exc:  # noqa: BLE001 - yfinance raises many unrelated types
            last = exc
            if not _is_rate_limit(exc) and attempt >= 1:
                break
        else:
            if raw is not None and not raw.empty:
                return raw
            last = EmptyDataError("Yahoo returned no rows", source=source)
        if attempt < retries:
            sleep(backoff_s * 2**attempt)
    if isinstance(last, IngestError):
        raise last
    raise IngestError(f"download failed: {last}", source=source)


def transform(query: YahooQuery, raw: pd.DataFrame) -> pd.DataFrame:
    """Canonical bars: Yahoo's ``Open, High, Low, Close, Adj Close, Volume``
    with a (possibly tz-aware) ``Date`` index."""
    df = raw.copy()
    if isinstance(df.columns, pd.MultiIndex):  # yf.download shape
        df.columns = [c[0] for c in df.columns]
    idx = pd.DatetimeIndex(df.index)
    if idx.tz is not None:
        idx = idx.tz_localize(None)
    df.index = idx.normalize()
    df.index.name = "date"
    df = df.reset_index()
    df["date"] = df["date"].dt.strftime("%Y-%m-%d")
    return canonical_bars(df, f"yahoo:{query.symbol}")
