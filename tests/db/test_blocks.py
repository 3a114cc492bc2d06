"""Indicator series as yearly blocks (db/blocks.py) and the stores over them."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from db import blocks, repo
from db.session import session_scope


def _frame(start: str, n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    idx = pd.bdate_range(start, periods=n, name="date")
    a = rng.standard_normal(n)
    a[::7] = np.nan
    return pd.DataFrame({"a": a, "b": np.cumsum(rng.standard_normal(n)) * 1e6,
                         "c": np.where(np.arange(n) > n // 2, 1.0, np.nan)}, index=idx)


def test_blocks_round_trip_bit_for_bit() -> None:
    f = _frame("2019-12-20", 800)
    parts = blocks.split_years(f)
    assert sorted(parts) == sorted(set(f.dropna(how="all").index.year))
    back = pd.concat([blocks.decode(blocks.encode(b.days, b.values), b.fields).frame()
                      for b in parts.values()])
    want = f.dropna(how="all")
    for col in f.columns:
        got = back[col].reindex(want.index).to_numpy()
        assert np.array_equal(got.view(np.int64)[np.isfinite(got)],
                              want[col].to_numpy().view(np.int64)[np.isfinite(got)])
        assert np.array_equal(np.isnan(got), np.isnan(want[col].to_numpy()))


def test_merge_and_tail_replace() -> None:
    f = _frame("2021-01-01", 100)
    (old,) = blocks.split_years(f).values()
    newer = f.iloc[50:].copy() * 2
    (new,) = blocks.split_years(newer).values()
    merged = blocks.merge(old, new, replace_from=int(new.days[0]))
    assert np.array_equal(merged.days, old.days)
    got = merged.frame()
    assert got["b"].iloc[:50].equals(f["b"].iloc[:50])
    assert got["b"].iloc[50:].equals(newer["b"])
    assert blocks.changed_values(old, merged) == int(newer.notna().sum().sum())


@pytest.mark.parametrize("mode", ["replace", "merge", "tail"])
def test_store_modes_match_their_definition(db_url: str, mode: str) -> None:
    base = _frame("2020-06-01", 400, seed=1)
    new = _frame("2021-03-01", 200, seed=2)
    with session_scope(db_url) as s:
        repo.store_indicator_result(s, indicator="t", key="K", params={}, params_hash="h",
                                    frame=base, events=[], meta={}, as_of=None)
    w = repo.SeriesWrite("t", "K", {}, "h", new, {}, None, None, mode,
                         new.index[0].date() if mode == "tail" else None)
    with session_scope(db_url) as s:
        (written,) = repo.store_indicator_results(s, [w])
        got = repo.indicator_wide(s, "t", "K")
        (run,) = repo.latest_runs(s, "t", "K")
        lv = repo.latest_values(s, "t")
    if mode == "replace":
        want = new
    elif mode == "merge":
        want = new.combine_first(base)
    else:
        want = pd.concat([base[base.index < new.index[0]], new])
    want = want.dropna(how="all")
    want.index = want.index.astype("datetime64[s]")
    pd.testing.assert_frame_equal(got, want[sorted(want.columns)], check_freq=False,
                                  check_names=False)
    assert run.rows == int(want.notna().sum().sum())
    assert run.first_date == want.index[0].date() and run.last_date == want.index[-1].date()
    assert lv["date"].iloc[0] == want.index[-1].date()
    assert written > 0
    with session_scope(db_url) as s:  # the same write again changes nothing
        assert repo.store_indicator_results(s, [w]) == [0]


def test_long_frame_keeps_its_shape(db_url: str) -> None:
    f = _frame("2022-01-03", 30)
    with session_scope(db_url) as s:
        repo.store_indicator_result(s, indicator="t", key="K", params={}, params_hash="h",
                                    frame=f, events=[], meta={}, as_of=None)
        long = repo.indicator_frame(s, "t", "K", fields=["b"], start=date(2022, 1, 10))
    assert list(long.columns) == ["indicator", "key", "params_hash", "field", "date", "value",
                                  "computed_at"]
    want = f.loc["2022-01-10":, "b"]
    assert long["value"].tolist() == want.tolist()
    assert long["date"].tolist() == [d.date() for d in want.index]
