"""Property-based fuzzing of the price CSV reader and the companyfacts reader.

Whatever the bytes, a reader gives rows or one :class:`IngestError` (never
another exception), and the write path stores a file whole or not at all.
Structured mutations of valid files (non-finite, huge and empty cells, text,
bytes that are not UTF-8, blank lines, Windows line endings, a byte-order
mark, duplicated dates, shuffled columns) are also checked against a slow
plain-Python reference of the rules: both must agree on accept or reject, on
the rows, and the line an error names must be one the reference rejects.

Profiles: ``ci`` (default; deterministic, sized for about 30 s in all) and
``deep`` (random, many more examples): ``BUBBLEWATCH_FUZZ_PROFILE=deep``.
``pytest --hypothesis-show-statistics tests/ingest/test_fuzz.py`` prints how
many examples each property ran.
"""

from __future__ import annotations

import csv
import json
import math
import os
import tempfile
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select

from bubblewatch.app.jobs import _write_bar_chunks, _write_facts
from bubblewatch.core.errors import IngestError
from db.models import FundamentalFact, Instrument, PriceBar
from db.session import session_scope
from ingest.companyfacts import load_json, parse_companyfacts
from ingest.local import PriceFile, iter_price_chunks
from tests.conftest import SHARED_DATA

settings.register_profile("ci", max_examples=250, deadline=None, derandomize=True,
                          database=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("deep", max_examples=2000, deadline=None, database=None,
                          suppress_health_check=[HealthCheck.too_slow])
FUZZ = settings.get_profile(os.environ.get("BUBBLEWATCH_FUZZ_PROFILE", "ci"))

HEADER = ["date", "open", "high", "low", "close", "adj_close", "volume"]
#: Lines per chunk in the fuzzed reads, so files span several chunks.
CHUNK = 7


def _base_rows() -> list[list[str]]:
    """24 real NVDA rows (../shared/data)."""
    with (SHARED_DATA / "prices" / "NVDA.csv").open(newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == HEADER
    return rows[1000:1024]


BASE = _base_rows()


@pytest.fixture(scope="module")
def fuzz_db() -> Iterator[str]:
    from db.migrate import upgrade

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'fuzz.sqlite'}"
        upgrade(url)
        with session_scope(url) as s:
            s.add(Instrument(symbol="NVDA", name="NVIDIA", cohorts="ai"))
        yield url
        from db.session import get_engine

        get_engine(url).dispose()


def _read(data: bytes) -> list:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "NVDA.csv"
        path.write_bytes(data)
        return list(iter_price_chunks(PriceFile(path, "NVDA"), chunk_lines=CHUNK))


# --------------------------------------------------------------------------- any bytes
@FUZZ
@given(st.binary(max_size=600) | st.binary(max_size=600).map(
    lambda b: (",".join(HEADER) + "\n").encode() + b))
def test_any_bytes_give_rows_or_one_ingest_error(data: bytes) -> None:
    try:
        chunks = _read(data)
    except IngestError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    assert chunks  # rows were read


# --------------------------------------------------------------------------- mutations
BAD_CELLS = ["inf", "-inf", "nan", "NaN", "1e400", "-1e400", "9" * 30, "", "abc", "-1", "0",
             "1e-9", "2.5", "1e30", "\udcff", "2099-01-02", "3737-01-02", "1899-12-29",
             "2024-02-30", " 12 ", "1e8", "100000001"]


@st.composite
def mutated_csv(draw: st.DrawFn) -> bytes:
    rows = [list(r) for r in BASE[: draw(st.integers(1, len(BASE)))]]
    for _ in range(draw(st.integers(0, 4))):
        i, j = draw(st.integers(0, len(rows) - 1)), draw(st.integers(0, 6))
        rows[i][j] = draw(st.sampled_from(BAD_CELLS))
    if draw(st.booleans()):  # duplicate a row's date
        i, j = draw(st.integers(0, len(rows) - 1)), draw(st.integers(0, len(rows) - 1))
        rows[j][0] = rows[i][0]
    if draw(st.booleans()):  # duplicate a whole row
        i = draw(st.integers(0, len(rows) - 1))
        rows.insert(draw(st.integers(0, len(rows))), list(rows[i]))
    order = draw(st.permutations(range(7))) if draw(st.booleans()) else list(range(7))
    lines = [",".join(HEADER[k] for k in order)] + [",".join(r[k] for k in order) for r in rows]
    for _ in range(draw(st.integers(0, 4))):  # blank lines anywhere
        lines.insert(draw(st.integers(0, len(lines))), draw(st.sampled_from(["", "  ", "\t"])))
    ending = draw(st.sampled_from(["\n", "\r\n"]))
    text = ending.join(lines) + (ending if draw(st.booleans()) else "")
    data = text.encode("utf-8", "surrogateescape")  # "\udcff" becomes the byte 0xff
    return (b"\xef\xbb\xbf" if draw(st.booleans()) else b"") + data


def _reference(data: bytes) -> tuple[set[int], list[tuple]]:
    """Slow plain-Python statement of the rules: the lines that break one, and
    the rows (date, open, high, low, close, adj_close, volume) of a valid file."""
    today = datetime.now(ZoneInfo("America/New_York")).date()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    numbered = [(n, ln.rstrip(b"\r")) for n, ln in enumerate(data.split(b"\n"), start=1)]
    numbered = [(n, ln) for n, ln in numbered if ln.strip()]
    bad: set[int] = set()
    header = numbered[0][1].decode().split(",")
    pos = {name: header.index(name) for name in HEADER}
    rows, seen = [], {}
    adj_missing = []
    for n, ln in numbered[1:]:
        try:
            cells = ln.decode("utf-8").split(",")
        except UnicodeDecodeError:
            bad.add(n)
            continue
        values: dict[str, float | None] = {}
        broken = False
        for name in HEADER[1:]:
            text = cells[pos[name]].strip()
            if text in ("", "nan", "NaN", "null", "None"):
                values[name] = None
                continue
            try:
                v = float(text)
            except ValueError:
                broken = True
                continue
            if name == "volume":
                broken |= not (math.isfinite(v) and 0 <= v <= 2**53 and v == int(v))
            else:
                broken |= not (math.isfinite(v) and 1e-6 <= v <= 1e8)
            values[name] = v
        try:
            d = date.fromisoformat(cells[pos["date"]].strip()[:10])
            broken |= not date(1900, 1, 1) <= d <= today
        except ValueError:
            d, broken = None, True
        if values.get("close") is None:
            broken = True
        adj_missing.append((n, values.get("adj_close") is None))
        o, h, lo, c = (values.get(k) for k in ("open", "high", "low", "close"))
        if not broken and h is not None and lo is not None:
            broken |= lo > h * 1.005
        for v in (o, c):
            if not broken and v is not None:
                broken |= (h is not None and v > h * 1.005) or (lo is not None and v < lo * 0.995)
        if d is not None and d in seen:
            broken = True
        seen.setdefault(d, n)
        if broken:
            bad.add(n)
        rows.append((d, o, h, lo, c, values.get("adj_close"), values.get("volume")))
    if any(m for _, m in adj_missing) and not all(m for _, m in adj_missing):
        bad |= {n for n, m in adj_missing if m}
    if bad:
        return bad, []
    rows = [r[:5] + ((r[5] if r[5] is not None else r[4]),) + r[6:] for r in rows]
    return bad, sorted(rows, key=lambda r: r[0])


def _same(a: float | None, b: float) -> bool:
    return (a is None and math.isnan(b)) or (a is not None and a == b)


@FUZZ
@given(mutated_csv())
def test_mutated_files_agree_with_the_reference_and_are_written_whole_or_not(
    fuzz_db: str, data: bytes
) -> None:
    bad, expected = _reference(data)
    with session_scope(fuzz_db) as s:
        s.execute(delete(PriceBar))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "NVDA.csv"
        path.write_bytes(data)
        chunks = iter_price_chunks(PriceFile(path, "NVDA"), chunk_lines=CHUNK)
        try:
            counts = _write_bar_chunks(fuzz_db, "NVDA", "file", chunks)
        except IngestError as exc:
            message = str(exc)
            assert "\n" not in message and str(path) in message
            line = int(message.split("(line ", 1)[1].split(",")[0].split(")")[0])
            assert line in bad, (message, sorted(bad))
            stored = None
        else:
            assert not bad, sorted(bad)
            assert counts.inserted == len(expected)
            stored = counts.inserted
    with session_scope(fuzz_db) as s:
        n = s.scalar(select(func.count()).select_from(PriceBar))
        got = s.execute(select(PriceBar.date, PriceBar.open, PriceBar.high, PriceBar.low,
                               PriceBar.close, PriceBar.adj_close, PriceBar.volume)
                        .order_by(PriceBar.date)).all()
    assert n == (stored or 0)  # nothing half-written
    for row, ref in zip(got, expected, strict=False):
        assert row[0] == ref[0]
        for x, y in zip(ref[1:6], row[1:6], strict=True):
            assert _same(x, float("nan") if y is None else y), (ref, row)
        assert (ref[6] is None and row[6] is None) or ref[6] == row[6]


# --------------------------------------------------------------------------- companyfacts
def _base_doc() -> dict:
    """A few real NVDA facts (../shared/data), every field present."""
    doc = json.loads((SHARED_DATA / "edgar" / "CIK0001045810.json").read_bytes())
    gaap = doc["facts"]["us-gaap"]
    keep = ["Revenues", "NetIncomeLoss", "EarningsPerShareDiluted"]
    small = {c: {"units": {u: v[:4] for u, v in gaap[c]["units"].items()}} for c in keep
             if c in gaap}
    dei = doc["facts"]["dei"]
    c = next(iter(dei))
    small_dei = {c: {"units": {u: v[:3] for u, v in dei[c]["units"].items()}}}
    return {"cik": doc["cik"], "entityName": doc["entityName"],
            "facts": {"us-gaap": small, "dei": small_dei}}


BASE_DOC = _base_doc()
RAW = ["NaN", "Infinity", "-Infinity", "1e400", "1" + "0" * 400, "9" * 5000, "1e30", '"12"',
       "null", "true", "[]", "{}", '"2099-01-01"', '"3737-12-31"', '"x"', "-0.0", '"\\ud800"',
       "99999999999999999999"]


def _paths(node: object, prefix: tuple = ()) -> Iterator[tuple]:
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, (*prefix, i))


