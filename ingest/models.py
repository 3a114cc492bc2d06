"""Canonical shapes every source produces, and their validation.

Prices: a DataFrame indexed by ``date`` (``DatetimeIndex``, ascending, unique)
with ``open, high, low, close, adj_close, volume`` (floats; volume may be
missing). Facts: a list of :class:`FactRow` dicts matching the
``fundamental_fact`` table. Sources rename their columns to these through
declared alias maps (:data:`PRICE_ALIASES`) rather than ad-hoc code.
"""

from __future__ import annotations

from datetime import date
from typing import TypedDict

import numpy as np
import pandas as pd

from bubblewatch.core.errors import EmptyDataError, IngestError

PRICE_COLUMNS = ["open", "high", "low", "close", "adj_close", "volume"]
REQUIRED_PRICE_COLUMNS = ["date", "close"]

#: Source column name (lower-cased, stripped) -> canonical name.
PRICE_ALIASES: dict[str, str] = {
    "date": "date", "datetime": "date",
    "open": "open", "high": "high", "low": "low", "close": "close",
    "adj close": "adj_close", "adj_close": "adj_close", "adjclose": "adj_close",
    "adjusted close": "adj_close",
    "volume": "volume",
}


class FactRow(TypedDict):
    cik: int
    symbol: str | None
    taxonomy: str
    concept: str
    unit: str
    period_start: date
    period_end: date
    instant: bool
    value: float
    fiscal_year: int | None
    fiscal_period: str | None
    form: str
    filed: date
    accession: str
    frame: str | None
    source: str


def canonical_bars(raw: pd.DataFrame, source: str, *, first_row: int = 2) -> pd.DataFrame:
    """Rename, type-check and validate raw price rows.

    Parameters
    ----------
    raw
        Rows as read (a ``date`` column or index, any alias of the price columns).
    source
        The file or endpoint, named in errors.
    first_row
        File line number of ``raw``'s first row (2 for a CSV with a header),
        so errors point at the line a user opens in an editor.

    Raises
    ------
    IngestError
        Naming the file, line and column: missing columns, unparseable dates,
        non-numeric, non-positive or missing closes, duplicate dates.
    EmptyDataError
        No rows at all.
    """
    df = raw.copy()
    if df.index.name is not None and str(df.index.name).strip().lower() in PRICE_ALIASES:
        df = df.reset_index()
    rename = {}
    for col in df.columns:
        key = str(col).strip().lower()
        if key in PRICE_ALIASES:
            rename[col] = PRICE_ALIASES[key]
    df = df.rename(columns=rename)
    missing = [c for c in REQUIRED_PRICE_COLUMNS if c not in df.columns]
    if missing:
        raise IngestError(
            f"missing column(s) {', '.join(missing)}; expected a header like "
            "'date,open,high,low,close,adj_close,volume' or Yahoo's "
            "'Date,Open,High,Low,Close,Adj Close,Volume'",
            source=source, location="header",
        )
    if df.empty:
        raise EmptyDataError("no price rows", source=source)
    lines = np.arange(first_row, first_row + len(df))
    dates = pd.to_datetime(df["date"].astype(str).str.strip().str[:10], errors="coerce",
                           format="%Y-%m-%d")
    bad = dates.isna().to_numpy()
    if bad.any():
        i = int(np.argmax(bad))
        raise IngestError(f"date {df['date'].iloc[i]!r} is not an ISO date (YYYY-MM-DD)",
                          source=source, location=f"line {lines[i]}, column date")
    out = pd.DataFrame(index=pd.DatetimeIndex(dates.to_numpy(), name="date"))
    for col in ["open", "high", "low", "close", "adj_close", "volume"]:
        if col not in df.columns:
            out[col] = np.nan
            continue
        values = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=float)
        text = df[col].astype(str).str.strip()
        nonnum = np.isnan(values) & ~text.isin(["", "nan", "NaN", "null", "None"]).to_numpy()
        if nonnum.any():
            i = int(np.argmax(nonnum))
            raise IngestError(f"{col} value {df[col].iloc[i]!r} is not a number",
                              source=source, location=f"line {lines[i]}, column {col}")
        if col != "volume":
            nonpos = values <= 0
            if nonpos.any():
                i = int(np.argmax(nonpos))
                raise IngestError(f"{col} {values[i]} is not a positive price",
                                  source=source, location=f"line {lines[i]}, column {col}")
        elif (values < 0).any():
            i = int(np.argmax(values < 0))
            raise IngestError(f"volume {values[i]} is negative",
                              source=source, location=f"line {lines[i]}, column volume")
        out[col] = values
    nan_close = np.isnan(out["close"].to_numpy())
    if nan_close.any():
        i = int(np.argmax(nan_close))
        raise IngestError("close is missing", source=source, location=f"line {lines[i]}, column close")
    if out["adj_close"].isna().all():
        out["adj_close"] = out["close"]
    elif out["adj_close"].isna().any():
        i = int(np.argmax(out["adj_close"].isna().to_numpy()))
        raise IngestError("adj_close is missing", source=source,
                          location=f"line {lines[i]}, column adj_close")
    dup = out.index.duplicated(keep="first")
    if dup.any():
        i = int(np.argmax(dup))
        first = int(np.argmax(out.index == out.index[i]))
        raise IngestError(
            f"duplicate date {out.index[i].date()} (also on line {lines[first]})",
            source=source, location=f"line {lines[i]}, column date",
        )
    return out.sort_index()
