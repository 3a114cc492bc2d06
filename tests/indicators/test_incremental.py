"""Incremental updates equal a full recomputation (psy, runup, regime).

Real prices (../shared/data) are stored up to a Tuesday and then one day at a
time through the following week (a Friday completes a week: the regime model
is refitted; a new week starts a new weekly PSY point); after each day
``compute`` updates incrementally. The stored series, metadata and episodes
are then compared with a full recomputation on a fresh database holding the
same prices: equal bit for bit, except the rolling volatilities, whose last
bits depend on where pandas' running sums start (relative 1e-12).
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from db import repo
from db.session import get_engine, session_scope
from indicators.compute import run_compute
from tests.conftest import load_shared_prices, make_settings

SYMBOLS = ("NVDA", "CSCO", "^GSPC")
NAMES = ["psy", "runup", "regime"]
OVERRIDES = {"psy": {"reps": 200}, "regime": {"em_iter": 30}}
ROLLING = {"vol_2y", "realised_vol"}
START = "2024-06-04"  # a Tuesday
DAYS = 6  # Wed .. Wed: a Friday (refit) and a new week


def _settings(url: str):  # type: ignore[no-untyped-def]
    return make_settings(url, universe={"symbols": list(SYMBOLS)})


def _store(url: str, bars: dict[str, pd.DataFrame], upto: pd.Timestamp,
           after: pd.Timestamp | None = None) -> None:
    with session_scope(url) as s:
        for sym, df in bars.items():
            part = df[df.index <= upto]
            if after is not None:
                part = part[part.index > after]
            repo.upsert_bars(s, sym, "file", part)


def _db(tmp_path: Path, name: str) -> str:
    from bubblewatch.app.jobs import init_db

    url = f"sqlite:///{tmp_path / name}"
    init_db(_settings(url))
    return url


def _series(url: str) -> dict:
    out = {}
    with session_scope(url) as s:
        for name in NAMES:
            for key in SYMBOLS:
                (run,) = repo.latest_runs(s, name, key)
                out[(name, key)] = (repo.indicator_wide(s, name, key), run.meta,
                                    repo.indicator_events(s, name, key))
    get_engine(url).dispose()
    return out


@pytest.mark.slow
def test_incremental_updates_equal_a_full_recomputation(tmp_path: Path) -> None:
    bars = {s: load_shared_prices(s) for s in SYMBOLS}
    days = bars["NVDA"].index[bars["NVDA"].index >= START][: DAYS + 1]
    inc = _db(tmp_path, "inc.sqlite")
    _store(inc, bars, days[0])
    first = run_compute(_settings(inc), NAMES, overrides=OVERRIDES, full=True,
                        show_progress=False)
    assert first.ok and set(first.modes.values()) == {"full"}
    modes = []
    for prev, day in itertools.pairwise(days):
        _store(inc, bars, day, after=prev)
        rep = run_compute(_settings(inc), NAMES, overrides=OVERRIDES, show_progress=False)
        assert rep.ok, rep.errors
        modes.append((day.date(), dict(rep.modes)))
    # the updates were incremental, except the regime refit the day a week completed
    for day, m in modes:
        refit = pd.Timestamp(day).weekday() == 4
        for key in SYMBOLS:
            assert m[f"psy/{key}"] == "incremental"
            assert m[f"runup/{key}"] == "incremental"
            assert m[f"regime/{key}"] == ("full" if refit else "incremental"), (day, key)
    full = _db(tmp_path, "full.sqlite")
    _store(full, bars, days[-1])
    assert run_compute(_settings(full), NAMES, overrides=OVERRIDES, full=True,
                       show_progress=False).ok
    got, want = _series(inc), _series(full)
    for item, (w_frame, w_meta, w_events) in want.items():
        g_frame, g_meta, g_events = got[item]
        assert g_frame.index.equals(w_frame.index), item
        assert list(g_frame.columns) == list(w_frame.columns), item
        for col in w_frame.columns:
            a, b = g_frame[col].to_numpy(), w_frame[col].to_numpy()
            if col in ROLLING:
                np.testing.assert_allclose(a, b, rtol=1e-12, atol=0, err_msg=str(item))
            else:
                assert np.array_equal(a, b, equal_nan=True), (item, col)
        assert g_meta == w_meta, item
        pd.testing.assert_frame_equal(g_events, w_events, obj=str(item))


def test_single_end_kernel_is_the_sequence_kernel_bit_for_bit() -> None:
    from indicators._incremental_kernels import end_points_lag0
    from indicators._psy_inputs import standardise
    from indicators.psy import radf

    for seed in range(12):
        rng = np.random.default_rng(seed)
        n = int(rng.integers(60, 900))
        y = np.cumsum(rng.standard_normal(n))
        if seed % 2:
            y[n // 2:] += np.exp(np.linspace(0, 3, n - n // 2))  # an explosive stretch
        res = radf(y)
        ends = np.unique(np.r_[res.min_window, n - 1, rng.integers(res.min_window, n, 5)])
        bs, bd = np.empty(ends.shape[0]), np.empty(ends.shape[0])
        end_points_lag0(standardise(y.copy()), res.min_window, ends.astype(np.int64), bs, bd)
        idx = ends - res.min_window
        assert np.array_equal(bs, res.bsadf[idx], equal_nan=True)
        assert np.array_equal(bd, res.badf[idx], equal_nan=True)


def test_a_changed_price_history_recomputes_in_full(tmp_path: Path) -> None:
    bars = {s: load_shared_prices(s) for s in SYMBOLS}
    days = bars["NVDA"].index[bars["NVDA"].index >= START][:2]
    url = _db(tmp_path, "rev.sqlite")
    _store(url, bars, days[0])
    assert run_compute(_settings(url), ["runup"], show_progress=False).ok
    revised = {"NVDA": bars["NVDA"].copy()}
    revised["NVDA"].loc[:"2020-01-01", "adj_close"] *= 0.99  # a back-adjusted dividend
    _store(url, revised, days[1])
    _store(url, {k: v for k, v in bars.items() if k != "NVDA"}, days[1], after=days[0])
    rep = run_compute(_settings(url), ["runup"], show_progress=False)
    assert rep.modes["runup/NVDA"] == "full" and rep.modes["runup/CSCO"] == "incremental"
