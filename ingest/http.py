"""The HTTP client for live sources: declared headers, a request-rate limit
(per process, or shared by every process through a lock file), retries with
exponential backoff, and one clear error per failed document.

Failures are sorted once, here, so every live source reports them alike:

=====================================  ==============================  =========
what happened                          error                           retried
=====================================  ==============================  =========
host name does not resolve (DNS)       :class:`IngestError`            no
TLS handshake or certificate fails     :class:`IngestError`            no
connection refused, reset, time-out,   :class:`TransientSourceError`   yes
answer cut short (truncated body)
HTTP 429 / 5xx                         :class:`HttpStatusError`        yes (``Retry-After`` honoured)
other HTTP 4xx (403, 404...)           :class:`HttpStatusError`        no
=====================================  ==============================  =========

Whether the network is there at all is asked once before a run
(:func:`check_reachable`), so that a machine without one stops within seconds
with a single line; afterwards each document fails on its own and the run
goes on with the others.
"""

from __future__ import annotations

import json
import os
import re
import socket
import ssl
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx

from bubblewatch.core.errors import (
    HttpStatusError,
    IngestError,
    SourceUnavailableError,
    TransientSourceError,
)

OFFLINE_HINT = "to load data without a network run `bubblewatch ingest --from-dir DIR`"

#: Longest ``Retry-After`` honoured (s); a server asking for more is retried later anyway.
MAX_RETRY_AFTER_S = 120.0


class Limiter(Protocol):
    def wait(self) -> None: ...


class RateLimiter:
    """At most ``rate`` calls per second across the threads of one process
    (minimum spacing of ``1/rate`` seconds)."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.interval = 1.0 / rate
        self._next = 0.0
        self._lock = threading.Lock()
        self._clock, self._sleep = clock, sleep

    def wait(self) -> None:
        with self._lock:
            now = self._clock()
            delay = self._next - now
            self._next = max(now, self._next) + self.interval
        if delay > 0:
            self._sleep(delay)


class FileRateLimiter:
    """At most ``rate`` calls per second across every thread and process that
    shares ``path`` (the SEC's limit is per client machine, and Dask workers
    fetch in parallel).

    A token bucket of capacity one: the file holds the wall-clock time (Unix
    seconds) of the next free slot. Under an exclusive lock on ``path.lock``
    (``filelock``: ``flock`` where the file system has it) a caller takes the
    slot ``max(now, next)`` and moves ``next`` one interval on; it then sleeps
    until its slot outside the lock. Every two calls are thus at least
    ``1/rate`` apart, whichever process makes them. The file lives in the
    cache folder, so processes on one machine (or on machines sharing that
    folder on a file system with working locks) share one budget.

    A ``next`` more than :attr:`max_ahead_s` in the future (the clock was
    set back, or the file is damaged) is reset to now; so is an unreadable
    file.
    """

    max_ahead_s = 300.0

    def __init__(self, path: Path, rate: float, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep, lock_timeout_s: float = 60.0):
        from filelock import FileLock

        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.interval = 1.0 / rate
        self._clock, self._sleep = clock, sleep
        self._thread_lock = threading.Lock()
        self._file_lock = FileLock(str(self.path) + ".lock", timeout=lock_timeout_s,
                                   thread_local=False)

    def reserve(self) -> float:
        """Take the next free slot; return its wall-clock time (Unix seconds)."""
        with self._thread_lock, self._file_lock:
            now = self._clock()
            try:
                nxt = float(self.path.read_text().strip() or 0.0)
            except (OSError, ValueError):
                nxt = 0.0
            if nxt - now > self.max_ahead_s:
                nxt = now
            slot = max(now, nxt)
            write_atomic(self.path, f"{slot + self.interval!r}\n".encode())
        return slot

    def wait(self) -> None:
        delay = self.reserve() - self._clock()
        if delay > 0:
            self._sleep(delay)


def check_reachable(url: str, what: str, timeout_s: float = 3.0) -> None:
    """Resolve ``url``'s host within ``timeout_s``; raise
    :class:`SourceUnavailableError` with the offline hint if it cannot."""
    host = urlsplit(url).hostname or url
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        pool.submit(socket.getaddrinfo, host, 443).result(timeout=timeout_s)
    except (OSError, FutureTimeout) as exc:
        reason = "timed out" if isinstance(exc, FutureTimeout) else str(exc)
        raise SourceUnavailableError(
            f"cannot reach {what} ({host}: {reason}); {OFFLINE_HINT}"
        ) from None
    finally:
        pool.shutdown(wait=False)


class HttpClient:
    """``GET`` with rate limiting and retries (see the module table).

    Parameters
    ----------
    user_agent
        Sent as ``User-Agent`` on every request.
    rate
        Requests per second for the in-process limiter, used unless ``limiter``
        is given (e.g. a :class:`FileRateLimiter` shared across processes).
    headers
        Further headers sent on every request.
    """

    def __init__(self, user_agent: str, *, rate: float = 8.0, timeout_s: float = 20.0,
                 retries: int = 3, backoff_s: float = 1.0,
                 headers: Mapping[str, str] | None = None, limiter: Limiter | None = None,
                 transport: httpx.BaseTransport | None = None,
                 sleep: Callable[[float], None] = time.sleep):
        self.client = httpx.Client(
            headers={"User-Agent": user_agent, "Accept-Encoding": "gzip, deflate",
                     **(headers or {})},
            timeout=timeout_s, transport=transport, follow_redirects=True,
        )
        self.limiter: Limiter = limiter or RateLimiter(rate, sleep=sleep)
        self.retries, self.backoff_s, self._sleep = retries, backoff_s, sleep

    def get(self, url: str) -> httpx.Response:
        """The response to ``GET url`` (status < 400, body read in full)."""
        last: IngestError | None = None
        for attempt in range(self.retries + 1):
            self.limiter.wait()
            wait = self.backoff_s * 2**attempt
            try:
                resp = self.client.get(url)
            except httpx.TransportError as exc:
                last = _transport_error(exc, url)
                if not isinstance(last, TransientSourceError):
                    raise last from None
            else:
                if resp.status_code < 400:
                    return resp
                last = status_error(resp.status_code, resp.headers.get("Retry-After"),
                                    resp.text, url)
                if not last.transient:
                    raise last
                wait = last.retry_after if last.retry_after is not None else wait
            if attempt < self.retries:
                self._sleep(wait)
        assert last is not None
        raise with_note(last, f"gave up after {self.retries + 1} attempts")

    def close(self) -> None:
        self.client.close()


def status_error(status: int, retry_after: str | None, body: str, source: str) -> HttpStatusError:
    """An :class:`HttpStatusError` whose message quotes the start of ``body``
    (tags and runs of white space removed), e.g. ``HTTP 403: Access denied``."""
    text = re.sub(r"<[^>]*>", " ", body[:2000])
    text = " ".join(text.split())[:160]
    return HttpStatusError(f"HTTP {status}" + (f": {text}" if text else ""), status=status,
                           retry_after=parse_retry_after(retry_after), source=source)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds of a ``Retry-After`` header given in seconds (capped at
    :data:`MAX_RETRY_AFTER_S`); ``None`` when absent or an HTTP date."""
    try:
        return min(max(float(value), 0.0), MAX_RETRY_AFTER_S) if value is not None else None
    except ValueError:
        return None


