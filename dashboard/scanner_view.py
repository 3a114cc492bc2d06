"""The Scanner page's table for people: pure functions of the scan
(:func:`indicators.scan.scan_table`), no Streamlit, no I/O.

Readings are written in their fields' units (:func:`indicators.vocabulary.format_field`)
under their fields' labels, cohorts by their names, and each symbol's pages
are links; the download and ``bubblewatch scan --format csv`` keep the scan
itself, with its machine column names and raw values."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from indicators.scan import FIELDS
from indicators.vocabulary import format_field, label

#: Readings shown, in order: scan column -> (indicator, stored field).
READINGS: dict[str, tuple[str, str]] = {
    col: (ind, fld) for ind, fld, col in FIELDS
    if col in ("excess", "ret_2y", "ret_2y_net", "pos_conf", "ps_pctile", "pe_pctile",
               "drawdown")}
#: Each symbol's pages linked from its row: column -> (page path, header, link text).
PAGE_LINKS: dict[str, tuple[str, str, str]] = {
    "psy_page": ("/explosiveness", "Explosiveness", "PSY ›"),
    "lppls_page": ("/lppls", "LPPLS", "LPPLS ›"),
    "valuation_page": ("/valuation", "Valuation", "valuation ›"),
}
#: Headers of the other columns shown.
HEADERS = {"rank": "Rank", "symbol": "Symbol", "name": "Name", "cohorts": "Cohorts",
           "universes": "Universes", "psy_date": "PSY as of"}


def headers() -> dict[str, str]:
    """Scan column -> the header people read (readings by their field labels)."""
    return {"rank": HEADERS["rank"], "symbol": HEADERS["symbol"], "name": HEADERS["name"],
            **{col: label(ind, fld) for col, (ind, fld) in READINGS.items()},
            "cohorts": HEADERS["cohorts"], "universes": HEADERS["universes"],
            "psy_date": HEADERS["psy_date"],
            **{col: head for col, (_, head, _) in PAGE_LINKS.items()}}


def scan_view(table: pd.DataFrame, key_label: Callable[[str], str]) -> pd.DataFrame:
    """The scan as the page shows it, still under the scan's column names
    (:func:`headers` names them): readings in their units (a gap stays empty),
    cohorts by ``key_label``, the PSY date as a date, and the links."""
    out = pd.DataFrame({"rank": table["rank"], "symbol": table["symbol"],
                        "name": table["name"]})
    for col, (ind, fld) in READINGS.items():
        out[col] = [None if pd.isna(v) else format_field(ind, fld, float(v))
                    for v in table[col]]
    out["cohorts"] = [", ".join(key_label(c) for c in str(cs).split(", ") if c) or None
                      for cs in table["cohorts"]]
    out["universes"] = table["universes"].map(lambda u: u or None)
    out["psy_date"] = pd.to_datetime(table["psy_date"])
    symbol = table["symbol"].astype(str).str.replace("^", "%5E", regex=False)
    for col, (path, _, _) in PAGE_LINKS.items():
        out[col] = path + "?symbol=" + symbol
    return out.reset_index(drop=True)
