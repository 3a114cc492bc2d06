"""Writing indicator series (and any other table) to CSV, Parquet, Excel or
JSON, every file carrying its context.

The context is one :class:`ExportMeta`, the same on every path (``bubblewatch
export`` to a file or to stdout, the dashboard's downloads, Python): what the
data is (title, indicator, description, source), for which keys, the as-of
date asked for and when it was exported (UTC), what the dates mean (New York
trading days), how often rows are dated and where that changes (declared:
``Indicator.sampling``; observed per key: :func:`observed_sampling`), the
coverage per key, every column's label, unit and explanation, and per key the
run's parameters, as-of date, computed-at time (UTC) and any stored reason why
it is empty or partial. Column names stay the machine names (``pe_ttm``); the
labels are in the metadata.

Where it goes in each format:

* **CSV**: ``#`` comment lines at the top, ``# name: value`` (values that are
  not plain text are JSON), then one ``# column NAME: label (unit): text``
  line per column, then the table. ``pandas.read_csv(path, comment="#")``
  reads the table (a text cell holding ``#`` is quoted so it is never cut);
  :func:`read_csv_meta` reads the metadata back.
* **JSON**: ``{"meta": {...}, "data": [{...}, ...]}``.
* **Parquet**: the whole metadata as JSON under the key-value metadata key
  ``bubblewatch``, each plain top-level entry also under ``bubblewatch.NAME``,
  and each column's label and unit in the Arrow field metadata.
* **Excel**: a ``data`` sheet and an ``about`` sheet (``field``, ``value``).

Dates are written ``YYYY-MM-DD`` (no time of day); times are ISO 8601 in UTC
with the zone (``+00:00``).
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from indicators.vocabulary import DATES_NOTE

FORMATS = ("csv", "parquet", "xlsx", "json")
BINARY = ("parquet", "xlsx")
#: Parquet key-value metadata key of the whole metadata (JSON).
PARQUET_KEY = b"bubblewatch"

#: Columns every long export has besides the indicator's fields.
KEY_COLUMNS = {
    "key": ("Key", "symbol or group", "the symbol, basket, cohort or pair the row is about"),
    "date": ("Date", "YYYY-MM-DD, New York trading day", "the trading day the row is dated"),
}


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ColumnInfo(_Model):
    """A column for people: label, unit and one line on what it is."""

    label: str
    unit: str
    description: str


class RunInfo(_Model):
    """How one key's stored result was made."""

    params: dict[str, Any] = Field(default_factory=dict)
    params_hash: str | None = None
    as_of: date | None = None
    computed_at: datetime | None = None
    missing: str | None = None
    note: str | None = None


class Span(_Model):
    """Consecutive rows dated at one frequency (``every``: ``trading day``,
    ``week``, ``month``, ``quarter``, ``year`` or ``irregular``)."""

    start: date
    end: date
    every: str
    rows: int


class Coverage(_Model):
    """First and last date and row count of one key."""

    first: date | None = None
    last: date | None = None
    rows: int = 0


class ExportMeta(_Model):
    """The context every export carries (see the module docstring)."""

    title: str
    indicator: str | None = None
    description: str | None = None
    source: str
    keys: list[str] = Field(default_factory=list)
    as_of: date | None = None
    exported_at: datetime
    dates: str = DATES_NOTE
    sampling: str | None = None
    sampling_observed: dict[str, list[Span]] = Field(default_factory=dict)
    coverage: dict[str, Coverage] = Field(default_factory=dict)
    columns: dict[str, ColumnInfo] = Field(default_factory=dict)
    runs: dict[str, RunInfo] = Field(default_factory=dict)
    #: Keys asked for that have no rows, with the stored reason and what fills them.
    missing: dict[str, str] = Field(default_factory=dict)
    notes: dict[str, str] = Field(default_factory=dict)

    def plain(self) -> dict[str, Any]:
        """JSON-ready dict (dates ISO, times ISO with the zone)."""
        return self.model_dump(mode="json", exclude_defaults=False)


