"""Dated alarms of a real-time monitor, and what they add up to.

A monitor (:mod:`indicators.psy_realtime`, :mod:`indicators.monitors`,
:mod:`indicators.psy_gpt`, :mod:`indicators.cohort_psy`) gives one reading per
date and a boolean *alarm* per reading. This module turns an alarm series into
the facts people and a track record read: runs of consecutive alarms, the
first alarm in a period, and the share of readings flagged in a period (the
false-alarm share of a period taken to be calm). Every function is pure and
takes a boolean ``pandas.Series`` indexed by date.

Definitions
-----------
* A *run* is a maximal stretch of consecutive readings with an alarm; it
  starts on its first alarm, its ``last`` is its last alarm and its ``end``
  is the first reading back without one (``None`` while the run reaches the
  last reading: ``ongoing``).
* :func:`first_alarm` of a period ``[start, end]`` (both inclusive) is the
  date of the first reading in the period with an alarm.
* :func:`flagged_share` of a period is (readings in the period with an
  alarm) / (readings in the period): for weekly readings, the share of weeks
  flagged. Readings are those the monitor made; weeks before its first
  reading do not count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["AlarmRun", "alarm_runs", "first_alarm", "flagged_share", "within"]


@dataclass(frozen=True, slots=True)
class AlarmRun:
    """A run of consecutive alarms (see the module docstring)."""

    start: pd.Timestamp
    last: pd.Timestamp
    end: pd.Timestamp | None
    readings: int
    ongoing: bool
    start_pos: int
    end_pos: int  # exclusive


def _mask(alarm: pd.Series) -> np.ndarray:
    values = pd.to_numeric(alarm, errors="coerce").to_numpy(dtype=float)
    return np.nan_to_num(values, nan=0.0) > 0.5


def alarm_runs(alarm: pd.Series) -> list[AlarmRun]:
    """Runs of consecutive alarms, in time order.

    Examples
    --------
    >>> idx = pd.date_range("2020-01-03", periods=6, freq="W-FRI")
    >>> runs = alarm_runs(pd.Series([0, 1, 1, 0, 0, 1], index=idx))
    >>> [(r.start.date().isoformat(), r.readings, r.ongoing) for r in runs]
    [('2020-01-10', 2, False), ('2020-02-07', 1, True)]
    """
    m = _mask(alarm)
    index = pd.DatetimeIndex(alarm.index)
    edges = np.diff(np.concatenate(([0], m.view(np.int8), [0])))
    out = []
    for s, e in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True):
        ongoing = bool(e >= m.size)
        out.append(AlarmRun(start=index[s], last=index[e - 1],
                            end=None if ongoing else index[e], readings=int(e - s),
                            ongoing=ongoing, start_pos=int(s), end_pos=int(e)))
    return out


def within(alarm: pd.Series, start: Any = None, end: Any = None) -> pd.Series:
    """The readings dated in ``[start, end]`` (either bound may be None)."""
    s = alarm.sort_index()
    idx = pd.DatetimeIndex(s.index)
    keep = np.ones(len(s), dtype=bool)
    if start is not None:
        keep &= idx >= pd.Timestamp(start)
    if end is not None:
        keep &= idx <= pd.Timestamp(end)
    return s[keep]


def first_alarm(alarm: pd.Series, start: Any = None, end: Any = None) -> date | None:
    """Date of the first alarm in ``[start, end]``, or None.

    Examples
    --------
    >>> idx = pd.date_range("2020-01-03", periods=4, freq="W-FRI")
    >>> first_alarm(pd.Series([1, 0, 1, 1], index=idx), start="2020-01-05")
    datetime.date(2020, 1, 17)
    """
    s = within(alarm, start, end)
    hits = np.flatnonzero(_mask(s))
    return None if hits.size == 0 else pd.Timestamp(s.index[hits[0]]).date()


def flagged_share(alarm: pd.Series, start: Any = None, end: Any = None) -> float:
    """Share of the readings in ``[start, end]`` that carry an alarm (NaN
    without readings there).

    Examples
    --------
    >>> idx = pd.date_range("2020-01-03", periods=4, freq="W-FRI")
    >>> flagged_share(pd.Series([1, 0, 0, 1], index=idx))
    0.5
    """
    s = within(alarm, start, end)
    if s.empty:
        return float("nan")
    return float(_mask(s).mean())
