"""What the compute job does with one (indicator, key) result: check it
against the indicator's contract, turn its events into rows, find its as-of
date. Shared by the serial job (:mod:`indicators.compute`) and the batches
(:mod:`indicators.batch`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from indicators.registry import Indicator, IndicatorEvent, IndicatorResult


def _plain(v: Any) -> Any:
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def event_rows(events: Sequence[IndicatorEvent]) -> list[dict[str, Any]]:
    """:class:`IndicatorEvent` objects as rows for ``indicator_event``."""
    return [{"kind": e.kind, "start": e.start, "end": e.end, "peak": e.peak,
             "ongoing": bool(e.ongoing), "attrs": {str(k): _plain(v) for k, v in e.attrs.items()}}
            for e in events]


def check_result(ind: Indicator, key: str, result: IndicatorResult) -> None:
    """Refuse a result that breaks the indicator's contract (wrong metadata
    model, fields it did not declare)."""
    if not isinstance(result.meta, ind.meta):
        raise TypeError(f"{ind.name}/{key}: metadata is {type(result.meta).__name__}, "
                        f"not {ind.meta.__name__}")
    undeclared = [c for c in result.frame.columns if c not in ind.columns]
    if undeclared:
        raise TypeError(f"{ind.name}/{key}: fields {', '.join(map(str, undeclared))} are not "
                        "declared in the indicator's columns")


def as_of_date(result: IndicatorResult) -> date | None:
    """The last date of the result's series (None when empty)."""
    if result.frame.empty:
        return None
    return pd.DatetimeIndex(result.frame.index).max().date()
