"""The point-in-time regime probability: the filter is statsmodels', and a
week's probability never changes when later data arrive."""

from __future__ import annotations

import numpy as np
import pandas as pd

from indicators.regime import fit_variance_regimes, weekly_log_returns
from indicators.regime_realtime import (
    hamilton_filter,
    hamilton_filter_kernel,
    hamilton_filter_python,
    realtime_high_var_prob,
)
from tests.conftest import load_shared_prices


def _returns() -> pd.Series:
    r = weekly_log_returns(load_shared_prices("^IXIC")["adj_close"])
    return r[(r.index >= "1990-01-01") & (r.index <= "2004-12-31")]


def test_filter_reproduces_statsmodels_filtered_probabilities() -> None:
    r = _returns()
    fit = fit_variance_regimes(r, em_iter=30)
    ours = hamilton_filter(r, fit)
    np.testing.assert_allclose(ours.to_numpy(), fit.high_var_prob.to_numpy(), rtol=0,
                               atol=1e-10)
    out_py, out_jit = np.empty(r.size), np.empty(r.size)
    args = (r.to_numpy(), *fit.means, *fit.vols, *fit.persistence)
    hamilton_filter_python(*args, out_py)
    hamilton_filter_kernel(*args, out_jit)
    np.testing.assert_allclose(out_py, out_jit, rtol=0, atol=1e-14)


def test_a_week_reads_the_same_on_truncated_data() -> None:
    r = _returns()
    refits = [pd.Timestamp(d) for d in ("1996-01-05", "1998-01-02", "2000-01-07", "2002-01-04")]
    full, made = realtime_high_var_prob(r, refits, em_iter=30)
    assert all(x.fit is not None for x in made)
    for day in ("1997-06-06", "2000-03-10", "2001-09-21"):
        cut = r[r.index <= day]
        part, _ = realtime_high_var_prob(cut, [d for d in refits if d <= pd.Timestamp(day)],
                                         em_iter=30)
        assert part.iloc[-1] == full[pd.Timestamp(day)]
    # later fits never reach back: a week after a refit uses the fit made before it
    fit98 = fit_variance_regimes(r[r.index <= refits[1]], em_iter=30)
    expect = hamilton_filter(r[r.index <= "1999-12-31"], fit98)
    assert full[pd.Timestamp("1999-06-04")] == expect[pd.Timestamp("1999-06-04")]


def test_weeks_before_the_first_successful_fit_have_no_reading() -> None:
    r = _returns()
    refits = [pd.Timestamp("1990-06-01"), pd.Timestamp("1993-01-01")]  # first: too few weeks
    probs, made = realtime_high_var_prob(r, refits, em_iter=30)
    assert made[0].fit is None and "needs 104" in (made[0].why or "")
    assert probs[probs.index <= refits[1]].isna().all()
    assert probs[probs.index > refits[1]].notna().all()
