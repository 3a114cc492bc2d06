"""Yahoo downloads in chunks and threads: every symbol through the same
retries, one error per failing symbol, and a rate limit that pauses every
thread (ingest.yahoo.extract_many)."""

from __future__ import annotations

import threading
from datetime import date

import pandas as pd

from bubblewatch.core.errors import EmptyDataError, HttpStatusError, IngestError
from ingest import yahoo


def _frame() -> pd.DataFrame:
    idx = pd.DatetimeIndex(["2024-01-02"], name="Date")
    return pd.DataFrame({"Open": [1.0], "High": [1.0], "Low": [1.0], "Close": [1.0],
                         "Adj Close": [1.0], "Volume": [10]}, index=idx)


def test_chunks_threads_errors_and_a_shared_pause() -> None:
    calls: list[str] = []
    lock = threading.Lock()
    limited = {"RATE": 1}

    def fetch(symbol: str, start: date | None, end: date | None) -> pd.DataFrame:
        with lock:
            calls.append(symbol)
        if symbol == "RATE" and limited["RATE"]:
            limited["RATE"] -= 1
            raise HttpStatusError("rate limited", status=429, retry_after=7.0)
        if symbol == "GONE":
            raise EmptyDataError("no timezone found", source=f"yahoo:{symbol}")
        if symbol == "DENIED":
            raise HttpStatusError("forbidden", status=403)
        return _frame()

    pauses: list[float] = []
    symbols = ["A", "RATE", "GONE", "B", "DENIED", "C", "D"]
    chunks = list(yahoo.extract_many([yahoo.YahooQuery(s, date(2024, 1, 1)) for s in symbols],
                                     fetch, threads=3, chunk_size=3, retries=2, backoff_s=1.0,
                                     sleep=pauses.append))
    assert [len(c) for c in chunks] == [3, 3, 1]
    got = {q.symbol: r for c in chunks for q, r in c}
    assert [q.symbol for c in chunks for q, _ in c] == symbols  # query order kept
    assert all(isinstance(got[s], pd.DataFrame) for s in ("A", "RATE", "B", "C", "D"))
    assert isinstance(got["GONE"], EmptyDataError) and "GONE" in str(got["GONE"])
    assert isinstance(got["DENIED"], IngestError) and calls.count("DENIED") == 1  # no retry
    assert calls.count("RATE") == 2  # retried once, after Retry-After
    assert pauses and max(pauses) > 6.0  # the pause every thread waits out


def test_one_thread_gives_the_serial_answers() -> None:
    seen: list[str] = []

    def fetch(symbol: str, start: date | None, end: date | None) -> pd.DataFrame:
        seen.append(symbol)
        return _frame()

    qs = [yahoo.YahooQuery(s, None) for s in ("X", "Y", "Z")]
    (chunk,) = yahoo.extract_many(qs, fetch, threads=1, chunk_size=10)
    assert seen == ["X", "Y", "Z"] and [q.symbol for q, _ in chunk] == ["X", "Y", "Z"]
