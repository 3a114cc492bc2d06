"""Yahoo Finance daily bars through yfinance 1.x.

How yfinance is called, and why
-------------------------------
``yf.Ticker(symbol, session=...).history(start, end, interval="1d",
auto_adjust=False, actions=True, repair=False, keepna=False)``:

* ``auto_adjust=False``: ``Ticker.history`` defaults to ``True`` (and
  ``yf.download`` has since 0.2.51), which rewrites ``Close`` as the
  dividend-adjusted close and drops ``Adj Close``.
  bubblewatch keeps both: ``close`` split-adjusted (Yahoo's chart ``close``),
  ``adj_close`` split- and dividend-adjusted.
* ``actions=True``: ``Dividends`` and ``Stock Splits`` come along (not
  stored; they show that a split was seen and the closes are adjusted for it).
* Single-level columns: ``Ticker.history`` always returns
  ``Open, High, Low, Close, Adj Close, Volume, Dividends, Stock Splits``;
  ``yf.download``'s ``multi_level_index=False`` exists only there, and
  ``download`` logs errors (rate limits included) and returns an empty frame
  instead of raising them, so it is not used.
* ``yf.config.debug.hide_exceptions = False`` (set by
  :func:`configure_yfinance`): otherwise yfinance 1.x logs its errors and
  returns an empty frame; bubblewatch wants the reason. (1.x deprecates the
  old ``raise_errors`` argument in favour of this switch.)
* The session is bubblewatch's own curl_cffi session impersonating Chrome,
  as yfinance's default one does, subclassed (:func:`yahoo_session`) to
  remember the last HTTP error of a data request: yfinance's
  ``YFRateLimitError`` drops the ``Retry-After`` header, and a server error
  otherwise surfaces as "possibly delisted".
* yfinance's caches (time zone per symbol, cookie) go under the configured
  cache folder instead of the user's home.

Failures, as raised by :func:`yfinance_fetcher`'s fetch:

==========================================  ==========================  ========
Yahoo's answer                              error                       retried
==========================================  ==========================  ========
429 (``YFRateLimitError``)                  :class:`HttpStatusError`    yes, after ``Retry-After`` or backoff
5xx, time-out, connection reset             :class:`HttpStatusError` /  yes
                                            :class:`TransientSourceError`
unknown symbol (404, "no timezone found",   :class:`EmptyDataError`     no
"no price data found")
an empty frame with no error                (empty frame)               yes, then :class:`EmptyDataError`
403, DNS failure, TLS failure,              :class:`IngestError`        no
HTML or other non-JSON answer
==========================================  ==========================  ========
"""

from __future__ import annotations

import functools
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from bubblewatch.core.errors import (
    EmptyDataError,
    HttpStatusError,
    IngestError,
    TransientSourceError,
)
from ingest.http import parse_json_body, parse_retry_after, status_error, with_note
from ingest.models import canonical_bars

log = logging.getLogger(__name__)

#: ``fetch(symbol, start, end)`` -> yfinance's frame; raises bubblewatch errors.
Fetch = Callable[[str, date | None, date | None], pd.DataFrame]

#: Paths of Yahoo's data requests (the cookie and crumb requests are not watched:
#: Yahoo answers ``fc.yahoo.com`` with a 404 that yfinance expects).
_DATA_PATHS = ("/v8/finance/chart/", "/v10/finance/quoteSummary/")


@dataclass(frozen=True, slots=True)
class YahooQuery:
    symbol: str
    start: date | None = None
    end: date | None = None


@dataclass(frozen=True, slots=True)
class DataAnswer:
    """Yahoo's last answer to a data request: status, ``Retry-After`` and the
    first 2,000 characters of the body."""

    status: int
    retry_after: str | None
    url: str
    body: str

    def error(self, source: str) -> IngestError:
        """What went wrong, when yfinance's own error hides it: the HTTP status,
        or an HTML page where JSON was due."""
        if self.status >= 400:
            return status_error(self.status, self.retry_after, self.body, source)
        if self.body.lstrip()[:1] == "<":
            try:
                parse_json_body(self.body.encode(), source)
            except IngestError as exc:
                return exc
        return IngestError("Yahoo's answer is not valid JSON (cut short?)", source=source)


