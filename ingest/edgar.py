"""SEC EDGAR XBRL companyfacts endpoint:
``{base_url}/api/xbrl/companyfacts/CIK##########.json``.

The SEC asks every client to declare a User-Agent with a name and an e-mail
and to stay under 10 requests per second ("Accessing EDGAR Data",
https://www.sec.gov/os/accessing-edgar-data); clients that do not are answered
HTTP 403. So bubblewatch refuses to call it with the placeholder User-Agent
(:func:`check_user_agent`), and every process on the machine draws on one
request budget (:func:`sec_client`: a :class:`~ingest.http.FileRateLimiter`
under the cache folder).

Downloaded documents are cached for a day; only a complete companyfacts JSON
object is ever written to the cache, and a cached file that is not one is
deleted and fetched again.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

from bubblewatch.core.errors import ConfigError, HttpStatusError, IngestError
from bubblewatch.core.settings import PLACEHOLDER_SEC_USER_AGENT, SecSettings
from ingest.companyfacts import load_json, parse_companyfacts
from ingest.http import FileRateLimiter, HttpClient, parse_json_body, write_atomic
from ingest.models import FactRow

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")


@dataclass(frozen=True, slots=True)
class EdgarQuery:
    cik: int
    symbol: str | None = None
    base_url: str = "https://data.sec.gov"

    @property
    def url(self) -> str:
        return f"{self.base_url.rstrip('/')}/api/xbrl/companyfacts/CIK{self.cik:010d}.json"


#: How long a downloaded companyfacts document is reused (the SEC updates them
#: when a filing lands; one download a day is plenty and spares its servers).
CACHE_MAX_AGE_S = 86_400.0


def check_user_agent(user_agent: str) -> None:
    """Raise :class:`ConfigError` unless ``user_agent`` declares someone: not
    the shipped placeholder, and holding an e-mail address."""
    ua = user_agent.strip()
    if ua == PLACEHOLDER_SEC_USER_AGENT or not _EMAIL.search(ua):
        raise ConfigError(
            "SEC EDGAR answers HTTP 403 to clients that do not say who they are: set "
            'BUBBLEWATCH_SEC__USER_AGENT to "Your Name your@email" (or sec.user_agent in '
            f"bubblewatch.toml); it is now {ua!r}"
        )


def sec_client(settings: SecSettings, cache_dir: Path) -> HttpClient:
    """The HTTP client for the SEC: the declared User-Agent (checked first) and
    one request budget of ``max_requests_per_second`` shared by every thread
    and process that uses ``cache_dir`` (lock file ``cache_dir/ratelimit/sec``)."""
    check_user_agent(settings.user_agent)
    limiter = FileRateLimiter(cache_dir / "ratelimit" / "sec", settings.max_requests_per_second)
    return HttpClient(settings.user_agent, timeout_s=settings.timeout_s, retries=settings.retries,
                      limiter=limiter)


def extract(query: EdgarQuery, client: HttpClient, cache_dir: Path | None = None,
            max_age_s: float = CACHE_MAX_AGE_S) -> bytes:
    """The raw response body (the only I/O).

    With ``cache_dir`` a body downloaded less than ``max_age_s`` seconds ago
    is read from ``cache_dir/CIK##########.json`` instead of the network; a
    fresh download replaces it atomically, and only once it has been checked
    to be a companyfacts JSON object (an empty, HTML, truncated or error body
    is never cached; a cached file that fails the check is deleted).

    Raises
    ------
    IngestError
        The SEC could not be reached or answered something other than a
        companyfacts document; an HTTP 403 says how to declare a User-Agent.
    """
    path = cache_dir / f"CIK{query.cik:010d}.json" if cache_dir is not None else None
    if path is not None and path.is_file() and time.time() - path.stat().st_mtime < max_age_s:
        body = path.read_bytes()
        try:
            _check_document(body, query)
            return body
        except IngestError:
            path.unlink(missing_ok=True)
    try:
        body = client.get(query.url).content
    except HttpStatusError as exc:
        if exc.status == 403:
            raise HttpStatusError(
                "HTTP 403: the SEC refuses clients without a declared User-Agent or above 10 "
                "requests/s; set BUBBLEWATCH_SEC__USER_AGENT to \"Your Name your@email\"",
                status=403, source=exc.source) from None
        raise
    _check_document(body, query)
    if path is not None:
        write_atomic(path, body)
    return body


def _check_document(body: bytes, query: EdgarQuery) -> None:
    data = parse_json_body(body, query.url)
    if not isinstance(data, dict) or "facts" not in data:
        keys = ", ".join(sorted(data)[:5]) if isinstance(data, dict) else type(data).__name__
        raise IngestError(f"not a companyfacts document (no 'facts'; got {keys or 'nothing'})",
                          source=query.url)


def transform(query: EdgarQuery, raw: bytes) -> list[FactRow]:
    """Canonical fact rows from the raw body."""
    data = load_json(raw, query.url)
    return parse_companyfacts(data, query.url, symbol=query.symbol, expected_cik=query.cik,
                              source_tag="edgar")
