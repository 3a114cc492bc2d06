"""SEC EDGAR XBRL companyfacts endpoint:
``{base_url}/api/xbrl/companyfacts/CIK##########.json``.

The SEC asks every client to declare a User-Agent with a contact and to stay
under 10 requests per second; both come from ``[sec]`` settings.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from ingest.companyfacts import load_json, parse_companyfacts
from ingest.http import HttpClient
from ingest.models import FactRow


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


def extract(query: EdgarQuery, client: HttpClient, cache_dir: Path | None = None,
            max_age_s: float = CACHE_MAX_AGE_S) -> bytes:
    """The raw response body (the only I/O).

    With ``cache_dir`` a body downloaded less than ``max_age_s`` seconds ago
    is read from ``cache_dir/CIK##########.json`` instead of the network; a
    fresh download replaces it atomically.
    """
    path = cache_dir / f"CIK{query.cik:010d}.json" if cache_dir is not None else None
    if path is not None and path.is_file() and time.time() - path.stat().st_mtime < max_age_s:
        return path.read_bytes()
    body = client.get(query.url).content
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".part")
        with os.fdopen(fd, "wb") as fh:
            fh.write(body)
        os.replace(tmp, path)
    return body


def transform(query: EdgarQuery, raw: bytes) -> list[FactRow]:
    """Canonical fact rows from the raw body."""
    data = load_json(raw, query.url)
    return parse_companyfacts(data, query.url, symbol=query.symbol, expected_cik=query.cik,
                              source_tag="edgar")