@functools.cache
def _session_class() -> type:
    from curl_cffi import requests as curl_requests

    class YahooSession(curl_requests.Session):  # type: ignore[misc, name-defined]
        """curl_cffi session impersonating Chrome (as yfinance's own) that
        remembers, per thread, its last answer to a data request."""

        def __init__(self, **kwargs: Any) -> None:
            kwargs.setdefault("impersonate", "chrome")
            super().__init__(**kwargs)
            self._local = threading.local()

        def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            resp = super().request(method, url, *args, **kwargs)
            if any(p in str(url) for p in _DATA_PATHS):
                self._local.last = DataAnswer(resp.status_code, resp.headers.get("Retry-After"),
                                              str(url), resp.text[:2000])
            return resp

        def take_last(self) -> DataAnswer | None:
            """The last data request's answer (``None`` if none since the last take)."""
            last = getattr(self._local, "last", None)
            self._local.last = None
            return last

    return YahooSession


def yahoo_session(**kwargs: Any) -> Any:
    """A session for yfinance; ``kwargs`` go to ``curl_cffi.requests.Session``
    (``impersonate="chrome"`` unless given; e.g. ``proxy=``, ``verify=``)."""
    return _session_class()(**kwargs)


_config_lock = threading.Lock()
_configured: dict[str, Any] = {}


def configure_yfinance(cache_dir: Path | None = None) -> None:
    """Make yfinance raise its errors, and keep its caches in ``cache_dir``.

    yfinance's cache folder can be set only before its first use in a
    process: the first folder given wins.
    """
    import yfinance as yf

    with _config_lock:
        yf.config.debug.hide_exceptions = False
        if cache_dir is not None and "cache_dir" not in _configured:
            Path(cache_dir).mkdir(parents=True, exist_ok=True)
            yf.set_tz_cache_location(str(cache_dir))
            _configured["cache_dir"] = Path(cache_dir)


def _default_session() -> Any:
    with _config_lock:
        if "session" not in _configured:
            _configured["session"] = yahoo_session()
        return _configured["session"]


def yfinance_fetcher(*, session: Any = None, cache_dir: Path | None = None,
                     timeout_s: float = 10.0) -> Fetch:
    """A :data:`Fetch` that downloads with yfinance (imported on first use:
    heavy, and only needed live).

    Parameters
    ----------
    session
        From :func:`yahoo_session`; by default one shared by the process.
    cache_dir
        Where yfinance keeps its caches (see :func:`configure_yfinance`).
    timeout_s
        Per-request time-out (s).
    """

    def fetch(symbol: str, start: date | None, end: date | None) -> pd.DataFrame:
        configure_yfinance(cache_dir)
        return _download(symbol, start, end, session or _default_session(), timeout_s)

    return fetch


