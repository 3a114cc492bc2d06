"""Writing indicator series to CSV, Parquet, Excel or JSON.

Every export carries what produced it: the indicator, parameters (and hash),
as-of date and ``computed_at`` of each key. Where that lives depends on the
format: JSON embeds it beside the data; Parquet stores it in the file's
key-value metadata (``bubblewatch``); Excel adds an ``about`` sheet; CSV
written to a file gets a ``<file>.meta.json`` sidecar (CSV to stdout is the
bare table).
"""

from __future__ import annotations

import io
import json
import math
from datetime import date, datetime
from pathlib import Path
from typing import Any, BinaryIO

import pandas as pd

FORMATS = ("csv", "parquet", "xlsx", "json")
BINARY = ("parquet", "xlsx")


def _clean(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, (pd.Timestamp, datetime, date)):
        return obj.isoformat()
    return obj


def provenance(frame: pd.DataFrame) -> dict[str, Any]:
    """The ``attrs`` :func:`indicators.api.load` attached, JSON-ready."""
    attrs = frame.attrs or {}
    return _clean({"indicator": attrs.get("indicator"), "as_of": attrs.get("as_of"),
                   "runs": attrs.get("runs", {}), "exported_at": datetime.now().isoformat(
                       timespec="seconds")})


def default_filename(name: str, key: str | None, fmt: str) -> str:
    stem = name if not key else f"{name}_{key.lstrip('^').lower()}"
    return f"{stem}.{fmt}"


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = frame.copy()
    if "date" in out:
        out["date"] = pd.to_datetime(out["date"]).dt.strftime("%Y-%m-%d")
    return [_clean(r) for r in out.to_dict("records")]


def to_bytes(frame: pd.DataFrame, fmt: str) -> bytes:
    """The export in ``fmt`` as bytes (what the dashboard's download buttons serve).

    Raises
    ------
    ValueError
        For an unknown format.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    meta = provenance(frame)
    if fmt == "csv":
        return frame.to_csv(index=False, date_format="%Y-%m-%d").encode()
    if fmt == "json":
        return json.dumps({**meta, "columns": list(frame.columns), "data": _records(frame)},
                          indent=1).encode()
    buf = io.BytesIO()
    _write_binary(frame, fmt, buf, meta)
    return buf.getvalue()


def _write_binary(frame: pd.DataFrame, fmt: str, target: BinaryIO | Path,
                  meta: dict[str, Any]) -> None:
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(frame.reset_index(drop=True), preserve_index=False)
        md = dict(table.schema.metadata or {})
        md[b"bubblewatch"] = json.dumps(meta).encode()
        pq.write_table(table.replace_schema_metadata(md), target)
        return
    about = [("indicator", meta.get("indicator")), ("as_of", meta.get("as_of")),
             ("exported_at", meta.get("exported_at"))]
    for key, run in (meta.get("runs") or {}).items():
        about += [(f"{key}.params", json.dumps(run.get("params"))),
                  (f"{key}.params_hash", run.get("params_hash")),
                  (f"{key}.as_of", run.get("as_of")),
                  (f"{key}.computed_at", run.get("computed_at"))]
    with pd.ExcelWriter(target, engine="openpyxl") as xl:
        frame.to_excel(xl, sheet_name="data", index=False)
        pd.DataFrame(about, columns=["field", "value"]).to_excel(xl, sheet_name="about",
                                                                 index=False)


def write(frame: pd.DataFrame, fmt: str, out: Path) -> list[Path]:
    """Write the export to ``out`` (and a CSV's metadata sidecar); returns the
    paths written."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    out = Path(out)
    if out.parent and not out.parent.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
    written = [out]
    if fmt in BINARY:
        _write_binary(frame, fmt, out, provenance(frame))
    else:
        out.write_bytes(to_bytes(frame, fmt))
    if fmt == "csv":
        side = out.with_name(out.name + ".meta.json")
        side.write_text(json.dumps(provenance(frame), indent=1))
        written.append(side)
    return written
