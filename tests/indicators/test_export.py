"""Exports through the CLI: every format carries the parameters and as-of date."""

from __future__ import annotations

import io
import json
import sqlite3
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from bubblewatch.core.settings import get_settings
from indicators import registry
from indicators.compute import run_compute
from indicators.export import meta_of, read_csv_meta, to_bytes
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


def test_csv_carries_its_context_in_comment_lines_to_a_file_and_to_stdout(  # type: ignore[no-untyped-def]
        cli, tmp_path: Path) -> None:
    out = tmp_path / "capex.csv"
    res = cli("export", "capex", "--symbol", "googl", "--format", "csv", "--out", str(out))
    assert res.exit_code == 0, res.output
    assert not (tmp_path / "capex.csv.meta.json").exists()  # one file: the context is inside
    df = pd.read_csv(out, comment="#", parse_dates=["date"])
    assert df.loc[df["date"] == "2024-12-31", "capex_ttm"].iloc[0] == pytest.approx(52535)
    head = read_csv_meta(out)
    assert head["indicator"] == "capex" and head["keys"] == '["GOOGL"]'
    run = json.loads(head["run GOOGL"])
    assert run["params_hash"] and run["as_of"] and run["computed_at"].endswith("Z")
    assert head["column capex_ttm"] == ("Capex, trailing four quarters (USD m): capital "
                                        "expenditure over the last four quarters")
    assert head["rows of GOOGL"].startswith("every quarter from ")
    assert head["sampling"] == registry.get("capex").sampling
    # stdout: the same header, then the table; pandas reads it with comment="#"
    stdout = cli("export", "capex", "--symbol", "GOOGL", "--end", "2016-12-31")
    assert stdout.exit_code == 0, stdout.output
    text = stdout.output
    assert text.startswith("# bubblewatch export: Capex cycle: hyperscalers vs telecom\n")
    assert read_csv_meta(text.encode())["run GOOGL"] == head["run GOOGL"]
    back = pd.read_csv(io.StringIO(text), comment="#")
    assert list(back.columns[:3]) == ["key", "date", "capex_q"]
    assert len(back) > 2 and (back["date"] <= "2016-12-31").all()
    assert not back["date"].str.contains(":").any()  # dates without a time of day


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
    assert meta["columns"]["required_revenue"]["unit"] == "USD m a year"
    field = table.schema.field("required_revenue").metadata
    assert field[b"label"] == b"AI revenue required" and field[b"unit"] == b"USD m a year"
    df = table.to_pandas()
    assert pd.to_datetime(df["date"]).max() <= pd.Timestamp("2025-01-31")
    sheets = pd.read_excel(xl_path, sheet_name=None)
    assert set(sheets) == {"data", "about"}
    assert len(sheets["data"]) == len(df)
    about = dict(zip(sheets["about"]["field"], sheets["about"]["value"], strict=True))
    assert about["as_of"] == "2025-01-31" and about["indicator"] == "revenue_gap"
    assert about["column required_revenue"].startswith("AI revenue required (USD m a year)")
    doc = json.loads(js_path.read_text())
    assert doc["meta"]["indicator"] == "revenue_gap" and len(doc["data"]) == len(df)
    assert doc["meta"]["coverage"]["NVDA"]["rows"] == len(df)
    row = next(r for r in doc["data"] if r["date"] == "2025-01-26")
    assert row["required_revenue"] == 16 * 35580


def test_errors_are_one_line(cli) -> None:  # type: ignore[no-untyped-def]
    res = cli("export", "nonsense")
    assert res.exit_code == 1 and "known indicators" in res.output
    res = cli("export", "capex", "--as-of", "yesterday")
    assert res.exit_code == 1 and "not an ISO date" in res.output
    res = cli("export", "capex", "--symbol", "AMZN")  # computed, but no SEC facts for AMZN
    assert res.exit_code == 1 and "no SEC EDGAR capex facts for AMZN" in res.output


def test_load_says_why_instead_of_returning_nothing(url: str) -> None:
    import indicators
    from indicators.api import NoResultsError

    with pytest.raises(NoResultsError, match=r"has no key 'XYZ'; known keys: .*GOOGL"):
        indicators.load("capex", "XYZ", database_url=url)
    with pytest.raises(NoResultsError,
                       match=r"no rows of 'capex' for 'AMZN': no SEC EDGAR capex facts for AMZN"):
        indicators.load("capex", "AMZN", database_url=url)
    with pytest.raises(NoResultsError, match=r"nothing between 1990-01-01 and 1990-12-31"):
        indicators.load("capex", "GOOGL", start="1990-01-01", end="1990-12-31", database_url=url)
    every = indicators.load("capex", database_url=url)  # every key: the empty ones said why
    assert "AMZN" not in set(every["key"]) and "GOOGL" in set(every["key"])
    assert "no SEC EDGAR capex facts for AMZN" in every.attrs["missing"]["AMZN"]
    head = read_csv_meta(to_bytes(every, "csv"))  # and the export says it too
    assert head["no rows for AMZN"].startswith("no SEC EDGAR capex facts for AMZN")


def test_the_dashboard_download_and_the_cli_describe_a_series_alike(url: str) -> None:
    """The same series through ``indicators.load`` (CLI) and through the dashboard's
    download (``about_run`` of the catalog row) carries the same context."""
    import indicators
    from dashboard.downloads import describe
    from db import queries as dq
    from db import repo
    from db.session import session_scope

    loaded = indicators.load("capex", "GOOGL", database_url=url)
    cli_meta = meta_of(loaded)
    with session_scope(url) as s:
        wide = repo.indicator_wide(s, "capex", "GOOGL")
        cat = dq.indicator_catalog(s, "capex")
    row = cat[cat["key"] == "GOOGL"].iloc[0].to_dict()
    dash_meta = describe(wide, "capex-googl", {k: row[k] for k in (
        "indicator", "key", "params", "params_hash", "as_of", "computed_at", "meta")})
    for field in ("title", "indicator", "source", "sampling", "keys", "dates"):
        assert getattr(dash_meta, field) == getattr(cli_meta, field), field
    assert dash_meta.runs == cli_meta.runs
    assert dash_meta.coverage == cli_meta.coverage
    assert dash_meta.sampling_observed == cli_meta.sampling_observed
    fields = {k: v for k, v in cli_meta.columns.items() if k != "key"}
    assert dash_meta.columns == fields


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
