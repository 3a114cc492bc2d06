"""SEC EDGAR XBRL companyfacts endpoint:
``{base_url}/api/xbrl/companyfacts/CIK##########.json``.

The SEC asks every client to declare a User-Agent with a contact and to stay
under 10 requests per second; both come from ``[sec]`` settings.
"""

from __future__ import annotations

from dataclasses import dataclass

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


def extract(query: EdgarQuery, client: HttpClient) -> bytes:
    """The raw response body (the only I/O)."""
    return client.get(query.url).content


def transform(query: EdgarQuery, raw: bytes) -> list[FactRow]:
    """Canonical fact rows from the raw body."""
    data = load_json(raw, query.url)
    return parse_companyfacts(data, query.url, symbol=query.symbol, expected_cik=query.cik,
                              source_tag="edgar")
