"""Nasdaq's historical-quote API: the price source used for a symbol when
Yahoo fails on it.

``GET {base_url}/api/quote/{SYMBOL}/historical?assetclass={stocks|index}
&fromdate=YYYY-MM-DD&todate=YYYY-MM-DD&limit=N`` answers JSON::

    {"data": {"symbol": "NVDA", "totalRecords": 2,
              "tradesTable": {"headers": {...}, "rows": [
                  {"date": "06/14/2024", "close": "$131.88", "volume": "309,320,400",
                   "open": "$129.96", "high": "$132.84", "low": "$128.32"}, ...]}},
     "message": null, "status": {"rCode": 200, "bCodeMessage": null}}

and, for a symbol it does not know, HTTP 200 with ``"data": null`` and
``"status": {"rCode": 400, "bCodeMessage": [{"code": 1001,
"errorMessage": "Symbol not exists."}]}``.

Why this source: it needs no key and serves daily open/high/low/close/volume
for US stocks and the Nasdaq, Nasdaq-100 and S&P 500 indices. Stooq's CSV
download, the usual keyless alternative, has asked for an API key since
March 2026 and answers other clients with an HTML page (pandas-datareader
issue #1012). Limits, all documented here rather than hidden:

* **No adjusted close.** Prices are split-adjusted but not
  dividend-adjusted; ``adj_close`` is set to ``close``. That is what Yahoo's
  back-adjusted ``adj_close`` equals for every day after the latest
  ex-dividend date, i.e. for the recent days a fallback fills in; across an
  ex-dividend date inside the range the two differ by that dividend. Rows
  are stored with ``source = "nasdaq"``, so they can be told apart and
  replaced when Yahoo answers again.
* **Symbols.** Stocks go as they are (``assetclass=stocks``); indices are
  mapped (:data:`INDEX_SYMBOLS`: ``^IXIC`` -> ``COMP``, ``^NDX`` -> ``NDX``,
  ``^GSPC`` -> ``SPX``, ``assetclass=index``); an unmapped index fails with a
  message naming the mapped ones. Index volumes are ``--`` (stored missing).
* **Depth.** Not documented; expect about the last ten years (the site's
  longest view). Dates Nasdaq does not have are simply absent.
* **Clients.** An undocumented public endpoint behind a CDN that leaves
  non-browser clients without an answer: requests carry a browser-like
  User-Agent, ``Origin`` and ``Referer`` (``market.fallback_user_agent``),
  at most ``market.fallback_max_requests_per_second``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pandas as pd

from bubblewatch.core.errors import EmptyDataError, IngestError
from ingest.http import HttpClient, parse_json_body, with_note
from ingest.models import canonical_bars

#: Yahoo index symbol -> Nasdaq index symbol.
INDEX_SYMBOLS: dict[str, str] = {"^IXIC": "COMP", "^NDX": "NDX", "^GSPC": "SPX"}

#: Headers Nasdaq's site sends with its own API calls (besides the User-Agent).
HEADERS: dict[str, str] = {
    "Accept": "application/json, text/plain, */*",
    "Accept-Language": "en-US,en;q=0.9",
    "Origin": "https://www.nasdaq.com",
    "Referer": "https://www.nasdaq.com/",
}

#: Asked when a query has no start date; Nasdaq answers what it has (about ten years).
EARLIEST = date(1990, 1, 1)
#: Rows asked for at most (more than 35 years of trading days).
ROW_LIMIT = 9999

_MISSING = {"", "--", "n/a", "na", "null"}


@dataclass(frozen=True, slots=True)
class NasdaqQuery:
    """Daily bars of ``symbol`` (a universe symbol, Yahoo spelling) from
    ``start`` to ``end`` inclusive (``end`` defaults to today)."""

    symbol: str
    start: date | None = None
    end: date | None = None
    base_url: str = "https://api.nasdaq.com"

    @property
    def source(self) -> str:
        return f"nasdaq:{self.symbol}"

    @property
    def nasdaq_symbol(self) -> tuple[str, str]:
        """``(symbol, assetclass)`` in Nasdaq's terms."""
        if self.symbol.startswith("^"):
            if self.symbol not in INDEX_SYMBOLS:
                known = ", ".join(f"{k} ({v})" for k, v in INDEX_SYMBOLS.items())
                raise IngestError(f"no Nasdaq symbol for index {self.symbol}; mapped: {known}",
                                  source=self.source)
            return INDEX_SYMBOLS[self.symbol], "index"
        return self.symbol.upper(), "stocks"

    @property
    def url(self) -> str:
        sym, asset_class = self.nasdaq_symbol
        start = (self.start or EARLIEST).isoformat()
        end = (self.end or date.today()).isoformat()
        return (f"{self.base_url.rstrip('/')}/api/quote/{sym}/historical?assetclass={asset_class}"
                f"&fromdate={start}&todate={end}&limit={ROW_LIMIT}")


