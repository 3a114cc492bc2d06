"""Download files round-trip and carry their provenance."""

from __future__ import annotations

import io
import json

import pandas as pd
import pyarrow.parquet as pq
import pytest

from dashboard.downloads import FORMATS, read_back, read_meta, slug, to_bytes
from tests.conftest import load_shared_prices


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return load_shared_prices("CSCO").loc["2000-03-01":"2000-04-30", ["close", "volume"]]


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_round_trip(frame, fmt):
    about = {"title": "Cisco prices", "params": {"b": 1, "a": [1, 2]}, "as_of": "2000-04-28"}
    d = to_bytes(frame, fmt, name="CSCO prices 2000", about=about)
    assert d.file_name == f"csco-prices-2000.{FORMATS[fmt][0]}"
    assert d.mime == FORMATS[fmt][1]
    back = read_back(d.data, fmt)
    assert list(back.columns) == ["date", "close", "volume"]
    assert pd.to_datetime(back["date"]).dt.date.tolist() == [t.date() for t in frame.index]
    assert back["close"].to_numpy() == pytest.approx(frame["close"].to_numpy())
    assert back.loc[back["close"].idxmax(), "close"] == pytest.approx(80.06, abs=0.01)


def test_provenance_travels_with_the_data(frame):
    about = {"indicator": "psy", "key": "CSCO", "params": {"r0": 0.05}, "as_of": "2000-04-28",
             "computed_at": "2026-11-21T12:00:00+01:00"}
    csv = to_bytes(frame, "csv", name="x", about=about).data.decode()
    assert csv.startswith("# bubblewatch export: Explosiveness (PSY)\n# indicator: psy\n")
    head = read_meta(csv.encode(), "csv")
    run = json.loads(head["run CSCO"])
    assert run["params"] == {"r0": 0.05} and run["as_of"] == "2000-04-28"
    assert run["computed_at"] == "2026-11-21T11:00:00Z"  # in UTC, the zone shown
    assert head["rows of CSCO"] == "every trading day from 2000-03-01 to 2000-04-28"
    assert head["column date"].startswith("Date (YYYY-MM-DD, New York trading day)")
    pq_bytes = to_bytes(frame, "parquet", name="x", about=about).data
    schema = pq.read_schema(io.BytesIO(pq_bytes))
    assert schema.metadata[b"bubblewatch.indicator"] == b"psy"
    assert json.loads(schema.metadata[b"bubblewatch"])["runs"]["CSCO"]["params"] == {"r0": 0.05}
    xl = read_meta(to_bytes(frame, "xlsx", name="x", about=about).data, "xlsx")
    assert xl["CSCO params"] == '{"r0": 0.05}' and xl["indicator"] == "psy"
    js = json.loads(to_bytes(frame, "json", name="x", about=about).data)
    assert js["meta"]["runs"]["CSCO"]["params"] == {"r0": 0.05} and len(js["data"]) == len(frame)


def test_a_chart_table_keeps_its_title_columns_and_notes(frame):
    about = {"title": "Cisco around its peak", "unit": "USD per share",
             "columns": {"close": ("Close", "USD per share", "last trade of the day")}}
    d = to_bytes(frame, "csv", name="csco", about=about)
    head = read_meta(d.data, "csv")
    assert d.data.decode().startswith("# bubblewatch export: Cisco around its peak\n")
    assert head["note unit"] == "USD per share"
    assert head["column close"] == "Close (USD per share): last trade of the day"
    assert "column volume" not in head  # nothing invented for an undescribed column
    back = read_back(d.data, "csv")
    assert list(back.columns) == ["date", "close", "volume"]


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_times_are_written_in_utc_with_the_zone_and_dates_without_a_time(fmt):
    """Excel cannot store an aware time and CSV readers guess: every format gets
    the ISO text in UTC with its zone; a date stays a date (no "00:00:00")."""
    df = pd.DataFrame({"computed_at": pd.to_datetime(["2026-11-21 12:00+01:00"], utc=True),
                       "v": [1.0]}, index=pd.DatetimeIndex(["2026-11-20"], name="date"))
    back = read_back(to_bytes(df, fmt, name="x").data, fmt)
    assert str(back["computed_at"].iloc[0]) == "2026-11-21T11:00:00+00:00"
    assert str(back["date"].iloc[0]).startswith("2026-11-20")
    if fmt in ("csv", "json", "xlsx"):
        assert str(back["date"].iloc[0]) == "2026-11-20"


def test_unknown_format_is_refused(frame):
    with pytest.raises(ValueError, match="choose one of csv, parquet, xlsx, json"):
        to_bytes(frame, "pdf", name="x")
    assert slug("  NVDA vs CSCO / 2000 ") == "nvda-vs-csco-2000"
