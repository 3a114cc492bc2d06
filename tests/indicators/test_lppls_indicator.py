"""The registered LPPLS indicator: keys, end-date grid, incremental runs, bad data."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from bubblewatch.core.errors import ConfigError
from bubblewatch.core.universe import default_universe
from indicators import lppls as L
from indicators import lppls_indicator as LI
from indicators import registry
from indicators.frame_source import FrameSource
from indicators.registry import ComputeContext

SMALL = LI.LpplsParams(span=30, step=10, min_window=100, max_window=300, window_step=100)


def bars(n: int = 360, seed: int = 5) -> pd.DataFrame:
    """Daily bars whose log adj_close is an LPPLS bubble with noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(n, dtype=float)
    y = L.lppls_model(t, n + 15.0, 0.5, 8.0, 4.0, -0.03, 0.0012, -0.0009) + rng.normal(
        0, 0.003, n)
    idx = pd.DatetimeIndex(pd.bdate_range("2023-01-02", periods=n), name="date")
    p = np.exp(y)
    return pd.DataFrame({"open": p, "high": p, "low": p, "close": p, "adj_close": p,
                         "volume": 1e6}, index=idx)


def ctx(frames: dict[str, pd.DataFrame], since: date | None = None) -> ComputeContext:
    return ComputeContext(source=FrameSource(price_frames=frames), universe=default_universe(),
                          since=since)


def test_registered_and_incremental() -> None:
    ind = registry.get("lppls")
    assert ind is LI.INDICATOR
    assert ind.incremental
    assert set(LI.COLUMNS) >= {"pos_conf", "neg_conf", "pos_tc_median_days", "n_windows"}
    assert ind.parse_params() == LI.LpplsParams()
    assert (ind.defaults.min_window, ind.defaults.max_window,
            ind.defaults.window_step) == (125, 750, 5)
    with pytest.raises(ConfigError, match="no parameter 'windows'"):
        ind.parse_params({"windows": 3})


def test_default_keys_are_headline_symbols_in_the_universe() -> None:
    u = default_universe()
    assert list(LI.default_keys(u)) == ["NVDA", "^NDX", "^IXIC", "CSCO"]
    assert list(LI.default_keys(u.subset(["NVDA", "MSFT"]))) == ["NVDA"]


def test_end_positions_grid_is_anchored() -> None:
    pos = LI.end_positions(1000, span=100, step=10, max_window=750)
    assert list(pos[:3]) == [900, 910, 920] and pos[-1] == 999
    later = LI.end_positions(1003, span=100, step=10, max_window=750)
    assert set(pos[:-1]) - set(later) == {900}  # the grid stays put as days are added
    assert later[-1] == 1002
    # history shorter than the longest window: start at max_window - 1
    assert LI.end_positions(800, span=252, step=10, max_window=750)[0] == 750
    assert LI.end_positions(700, span=252, step=10, max_window=750).size == 0


def test_compute_returns_confidence_rows() -> None:
    b = bars()
    res = LI.compute(ctx({"NVDA": b}), "NVDA", SMALL)
    f = res.frame
    expected = b.index[LI.end_positions(len(b), 30, 10, 300)]
    assert list(f.index) == list(expected)
    assert list(f.columns) == list(LI.COLUMNS)
    assert (f.dtypes == float).all()
    assert f["n_windows"].eq(3).all()
    assert f["pos_conf"].between(0, 1).all() and f["neg_conf"].between(0, 1).all()
    assert f["pos_conf"].iloc[-1] > 0.5  # the synthetic series is a positive bubble
    assert f["pos_tc_median_days"].iloc[-1] == pytest.approx(15.0, abs=6.0)
    assert res.meta.ends_computed == len(f)
    # the same numbers as the maths API
    direct = L.confidence(b["adj_close"], [len(b) - 1], min_window=100, max_window=300,
                          window_step=100)
    assert f["pos_conf"].iloc[-1] == direct.pos_conf[0]


def test_compute_honours_since() -> None:
    b = bars()
    since = b.index[-12].date()
    res = LI.compute(ctx({"NVDA": b}, since=since), "NVDA", SMALL)
    assert len(res.frame) >= 1
    assert (res.frame.index > pd.Timestamp(since)).all()
    full = LI.compute(ctx({"NVDA": b}), "NVDA", SMALL).frame
    pd.testing.assert_frame_equal(res.frame, full.loc[res.frame.index])
    up_to_date = LI.compute(ctx({"NVDA": b}, since=b.index[-1].date()), "NVDA", SMALL)
    assert up_to_date.frame.empty and up_to_date.meta.note == "up to date"


def test_compute_handles_missing_short_and_dirty_data() -> None:
    missing = LI.compute(ctx({}), "NVDA", SMALL)
    assert missing.frame.empty and "no prices" in missing.meta.missing
    short = LI.compute(ctx({"CRWV": bars(200)}), "CRWV", SMALL)
    assert short.frame.empty and "longest window needs 300" in short.meta.missing
    dirty = bars()
    dirty.iloc[[5, 50], dirty.columns.get_loc("adj_close")] = [np.nan, 0.0]
    res = LI.compute(ctx({"NVDA": dirty}), "NVDA", SMALL)
    assert res.meta.dropped_rows == 2 and not res.frame.empty


def test_bad_params_are_refused_naming_the_parameter() -> None:
    small = SMALL.model_dump()
    with pytest.raises(ConfigError, match="parameter 'step'.*greater than or equal to 1"):
        LI.INDICATOR.parse_params({**small, "step": 0})
    with pytest.raises(ConfigError, match="parameter 'span'.*given 'all'"):
        LI.INDICATOR.parse_params({**small, "span": "all"})
    with pytest.raises(ConfigError, match="min_window .400. must not exceed max_window .300."):
        LI.INDICATOR.parse_params({**small, "min_window": 400})
