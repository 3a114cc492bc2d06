"""Bytes for the dashboard's download buttons (pure; no Streamlit).

Every chart's data and every export goes through :func:`to_bytes`, which
writes a frame as CSV, Parquet, Excel or JSON with the same context as
``bubblewatch export`` (:mod:`indicators.export`): for an indicator's series
the run's parameters, as-of date, computed-at time (UTC), sampling, coverage,
units and labels; for any other table (a chart's data, prices, reference
figures) its title, source, coverage and whatever the page adds. CSV carries
it as ``#`` comment lines at the top (``pandas.read_csv(f, comment="#")``
reads the table), JSON under ``meta``, Parquet in the key-value metadata and
Excel in an ``about`` sheet.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from indicators import export
from indicators.export import ExportMeta

#: Format -> (file extension, MIME type).
FORMATS: dict[str, tuple[str, str]] = {
    "csv": ("csv", "text/csv"),
    "parquet": ("parquet", "application/vnd.apache.parquet"),
    "xlsx": ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "json": ("json", "application/json"),
}

#: Where the dashboard's own tables come from (source line of their metadata).
DASHBOARD_SOURCE = "bubblewatch dashboard: read from its database, nothing recomputed"


@dataclass(frozen=True, slots=True)
class Download:
    """A ready file: its name, MIME type and bytes."""

    file_name: str
    mime: str
    data: bytes


def slug(text: str) -> str:
    """A file-name-safe slug: ``"NVDA vs CSCO"`` -> ``"nvda-vs-csco"``."""
    s = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()
    return s or "data"


def describe(df: pd.DataFrame, name: str, about: Mapping[str, Any] | None = None
             ) -> ExportMeta:
    """The export metadata of a dashboard table.

    ``about`` with ``indicator`` and ``key`` (:func:`dashboard.ui.about_run`)
    describes one key's stored series: the run's ``params``, ``params_hash``,
    ``as_of``, ``computed_at`` and ``meta`` become its run information. Any
    other entry is kept as a note; ``title``, ``source``, ``description`` and
    ``columns`` (column -> ``(label, unit, description)``) describe a table
    that is not an indicator's series.
    """
    about = dict(about or {})
    indicator, key = about.pop("indicator", None), about.pop("key", None)
    if indicator:
        run = {k: about.pop(k, None) for k in ("params", "params_hash", "as_of",
                                               "computed_at", "meta")}
        return export.indicator_meta(str(indicator), df, {str(key): run} if key else {},
                                     keys=[str(key)] if key else [], notes=about)
    title = str(about.pop("title", name))
    source = str(about.pop("source", DASHBOARD_SOURCE))
    description = about.pop("description", None)
    columns = about.pop("columns", None)
    return export.table_meta(title, df, source=source, columns=columns, notes=about,
                             description=str(description) if description else None)


def to_bytes(df: pd.DataFrame, fmt: str, *, name: str,
             about: Mapping[str, Any] | None = None, meta: ExportMeta | None = None
             ) -> Download:
    """Serialise ``df`` for download.

    Parameters
    ----------
    df
        The data. A ``DatetimeIndex`` (or any named index) becomes a column.
    fmt
        One of :data:`FORMATS` (``csv``, ``parquet``, ``xlsx``, ``json``).
    name
        Base of the file name (slugged).
    about
        What the data is (see :func:`describe`); ignored when ``meta`` is given.
    meta
        The full export metadata.

    Raises
    ------
    ValueError
        If ``fmt`` is not a known format.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown download format {fmt!r}; choose one of {', '.join(FORMATS)}")
    ext, mime = FORMATS[fmt]
    data = export.to_bytes(df, fmt, meta if meta is not None else describe(df, name, about))
    return Download(f"{slug(name)}.{ext}", mime, data)


def read_back(data: bytes, fmt: str) -> pd.DataFrame:
    """Read a file written by :func:`to_bytes` (tests and round-trip checks)."""
    if fmt == "csv":
        return pd.read_csv(io.BytesIO(data), comment="#")
    if fmt == "parquet":
        return pd.read_parquet(io.BytesIO(data))
    if fmt == "xlsx":
        return pd.read_excel(io.BytesIO(data), sheet_name="data")
    if fmt == "json":
        return pd.DataFrame(json.loads(data)["data"])
    raise ValueError(f"unknown download format {fmt!r}")


def read_meta(data: bytes, fmt: str) -> dict[str, Any]:
    """The metadata of a file written by :func:`to_bytes`: the JSON metadata
    (JSON, Parquet), the ``about`` sheet (Excel) or the ``#`` lines (CSV)."""
    if fmt == "csv":
        return dict(export.read_csv_meta(data))
    if fmt == "json":
        return dict(json.loads(data)["meta"])
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return dict(json.loads(pq.read_schema(io.BytesIO(data)).metadata[export.PARQUET_KEY]))
    if fmt == "xlsx":
        about = pd.read_excel(io.BytesIO(data), sheet_name="about")
        return dict(zip(about["field"], about["value"], strict=True))
    raise ValueError(f"unknown download format {fmt!r}")