def client(user_agent: str, *, rate: float, timeout_s: float, retries: int,
           backoff_s: float) -> HttpClient:
    """An :class:`~ingest.http.HttpClient` that sends Nasdaq's browser headers."""
    return HttpClient(user_agent, rate=rate, timeout_s=timeout_s, retries=retries,
                      backoff_s=backoff_s, headers=HEADERS)


def extract(query: NasdaqQuery, http: HttpClient) -> bytes:
    """The raw response body (the only I/O); errors name ``nasdaq:SYMBOL``."""
    try:
        return http.get(query.url).content
    except IngestError as exc:
        raise with_note(exc, source=query.source) from None


def transform(query: NasdaqQuery, raw: bytes) -> pd.DataFrame:
    """Canonical bars (see :func:`ingest.models.canonical_bars`) with
    ``adj_close = close``.

    Raises
    ------
    EmptyDataError
        Nasdaq does not know the symbol, or has no rows in the range.
    IngestError
        The answer is not Nasdaq's JSON (HTML, cut short, another shape) or a
        value is not a date or number; the location names the row
        (``rows[i].field``, ``i`` counted in Nasdaq's order, newest first;
        canonical checks report the same ``i`` as "line").
    """
    src = query.source
    doc = parse_json_body(raw, src)
    if not isinstance(doc, dict) or "status" not in doc and "data" not in doc:
        raise IngestError("not Nasdaq's historical-quote JSON (no 'data' or 'status')", source=src)
    status = doc.get("status") or {}
    rcode = status.get("rCode") if isinstance(status, dict) else None
    data = doc.get("data")
    if rcode not in (None, 200) or data is None:
        reason = _messages(status.get("bCodeMessage") if isinstance(status, dict) else None)
        reason = reason or (f"rCode {rcode}" if rcode not in (None, 200) else "no data")
        sym, asset_class = query.nasdaq_symbol
        raise EmptyDataError(f"Nasdaq has nothing for {asset_class} {sym}: {reason}", source=src)
    table = data.get("tradesTable") if isinstance(data, dict) else None
    rows = table.get("rows") if isinstance(table, dict) else None
    if not rows:
        raise EmptyDataError(
            f"no rows from {query.start or EARLIEST} to {query.end or date.today()}", source=src)
    if not isinstance(rows, list):
        raise IngestError("tradesTable.rows is not a list", source=src)
    records = [_row(r, i, src) for i, r in enumerate(rows)]
    frame = pd.DataFrame.from_records(records, columns=["date", "open", "high", "low", "close",
                                                        "volume"])
    frame["adj_close"] = frame["close"]
    # missing values go in as empty text, the way canonical_bars reads an empty CSV cell
    frame = frame.astype(object).where(frame.notna(), "")
    return canonical_bars(frame, src, first_row=0)


def _row(row: Any, i: int, src: str) -> dict[str, Any]:
    if not isinstance(row, dict):
        raise IngestError("row is not an object", source=src, location=f"rows[{i}]")
    try:
        day = datetime.strptime(str(row.get("date", "")).strip(), "%m/%d/%Y").date()
    except ValueError:
        raise IngestError(f"date {row.get('date')!r} is not MM/DD/YYYY", source=src,
                          location=f"rows[{i}].date") from None
    out: dict[str, Any] = {"date": day.isoformat()}
    for field in ("open", "high", "low", "close", "volume"):
        out[field] = _number(row.get(field), src, f"rows[{i}].{field}")
    return out


def _number(value: Any, src: str, location: str) -> float:
    """``"$1,208.88"`` -> 1208.88; ``"--"``, ``"N/A"`` or absent -> NaN."""
    if value is None:
        return math.nan
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip().replace(",", "").replace("$", "")
    if text.lower() in _MISSING:
        return math.nan
    try:
        return float(text)
    except ValueError:
        raise IngestError(f"{value!r} is not a number", source=src, location=location) from None


def _messages(b_code: Any) -> str:
    if isinstance(b_code, list):
        return "; ".join(str(m.get("errorMessage") or m.get("code") or "").strip()
                         for m in b_code if isinstance(m, dict)).strip("; ")
    return str(b_code).strip() if b_code else ""