# --------------------------------------------------------------------------- sampling
#: Largest gap (calendar days) between two rows at each frequency, in order.
_EVERY = (("trading day", 5), ("week", 12), ("month", 45), ("quarter", 135), ("year", 400))


def _every(gap_days: float) -> str:
    for name, most in _EVERY:
        if gap_days <= most:
            return name
    return "irregular"


def observed_sampling(dates: Sequence[Any] | pd.Index, min_rows: int = 4) -> list[Span]:
    """How often the rows are dated, as spans of one frequency each.

    Each gap between consecutive dates is classed (≤ 5 calendar days: trading
    day, ≤ 12: week, ≤ 45: month, ≤ 135: quarter, ≤ 400: year); runs of one class
    shorter than ``min_rows`` gaps (a holiday week in a daily series) join the
    span before them.

    >>> d = list(pd.date_range("2024-01-05", periods=11, freq="W-FRI")) \\
    ...     + list(pd.bdate_range("2024-03-18", periods=10))
    >>> [(s.every, str(s.start), str(s.end), s.rows) for s in observed_sampling(d)]
    [('week', '2024-01-05', '2024-03-15', 11), ('trading day', '2024-03-18', '2024-03-29', 10)]
    """
    idx = pd.DatetimeIndex(pd.to_datetime(list(dates))).dropna().sort_values().unique()
    if len(idx) == 0:
        return []
    if len(idx) == 1:
        return [Span(start=idx[0].date(), end=idx[0].date(), every="irregular", rows=1)]
    gaps = np.diff(idx.to_numpy().astype("datetime64[s]").astype(np.int64)) / 86_400.0
    kinds = [_every(g) for g in gaps]
    runs: list[list[Any]] = []  # [kind, first gap index, last gap index]
    for i, k in enumerate(kinds):
        if runs and runs[-1][0] == k:
            runs[-1][2] = i
        else:
            runs.append([k, i, i])
    merged: list[list[Any]] = []
    for r in runs:
        if merged and (r[2] - r[1] + 1 < min_rows or merged[-1][0] == r[0]):
            merged[-1][2] = r[2]
        else:
            merged.append(list(r))
    if len(merged) > 1 and merged[0][2] - merged[0][1] + 1 < min_rows:
        merged[1][1] = merged[0][1]
        merged.pop(0)
    spans = []
    for n, (kind, g0, g1) in enumerate(merged):
        first = g0 if n == 0 else g0 + 1  # a gap's later date starts the span
        spans.append(Span(start=idx[first].date(), end=idx[g1 + 1].date(), every=kind,
                          rows=g1 + 2 - first))
    return spans


def sampling_text(spans: Sequence[Span]) -> str:
    """``"every week from 1990-01-05 to 2024-03-15, then every trading day from
    2024-03-18 to 2026-08-21"``."""
    if not spans:
        return "no rows"
    return ", then ".join(f"every {s.every} from {s.start} to {s.end}" for s in spans)


# --------------------------------------------------------------------------- metadata
def _by_key(frame: pd.DataFrame) -> dict[str, pd.DatetimeIndex]:
    if "date" in frame.columns:
        dates = pd.to_datetime(frame["date"])
        if "key" in frame.columns:
            return {str(k): pd.DatetimeIndex(d) for k, d in dates.groupby(frame["key"])}
        return {"": pd.DatetimeIndex(dates)}
    if isinstance(frame.index, pd.DatetimeIndex):
        return {"": frame.index}
    return {}


def _coverage(frame: pd.DataFrame) -> tuple[dict[str, Coverage], dict[str, list[Span]]]:
    cov, obs = {}, {}
    for k, d in _by_key(frame).items():
        d = d.dropna()
        cov[k] = Coverage(first=d.min().date() if len(d) else None,
                          last=d.max().date() if len(d) else None, rows=len(d))
        obs[k] = observed_sampling(d)
    return cov, obs


