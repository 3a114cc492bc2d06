"""The local-folder source on the real files of ../shared/data, and bad input."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from bubblewatch.app.cli import app
from bubblewatch.app.jobs import ingest_from_dir, ingest_yahoo
from bubblewatch.core.errors import SourceUnavailableError
from bubblewatch.core.settings import get_settings
from db import repo
from db.models import FundamentalFact, PriceBar, RunLog
from db.session import session_scope
from tests.conftest import make_settings


def _csv_rows(path: Path) -> int:
    return len(pd.read_csv(path))


def test_every_price_file_loaded_with_its_row_count(seeded_db_url: str, shared_data: Path) -> None:
    with session_scope(seeded_db_url) as s:
        counts = repo.price_counts(s)
    files = sorted((shared_data / "prices").glob("*.csv"))
    assert len(files) == 18
    for f in files:
        symbol = f.stem if f.stem not in {"IXIC", "GSPC", "NDX"} else "^" + f.stem
        assert counts[symbol][0] == _csv_rows(f), symbol
    # the counts ../shared/data/prices/SOURCES.md states
    stated = {"NVDA": 6938, "^GSPC": 24777, "^IXIC": 14003, "CRWV": 317, "CSCO": 9194}
    assert {s: counts[s][0] for s in stated} == stated


def test_both_companyfacts_files_loaded(seeded_db_url: str) -> None:
    with session_scope(seeded_db_url) as s:
        facts = repo.fact_counts(s)
    assert set(facts) == {1045810, 1652044}
    assert all(n > 10_000 for n, _, _ in facts.values())


def test_second_ingest_adds_and_changes_nothing(seeded_db_copy: str, shared_data: Path) -> None:
    settings = make_settings(seeded_db_copy)
    with session_scope(seeded_db_copy) as s:
        before = (s.scalar(select(func.count()).select_from(PriceBar)),
                  s.scalar(select(func.count()).select_from(FundamentalFact)))
    report = ingest_from_dir(settings, shared_data)
    assert report.ok
    assert report.total.inserted == 0 and report.total.updated == 0
    assert report.total.unchanged == sum(before)
    with session_scope(seeded_db_copy) as s:
        after = (s.scalar(select(func.count()).select_from(PriceBar)),
                 s.scalar(select(func.count()).select_from(FundamentalFact)))
    assert after == before


def _folder_with(tmp_path: Path, shared_data: Path, name: str, text: str) -> Path:
    root = tmp_path / "data"
    (root / "prices").mkdir(parents=True)
    shutil.copy(shared_data / "prices" / "CSCO.csv", root / "prices" / "CSCO.csv")
    (root / "prices" / name).write_text(text)
    return root


def _nvda_text(shared_data: Path) -> list[str]:
    return (shared_data / "prices" / "NVDA.csv").read_text().splitlines()


@pytest.mark.parametrize(
    ("mutate", "expect"),
    [
        (lambda lines: lines[:5] + ["2000-01-03,1,2,0.5,abc,1,100"] + lines[5:],
         ["NVDA.csv", "line 6", "close", "'abc' is not a number"]),
        (lambda lines: lines[:3] + [lines[3].replace(lines[3].split(",")[4], "-1.5", 1)] + lines[4:],
         ["NVDA.csv", "line 4", "not a positive price"]),
        (lambda lines: lines + [lines[-1]], ["NVDA.csv", "duplicate date 2026-08-21"]),
        (lambda lines: ["day,price"] + lines[1:], ["NVDA.csv", "header", "missing column"]),
        (lambda lines: lines[:2] + ["1999-13-45,1,1,1,1,1,1"] + lines[2:],
         ["NVDA.csv", "line 3", "not an ISO date"]),
        (lambda lines: lines[:4] + ["1999-01-28,1,2,3"] + lines[4:], ["NVDA.csv", "line 5", "close is missing"]),
    ],
    ids=["non-numeric", "negative", "duplicate-date", "missing-columns", "bad-date", "short-row"],
)
def test_corrupted_price_file_rejected_whole_others_still_load(
    tmp_path: Path, shared_data: Path, db_url: str, mutate, expect  # type: ignore[no-untyped-def]
) -> None:
    root = _folder_with(tmp_path, shared_data, "NVDA.csv", "\n".join(mutate(_nvda_text(shared_data))) + "\n")
    report = ingest_from_dir(make_settings(db_url), root)
    assert list(report.errors) == [str(root / "prices" / "NVDA.csv")]
    message = report.errors[str(root / "prices" / "NVDA.csv")]
    for part in expect:
        assert part in message, message
    with session_scope(db_url) as s:
        counts = repo.price_counts(s)
        run = repo.last_run(s, "ingest_prices")
    assert "NVDA" not in counts  # nothing of the bad file was written
    assert counts["CSCO"][0] == _csv_rows(shared_data / "prices" / "CSCO.csv")
    assert run is not None and run.status == "partial" and "NVDA.csv" in (run.error or "")


def test_rejected_file_leaves_existing_rows_unchanged(seeded_db_copy: str, tmp_path: Path,
                                                    shared_data: Path) -> None:
    lines = _nvda_text(shared_data)
    lines[-1] = lines[-1].replace(lines[-1].split(",")[4], "999999", 1)  # would update a row
    lines.insert(10, "2001-01-01,1,1,1,not-a-price,1,1")
    root = _folder_with(tmp_path, shared_data, "NVDA.csv", "\n".join(lines) + "\n")
    with session_scope(seeded_db_copy) as s:
        before = repo.price_frame(s, "NVDA")
    report = ingest_from_dir(make_settings(seeded_db_copy), root)
    assert not report.ok
    with session_scope(seeded_db_copy) as s:
        after = repo.price_frame(s, "NVDA")
    pd.testing.assert_frame_equal(before, after)


def test_yahoo_header_and_caret_less_index_names(tmp_path: Path, db_url: str, shared_data: Path) -> None:
    root = tmp_path / "own"
    (root / "prices").mkdir(parents=True)
    df = pd.read_csv(shared_data / "prices" / "IXIC.csv").head(50)
    df.columns = ["Date", "Open", "High", "Low", "Close", "Adj Close", "Volume"]
    df.to_csv(root / "prices" / "IXIC.csv", index=False)
    (root / "prices" / "ZZZZ.csv").write_text("date,close,adj_close\n2020-01-02,1,1\n")
    report = ingest_from_dir(make_settings(db_url), root)
    assert report.ok and report.total.inserted == 50
    assert any("unknown symbol 'ZZZZ'" in w for w in report.warnings)
    with session_scope(db_url) as s:
        bars = repo.price_frame(s, "^IXIC")
    assert bars["adj_close"].iloc[0] == pytest.approx(df["Adj Close"].iloc[0])


@pytest.mark.parametrize(
    ("content", "expect"),
    [
        (lambda t: t[: len(t) // 2], ["CIK0001045810.json", "not valid JSON", "truncated"]),
        (lambda t: t.replace('"val":', '"value":', 1), ["CIK0001045810.json", ".val", "missing field 'val'"]),
        (lambda t: t.replace('"cik": 1045810', '"cik": 1652044', 1), ["holds CIK 1652044, expected 1045810"]),
    ],
    ids=["truncated", "missing-val", "wrong-cik"],
)
def test_bad_companyfacts_rejected_with_location(tmp_path: Path, shared_data: Path, db_url: str,
                                                 content, expect) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "d"
    (root / "edgar").mkdir(parents=True)
    text = (shared_data / "edgar" / "CIK0001045810.json").read_text()
    (root / "edgar" / "CIK0001045810.json").write_text(content(text))
    shutil.copy(shared_data / "edgar" / "CIK0001652044.json", root / "edgar")
    report = ingest_from_dir(make_settings(db_url), root)
    (msg,) = report.errors.values()
    for part in expect:
        assert part in msg, msg
    with session_scope(db_url) as s:
        assert set(repo.fact_counts(s)) == {1652044}
        runs = s.scalars(select(RunLog).where(RunLog.job == "ingest_fundamentals")).all()
    assert runs[-1].status == "partial"


# --------------------------------------------------------------------------- one bad value
def _cell(lines: list[str], i: int, col: int, value: str) -> list[str]:
    out = list(lines)
    parts = out[i].split(",")
    parts[col] = value
    out[i] = ",".join(parts)
    return out


def _bytes(lines: list[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode()


#: Each bad price file (NVDA.csv, built from the real one) and what its one line must say.
BAD_PRICE_FILES = {
    "volume-inf": (lambda t: _bytes(_cell(t, 5, 6, "inf")),
                   ["(line 6, column volume)", "volume 'inf' is not finite",
                    "allowed: a whole number of shares"]),
    "volume-1e30": (lambda t: _bytes(_cell(t, 5, 6, "1e30")),
                    ["(line 6, column volume)", "volume '1e30' is too large"]),
    "close-inf": (lambda t: _bytes(_cell(t, 5, 4, "inf")),
                  ["(line 6, column close)", "close 'inf' is not a finite price",
                   "allowed: a finite price from 1e-06 to 1e+08"]),
    "close-1e400": (lambda t: _bytes(_cell(t, 5, 4, "1e400")),
                    ["(line 6, column close)", "close '1e400' is not a finite price"]),
    "date-2099": (lambda t: _bytes([*t, "2099-01-02,1,1,1,1,1,1"]),
                  ["(line 6940, column date)", "date 2099-01-02 is after",
                   "(today in New York)"]),
    "date-3737": (lambda t: _bytes([*t, "3737-01-02,1,1,1,1,1,1"]),
                  ["(line 6940, column date)", "date 3737-01-02 is after"]),
    "high-below-low": (lambda t: _bytes(_cell(_cell(t, 5, 2, "0.03"), 5, 3, "0.05")),
                       ["(line 6, column high)", "high 0.03 is below low 0.05",
                        "allowed: high >= low (within 0.5% for rounding)"]),
    "open-above-high": (lambda t: _bytes(_cell(t, 5, 1, "9.9")),
                        ["(line 6, column open)", "open 9.9 is outside the day's range [low "]),
    "blank-lines": (lambda t: _bytes(_cell(t[:3] + ["", "", ""] + t[3:], 10, 4, "abc")),
                    ["(line 11, column close)", "close value 'abc' is not a number"]),
    "crlf-bom-no-final-newline": (
        lambda t: b"\xef\xbb\xbf" + "\r\n".join(_cell(t, 10, 4, "abc")).encode(),
        ["(line 11, column close)", "close value 'abc' is not a number"]),
    "invalid-utf8": (lambda t: _bytes(t).replace(b"\n1999-02-03,", b"\n1999-02-03,\xff", 1),
                     ["(line 10, byte 12)", "byte 0xff is not UTF-8"]),
}


@pytest.mark.parametrize("case", list(BAD_PRICE_FILES))
def test_one_impossible_value_fails_its_file_alone_with_one_line(
    tmp_path: Path, shared_data: Path, db_url: str, case: str
) -> None:
    build, expect = BAD_PRICE_FILES[case]
    root = tmp_path / "data"
    (root / "prices").mkdir(parents=True)
    # files sorted before and after the bad one must both still load
    for name in ("CSCO.csv", "QCOM.csv"):
        shutil.copy(shared_data / "prices" / name, root / "prices" / name)
    (root / "prices" / "NVDA.csv").write_bytes(build(_nvda_text(shared_data)))
    report = ingest_from_dir(make_settings(db_url), root)
    bad = str(root / "prices" / "NVDA.csv")
    assert list(report.errors) == [bad]
    message = report.errors[bad]
    assert message.startswith(bad + " (line ") and "\n" not in message
    for part in expect:
        assert part in message, message
    with session_scope(db_url) as s:
        counts = repo.price_counts(s)
        run = repo.last_run(s, "ingest_prices")
    assert "NVDA" not in counts
    for sym in ("CSCO", "QCOM"):
        assert counts[sym][0] == _csv_rows(shared_data / "prices" / f"{sym}.csv")
    assert run is not None and run.status == "partial" and message in (run.error or "")


def _facts_with(text: str, raw: str) -> bytes:
    start = text.index('"val":')
    end = text.index(",", start)
    return (text[:start] + '"val": ' + raw + text[end:]).encode()


#: Each bad companyfacts file (NVDA's, built from the real one) and its one line.
_FIRST = "(facts.dei.EntityCommonStockSharesOutstanding.units.shares[0]"
BAD_FACTS_FILES = {
    "huge-integer": (lambda t: _facts_with(t, "1" + "0" * 400),
                     [f"{_FIRST}.val)", ("concept dei:EntityCommonStockSharesOutstanding, "
                      "unit shares"), "is too large (401 digits)",
                      "allowed: a finite number with magnitude at most 1e+13 for unit shares"]),
    "5000-digits": (lambda t: _facts_with(t, "9" * 5000), ["is too large (5000 digits)"]),
    "NaN": (lambda t: _facts_with(t, "NaN"), [f"{_FIRST}.val)", "val NaN is not a finite number"]),
    "Infinity": (lambda t: _facts_with(t, "-Infinity"), ["val -Infinity is not a finite number"]),
    "1e400": (lambda t: _facts_with(t, "1e400"), ["val 1e400 is too large for a float"]),
    "string-value": (lambda t: _facts_with(t, '"12"'), ["val '12' is a string, not a number"]),
    "units-a-list": (lambda t: t.replace('"units": {', '"units": [], "x": {', 1).encode(),
                     ["(facts.dei.EntityCommonStockSharesOutstanding)", "has no 'units' object"]),
    "taxonomy-a-list": (lambda t: t.replace('"dei": {', '"dei": [], "_": {', 1).encode(),
                        ["(facts.dei)", "taxonomy dei is a list; allowed: an object of concepts"]),
    "missing-end": (lambda t: t.replace('"end":', '"END":', 1).encode(),
                    [f"{_FIRST}.end)", "missing field 'end'"]),
    "filed-2099": (lambda t: t.replace('"filed": "', '"filed": "2099-01-01", "_": "', 1).encode(),
                   [f"{_FIRST}.filed)", "filed 2099-01-01 is after"]),
    "fy-too-big": (lambda t: t.replace('"fy": ', '"fy": 99999999999999999999', 1).encode(),
                   [f"{_FIRST}.fy)", "is not allowed; allowed: a year from 1900"]),
    "invalid-utf8": (lambda t: t.encode()[:1000] + b"\xff" + t.encode()[1000:],
                     ["(line 1, column 1001)", "byte 0xff is not UTF-8"]),
}


@pytest.mark.parametrize("case", list(BAD_FACTS_FILES))
def test_one_bad_fact_fails_its_document_alone_with_one_line(
    tmp_path: Path, shared_data: Path, db_url: str, case: str
) -> None:
    build, expect = BAD_FACTS_FILES[case]
    root = tmp_path / "d"
    (root / "edgar").mkdir(parents=True)
    (root / "prices").mkdir()
    shutil.copy(shared_data / "prices" / "CSCO.csv", root / "prices")
    shutil.copy(shared_data / "edgar" / "CIK0001652044.json", root / "edgar")
    text = (shared_data / "edgar" / "CIK0001045810.json").read_text()
    (root / "edgar" / "CIK0001045810.json").write_bytes(build(text))
    report = ingest_from_dir(make_settings(db_url), root)
    bad = str(root / "edgar" / "CIK0001045810.json")
    assert list(report.errors) == [bad]
    message = report.errors[bad]
    assert message.startswith(bad) and "\n" not in message
    for part in expect:
        assert part in message, message
    with session_scope(db_url) as s:
        assert set(repo.fact_counts(s)) == {1652044}
        assert repo.price_counts(s)["CSCO"][0] == _csv_rows(shared_data / "prices" / "CSCO.csv")
        run = repo.last_run(s, "ingest_fundamentals")
    assert run is not None and run.status == "partial" and message in (run.error or "")


def test_many_bad_files_each_fail_alone_and_the_rest_load(tmp_path: Path, shared_data: Path,
                                                          db_url: str) -> None:
    root = tmp_path / "data"
    (root / "prices").mkdir(parents=True)
    good = ["CSCO", "NVDA", "QCOM"]
    for sym in good:
        shutil.copy(shared_data / "prices" / f"{sym}.csv", root / "prices")
    bad = {"AMD": ("6", "inf"), "AMZN": ("6", "1e30"), "AVGO": ("4", "1e400")}
    for sym, (col, value) in bad.items():
        lines = (shared_data / "prices" / f"{sym}.csv").read_text().splitlines()
        (root / "prices" / f"{sym}.csv").write_bytes(_bytes(_cell(lines, 3, int(col), value)))
    report = ingest_from_dir(make_settings(db_url), root)
    assert sorted(Path(p).stem for p in report.errors) == sorted(bad)
    with session_scope(db_url) as s:
        counts = repo.price_counts(s)
    assert sorted(counts) == good
    for sym in good:
        assert counts[sym][0] == _csv_rows(shared_data / "prices" / f"{sym}.csv")


def test_an_unexpected_exception_is_reported_per_file_with_its_type(
    tmp_path: Path, shared_data: Path, db_url: str, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    root = _folder_with(tmp_path, shared_data, "NVDA.csv",
                        (shared_data / "prices" / "NVDA.csv").read_text())
    real = repo.upsert_bars

    def flaky(session, symbol, source, bars):  # type: ignore[no-untyped-def]
        if symbol == "NVDA":
            raise ZeroDivisionError("boom\nsecond line")
        return real(session, symbol, source, bars)

    monkeypatch.setattr(repo, "upsert_bars", flaky)
    with caplog.at_level(logging.DEBUG, logger="bubblewatch.app.jobs"):
        report = ingest_from_dir(make_settings(db_url), root)
    bad = str(root / "prices" / "NVDA.csv")
    assert report.errors == {bad: f"{bad}: unexpected ZeroDivisionError: boom (nothing of it "
                                  "was stored; run with --log-level DEBUG for the traceback)"}
    assert any(r.exc_info and r.exc_info[0] is ZeroDivisionError for r in caplog.records)
    with session_scope(db_url) as s:
        counts = repo.price_counts(s)
        run = repo.last_run(s, "ingest_prices")
    assert "NVDA" not in counts and counts["CSCO"][0] == _csv_rows(shared_data / "prices" / "CSCO.csv")
    assert run is not None and "unexpected ZeroDivisionError: boom" in (run.error or "")


def test_live_sources_isolate_unexpected_errors_but_stop_when_unreachable(db_url: str) -> None:
    settings = make_settings(db_url, universe={"symbols": ["NVDA", "CSCO", "^IXIC"]},
                             market={"retries": 0, "backoff_s": 0, "fallback": "none"})
    idx = pd.date_range("2024-01-02", periods=3, freq="B", tz="America/New_York", name="Date")
    frame = pd.DataFrame({"Open": 1.0, "High": 2.0, "Low": 0.5, "Close": 1.5, "Adj Close": 1.4,
                          "Volume": 100}, index=idx)

    def fetch(symbol, start, end):  # type: ignore[no-untyped-def]
        return "not a frame" if symbol == "CSCO" else frame

    report = ingest_yahoo(settings, fetch=fetch)
    assert set(report.counts) == {"NVDA", "^IXIC"}
    assert report.errors["CSCO"].startswith("CSCO: unexpected AttributeError: ")

    def offline(symbol, start, end):  # type: ignore[no-untyped-def]
        if symbol == "CSCO":
            raise SourceUnavailableError("cannot resolve host", source="yahoo")
        return frame

    with pytest.raises(SourceUnavailableError):
        ingest_yahoo(settings, fetch=offline)
    with session_scope(db_url) as s:
        run = repo.last_run(s, "ingest_prices")
    assert run is not None and run.status == "failed" and "cannot resolve host" in (run.error or "")


def test_cli_prints_one_line_per_bad_file_and_exits_non_zero(
    tmp_path: Path, shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "data"
    (root / "prices").mkdir(parents=True)
    shutil.copy(shared_data / "prices" / "CSCO.csv", root / "prices")
    (root / "prices" / "NVDA.csv").write_bytes(
        BAD_PRICE_FILES["open-above-high"][0](_nvda_text(shared_data)))
    monkeypatch.setenv("BUBBLEWATCH_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite'}")
    get_settings.cache_clear()
    before_init = CliRunner().invoke(app, ["ingest", "--from-dir", str(root)])
    assert before_init.exit_code == 1  # one schema policy: init (or db-upgrade) migrates
    assert "has no bubblewatch tables yet: run `bubblewatch init`" in before_init.stderr
    assert CliRunner().invoke(app, ["init"]).exit_code == 0
    result = CliRunner().invoke(app, ["ingest", "--from-dir", str(root)])
    get_settings.cache_clear()
    assert result.exit_code == 1
    failed = [ln for ln in result.stderr.splitlines() if ln.startswith("failed")]
    assert len(failed) == 1
    assert failed[0].startswith(f"failed {root / 'prices' / 'NVDA.csv'} (line 6, column open): ")
    assert "[low 0.041276, high 0.041927]" in failed[0]  # brackets printed, not taken as markup
    assert "ok     " in result.stdout and "CSCO.csv: 9194 new" in result.stdout
