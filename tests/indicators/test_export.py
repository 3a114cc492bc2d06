"""Exports through the CLI: every format carries the parameters and as-of date."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from bubblewatch.core.settings import get_settings
from indicators.compute import run_compute
from tests.conftest import make_settings


@pytest.fixture(scope="module")
def url(seeded_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    dst = tmp_path_factory.mktemp("export") / "db.sqlite"
    with sqlite3.connect(seeded_db_url.removeprefix("sqlite:///")) as a, sqlite3.connect(dst) as b:
        a.backup(b)
    u = f"sqlite:///{dst}"
    report = run_compute(make_settings(u), ["capex", "revenue_gap"], show_progress=False)
    assert report.ok
    return u


@pytest.fixture()
def cli(url: str, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    from bubblewatch.app.cli import app

    monkeypatch.setenv("BUBBLEWATCH_DATABASE_URL", url)
    get_settings.cache_clear()
    runner = CliRunner()
    yield lambda *args: runner.invoke(app, list(args))
    get_settings.cache_clear()


def test_csv_with_sidecar_and_stdout(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "capex.csv"
    res = cli("export", "capex", "--symbol", "googl", "--format", "csv", "--out", str(out))
    assert res.exit_code == 0, res.output
    df = pd.read_csv(out, parse_dates=["date"])
    assert df.loc[df["date"] == "2024-12-31", "capex_ttm"].iloc[0] == pytest.approx(52535)
    meta = json.loads((tmp_path / "capex.csv.meta.json").read_text())
    assert meta["indicator"] == "capex" and "params_hash" in meta["runs"]["GOOGL"]
    stdout = cli("export", "capex", "--symbol", "GOOGL", "--end", "2016-12-31")
    lines = stdout.output.splitlines()
    assert stdout.exit_code == 0 and lines[0].startswith("key,date,capex")
    assert len(lines) > 2 and all(line.split(",")[1] <= "2016-12-31" for line in lines[1:])


def test_parquet_xlsx_json_carry_provenance(  # type: ignore[no-untyped-def]
        cli, tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    pq_path, xl_path, js_path = tmp_path / "g.parquet", tmp_path / "g.xlsx", tmp_path / "g.json"
    for fmt, path in (("parquet", pq_path), ("xlsx", xl_path), ("json", js_path)):
        res = cli("export", "revenue_gap", "--format", fmt, "--out", str(path),
                  "--as-of", "2025-01-31")
        assert res.exit_code == 0, res.output
    table = pq.read_table(pq_path)
    meta = json.loads(table.schema.metadata[b"bubblewatch"])
    assert meta["as_of"] == "2025-01-31" and meta["runs"]["NVDA"]["params"]["tco_multiplier"] == 2.0
    df = table.to_pandas()
    assert pd.to_datetime(df["date"]).max() <= pd.Timestamp("2025-01-31")
    sheets = pd.read_excel(xl_path, sheet_name=None)
    assert set(sheets) == {"data", "about"}
    assert len(sheets["data"]) == len(df)
    doc = json.loads(js_path.read_text())
    assert doc["indicator"] == "revenue_gap" and len(doc["data"]) == len(df)
    row = next(r for r in doc["data"] if r["date"] == "2025-01-26")
    assert row["required_revenue"] == 16 * 35580


def test_errors_are_one_line(cli) -> None:  # type: ignore[no-untyped-def]
    res = cli("export", "nonsense")
    assert res.exit_code == 1 and "known indicators" in res.output
    res = cli("export", "capex", "--as-of", "yesterday")
    assert res.exit_code == 1 and "not an ISO date" in res.output


def test_indicators_command_lists_everything(cli) -> None:  # type: ignore[no-untyped-def]
    res = cli("indicators")
    assert res.exit_code == 0
    for name in ("runup", "analog", "capex", "revenue_gap", "earnings_quality", "valuation",
                 "regime", "composite"):
        assert name in res.output


def test_compute_command(cli) -> None:  # type: ignore[no-untyped-def]
    res = cli("compute", "revenue_gap", "capex", "--symbols", "GOOGL")
    assert res.exit_code == 0, res.output
    assert "capex/GOOGL" in res.output and "revenue_gap" not in res.output.split("compute:")[0]
