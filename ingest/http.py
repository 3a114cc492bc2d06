"""The HTTP client for live sources: declared User-Agent, a request-rate
limit, retries with exponential backoff, and one clear error when the network
is unreachable."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from urllib.parse import urlsplit

import httpx

from bubblewatch.core.errors import IngestError, SourceUnavailableError

OFFLINE_HINT = "to load data without a network run `bubblewatch ingest --from-dir DIR`"


class RateLimiter:
    """At most ``rate`` calls per second across threads (minimum spacing)."""

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
    """``GET`` with rate limiting and retries.

    Retries connection errors, 429 (honouring ``Retry-After``) and 5xx with
    exponential backoff; other 4xx fail at once.
    """

    def __init__(self, user_agent: str, *, rate: float = 8.0, timeout_s: float = 20.0,
                 retries: int = 3, backoff_s: float = 1.0,
                 transport: httpx.BaseTransport | None = None,
                 sleep: Callable[[float], None] = time.sleep):
        self.client = httpx.Client(
            headers={"User-Agent": user_agent, "Accept-Encoding": "gzip, deflate"},
            timeout=timeout_s, transport=transport, follow_redirects=True,
        )
        self.limiter = RateLimiter(rate, sleep=sleep)
        self.retries, self.backoff_s, self._sleep = retries, backoff_s, sleep

    def get(self, url: str) -> httpx.Response:
        last: Exception | None = None
        for attempt in range(self.retries + 1):
            self.limiter.wait()
            try:
                resp = self.client.get(url)
            except httpx.ConnectError as exc:
                if _is_dns_failure(exc):
                    raise SourceUnavailableError(f"cannot resolve host ({exc}); {OFFLINE_HINT}",
                                                 source=url) from None
                last = exc
            except httpx.TransportError as exc:
                last = exc
            else:
                if resp.status_code == 429 or resp.status_code >= 500:
                    last = IngestError(f"HTTP {resp.status_code}", source=url)
                    if attempt < self.retries:
                        self._sleep(_retry_after(resp) or self.backoff_s * 2**attempt)
                        continue
                    break
                if resp.status_code >= 400:
                    raise IngestError(f"HTTP {resp.status_code}: {resp.text[:200]}", source=url)
                return resp
            if attempt < self.retries:
                self._sleep(self.backoff_s * 2**attempt)
        raise IngestError(f"failed after {self.retries + 1} attempts: {last}", source=url)

    def close(self) -> None:
        self.client.close()


def _is_dns_failure(exc: httpx.ConnectError) -> bool:
    text = str(exc).lower()
    return any(s in text for s in ("name or service not known", "nodename nor servname",
                                   "temporary failure in name resolution", "getaddrinfo"))


def _retry_after(resp: httpx.Response) -> float | None:
    value = resp.headers.get("Retry-After")
    try:
        return min(float(value), 120.0) if value is not None else None
    except ValueError:
        return None
