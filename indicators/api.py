"""Reading stored indicator results from Python.

>>> import indicators
>>> df = indicators.load("valuation", "NVDA", start="2024-01-01")   # doctest: +SKIP
>>> df[["pe_ttm", "ps_ttm"]].tail()                                 # doctest: +SKIP

Results come from the database (``bubblewatch compute`` writes them); this
module never computes. Each frame carries, in ``DataFrame.attrs``, the
indicator, its parameters and hash, the as-of date and ``computed_at`` of
every key it holds, and the run's ``meta`` (best analog match, missing
components...); :func:`indicators.export.meta_of` turns them into the
metadata every export carries.

Nothing is returned silently empty: an unknown indicator or key raises
:class:`NoResultsError` listing the known ones, and a key whose stored result
has no rows (or none in the dates asked for) raises it with the reason the
computation stored (``Meta.missing``: no SEC data for that company, too short
a history...) and what would fill it.
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
        If ``name`` or ``key`` is unknown (the known ones are listed), or no
        row is stored for them (in ``start``..``end``): the message gives the
        stored reason and what fills it. With ``key=None`` a key without rows
        is left out and its reason kept in ``attrs["missing"]``.
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
    from indicators.registry import all_indicators

    known = sorted(i.name for i in all_indicators())
    if name not in known:
        raise NoResultsError(f"unknown indicator {name!r}; known indicators: {', '.join(known)}")
    with session_scope(database_url) as s:
        all_runs = repo.latest_runs(s, name)
        if not all_runs:
            raise NoResultsError(f"no stored results for {name!r}; run "
                                 f"`bubblewatch compute {name}`")
        runs = [r for r in all_runs if key is None or r.key == key]
        if not runs:
            keys = ", ".join(sorted(r.key for r in all_runs))
            raise NoResultsError(f"indicator {name!r} has no key {key!r}; known keys: {keys} "
                                 f"(for a symbol of the universe, `bubblewatch compute {name} "
                                 f"--symbols {key}` adds it)")
        long = repo.indicator_frame(s, name, key, fields=fields, start=start_d, end=end_d)
        run_info = {
            r.key: {"params": dict(r.params), "params_hash": r.params_hash,
                    "as_of": r.as_of.isoformat() if r.as_of else None,
                    "computed_at": r.computed_at.isoformat() if r.computed_at else None,
                    "first_date": r.first_date.isoformat() if r.first_date else None,
                    "last_date": r.last_date.isoformat() if r.last_date else None,
                    "meta": dict(r.meta or {})}
            for r in runs
        }
    frame = to_wide(long)
    empty = {k: _why_empty(name, r, start_d, end_d) for k, r in run_info.items()
             if long.empty or k not in set(long["key"])}
    if key is not None and empty:
        raise NoResultsError(f"no rows of {name!r} for {key!r}: {empty[key]}")
    if key is None and len(empty) == len(run_info):
        raise NoResultsError(f"no rows of {name!r} for any key: "
                             + "; ".join(f"{k}: {v}" for k, v in empty.items()))
    frame.attrs = {"indicator": name, "runs": {k: v for k, v in run_info.items()
                                               if k not in empty},
                   "keys": [key] if key is not None else sorted(set(run_info) - set(empty)),
                   "missing": empty, "as_of": as_of_d.isoformat() if as_of_d else None}
    return frame


def _why_empty(name: str, run: dict, start: date | None, end: date | None) -> str:
    """Why a stored run gives no rows: its stored reason, or the dates asked for."""
    meta = run.get("meta") or {}
    if meta.get("missing"):
        return str(meta["missing"])
    if start is not None or end is not None:
        return (f"nothing between {start or 'the start'} and {end or 'the end'}; the stored "
                f"rows run from {run.get('first_date')} to {run.get('last_date')}")
    return (str(meta.get("note")) if meta.get("note") else
            f"the last computation stored no rows; run `bubblewatch compute {name}` again")


def to_wide(long: pd.DataFrame) -> pd.DataFrame:
    """``indicator_frame``'s long rows as ``key, date, <fields...>``."""
    if long.empty:
        return pd.DataFrame(columns=["key", "date"])
    wide = long.pivot_table(index=["key", "date"], columns="field", values="value",
                            aggfunc="last").reset_index()
    wide.columns.name = None
    wide["date"] = pd.to_datetime(wide["date"])
    return wide.sort_values(["key", "date"]).reset_index(drop=True)
