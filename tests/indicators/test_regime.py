"""Regime & drawdown: plain references, a synthetic two-regime series, and the
EM-only fit against statsmodels' default maximum-likelihood fit."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from bubblewatch.core.universe import default_universe
from indicators.frame_source import FrameSource
from indicators.regime import (
    INDICATOR,
    drawdown,
    fit_variance_regimes,
    high_variance_spells,
    realised_vol,
    weekly_log_returns,
)
from indicators.registry import ComputeContext
from tests.conftest import load_shared_prices


def test_drawdown_and_vol_match_plain_loops() -> None:
    p = load_shared_prices("NVDA")["adj_close"].iloc[-800:]
    peak, expected = -np.inf, []
    for v in p:
        peak = max(peak, v)
        expected.append(v / peak - 1)
    np.testing.assert_allclose(drawdown(p).to_numpy(), expected)
    vol = realised_vol(p, 63)
    logs = np.diff(np.log(p.to_numpy()))
    assert vol.iloc[-1] == pytest.approx(np.std(logs[-63:], ddof=1) * np.sqrt(252))
    assert vol.iloc[:63].isna().all()


def _two_regimes(seed: int = 3) -> pd.Series:
    rng = np.random.default_rng(seed)
    r = np.r_[rng.normal(0.3, 1.0, 300), rng.normal(-1.0, 5.0, 60), rng.normal(0.3, 1.0, 200)]
    return pd.Series(r, index=pd.date_range("2000-01-07", periods=len(r), freq="W-FRI"))


def test_finds_the_high_variance_state_in_synthetic_data() -> None:
    fit = fit_variance_regimes(_two_regimes())
    prob = fit.high_var_prob.to_numpy()
    assert prob[310:360].mean() > 0.85
    assert prob[:290].mean() < 0.1 and prob[370:].mean() < 0.1
    assert fit.vols[0] == pytest.approx(1.0, rel=0.2)
    assert fit.vols[1] == pytest.approx(5.0, rel=0.25)
    spells = high_variance_spells(fit.high_var_prob, 0.5, 4)
    assert len(spells) == 1 and spells[0].attrs["weeks"] >= 50


def test_em_fit_agrees_with_statsmodels_default_fit() -> None:
    from statsmodels.tsa.regime_switching.markov_regression import MarkovRegression

    r = weekly_log_returns(load_shared_prices("^GSPC")["adj_close"])
    r = r[r.index >= "1995-01-01"]
    ours = fit_variance_regimes(r)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = MarkovRegression(r.to_numpy(), k_regimes=2, trend="c",
                               switching_variance=True).fit(disp=False)
    high = int(np.argmax(ref.params[-2:]))
    ref_prob = np.asarray(ref.filtered_marginal_probabilities)[:, high]
    assert ours.loglike == pytest.approx(ref.llf, abs=0.05)
    assert np.max(np.abs(ours.high_var_prob.to_numpy() - ref_prob)) < 0.02


def test_sp500_high_variance_state_in_2008_not_in_2017() -> None:
    prices = {"^GSPC": load_shared_prices("^GSPC")}
    res = INDICATOR.compute(ComputeContext(FrameSource(prices), default_universe()), "^GSPC",
                            INDICATOR.parse_params())
    f = res.frame
    assert f.loc["2008-10-01":"2008-11-28", "high_var_prob"].mean() > 0.9
    assert f.loc["2017-03-01":"2017-09-29", "high_var_prob"].mean() < 0.2
    assert f.loc[:"2009-03-13", "drawdown"].iloc[-1] < -0.5  # GFC low
    assert res.meta.weekly_vol_pct.high_variance > res.meta.weekly_vol_pct.low_variance
    assert any(e.start.year == 2008 for e in res.events)


def test_high_variance_is_not_a_crash_state_and_baskets_record_coverage() -> None:
    """The Nasdaq's December 1999 melt-up sits in the high-variance state: the
    state measures volatility, not direction, hence its name."""
    universe = default_universe()
    members = universe.baskets["dotcom_basket"]
    prices = {s: load_shared_prices(s) for s in ("^IXIC", *members)}
    ctx = ComputeContext(FrameSource(prices), universe)
    res = INDICATOR.compute(ctx, "^IXIC", INDICATOR.parse_params({"daily_days": 0}))
    dec = res.frame.loc["1999-12-01":"1999-12-31"]
    close = prices["^IXIC"]["close"]
    assert close["1999-12-31"] / close[:"1999-11-30"].iloc[-1] > 1.15  # the melt-up month
    assert dec["high_var_prob"].mean() > 0.5
    assert {e.kind for e in res.events} == {"high_variance"}
    basket = INDICATOR.compute(ctx, "dotcom_basket", INDICATOR.parse_params())
    f = basket.frame
    ends = {m: prices[m].index.max() for m in members}
    assert f["n_members"].iloc[-1] == sum(ends[m] >= f.index[-1] for m in members)
    assert f["coverage"].iloc[-1] == pytest.approx(f["n_members"].iloc[-1] / len(members))
    assert f.loc["2000-03-10", "coverage"] == 1.0 and basket.meta.members == list(members)


def test_too_short_series_is_refused_with_a_reason() -> None:
    idx = pd.bdate_range("2024-01-01", periods=200)
    prices = {"X": pd.DataFrame({"adj_close": np.linspace(10, 12, 200)}, index=idx)}
    res = INDICATOR.compute(ComputeContext(FrameSource(prices), default_universe()), "X",
                            INDICATOR.parse_params({"start": None}))
    assert "104 weekly returns" in res.meta.note
    assert res.frame["high_var_prob"].isna().all() and res.frame["drawdown"].notna().all()