def _download(symbol: str, start: date | None, end: date | None, session: Any,
              timeout_s: float) -> pd.DataFrame:
    import yfinance as yf
    from curl_cffi.requests import exceptions as cx
    from yfinance import exceptions as yfx

    source = f"yahoo:{symbol}"
    session.take_last()
    kwargs: dict[str, Any] = {"interval": "1d", "auto_adjust": False, "actions": True,
                              "repair": False, "keepna": False, "timeout": timeout_s}
    if start is not None:
        kwargs["start"] = start.isoformat()
    else:
        kwargs["period"] = "max"
    if end is not None:
        kwargs["end"] = end.isoformat()
    try:
        frame = yf.Ticker(symbol, session=session).history(**kwargs)
    except yfx.YFRateLimitError:
        last = session.take_last()
        raise HttpStatusError(
            "HTTP 429: Yahoo rate limit (Too Many Requests)", status=429, source=source,
            retry_after=parse_retry_after(last.retry_after) if last else None) from None
    except yfx.YFTickerMissingError as exc:
        last = session.take_last()
        if last is not None and last.status >= 400 and last.status != 404:
            raise last.error(source) from None
        raise EmptyDataError(f"Yahoo has no prices ({exc.rationale})", source=source) from None
    except json.JSONDecodeError:  # also curl_cffi's, a subclass
        last = session.take_last()
        if last is not None:
            raise last.error(source) from None
        raise IngestError("Yahoo's answer is not valid JSON", source=source) from None
    except cx.HTTPError as exc:
        if isinstance(exc, cx.IncompleteRead):
            raise _curl_error(exc, source) from None
        resp = exc.response
        status = int(getattr(resp, "status_code", 0) or 0)
        if status == 404:
            raise EmptyDataError("Yahoo does not know this symbol (HTTP 404)",
                                 source=source) from None
        raise status_error(status, resp.headers.get("Retry-After") if resp is not None else None,
                           resp.text if resp is not None else "", source) from None
    except cx.RequestException as exc:
        raise _curl_error(exc, source) from None
    except yfx.YFDataException as exc:  # "*** YAHOO! FINANCE IS CURRENTLY DOWN! ***"
        raise TransientSourceError(f"Yahoo says: {str(exc).strip('* ')}", source=source) from None
    except yfx.YFException as exc:
        raise IngestError(f"yfinance failed: {type(exc).__name__}: {exc}", source=source) from None
    if frame is None or frame.empty:
        last = session.take_last()
        if last is not None and last.status >= 400:
            raise last.error(source)
        return pd.DataFrame()
    return frame


#: curl error codes (https://curl.se/libcurl/c/libcurl-errors.html)
_CURL_DNS = {6}
_CURL_TLS = {35, 53, 54, 58, 59, 60, 64, 66, 77, 80, 82, 83, 90, 91}
_CURL_CUT = {18, 52, 56, 92}


def _curl_error(exc: Exception, source: str) -> IngestError:
    """One line for a curl failure, sorted as in :mod:`ingest.http`."""
    from curl_cffi.requests import exceptions as cx

    code = int(getattr(exc, "code", 0) or 0)
    text = str(exc).split(". See ")[0]
    if isinstance(exc, cx.DNSError) or code in _CURL_DNS:
        return IngestError(f"cannot resolve Yahoo's host ({text}); check the network or DNS, "
                           "or load prices with `bubblewatch ingest --from-dir DIR`",
                           source=source)
    if isinstance(exc, cx.SSLError) or code in _CURL_TLS:
        return IngestError(f"TLS failure talking to Yahoo ({text}); check the system clock and "
                           "any TLS-inspecting proxy", source=source)
    if isinstance(exc, (cx.IncompleteRead, cx.ChunkedEncodingError)) or code in _CURL_CUT:
        return TransientSourceError(f"answer cut short or connection dropped ({text})",
                                    source=source)
    if isinstance(exc, (cx.Timeout, cx.ConnectionError, cx.ProxyError)):
        return TransientSourceError(f"connection failed ({text})", source=source)
    return IngestError(f"download failed ({type(exc).__name__}: {text})", source=source)


def extract(query: YahooQuery, fetch: Fetch, *, retries: int = 3, backoff_s: float = 2.0,
            sleep: Callable[[float], None] = time.sleep) -> pd.DataFrame:
    """Raw bars for one symbol.

    Rate limits, server errors, broken connections and silent empty frames
    are retried up to ``retries`` times, after ``Retry-After`` seconds when
    Yahoo sends one and ``backoff_s * 2**attempt`` otherwise; anything else
    fails at once.

    Raises
    ------
    EmptyDataError
        Yahoo has no rows for the symbol (answered empty on every try, or
        said it does not know it).
    IngestError
        Any other failure, one line naming the symbol.
    """
    source = f"yahoo:{query.symbol}"
    last: IngestError | None = None
    for attempt in range(retries + 1):
        wait = backoff_s * 2**attempt
        try:
            raw = fetch(query.symbol, query.start, query.end)
        except HttpStatusError as exc:
            if not exc.transient:
                raise
            last = exc
            wait = exc.retry_after if exc.retry_after is not None else wait
        except TransientSourceError as exc:
            last = exc
        except IngestError:
            raise
        except Exception as exc:  # noqa: BLE001 - an injected fetch may raise anything
            raise IngestError(f"download failed: {type(exc).__name__}: {exc}",
                              source=source) from None
        else:
            if raw is not None and not raw.empty:
                return raw
            last = EmptyDataError("Yahoo returned no rows", source=source)
        if attempt < retries:
            log.info("%s: %s; retrying in %.1f s", query.symbol, last, wait)
            sleep(wait)
    assert last is not None
    if isinstance(last, EmptyDataError):
        raise EmptyDataError(f"Yahoo returned no rows ({retries + 1} tries)", source=source)
    raise with_note(last, f"gave up after {retries + 1} tries")


