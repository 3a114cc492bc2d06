"""Reading stored indicator results from Python.

>>> import indicators
>>> df = indicators.load("valuation", "NVDA", start="2024-01-01")   # doctest: +SKIP
>>> df[["pe_ttm", "ps_ttm"]].tail()                                 # doctest: +SKIP

Results come from the database (``bubblewatch compute`` writes them); this
module never computes. Each frame carries, in ``DataFrame.attrs``, the
indicator, its parameters and hash, the as-of date and ``computed_at`` of
every key it holds, and the run's ``meta`` (best analog match, missing
components...).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

import pandas as pd

from bubblewatch.core.errors import BubblewatchError

if TYPE_CHECKING:
    from bubblewatch.core.settings import Settings


class NoResultsError(BubblewatchError, LookupError):
    """The requested indicator (or key) has no stored results."""


def _as_date(value: date | str | None) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO date (YYYY-MM-DD)") from None


def load(
    name: str,
    key: str | None = None,
    *,
    start: date | str | None = None,
    end: date | str | None = None,
    as_of: date | str | None = None,
    fields: Sequence[str] | None = None,
    settings: Settings | None = None,
    database_url: str | None = None,
) -> pd.DataFrame:
    """One indicator's stored series as a DataFrame.

    Parameters
    ----------
    name
        Indicator name (``bubblewatch indicators`` lists them).
    key
        Symbol, basket, pair or cohort (``"NVDA"``, ``"nvda_csco"``, ``"ai"``);
        None loads every key.
    start, end
        Date range (inclusive).
    as_of
        Only rows dated on or before this day: the series as it stood then.
        The incremental indicators (run-up, regime, valuation) are stored
        point in time, so for them this is what the indicator showed on that
        day.
    fields
        Columns to keep (default: all).
    settings, database_url
        Where to read (default: :func:`bubblewatch.core.settings.get_settings`).

    Returns
    -------
    DataFrame with columns ``key``, ``date`` and one column per field, sorted
    by key and date; ``attrs`` holds ``indicator``, ``runs`` (per key:
    ``params``, ``params_hash``, ``as_of``, ``computed_at``, ``meta``) and
    the requested ``as_of``.

    Raises
    ------
    NoResultsError
        If nothing is stored for ``name`` (and ``key``).
    """
    from db import repo
    from db.session import session_scope

    if database_url is None:
        if settings is None:
            from bubblewatch.core.settings import get_settings

            settings = get_settings()
        database_url = settings.resolved_database_url
    start_d, end_d, as_of_d = _as_date(start), _as_date(end), _as_date(as_of)
    if as_of_d is not None:
        end_d = as_of_d if end_d is None else min(end_d, as_of_d)
    with session_scope(database_url) as s:
        runs = repo.latest_runs(s, name, key)
        if not runs:
            from indicators.registry import all_indicators

            known = sorted(i.name for i in all_indicators())
            where = f" for key {key!r}" if key else ""
            hint = ("run `bubblewatch compute`" if name in known
                    else f"known indicators: {', '.join(known)}")
            raise NoResultsError(f"no stored results for {name!r}{where}; {hint}")
        long = repo.indicator_frame(s, name, key, fields=fields, start=start_d, end=end_d)
        run_info = {
            r.key: {"params": dict(r.params), "params_hash": r.params_hash,
                    "as_of": r.as_of.isoformat() if r.as_of else None,
                    "computed_at": r.computed_at.isoformat() if r.computed_at else None,
                    "meta": dict(r.meta or {})}
            for r in runs
        }
    frame = to_wide(long)
    frame.attrs = {"indicator": name, "runs": run_info,
                   "as_of": as_of_d.isoformat() if as_of_d else None}
    return frame


def to_wide(long: pd.DataFrame) -> pd.DataFrame:
    """``indicator_frame``'s long rows as ``key, date, <fields...>``."""
    if long.empty:
        return pd.DataFrame(columns=["key", "date"])
    wide = long.pivot_table(index=["key", "date"], columns="field", values="value",
                            aggfunc="last").reset_index()
    wide.columns.name = None
    wide["date"] = pd.to_datetime(wide["date"])
    return wide.sort_values(["key", "date"]).reset_index(drop=True)
