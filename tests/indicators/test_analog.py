"""Analog: path alignment, the best-match search on planted patterns, and
NVDA vs CSCO on real prices."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from bubblewatch.core.universe import default_universe
from indicators.analog import (
    INDICATOR,
    aligned_paths,
    best_match,
    forward_returns,
    paths_around,
    peak_position,
    resolve_event,
)
from indicators.frame_source import FrameSource
from indicators.registry import ComputeContext
from ingest.reference import reference_frames
from tests.conftest import load_shared_prices


def _walk(n: int, seed: int, start: str) -> pd.Series:
    rng = np.random.default_rng(seed)
    return pd.Series(100 * np.exp(np.cumsum(rng.normal(0.001, 0.02, n))),
                     index=pd.bdate_range(start, periods=n))


def test_identical_paths_have_zero_distance() -> None:
    dotcom = _walk(600, 1, "1995-01-02")
    ai = pd.Series(dotcom.to_numpy()[100:400] * 3.0,
                   index=pd.bdate_range("2022-01-03", periods=300))
    out = aligned_paths(ai, dotcom, ai_anchor=20, dotcom_anchor=120, pre_days=5)
    assert out["t"].iloc[0] == -5 and out["t"].iloc[-1] == 279
    assert np.isnan(out["distance"].iloc[:5]).all()
    np.testing.assert_allclose(out["distance"].iloc[5:], 0.0, atol=1e-12)
    np.testing.assert_allclose(out["ai_path"].to_numpy(), out["dotcom_path"].to_numpy())


def test_best_match_finds_a_planted_window() -> None:
    dotcom = _walk(2000, 2, "1994-01-03")
    ai = _walk(400, 3, "2023-01-02")
    # plant the AI path's shape into the dot-com series at position 900..1199
    c = dotcom.to_numpy().copy()
    shape = ai.to_numpy()[100:] / ai.to_numpy()[100]
    c[900:1200] = c[900] * shape
    c[1200:] = c[1200:] / c[1200] * c[1199] * 1.001
    dotcom = pd.Series(c, index=dotcom.index)
    m = best_match(ai, dotcom, ai_anchor=100, dotcom_anchor=500,
                   search=(date(1994, 1, 1), date(2003, 12, 31)), horizons=(126, 252))
    assert m.distance == pytest.approx(0.0, abs=1e-9)
    assert m.end == dotcom.index[1199].date() and m.start == dotcom.index[900].date()
    assert m.offset_days == 400
    assert m.forward[126] == pytest.approx(c[1199 + 126] / c[1199] - 1)
    # restricting the search range so the planted window is excluded finds something else
    m2 = best_match(ai, dotcom, 100, 500, (date(1994, 1, 1), date(1997, 1, 1)))
    assert m2.distance > 0.01
    with pytest.raises(ValueError, match="widen dotcom_search"):
        best_match(ai, dotcom, 100, 500, (date(1994, 1, 1), date(1994, 6, 1)))


def test_events_resolve_from_the_table_builtins_or_iso() -> None:
    _, events = reference_frames()
    assert resolve_event(FrameSource(events_frame=events), "chatgpt") == date(2022, 11, 30)
    assert resolve_event(FrameSource(), "netscape_ipo") == date(1995, 8, 9)  # built-in table
    assert resolve_event(FrameSource(), "2001-04-16") == date(2001, 4, 16)
    with pytest.raises(ValueError, match="unknown anchor event"):
        resolve_event(FrameSource(), "tulips")


@pytest.fixture(scope="module")
def nvda_csco() -> tuple:
    figures, events = reference_frames()
    prices = {s: load_shared_prices(s) for s in ("NVDA", "CSCO")}
    ctx = ComputeContext(FrameSource(prices, reference_frame=figures, events_frame=events),
                         default_universe())
    return INDICATOR.compute(ctx, "nvda_csco", INDICATOR.parse_params()), prices


def test_nvda_vs_csco_on_real_prices(nvda_csco: tuple) -> None:
    res, prices = nvda_csco
    nvda, csco = prices["NVDA"]["adj_close"], prices["CSCO"]["adj_close"]
    meta = res.meta
    assert str(meta.ai_anchor_date) == "2022-11-30" and str(meta.dotcom_anchor_date) == "1995-08-09"
    # the aligned paths are the plain ratios to the anchor closes
    last = res.frame.iloc[-1]
    assert last["ai_path"] == pytest.approx(nvda.iloc[-1] / nvda.loc["2022-11-30"])
    t = int(last["t"])
    i0 = csco.index.get_loc(pd.Timestamp("1995-08-09"))
    assert last["dotcom_path"] == pytest.approx(csco.iloc[i0 + t] / csco.iloc[i0])
    bm = meta.best_match
    assert date(1993, 1, 1) <= bm.dotcom_date <= date(2003, 12, 31)
    assert bm.distance <= last["distance"]  # the best window beats the event alignment
    j = csco.index.get_loc(pd.Timestamp(bm.dotcom_date))
    assert bm.forward_returns["252"] == pytest.approx(csco.iloc[j + 252] / csco.iloc[j] - 1)
    assert forward_returns(csco, j, (126,))[126] == pytest.approx(bm.forward_returns["126"])


def test_paths_around_put_both_anchors_at_zero() -> None:
    nvda, csco = load_shared_prices("NVDA")["close"], load_shared_prices("CSCO")["close"]
    out = paths_around(nvda, csco, date(2022, 11, 30), date(1995, 8, 9), before=10, after=300)
    assert out.loc[0, "ai"] == pytest.approx(100) and out.loc[0, "dotcom"] == pytest.approx(100)
    assert out.loc[0, "ai_date"] == pd.Timestamp("2022-11-30")
    assert out.loc[0, "dotcom_date"] == pd.Timestamp("1995-08-09")
    assert out.index.min() == -10 and out.index.max() == 300
    # t counts trading days: 252 rows after the Netscape IPO is Cisco's 252nd next close
    pos = csco.index.get_loc(pd.Timestamp("1995-08-09"))
    assert out.loc[252, "dotcom_date"] == csco.index[pos + 252]
    assert out.loc[252, "dotcom"] == pytest.approx(100 * csco.iloc[pos + 252] / csco.iloc[pos])


def test_peak_position_within_a_search_range() -> None:
    csco = load_shared_prices("CSCO")["close"]
    peak = csco.index[peak_position(csco, (date(1993, 1, 1), date(2003, 12, 31)))]
    assert peak == pd.Timestamp("2000-03-27")  # Cisco's record close $80.06 (FACTS.md)
    assert csco.loc[peak] == pytest.approx(80.06, abs=0.01)
    with pytest.raises(ValueError, match="no prices between"):
        peak_position(csco, (date(1950, 1, 1), date(1960, 1, 1)))
