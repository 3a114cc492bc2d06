"""Dated membership applied to price series: a symbol counts in a basket
only on the days it belongs to the universe (:meth:`Universe.members_on`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from bubblewatch.core.universe import Universe


def during_membership(series: pd.Series, universe: Universe, symbol: str) -> pd.Series:
    """``series`` restricted to the dates on which ``symbol`` is a member of
    ``universe`` (unchanged for symbols without membership records). The
    first day after a gap has no return, so a basket never jumps on a rejoin."""
    spans = universe.membership(symbol)
    if not spans or series.empty:
        return series
    idx = pd.DatetimeIndex(series.index)
    keep = np.zeros(len(idx), dtype=bool)
    for m in spans:
        inside = np.ones(len(idx), dtype=bool)
        if m.joined is not None:
            inside &= idx >= pd.Timestamp(m.joined)
        if m.left is not None:
            inside &= idx < pd.Timestamp(m.left)
        keep |= inside
    return series[keep]
