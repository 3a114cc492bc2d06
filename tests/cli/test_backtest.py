"""``bubblewatch backtest``: bad requests fail at once with one line naming what
is available; the report on a real backtest (the computed test database) is
printed as tables and exported as JSON and CSV, and its arithmetic agrees with
the stored track record; ``export`` reads the stored results."""

from __future__ import annotations

import io
import json
import sqlite3
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner, Result

from bubblewatch.app.cli import app
from bubblewatch.core.settings import get_settings
from tests.conftest import COMPUTED_SYMBOLS, COMPUTED_TRACK_KEYS


def run(monkeypatch: pytest.MonkeyPatch, url: str, *args: str, **env: str) -> Result:
    monkeypatch.setenv("BUBBLEWATCH_DATABASE_URL", url)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(app, ["backtest", *args])
    finally:
        get_settings.cache_clear()


def error_line(result: Result) -> str:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


@pytest.mark.parametrize(("args", "expected"), [
    (["--symbols", "XYZ"], ["'XYZ' is not a cohort or symbol of the universe",
                            "available: ai, dotcom, NVDA"]),
    (["--start", "2040-01-01"], ["no prices between 2040-01-01 and", "the data run from 1927-"]),
    (["--start", "1900-01-01", "--end", "1900-12-31"],
     ["no prices between 1900-01-01 and 1900-12-31"]),
    (["--peak", "CSCO=1980-01-02"], ["peak CSCO=1980-01-02 is outside the data",
                                     "CSCO prices run from 1990-",
                                     "the backtest reads 1995-01-01 to"]),
    (["--peak", "dotcom=1994-06-01"], ["peak dotcom=1994-06-01 is outside the data",
                                       "the backtest reads 1995-01-01"]),
    (["--peak", "CSCO"], ["--peak 'CSCO': expected SYMBOL=YYYY-MM-DD"]),
    (["--peak", "CSCO=March 2000"], ["'March 2000' is not a date"]),
    (["--peak", "FOO=2000-01-03"], ["'FOO' is not a cohort or symbol", "available: ai"]),
    (["--param", "nonsense=1"], ["indicator 'track_record': no parameter 'nonsense'"]),
    (["--warn-band", "scary"], ["warn_band"]),
    (["--calm-start", "2010-01-01", "--calm-end", "2005-01-01"], ["is after --calm-end"]),
    (["--stored", "--symbols", "NVDA"], ["no stored track record for NVDA",
                                         "without --stored first"]),
])
def test_bad_requests_fail_at_once_naming_what_is_available(
        monkeypatch: pytest.MonkeyPatch, seeded_db_copy: str, args: list[str],
        expected: list[str]) -> None:
    line = error_line(run(monkeypatch, seeded_db_copy, *args))
    for part in expected:
        assert part in line, line


@pytest.fixture
def computed_copy(computed_db_url: str, tmp_path: Path) -> str:
    dst = tmp_path / "computed-copy.sqlite"
    with sqlite3.connect(computed_db_url.removeprefix("sqlite:///")) as a, \
            sqlite3.connect(dst) as b:
        a.backup(b)
    return f"sqlite:///{dst}"


def _stored_frame(url: str, key: str) -> pd.DataFrame:
    import indicators

    df = indicators.load("track_record", key, database_url=url)
    return df.set_index("date")


