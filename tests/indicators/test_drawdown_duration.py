"""Drawdown duration against a plain loop and the Nasdaq's fifteen years
below its 2000 peak (FACTS.md §2)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from bubblewatch.core.universe import default_universe
from indicators.drawdown_duration import INDICATOR, underwater_days, underwater_spells
from indicators.frame_source import FrameSource
from indicators.registry import ComputeContext
from tests.conftest import load_shared_prices


def _slow_underwater(p: np.ndarray) -> list[int]:
    out, peak, since = [], -np.inf, 0
    for i, v in enumerate(p):
        if v >= peak:
            peak, since = v, i
        out.append(i - since)
    return out


def test_matches_a_plain_loop_on_random_walks() -> None:
    rng = np.random.default_rng(3)
    for _ in range(20):
        p = np.exp(np.cumsum(rng.normal(0, 0.02, 400)))
        s = pd.Series(p, index=pd.bdate_range("2001-01-01", periods=400))
        got = underwater_days(s)
        slow = _slow_underwater(p)
        assert got["underwater_days"].tolist() == slow
        assert got["max_underwater_days"].tolist() == list(np.maximum.accumulate(slow))


def test_nasdaq_regained_its_2000_peak_on_2015_04_23(shared_data) -> None:
    ixic = load_shared_prices("^IXIC")["adj_close"]
    spells = underwater_spells(ixic, min_days=63)
    dotcom = next(s for s in spells if s.peak == date(2000, 3, 10))
    assert dotcom.start == date(2000, 3, 13) and dotcom.attrs["recovered"] == "2015-04-23"
    assert dotcom.attrs["trough"] == "2002-10-09"  # 1,114.11 (FACTS.md)
    assert dotcom.attrs["depth"] < -0.77


def test_indicator_reports_todays_spell(shared_data) -> None:
    ixic = load_shared_prices("^IXIC")
    ctx = ComputeContext(FrameSource({"^IXIC": ixic}), default_universe())
    res = INDICATOR.compute(ctx, "^IXIC", INDICATOR.parse_params({"start": None,
                                                                  "daily_days": 0}))
    f = res.frame
    assert f.loc["2015-04-22", "underwater_days"] > 3700  # fifteen years of trading days
    assert f.loc["2015-04-23", "underwater_days"] == 0
    assert res.meta.longest_spell_days == f["max_underwater_days"].iloc[-1]
    assert res.meta.peak_date == f.index[len(f) - 1 - res.meta.underwater_days].date()
    missing = INDICATOR.compute(ComputeContext(FrameSource(), default_universe()), "NVDA",
                                INDICATOR.parse_params())
    assert missing.frame.empty and "bubblewatch ingest" in missing.meta.missing
