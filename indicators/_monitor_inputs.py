"""Inputs of the real-time monitors: the sampled price series of a key
(a symbol or an equal-weighted basket), checked for gaps, and engine errors
turned into notes that name the key.

Shared by :mod:`indicators.psy_realtime`, :mod:`indicators.monitors`,
:mod:`indicators.psy_gpt` and :mod:`indicators.cohort_psy`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Literal, TypeVar

import pandas as pd

from bubblewatch.core.errors import InfeasibleTestError
from indicators.psy_indicator import sample
from indicators.runup import key_series, symbol_and_basket_keys

if TYPE_CHECKING:
    from bubblewatch.core.universe import Universe
    from indicators.registry import DataSource

Freq = Literal["D", "W", "M"]

#: Longest accepted spacing between two sampled observations, in calendar
#: days, at each frequency: a gap longer than this (a missing stretch of
#: prices) is refused rather than bridged. Weekly: four weeks (exchange
#: closures such as 2001-09-11 leave one week out, 11 days between readings).
MAX_GAP_DAYS: dict[str, int] = {"D": 10, "W": 28, "M": 62}
#: Readable names of the sampling frequencies.
FREQ_WORDS: dict[str, str] = {"D": "daily", "W": "weekly", "M": "monthly"}

T = TypeVar("T")


def monitor_keys(universe: Universe) -> list[str]:
    """Every symbol of the universe, then the AI and dot-com baskets."""
    return symbol_and_basket_keys(universe)


def key_prices(source: DataSource, universe: Universe, key: str) -> pd.Series:
    """Adjusted closes of a symbol, or the equal-weighted basket index when
    ``key`` names a basket (:func:`indicators.runup.key_series`)."""
    return key_series(source, universe, key).astype(float)


def sampled_series(prices: pd.Series, freq: str, start: date | None, *, key: str,
                   procedure: str) -> pd.Series:
    """``prices`` from ``start`` on, sampled at ``freq`` (last close of each
    day, week ending Friday or month, dated by its real day), after checking
    that no two observations are further apart than :data:`MAX_GAP_DAYS`.

    Raises
    ------
    InfeasibleTestError
        No prices, or a gap; the message names the key, the procedure, the
        gap's dates and the longest spacing accepted.
    """
    s = prices.dropna()
    s = s[s > 0]
    if start is not None:
        s = s[s.index >= pd.Timestamp(start)]
    if s.empty:
        since = f" since {start}" if start is not None else ""
        raise InfeasibleTestError(
            f"{key}: {procedure}: no prices{since}; load them with `bubblewatch ingest` (or "
            "choose an earlier start)")
    s = sample(s, freq)
    check_gaps(s, freq, key=key, procedure=procedure)
    return s


def check_gaps(s: pd.Series, freq: str, *, key: str, procedure: str) -> None:
    """Refuse a sampled series with a hole longer than :data:`MAX_GAP_DAYS`."""
    if len(s) < 2:
        return
    idx = pd.DatetimeIndex(s.index)
    gaps = (idx[1:] - idx[:-1]).days
    worst = int(gaps.argmax())
    if gaps[worst] > MAX_GAP_DAYS[freq]:
        raise InfeasibleTestError(
            f"{key}: {procedure}: the {FREQ_WORDS[freq]} series has a gap of {gaps[worst]} days "
            f"between {idx[worst]:%Y-%m-%d} and {idx[worst + 1]:%Y-%m-%d}; real-time monitoring "
            f"needs a complete series (at most {MAX_GAP_DAYS[freq]} days between observations): "
            "fill the missing prices, or start after the gap (parameter start)")


def check_length(s: pd.Series, need: int, *, key: str, procedure: str, freq: str,
                 why: str) -> None:
    """Refuse a sampled series with fewer than ``need`` observations; the
    message names the key, the procedure, the minimum and ``why`` it is needed."""
    if len(s) < need:
        first = f" from {s.index[0]:%Y-%m-%d}" if len(s) else ""
        raise InfeasibleTestError(
            f"{key}: {procedure}: {len(s)} {FREQ_WORDS[freq]} observations{first}; it needs at "
            f"least {need} ({why}): use a shorter training sample (parameter training), an "
            "earlier start, or wait for more data")


def engine_call(key: str, fn: Callable[[], T]) -> T:
    """Run an engine and turn what it refuses about the data (too short a
    training sample, gaps, flat stretches: ``InfeasibleTestError`` or
    ``ValueError``) into an :class:`InfeasibleTestError` whose message starts
    with the key. The engines' messages name the procedure and the minimum
    needed; the compute job records the message as a note for the key."""
    try:
        return fn()
    except (InfeasibleTestError, ValueError) as exc:
        text = str(exc)
        raise InfeasibleTestError(text if text.startswith(f"{key}:") else f"{key}: {text}"
                                  ) from None