def parse_json_body(body: bytes, source: str) -> Any:
    """Decode a JSON answer, or raise one :class:`IngestError` that says what
    came instead: nothing, an HTML page (a block page, a log-in or error
    page), or JSON cut short or malformed."""
    text = body.lstrip()
    if not text:
        raise IngestError("empty answer (no body)", source=source)
    if text[:1] == b"<":
        title = re.search(rb"<title[^>]*>(.*?)</title>", text[:4096], re.IGNORECASE | re.DOTALL)
        what = f" titled {title.group(1).decode(errors='replace').strip()!r}" if title else ""
        raise IngestError(f"answered an HTML page{what} instead of JSON", source=source)
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        where = (f" at line {exc.lineno}, column {exc.colno}"
                 if isinstance(exc, json.JSONDecodeError) else "")
        raise IngestError(f"answer is not valid JSON{where} ({len(body)} bytes; cut short?)",
                          source=source) from None


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder
    and an atomic rename: readers see the old file or the new, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _transport_error(exc: httpx.TransportError, url: str) -> IngestError:
    host = urlsplit(url).hostname or url
    if _caused_by(exc, socket.gaierror) or _is_dns_text(str(exc)):
        return IngestError(f"cannot resolve host {host} ({exc}); check the network or DNS, "
                           f"or {OFFLINE_HINT}", source=url)
    if _caused_by(exc, ssl.SSLError) or "SSL" in str(exc):
        return IngestError(f"TLS failure talking to {host} ({exc}); check the system clock "
                           "and, behind a TLS-inspecting proxy, SSL_CERT_FILE", source=url)
    if isinstance(exc, httpx.TimeoutException):
        return TransientSourceError(f"timed out ({type(exc).__name__})", source=url)
    if isinstance(exc, httpx.RemoteProtocolError):
        return TransientSourceError(f"answer cut short ({exc})", source=url)
    return TransientSourceError(f"connection failed ({exc or type(exc).__name__})", source=url)


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        if isinstance(cur, kind):
            return True
        seen.add(id(cur))
        cur = cur.__cause__ or cur.__context__
    return False


def _is_dns_text(text: str) -> bool:
    text = text.lower()
    return any(s in text for s in ("name or service not known", "nodename nor servname",
                                   "temporary failure in name resolution",
                                   "no address associated with hostname"))


def with_note(exc: IngestError, note: str | None = None, *,
              source: str | None = None) -> IngestError:
    """A copy of ``exc`` (same class, location, status) whose message ends with
    `` (note)``, and that names ``source`` instead of its own, if given."""
    text = str(exc)
    prefix = ""
    if exc.source:
        prefix = exc.source + (f" ({exc.location})" if exc.location else "") + ": "
    bare = text.removeprefix(prefix)
    fields: dict[str, Any] = {"source": source or exc.source, "location": exc.location}
    if isinstance(exc, HttpStatusError):
        fields.update(status=exc.status, retry_after=exc.retry_after)
    return type(exc)(f"{bare} ({note})" if note else bare, **fields)
