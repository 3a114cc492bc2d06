"""The Scanner page (AppTest) on the computed database: symbols ranked by
BSADF minus its 95% critical value as stored, cohort and universe filters,
links to each symbol's pages, and the same table as the download and
`bubblewatch scan --format csv`."""

from __future__ import annotations

import io
import sqlite3
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from db import repo
from db.session import get_engine, session_scope
from indicators.vocabulary import format_field, label, raw_keys
from tests.dashboard.conftest import APP, PAGES
from tests.dashboard.test_pages import frame_with, metric


def _db_with_universe(computed_db_url: str, tmp_path: Path) -> str:
    dst = tmp_path / "scan.sqlite"
    with sqlite3.connect(computed_db_url.removeprefix("sqlite:///")) as a, \
            sqlite3.connect(dst) as b:
        a.backup(b)
    url = f"sqlite:///{dst}"
    with session_scope(url) as s:  # NVDA and CSCO are current members; INTC left in 2020
        repo.store_universe(s, "chips", "", "test", [
            ("NVDA", date(1999, 1, 22), None), ("CSCO", None, None),
            ("INTC", date(1990, 1, 1), date(2020, 1, 1))])
    get_engine(url).dispose()
    return url


def test_scanner_ranks_filters_links_and_downloads(use_db, computed_db_url, tmp_path,
                                                   downloads, monkeypatch):
    from streamlit.testing.v1 import AppTest

    url = _db_with_universe(computed_db_url, tmp_path)
    use_db(url)
    with session_scope(url) as s:
        want = {k: repo.indicator_wide(s, "psy", k)["excess"].dropna().iloc[-1]
                for k in ("NVDA", "GOOGL", "AMD", "CSCO", "INTC", "^GSPC", "^IXIC")}
        ret = {k: repo.indicator_wide(s, "runup", k)["ret_2y"].dropna().iloc[-1]
               for k in want}
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.run()
    at.switch_page(PAGES["scanner"]).run()
    assert not at.exception, [e.value for e in at.exception]
    excess, ret_2y = label("psy", "excess"), label("runup", "ret_2y")
    table = frame_with(at, "Rank", "Symbol", excess, ret_2y, "Explosiveness")
    assert not any(raw_keys(str(c)) for c in table.columns), list(table.columns)
    # ranked by the stored excess, highest first; values as stored, in their units
    order = sorted(want, key=lambda k: -want[k])
    assert list(table["Symbol"]) == order
    rows = table.set_index("Symbol").loc[order]
    assert list(rows[excess]) == [format_field("psy", "excess", want[k]) for k in order]
    assert list(rows[ret_2y]) == [format_field("runup", "ret_2y", ret[k]) for k in order]
    assert metric(at, "Explosive now") == str(sum(v > 0 for v in want.values()))
    row = table.set_index("Symbol").loc["^GSPC"]
    assert row["Explosiveness"] == "/explosiveness?symbol=%5EGSPC"
    assert row["LPPLS"] == "/lppls?symbol=%5EGSPC"
    assert row[label("valuation", "pe_pctile")] == "–"  # an index has no P/E: a gap, not nan
    assert rows.loc["CSCO", "Cohorts"] == "Dot-com cycle"  # cohorts by their names
    # the download is the scan table itself: machine names, raw values
    (button,) = [b for b in at.get("download_button") if "scan" in b.proto.label.lower()]
    got = pd.read_csv(io.BytesIO(downloads(button)), comment="#")
    assert list(got["symbol"]) == order
    assert np.allclose(got.set_index("symbol").loc[order, "excess"], [want[k] for k in order])
    assert np.allclose(got.set_index("symbol").loc[order, "ret_2y"], [ret[k] for k in order])
    # filters: a cohort, then a stored universe (current members only)
    at.multiselect(key="w_scan_cohorts").set_value(["dotcom"]).run()
    assert set(frame_with(at, "Rank", "Symbol")["Symbol"]) == {"CSCO", "INTC"}
    at.multiselect(key="w_scan_cohorts").set_value([]).run()
    at.selectbox(key="w_universe").set_value("chips").run()
    assert set(frame_with(at, "Rank", "Symbol")["Symbol"]) == {"NVDA", "CSCO"}
    # `bubblewatch scan --format csv` prints the same table
    from bubblewatch.app.cli import app

    res = CliRunner().invoke(app, ["scan", "--format", "csv"])
    assert res.exit_code == 0, res.output
    cli = pd.read_csv(io.StringIO(res.output))
    assert list(cli["symbol"]) == order
    assert np.allclose(cli["excess"], [want[k] for k in order])
