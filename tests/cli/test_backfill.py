"""The backfill behind ``bubblewatch up`` (bubblewatch.app.jobs.backfill), in
process: a folder with one bad file loads the others and names the bad one in
the step, the run log and the freshness table; then, with no network, the
live backfill of the now stale database is one failed line per source and
leaves the data as it was."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bubblewatch.app.jobs import backfill, plan_backfill
from db import repo
from db.freshness import PRICES, freshness_report
from db.migrate import upgrade
from db.session import session_scope
from tests.conftest import make_settings

SYMBOLS = ("NVDA", "^GSPC", "AMD")


@pytest.fixture()
def folder(tmp_path: Path, shared_data: Path) -> Path:
    """NVDA and ^GSPC (their last 260 rows), and an AMD file with a broken row."""
    root = tmp_path / "mydata"
    (root / "prices").mkdir(parents=True)
    for sym in SYMBOLS:
        stem = sym.lstrip("^")
        head, *rows = (shared_data / "prices" / f"{stem}.csv").read_text().splitlines()
        rows = rows[-260:]
        if sym == "AMD":
            rows[100] = rows[100].split(",")[0] + ",oops,1,1,1,1,1"
        (root / "prices" / f"{stem}.csv").write_text("\n".join([head, *rows]) + "\n")
    return root


def test_bad_file_then_no_network(folder: Path, tmp_path: Path) -> None:
    settings = make_settings(f"sqlite:///{tmp_path / 'b.sqlite'}",
                             universe={"symbols": list(SYMBOLS)})
    url = settings.resolved_database_url
    upgrade(url)  # as `up` does before it plans
    with session_scope(url) as s:
        empty = freshness_report(s, settings.universe)
    assert plan_backfill(empty).reason == "the database holds no prices yet"
    plan = plan_backfill(empty, folder)
    assert plan.from_dir == folder
    seen: list[str] = []
    report = backfill(settings, plan, on_step=lambda step, _what: seen.append(step),
                      show_progress=False)
    steps = {s.step: s for s in report.steps}
    assert [s.step for s in report.steps] == ["init", "prices", "fundamentals", "compute",
                                              "alerts"]
    assert seen == ["init", "prices", "compute", "alerts"]
    prices = steps["prices"]
    assert prices.status == "partial" and "2 price files loaded" in prices.summary
    (line,) = prices.errors  # one line for the bad file, naming it, its line and field
    assert "AMD.csv" in line and "line 102" in line and "oops" in line
    assert steps["fundamentals"].status == "skipped"  # no edgar/ folder
    assert steps["compute"].status in ("ok", "partial") and steps["alerts"].status == "ok"
    with session_scope(url) as s:
        assert repo.price_counts(s).get("AMD") is None  # nothing of the bad file was stored
        run = repo.last_run(s, "ingest_prices")
        assert run.status == "partial" and "AMD.csv" in (run.error or "")
        fresh = freshness_report(s, settings.universe, datetime(2026, 11, 29, 12, tzinfo=UTC))
    (row,) = fresh.of(PRICES)
    assert row.status == "stale" and row.behind == 68
    assert "failed: AMD:" in row.detail  # the table names what failed

    # ---- live, with no network (tests cannot resolve any outside name)
    plan = plan_backfill(fresh)
    assert plan.needed and "68 sessions behind 2026-11-27" in (plan.reason or "")
    with session_scope(url) as s:
        before = repo.price_counts(s)
    again = backfill(settings, plan, show_progress=False)
    steps = {s.step: s for s in again.steps}
    assert steps["prices"].status == "failed"
    assert steps["prices"].summary.startswith("cannot reach Yahoo Finance")
    assert steps["fundamentals"].status == "skipped"  # the placeholder SEC User-Agent
    assert "BUBBLEWATCH_SEC__USER_AGENT" in steps["fundamentals"].summary
    assert steps["compute"].status == steps["alerts"].status == "skipped"
    with session_scope(url) as s:
        assert repo.price_counts(s) == before
        assert repo.last_run(s, "ingest_prices").status == "failed"  # recorded, and shown:
        row = freshness_report(s, settings.universe).of(PRICES)[0]
    assert row.status == "failed" and "cannot reach Yahoo Finance" in row.detail

