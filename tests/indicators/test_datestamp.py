"""Tests of date-stamping (:mod:`indicators.datestamp`)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from indicators.cv import CriticalValues, mc_cv
from indicators.datestamp import Datestamp, datestamp, episodes_from_mask
from indicators.psy import RadfResult, radf
from tests.conftest import load_shared_prices

N, MINW = 30, 5
NPTS = N - MINW


def _hand_built(bsadf: np.ndarray, series: np.ndarray, index=None) -> tuple[RadfResult,
                                                                             CriticalValues]:
    """A result whose BSADF sequence we choose, and critical values of 1 (95%)."""
    badf = bsadf - 0.5
    res = RadfResult(adf=float(badf[-1]), sadf=float(badf.max()), gsadf=float(bsadf.max()),
                     badf=badf, bsadf=bsadf, series=series, index=index, n=N, min_window=MINW,
                     lag=0)
    levels = np.array([0.8, 1.0, 1.5])
    cv = CriticalValues(method="mc", n=N, min_window=MINW, lag=0, ic=None, reps=100, seed=0,
                        adf=levels.copy(), sadf=levels.copy(), gsadf=levels + 0.2,
                        badf=np.tile(levels, (NPTS, 1)), bsadf=np.tile(levels, (NPTS, 1)))
    return res, cv


def _case():
    bsadf = np.zeros(NPTS)
    bsadf[2:6] = [1.2, 2.0, 1.9, 1.1]  # 4 points, peak at point 3
    bsadf[10:12] = [1.3, 1.4]  # 2 points
    bsadf[20:25] = [1.1, 1.2, 1.8, 1.6, 1.05]  # 5 points, runs to the end
    y = np.arange(N, dtype=float)  # rising ...
    y[MINW + 20:] = 100.0 - np.arange(5)  # ... then falling in the last episode
    y[MINW + 20] = 200.0
    return bsadf, y


def test_hand_built_episodes() -> None:
    bsadf, y = _case()
    res, cv = _hand_built(bsadf, y)
    ds = datestamp(res, cv, min_duration=0)
    assert isinstance(ds, Datestamp) and ds.rejected
    assert [(e.start, e.peak, e.end, e.duration, e.ongoing) for e in ds.episodes] == [
        (MINW + 2, MINW + 3, MINW + 6, 4, False),
        (MINW + 10, MINW + 11, MINW + 12, 2, False),
        (MINW + 20, MINW + 22, None, 5, True),
    ]
    assert [e.kind for e in ds.episodes] == ["positive", "positive", "negative"]
    assert ds.episodes[0].peak_stat == 2.0
    assert len(ds.positive) == 2 and len(ds.negative) == 1
    # min_duration drops the short one; default is round(log(30)) = 3
    assert [e.duration for e in datestamp(res, cv).episodes] == [4, 5]
    assert [e.duration for e in datestamp(res, cv, min_duration=5).episodes] == [5]
    # 99%: only points above 1.5
    assert [(e.start, e.duration) for e in datestamp(res, cv, sig_level=99,
                                                    min_duration=0).episodes] == [
        (MINW + 3, 2), (MINW + 22, 2)]
    frame = ds.to_frame()
    assert list(frame.columns) == ["kind", "start", "peak", "end", "duration", "ongoing",
                                   "peak_stat"]
    assert "ongoing" in ds.summary()


def test_labels_are_dates() -> None:
    bsadf, y = _case()
    idx = pd.date_range("2000-01-07", periods=N, freq="W-FRI")
    res, cv = _hand_built(bsadf, y, idx)
    e = datestamp(res, cv, min_duration=0).episodes[0]
    assert (e.start_label, e.peak_label, e.end_label) == (idx[7], idx[8], idx[11])
    assert datestamp(res, cv, min_duration=0).episodes[-1].end_label is None


def test_requires_overall_rejection_by_default() -> None:
    bsadf, y = _case()
    bsadf = np.minimum(bsadf, 1.15)  # GSADF 1.15 < its 95% critical value 1.2
    res, cv = _hand_built(bsadf, y)
    ds = datestamp(res, cv, min_duration=0)
    assert not ds.rejected and ds.episodes == ()
    assert len(datestamp(res, cv, min_duration=0, require_rejection=False).episodes) == 3


def test_sadf_option_uses_badf() -> None:
    bsadf, y = _case()
    res, cv = _hand_built(bsadf, y)
    ds = datestamp(res, cv, option="sadf", min_duration=0)
    assert [(e.start, e.duration) for e in ds.episodes] == [(MINW + 3, 2), (MINW + 22, 2)]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"sig_level": 0.5}, "sig_level"), ({"option": "bsadf"}, "option"),
     ({"min_duration": -1}, "min_duration")],
)
def test_bad_arguments(kwargs, match) -> None:
    res, cv = _hand_built(*_case())
    with pytest.raises(ValueError, match=match):
        datestamp(res, cv, **kwargs)


def test_episodes_from_mask_edges() -> None:
    assert episodes_from_mask(np.array([], bool)) == []
    assert episodes_from_mask(np.array([1, 1, 1], bool)) == [(0, 3)]
    assert episodes_from_mask(np.array([1, 0, 1, 1, 0], bool), 2) == [(2, 4)]


def test_same_episodes_as_pyexuber() -> None:
    """pyexuber's datestamp on our statistics and critical values."""
    import exuber
    from exuber.cv import RadfCv
    from exuber.radf import RadfResult as ExResult
    from exuber.sim import sim_psy2

    y = sim_psy2(400, seed=3)
    res = radf(y)
    cv = mc_cv(res.n, reps=300, seed=1, use_cache=False)
    ours = datestamp(res, cv, min_duration=3)
    ex_res = ExResult(adf=np.array([res.adf]), badf=res.badf[:, None], sadf=np.array([res.sadf]),
                      bsadf=res.bsadf[:, None], gsadf=np.array([res.gsadf]),
                      bsadf_panel=res.bsadf, gsadf_panel=res.gsadf, minw=res.min_window,
                      lag=0, n=res.n)
    ex_cv = RadfCv(adf_cv=cv.adf, sadf_cv=cv.sadf, gsadf_cv=cv.gsadf, badf_cv=cv.badf,
                   bsadf_cv=cv.bsadf, method="Monte Carlo", minw=cv.min_window, n=cv.n,
                   iter=cv.reps)
    theirs = exuber.datestamp(ex_res, ex_cv, min_duration=3)["series1"]
    assert len(ours.episodes) >= 1
    assert [(e.start, e.peak, e.end, e.duration, e.ongoing) for e in ours.episodes] == [
        (e.start, e.peak, e.end, e.duration, e.ongoing) for e in theirs]


def test_nasdaq_dot_com_bubble_is_dated(shared_data) -> None:
    """^IXIC monthly 1990-2005: the dot-com run-up is found, ending by the 2000 crash."""
    s = load_shared_prices("^IXIC")["adj_close"].loc["1990":"2005"]
    monthly = s.groupby(s.index.to_period("M")).tail(1)
    res = radf(monthly, log=True)
    cv = mc_cv(res.n, reps=1000, seed=0, use_cache=False)
    ds = datestamp(res, cv)
    assert ds.rejected
    dotcom = [e for e in ds.positive if e.start_label.year in (1998, 1999)]
    assert len(dotcom) == 1
    e = dotcom[0]
    assert dt.date(1999, 6, 1) <= e.peak_label.date() <= dt.date(2000, 3, 31)
    assert e.end_label is not None and e.end_label.date() <= dt.date(2000, 12, 31)
