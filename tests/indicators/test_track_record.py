"""The track record on real data: a reading dated D equals the replay on the data
truncated at D, and on the last date the backtest scores exactly what the
composite scores (on the same inputs, and with the live run-up and PSY
indicators as inputs); the coarse-grid LPPLS readings are the fits of
:func:`indicators.lppls.confidence` on each fit date, each counting for 1.5 times
their spacing; the stage times count each second once."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import date
from functools import cache

import numpy as np
import pandas as pd
import pytest

from bubblewatch.core.errors import ConfigError
from bubblewatch.core.universe import Universe, default_universe
from indicators import composite
from indicators.frame_source import FrameSource
from indicators.lppls import confidence
from indicators.pit_replay import ReplayParams, StageClock
from indicators.psy_indicator import PsyParams, compute_psy
from indicators.registry import ComputeContext
from indicators.runup import RunupParams
from indicators.runup import compute as compute_runup
from indicators.track_record import compute, replay_for
from ingest.reference import reference_frames
from tests.conftest import load_shared_facts, load_shared_prices

SYMBOLS = ("NVDA", "AMD", "GOOGL", "CSCO", "INTC", "^GSPC", "^IXIC")
#: A cheap replay: from 2017, few bootstrap draws and three LPPLS fits, the first on a
#: date with a positive NVDA confidence (2021-12-31), the others two years apart (monitors
#: from 1990, so the dot-com cohort has its PSY reading on its peak and the headline its
#: three components).
PARAMS = ReplayParams(start=date(2017, 1, 1), ps2020_reps=20,
                      regime_keys=(), em_iter=30, lppls_start=date(2021, 12, 31),
                      lppls_every_weeks=104, mc_draws=60)
#: Hindsight columns (never read by a reading) and the P/E level, whose split basis
#: follows the price file's (adjusted for splits after D); its percentiles do not.
NOT_READINGS = {"fwd_mdd_12m", "fwd_mdd_24m", "calm", "pe_ttm"}


def universe() -> Universe:
    u = default_universe().subset(SYMBOLS)
    return replace(u, baskets={"ai_basket": ("NVDA", "AMD", "GOOGL"),
                               "dotcom_basket": ("CSCO", "INTC"), "hyperscalers": ("GOOGL",)})


@cache
def source() -> FrameSource:
    ref, events = reference_frames()
    return FrameSource(
        price_frames={s: load_shared_prices(s) for s in SYMBOLS},
        fact_frames={"NVDA": load_shared_facts(1045810, "NVDA"),
                     "GOOGL": load_shared_facts(1652044, "GOOGL")},
        reference_frame=ref, events_frame=events)


@dataclass
class Truncated:
    """The same data as known on ``day``: prices to ``day``, filings filed by it."""

    full: FrameSource
    day: pd.Timestamp

    def prices(self, symbol: str) -> pd.DataFrame:
        df = self.full.prices(symbol)
        return df[df.index <= self.day]

    def facts(self, symbol: str, as_of: date | None = None) -> pd.DataFrame:
        cut = self.day.date() if as_of is None else min(as_of, self.day.date())
        return self.full.facts(symbol, cut)

    def reference(self) -> pd.DataFrame:
        return self.full.reference()

    def events(self) -> pd.DataFrame:
        return self.full.events()

    def indicator(self, name: str, key: str) -> pd.DataFrame:
        return pd.DataFrame()


def full_ctx() -> ComputeContext:
    return ComputeContext(source(), universe())


@pytest.mark.slow
def test_a_reading_at_d_equals_the_replay_on_data_truncated_at_d() -> None:
    ctx = full_ctx()
    part = replay_for(ctx, PARAMS).partition()
    # the rules of the day: which components make each reading, fixed for both runs
    params = PARAMS.model_copy(update={"headline": part.headline, "ai_only": part.ai_only})
    full = {k: compute(ctx, k, params).frame for k in ("ai", "CSCO")}
    grid = full["ai"].index
    days = [grid[grid <= d][-1] for d in ("2018-06-29", "2021-11-19", "2024-03-08")]
    for day in days:
        cut_ctx = ComputeContext(Truncated(source(), day), universe())
        for key, frame in full.items():
            cut = compute(cut_ctx, key, params).frame
            assert cut.index[-1] == day
            cols = [c for c in frame.columns if c not in NOT_READINGS]
            a = frame.loc[day, cols].astype(float)
            b = cut.reindex(columns=cols).loc[day].astype(float)
            assert a.notna().sum() >= (25 if key == "ai" else 15), (key, day, a[a.isna()])
            np.testing.assert_allclose(b.to_numpy(), a.to_numpy(), rtol=1e-9, atol=1e-9,
                                       err_msg=f"{key} on {day.date()}: "
                                               f"{list(a.index[~np.isclose(a, b, equal_nan=True)])}")
    # the readings it checked are real: the AI cohort's AI-only sub-score and every monitor
    at = full["ai"].loc[days[-1]]
    assert np.isfinite(at["ai_only"]) and np.isfinite(at["stress"])
    assert {f"flag_{p}" for p in PARAMS.procedures} <= set(full["CSCO"].columns)


@pytest.mark.slow
def test_last_reading_equals_the_live_composite_on_the_same_inputs() -> None:
    ctx = full_ctx()
    rep = replay_for(ctx, PARAMS)
    back = compute(ctx, "ai", PARAMS)
    last = back.frame.index[-1]
    cp = composite.CompositeParams(mc_draws=PARAMS.mc_draws)
    # 1. the composite itself, run by the compute job's function on the replay's inputs
    live = composite.compute(ComputeContext(rep.inputs(), universe()), "ai", cp)
    assert live.frame.index[-1] == last
    assert live.meta.readings["headline"] == back.meta.headline == ["runup", "runup_net", "psy"]
    assert live.meta.readings["ai_only"] == back.meta.ai_only
    cols = ["score", "score_p05", "score_p95", "coverage", "band", "ai_only", "ai_only_p05",
            "ai_only_p95", "ai_only_coverage", "stress", "stress_coverage",
            *[c for c in back.frame.columns if c.startswith("c_")]]
    np.testing.assert_allclose(back.frame.loc[last, cols].to_numpy(dtype=float),
                               live.frame.loc[last, cols].to_numpy(dtype=float), rtol=0,
                               atol=1e-12)
    # 2. the headline's inputs are the live indicators': run-up and the whole-sample PSY
    # test (on its last date the real-time reading and the whole-sample one coincide)
    results = dict(rep.inputs().results)
    for cohort, basket in composite.COHORTS.items():
        results[("runup", basket)] = compute_runup(
            ctx, basket, RunupParams(start=None, daily_days=0)).frame
        for m in universe().baskets[basket]:
            results[("psy", m)] = compute_psy(ctx, m, PsyParams()).frame[["bsadf", "cv95"]]
        del cohort
    live2 = composite.compute(ComputeContext(FrameSource(results=results), universe()), "ai",
                              cp)
    head = ["score", "score_p05", "score_p95", "band", "c_runup", "c_runup_net", "c_psy"]
    np.testing.assert_allclose(back.frame.loc[last, head].to_numpy(dtype=float),
                               live2.frame.loc[last, head].to_numpy(dtype=float), rtol=0,
                               atol=1e-9)


@pytest.mark.slow
def test_lppls_fits_count_for_one_and_a_half_times_their_spacing() -> None:
    rep = replay_for(full_ctx(), PARAMS)
    got = rep.lppls("NVDA")["pos_conf"]
    # the fits: every 104th reading week from lppls_start, fitted here on the closes to then
    px = rep.closes("NVDA")
    days = rep.grid[rep.grid >= pd.Timestamp(PARAMS.lppls_start)][::PARAMS.lppls_every_weeks]
    fits = confidence(px, [px.index.get_loc(d) for d in days]).to_frame(dates=False)["pos_conf"]
    fits.index = days
    keep = pd.Timedelta(days=math.ceil(1.5 * 7 * PARAMS.lppls_every_weeks))
    want = []
    for g in rep.grid:
        last = days[days <= g]
        want.append(float(fits[last[-1]]) if len(last) and g - last[-1] <= keep else np.nan)
    np.testing.assert_allclose(got.to_numpy(), want, rtol=0, atol=0)
    assert len(fits) == 3 and fits.iloc[0] > 0.1 and got.notna().sum() > 200
    # the AI-only sub-score reads a fit long after the live component's 21 days
    ai = compute(full_ctx(), "ai", PARAMS).frame
    late = ai.loc[ai.index >= days[-2] + pd.Timedelta(days=300), "c_lppls"]
    assert len(late) and late.notna().all()


def test_unknown_keys_and_empty_periods_are_named() -> None:
    ctx = full_ctx()
    with pytest.raises(ConfigError, match=r"'XYZ' is not a cohort or symbol .* available: ai, "
                                          r"dotcom, NVDA"):
        compute(ctx, "XYZ", PARAMS)
    with pytest.raises(ConfigError, match=r"no prices between 2040-01-01 and .*; the data run "
                                          r"from 19\d\d-\d\d-\d\d to 20\d\d"):
        compute(ctx, "ai", PARAMS.model_copy(update={"start": date(2040, 1, 1)}))
    with pytest.raises(ConfigError, match=r"no prices between 1900-01-01 and 1900-06-30; the "
                                          r"data run from"):
        compute(ctx, "ai", PARAMS.model_copy(update={"start": date(1900, 1, 1),
                                                     "end": date(1900, 6, 30)}))
    with pytest.raises(ConfigError, match="2017-01-01 to 2010-01-01 is empty: the start is "
                                          "after the end"):
        compute(ctx, "ai", PARAMS.model_copy(update={"end": date(2010, 1, 1)}))


def test_stage_times_count_each_second_once() -> None:
    now = [0.0]
    clock = StageClock(lambda: now[0])
    with clock.timed("composite"):
        now[0] += 2.0
        with clock.timed("regime refits"):  # made while the composite is assembled
            now[0] += 5.0
            with clock.timed("lppls"):
                now[0] += 1.0
        now[0] += 0.5
    with clock.timed("regime refits"):
        now[0] += 3.0
    assert clock.seconds == {"lppls": 1.0, "regime refits": 8.0, "composite": 2.5}
    assert sum(clock.seconds.values()) == now[0]
