"""Compact encoding of indicator series: one binary block per calendar year.

An indicator result for one (indicator, key, parameter set) is a table of
dates x fields. Stored one value per row (the former ``indicator_value``
table) it costs 150-250 bytes per value in SQLite and PostgreSQL (text keys,
two indexes, a timestamp per value), 3-8 MB per symbol for the default
indicators. ``indicator_block`` stores each calendar year of a series as one
row whose ``data`` holds:

* the dates as day numbers (days since 1970-01-01), delta-encoded, ``int32``;
* the values as ``float64``, field after field (NaN: no value);

each part byte-shuffled (byte ``k`` of every number together, as in Blosc and
HDF5's shuffle filter, so the slowly changing high bytes compress) and the
whole compressed with zlib. Values round-trip bit for bit. A daily update
rewrites the current year's block only. ``benchmarks/bench_storage.py``
measures both layouts (bytes per symbol on SQLite and PostgreSQL).

Format (version byte first, little-endian)::

    u8 version = 1 | u32 rows | u16 fields | zlib(shuffle(i32 deltas) + shuffle(f64 values))
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

VERSION = 1
_HEAD = struct.Struct("<BIH")
_EPOCH = np.datetime64("1970-01-01", "D")
_EPOCH_DATE = date(1970, 1, 1)
#: zlib level: 6 (the default) compresses within 2% of 9 at a third of the time.
LEVEL = 6


@dataclass(frozen=True, slots=True)
class Block:
    """One decoded block: ``days`` (int64 day numbers, ascending) and
    ``values`` (``len(fields) x len(days)`` float64, NaN where no value)."""

    fields: tuple[str, ...]
    days: np.ndarray
    values: np.ndarray

    @property
    def n_values(self) -> int:
        """Finite values held (what the former one-value-per-row table counted)."""
        return int(np.isfinite(self.values).sum())

    def frame(self) -> pd.DataFrame:
        """Wide frame: ``DatetimeIndex`` named ``date``, one column per field."""
        idx = pd.DatetimeIndex((_EPOCH + self.days.astype("timedelta64[D]")).astype(
            "datetime64[s]"), name="date")
        # one 2-D float block over the values (no copy per column)
        return pd.DataFrame(self.values.T, index=idx, columns=list(self.fields), copy=False)


def _shuffle(a: np.ndarray) -> bytes:
    b = np.ascontiguousarray(a).view(np.uint8).reshape(-1, a.dtype.itemsize)
    return np.ascontiguousarray(b.T).tobytes()


def _unshuffle(raw: bytes, dtype: np.dtype, n: int) -> np.ndarray:
    size = np.dtype(dtype).itemsize
    b = np.frombuffer(raw, dtype=np.uint8).reshape(size, n)
    return np.ascontiguousarray(b.T).view(dtype).reshape(n)


def encode(days: np.ndarray, values: np.ndarray) -> bytes:
    """Bytes of one block (``days`` ascending day numbers, ``values`` fields x days)."""
    days = np.asarray(days, dtype=np.int64)
    values = np.asarray(values, dtype="<f8")
    n, k = days.shape[0], values.shape[0]
    if values.shape != (k, n):
        raise ValueError(f"values must be (fields, {n}), got {values.shape}")
    delta = np.diff(days, prepend=np.int64(0)).astype("<i4")
    body = _shuffle(delta) + (_shuffle(values.reshape(-1)) if values.size else b"")
    return _HEAD.pack(VERSION, n, k) + zlib.compress(body, LEVEL)


def decode(data: bytes, fields: Sequence[str]) -> Block:
    """The :class:`Block` stored in ``data`` (``fields`` from its row)."""
    version, n, k = _HEAD.unpack_from(data)
    if version != VERSION:
        raise ValueError(f"indicator block format {version} is not known to this version "
                         f"(knows {VERSION}); upgrade bubblewatch")
    if k != len(fields):
        raise ValueError(f"indicator block holds {k} fields but its row names {len(fields)}")
    body = zlib.decompress(data[_HEAD.size:])
    days = np.cumsum(_unshuffle(body[: 4 * n], np.dtype("<i4"), n).astype(np.int64))
    values = (_unshuffle(body[4 * n:], np.dtype("<f8"), n * k).reshape(k, n).astype(np.float64)
              if k and n else np.empty((k, n)))
    return Block(tuple(fields), days, values)


def day_numbers(index: pd.Index) -> np.ndarray:
    """Day numbers (days since 1970-01-01) of a date index."""
    values = index.values if isinstance(index, pd.DatetimeIndex) else pd.DatetimeIndex(index).values
    return (values.astype("datetime64[D]") - _EPOCH).astype(np.int64)


def split_years(frame: pd.DataFrame) -> dict[int, Block]:
    """A wide frame (``DatetimeIndex`` x fields) as one :class:`Block` per
    calendar year; rows without any finite value are dropped (nothing to store)."""
    if frame.empty or not len(frame.columns):
        return {}
    if not frame.index.is_monotonic_increasing:
        frame = frame.sort_index()
    if all(t == np.float64 for t in frame.dtypes):
        vals = frame.to_numpy(dtype=float).T.copy()
    elif all(pd.api.types.is_numeric_dtype(t) for t in frame.dtypes):
        vals = frame.to_numpy(dtype=float, na_value=np.nan).T.copy()
    else:
        vals = frame.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float).T.copy()
    finite = np.isfinite(vals)
    vals[~finite] = np.nan
    keep = finite.any(axis=0)
    days = day_numbers(frame.index)
    if not keep.all():
        days, vals = days[keep], vals[:, keep]
    if not days.shape[0]:
        return {}
    fields = tuple(str(c) for c in frame.columns)
    years = (days.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970)
    edges = np.flatnonzero(np.r_[True, years[1:] != years[:-1], True])  # ascending days
    out: dict[int, Block] = {}
    for a, b in zip(edges[:-1].tolist(), edges[1:].tolist(), strict=True):
        v = vals[:, a:b]
        has = np.isfinite(v).any(axis=1)
        out[int(years[a])] = Block(tuple(f for f, h in zip(fields, has, strict=True) if h),
                                   days[a:b], v[has] if not has.all() else v.copy())
    return out


def merge(old: Block | None, new: Block, *, replace_from: int | None = None) -> Block:
    """``new`` laid over ``old``: finite values of ``new`` win; with
    ``replace_from`` (a day number) ``old``'s values on or after it are dropped
    first. Fields and days are the union (days ascending)."""
    if old is None:
        return new
    if replace_from is not None:
        keep = old.days < replace_from
        old = Block(old.fields, old.days[keep], old.values[:, keep])
    fields = tuple(dict.fromkeys([*old.fields, *new.fields]))
    days = np.union1d(old.days, new.days)
    out = np.full((len(fields), days.shape[0]), np.nan)
    pos = {f: i for i, f in enumerate(fields)}
    oi = np.searchsorted(days, old.days)
    for i, f in enumerate(old.fields):
        out[pos[f], oi] = old.values[i]
    ni = np.searchsorted(days, new.days)
    for i, f in enumerate(new.fields):
        v = new.values[i]
        ok = np.isfinite(v)
        out[pos[f], ni[ok]] = v[ok]
    keep_rows = np.isfinite(out).any(axis=0)
    keep_fields = np.isfinite(out).any(axis=1)
    return Block(tuple(f for f, k in zip(fields, keep_fields, strict=True) if k),
                 days[keep_rows], out[keep_fields][:, keep_rows])


def changed_values(old: Block | None, new: Block) -> int:
    """Values of ``new`` that ``old`` did not hold bit for bit (new or changed)."""
    if old is None:
        return new.n_values
    j = np.searchsorted(old.days, new.days)
    j_ok = j < old.days.shape[0]
    found = np.zeros(new.days.shape[0], dtype=bool)
    found[j_ok] = old.days[j[j_ok]] == new.days[j_ok]
    jc = np.where(found, j, 0)
    count = 0
    for i, f in enumerate(new.fields):
        v = new.values[i]
        fin = np.isfinite(v)
        if f not in old.fields or not old.days.shape[0]:
            count += int(fin.sum())
            continue
        ov = old.values[old.fields.index(f)][jc]
        same = found & (ov == v)
        count += int((fin & ~same).sum())
    return count


def to_date(day: int) -> date:
    """The date of day number ``day``."""
    return _EPOCH_DATE + timedelta(days=int(day))


def frame_of(parts: Sequence[Block]) -> pd.DataFrame:
    """One wide frame of consecutive blocks (years ascending), built once."""
    if len(parts) == 1:
        return parts[0].frame()
    fields = list(dict.fromkeys(f for b in parts for f in b.fields))
    pos = {f: i for i, f in enumerate(fields)}
    days = np.concatenate([b.days for b in parts])
    values = np.full((len(fields), days.shape[0]), np.nan)
    at = 0
    for b in parts:
        n = b.days.shape[0]
        for i, f in enumerate(b.fields):
            values[pos[f], at:at + n] = b.values[i]
        at += n
    return Block(tuple(fields), days, values).frame()
