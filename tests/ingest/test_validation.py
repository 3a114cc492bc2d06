"""What a price row and a companyfacts fact may hold, checked rule by rule.

Oracles: row counts from Python's csv module and the counts SOURCES.md of the
shared folder states, line numbers from enumerating the file's own lines,
today's date from the standard library's zoneinfo, fact counts from a plain
walk of the JSON.
"""

from __future__ import annotations

import csv
import json
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from bubblewatch.core.errors import EmptyDataError, IngestError
from bubblewatch.core.universe import default_universe
from ingest.companyfacts import load_json, parse_companyfacts
from ingest.local import PriceFile, iter_price_chunks, read_prices
from ingest.models import PriceLimits, canonical_bars

HEADER = "date,open,high,low,close,adj_close,volume"
GOOD = ["2024-01-02,10,11,9,10.5,10.4,1000", "2024-01-03,10.5,12,10,11,10.9,2000",
        "2024-01-04,11,11.5,10.2,10.8,10.7,1500", "2024-01-05,10.8,11,10.1,10.9,10.8,900"]


def _today_ny() -> date:
    return datetime.now(ZoneInfo("America/New_York")).date()


def _write(tmp_path: Path, data: str | bytes, name: str = "NVDA.csv") -> PriceFile:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return PriceFile(path, path.stem)


def _reject(tmp_path: Path, text: str, **kw) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(IngestError) as info:
        read_prices(_write(tmp_path, text), **kw)
    message = str(info.value)
    assert "\n" not in message
    return message


def _csv_count(path: Path) -> int:
    with path.open(newline="") as fh:
        return sum(1 for row in csv.reader(fh) if row) - 1


# --------------------------------------------------------------------------- real files
def test_every_real_price_file_reads_whole_with_the_stated_row_counts(shared_data: Path) -> None:
    universe = default_universe()
    stated = {"NVDA": 6938, "GSPC": 24777, "IXIC": 14003, "CRWV": 317}  # SOURCES.md
    files = sorted((shared_data / "prices").glob("*.csv"))
    assert len(files) == 18
    for path in files:
        symbol = universe.resolve(path.stem)
        bars = read_prices(PriceFile(path, symbol, universe.get(symbol).listed))
        assert len(bars) == _csv_count(path), path.name
        if path.stem in stated:
            assert len(bars) == stated[path.stem], path.name
        plain = pd.read_csv(path, parse_dates=["date"]).set_index("date")
        np.testing.assert_array_equal(bars["close"].to_numpy(), plain["close"].to_numpy())
        np.testing.assert_array_equal(bars["volume"].to_numpy(), plain["volume"].to_numpy(float))
        assert (bars.index == plain.index).all()


