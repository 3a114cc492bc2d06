"""Download files round-trip and carry their provenance."""

from __future__ import annotations

import io
import json

import pandas as pd
import pyarrow.parquet as pq
import pytest

from dashboard.downloads import FORMATS, read_back, slug, to_bytes
from tests.conftest import load_shared_prices


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return load_shared_prices("CSCO").loc["2000-03-01":"2000-04-30", ["close", "volume"]]


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_round_trip(frame, fmt):
    about = {"indicator": "prices", "params": {"b": 1, "a": [1, 2]}, "as_of": "2000-04-28"}
    d = to_bytes(frame, fmt, name="CSCO prices 2000", about=about)
    assert d.file_name == f"csco-prices-2000.{FORMATS[fmt][0]}"
    assert d.mime == FORMATS[fmt][1]
    back = read_back(d.data, fmt)
    assert list(back.columns) == ["date", "close", "volume"]
    assert pd.to_datetime(back["date"]).dt.date.tolist() == [t.date() for t in frame.index]
    assert back["close"].to_numpy() == pytest.approx(frame["close"].to_numpy())
    assert back.loc[back["close"].idxmax(), "close"] == pytest.approx(80.06, abs=0.01)


def test_provenance_travels_with_the_data(frame):
    about = {"indicator": "psy", "key": "CSCO", "params": {"r0": 0.05}}
    csv = to_bytes(frame, "csv", name="x", about=about).data.decode()
    assert csv.startswith('# indicator: psy\n# key: CSCO\n# params: {"r0": 0.05}\n')
    meta = pq.read_schema(io.BytesIO(to_bytes(frame, "parquet", name="x", about=about).data)).metadata
    assert meta[b"bubblewatch.key"] == b"CSCO"
    xl = pd.read_excel(io.BytesIO(to_bytes(frame, "xlsx", name="x", about=about).data),
                       sheet_name="about")
    assert dict(zip(xl["field"], xl["value"], strict=True))["params"] == '{"r0": 0.05}'
    js = json.loads(to_bytes(frame, "json", name="x", about=about).data)
    assert js["about"]["params"] == {"r0": 0.05} and len(js["data"]) == len(frame)


def test_timezone_aware_columns_go_to_excel_as_utc():
    df = pd.DataFrame({"computed_at": pd.to_datetime(["2026-11-21 12:00+01:00"], utc=True),
                       "v": [1.0]})
    back = read_back(to_bytes(df, "xlsx", name="x").data, "xlsx")
    assert back["computed_at"].iloc[0] == pd.Timestamp("2026-11-21 11:00")


def test_unknown_format_is_refused(frame):
    with pytest.raises(ValueError, match="choose one of csv, parquet, xlsx, json"):
        to_bytes(frame, "pdf", name="x")
    assert slug("  NVDA vs CSCO / 2000 ") == "nvda-vs-csco-2000"
