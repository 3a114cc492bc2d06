"""The bulk price reader (:func:`db.repo.price_frames`, the daily update's)
returns what the one-symbol reader (:func:`db.repo.price_frame`) returns."""

from __future__ import annotations

import time
from datetime import date

import numpy as np
import pandas as pd

from db import repo
from db.session import session_scope


def add_second_source(url: str, symbol: str, days: int = 3) -> pd.DataFrame:
    """Store ``symbol``'s last ``days`` bars again from another source, 1% higher:
    the later ingestion must win wherever a date is held twice."""
    with session_scope(url) as s:
        bars = repo.price_frame(s, symbol).iloc[-days:]
    time.sleep(1.1)  # a later ingestion time, at the databases' one-second resolution
    other = bars.copy()
    for c in ("open", "high", "low", "close", "adj_close"):
        other[c] = other[c] * 1.01
    with session_scope(url) as s:
        repo.upsert_bars(s, symbol, "other", other)
    return other


def check_bulk_reads(url: str, symbols: list[str], twice: str) -> None:
    """Every way of calling :func:`repo.price_frames` against
    :func:`repo.price_frame` and the stored row counts (``twice``: a symbol
    with dates held by two sources)."""
    starts = {s: date(2020 + i % 5, 1 + i % 12, 1 + i) for i, s in enumerate(symbols)}
    with session_scope(url) as s:
        full = {sym: repo.price_frame(s, sym) for sym in symbols}
        counts = repo.price_fingerprints(s, symbols)
        frames, raw = repo.price_frames(s, [*symbols, "NOSUCH"])
        assert frames["NOSUCH"].empty and "NOSUCH" not in raw
        for sym in symbols:
            pd.testing.assert_frame_equal(frames[sym], full[sym], check_freq=False)
            # the raw rows: every source, dates ascending, summing to the fingerprint
            assert raw[sym].days.shape[0] == counts[sym][0]
            assert np.isclose(raw[sym].adj_close.sum(), counts[sym][1], rtol=1e-12)
            assert (np.diff(raw[sym].days) >= 0).all()
        one_start, _ = repo.price_frames(s, symbols, start=date(2024, 1, 1), closes_only=True)
        each, _ = repo.price_frames(s, symbols, start=starts, closes_only=True)
        for sym in symbols:
            cut = full[sym][full[sym].index >= pd.Timestamp(2024, 1, 1)][["close", "adj_close"]]
            pd.testing.assert_frame_equal(one_start[sym], cut, check_freq=False)
            cut = full[sym][full[sym].index >= pd.Timestamp(starts[sym])][["close", "adj_close"]]
            pd.testing.assert_frame_equal(each[sym], cut, check_freq=False)
    assert counts[twice][0] == len(full[twice]) + 3  # three dates held twice, read once


def test_bulk_price_reads_equal_one_symbol_reads(seeded_db_copy: str) -> None:
    other = add_second_source(seeded_db_copy, "NVDA")
    with session_scope(seeded_db_copy) as s:
        nvda = repo.price_frame(s, "NVDA")
    assert np.array_equal(nvda["adj_close"].to_numpy()[-3:], other["adj_close"].to_numpy())
    check_bulk_reads(seeded_db_copy, ["NVDA", "CSCO", "^GSPC", "MSFT"], "NVDA")
