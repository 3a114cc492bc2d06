"""``bubblewatch init`` and ``status`` through the real CLI."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from bubblewatch.app.cli import app
from bubblewatch.core.settings import get_settings


def test_status_json_reports_rows_dates_and_last_runs(seeded_db_url: str, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("BUBBLEWATCH_DATABASE_URL", seeded_db_url)
    get_settings.cache_clear()
    result = CliRunner().invoke(app, ["status", "--json"])
    get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    by_symbol = {r["symbol"]: r for r in data["symbols"]}
    assert by_symbol["NVDA"]["price_rows"] == 6938
    assert by_symbol["NVDA"]["first_date"] == "1999-01-22"
    assert by_symbol["^GSPC"]["first_date"] == "1927-12-30"
    assert by_symbol["NVDA"]["facts"] > 0 and by_symbol["CSCO"]["facts"] == 0
    assert data["jobs"]["ingest_prices"]["status"] == "ok"
    assert data["jobs"]["compute"] is None  # the seeded database was never computed
    ingest = data["jobs"]["ingest_prices"]
    assert ingest["rows"] == sum(r["price_rows"] for r in data["symbols"])  # every row loaded
    assert ingest["finished_at"] >= ingest["started_at"]
    # data age per symbol in trading sessions; every time with its zone
    assert by_symbol["NVDA"]["exchange"] == "XNYS" and by_symbol["NVDA"]["status"] == "stale"
    assert by_symbol["GLW"]["sessions_behind"] > by_symbol["NVDA"]["sessions_behind"] > 60
    assert data["jobs"]["ingest_prices"]["started_at"].endswith("+00:00")
    fresh = {(r["source"], r["scope"]): r for r in data["freshness"]}
    assert fresh[("Prices", "XNYS")]["behind"] == by_symbol["NVDA"]["sessions_behind"]
    assert fresh[("Alert evaluation", "all")]["status"] == "never"
    assert fresh[("Fundamentals", "CSCO")]["status"] == "missing"
    assert any(p.startswith("prices (XNYS) stale") for p in data["problems"])


def test_status_table_names_what_is_not_fresh(seeded_db_url: str, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("BUBBLEWATCH_DATABASE_URL", seeded_db_url)
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    result = CliRunner().invoke(app, ["status"])
    get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "data freshness at " in result.stdout and " UTC" in result.stdout
    assert "not fresh prices (XNYS) stale: newest 2026-08-21" in result.stdout
    assert "not fresh alert evaluation never: alerts never evaluated" in result.stdout


def test_init_is_idempotent(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("BUBBLEWATCH_DATABASE_URL", f"sqlite:///{tmp_path / 'i.sqlite'}")
    get_settings.cache_clear()
    runner = CliRunner()
    first = runner.invoke(app, ["init"])
    second = runner.invoke(app, ["init"])
    get_settings.cache_clear()
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    assert "instruments: 18 new" in first.stdout
    assert "instruments: 0 new, 0 updated, 18 unchanged" in second.stdout