def indicator_meta(name: str, frame: pd.DataFrame, runs: Mapping[str, Mapping[str, Any]],
                   *, as_of: date | str | None = None, keys: Sequence[str] | None = None,
                   notes: Mapping[str, Any] | None = None,
                   missing: Mapping[str, str] | None = None,
                   exported_at: datetime | None = None) -> ExportMeta:
    """The metadata of an export of indicator ``name``.

    Parameters
    ----------
    frame
        The exported rows: long (``key, date, <fields>``) or one key's wide
        frame (``DatetimeIndex`` or a ``date`` column).
    runs
        Key -> stored run (``params, params_hash, as_of, computed_at, meta``),
        as :func:`indicators.api.load` keeps them in ``attrs["runs"]``.
    as_of
        The as-of date the export was asked for (None: the latest data).
    keys
        The keys asked for (default: those of ``runs``).
    notes
        Anything else worth keeping with the data (chart anchors...), as text.
    missing
        Keys without rows -> why (``attrs["missing"]`` of :func:`indicators.api.load`).
    """
    from indicators import registry

    ind = registry.get(name)
    dated = isinstance(frame.index, pd.DatetimeIndex)
    cols = {c: ColumnInfo(label=lab, unit=unit, description=desc)
            for c, (lab, unit, desc) in KEY_COLUMNS.items()
            if c in frame.columns or (c == "date" and dated)}
    cols.update({c: ColumnInfo(label=ind.columns[c].label, unit=ind.columns[c].unit,
                               description=ind.columns[c].description)
                 for c in frame.columns if c in ind.columns})
    run_info = {}
    for k, r in runs.items():
        meta = dict(r.get("meta") or {})
        run_info[str(k)] = RunInfo(
            params=dict(r.get("params") or {}), params_hash=r.get("params_hash"),
            as_of=_date(r.get("as_of")), computed_at=_utc(r.get("computed_at")),
            missing=meta.get("missing"), note=meta.get("note"))
    cov, obs = _coverage(frame)
    if list(cov) == [""] and len(run_info) == 1:  # one key's wide frame
        only = next(iter(run_info))
        cov, obs = {only: cov[""]}, {only: obs[""]}
    return ExportMeta(
        title=ind.title, indicator=name, description=ind.description,
        source=(f"bubblewatch: stored results of `bubblewatch compute {name}`, computed from the "
                "prices, SEC EDGAR filings and built-in reference figures in its database"),
        keys=[str(k) for k in (keys if keys is not None else run_info)],
        as_of=_date(as_of), exported_at=exported_at or _now(),
        sampling=ind.sampling, sampling_observed=obs, coverage=cov, columns=cols,
        runs=run_info, missing={str(k): str(v) for k, v in (missing or {}).items()},
        notes={str(k): _text(v) for k, v in (notes or {}).items()},
    )


def table_meta(title: str, frame: pd.DataFrame, *, source: str,
               columns: Mapping[str, tuple[str, str, str]] | None = None,
               notes: Mapping[str, Any] | None = None, description: str | None = None,
               exported_at: datetime | None = None) -> ExportMeta:
    """The metadata of a table that is not one indicator's series (prices, the
    reference figures, a chart's data): ``columns`` maps a column to
    ``(label, unit, description)``."""
    cols = {c: ColumnInfo(label=lab, unit=unit, description=desc)
            for c, (lab, unit, desc) in {**KEY_COLUMNS, **(columns or {})}.items()
            if c in frame.columns or (c == "date" and isinstance(frame.index, pd.DatetimeIndex))}
    cov, obs = _coverage(frame)
    return ExportMeta(title=title, description=description, source=source,
                      exported_at=exported_at or _now(), sampling_observed=obs,
                      coverage=cov, columns=cols,
                      notes={str(k): _text(v) for k, v in (notes or {}).items()})


def meta_of(frame: pd.DataFrame) -> ExportMeta:
    """The metadata of a frame returned by :func:`indicators.api.load` (from its ``attrs``)."""
    attrs = frame.attrs or {}
    name = attrs.get("indicator")
    if not name:
        raise ValueError("the frame carries no indicator in attrs; load it with "
                         "indicators.load(...) or pass the metadata explicitly")
    return indicator_meta(name, frame, attrs.get("runs") or {}, as_of=attrs.get("as_of"),
                          keys=attrs.get("keys"), missing=attrs.get("missing"))


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _date(v: Any) -> date | None:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    return pd.Timestamp(v).date()