def transform(query: YahooQuery, raw: pd.DataFrame) -> pd.DataFrame:
    """Canonical bars from yfinance's frame: ``Open, High, Low, Close, Adj Close,
    Volume`` (further columns such as ``Dividends`` are ignored) on a
    (possibly time-zone-aware) ``Date`` index, one day per row."""
    df = raw.copy()
    if isinstance(df.columns, pd.MultiIndex):  # yf.download's (Price, Ticker) shape
        tickers = set(df.columns.get_level_values(-1))
        if len(tickers) != 1:
            raise IngestError(f"expected one symbol's columns, got {sorted(tickers)}",
                              source=f"yahoo:{query.symbol}", location="header")
        df.columns = [c[0] for c in df.columns]
    idx = pd.DatetimeIndex(df.index)
    if idx.tz is not None:
        idx = idx.tz_localize(None)
    df.index = idx.normalize()
    df.index.name = "date"
    df = df.reset_index()
    df["date"] = df["date"].dt.strftime("%Y-%m-%d")
    return canonical_bars(df, f"yahoo:{query.symbol}")


class _Gate:
    """A pause shared by every download thread: a rate limit seen by one
    thread holds all of them back until it has passed (so a pool of threads
    backs off together instead of hammering Yahoo with the other threads)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._until = 0.0
        self._lock = threading.Lock()
        self._clock, self._sleep = clock, sleep

    def pause(self, seconds: float) -> None:
        """Hold every thread for ``seconds`` from now, then return."""
        with self._lock:
            self._until = max(self._until, self._clock() + seconds)
        self.wait()

    def wait(self) -> None:
        """Return once no pause is in force (waiting again if another thread
        lengthened the pause meanwhile)."""
        while True:
            with self._lock:
                until = self._until
                left = until - self._clock()
            if left <= 0:
                return
            self._sleep(left)
            with self._lock:
                if self._until == until:
                    return


def extract_many(queries: list[YahooQuery], fetch: Fetch, *, threads: int = 4,
                 chunk_size: int = 50, retries: int = 3, backoff_s: float = 2.0,
                 sleep: Callable[[float], None] = time.sleep,
                 ) -> Iterator[list[tuple[YahooQuery, pd.DataFrame | Exception]]]:
    """Raw bars for many symbols: chunks of ``chunk_size`` queries, each chunk
    downloaded by ``threads`` threads, yielded chunk by chunk in query order
    (memory stays bounded and the caller writes one chunk while nothing else
    waits on it).

    Every symbol goes through :func:`extract` (same retries, same one-line
    errors: a failure, expected or not, is returned in place of the frame,
    never raised, so one symbol never stops the others); a rate limit or server error seen by any
    thread pauses all of them (``Retry-After``, else ``backoff_s * 2**attempt``).
    """
    from concurrent.futures import ThreadPoolExecutor

    gate = _Gate(sleep=sleep)

    def gated(symbol: str, start: date | None, end: date | None) -> pd.DataFrame:
        gate.wait()
        return fetch(symbol, start, end)

    def one(q: YahooQuery) -> tuple[YahooQuery, pd.DataFrame | Exception]:
        try:
            return q, extract(q, gated, retries=retries, backoff_s=backoff_s, sleep=gate.pause)
        except Exception as exc:  # noqa: BLE001 - handed to the caller with its symbol
            return q, exc

    size = max(1, int(chunk_size))
    with ThreadPoolExecutor(max_workers=max(1, int(threads)),
                            thread_name_prefix="yahoo") as pool:
        for i in range(0, len(queries), size):
            yield list(pool.map(one, queries[i:i + size]))
