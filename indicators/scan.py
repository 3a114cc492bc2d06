"""The market-wide scan: every symbol ranked by how explosive it is now.

One row per symbol with its latest stored readings (no computation: the
scan reads what ``bubblewatch compute`` stored):

* ``excess``: BSADF minus its 95% critical value (PSY, Phillips, Shi & Yu
  2015) on the latest sampled date; above 0 the price is explosive there;
* ``ret_2y`` and ``ret_2y_net``: the Greenwood-Shleifer-You two-year run-up,
  raw and net of the market; ``runup`` 1 when it is at least 100%;
* ``pos_conf``/``neg_conf``: the LPPLS (FCO) confidence where computed;
* ``ps_pctile``/``pe_pctile``: the P/S and P/E percentile of the company's own
  history, where fundamentals exist;
* ``drawdown`` from the running peak.

Rows are ranked by ``excess`` (highest first; symbols without a PSY reading
last), then by ``ret_2y``. The dashboard's Scanner page and ``bubblewatch
scan`` show the same table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

import numpy as np
import pandas as pd

#: (indicator, stored field) -> scan column, in table order.
FIELDS: tuple[tuple[str, str, str], ...] = (
    ("psy", "excess", "excess"),
    ("psy", "bsadf", "bsadf"),
    ("psy", "cv95", "cv95"),
    ("runup", "ret_2y", "ret_2y"),
    ("runup", "ret_2y_net", "ret_2y_net"),
    ("runup", "flag", "runup"),
    ("lppls", "pos_conf", "pos_conf"),
    ("lppls", "neg_conf", "neg_conf"),
    ("valuation", "ps_pctile", "ps_pctile"),
    ("valuation", "pe_pctile", "pe_pctile"),
    ("regime", "drawdown", "drawdown"),
)
#: Which indicator's last date is the row's ``as_of``.
DATE_OF = {"psy": "psy_date", "runup": "runup_date", "lppls": "lppls_date"}
COLUMNS = ["rank", "symbol", "name", "cohorts", "universes", "excess", "bsadf", "cv95",
           "explosive", "ret_2y", "ret_2y_net", "runup", "pos_conf", "neg_conf", "ps_pctile",
           "pe_pctile", "drawdown", "psy_date", "runup_date", "lppls_date"]


def scan_table(latest: Mapping[str, pd.DataFrame], instruments: pd.DataFrame,
               members: pd.DataFrame, *, cohorts: Sequence[str] = (),
               universe: str | None = None, on: date | None = None) -> pd.DataFrame:
    """Rank symbols by their latest readings.

    Parameters
    ----------
    latest
        Indicator name -> :func:`db.repo.latest_values` frame (``key, date``
        and one column per field).
    instruments
        ``symbol, name, cohorts`` (:func:`db.repo.instruments_frame`).
    members
        ``universe, symbol, joined, left`` (:func:`db.repo.universe_members`).
    cohorts
        Keep symbols in any of these cohorts (all when empty).
    universe
        Keep members of this stored universe on ``on`` (today by default).

    Returns
    -------
    DataFrame with :data:`COLUMNS`, one row per symbol that has a PSY or
    run-up reading, best rank first.
    """
    ins = instruments.set_index("symbol") if len(instruments) else pd.DataFrame(
        columns=["name", "cohorts"])
    table = pd.DataFrame(index=pd.Index(ins.index, name="symbol"))
    for ind, fld, col in FIELDS:
        df = latest.get(ind)
        if df is None or df.empty or fld not in df.columns:
            table[col] = np.nan
            continue
        table[col] = pd.to_numeric(df.set_index("key")[fld], errors="coerce").reindex(
            table.index)
    for ind, col in DATE_OF.items():
        df = latest.get(ind)
        table[col] = (pd.to_datetime(df.set_index("key")["date"]).reindex(table.index)
                      if df is not None and not df.empty else pd.NaT)
    table = table[table[["excess", "ret_2y"]].notna().any(axis=1)]
    table["name"] = ins["name"].reindex(table.index) if "name" in ins else table.index
    table["cohorts"] = [", ".join(c) if isinstance(c, tuple) else "" for c in
                        (ins["cohorts"].reindex(table.index) if "cohorts" in ins
                         else [()] * len(table))]
    day = on or date.today()
    current = members[(members["joined"].isna() | (pd.to_datetime(members["joined"])
                                                   <= pd.Timestamp(day)))
                      & (members["left"].isna() | (pd.to_datetime(members["left"])
                                                   > pd.Timestamp(day)))] if len(
        members) else members
    by_symbol = current.groupby("symbol")["universe"].apply(
        lambda u: ", ".join(sorted(set(u)))) if len(current) else pd.Series(dtype=object)
    table["universes"] = by_symbol.reindex(table.index).fillna("")
    if cohorts:
        wanted = set(cohorts)
        keep = [bool(wanted & set(c.split(", "))) for c in table["cohorts"]]
        table = table[keep]
    if universe:
        keep_u = set(current.loc[current["universe"] == universe, "symbol"]) if len(
            current) else set()
        table = table[table.index.isin(keep_u)]
    table["explosive"] = np.where(table["excess"].isna(), np.nan,
                                  (table["excess"] > 0).astype(float))
    table = table.reset_index().sort_values(
        ["excess", "ret_2y"], ascending=False, na_position="last", kind="stable")
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return table.reset_index(drop=True)[COLUMNS]


def load_scan(session: object, *, cohorts: Sequence[str] = (), universe: str | None = None,
              on: date | None = None) -> pd.DataFrame:
    """:func:`scan_table` over what the database holds."""
    from db import repo

    latest = {ind: repo.latest_values(session, ind)  # type: ignore[arg-type]
              for ind in dict.fromkeys(i for i, _, _ in FIELDS)}
    return scan_table(latest, repo.instruments_frame(session),  # type: ignore[arg-type]
                      repo.universe_members(session), cohorts=cohorts,  # type: ignore[arg-type]
                      universe=universe, on=on)