def _utc(v: Any) -> datetime | None:
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return None
    ts = pd.Timestamp(v)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return ts.to_pydatetime()


def _text(v: Any) -> str:
    if isinstance(v, str):
        return v
    return json.dumps(_clean(v), sort_keys=True, ensure_ascii=False)


def _clean(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, (pd.Timestamp, datetime, date)):
        return obj.isoformat()
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


# --------------------------------------------------------------------------- the table
def default_filename(name: str, key: str | None, fmt: str) -> str:
    stem = name if not key else f"{name}_{key.lstrip('^').lower()}"
    return f"{stem}.{fmt}"


def flat(frame: pd.DataFrame) -> pd.DataFrame:
    """The table as written: a ``DatetimeIndex`` (or named index) becomes a
    ``date`` column, date-only datetimes become ``YYYY-MM-DD`` text, aware
    times ISO text in UTC, nested values JSON."""
    out = frame.copy()
    if isinstance(out.index, pd.DatetimeIndex) or out.index.name is not None:
        out = out.reset_index(names=out.index.name or "date")
    else:
        out = out.reset_index(drop=True)
    out.columns = [str(c) for c in out.columns]
    for c in out.columns:
        col = out[c]
        if isinstance(col.dtype, pd.DatetimeTZDtype):
            out[c] = col.dt.tz_convert("UTC").map(lambda t: t.isoformat() if pd.notna(t) else None)
        elif pd.api.types.is_datetime64_any_dtype(col.dtype):
            ts = pd.DatetimeIndex(col)
            if (ts.dropna() == ts.dropna().normalize()).all():
                out[c] = [t.strftime("%Y-%m-%d") if pd.notna(t) else None for t in ts]
        elif col.dtype == object and col.map(lambda v: isinstance(v, (dict, list))).any():
            out[c] = col.map(lambda v: json.dumps(_clean(v)) if isinstance(v, (dict, list)) else v)
        elif col.dtype == object and col.map(lambda v: isinstance(v, (date, datetime))).any():
            out[c] = col.map(lambda v: v.isoformat() if isinstance(v, (date, datetime)) else v)
    return out


# --------------------------------------------------------------------------- writing
def csv_header(meta: ExportMeta) -> str:
    """The ``#`` comment lines a CSV export starts with."""
    plain = meta.plain()
    lines = [f"bubblewatch export: {meta.title}"]
    for k in ("indicator", "description", "source", "keys", "as_of", "exported_at", "dates",
              "sampling"):
        v = plain.get(k)
        if v not in (None, [], {}, ""):
            lines.append(f"{k}: {v if isinstance(v, str) else json.dumps(v)}")
    for k, spans in meta.sampling_observed.items():
        lines.append(f"rows{' of ' + k if k else ''}: {sampling_text(spans)}")
    for k, c in meta.coverage.items():
        lines.append(f"coverage{' of ' + k if k else ''}: "
                     f"{c.first} to {c.last}, {c.rows} rows")
    for k, r in plain["runs"].items():
        lines.append(f"run {k}: {json.dumps(r, ensure_ascii=False)}")
    for k, why in meta.missing.items():
        lines.append(f"no rows for {k}: {why}")
    for k, v in meta.notes.items():
        lines.append(f"note {k}: {v}")
    for name, c in meta.columns.items():
        lines.append(f"column {name}: {c.label} ({c.unit}): {c.description}")
    return "".join(f"# {line}\n" for line in (ln.replace("\n", " ") for ln in lines))


def read_csv_meta(source: str | Path | bytes) -> dict[str, str]:
    """The ``# name: value`` lines at the top of a CSV export, as text
    (``column NAME``, ``run KEY`` entries included)."""
    text = source.decode() if isinstance(source, bytes) else Path(source).read_text()
    out: dict[str, str] = {}
    for line in text.splitlines():
        if not line.startswith("# "):
            break
        name, sep, value = line[2:].partition(": ")
        if sep:
            out[name] = value
    return out


