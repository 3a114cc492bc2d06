"""Quarterly, annual and trailing-twelve-month tables from XBRL facts.

Thin views over :mod:`ingest.pit`, which holds the rules (vintage, concept
priority, year-to-date differencing, point in time). Periods are keyed on
their real start and end dates, never on the filing's ``fy``/``fp`` labels,
because fiscal calendars differ (NVIDIA's year ends late January, Cisco's late
July). ``as_of`` restricts every table to the facts filed on or before that
day: the result equals a recomputation on those facts alone.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from ingest.concepts import metric
from ingest.pit import QUARTER_DAYS, YEAR_DAYS, pit_annual, pit_quarters, rolling_ttm

__all__ = ["OUT_COLUMNS", "QUARTER_DAYS", "YEAR_DAYS", "annual_series", "quarterly_series",
           "ttm_series"]

OUT_COLUMNS = ["period_start", "period_end", "value", "filed", "derived", "concept",
               "known_since", "concepts"]


def quarterly_series(facts: pd.DataFrame, metric_name: str, as_of: date | None = None
                     ) -> pd.DataFrame:
    """One row per fiscal quarter of ``metric_name`` as known on ``as_of``.

    Parameters
    ----------
    facts
        Long facts frame (``concept, taxonomy, unit, period_start, period_end,
        value, filed, accession``), every vintage.
    metric_name
        A key of :data:`ingest.concepts.METRICS`.
    as_of
        Use only facts filed on or before this date (None: everything).

    Returns
    -------
    DataFrame with :data:`OUT_COLUMNS` sorted by ``period_end``. For flow
    metrics ``value`` is the quarter's amount; for stock metrics the balance
    at ``period_end`` (``period_start`` equals ``period_end``). ``filed`` is
    the newest filing the value rests on, ``known_since`` the first day the
    quarter could be computed, ``concept`` the concept of its (latest)
    figure and ``concepts`` every concept used.
    """
    return pit_quarters(facts, metric_name, as_of)[OUT_COLUMNS]


def annual_series(facts: pd.DataFrame, metric_name: str, as_of: date | None = None
                  ) -> pd.DataFrame:
    """One row per fiscal year (durations of 350-380 days) as filed (10-K)."""
    return pit_annual(facts, metric_name, as_of)[OUT_COLUMNS]


def ttm_series(facts: pd.DataFrame, metric_name: str, as_of: date | None = None
               ) -> pd.DataFrame:
    """Trailing four quarters summed, for each quarter that closes a run of four
    contiguous quarters (each starting within 7 days after the previous ends).

    Columns ``period_start`` (first quarter's start), ``period_end``, ``value``,
    ``filed`` (the latest of the four) and ``known_since``.
    """
    if metric(metric_name).kind != "flow":
        raise ValueError(f"TTM is defined for flow metrics; {metric_name!r} is a balance")
    return rolling_ttm(quarterly_series(facts, metric_name, as_of))