def test_chunk_size_does_not_change_what_is_read(shared_data: Path) -> None:
    f = PriceFile(shared_data / "prices" / "CSCO.csv", "CSCO")
    whole = pd.concat(list(iter_price_chunks(f, chunk_lines=100_000)))
    pieces = list(iter_price_chunks(f, chunk_lines=977))
    assert len(pieces) == -(-(len(whole) + 1) // 977)
    pd.testing.assert_frame_equal(pd.concat(pieces), whole)


def test_real_companyfacts_files_parse_every_fact(shared_data: Path) -> None:
    for path in sorted((shared_data / "edgar").glob("CIK*.json")):
        raw = path.read_bytes()
        plain = json.loads(raw)
        keys = {
            (tax, concept, unit, f.get("start") or f["end"], f["end"], f["accn"])
            for tax in ("us-gaap", "dei") for concept, body in plain["facts"].get(tax, {}).items()
            for unit, facts in body["units"].items() for f in facts
        }
        rows = parse_companyfacts(load_json(raw, str(path)), str(path))
        assert len(rows) == len(keys), path.name
        treasury = [r for r in rows if r["concept"] == "TreasuryStockAcquiredAverageCostPerShare"
                    and r["value"] > 1e8]
        if path.name == "CIK0001045810.json":  # a real scale slip stays loadable
            assert [r["value"] for r in treasury] == [368_600_000.0]


# --------------------------------------------------------------------------- price rules
@pytest.mark.parametrize(
    ("row", "expect"),
    [
        ("2024-01-08,10,11,9,inf,10,1", ["line 6, column close", "'inf' is not a finite price",
                                         "allowed: a finite price from 1e-06 to 1e+08"]),
        ("2024-01-08,10,11,9,1e400,10,1", ["column close", "'1e400' is not a finite price"]),
        ("2024-01-08,10,11,9,-inf,10,1", ["column close", "'-inf' is not a finite price"]),
        ("2024-01-08,10,11,9,0,10,1", ["column close", "'0' is not a positive price"]),
        ("2024-01-08,10,11,9,1e-7,10,1", ["column close", "below the smallest price"]),
        ("2024-01-08,10,2e8,9,10,10,1", ["column high", "'2e8' is above the largest price"]),
        ("2024-01-08,10,11,9,10,nan,1", ["column adj_close", "adj_close is missing"]),
        ("2024-01-08,10,11,9,10,10,inf", ["column volume", "'inf' is not finite",
                                          "a whole number of shares from 0 to 9007199254740992"]),
        ("2024-01-08,10,11,9,10,10,1e30", ["column volume", "'1e30' is too large"]),
        ("2024-01-08,10,11,9,10,10,9007199254740994", ["column volume", "is too large"]),
        ("2024-01-08,10,11,9,10,10,-5", ["column volume", "'-5' is negative"]),
        ("2024-01-08,10,11,9,10,10,2.5", ["column volume", "'2.5' is not a whole number"]),
        ("2024-01-08,10,11,9,10,10,lots", ["column volume", "'lots' is not a number"]),
        ("2024-01-08,10,9,11,10,10,1", ["column high", "high 9 is below low 11",
                                        "high >= low (within 0.5% for rounding)"]),
        ("2024-01-08,12,11,9,10,10,1", ["column open", "open 12 is outside the day's range",
                                        "low <= open <= high"]),
        ("2024-01-08,10,11,9,8.9,8.9,1", ["column close", "close 8.9 is outside"]),
        ("2099-01-02,10,11,9,10,10,1", ["column date", "date 2099-01-02 is after",
                                        "today in New York"]),
        ("3737-01-02,10,11,9,10,10,1", ["column date", "date 3737-01-02 is after"]),
        ("1899-12-31,10,11,9,10,10,1", ["column date", "before 1900-01-01"]),
        ("2024-02-30,10,11,9,10,10,1", ["column date", "'2024-02-30' is not an ISO date"]),
        ("2024-01-05,10,11,9,10,10,1", ["line 6, column date", "duplicate date 2024-01-05",
                                        "also on line 5"]),
    ],
)
def test_an_impossible_row_rejects_the_file_naming_line_column_value_and_rule(
    tmp_path: Path, row: str, expect: list[str]
) -> None:
    message = _reject(tmp_path, "\n".join([HEADER, *GOOD, row]) + "\n")
    assert message.startswith(str(tmp_path / "NVDA.csv") + " (line 6, column ")
    for part in expect:
        assert part in message, message
    assert "rejected line 6" in message


def test_boundaries_are_inclusive(tmp_path: Path) -> None:
    today = _today_ny()
    rows = ["1900-01-01,1e-6,1e-6,1e-6,1e-6,1e-6,0",
            f"2000-01-03,1e8,1e8,1e8,1e8,1e8,{2**53}",
            # open 0.4 % above the high and close 0.4 % below the low: vendor rounding
            "2000-01-04,10.04,10,9,8.964,9,1",
            f"{today},10,11,9,10,10,1"]
    bars = read_prices(_write(tmp_path, "\n".join([HEADER, *rows])))
    assert len(bars) == 4
    assert bars.index[-1] == pd.Timestamp(today)
    tomorrow = today + timedelta(days=1)
    message = _reject(tmp_path, "\n".join([HEADER, *rows[:3], f"{tomorrow},10,11,9,10,10,1"]))
    assert f"date {tomorrow} is after {today} (today in New York)" in message
    beyond = _reject(tmp_path, f"{HEADER}\n2000-01-04,10.06,10,9,9.5,9.5,1")
    assert "open 10.06 is outside" in beyond


def test_limits_can_be_set_and_follow_a_listing_date(tmp_path: Path) -> None:
    text = "\n".join([HEADER, *GOOD])
    message = _reject(tmp_path, text, limits=PriceLimits(latest=date(2024, 1, 3)))
    assert "date 2024-01-04 is after 2024-01-03 (the latest date accepted)" in message
    assert "rejected lines 4, 5" in message
    f = _write(tmp_path, text)
    listed = PriceFile(f.path, "CRWV", date(2024, 1, 4))
    with pytest.raises(IngestError, match=r"line 2, column date.*date 2024-01-02 is before "
                                          r"2024-01-04 \(CRWV's listing date\)"):
        read_prices(listed)


def test_several_bad_rows_are_named_and_counted(tmp_path: Path) -> None:
    rows = [f"2024-02-{d:02d},10,11,9,10,10,{'inf' if d % 2 else 1}" for d in range(1, 16)]
    message = _reject(tmp_path, "\n".join([HEADER, *rows]))
    # odd days are on lines 2, 4, ... 16: eight rows, five named
    assert "rejected lines 2, 4, 6, 8, 10 and 3 more" in message


def test_duplicate_dates_are_found_across_chunks(tmp_path: Path) -> None:
    rows = [f"2024-03-{d:02d},10,11,9,10,10,1" for d in range(1, 20)] + [
        "2024-03-02,10,11,9,10,10,1"]
    f = _write(tmp_path, "\n".join([HEADER, *rows]))
    with pytest.raises(IngestError, match=r"line 21, column date.*duplicate date 2024-03-02 "
                                          r"\(also on line 3\)"):
        list(iter_price_chunks(f, chunk_lines=4))


@pytest.mark.parametrize("data", [b"", b"\n\n  \n", HEADER.encode(), (HEADER + "\n\n").encode()])
def test_empty_files_are_one_clear_error(tmp_path: Path, data: bytes) -> None:
    with pytest.raises(EmptyDataError, match=r"NVDA\.csv: (the file is empty|no price rows)"):
        read_prices(_write(tmp_path, data))


@pytest.mark.parametrize(
    ("text", "expect"),
    [
        ("day,price\n2024-01-02,1\n", ["(header)", "missing column(s) date, close"]),
        ("date,close,Close\n2024-01-02,1,1\n", ["(header)", "more than one column means close"]),
        (f"{HEADER}\n2024-01-02,10,11,9,10,10,1,7\n", ["(line 2)", "more fields than the header"]),
        (f'{HEADER}\n"2024-01-02,10,11,9,10,10,1\n', ["(line 2)", "unbalanced quote"]),
        (f"{HEADER}\n2024-01-02,10,11,9,10\r10,1\n", ["(line 2)", "carriage return"]),
    ],
)
def test_malformed_csv_names_the_line(tmp_path: Path, text: str, expect: list[str]) -> None:
    message = _reject(tmp_path, text)
    for part in expect:
        assert part in message, message


def test_extra_columns_and_shuffled_columns_are_read_by_name(tmp_path: Path) -> None:
    order = [6, 4, 0, 2, 1, 5, 3]
    names = HEADER.split(",")
    lines = [",".join(names[i] for i in order) + ",note"]
    lines += [",".join(r.split(",")[i] for i in order) + ",x" for r in GOOD]
    shuffled = read_prices(_write(tmp_path, "\n".join(lines)))
    plain = read_prices(_write(tmp_path, "\n".join([HEADER, *GOOD]), "CSCO.csv"))
    pd.testing.assert_frame_equal(shuffled, plain)


# --------------------------------------------------------------------------- line numbers
@pytest.mark.parametrize("ending", ["\n", "\r\n"])
@pytest.mark.parametrize("bom", [False, True])
@pytest.mark.parametrize("final_newline", [True, False])
@pytest.mark.parametrize("blanks", [(), (2,), (0, 3, 4), (1, 1, 1, 5)])
def test_line_numbers_are_the_lines_an_editor_shows(tmp_path: Path, ending: str, bom: bool,
                                                    final_newline: bool, blanks: tuple) -> None:
    lines = [HEADER, *GOOD, "2024-01-08,10,11,9,MARK,10,1", "2024-01-09,10,11,9,10,10,1"]
    for pos in sorted(blanks, reverse=True):
        lines.insert(pos, "   " if pos % 2 else "")
    text = ending.join(lines) + (ending if final_newline else "")
    data = (b"\xef\xbb\xbf" if bom else b"") + text.encode()
    expected = next(i for i, ln in enumerate(text.splitlines(), start=1) if "MARK" in ln)
    with pytest.raises(IngestError) as info:
        read_prices(_write(tmp_path, data))
    assert f"(line {expected}, column close): close value 'MARK' is not a number" in str(
        info.value)
    # and without the bad value the same layout loads every row
    good = data.replace(b"MARK", b"10")
    assert len(read_prices(_write(tmp_path, good))) == 6


def test_invalid_utf8_names_line_and_byte(tmp_path: Path) -> None:
    data = "\n".join([HEADER, *GOOD]).encode().replace(b"2024-01-04,11", b"2024-01-04,1\xff1")
    with pytest.raises(IngestError, match=r"\(line 4, byte 13\): byte 0xff is not UTF-8"):
        read_prices(_write(tmp_path, data))


def test_frames_from_other_sources_are_checked_by_the_same_rules() -> None:
    idx = pd.DatetimeIndex(pd.date_range("2024-01-02", periods=3), name="Date")
    raw = pd.DataFrame({"Open": [1.0, 1, 1], "High": [2.0, 2, 2], "Low": [0.5, 0.5, 0.5],
                        "Close": [1.5, np.inf, 1.5], "Volume": [1, 2, 3]}, index=idx)
    with pytest.raises(IngestError, match=r"yahoo:X \(line 3, column close\): close inf is not "
                                          "a finite price"):
        canonical_bars(raw, "yahoo:X")


# --------------------------------------------------------------------------- companyfacts
def _doc(**fact) -> dict:  # type: ignore[no-untyped-def]
    base = {"end": "2024-03-31", "start": "2024-01-01", "val": 1000, "accn": "0001-24-1",
            "fy": 2024, "fp": "Q1", "form": "10-Q", "filed": "2024-05-01", "frame": "CY2024Q1"}
    base.update(fact)
    base = {k: v for k, v in base.items() if v is not _DROP}
    return {"cik": 1045810, "facts": {"us-gaap": {"Revenues": {"units": {"USD": [base]}}}}}


_DROP = object()
_PATH = "(facts.us-gaap.Revenues.units.USD[0]"


def _facts_error(doc: dict | str | bytes) -> str:
    raw = doc if isinstance(doc, (str, bytes)) else json.dumps(doc)
    with pytest.raises(IngestError) as info:
        parse_companyfacts(load_json(raw, "CIK.json"), "CIK.json", expected_cik=1045810)
    message = str(info.value)
    assert message.startswith("CIK.json") and "\n" not in message
    return message


@pytest.mark.parametrize(
    ("raw_val", "expect"),
    [
        ("NaN", "val NaN is not a finite number"),
        ("Infinity", "val Infinity is not a finite number"),
        ("-Infinity", "val -Infinity is not a finite number"),
        ("1e400", "val 1e400 is too large for a float"),
        ("1" + "0" * 400, "is too large (401 digits)"),
        ("9" * 5000, "is too large (5000 digits)"),
        ("1e16", "val 1e+16 is too large"),
        ('"12"', "val '12' is a string, not a number"),
        ("true", "val True is a boolean, not a number"),
        ("null", "val None is null, not a number"),
        ("[1]", "val [1] is a list, not a number"),
    ],
)
def test_a_bad_fact_value_names_file_concept_unit_and_position(raw_val: str, expect: str) -> None:
    text = json.dumps(_doc(val="RAW")).replace('"RAW"', raw_val)
    message = _facts_error(text)
    assert f"{_PATH}.val)" in message
    assert "concept us-gaap:Revenues, unit USD" in message
    assert expect in message, message
    assert "allowed: a finite number with magnitude at most 1e+15 for unit USD" in message


def test_fact_magnitude_bounds_depend_on_the_unit() -> None:
    ok = _doc(val=10**15)
    assert parse_companyfacts(ok, "x")[0]["value"] == 1e15
    shares = _doc(val=2e13)
    shares["facts"]["us-gaap"]["Revenues"]["units"] = {
        "shares": shares["facts"]["us-gaap"]["Revenues"]["units"]["USD"]}
    assert "magnitude at most 1e+13 for unit shares" in _facts_error(shares)
    assert parse_companyfacts(_doc(val=-(10**15)), "x")[0]["value"] == -1e15


@pytest.mark.parametrize(
    ("change", "location", "expect"),
    [
        ({"end": _DROP}, ".end)", "missing field 'end'"),
        ({"filed": "2099-01-01"}, ".filed)", "filed 2099-01-01 is after"),
        ({"end": "3737-01-01"}, ".end)", "more than five years after filed"),
        ({"start": "1850-01-01"}, ".start)", "start 1850-01-01 is before 1900-01-01"),
        ({"start": "2024-05-01", "end": "2024-04-01"}, ".start)", "start 2024-05-01 is after end"),
        ({"end": 20240331}, ".end)", "end 20240331 is not an ISO date"),
        ({"filed": "2024-13-01"}, ".filed)", "'2024-13-01' is not an ISO date"),
        ({"fy": 3737}, ".fy)", "fy 3737 is not allowed"),
        ({"fy": "2024"}, ".fy)", "fy '2024' is not allowed"),
        ({"fy": 10**30}, ".fy)", "is not allowed; allowed: a year from 1900 to 2026"),
        ({"form": "x" * 40}, ".form)", "printable text of 1 to 32 characters"),
        ({"form": {"a": 1}}, ".form)", "form {'a': 1} is not allowed"),
        ({"frame": 7}, ".frame)", "frame 7 is not allowed"),
        ({"accn": "\ud800"}, ".accn)", "accn"),
        ({"fp": "QUARTER-ONE"}, ".fp)", "1 to 8 characters"),
    ],
)
def test_bad_fact_fields_are_named(change: dict, location: str, expect: str) -> None:
    message = _facts_error(_doc(**change))
    assert f"{_PATH}{location}" in message, message
    assert expect in message, message


@pytest.mark.parametrize(
    ("doc", "location", "expect"),
    [
        ({"cik": 10**30, "facts": {}}, "(cik)", "is not a CIK"),
        ({"cik": True, "facts": {}}, "(cik)", "is not a CIK"),
        ({"cik": 1045810}, "(facts)", "missing field 'facts'"),
        ({"cik": 1045810, "facts": []}, "(facts)", "'facts' is a list"),
        ({"cik": 1045810, "facts": {"us-gaap": [1]}}, "(facts.us-gaap)", "taxonomy us-gaap is a list; allowed"),
        ({"cik": 1045810, "facts": {"us-gaap": {"Revenues": {"units": []}}}},
         "(facts.us-gaap.Revenues)", "has no 'units' object"),
        ({"cik": 1045810, "facts": {"us-gaap": {"Revenues": {"units": {"USD": {"a": 1}}}}}},
         "(facts.us-gaap.Revenues.units.USD)", "an object; allowed: a list of facts"),
        ({"cik": 1045810, "facts": {"us-gaap": {"Revenues": {"units": {"USD": [5]}}}}},
         "(facts.us-gaap.Revenues.units.USD[0])", "fact is a number"),
        ({"cik": 1045810, "facts": {"us-gaap": {"x" * 300: {"units": {}}}}},
         "(facts.us-gaap.'xxx", "concept 'xxx"),
    ],
)
def test_wrong_json_types_are_named(doc: dict, location: str, expect: str) -> None:
    message = _facts_error(doc)
    assert location in message and expect in message, message


@pytest.mark.parametrize(
    ("raw", "expect"),
    [
        (b'{"cik": 1045810, "facts": {}\xff}', "(line 1, column 29): byte 0xff is not UTF-8"),
        (b'{"cik": 1045810,\n "facts": {"us-gaap": ', "(line 2, column 23): not valid JSON"),
        (b"[1, 2]", "expected a JSON object at the top level, found a list"),
        (b"[" * 100_000, "nested too deeply"),
    ],
)
def test_undecodable_documents_are_one_clear_error(raw: bytes, expect: str) -> None:
    assert expect in _facts_error(raw)


def test_a_utf8_byte_order_mark_is_accepted() -> None:
    raw = b"\xef\xbb\xbf" + json.dumps(_doc()).encode()
    assert len(parse_companyfacts(load_json(raw, "x"), "x")) == 1