def _csv_table(table: pd.DataFrame) -> str:
    texts = table.select_dtypes(include=["object", "string"])
    hashed = any(texts[c].astype(str).str.contains("#", regex=False).any() for c in texts)
    return table.to_csv(index=False, quoting=csv.QUOTE_NONNUMERIC if hashed else
                        csv.QUOTE_MINIMAL, lineterminator="\n")


def to_bytes(frame: pd.DataFrame, fmt: str, meta: ExportMeta | None = None) -> bytes:
    """The export in ``fmt`` as bytes (``meta`` default: :func:`meta_of` the frame).

    Raises
    ------
    ValueError
        For an unknown format.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    meta = meta if meta is not None else meta_of(frame)
    table = flat(frame)
    if fmt == "csv":
        return (csv_header(meta) + _csv_table(table)).encode()
    if fmt == "json":
        records = json.loads(table.to_json(orient="records", date_format="iso",
                                           double_precision=15))
        return json.dumps({"meta": meta.plain(), "data": records}, indent=1,
                          ensure_ascii=False).encode()
    buf = io.BytesIO()
    _write_binary(table, fmt, buf, meta)
    return buf.getvalue()


def _write_binary(table: pd.DataFrame, fmt: str, target: BinaryIO | Path,
                  meta: ExportMeta) -> None:
    plain = meta.plain()
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        arrow = pa.Table.from_pandas(table, preserve_index=False)
        fields = []
        for f in arrow.schema:
            c = meta.columns.get(f.name)
            fields.append(f.with_metadata({b"label": c.label.encode(), b"unit": c.unit.encode(),
                                           b"description": c.description.encode()})
                          if c is not None else f)
        md = dict(arrow.schema.metadata or {})
        md[PARQUET_KEY] = json.dumps(plain, ensure_ascii=False).encode()
        for k, v in plain.items():
            if isinstance(v, str):
                md[b"bubblewatch." + k.encode()] = v.encode()
        schema = pa.schema(fields, metadata=md)
        pq.write_table(arrow.cast(schema), target)
        return
    with pd.ExcelWriter(target, engine="openpyxl") as xl:
        table.to_excel(xl, sheet_name="data", index=False)
        pd.DataFrame(about_rows(meta), columns=["field", "value"]).to_excel(
            xl, sheet_name="about", index=False)


def about_rows(meta: ExportMeta) -> list[tuple[str, str]]:
    """The metadata as ``(field, value)`` rows (the Excel ``about`` sheet)."""
    plain = meta.plain()
    rows: list[tuple[str, str]] = [("title", meta.title)]
    for k in ("indicator", "description", "source", "keys", "as_of", "exported_at", "dates",
              "sampling"):
        v = plain.get(k)
        if v not in (None, [], ""):
            rows.append((k, v if isinstance(v, str) else json.dumps(v)))
    for k, spans in meta.sampling_observed.items():
        rows.append((f"rows{' of ' + k if k else ''}", sampling_text(spans)))
    for k, c in meta.coverage.items():
        rows.append((f"coverage{' of ' + k if k else ''}", f"{c.first} to {c.last}, {c.rows} rows"))
    for k, r in plain["runs"].items():
        for f in ("params", "params_hash", "as_of", "computed_at", "missing", "note"):
            if r.get(f) not in (None, {}, ""):
                v = r[f]
                rows.append((f"{k} {f}", v if isinstance(v, str) else json.dumps(v)))
    for k, why in meta.missing.items():
        rows.append((f"no rows for {k}", why))
    for k, v in meta.notes.items():
        rows.append((f"note {k}", v))
    for name, c in meta.columns.items():
        rows.append((f"column {name}", f"{c.label} ({c.unit}): {c.description}"))
    return rows


def write(frame: pd.DataFrame, fmt: str, out: Path, meta: ExportMeta | None = None) -> list[Path]:
    """Write the export to ``out``; returns the paths written (one file: the
    metadata is inside it in every format)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(to_bytes(frame, fmt, meta))
    return [out]
