"""Nasdaq's historical-quote API (the fallback price source) against a local
replay of its recorded answers (:class:`tests.ingest.replay.NasdaqReplay`),
checked against the real closes in ``../shared/data``. The failure modes it
shares with SEC EDGAR (HTTP statuses, cut-short bodies, DNS, TLS) are tested
for both in ``test_live_sources.py``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bubblewatch.core.errors import EmptyDataError, IngestError
from ingest import nasdaq
from tests.ingest.replay import NASDAQ_UNKNOWN, NasdaqReplay, serving

START, END = date(2024, 6, 3), date(2024, 6, 14)


def _prices(shared_data: Path, name: str) -> pd.DataFrame:
    bars = pd.read_csv(shared_data / "prices" / f"{name}.csv", parse_dates=["date"])
    return bars.set_index("date").loc[str(START):str(END)]


@pytest.fixture()
def server(shared_data: Path) -> Iterator[NasdaqReplay]:
    with serving(NasdaqReplay()) as s:
        s.bars.update({"NVDA": (_prices(shared_data, "NVDA"), False),  # type: ignore[attr-defined]
                       "COMP": (_prices(shared_data, "IXIC"), True)})
        yield s  # type: ignore[misc]


def _client() -> object:
    return nasdaq.client("Mozilla/5.0 (test)", rate=100, timeout_s=5, retries=0, backoff_s=0)


def test_a_stock_from_nasdaqs_answer_equals_the_real_closes(server: NasdaqReplay,
                                                            shared_data: Path) -> None:
    q = nasdaq.NasdaqQuery("NVDA", START, END, base_url=server.base_url)
    bars = nasdaq.transform(q, nasdaq.extract(q, _client()))  # type: ignore[arg-type]
    real = _prices(shared_data, "NVDA")
    assert list(bars.columns) == ["open", "high", "low", "close", "adj_close", "volume"]
    assert list(bars.index) == list(real.index)  # ascending, though Nasdaq sends newest first
    for col in ("open", "high", "low", "close"):
        assert np.abs(bars[col] - real[col]).max() <= 0.005  # Nasdaq prints cents
    np.testing.assert_array_equal(bars["volume"].to_numpy(), real["volume"].to_numpy())
    # no adjusted close at Nasdaq: adj_close is close (documented in ingest.nasdaq)
    np.testing.assert_array_equal(bars["adj_close"].to_numpy(), bars["close"].to_numpy())

    ((path, headers),) = server.requests
    assert path == ("/api/quote/NVDA/historical?assetclass=stocks&fromdate=2024-06-03"
                    "&todate=2024-06-14&limit=9999")
    assert headers["User-Agent"] == "Mozilla/5.0 (test)"
    assert headers["Origin"] == "https://www.nasdaq.com"
    assert headers["Referer"] == "https://www.nasdaq.com/"


def test_an_index_is_asked_under_nasdaqs_symbol_without_volume(server: NasdaqReplay,
                                                               shared_data: Path) -> None:
    q = nasdaq.NasdaqQuery("^IXIC", START, END, base_url=server.base_url)
    assert q.nasdaq_symbol == ("COMP", "index")
    bars = nasdaq.transform(q, nasdaq.extract(q, _client()))  # type: ignore[arg-type]
    real = _prices(shared_data, "IXIC")
    assert np.abs(bars["close"] - real["close"]).max() <= 0.005
    assert bars["volume"].isna().all()
    assert server.requests[0][0].startswith("/api/quote/COMP/historical?assetclass=index&")


@pytest.mark.parametrize(("symbol", "nasdaq_symbol"),
                         [("^IXIC", "COMP"), ("^NDX", "NDX"), ("^GSPC", "SPX"), ("nvda", "NVDA")])
def test_symbol_mapping(symbol: str, nasdaq_symbol: str) -> None:
    assert nasdaq.NasdaqQuery(symbol).nasdaq_symbol[0] == nasdaq_symbol


def test_an_unmapped_index_names_the_mapped_ones() -> None:
    with pytest.raises(IngestError, match=r"^nasdaq:\^DJI: no Nasdaq symbol for index \^DJI; "
                                          r"mapped: \^IXIC \(COMP\), \^NDX \(NDX\)"):
        _ = nasdaq.NasdaqQuery("^DJI").url


def test_an_unknown_symbol_is_empty_data_with_nasdaqs_reason(server: NasdaqReplay) -> None:
    q = nasdaq.NasdaqQuery("ZZZZ", START, END, base_url=server.base_url)
    raw = nasdaq.extract(q, _client())  # type: ignore[arg-type]
    assert raw == NASDAQ_UNKNOWN  # HTTP 200, the refusal is inside the JSON
    with pytest.raises(EmptyDataError, match=r"^nasdaq:ZZZZ: Nasdaq has nothing for stocks ZZZZ: "
                                             r"Symbol not exists\.$"):
        nasdaq.transform(q, raw)


def test_a_range_without_rows_is_empty_data(server: NasdaqReplay) -> None:
    q = nasdaq.NasdaqQuery("NVDA", date(2024, 6, 15), date(2024, 6, 16), base_url=server.base_url)
    with pytest.raises(EmptyDataError, match="no rows from 2024-06-15 to 2024-06-16"):
        nasdaq.transform(q, nasdaq.extract(q, _client()))  # type: ignore[arg-type]


def _answer(rows: list[dict]) -> bytes:
    return json.dumps({"data": {"symbol": "NVDA", "totalRecords": len(rows),
                                "tradesTable": {"rows": rows}},
                       "status": {"rCode": 200}}).encode()


GOOD = {"date": "06/14/2024", "close": "$131.88", "volume": "309,320,400", "open": "$129.96",
        "high": "$132.84", "low": "$128.32"}


@pytest.mark.parametrize(("row", "message"), [
    ({**GOOD, "date": "2024-06-14"}, r"\(rows\[1\]\.date\): date '2024-06-14' is not MM/DD/YYYY"),
    ({**GOOD, "close": "$13l.88"}, r"\(rows\[1\]\.close\): '\$13l\.88' is not a number"),
    ({**GOOD, "close": "--"}, r"close is missing"),
    ({**GOOD, "low": "$-1.00"}, r"low '-1\.0' is not a positive price"),
])
def test_a_bad_value_names_its_row_and_field(row: dict, message: str) -> None:
    q = nasdaq.NasdaqQuery("NVDA", START, END)
    second = {**GOOD, "date": "06/13/2024"}
    with pytest.raises(IngestError, match=message):
        nasdaq.transform(q, _answer([second, row]))


@pytest.mark.parametrize(("body", "message"), [
    (b'{"data": null, "status": {"rCode": 200}}', "no data"),
    (b'{"rows": []}', "not Nasdaq's historical-quote JSON"),
    (b"[]", "not Nasdaq's historical-quote JSON"),
    (b'{"data": {"tradesTable": {"rows": {"a": 1}}}, "status": {"rCode": 200}}',
     "tradesTable.rows is not a list"),
])
def test_other_shapes_are_refused(body: bytes, message: str) -> None:
    with pytest.raises(IngestError, match=message):
        nasdaq.transform(nasdaq.NasdaqQuery("NVDA", START, END), body)