def test_report_of_the_stored_backtest(monkeypatch: pytest.MonkeyPatch, computed_copy: str,
                                       tmp_path: Path) -> None:
    config = tmp_path / "bubblewatch.toml"
    config.write_text(f"[universe]\nsymbols = {json.dumps(list(COMPUTED_SYMBOLS))}\n")
    env = {"BUBBLEWATCH_CONFIG": str(config)}
    keys = ",".join(COMPUTED_TRACK_KEYS)
    res = run(monkeypatch, computed_copy, "--stored", "--symbols", keys, "--format", "json",
              "--calm-start", "2002-01-01", "--calm-end", "2004-12-31", **env)
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert report["keys"] == list(COMPUTED_TRACK_KEYS)
    assert report["calm_window"] == ["2002-01-01", "2004-12-31"]
    leads = pd.DataFrame(report["first_warnings"])
    ref = leads[leads["origin"] == "reference"]
    assert set(zip(ref["key"], ref["peak"], strict=True)) == {("dotcom", "2000-03-10"),
                                                              ("CSCO", "2000-03-27")}
    signals = {"composite", "psy_pointwise", "psy_sadf", "ps2020", "hb", "ahltz", "bd"}
    assert set(ref["procedure"]) == signals
    # lead arithmetic against the stored flags: the first flag in the two years before
    csco = _stored_frame(computed_copy, "CSCO")
    for _, row in ref[ref["key"] == "CSCO"].iterrows():
        flags = csco[f"flag_{row['procedure']}"]
        window = flags[(flags.index >= "1998-03-27") & (flags.index <= "2000-03-27")]
        hits = window.index[window > 0.5]
        if len(hits):
            assert row["first_warning"] == hits[0].date().isoformat()
            assert row["lead_days"] == (pd.Timestamp("2000-03-27") - hits[0]).days
            assert row["lead_weeks"] == pytest.approx(row["lead_days"] / 7, abs=0.05)
        else:
            assert pd.isna(row["first_warning"])
    # false alarms against the stored calm column, inside the window
    fa = pd.DataFrame(report["false_alarms"]).set_index(["key", "procedure"])
    inside = csco[(csco.index >= "2002-01-01") & (csco.index <= "2004-12-31")]
    for sig in signals:
        f = inside[f"flag_{sig}"]
        calm = inside["calm"].where(f.notna())
        n_calm = int((calm == 1).sum())
        n_false = int(((f > 0.5) & (calm == 1)).sum())
        n_pre, n_hits = int((calm == 0).sum()), int(((f > 0.5) & (calm == 0)).sum())
        row = fa.loc[("CSCO", sig)]
        assert (row["calm_dates"], row["false_alarms"]) == (n_calm, n_false)
        assert (row["pre_crash_dates"], row["hits"]) == (n_pre, n_hits)
        assert n_calm > 20
    # the readings stored (dates with a headline score), counted on the stored frames
    stored = {k: _stored_frame(computed_copy, k) for k in COMPUTED_TRACK_KEYS}
    assert report["readings"] == sum(int(f["score"].notna().sum()) for f in stored.values())
    assert report["readings"] > 3 * 200
    assert report["skipped_rules"]["shocks-day0-fall"].startswith("the backtest does not")
    # the same report as tables and as CSV
    table = run(monkeypatch, computed_copy, "--stored", "--symbols", keys, "--calm-start",
                "2002-01-01", "--calm-end", "2004-12-31", **env)
    assert table.exit_code == 0, table.output
    for text in ("First warning before each peak", "False alarms: share of calm dates",
                 "headline", "PSY pw", "AHLTZ", "2000-03-27", "reference",
                 f"{report['readings']:,} readings stored"):
        assert text in table.stdout
    # each false-alarm cell: the share, the hit share where dates precede a crash, the first flag
    row = fa.loc[("dotcom", "composite")]
    assert row["pre_crash_dates"] > 0  # 2002 before the dot-com trough
    assert (f"hits {row['hit_share']:.1%} {row['hits']}/{row['pre_crash_dates']}"
            in table.stdout)
    flagged = fa["first_flag"].dropna()
    assert len(flagged) and all(f"first {d}" in table.stdout for d in flagged)
    csv = run(monkeypatch, computed_copy, "--stored", "--symbols", keys, "--format", "csv",
              **env)
    assert csv.exit_code == 0, csv.output
    both = pd.read_csv(io.StringIO(csv.stdout))
    assert set(both["table"]) == {"first_warning", "false_alarms"}
    assert len(both) == len(leads) + len(fa)


def test_export_reads_the_stored_track_record(monkeypatch: pytest.MonkeyPatch,
                                              computed_copy: str) -> None:
    monkeypatch.setenv("BUBBLEWATCH_DATABASE_URL", computed_copy)
    get_settings.cache_clear()
    try:
        out = CliRunner().invoke(app, ["export", "track_record", "--key", "dotcom",
                                       "--format", "csv"])
        alerts = CliRunner().invoke(app, ["export", "track_record_alerts", "--key", "ai",
                                          "--format", "json"])
    finally:
        get_settings.cache_clear()
    assert out.exit_code == 0, out.output
    frame = pd.read_csv(io.StringIO(out.stdout), comment="#")  # the context lines
    assert {"score", "band", "flag_composite", "flag_psy_pointwise", "fwd_mdd_24m",
            "calm"} <= set(frame.columns)
    assert frame["date"].min() >= "1999-01-01"
    assert alerts.exit_code == 0, alerts.output
    body = json.loads(alerts.stdout)
    assert body["data"] and {"alerts", "warnings"} <= set(body["data"][0])


def test_a_report_without_peaks_says_so_and_times_the_replay_stages(
        capsys: pytest.CaptureFixture[str]) -> None:
    from datetime import date

    from bubblewatch.app.backtest import BacktestReport
    from bubblewatch.app.cli.backtest import _print
    from indicators.lead_time import alarm_table, lead_table

    idx = pd.date_range("2010-01-01", periods=60, freq="W-FRI")
    flags = {"GSPC": {"composite": pd.Series(0.0, index=idx)}}
    report = BacktestReport(
        start=date(2010, 1, 1), end=date(2011, 2, 18), freq="W", keys=["GSPC"],
        leads=lead_table(flags, {}), alarms=alarm_table(flags, {"GSPC": pd.Series(1.0, idx)}),
        alerts=pd.DataFrame(), calm_window=(None, None), readings=60, seconds=9.4,
        stages={"replay": 6.2, "storing": 1.1, "alert replay": 2.0},
        replay_stages={"lppls": 1.0, "ps2020": 4.0, "hb": 0.1},
        notes=["no reading for CRWV between 2010-01-01 and 2011-02-18"])
    _print(report)
    text = capsys.readouterr().out
    assert "no reference, given or found peak" in text and "--peak SYMBOL=DATE" in text
    assert "First warning before each peak" not in text
    assert ("60 readings stored: 9 s: replay 6 s (ps2020 4 s, lppls 1 s), storing 1 s, "
            "alert replay 2 s") in text
    assert "0.0% 0/60" in text and "no reading for CRWV" in text
