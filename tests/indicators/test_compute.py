"""The compute job on a database seeded from ../shared/data: storage, the run
log, incremental re-runs, failure isolation and the Python API."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pandas as pd
import pytest

import indicators
from bubblewatch.core.errors import ConfigError
from db import repo
from db.session import session_scope
from indicators import registry
from indicators.compute import run_compute
from indicators.registry import Column, Indicator, IndicatorResult, Meta, Params
from tests.conftest import make_settings

NAMES = ["capex", "earnings_quality", "revenue_gap", "valuation", "analog"]


@pytest.fixture(scope="module")
def computed(seeded_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, object]:
    dst = tmp_path_factory.mktemp("compute") / "db.sqlite"
    with sqlite3.connect(seeded_db_url.removeprefix("sqlite:///")) as a, sqlite3.connect(dst) as b:
        a.backup(b)
    url = f"sqlite:///{dst}"
    report = run_compute(make_settings(url), NAMES, show_progress=False)
    return url, report


def test_results_are_stored_with_parameters_and_logged(computed: tuple[str, object]) -> None:
    url, report = computed
    assert report.ok, report.errors
    assert report.rows["capex/GOOGL"] > 0 and report.rows["valuation/NVDA"] > 0
    assert "no SEC EDGAR capex" in report.notes["capex/MSFT"]
    with session_scope(url) as s:
        run = repo.last_run(s, "compute")
        assert run.status == "ok" and run.detail["capex/GOOGL"]["status"] == "ok"
        runs = {(r.indicator, r.key): r for r in repo.latest_runs(s)}
    analog = runs[("analog", "nvda_csco")]
    assert analog.params["ai_event"] == "chatgpt" and len(analog.params_hash) == 16
    assert analog.meta["best_match"]["dotcom_date"] <= "2003-12-31"
    assert runs[("valuation", "NVDA")].as_of == pd.Timestamp("2026-08-21").date()


def test_load_returns_the_stored_series(computed: tuple[str, object]) -> None:
    url, _ = computed
    df = indicators.load("capex", "GOOGL", database_url=url)
    row = df[df["date"] == pd.Timestamp("2024-12-31")].iloc[0]
    assert row["key"] == "GOOGL" and row["capex_ttm"] == pytest.approx(52535)
    assert df.attrs["runs"]["GOOGL"]["params_hash"] == registry.params_hash({})
    early = indicators.load("valuation", "NVDA", as_of="2020-01-01", fields=["pe_ttm"],
                            database_url=url)
    assert early["date"].max() <= pd.Timestamp("2020-01-01")
    assert list(early.columns) == ["key", "date", "pe_ttm"]
    with pytest.raises(LookupError, match="known indicators"):
        indicators.load("nonsense", database_url=url)


def test_second_run_is_incremental(computed: tuple[str, object]) -> None:
    url, first = computed
    with session_scope(url) as s:
        before = repo.indicator_frame(s, "valuation", "NVDA")
    again = run_compute(make_settings(url), ["valuation"], show_progress=False)
    # only the last stored day is recomputed; its values are unchanged, so nothing is
    # rewritten and history is untouched
    assert again.ok and again.rows["valuation/NVDA"] == 0 < first.rows["valuation/NVDA"]
    with session_scope(url) as s:
        after = repo.indicator_frame(s, "valuation", "NVDA")
    assert len(after) == len(before)
    pd.testing.assert_series_equal(after["value"], before["value"])


def test_one_failure_never_stops_the_others(computed: tuple[str, object],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    url, _ = computed

    def boom(ctx, key, params):  # type: ignore[no-untyped-def]
        if key == "NVDA":
            raise RuntimeError("synthetic failure")
        return IndicatorResult(pd.DataFrame({"x": [1.0]}, index=pd.DatetimeIndex(["2024-01-02"])),
                               Meta())

    registry._load_builtins()
    monkeypatch.setitem(registry._REGISTRY, "boom", Indicator(
        name="boom", title="t", description="d", columns={"x": Column("x", "count", "x")},
        params=Params, meta=Meta, keys=lambda u: ["NVDA", "GOOGL"], compute=boom, page="",
        sampling="one row"))
    report = run_compute(make_settings(url), ["boom", "revenue_gap"], show_progress=False)
    assert "synthetic failure" in report.errors["boom/NVDA"]
    assert report.rows["boom/GOOGL"] == 1 and "revenue_gap/NVDA" in report.rows
    with session_scope(url) as s:
        run = repo.last_run(s, "compute")
        assert run.status == "partial" and "boom/NVDA" in run.error


def test_symbols_restrict_the_keys(computed: tuple[str, object]) -> None:
    url, _ = computed
    report = run_compute(make_settings(url), ["valuation", "analog"], symbols=["nvda"],
                         show_progress=False)
    assert list(report.rows) == ["valuation/NVDA"]


def test_unknown_indicator_is_a_clear_error(computed: tuple[str, object]) -> None:
    from bubblewatch.core.errors import ConfigError

    with pytest.raises(ConfigError, match="known: .*runup"):
        run_compute(make_settings(computed[0]), ["runupp"], show_progress=False)


def test_a_result_that_breaks_its_contract_is_refused(computed: tuple[str, object],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    url, _ = computed

    def wrong(ctx, key, params):  # type: ignore[no-untyped-def]
        frame = pd.DataFrame({"undeclared": [1.0]}, index=pd.DatetimeIndex(["2024-01-02"]))
        return IndicatorResult(frame, Meta() if key == "NVDA" else object())

    registry._load_builtins()
    monkeypatch.setitem(registry._REGISTRY, "wrong", Indicator(
        name="wrong", title="t", description="d", columns={"x": Column("x", "count", "x")},
        params=Params, meta=Meta, keys=lambda u: ["NVDA", "GOOGL"], compute=wrong, page="",
        sampling="one row"))
    report = run_compute(make_settings(url), ["wrong"], show_progress=False)
    assert "not declared" in report.errors["wrong/NVDA"]
    assert "metadata is object" in report.errors["wrong/GOOGL"]
    with session_scope(url) as s:
        assert repo.latest_runs(s, "wrong") == []


def test_bad_parameters_are_refused_before_any_data_is_read(tmp_path: Path) -> None:
    # the database does not even exist: the parameter error must come first
    settings = make_settings(f"sqlite:///{tmp_path / 'never' / 'created.sqlite'}")
    with pytest.raises(ConfigError, match="indicator 'psy': parameter 'bsadf_cv'"):
        run_compute(settings, ["psy"], overrides={"psy": {"bsadf_cv": "max"}},
                    show_progress=False)
    with pytest.raises(ConfigError, match="parameters given for lppls"):
        run_compute(settings, ["psy"], overrides={"lppls": {"span": 5}}, show_progress=False)
    assert not (tmp_path / "never").exists()


def test_optional_keys_are_computed_only_when_asked_for() -> None:
    from bubblewatch.core.universe import default_universe
    from indicators.compute import select_keys
    from indicators.registry import get

    lppls, u = get("lppls"), default_universe()
    assert "AVGO" not in select_keys(lppls, u, None)
    assert select_keys(lppls, u, ["AVGO", "NVDA"]) == ["NVDA", "AVGO"]
    assert select_keys(get("runup"), u, ["AVGO"]) == ["AVGO"]


def test_incremental_run_with_nothing_new_keeps_its_as_of_date(seeded_db_copy: str) -> None:
    from db.session import session_scope as scope

    settings = make_settings(seeded_db_copy)
    first = run_compute(settings, ["lppls"], ["CSCO"], show_progress=False)
    again = run_compute(settings, ["lppls"], ["CSCO"], show_progress=False)
    assert first.ok and again.ok and again.rows["lppls/CSCO"] == 0
    with scope(seeded_db_copy) as s:
        (run,) = repo.latest_runs(s, "lppls", "CSCO")
    assert run.as_of is not None and run.as_of == run.last_date


def test_param_overrides_from_the_cli(seeded_db_copy: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from bubblewatch.app.cli import app
    from bubblewatch.core.settings import get_settings

    monkeypatch.setenv("BUBBLEWATCH_DATABASE_URL", seeded_db_copy)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        ok = runner.invoke(app, ["compute", "runup", "--symbols", "NVDA", "--param", "window_days=252"])
        bad = runner.invoke(app, ["compute", "runup", "--param", "window=252"])
        two = runner.invoke(app, ["compute", "runup", "regime", "--param", "start=\"2000-01-01\""])
    finally:
        get_settings.cache_clear()
    assert ok.exit_code == 0, ok.output
    with session_scope(seeded_db_copy) as s:
        (run,) = repo.latest_runs(s, "runup", "NVDA")
    assert run.params["window_days"] == 252
    assert bad.exit_code == 1 and "no parameter 'window'" in bad.output
    assert two.exit_code == 1 and "exactly one indicator" in two.output
