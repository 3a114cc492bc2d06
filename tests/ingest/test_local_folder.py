"""The local-folder source on the real files of ../shared/data, and bad input."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select

from bubblewatch.app.jobs import ingest_from_dir
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
