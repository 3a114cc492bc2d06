"""Bytes for the dashboard's download buttons (pure; no Streamlit).

Every chart's data and every export goes through :func:`to_bytes`, which
writes a frame as CSV, Parquet, Excel or JSON. Excel and Parquet files carry
the provenance (indicator, key, parameters, as-of date) beside the data: a
second ``about`` sheet in Excel, key-value metadata in Parquet; CSV and JSON
get the same facts in their file name and header comment lines.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

#: Format -> (file extension, MIME type).
FORMATS: dict[str, tuple[str, str]] = {
    "csv": ("csv", "text/csv"),
    "parquet": ("parquet", "application/vnd.apache.parquet"),
    "xlsx": ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "json": ("json", "application/json"),
}


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


def to_bytes(df: pd.DataFrame, fmt: str, *, name: str,
             about: Mapping[str, Any] | None = None) -> Download:
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
        Provenance written with the data (indicator, key, params, as-of...).

    Raises
    ------
    ValueError
        If ``fmt`` is not a known format.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown download format {fmt!r}; choose one of {', '.join(FORMATS)}")
    ext, mime = FORMATS[fmt]
    about = {str(k): v for k, v in (about or {}).items()}
    flat = _flatten(df)
    buf = io.BytesIO()
    if fmt == "csv":
        header = "".join(f"# {k}: {_text(v)}\n" for k, v in about.items())
        buf.write(header.encode())
        buf.write(flat.to_csv(index=False, date_format="%Y-%m-%d").encode())
    elif fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(flat, preserve_index=False)
        meta = dict(table.schema.metadata or {})
        meta.update({f"bubblewatch.{k}".encode(): _text(v).encode() for k, v in about.items()})
        pq.write_table(table.replace_schema_metadata(meta), buf)
    elif fmt == "xlsx":
        with pd.ExcelWriter(buf, engine="openpyxl") as xw:
            _excel_safe(flat).to_excel(xw, sheet_name="data", index=False)
            if about:
                pd.DataFrame({"field": list(about), "value": [_text(v) for v in about.values()]}
                             ).to_excel(xw, sheet_name="about", index=False)
    else:
        payload = {"about": json.loads(json.dumps(about, default=str)),
                   "data": json.loads(flat.to_json(orient="records", date_format="iso"))}
        buf.write(json.dumps(payload, indent=1).encode())
    return Download(f"{slug(name)}.{ext}", mime, buf.getvalue())


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


def _flatten(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    if isinstance(out.index, pd.DatetimeIndex) or out.index.name is not None:
        out = out.reset_index(names=out.index.name or "date")
    else:
        out = out.reset_index(drop=True)
    out.columns = [str(c) for c in out.columns]
    for c in out.columns:
        if out[c].dtype == object and out[c].map(lambda v: isinstance(v, (dict, list))).any():
            out[c] = out[c].map(lambda v: json.dumps(v, default=str)
                                if isinstance(v, (dict, list)) else v)
    return out


def _excel_safe(df: pd.DataFrame) -> pd.DataFrame:
    """Excel cannot store timezone-aware date-times: write them as naive UTC."""
    out = df.copy()
    for c in out.columns:
        if isinstance(out[c].dtype, pd.DatetimeTZDtype):
            out[c] = out[c].dt.tz_convert("UTC").dt.tz_localize(None)
    return out


def _text(v: Any) -> str:
    if isinstance(v, (dict, list, tuple)):
        return json.dumps(v, default=str, sort_keys=True)
    return str(v)
