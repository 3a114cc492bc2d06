"""The LPPLS indicator's Trust fields, filter metadata and ``until``: each
reading against :func:`indicators.lppls.confidence` called on the same data
(one end date at a time, so a reading cannot depend on the other end dates)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from indicators import lppls as L
from indicators import lppls_indicator as LI
from tests.indicators.test_lppls_indicator import bars, ctx

GRID = {"min_window": 100, "max_window": 300, "window_step": 100}
SMALL = LI.LpplsParams(span=30, step=10, trust_resamples=3, seed=7, **GRID)


def _engine(px: pd.Series, end: int, resamples: int, seed: int) -> L.ConfidenceResult:
    return L.confidence(px, [end], trust_resamples=resamples, seed=seed, **GRID)


def test_trust_on_the_latest_end_date_equals_the_engine() -> None:
    b = bars()
    f = LI.compute(ctx({"NVDA": b}), "NVDA", SMALL).frame
    assert f["pos_trust"].iloc[:-1].isna().all() and f["neg_trust"].iloc[:-1].isna().all()
    direct = _engine(b["adj_close"], len(b) - 1, 3, 7)
    assert f["pos_trust"].iloc[-1] == direct.pos_trust[0]
    assert f["neg_trust"].iloc[-1] == direct.neg_trust[0]
    assert f["pos_conf"].iloc[-1] == direct.pos_conf[0]
    assert 0.0 <= f["pos_trust"].iloc[-1] <= 1.0


def test_trust_on_every_end_date_is_each_dates_own_reading() -> None:
    b = bars()
    p = SMALL.model_copy(update={"trust_on": "all", "trust_resamples": 2})
    res = LI.compute(ctx({"NVDA": b}), "NVDA", p)
    f = res.frame
    assert f["pos_trust"].notna().all() and res.meta.trust_ends == len(f)
    for day in f.index[[0, len(f) // 2]]:
        direct = _engine(b["adj_close"], b.index.get_loc(day), 2, 7)
        assert f.loc[day, "pos_trust"] == direct.pos_trust[0]
        assert f.loc[day, "neg_trust"] == direct.neg_trust[0]


def test_until_ends_the_grid_and_is_point_in_time() -> None:
    b = bars()
    until = b.index[-40]
    p = SMALL.model_copy(update={"until": until.date()})
    f = LI.compute(ctx({"NVDA": b}), "NVDA", p).frame
    assert f.index[-1] == until
    cut = LI.compute(ctx({"NVDA": b[b.index <= until]}), "NVDA",
                     SMALL).frame
    pd.testing.assert_frame_equal(f, cut)


def test_meta_records_both_filters_and_the_trust_settings() -> None:
    m = LI.compute(ctx({"NVDA": bars()}), "NVDA", SMALL).meta
    for stored, f in ((m.filter, L.FCO_FILTER), (m.trust_filter, L.FCO_TRUST_FILTER)):
        assert stored.resolved_tc == f.resolved_tc and stored.relative_error == f.relative_error
        assert stored.max_relative_error == f.max_relative_error
        assert stored.min_damping == f.min_damping and stored.m == f.m
    assert (m.trust_resamples, m.trust_on, m.seed, m.trust_ends) == (3, "latest", 7, 1)
    assert m.trust_filter.max_relative_error == 0.2 and m.trust_filter.min_damping == 1.0


def test_no_trust_when_not_asked_for() -> None:
    p = SMALL.model_copy(update={"trust_resamples": 0})
    res = LI.compute(ctx({"NVDA": bars()}), "NVDA", p)
    assert res.frame["pos_trust"].isna().all() and res.meta.trust_ends == 0
    assert np.array_equal(res.frame["pos_conf"].to_numpy(),
                          LI.compute(ctx({"NVDA": bars()}), "NVDA", SMALL).frame["pos_conf"]
                          .to_numpy())


def test_defaults_are_documented() -> None:
    d = LI.INDICATOR.defaults
    assert (d.trust_resamples, d.trust_on, d.seed, d.until) == (10, "latest", 0, None)
    with pytest.raises(Exception, match="trust_on"):
        LI.INDICATOR.parse_params({"trust_on": "some"})