PATHS = [p for p in _paths(BASE_DOC) if p]


@st.composite
def mutated_json(draw: st.DrawFn) -> bytes:
    doc = json.loads(json.dumps(BASE_DOC))
    raws: list[str] = []
    for _ in range(draw(st.integers(0, 3))):
        path = draw(st.sampled_from(PATHS))
        parent = doc
        try:
            for k in path[:-1]:
                parent = parent[k]
            if draw(st.integers(0, 4)) == 0 and isinstance(parent, dict):
                parent.pop(path[-1], None)  # a missing key
            else:
                parent[path[-1]] = f"@RAW{len(raws)}@"
                raws.append(draw(st.sampled_from(RAW)))
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed the way there
    text = json.dumps(doc, indent=draw(st.sampled_from([None, 1])))
    for i, raw in enumerate(raws):
        text = text.replace(f'"@RAW{i}@"', raw)
    data = text.encode()
    if draw(st.booleans()):
        cut = draw(st.integers(0, len(data)))
        data = data[:cut] + draw(st.sampled_from([b"", b"\xff", b"\xc3", b"\x00"])) + data[cut:]
    return data


def _check_facts(data: bytes, db_url: str | None) -> None:
    try:
        rows = parse_companyfacts(load_json(data, "CIK.json"), "CIK.json", expected_cik=None)
    except IngestError as exc:
        assert str(exc).startswith("CIK.json") and "\n" not in str(exc)
        return
    for r in rows:
        assert math.isfinite(r["value"]) and abs(r["value"]) <= 1e15
        assert r["period_start"] <= r["period_end"] and r["filed"].year >= 1900
        assert isinstance(r["form"], str) and isinstance(r["accession"], str)
    if db_url is not None:
        with session_scope(db_url) as s:
            s.execute(delete(FundamentalFact))
        counts = _write_facts(db_url, rows)
        with session_scope(db_url) as s:
            assert s.scalar(select(func.count()).select_from(FundamentalFact)) == len(rows)
        assert counts.inserted == len(rows)


@FUZZ
@given(st.binary(max_size=600) | st.binary(max_size=400).map(
    lambda b: b'{"cik": 1045810, "facts": {"us-gaap": ' + b))
def test_any_bytes_as_companyfacts_give_facts_or_one_ingest_error(data: bytes) -> None:
    _check_facts(data, None)


@FUZZ
@given(mutated_json())
def test_mutated_companyfacts_give_valid_facts_or_one_ingest_error(fuzz_db: str,
                                                                   data: bytes) -> None:
    _check_facts(data, fuzz_db)
